/* data-peer: one end of the data-channel benchmark (tests/bench/data.mjs),
 * a data-only meshsignal in a room.
 *
 *   data-peer --url URL --room ROOM --echo
 *   data-peer --url URL --room ROOM --measure [--pings N] [--bulk BYTES]
 *             [--runs K]
 *
 * The bench protocol, text messages over gst-mesh-data (the rooms page
 * speaks it too, tests/bench/data.mjs):
 *   "ping SEQ"        → the echo side answers "pong SEQ"
 *   "bulk BYTES"      then BYTES in binary messages of 64 KiB → the echo
 *                     side answers "bulk-done BYTES" once it has them all
 *   "pull BYTES"      → the echo side sends BYTES in binary messages of
 *                     64 KiB, then "pull-done BYTES"
 * --measure waits for the first peer's channel, then pings one at a time
 * (one-way latency = round trip / 2), pushes and pulls --runs times, and
 * prints one JSON line: {"latency_ms":{"p50","p90"},"push_mbps":[...],
 * "pull_mbps":[...]} (MB/s, 10^6 bytes, first byte sent to last byte
 * acknowledged / received). Exit 0, or 1 on a timeout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <stdlib.h>
#include <string.h>

#define PIECE (64 * 1024)
#define WAIT_S 60

static gboolean echo_mode, measure_mode;
static gchar *url, *room;
static gint pings = 200, runs = 3;
static gint64 bulk = 10 * 1000 * 1000;

typedef struct
{
  GstElement *mesh;
  GAsyncQueue *texts;           /* gchar*: text messages (measure side) */
  /* echo side: what is left of a bulk push, per peer (one peer here) */
  gint64 bulk_left;
  gint64 bulk_total;
  gchar *peer;                  /* the first peer whose channel opened */
  gint64 pulled;                /* measure side: bytes pulled so far */
  GMutex lock;
  GCond cond;
} Peer;

static void
send_text (GstElement * mesh, const gchar * text, const gchar * to)
{
  gboolean ok = FALSE;

  g_signal_emit_by_name (mesh, "send-data", g_variant_new_string (text), to,
      &ok);
  if (!ok)
    g_printerr ("data-peer: could not send '%s'\n", text);
}

static void
send_bytes (GstElement * mesh, gint64 n, const gchar * to)
{
  static guint8 piece[PIECE];

  for (gint64 off = 0; off < n; off += PIECE) {
    gsize size = MIN (PIECE, n - off);
    gboolean ok = FALSE;

    g_signal_emit_by_name (mesh, "send-data",
        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, piece, size, 1), to,
        &ok);
  }
}

static void
on_data (GstElement * mesh, const gchar * peer_id, GVariant * message,
    Peer * p)
{
  if (g_variant_is_of_type (message, G_VARIANT_TYPE_BYTESTRING)) {
    gsize n = g_variant_get_size (message);

    if (measure_mode) {
      g_mutex_lock (&p->lock);
      p->pulled += n;
      g_cond_broadcast (&p->cond);
      g_mutex_unlock (&p->lock);
    } else if (p->bulk_left > 0) {
      p->bulk_left -= n;
      if (p->bulk_left <= 0) {
        gchar *done = g_strdup_printf ("bulk-done %" G_GINT64_FORMAT,
            p->bulk_total);
        send_text (mesh, done, peer_id);
        g_free (done);
      }
    }
    return;
  }
  if (measure_mode) {
    g_async_queue_push (p->texts, g_variant_dup_string (message, NULL));
    return;
  }
  {
    const gchar *t = g_variant_get_string (message, NULL);
    gint64 n;

    if (g_str_has_prefix (t, "ping ")) {
      gchar *pong = g_strdup_printf ("pong %s", t + 5);
      send_text (mesh, pong, peer_id);
      g_free (pong);
    } else if (g_str_has_prefix (t, "bulk ")) {
      p->bulk_total = p->bulk_left = g_ascii_strtoll (t + 5, NULL, 10);
    } else if (g_str_has_prefix (t, "pull ")) {
      gchar *done;

      n = g_ascii_strtoll (t + 5, NULL, 10);
      send_bytes (mesh, n, peer_id);
      done = g_strdup_printf ("pull-done %" G_GINT64_FORMAT, n);
      send_text (mesh, done, peer_id);
      g_free (done);
    }
  }
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Peer *p = user_data;
  const GstStructure *s;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error (msg, &e, NULL);
    g_printerr ("data-peer: ERROR: %s\n", e->message);
    exit (1);
  }
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT)
    return G_SOURCE_CONTINUE;
  s = gst_message_get_structure (msg);
  if (gst_structure_has_name (s, "mesh-data-channel") &&
      !g_strcmp0 (gst_structure_get_string (s, "state"), "open")) {
    g_mutex_lock (&p->lock);
    if (!p->peer)
      p->peer = g_strdup (gst_structure_get_string (s, "peer-id"));
    g_cond_broadcast (&p->cond);
    g_mutex_unlock (&p->lock);
  } else if (gst_structure_has_name (s, "mesh-signalling") &&
      !g_strcmp0 (gst_structure_get_string (s, "state"), "connected")) {
    g_print ("connected %s\n", gst_structure_get_string (s, "detail"));
  }
  return G_SOURCE_CONTINUE;
}

