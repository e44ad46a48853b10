/* gst-mesh-call: one end of a call, with a live status line.
 *
 * Runs a meshsignal pipeline (test sources or a camera and microphone,
 * fake or real outputs) and prints what a person wants to see: whether
 * signalling is up, when the call connects and how long that took, and
 * frames per second each way.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <glib-unix.h>
#include <string.h>

typedef struct
{
  GMainLoop *loop;
  GstElement *pipeline;
  const gchar *name;
  gint video_out, video_in, audio_in;
  gint64 start;
  gint exit_code;
  gboolean room;
  GHashTable *last_frames;      /* room: peer id → frames decoded so far */
  gint64 last_video_in;         /* monotonic µs of the last received frame */
} App;

static void
say (App * app, const gchar * format, ...) G_GNUC_PRINTF (2, 3);

static void
say (App * app, const gchar * format, ...)
{
  va_list ap;
  gchar *text;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_print ("[%s %6.2fs] %s\n", app->name,
      (g_get_monotonic_time () - app->start) / 1e6, text);
  g_free (text);
}

static GstPadProbeReturn
count (GstPad * pad, GstPadProbeInfo * info, gpointer counter)
{
  g_atomic_int_inc ((gint *) counter);
  return GST_PAD_PROBE_OK;
}

/* A pause in the received video of more than half a second, once it ends:
 * how long the picture stood still (a network that changed, a call that
 * recovered). */
#define GAP_US (500 * G_TIME_SPAN_MILLISECOND)

static GstPadProbeReturn
gap_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  App *app = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 last = app->last_video_in;

  app->last_video_in = now;
  if (last && now - last > GAP_US)
    say (app, "video resumed after a gap of %" G_GINT64_FORMAT " ms",
        (now - last) / 1000);
  return GST_PAD_PROBE_OK;
}

static void
probe (App * app, const gchar * element, const gchar * pad_name, gint * c)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (app->pipeline), element);
  GstPad *pad;

  if (!e)
    return;
  pad = gst_element_get_static_pad (e, pad_name);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count, c, NULL);
  gst_object_unref (pad);
  gst_object_unref (e);
}

/* In a room, video_src is a grid at a fixed rate: say what each peer
 * sends instead, from the element's stats. */
static void
tick_room (App * app, gint sent)
{
  GstElement *m = gst_bin_get_by_name (GST_BIN (app->pipeline), "m");
  GstStructure *stats = NULL;
  const GValue *peers;
  GString *line = g_string_new (NULL);

  g_object_get (m, "stats", &stats, NULL);
  gst_object_unref (m);
  peers = gst_structure_get_value (stats, "peers");
  {
    guint main_kbps = 0, low_kbps = 0;

    gst_structure_get_uint (stats, "video-encoder-bitrate", &main_kbps);
    g_string_printf (line, "video sent %2d fps at %u kbit/s", sent, main_kbps);
    if (gst_structure_get_uint (stats, "low-encoder-bitrate", &low_kbps))
      g_string_append_printf (line, " (low: %u kbit/s)", low_kbps);
    g_string_append_printf (line, "; %u peers:",
        gst_value_array_get_size (peers));
  }
  for (guint i = 0; i < gst_value_array_get_size (peers); i++) {
    const GstStructure *ps =
        gst_value_get_structure (gst_value_array_get_value (peers, i));
    const gchar *id = gst_structure_get_string (ps, "peer-id");
    const gchar *enc = gst_structure_get_string (ps, "video-encoding");
    guint frames = 0, last;

    gst_structure_get_uint (ps, "video-frames-decoded", &frames);
    last = GPOINTER_TO_UINT (g_hash_table_lookup (app->last_frames, id));
    g_string_append_printf (line, " %s %s %2u fps%s", id,
        gst_structure_get_string (ps, "state"), frames - MIN (last, frames),
        enc && !strcmp (enc, "low") ? " (sent low)" : "");
    g_hash_table_insert (app->last_frames, g_strdup (id),
        GUINT_TO_POINTER (frames));
  }
  say (app, "%s", line->str);
  g_string_free (line, TRUE);
  gst_structure_free (stats);
}

