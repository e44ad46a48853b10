/* gst-mesh tests: meshsignal calls through the seed's own Node server.
 *
 * Every test here opens peer connections, so the suite runs inside
 * tools/netns-run (the meson test setup does it). The server is the
 * seed's server.ts, unchanged, on its fixed port 4000.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <gst/mesh/gstmesh.h>
#include <gst/webrtc/webrtc.h>
#include <gst/rtp/rtp.h>

#include "meshtest.h"

#define CALL_TIMEOUT_MS 20000

typedef MeshTestCall Call;

static void
call_setup (Call * c)
{
  c->server = mesh_test_seed_server_start ();
  c->url = mesh_test_server_get_url (c->server);
}

/* The same calls with our own server in place of the seed's Node one. */
static void
call_setup_c_server (Call * c)
{
  c->server = mesh_test_c_server_start ();
  c->url = mesh_test_server_get_url (c->server);
}

/* Both sides decode the other's video and audio, and keep doing so. */
static void
assert_media_both_ways (Call * c)
{
  mesh_test_assert_media (c->a, 0, CALL_TIMEOUT_MS, "side A");
  mesh_test_assert_media (c->b, 0, CALL_TIMEOUT_MS, "side B");
}

/* A calls, B waits (unless their properties say otherwise); both play and
 * must then carry media both ways. */
static void
call_start (Call * c, const gchar * props_a, const gchar * props_b)
{
  c->b = mesh_test_call_peer (c, props_b);
  c->a = mesh_test_call_peer (c, props_a);
  mesh_test_pipeline_play (c->b);
  mesh_test_pipeline_play (c->a);
  assert_media_both_ways (c);
}

GST_START_TEST (test_caller_and_waiter_decode_each_other)
{
  Call c = { 0, };

  call_setup (&c);
  call_start (&c, "role=call", NULL);
  fail_unless (mesh_test_pipeline_wait_message (c.a, 0, 1000, "mesh-call",
          "state", "connected") >= 0);
  fail_unless (mesh_test_pipeline_wait_message (c.b, 0, 1000, "mesh-call",
          "state", "connected") >= 0);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* A sink that renders at its time (sync=true) asks the pipeline for the
 * latency upstream of it plus its processing deadline. */
static GstClockTime
sink_latency (MeshTestPipeline * p, const gchar * name)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p->pipeline), name);
  GstQuery *q = gst_query_new_latency ();
  GstClockTime min = GST_CLOCK_TIME_NONE;
  gboolean live = FALSE;

  fail_unless (sink != NULL);
  fail_unless (gst_element_query (sink, q), "%s answered no latency query",
      name);
  gst_query_parse_latency (q, &live, &min, NULL);
  fail_unless (live, "%s is not live", name);
  gst_query_unref (q);
  gst_object_unref (sink);
  return min;
}

/* The ts-offset of every clocksync in @p (webrtcbin's, one per stream
 * sent), or FALSE if there is none. */
static gboolean
clocksync_offsets (MeshTestPipeline * p, GArray * offsets)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (p->pipeline));
  GValue v = G_VALUE_INIT;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    GstElementFactory *f = gst_element_get_factory (e);
    gint64 offset;

    if (f && !g_strcmp0 (GST_OBJECT_NAME (f), "clocksync")) {
      g_object_get (e, "ts-offset", &offset, NULL);
      g_array_append_val (offsets, offset);
    }
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  return offsets->len > 0;
}

/* What sets a call's delay from glass to glass is the pipeline's latency
 * (every sink renders at capture time plus it) and any wait on the way
 * out. Nothing in meshsignal may add to either beyond the jitter buffer:
 * opusdec with in-band FEC claimed 120 ms, the room grid's background a
 * frame, and webrtcbin's clocksync held every outgoing frame for its
 * input's latency (tests/bench/README.md, glass). Here: at the defaults,
 * each sink's latency is the audio jitter buffers' (`latency`, or more
 * once late packets made them grow: stats' `audio-jitter-latency`; the
 * video is shown at the audio's latency, `video-delay=least`) plus the
 * sink's own processing deadline, and each clocksync of a live input
 * waits for nothing (a negative ts-offset that cancels the upstream
 * latency). */
/* The offset of meshsignal's pad @name in @p. */
static gint64
src_offset (MeshTestPipeline * p, const gchar * name)
{
  GstPad *pad = gst_element_get_static_pad (p->mesh, name);
  gint64 offset;

  fail_unless (pad != NULL, "no %s", name);
  offset = gst_pad_get_offset (pad);
  gst_object_unref (pad);
  return offset;
}

/* A call between two pipelines whose sinks sync to the clock, with
 * @sink_props on both sinks; B waits, A calls. */
static void
synced_call_start (Call * c, const gchar * sink_props)
{
  for (gint i = 0; i < 2; i++) {
    gchar *desc = g_strdup_printf ("meshsignal name=m server-url=%s %s "
        "videotestsrc is-live=true ! video/x-raw,width=320,height=240,"
        "framerate=30/1 ! m.video_sink "
        "audiotestsrc is-live=true wave=ticks ! m.audio_sink "
        "m.video_src ! fakesink name=vout sync=true %s "
        "m.audio_src ! fakesink name=aout sync=true %s", c->url,
        i ? "role=call" : "", sink_props, sink_props);

    if (i)
      c->a = mesh_test_pipeline_new (desc);
    else
      c->b = mesh_test_pipeline_new (desc);
    g_free (desc);
  }
  mesh_test_pipeline_play (c->b);
  mesh_test_pipeline_play (c->a);
  assert_media_both_ways (c);
}

