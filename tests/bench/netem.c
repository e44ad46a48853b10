/* gst-mesh: how a meshsignal call plays through packet loss and jitter.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For each scenario (loss %, delay ms, jitter ms) and each jitter-buffer
 * latency, two pipelines in one process make a call through the server at
 * --server-url:
 *
 *   meshsignal name=m server-url=URL role=call|wait latency=L
 *     videotestsrc is-live=true ! video/x-raw,width=320,height=240,
 *       framerate=30/1 ! m.video_sink
 *     audiotestsrc is-live=true wave=ticks ! m.audio_sink
 *     m.video_src ! fakesink  m.audio_src ! fakesink
 *
 * Once both decode video, the impairment goes on (tests/faults/net.sh
 * impair + tests/faults/netimp: every IPv4 UDP packet, both ways; IPv6 UDP
 * is dropped from before the call so that ICE uses IPv4), and for
 * --seconds the frames the waiting side B decodes are counted every
 * 100 ms. Then B's webrtcbin statistics are read (get-stats), the
 * impairment is removed and the pipelines are freed.
 *
 * Figures per run: fps (frames decoded per second on B, 30 sent), freezes
 * (stretches of 500 ms or more without a frame), the longest one, and
 * from B's inbound-rtp statistics: packets lost (after retransmission),
 * NACKs (the packets rtpsession asked for, plus those meshsignal asked
 * for in NACKs of its own: its stats' nacks-sent), PLIs and FIRs sent.
 * The impairer's own count of dropped packets is given as a check.
 *
 * Usage: netem [--server-url URL] [--seconds S] [--latencies LIST]
 *              [--scenarios LIST]
 *   LIST of latencies: comma separated ms (default "20,200"; 20 is the
 *   element's default); scenarios: LOSS/DELAY/JITTER, comma separated
 *   (default "0/0/0,5/0/0,0/50/20,5/50/20").
 *   Must run inside tools/netns-run with a signalling server running;
 *   tests/bench/netem.sh does all of that.
 *   Env: MESH_TESTS_DIR (tests/, for faults/net.sh), MESH_BUILD_DIR (for
 *   tests/faults/netimp).
 */
#include <gst/gst.h>
#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  GstElement *pipeline;
  GMutex lock;
  gboolean first_video;
  gchar *error;
} Side;

static gint frames_b;

static GstBusSyncReply
on_bus (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Side *s = user_data;
  const GstStructure *st = gst_message_get_structure (msg);

  g_mutex_lock (&s->lock);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && st &&
      gst_structure_has_name (st, "mesh-first-frame") &&
      !g_strcmp0 (gst_structure_get_string (st, "media"), "video"))
    s->first_video = TRUE;
  else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR && !s->error) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    s->error = g_strdup (err->message);
    g_error_free (err);
  }
  g_mutex_unlock (&s->lock);
  return GST_BUS_DROP;
}

static GstPadProbeReturn
count_frame (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_atomic_int_inc (&frames_b);
  return GST_PAD_PROBE_OK;
}

static gboolean
side_start (Side * s, const gchar * url, const gchar * role, guint latency,
    gboolean count)
{
  gchar *desc = g_strdup_printf ("meshsignal name=m server-url=%s role=%s "
      "latency=%u videotestsrc is-live=true ! video/x-raw,width=320,"
      "height=240,framerate=30/1 ! m.video_sink "
      "audiotestsrc is-live=true wave=ticks ! m.audio_sink "
      "m.video_src ! fakesink name=vout async=false "
      "m.audio_src ! fakesink async=false", url, role, latency);
  GError *error = NULL;
  GstBus *bus;

  memset (s, 0, sizeof *s);
  g_mutex_init (&s->lock);
  s->pipeline = gst_parse_launch (desc, &error);
  g_free (desc);
  if (!s->pipeline) {
    g_printerr ("netem: bad pipeline: %s\n", error->message);
    return FALSE;
  }
  bus = gst_element_get_bus (s->pipeline);
  gst_bus_set_sync_handler (bus, on_bus, s, NULL);
  gst_object_unref (bus);
  if (count) {
    GstElement *vout = gst_bin_get_by_name (GST_BIN (s->pipeline), "vout");
    GstPad *pad = gst_element_get_static_pad (vout, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_frame, NULL,
        NULL);
    gst_object_unref (pad);
    gst_object_unref (vout);
  }
  return gst_element_set_state (s->pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE;
}

static void
side_stop (Side * s)
{
  GstBus *bus;

  if (!s->pipeline)
    return;
  gst_element_set_state (s->pipeline, GST_STATE_NULL);
  bus = gst_element_get_bus (s->pipeline);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  gst_object_unref (s->pipeline);
  g_free (s->error);
  g_mutex_clear (&s->lock);
}

static gboolean
side_has_video (Side * s)
{
  gboolean v;
  g_mutex_lock (&s->lock);
  v = s->first_video;
  g_mutex_unlock (&s->lock);
  return v;
}

static gboolean
net_sh (const gchar * verb, const gchar * arg)
{
  const gchar *tests = g_getenv ("MESH_TESTS_DIR");
  gchar *script = g_build_filename (tests ? tests : "tests", "faults",
      "net.sh", NULL);
  const gchar *argv[] = { "sh", script, verb, arg, NULL };
  gint status = 1;
  gboolean ok;

  ok = g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
      NULL, NULL, NULL, &status, NULL) && g_spawn_check_wait_status (status,
      NULL);
  if (!ok)
    g_printerr ("netem: net.sh %s failed\n", verb);
  g_free (script);
  return ok;
}

