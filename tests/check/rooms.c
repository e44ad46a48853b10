/* gst-mesh tests: mesh rooms, several meshsignal pipelines in one room of
 * gst-mesh-server, each connected to every other.
 *
 * Every test here opens peer connections, so the suite runs inside
 * tools/netns-run (the meson test setup does it).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <gio/gio.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "meshtest.h"

#define CONNECT_TIMEOUT_MS 30000
/* the bound for a peer that leaves to be gone from the others */
#define LEAVE_BOUND_MS 2000

static gchar *
room_description (const gchar * url, const gchar * room, const gchar * props)
{
  static gint members;
  /* Each member its own tone. Two members' equal tones reach a third
   * with a fixed phase between them; when that is near half a period the
   * mix cancels. A probe on the mixer's pads showed it in 3 of 172 runs
   * of test_three_peers: inputs peaking at 16,500, the mix at 300-700.
   * Tones 110 Hz apart beat every 9 ms, within one 10 ms buffer. */
  gint freq = 330 + 110 * (g_atomic_int_add (&members, 1) % 8);

  /* white pictures, so that a grid cell showing a peer is told from the
   * black background at a glance */
  return g_strdup_printf ("meshsignal name=m server-url=%s room=%s %s "
      "videotestsrc is-live=true pattern=white ! video/x-raw,width=320,"
      "height=240,framerate=15/1 ! m.video_sink "
      "audiotestsrc is-live=true volume=0.5 freq=%d ! m.audio_sink "
      "m.video_src ! fakesink name=vout async=false enable-last-sample=true "
      "m.audio_src ! fakesink name=aout async=false enable-last-sample=true",
      url, room, props ? props : "", freq);
}

static MeshTestPipeline *
room_peer (const gchar * url, const gchar * room, const gchar * props)
{
  gchar *desc = room_description (url, room, props);
  MeshTestPipeline *p = mesh_test_pipeline_new (desc);

  g_free (desc);
  mesh_test_pipeline_play (p);
  return p;
}

static GstStructure *
stats_of (MeshTestPipeline * p)
{
  GstStructure *s = NULL;

  g_object_get (p->mesh, "stats", &s, NULL);
  fail_unless (s != NULL);
  return s;
}

static gchar *
local_id (MeshTestPipeline * p)
{
  GstStructure *s = stats_of (p);
  gchar *id = g_strdup (gst_structure_get_string (s, "local-id"));

  gst_structure_free (s);
  return id;
}

/* Connected peers that decoded at least @frames video frames and @frames
 * audio buffers; their ids go to @ids when given. @print: each call's
 * state and counts on stderr, for a failure's message. */
static guint
count_decoding_full (MeshTestPipeline * p, guint frames, GPtrArray * ids,
    gboolean print)
{
  GstStructure *s = stats_of (p);
  const GValue *peers = gst_structure_get_value (s, "peers");
  guint n = 0;

  for (guint i = 0; i < gst_value_array_get_size (peers); i++) {
    const GstStructure *ps =
        gst_value_get_structure (gst_value_array_get_value (peers, i));
    guint v = 0, a = 0;

    gst_structure_get_uint (ps, "video-frames-decoded", &v);
    gst_structure_get_uint (ps, "audio-buffers-decoded", &a);
    if (print)
      g_printerr ("  peer %s: %s (ICE %s, connection %s), %u video frames, "
          "%u audio buffers\n", gst_structure_get_string (ps, "peer-id"),
          gst_structure_get_string (ps, "state"),
          gst_structure_get_string (ps, "ice-connection-state"),
          gst_structure_get_string (ps, "connection-state"), v, a);
    if (!g_strcmp0 (gst_structure_get_string (ps, "state"), "connected") &&
        v >= frames && a >= frames) {
      n++;
      if (ids)
        g_ptr_array_add (ids, g_strdup (gst_structure_get_string (ps,
                    "peer-id")));
    }
  }
  gst_structure_free (s);
  return n;
}

static guint
count_decoding (MeshTestPipeline * p, guint frames, GPtrArray * ids)
{
  return count_decoding_full (p, frames, ids, FALSE);
}

/* Waits until @p decodes video and audio from exactly @n peers, and goes
 * on doing so (a second later each has decoded more). */
static gboolean
wait_decoding (MeshTestPipeline * p, guint n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (g_get_monotonic_time () < deadline) {
    if (count_decoding (p, 10, NULL) == n) {
      g_usleep (G_USEC_PER_SEC);
      if (count_decoding (p, 20, NULL) == n)
        return TRUE;
    }
    g_usleep (100 * 1000);
  }
  /* what each call was at, for the failure's message */
  g_printerr ("decoding from %u peers (the calls above), wanted %u\n",
      count_decoding_full (p, 10, NULL, TRUE), n);
  return FALSE;
}