GST_START_TEST (test_latency_is_the_jitter_buffer_and_the_sink)
{
  Call c = { 0, };
  guint latency_ms;
  guint64 deadline;
  GArray *offsets = g_array_new (FALSE, FALSE, sizeof (gint64));
  GstElement *sink;

  call_setup (&c);
  synced_call_start (&c, "");

  g_object_get (c.b->mesh, "latency", &latency_ms, NULL);
  fail_unless_equals_int (latency_ms, 10);
  sink = gst_bin_get_by_name (GST_BIN (c.b->pipeline), "vout");
  g_object_get (sink, "processing-deadline", &deadline, NULL);
  gst_object_unref (sink);
  for (gint i = 0; i < 2; i++) {
    MeshTestPipeline *p = i ? c.b : c.a;

    GstClockTime jitter, vout = 0, aout = 0;

    /* A loaded machine delivers some packets late and the jitter buffers
     * grow (gstmeshpeerjitter.c); the pipeline then takes the new latency
     * on its next recalculation. Wait for a reading where both agree. */
    for (gint tries = 0; tries < 50; tries++) {
      jitter = mesh_test_peer_stat_uint (p, "audio-jitter-latency") *
          GST_MSECOND;
      vout = sink_latency (p, "vout");
      aout = sink_latency (p, "aout");
      if (vout == jitter + deadline && aout == jitter + deadline
          && mesh_test_peer_stat_uint (p, "audio-jitter-latency") *
          GST_MSECOND == jitter)
        break;
      g_usleep (100 * 1000);
    }
    fail_unless (jitter >= latency_ms * GST_MSECOND,
        "jitter buffers below `latency`: %" GST_TIME_FORMAT,
        GST_TIME_ARGS (jitter));
    fail_unless_equals_uint64 (vout, jitter + deadline);
    fail_unless_equals_uint64 (aout, jitter + deadline);
    /* the jitter buffers' wait and the sink's deadline overlap by 10 ms
     * (gstmeshoutput.c), the same for audio and video */
    fail_unless_equals_int64 (src_offset (p, "video_src"),
        -10 * GST_MSECOND);
    fail_unless_equals_int64 (src_offset (p, "audio_src"),
        -10 * GST_MSECOND);
    g_array_set_size (offsets, 0);
    fail_unless (clocksync_offsets (p, offsets), "no clocksync in %s: "
        "is this still webrtcbin 1.22?", i ? "B" : "A");
    for (guint j = 0; j < offsets->len; j++)
      fail_unless (g_array_index (offsets, gint64, j) < 0,
          "a clocksync of %s waits for its input's latency (ts-offset %"
          G_GINT64_FORMAT ")", i ? "B" : "A",
          g_array_index (offsets, gint64, j));
  }
  g_array_unref (offsets);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* Sinks that keep no processing deadline beyond what decoding needs:
 * the pads do not run early (a frame the jitter buffer waited for would
 * come late). */
GST_START_TEST (test_no_overlap_without_a_sink_deadline)
{
  Call c = { 0, };

  call_setup (&c);
  synced_call_start (&c, "processing-deadline=0");
  fail_unless_equals_int64 (src_offset (c.b, "video_src"), 0);
  fail_unless_equals_int64 (src_offset (c.b, "audio_src"), 0);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* The first peer's `bandwidth` stats, or NULL (free it). */
static GstStructure *
peer_bandwidth (MeshTestPipeline * p, guint * encoder_kbps)
{
  GstStructure *s = NULL, *b = NULL;
  const GValue *peers;

  g_object_get (p->mesh, "stats", &s, NULL);
  fail_unless (s != NULL);
  gst_structure_get_uint (s, "video-encoder-bitrate", encoder_kbps);
  peers = gst_structure_get_value (s, "peers");
  if (peers && gst_value_array_get_size (peers) > 0) {
    const GstStructure *peer =
        gst_value_get_structure (gst_value_array_get_value (peers, 0));
    const GValue *bv = gst_structure_get_value (peer, "bandwidth");
    if (bv)
      b = gst_structure_copy (gst_value_get_structure (bv));
  }
  gst_structure_free (s);
  return b;
}

/* congestion-control=gcc: each side's packets carry transport-wide
 * sequence numbers, the other side's feedback comes back (as rtpsession
 * parses it) and drives the estimate, and the video encoder follows it:
 * on this clean link, up from start-bitrate towards max-bitrate. */
GST_START_TEST (test_congestion_control_gets_feedback_and_moves_the_encoder)
{
  Call c = { 0, };
  const gchar *props = "congestion-control=gcc start-bitrate=300 "
      "max-bitrate=1500";
  MeshTestPipeline *sides[2];

  call_setup (&c);
  call_start (&c, "role=call congestion-control=gcc start-bitrate=300 "
      "max-bitrate=1500", props);
  sides[0] = c.a;
  sides[1] = c.b;
  for (guint i = 0; i < 2; i++) {
    gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
    GstStructure *b = NULL;
    guint64 feedbacks = 0;
    guint target = 0, encoder = 0;

    /* +8 %/s from 300 kbit/s: past 400 within a few seconds */
    do {
      g_clear_pointer (&b, gst_structure_free);
      g_usleep (250 * 1000);
      b = peer_bandwidth (sides[i], &encoder);
      if (b) {
        gst_structure_get_uint64 (b, "feedbacks", &feedbacks);
        gst_structure_get_uint (b, "target-bitrate", &target);
      }
    } while ((!b || encoder <= 400) && g_get_monotonic_time () < deadline);
    fail_unless (b != NULL, "side %u: no bandwidth stats", i);
    fail_unless (feedbacks > 10, "side %u: %" G_GUINT64_FORMAT " feedback "
        "reports", i, feedbacks);
    fail_unless (encoder > 400 && encoder <= 1500,
        "side %u: the encoder is at %u kbit/s (estimate %u bit/s)", i,
        encoder, target);
    gst_structure_free (b);
  }
  /* and the media goes on */
  mesh_test_assert_media (c.a, 0, CALL_TIMEOUT_MS, "side A");
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* congestion-control=none: no estimate, and the encoder stays at
 * video-bitrate. */
GST_START_TEST (test_no_congestion_control)
{
  Call c = { 0, };
  GstStructure *b;
  guint encoder = 0;

  call_setup (&c);
  call_start (&c, "role=call video-bitrate=700 congestion-control=none",
      "congestion-control=none");
  b = peer_bandwidth (c.a, &encoder);
  fail_unless (b == NULL);
  fail_unless_equals_int (encoder, 700);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* A pipeline with only sink pads sends, one with only source pads
 * receives; both offer and answer say so, and the media goes one way. */
GST_START_TEST (test_send_only_to_receive_only)
{
  Call c = { 0, };
  MeshTestCounter *v, *a;
  GstElement *webrtc;
  GstWebRTCSessionDescription *desc = NULL;
  gchar *sdp, *recv_desc, *send_desc;

  call_setup (&c);
  recv_desc = g_strdup_printf ("meshsignal name=m server-url=%s "
      "m.video_src ! fakesink name=vout async=false "
      "m.audio_src ! fakesink name=aout async=false", c.url);
  send_desc = g_strdup_printf ("meshsignal name=m server-url=%s role=call "
      "videotestsrc is-live=true ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! m.video_sink audiotestsrc is-live=true ! "
      "m.audio_sink", c.url);
  c.b = mesh_test_pipeline_new (recv_desc);
  c.a = mesh_test_pipeline_new (send_desc);
  g_free (recv_desc);
  g_free (send_desc);
  mesh_test_pipeline_play (c.b);
  mesh_test_pipeline_play (c.a);
  fail_unless (mesh_test_pipeline_wait_message (c.b, 0, CALL_TIMEOUT_MS,
          "mesh-first-frame", "media", "video") >= 0);
  fail_unless (mesh_test_pipeline_wait_message (c.b, 0, CALL_TIMEOUT_MS,
          "mesh-first-frame", "media", "audio") >= 0);
  v = mesh_test_count_buffers (c.b, "vout");
  a = mesh_test_count_buffers (c.b, "aout");
  fail_unless (mesh_test_counter_wait (v, 20, 5000));
  fail_unless (mesh_test_counter_wait (a, 20, 5000));
  /* nothing comes back to the sender */
  fail_unless (mesh_test_pipeline_wait_message (c.a, 0, 500,
          "mesh-first-frame", NULL, NULL) < 0);

  webrtc = gst_bin_get_by_name (GST_BIN (c.b->mesh), "call1");
  fail_unless (webrtc != NULL);
  g_object_get (webrtc, "local-description", &desc, NULL);
  sdp = gst_sdp_message_as_text (desc->sdp);
  fail_unless (strstr (sdp, "a=recvonly") != NULL, "answer: %s", sdp);
  fail_if (strstr (sdp, "a=sendrecv") != NULL, "answer: %s", sdp);
  g_free (sdp);
  gst_webrtc_session_description_free (desc);
  gst_object_unref (webrtc);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* rtpbin's internal session of the call's webrtcbin in @p */
static GObject *
call_session (MeshTestPipeline * p)
{
  GstElement *webrtc = gst_bin_get_by_name (GST_BIN (p->mesh), "call1");
  GstElement *rtpbin;
  GObject *session = NULL;

  fail_unless (webrtc != NULL);
  rtpbin = gst_bin_get_by_name (GST_BIN (webrtc), "rtpbin");
  fail_unless (rtpbin != NULL);
  g_signal_emit_by_name (rtpbin, "get-internal-session", 0, &session);
  fail_unless (session != NULL);
  gst_object_unref (rtpbin);
  gst_object_unref (webrtc);
  return session;
}

/* Sender reports per SSRC, counted as RTCP comes in. */
typedef struct
{
  GMutex lock;
  GHashTable *srs;              /* SSRC -> count */
} SrCount;

static void
on_receiving_rtcp (GObject * session, GstBuffer * buffer, SrCount * sr)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  gboolean more;

  if (!gst_rtcp_buffer_map (buffer, GST_MAP_READ, &rtcp))
    return;
  for (more = gst_rtcp_buffer_get_first_packet (&rtcp, &p); more;
      more = gst_rtcp_packet_move_to_next (&p)) {
    guint32 ssrc;

    if (gst_rtcp_packet_get_type (&p) != GST_RTCP_TYPE_SR)
      continue;
    gst_rtcp_packet_sr_get_sender_info (&p, &ssrc, NULL, NULL, NULL, NULL);
    g_mutex_lock (&sr->lock);
    g_hash_table_insert (sr->srs, GUINT_TO_POINTER (ssrc),
        GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (sr->srs,
                    GUINT_TO_POINTER (ssrc))) + 1));
    g_mutex_unlock (&sr->lock);
  }
  gst_rtcp_buffer_unmap (&rtcp);
}

/* A receiver's lip sync maps each stream's RTP time to the sender's clock
 * from its sender reports, two at least. rtpsession's own transport-cc
 * feedback asked for an early RTCP at every video frame, which put the
 * regular one (the only one with an SR) off for 5-7 s at a time: Chromium
 * then synced our audio and video late or never (tests/bench/README.md,
 * glass). Both of the caller's streams report every few seconds at
 * least. */
GST_START_TEST (test_sender_reports_keep_coming)
{
  Call c = { 0, };
  SrCount sr = { 0, };
  GObject *session;
  GHashTableIter it;
  gpointer ssrc, n;
  guint streams = 0;

  g_mutex_init (&sr.lock);
  sr.srs = g_hash_table_new (NULL, NULL);
  call_setup (&c);
  call_start (&c, "role=call", NULL);
  session = call_session (c.b);
  g_signal_connect (session, "on-receiving-rtcp",
      G_CALLBACK (on_receiving_rtcp), &sr);
  g_usleep (6 * G_USEC_PER_SEC);
  g_signal_handlers_disconnect_by_data (session, &sr);

  g_mutex_lock (&sr.lock);
  g_hash_table_iter_init (&it, sr.srs);
  while (g_hash_table_iter_next (&it, &ssrc, &n)) {
    g_print ("meshsignal: %u sender reports in 6 s from SSRC %u\n",
        GPOINTER_TO_UINT (n), GPOINTER_TO_UINT (ssrc));
    fail_unless (GPOINTER_TO_UINT (n) >= 4, "SSRC %u: %u sender reports "
        "in 6 s", GPOINTER_TO_UINT (ssrc), GPOINTER_TO_UINT (n));
    streams++;
  }
  g_mutex_unlock (&sr.lock);
  fail_unless (streams >= 2, "sender reports from %u streams", streams);
  g_object_unref (session);
  mesh_test_call_teardown (&c);
  g_hash_table_unref (sr.srs);
  g_mutex_clear (&sr.lock);
}

GST_END_TEST;

/* Keyframe requests that reached the sender, and how many came in a
 * reduced-size RTCP packet (a compound without SR or RR first: ours). */
typedef struct
{
  gint plis, reduced;
} PliCount;

static void
on_receiving_pli (GObject * session, GstBuffer * buffer, PliCount * c)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  gboolean more, first = TRUE, reduced = FALSE;

  if (!gst_rtcp_buffer_map (buffer, GST_MAP_READ, &rtcp))
    return;
  for (more = gst_rtcp_buffer_get_first_packet (&rtcp, &p); more;
      more = gst_rtcp_packet_move_to_next (&p), first = FALSE) {
    GstRTCPType type = gst_rtcp_packet_get_type (&p);

    if (first)
      reduced = type != GST_RTCP_TYPE_SR && type != GST_RTCP_TYPE_RR;
    if (type == GST_RTCP_TYPE_PSFB &&
        gst_rtcp_packet_fb_get_type (&p) == GST_RTCP_PSFB_TYPE_PLI) {
      g_atomic_int_inc (&c->plis);
      if (reduced)
        g_atomic_int_inc (&c->reduced);
    }
  }
  gst_rtcp_buffer_unmap (&rtcp);
}

/* A decoder that asks for a keyframe (the application's sink here) has
 * it asked of the sender in a PLI of our own, reduced-size RTCP, as the
 * NACKs: rtpsession's would wait for AVPF's one early RTCP per regular
 * interval, now a second (gstmeshpeernack.c). Requests close together
 * make one PLI. */
GST_START_TEST (test_keyframe_request_goes_at_once)
{
  Call c = { 0, };
  PliCount count = { 0, };
  GObject *session;
  GstElement *vout;
  GstPad *pad;
  gint64 end;

  call_setup (&c);
  call_start (&c, "role=call", NULL);
  session = call_session (c.a);
  g_signal_connect (session, "on-receiving-rtcp",
      G_CALLBACK (on_receiving_pli), &count);
  g_usleep (G_USEC_PER_SEC);    /* the receiver's first RTCP has gone */
  vout = gst_bin_get_by_name (GST_BIN (c.b->pipeline), "vout");
  pad = gst_element_get_static_pad (vout, "sink");
  for (gint i = 0; i < 3; i++)
    gst_pad_push_event (pad,
        gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
            TRUE, 0));
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!g_atomic_int_get (&count.plis) && g_get_monotonic_time () < end)
    g_usleep (10000);
  g_usleep (100000);            /* any more that were coming */
  g_signal_handlers_disconnect_by_data (session, &count);
  g_print ("meshsignal: %d PLI(s) for 3 requests, %d in reduced-size RTCP\n",
      count.plis, count.reduced);
  fail_unless_equals_int (count.plis, 1);
  fail_unless_equals_int (count.reduced, 1);
  /* B's own, not rtpsession's */
  fail_unless_equals_int (mesh_test_peer_stat_uint64 (c.b, "plis-sent"), 1);
  gst_object_unref (pad);
  gst_object_unref (vout);
  g_object_unref (session);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* The caller's first offers reach nobody; it sends them again until the
 * late peer answers. */