static GstElement *
find_webrtcbin (GstElement * pipeline)
{
  GstElement *m = gst_bin_get_by_name (GST_BIN (pipeline), "m");
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (m));
  GValue item = G_VALUE_INIT;
  GstElement *found = NULL;

  while (!found && gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);
    GstElementFactory *f = gst_element_get_factory (e);
    if (f && !g_strcmp0 (GST_OBJECT_NAME (f), "webrtcbin"))
      found = gst_object_ref (e);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  gst_object_unref (m);
  return found;
}

typedef struct
{
  guint64 lost, nacks, plis, firs;
} Stats;

static gboolean
add_inbound (GQuark id, const GValue * value, gpointer user_data)
{
  Stats *st = user_data;
  const GstStructure *s;
  const GValue *type;
  GEnumValue *ev;
  guint u;
  gint64 i64;

  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  s = gst_value_get_structure (value);
  type = gst_structure_get_value (s, "type");
  if (!type || !G_VALUE_HOLDS_ENUM (type))
    return TRUE;
  ev = g_enum_get_value (g_type_class_peek (G_VALUE_TYPE (type)),
      g_value_get_enum (type));
  if (!ev || g_strcmp0 (ev->value_nick, "inbound-rtp"))
    return TRUE;
  if (gst_structure_get_int64 (s, "packets-lost", &i64) && i64 > 0)
    st->lost += i64;
  if (gst_structure_get_uint (s, "nack-count", &u))
    st->nacks += u;
  if (gst_structure_get_uint (s, "pli-count", &u))
    st->plis += u;
  if (gst_structure_get_uint (s, "fir-count", &u))
    st->firs += u;
  return TRUE;
}

/* what meshsignal asked for itself (gstmeshpeernack.c); 0 before it did */
static guint64
own_nacks (Side * b)
{
  GstElement *m = gst_bin_get_by_name (GST_BIN (b->pipeline), "m");
  GstStructure *s = NULL;
  const GValue *peers;
  guint64 n = 0;

  if (!m)
    return 0;
  g_object_get (m, "stats", &s, NULL);
  peers = s ? gst_structure_get_value (s, "peers") : NULL;
  if (peers && gst_value_array_get_size (peers) > 0)
    gst_structure_get_uint64 (gst_value_get_structure
        (gst_value_array_get_value (peers, 0)), "nacks-sent", &n);
  if (s)
    gst_structure_free (s);
  gst_object_unref (m);
  return n;
}

static Stats
receiver_stats (Side * b)
{
  GstElement *webrtc = find_webrtcbin (b->pipeline);
  Stats st = { 0, };
  GstPromise *p;

  if (!webrtc)
    return st;
  p = gst_promise_new ();
  g_signal_emit_by_name (webrtc, "get-stats", NULL, p);
  if (gst_promise_wait (p) == GST_PROMISE_RESULT_REPLIED &&
      gst_promise_get_reply (p))
    gst_structure_foreach (gst_promise_get_reply (p), add_inbound, &st);
  gst_promise_unref (p);
  gst_object_unref (webrtc);
  st.nacks += own_nacks (b);
  return st;
}

/* One run; FALSE if the call never carried video. */
static gboolean
run (const gchar * url, gdouble loss, guint delay, guint jitter,
    guint latency, guint seconds)
{
  Side a, b;
  GSubprocess *imp = NULL;
  GDataInputStream *imp_out = NULL;
  gint64 deadline;
  gint freezes = 0, longest = 0, gap = 0, total = 0;
  guint64 imp_in = 0, imp_dropped = 0, imp_outn = 0;
  gboolean ok = FALSE;
  Stats st;

  net_sh ("ipv4-only", NULL);
  if (!side_start (&b, url, "wait", latency, TRUE) ||
      !side_start (&a, url, "call", latency, FALSE))
    goto done;
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (!(side_has_video (&a) && side_has_video (&b)) &&
      g_get_monotonic_time () < deadline)
    g_usleep (20 * 1000);
  if (!side_has_video (&b)) {
    g_printerr ("netem: no call (%s)\n", b.error ? b.error : "no error");
    goto done;
  }

  if (loss > 0 || delay > 0) {
    const gchar *build = g_getenv ("MESH_BUILD_DIR");
    gchar *prog = g_build_filename (build ? build : "build", "tests",
        "faults", "netimp", NULL);
    gchar ls[32], ds[16], js[16], *line;
    const gchar *argv[] = { prog, "--dev", "meshimp0", "--loss", ls,
      "--delay", ds, "--jitter", js, NULL
    };
    g_ascii_dtostr (ls, sizeof ls, loss);
    g_snprintf (ds, sizeof ds, "%u", delay);
    g_snprintf (js, sizeof js, "%u", jitter);
    imp = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL);
    g_free (prog);
    if (!imp) {
      g_printerr ("netem: cannot start netimp (build it: ninja)\n");
      goto done;
    }
    imp_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (imp));
    line = g_data_input_stream_read_line (imp_out, NULL, NULL, NULL);
    g_free (line);
    if (!net_sh ("impair", "meshimp0"))
      goto done;
  }

  g_atomic_int_set (&frames_b, 0);
  for (guint i = 0; i < seconds * 10; i++) {
    gint got;
    g_usleep (100 * 1000);
    got = g_atomic_int_and (&frames_b, 0);
    total += got;
    if (got) {
      gap = 0;
    } else {
      gap += 100;
      if (gap == 500)
        freezes++;
      longest = MAX (longest, gap);
    }
  }
  st = receiver_stats (&b);
  ok = TRUE;