static guint
count_webrtcbins (MeshTestPipeline * p)
{
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (p->mesh));
  GValue v = G_VALUE_INIT;
  guint n = 0;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElementFactory *f = gst_element_get_factory (g_value_get_object (&v));
    n += f && !g_strcmp0 (GST_OBJECT_NAME (f), "webrtcbin");
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  return n;
}

/* The luma of the grid picture at (x, y) in [0,1] units of its size, or
 * -1 before the first picture. */
static gint
grid_luma (MeshTestPipeline * p, gdouble x, gdouble y)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p->pipeline), "vout");
  GstSample *sample = NULL;
  GstVideoFrame frame;
  GstVideoInfo info;
  gint luma;

  g_object_get (sink, "last-sample", &sample, NULL);
  gst_object_unref (sink);
  if (!sample)
    return -1;
  fail_unless (gst_video_info_from_caps (&info,
          gst_sample_get_caps (sample)));
  fail_unless (gst_video_frame_map (&frame, &info,
          gst_sample_get_buffer (sample), GST_MAP_READ));
  luma = ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0))
      [(gint) (y * info.height) * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) +
      (gint) (x * info.width)];
  gst_video_frame_unmap (&frame);
  gst_sample_unref (sample);
  return luma;
}

/* The loudest sample of the last mixed audio buffer (S16). */
static gint
mix_peak (MeshTestPipeline * p)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p->pipeline), "aout");
  GstSample *sample = NULL;
  GstMapInfo map;
  gint peak = 0;

  g_object_get (sink, "last-sample", &sample, NULL);
  gst_object_unref (sink);
  fail_unless (sample != NULL, "no sound on audio_src");
  gst_buffer_map (gst_sample_get_buffer (sample), &map, GST_MAP_READ);
  for (gsize i = 0; i + 1 < map.size; i += 2)
    peak = MAX (peak, ABS (((gint16 *) map.data)[i / 2]));
  gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
  gst_sample_unref (sample);
  return peak;
}

/* Waits for the grid to show white (a peer) or black at (x, y). */
static gboolean
wait_grid (MeshTestPipeline * p, gdouble x, gdouble y, gboolean white)
{
  for (gint i = 0; i < 100; i++) {
    gint l = grid_luma (p, x, y);
    if (l >= 0 && (white ? l > 180 : l < 40))
      return TRUE;
    g_usleep (100 * 1000);
  }
  return FALSE;
}

/* Waits for a mixed buffer with sound in it. One buffer is 10 ms and
 * the mixer may give up on a late one and mix silence, so a single look
 * is not enough. */
static gboolean
wait_mix_sound (MeshTestPipeline * p)
{
  for (gint i = 0; i < 100; i++) {
    if (mix_peak (p) > 1000)
      return TRUE;
    g_usleep (50 * 1000);
  }
  return FALSE;
}

typedef struct
{
  MeshTestServer *server;
  gchar *url;
  MeshTestPipeline *p[4];
} Room;

static void
room_setup (Room * r)
{
  r->server = mesh_test_c_server_start ();
  r->url = mesh_test_server_get_url (r->server);
}

/* @n members in room "r", each decoding all the others */
static void
room_fill (Room * r, guint n)
{
  for (guint i = 0; i < n; i++)
    r->p[i] = room_peer (r->url, "r", NULL);
  for (guint i = 0; i < n; i++)
    fail_unless (wait_decoding (r->p[i], n - 1, CONNECT_TIMEOUT_MS),
        "member %u does not decode the %u others", i, n - 1);
}

static void
room_teardown (Room * r)
{
  for (guint i = 0; i < G_N_ELEMENTS (r->p); i++)
    if (r->p[i])
      mesh_test_pipeline_free (r->p[i]);
  mesh_test_server_stop (r->server);
  g_free (r->url);
}

/* Three members: each decodes both others' video and audio, its grid
 * shows two pictures side by side, and its mix carries sound. Before
 * anyone came, the grid was black and ran already. */
GST_START_TEST (test_three_peers)
{
  Room r = { 0, };

  room_setup (&r);
  r.p[0] = room_peer (r.url, "r", NULL);
  /* alone: a black picture, from the start */
  fail_unless (wait_grid (r.p[0], 0.5, 0.5, FALSE));
  fail_unless_equals_int (count_webrtcbins (r.p[0]), 0);

  r.p[1] = room_peer (r.url, "r", NULL);
  r.p[2] = room_peer (r.url, "r", NULL);
  for (guint i = 0; i < 3; i++) {
    fail_unless (wait_decoding (r.p[i], 2, CONNECT_TIMEOUT_MS),
        "peer %u does not decode both others", i);
    fail_unless_equals_int (count_webrtcbins (r.p[i]), 2);
    /* two cells side by side, each with a white picture */
    fail_unless (wait_grid (r.p[i], 0.25, 0.5, TRUE), "peer %u: left cell", i);
    fail_unless (wait_grid (r.p[i], 0.75, 0.5, TRUE), "peer %u: right cell",
        i);
    fail_unless (wait_mix_sound (r.p[i]), "peer %u: the mix is silent", i);
  }
  room_teardown (&r);
}