GST_START_TEST (test_caller_started_first)
{
  Call c = { 0, };

  call_setup (&c);
  c.a = mesh_test_call_peer (&c, "role=call offer-interval=500");
  mesh_test_pipeline_play (c.a);
  fail_unless (mesh_test_pipeline_wait_message (c.a, 0, CALL_TIMEOUT_MS,
          "mesh-call", "state", "calling") >= 0);
  g_usleep (1200 * 1000);
  c.b = mesh_test_call_peer (&c, NULL);
  mesh_test_pipeline_play (c.b);
  assert_media_both_ways (&c);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

GST_START_TEST (test_waiter_started_first)
{
  Call c = { 0, };

  call_setup (&c);
  c.b = mesh_test_call_peer (&c, NULL);
  mesh_test_pipeline_play (c.b);
  fail_unless (mesh_test_pipeline_wait_message (c.b, 0, CALL_TIMEOUT_MS,
          "mesh-signalling", "state", "connected") >= 0);
  g_usleep (500 * 1000);
  c.a = mesh_test_call_peer (&c, "role=call");
  mesh_test_pipeline_play (c.a);
  assert_media_both_ways (&c);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* Both call at once: the larger SDP session id wins on both sides, so
 * they end up in one call, not two half-calls. */
GST_START_TEST (test_both_calling_end_in_one_call)
{
  Call c = { 0, };

  call_setup (&c);
  c.a = mesh_test_call_peer (&c, "role=call");
  c.b = mesh_test_call_peer (&c, "role=call");
  mesh_test_pipeline_play (c.a);
  mesh_test_pipeline_play (c.b);
  assert_media_both_ways (&c);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* A new offer mid-call (the seed's page pressing Call again) replaces the
 * call; the pipeline keeps running and the new call carries media. */
GST_START_TEST (test_second_offer_replaces_call)
{
  Call c = { 0, };
  guint mark;

  call_setup (&c);
  call_start (&c, "role=call", NULL);

  /* the caller starts over: a new peer connection and a new offer */
  mark = mesh_test_pipeline_n_messages (c.b);
  gst_element_set_state (c.a->pipeline, GST_STATE_NULL);
  mesh_test_pipeline_free (c.a);
  c.a = mesh_test_call_peer (&c, "role=call");
  mesh_test_pipeline_play (c.a);

  fail_unless (mesh_test_pipeline_wait_message (c.b, mark, CALL_TIMEOUT_MS,
          "mesh-call", "reason", "replaced by a new offer") >= 0,
      "the waiting side did not replace its call");
  fail_unless (mesh_test_pipeline_wait_message (c.b, mark, CALL_TIMEOUT_MS,
          "mesh-call", "state", "connected") >= 0);
  fail_unless (mesh_test_pipeline_wait_message (c.b, mark, CALL_TIMEOUT_MS,
          "mesh-first-frame", "media", "video") >= 0,
      "no video in the new call");
  assert_media_both_ways (&c);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

static void
emit_json (GstMeshSioClient * client, const gchar * event, const gchar * json)
{
  JsonNode *node = json_from_string (json, NULL);
  JsonArray *args = json_array_new ();

  fail_unless (node != NULL, "bad test JSON %s", json);
  json_array_add_element (args, node);
  gst_mesh_sio_client_emit (client, event, args);
  json_array_unref (args);
}

static gboolean
iterate_until_connected (GstMeshSioClient * client, GMainContext * ctx)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (gst_mesh_sio_client_get_state (client) !=
      GST_MESH_SIO_CLIENT_STATE_CONNECTED) {
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_main_context_iteration (ctx, FALSE);
    g_usleep (1000);
  }
  return TRUE;
}

/* A stranger on the server sends broken offers, answers and candidates:
 * both sides warn, naming what was wrong, and the call goes on. */
GST_START_TEST (test_malformed_messages_do_not_stop_the_call)
{
  Call c = { 0, };
  GMainContext *ctx = g_main_context_new ();
  GstMeshSioClient *stranger;
  static const struct
  {
    const gchar *event;
    const gchar *json;
    const gchar *expect;
  } bad[] = {
    {"offer", "\"just a string\"", "payload must be an object"},
    {"offer", "{\"type\":\"offer\"}", "\"sdp\" must be a string"},
    {"offer", "{\"type\":\"answer\",\"sdp\":\"v=0\"}", "expected \"offer\""},
    {"offer", "{\"type\":\"offer\",\"sdp\":\"hello\"}", "v=0"},
    {"answer", "{\"type\":\"answer\",\"sdp\":42}", "must be a string"},
    {"candidate", "{\"candidate\":17}", "must be a string"},
    {"candidate", "{\"candidate\":\"bogus\",\"sdpMLineIndex\":0}",
        "does not start with"},
    {"candidate", "{\"candidate\":\"candidate:1 1 UDP 1 1.2.3.4 5 typ host\","
          "\"sdpMLineIndex\":\"zero\"}", "must be an integer"},
    {"candidate", "[1,2,3]", "payload must be an object"},
  };

  call_setup (&c);
  call_start (&c, "role=call", NULL);

  g_main_context_push_thread_default (ctx);
  stranger = gst_mesh_sio_client_new (c.url, NULL);
  gst_mesh_sio_client_connect (stranger);
  fail_unless (iterate_until_connected (stranger, ctx));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    emit_json (stranger, bad[i].event, bad[i].json);
  for (gint i = 0; i < 200; i++) {
    g_main_context_iteration (ctx, FALSE);
    g_usleep (1000);
  }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
    while (!mesh_test_pipeline_has_warning (c.b, bad[i].expect) &&
        g_get_monotonic_time () < deadline)
      g_usleep (10 * 1000);
    fail_unless (mesh_test_pipeline_has_warning (c.b, bad[i].expect),
        "no warning naming '%s' for %s %s", bad[i].expect, bad[i].event,
        bad[i].json);
  }
  /* the call itself is untouched */
  fail_unless (mesh_test_pipeline_wait_message (c.b, 0, 100, "mesh-call",
          "state", "ended") < 0);
  assert_media_both_ways (&c);

  gst_mesh_sio_client_disconnect (stranger);
  g_object_unref (stranger);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

static gint
gst_mesh_test_call_state (MeshTestPipeline * p)
{
  gint state;
  g_object_get (p->mesh, "call-state", &state, NULL);
  return state;
}

static guint
count_webrtcbins (GstElement * mesh)
{
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (mesh));
  GValue item = G_VALUE_INIT;
  guint n = 0;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);
    GstElementFactory *f = gst_element_get_factory (e);
    if (f && !g_strcmp0 (GST_OBJECT_NAME (f), "webrtcbin"))
      n++;
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return n;
}

/* How many recorded mesh-call messages of @p give @reason. */
static guint
count_call_reasons (MeshTestPipeline * p, const gchar * reason)
{
  guint n = 0;
  gint i = -1;

  while ((i = mesh_test_pipeline_wait_message (p, i + 1, 0, "mesh-call",
              "reason", reason)) >= 0)
    n++;
  return n;
}

/* A video offer as webrtcbin makes it, with no candidates. */
static GstSDPMessage *
make_offer (void)
{
  GstElement *webrtc = gst_element_factory_make ("webrtcbin", NULL);
  GstCaps *caps = gst_caps_from_string ("application/x-rtp,media=video,"
      "encoding-name=VP8,payload=96,clock-rate=90000");
  GstWebRTCRTPTransceiver *trans = NULL;
  GstWebRTCSessionDescription *offer = NULL;
  GstPromise *promise = gst_promise_new ();
  GstSDPMessage *sdp;

  gst_element_set_state (webrtc, GST_STATE_READY);
  g_signal_emit_by_name (webrtc, "add-transceiver",
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, caps, &trans);
  g_signal_emit_by_name (webrtc, "create-offer", NULL, promise);
  fail_unless (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED);
  gst_structure_get (gst_promise_get_reply (promise), "offer",
      GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  fail_unless (offer != NULL, "webrtcbin made no offer");
  gst_sdp_message_copy (offer->sdp, &sdp);
  gst_webrtc_session_description_free (offer);
  gst_promise_unref (promise);
  gst_object_unref (trans);
  gst_caps_unref (caps);
  gst_element_set_state (webrtc, GST_STATE_NULL);
  gst_object_unref (webrtc);
  return sdp;
}

/* Offers in a burst, each a new session: each replaces the call before,
 * often while webrtcbin still has the last one's description to set or
 * answer to make. webrtcbin 1.22 drops those unrun when it stops, and
 * with them the promises; freed unanswered, a promise is a critical
 * (seen once in faults' network cut). Then a real call still works. */
GST_START_TEST (test_offers_in_a_burst_replace_each_other)
{
  Call c = { 0, };
  GMainContext *ctx = g_main_context_new ();
  GstMeshSioClient *stranger;
  GstSDPMessage *sdp;
  const guint n = 40;
  guint mark;

  call_setup (&c);
  c.b = mesh_test_call_peer (&c, NULL);
  mesh_test_pipeline_play (c.b);
  /* after our plugin has loaded: its OpenSSL initialisation must be the
   * first (gst_mesh_media_init_openssl), or this process crashes in
   * OpenSSL's exit handler while pool threads end */
  sdp = make_offer ();

  g_main_context_push_thread_default (ctx);
  stranger = gst_mesh_sio_client_new (c.url, NULL);
  gst_mesh_sio_client_connect (stranger);
  fail_unless (iterate_until_connected (stranger, ctx));
  for (guint i = 0; i < n; i++) {
    gchar *id = g_strdup_printf ("%u", 1000 + i);
    gchar *text;
    JsonArray *args;

    gst_sdp_message_set_origin (sdp, "-", id, "0", "IN", "IP4", "127.0.0.1");
    text = gst_sdp_message_as_text (sdp);
    args = gst_mesh_signal_description_args (GST_MESH_SIGNAL_OFFER, text, NULL);
    gst_mesh_sio_client_emit (stranger, "offer", args);
    json_array_unref (args);
    g_free (text);
    g_free (id);
    /* a few milliseconds apart: inside webrtcbin's work on the last one */
    for (gint k = 0; k < 3; k++) {
      g_main_context_iteration (ctx, FALSE);
      g_usleep (1000);
    }
  }
  gst_sdp_message_free (sdp);

  /* every offer but the first replaced a call */
  {
    gint64 deadline = g_get_monotonic_time () + CALL_TIMEOUT_MS * 1000;
    while (count_call_reasons (c.b, "replaced by a new offer") < n - 1 &&
        g_get_monotonic_time () < deadline) {
      g_main_context_iteration (ctx, FALSE);
      g_usleep (10 * 1000);
    }
  }
  fail_unless_equals_int (count_call_reasons (c.b, "replaced by a new offer"),
      n - 1);
  fail_unless (count_webrtcbins (c.b->mesh) <= 1);

  gst_mesh_sio_client_disconnect (stranger);
  g_object_unref (stranger);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);

  /* the burst is over: a real caller gets a call with media */
  mark = mesh_test_pipeline_n_messages (c.b);
  c.a = mesh_test_call_peer (&c, "role=call");
  mesh_test_pipeline_play (c.a);
  mesh_test_assert_media (c.a, 0, CALL_TIMEOUT_MS, "side A");
  mesh_test_assert_media (c.b, mark, CALL_TIMEOUT_MS, "side B");
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* The seed's server says nothing when a peer leaves: the call must end
 * from what the peer connection shows, within peer-timeout plus the
 * watchdog's period, and leave nothing of itself behind. */
GST_START_TEST (test_peer_leaving_ends_the_call)
{
  Call c = { 0, };
  gint64 left;
  gint ended;

  call_setup (&c);
  call_start (&c, "role=call", "peer-timeout=2000");
  fail_unless_equals_int (count_webrtcbins (c.b->mesh), 1);

  left = g_get_monotonic_time ();
  mesh_test_pipeline_free (c.a);
  c.a = NULL;
  ended = mesh_test_pipeline_wait_message (c.b, 0, 10000, "mesh-call",
      "state", "ended");
  fail_unless (ended >= 0, "the call did not end after the peer left");
  GST_INFO ("call ended %" G_GINT64_FORMAT " ms after the peer left",
      (g_get_monotonic_time () - left) / 1000);
  /* 2000 ms of silence, a 250 ms watchdog, and slack for a slow machine */
  fail_unless ((g_get_monotonic_time () - left) / 1000 < 5000,
      "ending took %" G_GINT64_FORMAT " ms",
      (g_get_monotonic_time () - left) / 1000);
  fail_unless_equals_int (count_webrtcbins (c.b->mesh), 0);
  fail_unless_equals_int (gst_mesh_test_call_state (c.b), 0);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

GST_START_TEST (test_call_through_gst_mesh_server)
{
  Call c = { 0, };

  call_setup_c_server (&c);
  call_start (&c, "role=call", NULL);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* One pipeline hosts the server itself; the other calls through it. No
 * Node, no separate process. */
GST_START_TEST (test_in_process_server)
{
  Call c = { 0, };

  c.url = g_strdup ("http://127.0.0.1:4000");
  c.a = mesh_test_call_peer (&c, "host-server=true role=call");
  mesh_test_pipeline_play (c.a);
  fail_unless (mesh_test_pipeline_wait_message (c.a, 0, CALL_TIMEOUT_MS,
          "mesh-signalling", "state", "connected") >= 0,
      "the hosting pipeline did not reach its own server");
  c.b = mesh_test_call_peer (&c, NULL);
  mesh_test_pipeline_play (c.b);
  assert_media_both_ways (&c);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* A remote peer made of a bare webrtcbin, driven by the test, so that it
 * can send its messages in an order no meshsignal would. */
typedef struct
{
  GstElement *pipeline;
  GstElement *webrtc;
  GMutex lock;
  GPtrArray *candidates;        /* "mline candidate" strings */
  gchar *answer;
} RawPeer;

static void
raw_on_candidate (GstElement * w, guint mline, gchar * cand, RawPeer * r)
{
  g_mutex_lock (&r->lock);
  g_ptr_array_add (r->candidates, g_strdup_printf ("%u %s", mline, cand));
  g_mutex_unlock (&r->lock);
}

static void
raw_on_event (GstMeshSioClient * client, const gchar * name, JsonArray * args,
    gint64 ack, RawPeer * r)
{
  JsonObject *o;

  if (g_strcmp0 (name, "answer") || json_array_get_length (args) < 1)
    return;
  o = json_array_get_object_element (args, 0);
  g_mutex_lock (&r->lock);
  g_free (r->answer);
  r->answer = g_strdup (json_object_get_string_member (o, "sdp"));
  g_mutex_unlock (&r->lock);
}

static GstWebRTCSessionDescription *
raw_wait_promise (GstPromise * promise, const gchar * field)
{
  GstWebRTCSessionDescription *desc = NULL;

  fail_unless (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED);
  gst_structure_get (gst_promise_get_reply (promise), field,
      GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
  gst_promise_unref (promise);
  fail_unless (desc != NULL);
  return desc;
}

static void
iterate_for (GMainContext * ctx, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < end) {
    g_main_context_iteration (ctx, FALSE);
    g_usleep (1000);
  }
}

/* A Socket.IO client on @url (connected, its answers into @r) and @r's
 * bare webrtcbin sending VP8, playing; with @ctx as the thread default. */
static GstMeshSioClient *
raw_peer_start (RawPeer * r, const gchar * url, GMainContext * ctx)
{
  GstMeshSioClient *client = gst_mesh_sio_client_new (url, NULL);

  g_signal_connect (client, "event", G_CALLBACK (raw_on_event), r);
  gst_mesh_sio_client_connect (client);
  fail_unless (iterate_until_connected (client, ctx));
  g_mutex_init (&r->lock);
  r->pipeline = gst_parse_launch ("webrtcbin name=w bundle-policy=max-bundle "
      "videotestsrc is-live=true ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! vp8enc deadline=1 ! rtpvp8pay pt=96 ! "
      "application/x-rtp,media=video,encoding-name=VP8,payload=96,"
      "clock-rate=90000 ! w.", NULL);
  fail_unless (r->pipeline != NULL);
  r->webrtc = gst_bin_get_by_name (GST_BIN (r->pipeline), "w");
  gst_element_set_state (r->pipeline, GST_STATE_PLAYING);
  return client;
}

/* Sends @offer_text as the seed's offer event and waits (10 s at most)
 * for meshsignal's answer in @r. */
static void
raw_offer_and_wait_answer (RawPeer * r, GstMeshSioClient * client,
    GMainContext * ctx, const gchar * offer_text)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *node;
  gchar *json;
  gint64 deadline;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "offer");
  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, offer_text);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  json = json_to_string (node, FALSE);
  emit_json (client, "offer", json);
  g_free (json);
  json_node_unref (node);
  g_object_unref (b);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!r->answer && g_get_monotonic_time () < deadline)
    iterate_for (ctx, 10);
  fail_unless (r->answer != NULL, "no answer to the offer");
}

/* Every candidate of the caller arrives before its offer, which carries
 * none; the caller never learns meshsignal's candidates either. The call
 * can only connect if meshsignal kept the early candidates for the
 * offer. */
GST_START_TEST (test_candidates_before_offer_are_kept)
{
  Call c = { 0, };
  RawPeer r = { 0, };
  GMainContext *ctx = g_main_context_new ();
  GstMeshSioClient *client;
  GstWebRTCSessionDescription *offer, *answer;
  GstWebRTCRTPTransceiver *trans = NULL;
  GstWebRTCICEGatheringState gathering = 0;
  GstSDPMessage *sdp;
  gchar *offer_text;
  gint64 deadline;

  call_setup (&c);
  c.b = mesh_test_call_peer (&c, NULL);
  mesh_test_pipeline_play (c.b);
  fail_unless (mesh_test_pipeline_wait_message (c.b, 0, CALL_TIMEOUT_MS,
          "mesh-signalling", "state", "connected") >= 0);

  g_main_context_push_thread_default (ctx);
  client = raw_peer_start (&r, c.url, ctx);
  r.candidates = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (r.webrtc, "on-ice-candidate",
      G_CALLBACK (raw_on_candidate), &r);
  g_signal_emit_by_name (r.webrtc, "get-transceiver", 0, &trans);
  if (trans) {
    g_object_set (trans, "direction",
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, NULL);
    gst_object_unref (trans);
  }

  {
    GstPromise *p = gst_promise_new ();
    g_signal_emit_by_name (r.webrtc, "create-offer", NULL, p);
    offer = raw_wait_promise (p, "offer");
  }
  /* the text of the offer as made: no candidates in it */
  offer_text = gst_sdp_message_as_text (offer->sdp);
  fail_if (strstr (offer_text, "a=candidate") != NULL);
  g_signal_emit_by_name (r.webrtc, "set-local-description", offer, NULL);
  gst_webrtc_session_description_free (offer);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (gathering != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE &&
      g_get_monotonic_time () < deadline) {
    g_object_get (r.webrtc, "ice-gathering-state", &gathering, NULL);
    iterate_for (ctx, 10);
  }
  g_mutex_lock (&r.lock);
  fail_unless (r.candidates->len > 0, "the raw peer gathered nothing");
  for (guint i = 0; i < r.candidates->len; i++) {
    gchar **parts = g_strsplit (g_ptr_array_index (r.candidates, i), " ", 2);
    gchar *json = g_strdup_printf ("{\"candidate\":\"%s\",\"sdpMid\":null,"
        "\"sdpMLineIndex\":%s}", parts[1], parts[0]);
    emit_json (client, "candidate", json);
    g_free (json);
    g_strfreev (parts);
  }
  g_mutex_unlock (&r.lock);
  /* let them all arrive, well before the offer */
  iterate_for (ctx, 500);
  raw_offer_and_wait_answer (&r, client, ctx, offer_text);
  gst_sdp_message_new_from_text (r.answer, &sdp);
  answer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER,
      sdp);
  g_signal_emit_by_name (r.webrtc, "set-remote-description", answer, NULL);
  gst_webrtc_session_description_free (answer);

  fail_unless (mesh_test_pipeline_wait_message (c.b, 0, CALL_TIMEOUT_MS,
          "mesh-first-frame", "media", "video") >= 0,
      "no video: the early candidates were lost");

  gst_element_set_state (r.pipeline, GST_STATE_NULL);
  gst_object_unref (r.webrtc);
  gst_object_unref (r.pipeline);
  g_ptr_array_unref (r.candidates);
  g_free (r.answer);
  g_free (offer_text);
  gst_mesh_sio_client_disconnect (client);
  g_object_unref (client);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* What meshsignal answers to a bare webrtcbin's video offer with ULPFEC
 * and RED in it (as a browser's has), the offer naming gst-mesh as its
 * tool or not. */
static gchar *
answer_to_fec_offer (Call * c, gboolean ours)
{
  RawPeer r = { 0, };
  GMainContext *ctx = g_main_context_new ();
  GstMeshSioClient *client;
  GstWebRTCSessionDescription *offer;
  GstWebRTCRTPTransceiver *trans = NULL;
  gchar *offer_text, *answer;

  g_main_context_push_thread_default (ctx);
  client = raw_peer_start (&r, c->url, ctx);
  g_signal_emit_by_name (r.webrtc, "get-transceiver", 0, &trans);
  fail_unless (trans != NULL);
  g_object_set (trans, "fec-type", GST_WEBRTC_FEC_TYPE_ULP_RED, NULL);
  gst_object_unref (trans);
  {
    GstPromise *p = gst_promise_new ();
    g_signal_emit_by_name (r.webrtc, "create-offer", NULL, p);
    offer = raw_wait_promise (p, "offer");
  }
  if (ours)
    gst_sdp_message_add_attribute (offer->sdp, "tool", "gst-mesh");
  offer_text = gst_sdp_message_as_text (offer->sdp);
  fail_unless (strstr (offer_text, "ulpfec/90000") != NULL, "no ULPFEC in "
      "the raw offer:\n%s", offer_text);
  gst_webrtc_session_description_free (offer);
  raw_offer_and_wait_answer (&r, client, ctx, offer_text);
  answer = r.answer;

  gst_element_set_state (r.pipeline, GST_STATE_NULL);
  gst_object_unref (r.webrtc);
  gst_object_unref (r.pipeline);
  g_free (offer_text);
  gst_mesh_sio_client_disconnect (client);
  g_object_unref (client);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
  return answer;
}

/* fec=true takes ULPFEC/RED from an offer of ours only: a browser's FEC
 * and webrtcbin's do not rebuild each other's packets (gstmeshpeerbwe.c),
 * and Chromium sending us its own cost frames under loss. Our answers
 * name the tool either way. */
GST_START_TEST (test_fec_only_with_our_own_offers)
{
  Call c = { 0, };
  gchar *answer;

  call_setup (&c);
  c.b = mesh_test_call_peer (&c, "fec=true");
  mesh_test_pipeline_play (c.b);
  fail_unless (mesh_test_pipeline_wait_message (c.b, 0, CALL_TIMEOUT_MS,
          "mesh-signalling", "state", "connected") >= 0);

  answer = answer_to_fec_offer (&c, FALSE);
  fail_unless (strstr (answer, "a=tool:gst-mesh") != NULL, "%s", answer);
  fail_unless (strstr (answer, "ulpfec") == NULL && strstr (answer, "red/")
      == NULL, "FEC in the answer to an offer not ours:\n%s", answer);
  g_free (answer);

  answer = answer_to_fec_offer (&c, TRUE);
  fail_unless (strstr (answer, "ulpfec/90000") != NULL &&
      strstr (answer, "red/90000") != NULL, "no FEC in the answer to an "
      "offer of ours:\n%s", answer);
  g_free (answer);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Encoder choice                                                           */

/* A "hardware" VP8 encoder for the test: a bin around vp8enc whose
 * metadata says Codec/Encoder/Video/Hardware, with a `bitrate` in kbit/s
 * as GStreamer's hardware encoders have. The element does not know it by
 * name and must prefer it to vp8enc all the same. */
typedef struct
{
  GstBin parent;
  GstElement *vp8enc;
  guint bitrate;
} TestHwEnc;
typedef GstBinClass TestHwEncClass;

GType test_hw_enc_get_type (void);
G_DEFINE_TYPE (TestHwEnc, test_hw_enc, GST_TYPE_BIN);

static GstStaticPadTemplate hw_sink = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw"));
static GstStaticPadTemplate hw_src = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-vp8"));

static void
test_hw_enc_set_property (GObject * o, guint id, const GValue * v,
    GParamSpec * pspec)
{
  TestHwEnc *e = (TestHwEnc *) o;

  e->bitrate = g_value_get_uint (v);
  g_object_set (e->vp8enc, "target-bitrate", (gint) e->bitrate * 1000, NULL);
}

static void
test_hw_enc_get_property (GObject * o, guint id, GValue * v,
    GParamSpec * pspec)
{
  g_value_set_uint (v, ((TestHwEnc *) o)->bitrate);
}

static void
test_hw_enc_class_init (TestHwEncClass * klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);

  oc->set_property = test_hw_enc_set_property;
  oc->get_property = test_hw_enc_get_property;
  g_object_class_install_property (oc, 1, g_param_spec_uint ("bitrate",
          "Bitrate", "kbit/s", 0, 100000, 0, G_PARAM_READWRITE));
  gst_element_class_add_static_pad_template (GST_ELEMENT_CLASS (klass),
      &hw_sink);
  gst_element_class_add_static_pad_template (GST_ELEMENT_CLASS (klass),
      &hw_src);
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass),
      "Test hardware VP8 encoder", "Codec/Encoder/Video/Hardware",
      "vp8enc dressed as hardware", "gst-mesh tests");
}

/* A real-time vp8enc inside @bin, behind ghost pads; returns it */
static GstElement *
dress_vp8enc (GstElement * bin)
{
  GstElement *vp8enc = gst_element_factory_make ("vp8enc", NULL);
  GstPad *pad;

  g_object_set (vp8enc, "deadline", (gint64) 1, NULL);
  gst_bin_add (GST_BIN (bin), vp8enc);
  pad = gst_element_get_static_pad (vp8enc, "sink");
  gst_element_add_pad (bin, gst_ghost_pad_new_from_template
      ("sink", pad, gst_static_pad_template_get (&hw_sink)));
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (vp8enc, "src");
  gst_element_add_pad (bin, gst_ghost_pad_new_from_template
      ("src", pad, gst_static_pad_template_get (&hw_src)));
  gst_object_unref (pad);
  return vp8enc;
}

static void
test_hw_enc_init (TestHwEnc * e)
{
  e->vp8enc = dress_vp8enc (GST_ELEMENT (e));
}

/* "encoding=factory" for each encoder-setup, and the video encoders */
static void
on_encoder_setup (GstElement * mesh, const gchar * encoding,
    GstElement * encoder, GPtrArray * seen)
{
  GstElementFactory *f = gst_element_get_factory (encoder);

  g_ptr_array_add (seen, g_strdup_printf ("%s=%s", encoding,
          GST_OBJECT_NAME (f)));
  if (!strcmp (encoding, "video"))
    g_object_set_data_full (G_OBJECT (mesh), "test-video-encoder",
        gst_object_ref (encoder), gst_object_unref);
  /* the application's word comes last */
  if (!strcmp (GST_OBJECT_NAME (f), "vp8enc"))
    g_object_set (encoder, "cpu-used", 4, NULL);
}

static gboolean
seen_has (GPtrArray * seen, const gchar * what)
{
  for (guint i = 0; i < seen->len; i++)
    if (!strcmp (g_ptr_array_index (seen, i), what))
      return TRUE;
  return FALSE;
}

/* A calls B with the given properties; each side's encoder-setup goes
 * to its list. Returns once media flows both ways. */
static void
encoder_call_start (Call * c, const gchar * props_a, const gchar * props_b,
    GPtrArray * seen_a, GPtrArray * seen_b)
{
  call_setup (c);
  c->b = mesh_test_call_peer (c, props_b);
  c->a = mesh_test_call_peer (c, props_a);
  g_signal_connect (c->a->mesh, "encoder-setup",
      G_CALLBACK (on_encoder_setup), seen_a);
  g_signal_connect (c->b->mesh, "encoder-setup",
      G_CALLBACK (on_encoder_setup), seen_b);
  mesh_test_pipeline_play (c->b);
  mesh_test_pipeline_play (c->a);
  assert_media_both_ways (c);
}

/* The element finds the encoders for its codec: hardware first (here a
 * test element it does not know by name), the one video-encoder names
 * otherwise; either carries the call, encoder-setup shows it to the
 * application, whose settings stay. */
GST_START_TEST (test_video_encoder_hardware_first_or_as_named)
{
  Call c = { 0, };
  GPtrArray *seen_a = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *seen_b = g_ptr_array_new_with_free_func (g_free);
  GstElement *enc;
  guint kbps = 0;
  gint cpu_used = 0;

  fail_unless (gst_element_register (NULL, "meshtesthwvp8enc",
          GST_RANK_PRIMARY, test_hw_enc_get_type ()));
  encoder_call_start (&c, "role=call", "video-encoder=vp8enc", seen_a,
      seen_b);

  fail_unless (seen_has (seen_a, "video=meshtesthwvp8enc"),
      "A did not take the hardware encoder");
  fail_unless (seen_has (seen_a, "audio=opusenc"));
  fail_unless (seen_has (seen_b, "video=vp8enc"), "B did not take vp8enc");
  /* the bitrate went to the unknown encoder's `bitrate`, in kbit/s */
  enc = g_object_get_data (G_OBJECT (c.a->mesh), "test-video-encoder");
  fail_unless (enc != NULL);
  g_object_get (enc, "bitrate", &kbps, NULL);
  fail_unless (kbps >= 100 && kbps <= 5000, "hardware encoder at %u kbit/s",
      kbps);
  /* B's handler set cpu-used 4 over the element's 8, and it stayed */
  enc = g_object_get_data (G_OBJECT (c.b->mesh), "test-video-encoder");
  fail_unless (enc != NULL);
  g_object_get (enc, "cpu-used", &cpu_used, NULL);
  fail_unless_equals_int (cpu_used, 4);

  mesh_test_call_teardown (&c);
  g_ptr_array_unref (seen_a);
  g_ptr_array_unref (seen_b);
}

GST_END_TEST;

/* A v4l2 memory-to-memory encoder for the test, named as GStreamer's is
 * (v4l2vp8enc): vp8enc inside, its rate taken from the V4L2 control
 * video_bitrate in an `extra-controls` structure, as the real one takes
 * it. The element knows v4l2 encoders by name and sets their controls. */
typedef struct
{
  GstBin parent;
  GstElement *vp8enc;
  GstStructure *controls;
  guint updates;                /* times extra-controls was set */
} TestV4l2Enc;
typedef GstBinClass TestV4l2EncClass;

GType test_v4l2_enc_get_type (void);
G_DEFINE_TYPE (TestV4l2Enc, test_v4l2_enc, GST_TYPE_BIN);

static void
test_v4l2_enc_set_property (GObject * o, guint id, const GValue * v,
    GParamSpec * pspec)
{
  TestV4l2Enc *e = (TestV4l2Enc *) o;
  const GstStructure *s = gst_value_get_structure (v);
  gint bps;

  GST_OBJECT_LOCK (e);
  g_clear_pointer (&e->controls, gst_structure_free);
  e->controls = s ? gst_structure_copy (s) : NULL;
  e->updates++;
  GST_OBJECT_UNLOCK (e);
  if (s && gst_structure_get_int (s, "video_bitrate", &bps))
    g_object_set (e->vp8enc, "target-bitrate", bps, NULL);
}

static void
test_v4l2_enc_get_property (GObject * o, guint id, GValue * v,
    GParamSpec * pspec)
{
  TestV4l2Enc *e = (TestV4l2Enc *) o;

  GST_OBJECT_LOCK (e);
  gst_value_set_structure (v, e->controls);
  GST_OBJECT_UNLOCK (e);
}

static void
test_v4l2_enc_finalize (GObject * o)
{
  g_clear_pointer (&((TestV4l2Enc *) o)->controls, gst_structure_free);
  G_OBJECT_CLASS (test_v4l2_enc_parent_class)->finalize (o);
}

static void
test_v4l2_enc_class_init (TestV4l2EncClass * klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);

  oc->set_property = test_v4l2_enc_set_property;
  oc->get_property = test_v4l2_enc_get_property;
  oc->finalize = test_v4l2_enc_finalize;
  g_object_class_install_property (oc, 1, g_param_spec_boxed
      ("extra-controls", "Extra controls", "V4L2 controls",
          GST_TYPE_STRUCTURE, G_PARAM_READWRITE));
  gst_element_class_add_static_pad_template (GST_ELEMENT_CLASS (klass),
      &hw_sink);
  gst_element_class_add_static_pad_template (GST_ELEMENT_CLASS (klass),
      &hw_src);
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass),
      "Test V4L2 VP8 encoder", "Codec/Encoder/Video/Hardware",
      "vp8enc dressed as a v4l2 encoder", "gst-mesh tests");
}

