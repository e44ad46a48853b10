/* mesh-node: gst-launch-1.0 -m for a meshsignal pipeline, that can also
 * say what the element's `stats` property holds.
 *
 *   mesh-node [--stats-interval MS] PIPELINE-DESCRIPTION...
 *
 * Prints, one line each, on stdout:
 *   Got message #N from element "NAME" (element): STRUCTURE
 *       every element message, as gst-launch-1.0 -m does (so one parser
 *       reads both: tests/browser/mesh-pipeline.mjs);
 *   ERROR: from element NAME: TEXT / WARNING: from element NAME: TEXT
 *   mesh-stats: {"local-id":"…","peers":[{"peer-id":"…","state":"…",
 *       "call-id":N,"video":N,"audio":N},…]}
 *       the `stats` of the meshsignal element named "m": every
 *       --stats-interval ms (0, the default: never) and on SIGUSR1.
 * SIGINT or SIGTERM stop the pipeline; the exit code is 0, or 1 after an
 * ERROR. Reading `stats` asks every webrtcbin for its get-stats, so the
 * benchmark (tests/bench/mesh-bench.mjs) reads it only on SIGUSR1, outside
 * its measurement windows.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <glib-unix.h>
#include <signal.h>

typedef struct
{
  GMainLoop *loop;
  GstElement *pipeline;
  guint seqnum;
  gint exit_code;
} Node;

/* JSON string contents: meshsignal's ids and state nicks are plain ASCII,
 * but say so safely anyway. */
static void
append_json_string (GString * out, const gchar * s)
{
  g_string_append_c (out, '"');
  for (; s && *s; s++) {
    guchar c = *s;
    if (c == '"' || c == '\\')
      g_string_append_printf (out, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (out, "\\u%04x", c);
    else
      g_string_append_c (out, c);
  }
  g_string_append_c (out, '"');
}

static void
print_stats (Node * node)
{
  GstElement *m = gst_bin_get_by_name (GST_BIN (node->pipeline), "m");
  GstStructure *stats = NULL;
  const GValue *peers;
  GString *line;

  if (!m) {
    g_printerr ("mesh-node: no element named \"m\" for the stats\n");
    return;
  }
  g_object_get (m, "stats", &stats, NULL);
  gst_object_unref (m);
  if (!stats)
    return;
  line = g_string_new ("mesh-stats: {\"local-id\":");
  append_json_string (line, gst_structure_get_string (stats, "local-id"));
  g_string_append (line, ",\"peers\":[");
  peers = gst_structure_get_value (stats, "peers");
  for (guint i = 0; peers && i < gst_value_array_get_size (peers); i++) {
    const GstStructure *ps =
        gst_value_get_structure (gst_value_array_get_value (peers, i));
    guint call = 0, video = 0, audio = 0;

    gst_structure_get_uint (ps, "call-id", &call);
    gst_structure_get_uint (ps, "video-frames-decoded", &video);
    gst_structure_get_uint (ps, "audio-buffers-decoded", &audio);
    g_string_append (line, i ? ",{\"peer-id\":" : "{\"peer-id\":");
    append_json_string (line, gst_structure_get_string (ps, "peer-id"));
    g_string_append (line, ",\"state\":");
    append_json_string (line, gst_structure_get_string (ps, "state"));
    g_string_append_printf (line, ",\"call-id\":%u,\"video\":%u,"
        "\"audio\":%u}", call, video, audio);
  }
  g_string_append (line, "]}");
  g_print ("%s\n", line->str);
  g_string_free (line, TRUE);
  gst_structure_free (stats);
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Node *node = user_data;
  GError *err = NULL;
  gchar *dbg = NULL, *text;
  const gchar *from = GST_MESSAGE_SRC_NAME (msg);

  node->seqnum++;
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      if (gst_message_get_structure (msg)) {
        text = gst_structure_to_string (gst_message_get_structure (msg));
        g_print ("Got message #%u from element \"%s\" (element): %s\n",
            node->seqnum, from ? from : "", text);
        g_free (text);
      }
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &dbg);
      g_print ("ERROR: from element %s: %s\nAdditional debug info:\n%s\n",
          from ? from : "", err->message, dbg ? dbg : "");
      node->exit_code = 1;
      g_main_loop_quit (node->loop);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &dbg);
      g_print ("WARNING: from element %s: %s\nAdditional debug info:\n%s\n",
          from ? from : "", err->message, dbg ? dbg : "");
      break;
    case GST_MESSAGE_EOS:
      g_main_loop_quit (node->loop);
      break;
    default:
      break;
  }
  g_clear_error (&err);
  g_free (dbg);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_stop (gpointer user_data)
{
  Node *node = user_data;

  g_main_loop_quit (node->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_stats (gpointer user_data)
{
  print_stats (user_data);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  Node node = { 0, };
  gint interval = 0;
  gchar **description = NULL;
  GOptionEntry entries[] = {
    {"stats-interval", 0, 0, G_OPTION_ARG_INT, &interval,
        "Print the stats of meshsignal \"m\" every MS ms (default 0: only on "
          "SIGUSR1)", "MS"},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &description,
        NULL, "PIPELINE-DESCRIPTION"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("PIPELINE-DESCRIPTION - a "
      "meshsignal pipeline: its element messages and stats on stdout");
  GError *error = NULL;
  GstBus *bus;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("mesh-node: %s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (!description || !description[0]) {
    g_printerr ("mesh-node: no pipeline description\n");
    return 2;
  }
  if (interval < 0) {
    g_printerr ("mesh-node: --stats-interval must be 0 or more\n");
    return 2;
  }

  node.pipeline = gst_parse_launchv ((const gchar **) description, &error);
  g_strfreev (description);
  if (!node.pipeline) {
    g_printerr ("mesh-node: cannot build the pipeline: %s\n",
        error->message);
    return 1;
  }
  if (error) {
    /* a description that parsed with something missing */
    g_printerr ("mesh-node: %s\n", error->message);
    gst_object_unref (node.pipeline);
    return 1;
  }

  node.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (node.pipeline);
  gst_bus_add_watch (bus, on_bus, &node);
  gst_object_unref (bus);
  g_unix_signal_add (SIGINT, on_stop, &node);
  g_unix_signal_add (SIGTERM, on_stop, &node);
  g_unix_signal_add (SIGUSR1, on_stats, &node);
  if (interval > 0)
    g_timeout_add (interval, on_stats, &node);

  if (gst_element_set_state (node.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_printerr ("mesh-node: the pipeline does not start\n");
    node.exit_code = 1;
  } else {
    g_main_loop_run (node.loop);
  }

  gst_element_set_state (node.pipeline, GST_STATE_NULL);
  gst_object_unref (node.pipeline);
  g_main_loop_unref (node.loop);
  return node.exit_code;
}