GST_END_TEST;

/* A member whose video comes encoded (x264enc ! h264parse) sends that one
 * stream to both others, who decode it (and it theirs), while they send
 * H.264 from their own encoders: three members, everyone decodes both
 * others. */
GST_START_TEST (test_encoded_input_in_a_room)
{
  Room r = { 0, };
  gchar *desc;
  room_setup (&r);
  desc = g_strdup_printf ("meshsignal name=m server-url=%s room=r "
      "video-codec=h264 "
      "videotestsrc is-live=true pattern=white ! video/x-raw,width=320,"
      "height=240,framerate=15/1 ! x264enc tune=zerolatency "
      "speed-preset=ultrafast key-int-max=30 ! "
      "video/x-h264,profile=constrained-baseline ! h264parse ! m.video_sink "
      "audiotestsrc is-live=true volume=0.5 freq=990 ! opusenc ! "
      "m.audio_sink "
      "m.video_src ! fakesink name=vout async=false enable-last-sample=true "
      "m.audio_src ! fakesink name=aout async=false enable-last-sample=true",
      r.url);
  r.p[0] = mesh_test_pipeline_new (desc);
  g_free (desc);
  mesh_test_pipeline_play (r.p[0]);
  r.p[1] = room_peer (r.url, "r", "video-codec=h264");
  r.p[2] = room_peer (r.url, "r", "video-codec=h264");
  for (guint i = 0; i < 3; i++)
    fail_unless (wait_decoding (r.p[i], 2, CONNECT_TIMEOUT_MS),
        "member %u does not decode both others", i);
  fail_unless_equals_int (mesh_test_pipeline_n_warnings (r.p[0]), 0);
  room_teardown (&r);
}

GST_END_TEST;

/* A fourth member comes late: it reaches everyone and everyone reaches
 * it; the grids become 2x2. */
GST_START_TEST (test_late_joiner)
{
  Room r = { 0, };

  room_setup (&r);
  room_fill (&r, 3);

  r.p[3] = room_peer (r.url, "r", NULL);
  for (guint i = 0; i < 4; i++) {
    fail_unless (wait_decoding (r.p[i], 3, CONNECT_TIMEOUT_MS),
        "peer %u does not decode all three others", i);
    fail_unless_equals_int (count_webrtcbins (r.p[i]), 3);
  }
  /* 3 pictures: cells (0,0) (1,0) (0,1) of a 2x2 grid; (1,1) is black */
  fail_unless (wait_grid (r.p[0], 0.25, 0.25, TRUE));
  fail_unless (wait_grid (r.p[0], 0.75, 0.25, TRUE));
  fail_unless (wait_grid (r.p[0], 0.25, 0.75, TRUE));
  fail_unless (wait_grid (r.p[0], 0.75, 0.75, FALSE));
  room_teardown (&r);
}

GST_END_TEST;

static void
on_peer_removed (GstElement * mesh, const gchar * id, GstElement * webrtc,
    gint * removed)
{
  fail_unless (GST_OBJECT_PARENT (webrtc) == NULL,
      "peer-removed with webrtcbin still in the bin");
  g_atomic_int_inc (removed);
}

/* A member leaves (its pipeline stops): within the bound, the others say
 * so, free its webrtcbin, give its grid cell back, and keep the rest. */
GST_START_TEST (test_peer_leaves)
{
  Room r = { 0, };
  gchar *gone;
  gint removed = 0;
  guint n[2];
  gint64 t0;

  room_setup (&r);
  room_fill (&r, 3);
  g_signal_connect (r.p[0]->mesh, "peer-removed",
      G_CALLBACK (on_peer_removed), &removed);

  gone = local_id (r.p[2]);
  fail_unless (gone != NULL);
  n[0] = mesh_test_pipeline_n_messages (r.p[0]);
  n[1] = mesh_test_pipeline_n_messages (r.p[1]);
  t0 = g_get_monotonic_time ();
  mesh_test_pipeline_free (r.p[2]);
  r.p[2] = NULL;
  for (guint i = 0; i < 2; i++) {
    fail_unless (mesh_test_pipeline_wait_message (r.p[i], n[i], 10000,
            "mesh-peer", "peer-id", gone) >= 0,
        "peer %u was not told that %s left", i, gone);
    GST_INFO ("peer %u saw the leave after %" G_GINT64_FORMAT " ms", i,
        (g_get_monotonic_time () - t0) / 1000);
    fail_unless (g_get_monotonic_time () - t0 < LEAVE_BOUND_MS * 1000,
        "the leave took longer than %d ms", LEAVE_BOUND_MS);
    fail_unless_equals_int (count_webrtcbins (r.p[i]), 1);
    fail_unless (wait_decoding (r.p[i], 1, CONNECT_TIMEOUT_MS),
        "peer %u lost the other peer too", i);
    /* one picture left: it takes the whole grid */
    fail_unless (wait_grid (r.p[i], 0.5, 0.5, TRUE));
  }
  fail_unless_equals_int (g_atomic_int_get (&removed), 1);
  g_free (gone);
  room_teardown (&r);
}