static void
test_v4l2_enc_init (TestV4l2Enc * e)
{
  e->vp8enc = dress_vp8enc (GST_ELEMENT (e));
}

/* A v4l2 encoder gets its rate and real-time settings as V4L2 controls,
 * merged into one extra-controls structure, and carries the call. */
GST_START_TEST (test_video_encoder_v4l2_controls)
{
  Call c = { 0, };
  GPtrArray *seen_a = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *seen_b = g_ptr_array_new_with_free_func (g_free);
  TestV4l2Enc *enc;
  gint bps = 0, mode = -1;

  fail_unless (gst_element_register (NULL, "v4l2vp8enc", GST_RANK_PRIMARY + 1,
          test_v4l2_enc_get_type ()));
  encoder_call_start (&c, "role=call", "video-encoder=vp8enc", seen_a,
      seen_b);
  fail_unless (seen_has (seen_a, "video=v4l2vp8enc"),
      "A did not take the v4l2 encoder");
  enc = g_object_get_data (G_OBJECT (c.a->mesh), "test-video-encoder");
  fail_unless (enc != NULL);
  GST_OBJECT_LOCK (enc);
  fail_unless (enc->controls != NULL, "no extra-controls set");
  {
    gchar *str = gst_structure_to_string (enc->controls);

    g_print ("meshsignal: v4l2 encoder's controls: %s (set %u times)\n", str,
        enc->updates);
    g_free (str);
  }
  fail_unless (gst_structure_get_int (enc->controls, "video_bitrate", &bps));
  fail_unless (gst_structure_get_int (enc->controls, "video_bitrate_mode",
          &mode));
  GST_OBJECT_UNLOCK (enc);
  /* in bit/s, and the setting made before it is still there */
  fail_unless (bps >= 100000 && bps <= 5000000, "video_bitrate %d", bps);
  fail_unless_equals_int (mode, 1);

  mesh_test_call_teardown (&c);
  g_ptr_array_unref (seen_a);
  g_ptr_array_unref (seen_b);
}