done:
  net_sh ("clear", NULL);
  if (imp) {
    gchar *line;
    g_subprocess_send_signal (imp, SIGTERM);
    line = g_data_input_stream_read_line (imp_out, NULL, NULL, NULL);
    if (line)
      sscanf (line, "netimp: in %" G_GUINT64_FORMAT " dropped %"
          G_GUINT64_FORMAT " out %" G_GUINT64_FORMAT, &imp_in, &imp_dropped,
          &imp_outn);
    g_free (line);
    g_subprocess_wait (imp, NULL, NULL);
    g_object_unref (imp_out);
    g_object_unref (imp);
  }
  side_stop (&a);
  side_stop (&b);
  if (ok)
    g_print ("%5.1f%% %4u ms %4u ms  %4u ms | %5.1f %7d %6d ms | %6"
        G_GUINT64_FORMAT " %6" G_GUINT64_FORMAT " %5" G_GUINT64_FORMAT " %5"
        G_GUINT64_FORMAT " | %7" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\n",
        loss, delay, jitter, latency, total / (gdouble) seconds, freezes,
        longest, st.lost, st.nacks, st.plis, st.firs, imp_dropped, imp_in);
  else
    g_print ("%5.1f%% %4u ms %4u ms  %4u ms | no call\n", loss, delay, jitter,
        latency);
  /* let the server forget the sockets */
  g_usleep (500 * 1000);
  return ok;
}

int
main (int argc, char **argv)
{
  gchar *url = NULL, *latencies = NULL, *scenarios = NULL;
  gint seconds = 10;
  GOptionEntry entries[] = {
    {"server-url", 0, 0, G_OPTION_ARG_STRING, &url,
        "Signalling server (http://127.0.0.1:4000)", "URL"},
    {"seconds", 0, 0, G_OPTION_ARG_INT, &seconds,
        "Seconds measured per run (10)", "S"},
    {"latencies", 0, 0, G_OPTION_ARG_STRING, &latencies,
        "Jitter-buffer latencies in ms, comma separated (20,200)", "LIST"},
    {"scenarios", 0, 0, G_OPTION_ARG_STRING, &scenarios,
        "LOSS/DELAY/JITTER, comma separated "
        "(0/0/0,5/0/0,0/50/20,5/50/20)", "LIST"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- calls through loss and "
      "jitter");
  GError *error = NULL;
  gchar **lats, **scens;
  gboolean all_ok = TRUE;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (g_strcmp0 (g_getenv ("GST_MESH_NETNS"), "1")) {
    g_printerr ("netem: run inside tools/netns-run (tests/bench/netem.sh)\n");
    return 2;
  }
  if (seconds <= 0 || seconds > 600) {
    g_printerr ("netem: --seconds must be 1..600\n");
    return 2;
  }

  lats = g_strsplit (latencies ? latencies : "20,200", ",", -1);
  scens = g_strsplit (scenarios ? scenarios : "0/0/0,5/0/0,0/50/20,5/50/20",
      ",", -1);
  g_print ("  loss   delay  jitter  latency |   fps freezes   longest |   "
      "lost   NACK   PLI   FIR | dropped/packets\n");
  for (guint s = 0; scens[s]; s++) {
    gdouble loss = 0;
    guint delay = 0, jitter = 0;
    if (sscanf (scens[s], "%lf/%u/%u", &loss, &delay, &jitter) != 3 ||
        loss < 0 || loss > 100 || jitter > delay) {
      g_printerr ("netem: bad scenario '%s' (LOSS/DELAY/JITTER, jitter <= "
          "delay)\n", scens[s]);
      return 2;
    }
    for (guint l = 0; lats[l]; l++)
      all_ok &= run (url ? url : "http://127.0.0.1:4000", loss, delay, jitter,
          (guint) atoi (lats[l]), seconds);
  }
  g_strfreev (lats);
  g_strfreev (scens);
  g_free (url);
  g_free (latencies);
  g_free (scenarios);
  return all_ok ? 0 : 1;
}