GST_END_TEST;

static void
set_sinks_state (MeshTestPipeline * p, GstState state)
{
  const gchar *names[] = { "vout", "aout" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    GstElement *sink = gst_bin_get_by_name (GST_BIN (p->pipeline), names[i]);
    gst_element_set_state (sink, state);
    gst_object_unref (sink);
  }
}

/* A member leaves while the other's sinks are paused, as they are for a
 * moment whenever the application changes the pipeline's state (sinks
 * first). The grid's and the mix's threads wait in the sinks, the mixer
 * pads fill up, and the decoders' pushes wait in them. Closing the
 * connection must not wait for those pushes: it did, and test_three_peers
 * hung in its teardown now and then (1 run in 50 once, 2 in 460 later).
 * With the old close this test fails every time. */
GST_START_TEST (test_leave_while_sinks_paused)
{
  Room r = { 0, };
  gint removed = 0;

  room_setup (&r);
  room_fill (&r, 2);
  g_signal_connect (r.p[0]->mesh, "peer-removed",
      G_CALLBACK (on_peer_removed), &removed);

  set_sinks_state (r.p[0], GST_STATE_PAUSED);
  /* long enough for the mixer pads to fill: they hold their latency */
  g_usleep (G_USEC_PER_SEC);
  mesh_test_pipeline_free (r.p[1]);
  r.p[1] = NULL;
  /* peer-removed comes once the connection is closed */
  for (gint t = 0; t < 100 && !g_atomic_int_get (&removed); t++)
    g_usleep (100 * 1000);
  fail_unless_equals_int (g_atomic_int_get (&removed), 1);
  fail_unless_equals_int (count_webrtcbins (r.p[0]), 0);

  /* and the member goes on: a newcomer reaches it */
  set_sinks_state (r.p[0], GST_STATE_PLAYING);
  r.p[1] = room_peer (r.url, "r", NULL);
  fail_unless (wait_decoding (r.p[0], 1, CONNECT_TIMEOUT_MS),
      "no call after the paused leave");
  room_teardown (&r);
}

GST_END_TEST;

/* A member's process is killed (SIGKILL): the server's peer-left reaches
 * the others within the bound, and they go on with each other. */