GST_END_TEST;

/* Media encoders inside @bin (at any depth): class Codec/Encoder (not
 * webrtcbin's Encoder/Network/DTLS). */
static guint
count_encoders (GstElement * bin)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
  GValue v = G_VALUE_INIT;
  guint n = 0;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    GstElementFactory *f = gst_element_get_factory (e);
    const gchar *klass = f ? gst_element_factory_get_metadata (f,
        GST_ELEMENT_METADATA_KLASS) : NULL;

    if (klass && strstr (klass, "Codec/Encoder")) {
      GST_INFO ("encoder inside %s: %s", GST_OBJECT_NAME (bin),
          GST_OBJECT_NAME (e));
      n++;
    }
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  return n;
}

/* Media encoded before the element (x264enc ! h264parse, opusenc) is sent
 * as it is: the other side decodes both, no encoder runs inside
 * meshsignal, encoder-setup is never said, and the offer gives the
 * stream's own profile-level-id. */
static GstPadProbeReturn
count_force_key_unit (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  if (gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info)))
    g_atomic_int_inc ((gint *) data);
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_encoded_input_passes_through)
{
  Call c = { 0, };
  GPtrArray *seen = g_ptr_array_new_with_free_func (g_free);
  gchar *desc;
  GstElement *webrtc;
  gchar *sdp = NULL;
  GstWebRTCSessionDescription *local = NULL;

  call_setup (&c);
  c.b = mesh_test_call_peer (&c, NULL);
  desc = g_strdup_printf ("meshsignal name=m server-url=%s role=call "
      "videotestsrc is-live=true ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! x264enc name=appenc tune=zerolatency "
      "speed-preset=ultrafast key-int-max=60 ! "
      "video/x-h264,profile=constrained-baseline ! h264parse ! m.video_sink "
      "audiotestsrc is-live=true wave=ticks ! opusenc ! m.audio_sink "
      "m.video_src ! fakesink name=vout async=false "
      "m.audio_src ! fakesink name=aout async=false", c.url);
  c.a = mesh_test_pipeline_new (desc);
  g_free (desc);
  g_signal_connect (c.a->mesh, "encoder-setup",
      G_CALLBACK (on_encoder_setup), seen);
  mesh_test_pipeline_play (c.b);
  mesh_test_pipeline_play (c.a);
  assert_media_both_ways (&c);

  fail_unless_equals_int (count_encoders (c.a->mesh), 0);
  fail_unless_equals_int (seen->len, 0);
  fail_unless_equals_int (mesh_test_pipeline_n_warnings (c.a), 0);
  /* the raw side still encodes: B has its VP8 and Opus encoders */
  fail_unless (count_encoders (c.b->mesh) >= 2);
  webrtc = mesh_test_pipeline_get_webrtcbin (c.a);
  g_object_get (webrtc, "current-local-description", &local, NULL);
  fail_unless (local != NULL);
  sdp = gst_sdp_message_as_text (local->sdp);
  fail_unless (strstr (sdp, "H264/90000") != NULL, "no H.264 in %s", sdp);
  /* x264's level for 320x240@30 is 2.1 or so; the constrained baseline
   * profile is what the caps said */
  fail_unless (strstr (sdp, "profile-level-id=42e0") != NULL,
      "not the stream's profile in %s", sdp);
  g_free (sdp);
  gst_webrtc_session_description_free (local);
  gst_object_unref (webrtc);

  /* B asks for a keyframe (its video_src gets an upstream GstForceKeyUnit,
   * which its RTP session sends as RTCP PLI); at A it comes back out of
   * video_sink to the application's encoder */
  {
    GstElement *enc = gst_bin_get_by_name (GST_BIN (c.a->pipeline), "appenc");
    GstElement *vout = gst_bin_get_by_name (GST_BIN (c.b->pipeline), "vout");
    GstPad *enc_src = gst_element_get_static_pad (enc, "src");
    GstPad *vout_sink = gst_element_get_static_pad (vout, "sink");
    gint asked = 0;
    gulong probe = gst_pad_add_probe (enc_src,
        GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, count_force_key_unit, &asked,
        NULL);
    gint64 until = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

    while (!g_atomic_int_get (&asked) && g_get_monotonic_time () < until) {
      gst_pad_push_event (vout_sink,
          gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
              TRUE, 0));
      g_usleep (G_USEC_PER_SEC / 2);
    }
    fail_unless (g_atomic_int_get (&asked) > 0,
        "B's keyframe request did not reach A's x264enc");
    gst_pad_remove_probe (enc_src, probe);
    gst_object_unref (enc_src);
    gst_object_unref (vout_sink);
    gst_object_unref (enc);
    gst_object_unref (vout);
  }
  mesh_test_call_teardown (&c);
  g_ptr_array_unref (seen);
}