/* The next text that starts with @prefix, or NULL after WAIT_S. */
static gchar *
wait_text (Peer * p, const gchar * prefix)
{
  gint64 end = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  for (;;) {
    gint64 left = end - g_get_monotonic_time ();
    gchar *t = left > 0 ? g_async_queue_timeout_pop (p->texts, left) : NULL;

    if (!t || g_str_has_prefix (t, prefix))
      return t;
    g_free (t);
  }
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

static gpointer
measure (gpointer data)
{
  Peer *p = data;
  gint64 end = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  GArray *lat = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GString *out = g_string_new ("{");
  gchar *peer;

  g_mutex_lock (&p->lock);
  while (!p->peer && g_get_monotonic_time () < end)
    g_cond_wait_until (&p->cond, &p->lock, end);
  peer = g_strdup (p->peer);
  g_mutex_unlock (&p->lock);
  if (!peer) {
    g_printerr ("data-peer: no data channel opened\n");
    exit (1);
  }
  g_usleep (500 * 1000);

  for (gint i = 0; i < pings; i++) {
    gchar *ping = g_strdup_printf ("ping %d", i);
    gint64 t0 = g_get_monotonic_time ();
    gchar *pong;
    gdouble ms;

    send_text (p->mesh, ping, peer);
    pong = wait_text (p, "pong ");
    if (!pong) {
      g_printerr ("data-peer: no pong for ping %d\n", i);
      exit (1);
    }
    ms = (g_get_monotonic_time () - t0) / 2000.0;
    g_array_append_val (lat, ms);
    g_free (ping);
    g_free (pong);
    g_usleep (10 * 1000);
  }
  g_array_sort (lat, cmp_double);
  g_string_append_printf (out, "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,"
      "\"n\":%u}", g_array_index (lat, gdouble, lat->len / 2),
      g_array_index (lat, gdouble, lat->len * 9 / 10), lat->len);

  g_string_append (out, ",\"push_mbps\":[");
  for (gint r = 0; r < runs; r++) {
    gchar *cmd = g_strdup_printf ("bulk %" G_GINT64_FORMAT, bulk);
    gint64 t0 = g_get_monotonic_time ();
    gchar *done;

    send_text (p->mesh, cmd, peer);
    send_bytes (p->mesh, bulk, peer);
    done = wait_text (p, "bulk-done ");
    if (!done) {
      g_printerr ("data-peer: push %d did not finish\n", r);
      exit (1);
    }
    g_string_append_printf (out, "%s%.2f", r ? "," : "",
        bulk / ((g_get_monotonic_time () - t0) / 1e6) / 1e6);
    g_free (cmd);
    g_free (done);
  }
  g_string_append (out, "],\"pull_mbps\":[");
  for (gint r = 0; r < runs; r++) {
    gchar *cmd = g_strdup_printf ("pull %" G_GINT64_FORMAT, bulk);
    gint64 t0 = g_get_monotonic_time (), deadline = t0 + WAIT_S *
        G_USEC_PER_SEC;
    gboolean ok;

    g_mutex_lock (&p->lock);
    p->pulled = 0;
    g_mutex_unlock (&p->lock);
    send_text (p->mesh, cmd, peer);
    g_mutex_lock (&p->lock);
    while (p->pulled < bulk && g_get_monotonic_time () < deadline)
      g_cond_wait_until (&p->cond, &p->lock, deadline);
    ok = p->pulled >= bulk;
    g_mutex_unlock (&p->lock);
    if (!ok) {
      g_printerr ("data-peer: pull %d did not finish\n", r);
      exit (1);
    }
    g_string_append_printf (out, "%s%.2f", r ? "," : "",
        bulk / ((g_get_monotonic_time () - t0) / 1e6) / 1e6);
    g_free (wait_text (p, "pull-done "));
    g_free (cmd);
  }
  g_string_append (out, "]}");
  g_print ("%s\n", out->str);
  exit (0);
  return NULL;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    {"url", 0, 0, G_OPTION_ARG_STRING, &url, "signalling server", "URL"},
    {"room", 0, 0, G_OPTION_ARG_STRING, &room, "room", "NAME"},
    {"echo", 0, 0, G_OPTION_ARG_NONE, &echo_mode, "answer", NULL},
    {"measure", 0, 0, G_OPTION_ARG_NONE, &measure_mode, "measure", NULL},
    {"pings", 0, 0, G_OPTION_ARG_INT, &pings, "pings (200)", "N"},
    {"bulk", 0, 0, G_OPTION_ARG_INT64, &bulk, "bytes per push/pull", "B"},
    {"runs", 0, 0, G_OPTION_ARG_INT, &runs, "pushes and pulls (3)", "K"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- data channel bench peer");
  GError *error = NULL;
  Peer p = { 0, };
  gchar *desc;
  GstElement *pipeline;
  GstBus *bus;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || !url || !room ||
      echo_mode == measure_mode) {
    g_printerr ("%s\n", error ? error->message :
        "needs --url, --room, and --echo or --measure");
    return 2;
  }
  g_mutex_init (&p.lock);
  g_cond_init (&p.cond);
  p.texts = g_async_queue_new_full (g_free);
  desc = g_strdup_printf ("meshsignal name=m server-url=%s room=%s "
      "data-channel=true", url, room);
  pipeline = gst_parse_launch (desc, &error);
  if (!pipeline) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  if (!GST_IS_PIPELINE (pipeline)) {
    GstElement *pl = gst_pipeline_new (NULL);
    gst_bin_add (GST_BIN (pl), pipeline);
    pipeline = pl;
  }
  p.mesh = gst_bin_get_by_name (GST_BIN (pipeline), "m");
  g_signal_connect (p.mesh, "data-received", G_CALLBACK (on_data), &p);
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_bus, &p);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  if (measure_mode)
    g_thread_new ("measure", measure, &p);
  g_main_loop_run (g_main_loop_new (NULL, FALSE));
  return 0;
}