GST_START_TEST (test_peer_killed)
{
  Room r = { 0, };
  gchar *desc;
  GSubprocess *proc;
  GError *error = NULL;
  guint n[2];
  gint64 t0;

  room_setup (&r);
  desc = room_description (r.url, "r", NULL);
  for (guint i = 0; i < 2; i++)
    r.p[i] = room_peer (r.url, "r", NULL);
  {
    gchar **argv = NULL;
    gchar *cmd = g_strdup_printf ("gst-launch-1.0 -q %s", desc);
    fail_unless (g_shell_parse_argv (cmd, NULL, &argv, &error));
    proc = g_subprocess_newv ((const gchar * const *) argv,
        G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
    fail_unless (proc != NULL, "cannot start gst-launch-1.0: %s",
        error ? error->message : "");
    g_strfreev (argv);
    g_free (cmd);
  }
  for (guint i = 0; i < 2; i++)
    fail_unless (wait_decoding (r.p[i], 2, CONNECT_TIMEOUT_MS));

  n[0] = mesh_test_pipeline_n_messages (r.p[0]);
  n[1] = mesh_test_pipeline_n_messages (r.p[1]);
  t0 = g_get_monotonic_time ();
  g_subprocess_send_signal (proc, SIGKILL);
  g_subprocess_wait (proc, NULL, NULL);
  for (guint i = 0; i < 2; i++) {
    fail_unless (mesh_test_pipeline_wait_message (r.p[i], n[i], 10000,
            "mesh-peer", "event", "left") >= 0);
    GST_INFO ("peer %u saw the killed peer leave after %" G_GINT64_FORMAT
        " ms", i, (g_get_monotonic_time () - t0) / 1000);
    fail_unless (g_get_monotonic_time () - t0 < LEAVE_BOUND_MS * 1000);
    fail_unless_equals_int (count_webrtcbins (r.p[i]), 1);
    fail_unless (wait_decoding (r.p[i], 1, CONNECT_TIMEOUT_MS));
  }
  g_object_unref (proc);
  g_free (desc);
  room_teardown (&r);
}

GST_END_TEST;

/* Two rooms on one server: each pair sees only itself. */
GST_START_TEST (test_rooms_are_apart)
{
  Room r = { 0, };
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  gchar *id[4];

  room_setup (&r);
  r.p[0] = room_peer (r.url, "red", NULL);
  r.p[1] = room_peer (r.url, "blue", NULL);
  r.p[2] = room_peer (r.url, "red", NULL);
  r.p[3] = room_peer (r.url, "blue", NULL);
  for (guint i = 0; i < 4; i++)
    fail_unless (wait_decoding (r.p[i], 1, CONNECT_TIMEOUT_MS));
  for (guint i = 0; i < 4; i++)
    id[i] = local_id (r.p[i]);
  /* a while later still one peer each, and the right one */
  g_usleep (2 * G_USEC_PER_SEC);
  for (guint i = 0; i < 4; i++) {
    g_ptr_array_set_size (ids, 0);
    fail_unless_equals_int (count_decoding (r.p[i], 10, ids), 1);
    fail_unless_equals_string (g_ptr_array_index (ids, 0), id[(i + 2) % 4]);
    fail_unless_equals_int (count_webrtcbins (r.p[i]), 1);
  }
  for (guint i = 0; i < 4; i++)
    g_free (id[i]);
  g_ptr_array_unref (ids);
  room_teardown (&r);
}

GST_END_TEST;

/* max-peers=1: the member that comes second keeps one connection, says
 * once why it does not take the third, and tells the third ("hangup"),
 * which stops calling it. */
GST_START_TEST (test_max_peers)
{
  Room r = { 0, };

  room_setup (&r);
  r.p[0] = room_peer (r.url, "r", NULL);
  fail_unless (wait_grid (r.p[0], 0.5, 0.5, FALSE));
  r.p[1] = room_peer (r.url, "r", "max-peers=1");
  fail_unless (wait_decoding (r.p[1], 1, CONNECT_TIMEOUT_MS));
  r.p[2] = room_peer (r.url, "r", NULL);
  fail_unless (wait_decoding (r.p[0], 2, CONNECT_TIMEOUT_MS));
  /* the third offers to both; the second refuses, with a warning, and
   * tells it with hangup "busy" */
  for (gint i = 0; i < 100 && !mesh_test_pipeline_has_warning (r.p[2],
          "does not take our call (busy)"); i++)
    g_usleep (100 * 1000);
  fail_unless (mesh_test_pipeline_has_warning (r.p[1], "max-peers"));
  fail_unless (mesh_test_pipeline_has_warning (r.p[2],
          "does not take our call (busy)"));
  /* the third stopped offering to it, and closed that connection; an
   * offer re-sent (offer-interval, 1 s) would have made no second
   * warning, but would have kept the connection */
  g_usleep (3 * G_USEC_PER_SEC);
  fail_unless_equals_int (mesh_test_pipeline_count_warnings (r.p[1],
          "max-peers"), 1);
  fail_unless_equals_int (count_decoding (r.p[1], 10, NULL), 1);
  fail_unless_equals_int (count_webrtcbins (r.p[1]), 1);
  fail_unless_equals_int (count_webrtcbins (r.p[2]), 1);
  fail_unless_equals_int (count_decoding (r.p[2], 10, NULL), 1);
  room_teardown (&r);
}

GST_END_TEST;

typedef struct
{
  MeshTestPipeline *p;
  GMutex lock;
  GPtrArray *added;             /* pad names */
  GPtrArray *removed;
  gint buffers;
} PeerPads;

static GstPadProbeReturn
count_probe (GstPad * pad, GstPadProbeInfo * info, gint * n)
{
  g_atomic_int_inc (n);
  return GST_PAD_PROBE_OK;
}

/* What an application does with a peer's pad: a queue and a sink. */
static void
on_peer_pad_added (GstElement * mesh, GstPad * pad, PeerPads * pp)
{
  GstElement *q, *sink;
  GstPad *sinkpad;

  if (!g_str_has_prefix (GST_PAD_NAME (pad), "peer_"))
    return;
  q = gst_element_factory_make ("queue", NULL);
  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "async", FALSE, NULL);
  gst_bin_add_many (GST_BIN (pp->p->pipeline), q, sink, NULL);
  gst_element_link (q, sink);
  gst_element_sync_state_with_parent (sink);
  gst_element_sync_state_with_parent (q);
  sinkpad = gst_element_get_static_pad (q, "sink");
  fail_unless_equals_int (gst_pad_link (pad, sinkpad), GST_PAD_LINK_OK);
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER,
      (GstPadProbeCallback) count_probe, &pp->buffers, NULL);
  gst_object_unref (sinkpad);
  g_mutex_lock (&pp->lock);
  g_ptr_array_add (pp->added, g_strdup (GST_PAD_NAME (pad)));
  g_mutex_unlock (&pp->lock);
}