GST_END_TEST;

/* VP9 both ways (vp9enc, profile 0); and a VP9 caller with a waiter told
 * VP8, which answers with VP9 rather than no video (a warning says so). */
GST_START_TEST (test_vp9_both_ways)
{
  Call c = { 0, };
  GPtrArray *seen_a = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *seen_b = g_ptr_array_new_with_free_func (g_free);

  encoder_call_start (&c, "role=call video-codec=vp9", "video-codec=vp9",
      seen_a, seen_b);
  fail_unless (seen_has (seen_a, "video=vp9enc"), "A did not take vp9enc");
  fail_unless (seen_has (seen_b, "video=vp9enc"), "B did not take vp9enc");
  fail_unless_equals_int (mesh_test_pipeline_n_warnings (c.a), 0);
  fail_unless_equals_int (mesh_test_pipeline_n_warnings (c.b), 0);
  mesh_test_call_teardown (&c);
  g_ptr_array_set_size (seen_a, 0);
  g_ptr_array_set_size (seen_b, 0);

  encoder_call_start (&c, "role=call video-codec=vp9", "", seen_a, seen_b);
  fail_unless (seen_has (seen_b, "video=vp9enc"), "B did not switch to VP9");
  fail_unless (mesh_test_pipeline_has_warning (c.b,
          "does not accept VP8 video, sending VP9 instead"));
  mesh_test_call_teardown (&c);
  g_ptr_array_unref (seen_a);
  g_ptr_array_unref (seen_b);
}