static gboolean
tick (gpointer user_data)
{
  App *app = user_data;
  gint vo = g_atomic_int_and (&app->video_out, 0);
  gint vi = g_atomic_int_and (&app->video_in, 0);
  gint ai = g_atomic_int_and (&app->audio_in, 0);

  if (app->room) {
    tick_room (app, vo);
    return G_SOURCE_CONTINUE;
  }
  say (app, "video sent %2d fps, received %2d fps; audio received %3d "
      "buffers/s", vo, vi, ai);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  App *app = user_data;
  GError *err = NULL;
  gchar *dbg = NULL;
  const GstStructure *s;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &dbg);
      say (app, "ERROR: %s (%s)", err->message, dbg ? dbg : "");
      app->exit_code = 1;
      g_main_loop_quit (app->loop);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &dbg);
      say (app, "warning: %s (%s)", err->message, dbg ? dbg : "");
      break;
    case GST_MESSAGE_LATENCY:
      /* the jitter buffers grew (or shrank) with the network: the sinks
       * take the new latency, as gst-launch-1.0 does */
      gst_bin_recalculate_latency (GST_BIN (app->pipeline));
      break;
    case GST_MESSAGE_ELEMENT:
      s = gst_message_get_structure (msg);
      if (gst_structure_has_name (s, "mesh-signalling")) {
        say (app, "signalling %s %s", gst_structure_get_string (s, "state"),
            gst_structure_get_string (s, "detail"));
      } else if (gst_structure_has_name (s, "mesh-peer")) {
        say (app, "%s %s the room", gst_structure_get_string (s, "peer-id"),
            gst_structure_get_string (s, "event"));
      } else if (gst_structure_has_name (s, "mesh-call")) {
        guint64 elapsed = 0;
        guint id = 0;
        const gchar *peer = gst_structure_get_string (s, "peer-id");
        gst_structure_get_uint64 (s, "elapsed", &elapsed);
        gst_structure_get_uint (s, "call-id", &id);
        say (app, "call %u%s%s %s after %" G_GUINT64_FORMAT " ms (%s)", id,
            peer && *peer ? " with " : "", peer ? peer : "",
            gst_structure_get_string (s, "state"), elapsed / GST_MSECOND,
            gst_structure_get_string (s, "reason"));
      } else if (gst_structure_has_name (s, "mesh-first-frame")) {
        guint64 since_playing = 0, since_call = 0;
        gst_structure_get_uint64 (s, "since-playing", &since_playing);
        gst_structure_get_uint64 (s, "since-call-start", &since_call);
        say (app, "first %s frame from the peer: %" G_GUINT64_FORMAT
            " ms after start, %" G_GUINT64_FORMAT " ms after the call began",
            gst_structure_get_string (s, "media"),
            since_playing / GST_MSECOND, since_call / GST_MSECOND);
      } else if (gst_structure_has_name (s, "mesh-ice-path")) {
        guint id = 0, lport = 0, rport = 0;
        const gchar *relay = gst_structure_get_string (s, "relay-protocol");
        gst_structure_get_uint (s, "call-id", &id);
        gst_structure_get_uint (s, "local-port", &lport);
        gst_structure_get_uint (s, "remote-port", &rport);
        say (app, "call %u path %s%s%s %s:%u -> %s %s:%u", id,
            gst_structure_get_string (s, "local-type"),
            relay && *relay ? "/" : "", relay ? relay : "",
            gst_structure_get_string (s, "local-address"), lport,
            gst_structure_get_string (s, "remote-type"),
            gst_structure_get_string (s, "remote-address"), rport);
      }
      break;
    default:
      break;
  }
  g_clear_error (&err);
  g_free (dbg);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  App *app = user_data;

  say (app, "interrupted, hanging up");
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_timeout (gpointer user_data)
{
  App *app = user_data;

  say (app, "time is up, hanging up");
  if (g_getenv ("GST_MESH_CALL_PRINT_STATS")) {
    GstElement *m = gst_bin_get_by_name (GST_BIN (app->pipeline), "m");
    GstStructure *stats = NULL;
    gchar *text;

    g_object_get (m, "stats", &stats, NULL);
    gst_object_unref (m);
    text = gst_structure_to_string (stats);
    say (app, "stats: %s", text);
    g_free (text);
    gst_structure_free (stats);
  }
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  App app = { 0, };
  /* GOption hands over new strings and never frees what was there:
   * defaults are applied after parsing */
  g_autofree gchar *server = NULL;
  g_autofree gchar *role = NULL;
  g_autofree gchar *codec = NULL;
  g_autofree gchar *name = NULL;
  g_autofree gchar *extra = NULL;
  g_autofree gchar *room = NULL;
  gboolean camera = FALSE, show = FALSE;
  gint duration = 0, pattern = 0, speed = 0;
  GOptionEntry entries[] = {
    {"server", 's', 0, G_OPTION_ARG_STRING, &server,
        "Signalling server URL (default http://127.0.0.1:4000)", "URL"},
    {"role", 'r', 0, G_OPTION_ARG_STRING, &role,
        "call (send the offer) or wait (answer one); default wait", "ROLE"},
    {"room", 0, 0, G_OPTION_ARG_STRING, &room,
        "Join this mesh room (gst-mesh-server) instead of the seed's 1:1 "
        "call; --role does not apply", "NAME"},
    {"video-codec", 'c', 0, G_OPTION_ARG_STRING, &codec,
        "vp8 (default) or h264", "CODEC"},
    {"camera", 0, 0, G_OPTION_ARG_NONE, &camera,
        "Use the camera and microphone instead of test sources", NULL},
    {"show", 0, 0, G_OPTION_ARG_NONE, &show,
        "Show and play the other side instead of discarding it", NULL},
    {"pattern", 0, 0, G_OPTION_ARG_INT, &pattern,
        "videotestsrc pattern for the test video (default 0)", "N"},
    {"horizontal-speed", 0, 0, G_OPTION_ARG_INT, &speed,
        "Move the test video sideways this many pixels a frame (default 0)",
        "N"},
    {"duration", 'd', 0, G_OPTION_ARG_INT, &duration,
        "Hang up after this many seconds (default: run until Ctrl-C)", "S"},
    {"name", 'n', 0, G_OPTION_ARG_STRING, &name,
        "Name in the status lines", "NAME"},
    {"props", 'p', 0, G_OPTION_ARG_STRING, &extra,
        "More meshsignal properties, e.g. \"latency=100\"", "PROPS"},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- one end of a "
      "WebRTC call through a Socket.IO signalling server");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *desc = NULL;
  g_autofree gchar *video_src = NULL;
  GstBus *bus;

  g_option_context_set_description (ctx, "Environment:\n"
      "  GST_MESH_CALL_PRINT_STATS=1  print the element's stats structure "
      "when --duration ends\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  if (!server)
    server = g_strdup ("http://127.0.0.1:4000");
  if (!role)
    role = g_strdup ("wait");
  if (!codec)
    codec = g_strdup ("vp8");

  app.name = name ? name : role;
  app.start = g_get_monotonic_time ();
  video_src = camera ?
      g_strdup ("autovideosrc ! videoconvert ! videoscale ! videorate") :
      g_strdup_printf ("videotestsrc is-live=true pattern=%d "
      "horizontal-speed=%d", pattern, speed);
  app.room = room != NULL;
  app.last_frames = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  desc = g_strdup_printf ("meshsignal name=m server-url=%s role=%s "
      "room=\"%s\" video-codec=%s %s "
      "%s ! video/x-raw,width=640,height=480,framerate=30/1 ! "
      "identity name=vsent ! m.video_sink "
      "%s ! m.audio_sink "
      "m.video_src ! identity name=vrecv ! %s "
      "m.audio_src ! identity name=arecv ! %s",
      server, role, room ? room : "", codec, extra ? extra : "",
      video_src,
      camera ? "autoaudiosrc" : "audiotestsrc is-live=true wave=ticks",
      show ? "videoconvert ! autovideosink" : "fakesink sync=true",
      show ? "audioconvert ! audioresample ! autoaudiosink" :
      "fakesink sync=true");
  app.pipeline = gst_parse_launch (desc, &error);
  if (!app.pipeline) {
    g_printerr ("cannot build the pipeline: %s\n%s\n", error->message, desc);
    return 1;
  }

  probe (&app, "vsent", "src", &app.video_out);
  probe (&app, "vrecv", "src", &app.video_in);
  probe (&app, "arecv", "src", &app.audio_in);
  {
    GstElement *e = gst_bin_get_by_name (GST_BIN (app.pipeline), "vrecv");
    GstPad *pad = gst_element_get_static_pad (e, "src");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, gap_probe, &app, NULL);
    gst_object_unref (pad);
    gst_object_unref (e);
  }

  app.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (app.pipeline);
  gst_bus_add_watch (bus, on_bus, &app);
  gst_object_unref (bus);
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_unix_signal_add (SIGTERM, on_signal, &app);
  g_timeout_add_seconds (1, tick, &app);
  if (duration > 0)
    g_timeout_add_seconds (duration, on_timeout, &app);

  if (room)
    say (&app, "joining room %s through %s", room, server);
  else
    say (&app, "%s through %s", !strcmp (role, "call") ? "calling" :
        "waiting for a call", server);
  if (gst_element_set_state (app.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    app.exit_code = 1;
  else
    g_main_loop_run (app.loop);

  gst_element_set_state (app.pipeline, GST_STATE_NULL);
  gst_object_unref (app.pipeline);
  g_main_loop_unref (app.loop);
  g_hash_table_unref (app.last_frames);
  return app.exit_code;
}