static void
on_peer_pad_removed (GstElement * mesh, GstPad * pad, PeerPads * pp)
{
  g_mutex_lock (&pp->lock);
  g_ptr_array_add (pp->removed, g_strdup (GST_PAD_NAME (pad)));
  g_mutex_unlock (&pp->lock);
}

static gboolean
has_name (PeerPads * pp, GPtrArray * names, const gchar * name)
{
  gboolean found = FALSE;

  g_mutex_lock (&pp->lock);
  for (guint i = 0; i < names->len && !found; i++)
    found = !g_strcmp0 (g_ptr_array_index (names, i), name);
  g_mutex_unlock (&pp->lock);
  return found;
}

static gboolean
wait_name (PeerPads * pp, GPtrArray * names, const gchar * name)
{
  for (gint i = 0; i < 200 && !has_name (pp, names, name); i++)
    g_usleep (100 * 1000);
  return has_name (pp, names, name);
}

/* peer-pads=true: each peer's decoded video and audio also come out on
 * pads of their own, which go when the peer goes. */
GST_START_TEST (test_peer_pads)
{
  Room r = { 0, };
  PeerPads pp = { 0, };
  gchar *desc, *other, *vname, *aname;

  room_setup (&r);
  g_mutex_init (&pp.lock);
  pp.added = g_ptr_array_new_with_free_func (g_free);
  pp.removed = g_ptr_array_new_with_free_func (g_free);
  desc = room_description (r.url, "r", "peer-pads=true");
  pp.p = r.p[0] = mesh_test_pipeline_new (desc);
  g_free (desc);
  g_signal_connect (r.p[0]->mesh, "pad-added",
      G_CALLBACK (on_peer_pad_added), &pp);
  g_signal_connect (r.p[0]->mesh, "pad-removed",
      G_CALLBACK (on_peer_pad_removed), &pp);
  mesh_test_pipeline_play (r.p[0]);
  r.p[1] = room_peer (r.url, "r", NULL);
  fail_unless (wait_decoding (r.p[0], 1, CONNECT_TIMEOUT_MS));

  other = local_id (r.p[1]);
  vname = g_strdup_printf ("peer_video_%s", other);
  aname = g_strdup_printf ("peer_audio_%s", other);
  fail_unless (wait_name (&pp, pp.added, vname), "no pad %s", vname);
  fail_unless (wait_name (&pp, pp.added, aname), "no pad %s", aname);
  {
    gint before = g_atomic_int_get (&pp.buffers);
    for (gint i = 0; i < 100 && g_atomic_int_get (&pp.buffers) < before + 40;
        i++)
      g_usleep (100 * 1000);
    fail_unless (g_atomic_int_get (&pp.buffers) >= before + 40,
        "nothing flows out of the peer pads");
  }
  /* the grid still gets the picture */
  fail_unless (wait_grid (r.p[0], 0.5, 0.5, TRUE));

  mesh_test_pipeline_free (r.p[1]);
  r.p[1] = NULL;
  fail_unless (wait_name (&pp, pp.removed, vname));
  fail_unless (wait_name (&pp, pp.removed, aname));

  g_free (vname);
  g_free (aname);
  g_free (other);
  room_teardown (&r);
  g_ptr_array_unref (pp.added);
  g_ptr_array_unref (pp.removed);
  g_mutex_clear (&pp.lock);
}

GST_END_TEST;

/* Counts mesh-call messages saying a call ended, from message @from on. */
static guint
count_ended (MeshTestPipeline * p, guint from)
{
  guint n = 0;

  g_mutex_lock (&p->lock);
  for (guint i = from; i < p->messages->len; i++) {
    GstStructure *s = g_ptr_array_index (p->messages, i);
    n += gst_structure_has_name (s, "mesh-call") &&
        (!g_strcmp0 (gst_structure_get_string (s, "state"), "ended") ||
        !g_strcmp0 (gst_structure_get_string (s, "state"), "failed"));
  }
  g_mutex_unlock (&p->lock);
  return n;
}

static guint
video_decoded_total (MeshTestPipeline * p)
{
  GstStructure *s = stats_of (p);
  const GValue *peers = gst_structure_get_value (s, "peers");
  guint total = 0;

  for (guint i = 0; i < gst_value_array_get_size (peers); i++) {
    guint v = 0;
    gst_structure_get_uint (gst_value_get_structure
        (gst_value_array_get_value (peers, i)), "video-frames-decoded", &v);
    total += v;
  }
  gst_structure_free (s);
  return total;
}

/* The signalling server restarts mid-call (ours, then the Node rooms
 * reference): the calls go on through the outage, every member reconnects
 * and joins again, keeping its connections (the uid), and a member who
 * comes after the restart reaches everyone. */