GST_END_TEST;

/* video-codecs: the answerer sends the first of its list that the offer
 * has. A offers VP9 (the first of "vp9,vp8"); B, whose list starts with
 * H.264, switches its encoder to VP9, without a warning: both send VP9. A
 * bad name is an error that names it. */
GST_START_TEST (test_video_codecs_first_both_have)
{
  Call c = { 0, };
  GPtrArray *seen_a = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *seen_b = g_ptr_array_new_with_free_func (g_free);
  GstElement *bad;

  encoder_call_start (&c, "role=call video-codecs=vp9,vp8",
      "video-codecs=h264,vp9", seen_a, seen_b);
  fail_unless (seen_has (seen_a, "video=vp9enc"), "A did not take vp9enc");
  fail_unless (seen_has (seen_b, "video=x264enc"), "B did not start on H.264");
  fail_unless (seen_has (seen_b, "video=vp9enc"), "B did not switch to VP9");
  fail_unless_equals_int (mesh_test_pipeline_n_warnings (c.a), 0);
  fail_unless_equals_int (mesh_test_pipeline_n_warnings (c.b), 0);
  mesh_test_call_teardown (&c);
  g_ptr_array_unref (seen_a);
  g_ptr_array_unref (seen_b);

  bad = gst_element_factory_make ("meshsignal", NULL);
  g_object_set (bad, "server-url", "http://127.0.0.1:9", "video-codecs",
      "vp9,av1", NULL);
  fail_unless_equals_int (gst_element_set_state (bad, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (bad, GST_STATE_NULL);
  gst_object_unref (bad);
}

GST_END_TEST;

/* H.264 with the software encoders here: x264enc when none is named (it
 * comes before openh264enc), openh264enc when named; a call both ways. */
GST_START_TEST (test_video_encoder_h264_software)
{
  Call c = { 0, };
  GPtrArray *seen_a = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *seen_b = g_ptr_array_new_with_free_func (g_free);

  encoder_call_start (&c, "role=call video-codec=h264",
      "video-codec=h264 video-encoder=openh264enc", seen_a, seen_b);
  fail_unless (seen_has (seen_a, "video=x264enc"), "A did not take x264enc");
  fail_unless (seen_has (seen_b, "video=openh264enc"),
      "B did not take openh264enc");
  mesh_test_call_teardown (&c);
  g_ptr_array_unref (seen_a);
  g_ptr_array_unref (seen_b);
}

GST_END_TEST;

/* An encoder that is not there, or that does not put out the codec, is
 * an error that names it. */
GST_START_TEST (test_video_encoder_that_cannot_serve_is_an_error)
{
  const gchar *props[][2] = {
    {"video-encoder=nosuchenc", "nosuchenc"},
    {"video-codec=vp8 video-encoder=x264enc", "x264enc"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (props); i++) {
    gchar *desc = g_strdup_printf ("meshsignal name=m "
        "server-url=http://127.0.0.1:9 %s videotestsrc is-live=true ! "
        "m.video_sink", props[i][0]);
    MeshTestPipeline *p = mesh_test_pipeline_new (desc);
    gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
    gboolean named = FALSE;

    /* the element fails to start, or posts the error as it starts */
    gst_element_set_state (p->pipeline, GST_STATE_PLAYING);
    while (!named && g_get_monotonic_time () < deadline) {
      g_mutex_lock (&p->lock);
      for (guint j = 0; j < p->errors->len; j++)
        named |= strstr (g_ptr_array_index (p->errors, j), props[i][1]) !=
            NULL;
      g_mutex_unlock (&p->lock);
      g_usleep (10 * 1000);
    }
    fail_unless (named, "no error naming %s", props[i][1]);
    mesh_test_pipeline_free (p);
    g_free (desc);
  }
}

GST_END_TEST;

GST_START_TEST (test_bad_url_is_an_element_error)
{
  MeshTestPipeline *p = mesh_test_pipeline_new ("meshsignal name=m "
      "server-url=ftp://example videotestsrc ! m.video_sink");

  fail_unless (gst_element_set_state (p->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  fail_unless (p->errors->len > 0);
  fail_unless (strstr (g_ptr_array_index (p->errors, 0), "ftp://example")
      != NULL, "error does not name the URL: %s",
      (gchar *) g_ptr_array_index (p->errors, 0));
  mesh_test_pipeline_free (p);
}

GST_END_TEST;

GST_START_TEST (test_unreachable_server_is_an_element_error)
{
  /* nothing listens on port 9 of the test address */
  MeshTestPipeline *p = mesh_test_pipeline_new ("meshsignal name=m "
      "server-url=http://127.0.0.1:9 videotestsrc is-live=true ! "
      "m.video_sink");
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  mesh_test_pipeline_play (p);
  while (g_get_monotonic_time () < deadline) {
    g_mutex_lock (&p->lock);
    if (p->errors->len > 0) {
      g_mutex_unlock (&p->lock);
      break;
    }
    g_mutex_unlock (&p->lock);
    g_usleep (10 * 1000);
  }
  fail_unless (p->errors->len > 0, "no error for an unreachable server");
  fail_unless (strstr (g_ptr_array_index (p->errors, 0),
          "http://127.0.0.1:9") != NULL, "error does not name the server: %s",
      (gchar *) g_ptr_array_index (p->errors, 0));
  mesh_test_pipeline_free (p);
}

GST_END_TEST;

static Suite *
meshsignal_suite (void)
{
  Suite *s = suite_create ("meshsignal");
  TCase *tc = tcase_create ("calls");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_bad_url_is_an_element_error);
  tcase_add_test (tc, test_unreachable_server_is_an_element_error);
  tcase_add_test (tc, test_video_encoder_hardware_first_or_as_named);
  tcase_add_test (tc, test_video_encoder_v4l2_controls);
  tcase_add_test (tc, test_video_encoder_h264_software);
  tcase_add_test (tc, test_vp9_both_ways);
  tcase_add_test (tc, test_video_codecs_first_both_have);
  tcase_add_test (tc, test_encoded_input_passes_through);
  tcase_add_test (tc, test_video_encoder_that_cannot_serve_is_an_error);
  tcase_add_test (tc, test_caller_and_waiter_decode_each_other);
  tcase_add_test (tc, test_latency_is_the_jitter_buffer_and_the_sink);
  tcase_add_test (tc, test_no_overlap_without_a_sink_deadline);
  tcase_add_test (tc, test_congestion_control_gets_feedback_and_moves_the_encoder);
  tcase_add_test (tc, test_no_congestion_control);
  tcase_add_test (tc, test_send_only_to_receive_only);
  tcase_add_test (tc, test_sender_reports_keep_coming);
  tcase_add_test (tc, test_keyframe_request_goes_at_once);
  tcase_add_test (tc, test_caller_started_first);
  tcase_add_test (tc, test_waiter_started_first);
  tcase_add_test (tc, test_both_calling_end_in_one_call);
  tcase_add_test (tc, test_second_offer_replaces_call);
  tcase_add_test (tc, test_malformed_messages_do_not_stop_the_call);
  tcase_add_test (tc, test_offers_in_a_burst_replace_each_other);
  tcase_add_test (tc, test_candidates_before_offer_are_kept);
  tcase_add_test (tc, test_fec_only_with_our_own_offers);
  tcase_add_test (tc, test_peer_leaving_ends_the_call);
  tcase_add_test (tc, test_call_through_gst_mesh_server);
  tcase_add_test (tc, test_in_process_server);
  return s;
}

GST_CHECK_MAIN (meshsignal);