GST_START_TEST (test_server_restart)
{
  Room r = { 0, };
  guint mark[3];

  if (__i__ == 0)
    room_setup (&r);
  else {
    r.server = mesh_test_server_start (4000,
        "../examples/rooms-server/server.mjs", "4000", NULL);
    r.url = mesh_test_server_get_url (r.server);
  }
  room_fill (&r, 3);
  for (guint i = 0; i < 3; i++)
    mark[i] = mesh_test_pipeline_n_messages (r.p[i]);

  mesh_test_server_send_signal (r.server, SIGTERM);
  /* no server: media goes on */
  for (guint i = 0; i < 3; i++) {
    guint before = video_decoded_total (r.p[i]);
    g_usleep (G_USEC_PER_SEC);
    fail_unless (video_decoded_total (r.p[i]) > before + 10,
        "member %u: media stopped with the server", i);
  }
  mesh_test_server_restart (r.server);
  for (guint i = 0; i < 3; i++)
    fail_unless (mesh_test_pipeline_wait_message (r.p[i], mark[i],
            CONNECT_TIMEOUT_MS, "mesh-signalling", "state", "connected") >= 0,
        "member %u did not reconnect", i);

  /* a newcomer reaches all three, and they it */
  r.p[3] = room_peer (r.url, "r", NULL);
  for (guint i = 0; i < 4; i++)
    fail_unless (wait_decoding (r.p[i], 3, CONNECT_TIMEOUT_MS),
        "member %u does not decode all three others", i);
  /* the old connections were never torn down */
  for (guint i = 0; i < 3; i++) {
    fail_unless_equals_int (count_ended (r.p[i], mark[i]), 0);
    fail_unless_equals_int (count_webrtcbins (r.p[i]), 3);
  }
  room_teardown (&r);
}

GST_END_TEST;

static gsize
rss_kb (void)
{
  gchar *text = NULL;
  gsize pages = 0;

  if (g_file_get_contents ("/proc/self/statm", &text, NULL, NULL))
    sscanf (text, "%*u %" G_GSIZE_FORMAT, &pages);
  g_free (text);
  return pages * (gsize) sysconf (_SC_PAGESIZE) / 1024;
}

/* The bytes malloc has handed out and not had back, in kB, over every
 * arena: what a leak adds to. Resident memory also counts the free space
 * malloc keeps between live blocks, which grows and shrinks in steps of
 * hundreds of kB as the heap fragments, leak or not (CI once failed on
 * 135 kB a cycle of resident growth that mallinfo2 does not show). */
static gsize
heap_kb (void)
{
#if defined (__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  struct mallinfo2 mi = mallinfo2 ();

  return (mi.uordblks + mi.hblkhd) / 1024;
#else
  return rss_kb ();
#endif
}

#define CYCLES 100
#define WARM_UP 20
/* per cycle, after warming up: an eighth of what one leaked call cost
 * when meshpeer leaked its webrtcbin (1.1 MB per cycle, measured) */
#define MAX_GROWTH_PER_CYCLE_KB 128

static gint
compare_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

/* The growth per cycle of @rss[0..n-1], one sample a cycle, as the
 * median of the slopes between every two samples (Theil and Sen). A leak
 * is growth in every cycle, and every pair sees it. malloc's heap also
 * grows in steps with no object alive at exit (GST_TRACERS=leaks): up to
 * 7.5 MB within 10 cycles, once. A step only tilts the pairs that
 * straddle it, too few to move the median, where the difference between
 * the first and last sample took it whole: 7.5 MB over 80 cycles is 94 kB
 * a cycle, most of the bound, and failed CI once. */
static gdouble
growth_per_cycle (const gsize * rss, guint n)
{
  GArray *slopes = g_array_new (FALSE, FALSE, sizeof (gdouble));
  gdouble median;

  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++) {
      gdouble slope = ((gdouble) rss[j] - rss[i]) / (j - i);
      g_array_append_val (slopes, slope);
    }
  g_array_sort (slopes, compare_double);
  median = slopes->len ? g_array_index (slopes, gdouble, slopes->len / 2) : 0;
  g_array_free (slopes, TRUE);
  return median;
}

/* One member stays; another joins and leaves 100 times in the same
 * process. The heap in use after warming up stays flat, and no webrtcbin
 * is left behind. (tests/meson.build runs this with MALLOC_ARENA_MAX=2:
 * with glibc's default of an arena per thread, up to 16 here, resident
 * memory wanders by megabytes without any leak; it is printed beside the
 * heap for a reader, not judged.) This test found two leaks: the
 * fixture's bus handler leaked every message, and meshpeer leaked its
 * promises and with them each call's webrtcbin. */
GST_START_TEST (test_join_leave_cycles)
{
  Room r = { 0, };
  /* fewer to hunt a leak with GST_TRACERS=leaks */
  guint cycles = g_getenv ("MESH_TEST_CYCLES") ?
      atoi (g_getenv ("MESH_TEST_CYCLES")) : CYCLES;
  gsize *heap = g_new0 (gsize, cycles + 1);
  gsize *rss = g_new0 (gsize, cycles + 1);
  gdouble growth, rss_growth;

  room_setup (&r);
  r.p[0] = room_peer (r.url, "r", NULL);
  for (guint i = 1; i <= cycles; i++) {
    r.p[1] = room_peer (r.url, "r", NULL);
    fail_unless (wait_decoding (r.p[0], 1, CONNECT_TIMEOUT_MS),
        "cycle %u: no call", i);
    mesh_test_pipeline_free (r.p[1]);
    r.p[1] = NULL;
    for (gint t = 0; t < 100 && count_webrtcbins (r.p[0]) > 0; t++)
      g_usleep (50 * 1000);
    fail_unless_equals_int (count_webrtcbins (r.p[0]), 0);
    heap[i] = heap_kb ();
    rss[i] = rss_kb ();
    if (i % 10 == 0)
      g_print ("cycle %u: heap %" G_GSIZE_FORMAT " kB in use, %"
          G_GSIZE_FORMAT " kB resident\n", i, heap[i], rss[i]);
  }
  room_teardown (&r);
  if (cycles <= WARM_UP) {
    g_free (heap);
    g_free (rss);
    return;
  }
  growth = growth_per_cycle (heap + WARM_UP, cycles - WARM_UP + 1);
  rss_growth = growth_per_cycle (rss + WARM_UP, cycles - WARM_UP + 1);
  g_print ("heap in use after %d cycles: %" G_GSIZE_FORMAT " kB, after "
      "%u: %" G_GSIZE_FORMAT " kB; growth %+.1f kB per cycle (median slope),"
      " %+.1f (end to end); resident %+.1f kB per cycle (median slope)\n",
      WARM_UP, heap[WARM_UP], cycles, heap[cycles], growth,
      ((gdouble) heap[cycles] - heap[WARM_UP]) / (cycles - WARM_UP),
      rss_growth);
  /* Not under AddressSanitizer: its quarantine (256 MB) keeps freed
   * blocks before reusing them, and its allocator is not malloc's.
   * LeakSanitizer judges leaks there (tools/leak-check.sh). */
#ifndef __SANITIZE_ADDRESS__
  fail_unless (growth <= MAX_GROWTH_PER_CYCLE_KB,
      "the heap in use grew by %.1f kB per cycle from cycle %d to %u "
      "(%" G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT " kB)", growth, WARM_UP,
      cycles, heap[WARM_UP], heap[cycles]);
#endif
  g_free (heap);
  g_free (rss);
}

GST_END_TEST;

/* GStreamer 1.22's rtpsession sometimes says "g_hash_table_foreach:
 * assertion 'version == hash_table->version' failed" from its RTCP thread:
 * the table of sources changed while that thread walked it (caught under
 * gdb with fatal criticals; frames in libgstrtpmanager only). Seen in
 * rooms only, where sources come and go the most: test_join_leave_cycles
 * (1 fresh-clone CI of 4 this session) and test_encoded_input_in_a_room
 * (2 runs of about 18). None of this project's code walks a hash table
 * with g_hash_table_foreach, so the message can only be the library's.
 * The calls carry on (each test still checks every member decodes);
 * the message stays in the log, it just does not fail the test. */
static GstCheckLogFilter *rtpsession_race;

static void
filter_rtpsession_race (void)
{
  rtpsession_race = gst_check_add_log_filter ("GLib", G_LOG_LEVEL_CRITICAL,
      g_regex_new ("version == hash_table->version", 0, 0, NULL), NULL, NULL,
      NULL);
}

static void
unfilter_rtpsession_race (void)
{
  gst_check_remove_log_filter (rtpsession_race);
  rtpsession_race = NULL;
}

static Suite *
rooms_suite (void)
{
  Suite *s = suite_create ("rooms");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 400);
  tcase_add_checked_fixture (tc, filter_rtpsession_race,
      unfilter_rtpsession_race);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_three_peers);
  tcase_add_test (tc, test_encoded_input_in_a_room);
  tcase_add_test (tc, test_late_joiner);
  tcase_add_test (tc, test_peer_leaves);
  tcase_add_test (tc, test_leave_while_sinks_paused);
  tcase_add_test (tc, test_peer_killed);
  tcase_add_test (tc, test_rooms_are_apart);
  tcase_add_test (tc, test_max_peers);
  tcase_add_test (tc, test_peer_pads);
  /* 0: gst-mesh-server, 1: examples/rooms-server (Node) */
  tcase_add_loop_test (tc, test_server_restart, 0, 2);
  tcase_add_test (tc, test_join_leave_cycles);
  return s;
}

GST_CHECK_MAIN (rooms);
