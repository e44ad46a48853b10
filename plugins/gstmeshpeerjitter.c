/* gst-mesh: a peer's jitter buffers follow the network. They start at
 * config.latency (10 ms: a LAN); when packets of a kind (audio, video)
 * come after their deadline (rtpjitterbuffer's num-late: a bottleneck
 * queue or a jittery link delayed them, or a retransmission came after
 * the buffer gave its packet up), that kind's buffers grow by half, at
 * most once a second, up to config.max_latency; video's at once to the
 * NACKs' round trip plus a quarter (at least 20 ms) when that is more, so
 * that retransmissions can come in time; after 10 s without a late packet
 * they shrink by a tenth every 2 s, back towards config.latency, never
 * below four times the measured jitter.
 *
 * Audio is not asked for again, so its buffers grow only with the path's
 * jitter; the video's also wait for retransmissions. With
 * config.video_delay least the video is still shown at the audio's
 * latency (its pad answers the latency query with that), and a frame
 * that waited for a packet comes late and is shown when it comes: only
 * the frames that lost a packet pay for it, as in a browser. Lip sync
 * holds for every other frame. With even, the pipeline's latency is the
 * video buffers' and every frame, audio with it, waits that long.
 *
 * The other way, what our video asks of the remote's playout: with the
 * playout-delay header extension (gstmeshplayoutdelay.c), config
 * playout_delay auto asks for frames shown at once (least and most delay
 * 0) while the remote's receiver reports say the path is steady, and
 * gives the remote its choice back (0-40950 ms) when the jitter they
 * report passes PLAYOUT_JITTERY_MS, until it was under PLAYOUT_STEADY_MS
 * for PLAYOUT_CALM_US.
 *
 * Runs on the watchdog's ticks (the peer's context).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshpeerprivate.h"

#define GROW_INTERVAL_US (1 * G_USEC_PER_SEC)
#define CALM_BEFORE_SHRINK_US (10 * G_USEC_PER_SEC)
#define SHRINK_INTERVAL_US (2 * G_USEC_PER_SEC)

/* RFC 3550 interarrival jitter the remote reports of our streams, ms */
#define PLAYOUT_JITTERY_MS 10.0
#define PLAYOUT_STEADY_MS 5.0
#define PLAYOUT_CALM_US (10 * G_USEC_PER_SEC)
/* the extension's largest delay: the receiver chooses */
#define PLAYOUT_FREE_MS 40950

static GQuark
kind_quark (void)
{
  static GQuark q;

  if (!q)
    q = g_quark_from_static_string ("gst-mesh-jitter-kind");
  return q;
}

void
gst_mesh_peer_jitter_add (GstMeshPeer * peer, GstElement * jitterbuffer,
    GstMeshMediaKind kind)
{
  g_object_set_qdata (G_OBJECT (jitterbuffer), kind_quark (),
      GINT_TO_POINTER (kind + 1));
  g_mutex_lock (&peer->lock);
  g_ptr_array_add (peer->jitterbuffers, gst_object_ref (jitterbuffer));
  if (peer->jitter[kind].latency)
    g_object_set (jitterbuffer, "latency", peer->jitter[kind].latency, NULL);
  g_mutex_unlock (&peer->lock);
}

static void
set_latency (GstMeshPeer * peer, GstMeshMediaKind kind, GPtrArray * jbs,
    guint ms, const gchar * why)
{
  GST_INFO ("%s: %s jitter buffers %u -> %u ms (%s)", peer->name,
      gst_mesh_media_kind_name (kind), peer->jitter[kind].latency, ms, why);
  g_atomic_int_set (&peer->jitter[kind].latency, ms);
  for (guint i = 0; i < jbs->len; i++)
    g_object_set (g_ptr_array_index (jbs, i), "latency", ms, NULL);
}

/* The @kind jitter buffers' latency now (ms); read from any thread. */
guint
gst_mesh_peer_get_jitter_latency (GstMeshPeer * peer, GstMeshMediaKind kind)
{
  guint ms = (guint) g_atomic_int_get (&peer->jitter[kind].latency);

  return ms ? ms : peer->config.latency;
}

/* How much sooner than its jitter buffers' latency the peer's video is
 * shown (ns): what they wait beyond the audio's, for retransmissions. A
 * kind's latency is set by the first tick that saw its jitter buffers:
 * none for audio, no audio from the peer. */
static GstClockTime
video_ahead (GstMeshPeer * peer)
{
  guint v = gst_mesh_peer_get_jitter_latency (peer, GST_MESH_MEDIA_VIDEO);
  guint a = (guint) g_atomic_int_get (&peer->jitter[GST_MESH_MEDIA_AUDIO].
      latency);

  if (peer->config.video_delay != GST_MESH_VIDEO_DELAY_LEAST || !a || v <= a)
    return 0;
  return (GstClockTime) (v - a) * GST_MSECOND;
}

static void
jitter_tick_kind (GstMeshPeer * peer, GstMeshMediaKind kind, gint64 now)
{
  GPtrArray *jbs;
  guint64 late = 0, max_jitter = 0;
  guint base = peer->config.latency;
  guint top = MAX (peer->config.max_latency, base);
  guint cur;

  jbs = g_ptr_array_new_with_free_func (gst_object_unref);
  g_mutex_lock (&peer->lock);
  for (guint i = 0; i < peer->jitterbuffers->len; i++) {
    GObject *jb = g_ptr_array_index (peer->jitterbuffers, i);

    if (GPOINTER_TO_INT (g_object_get_qdata (jb, kind_quark ())) ==
        (gint) kind + 1)
      g_ptr_array_add (jbs, gst_object_ref (jb));
  }
  g_mutex_unlock (&peer->lock);
  if (!jbs->len) {
    g_ptr_array_unref (jbs);
    return;
  }

  for (guint i = 0; i < jbs->len; i++) {
    GstStructure *s = NULL;
    guint64 n = 0, jitter = 0;

    g_object_get (g_ptr_array_index (jbs, i), "stats", &s, NULL);
    if (!s)
      continue;
    gst_structure_get_uint64 (s, "num-late", &n);
    gst_structure_get_uint64 (s, "avg-jitter", &jitter);
    late += n;
    max_jitter = MAX (max_jitter, jitter);
    gst_structure_free (s);
  }

  if (!peer->jitter[kind].latency)
    g_atomic_int_set (&peer->jitter[kind].latency, base);
  cur = peer->jitter[kind].latency;
  if (late > peer->jitter[kind].late) {
    peer->jitter[kind].calm_since = now;
    if (cur < top && now - peer->jitter[kind].changed >= GROW_INTERVAL_US) {
      gchar *why = g_strdup_printf ("%" G_GUINT64_FORMAT " packets late",
          late - peer->jitter[kind].late);
      guint next = MAX (cur + cur / 2, cur + 20);
      /* only video is asked for again */
      guint rtt = kind == GST_MESH_MEDIA_VIDEO ?
          gst_mesh_peer_get_nack_rtt (peer) : 0;

      /* a lost packet comes back a NACK's round trip later: a buffer
       * shorter than that counts every retransmission late, so it goes
       * there at once rather than by halves */
      if (rtt)
        next = MAX (next, rtt + MAX (rtt / 4, 20));
      set_latency (peer, kind, jbs, MIN (top, next), why);
      peer->jitter[kind].changed = now;
      g_free (why);
    }
  } else if (cur > base && now - peer->jitter[kind].calm_since >=
      CALM_BEFORE_SHRINK_US
      && now - peer->jitter[kind].changed >= SHRINK_INTERVAL_US) {
    guint floor = MAX (base, (guint) (4 * max_jitter / GST_MSECOND));
    guint next = MAX (floor, cur - MAX (cur / 10, 1));

    if (next < cur)
      set_latency (peer, kind, jbs, next, "no late packets for 10 s");
    peer->jitter[kind].changed = now;
  }
  if (!peer->jitter[kind].calm_since)
    peer->jitter[kind].calm_since = now;
  peer->jitter[kind].late = late;
  g_ptr_array_unref (jbs);
}

void
gst_mesh_peer_jitter_tick (GstMeshPeer * peer, gint64 now)
{
  if (MAX (peer->config.max_latency, peer->config.latency) <=
      peer->config.latency)
    return;                     /* adaptation off */
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++)
    jitter_tick_kind (peer, k, now);
}

/* ---- video shown at the audio's latency, late frames when they come ----
 *
 * On the peer's decoded video pad: the latency it answers is lowered by
 * video_ahead(); a frame later than the pipeline's latency allows (it
 * waited for a retransmission) is given the time it comes at, so the sink
 * shows it at once instead of dropping it for lateness. */

/* a frame later than this beyond what video_ahead() explains is left to
 * the sink's own lateness handling (a machine that cannot keep up) */
#define LATE_SLACK (50 * GST_MSECOND)

typedef struct
{
  GstMeshPeer *peer;            /* not a ref: the pad goes before the peer */
  GMutex lock;
  GstSegment segment;
  gboolean have_segment;
  GstClockTime total;           /* the pipeline's latency (LATENCY event) */
  GstClockTime reported;        /* what this pad answered, lowered */
} LateVideo;

static void
late_video_free (gpointer data)
{
  LateVideo *lv = data;

  g_mutex_clear (&lv->lock);
  g_free (lv);
}

static GstPadProbeReturn
late_video_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  LateVideo *lv = user_data;
  GstMeshPeer *peer = lv->peer;

  if (info->type & GST_PAD_PROBE_TYPE_QUERY_UPSTREAM) {
    GstQuery *q = GST_PAD_PROBE_INFO_QUERY (info);
    gboolean live;
    GstClockTime min, max, ahead;

    if (!(info->type & GST_PAD_PROBE_TYPE_PULL) ||
        GST_QUERY_TYPE (q) != GST_QUERY_LATENCY)
      return GST_PAD_PROBE_OK;
    gst_query_parse_latency (q, &live, &min, &max);
    ahead = MIN (video_ahead (peer), min);
    if (ahead) {
      GST_DEBUG ("%s: video answers %" GST_TIME_FORMAT " of latency, %"
          GST_TIME_FORMAT " less than its jitter buffers wait",
          peer->name, GST_TIME_ARGS (min - ahead), GST_TIME_ARGS (ahead));
      gst_query_set_latency (q, live, min - ahead, max);
    }
    g_mutex_lock (&lv->lock);
    lv->reported = min - ahead;
    g_mutex_unlock (&lv->lock);
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_UPSTREAM) {
    GstEvent *e = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (e) == GST_EVENT_LATENCY) {
      g_mutex_lock (&lv->lock);
      gst_event_parse_latency (e, &lv->total);
      g_mutex_unlock (&lv->lock);
    }
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *e = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (e) == GST_EVENT_SEGMENT) {
      g_mutex_lock (&lv->lock);
      gst_event_copy_segment (e, &lv->segment);
      lv->have_segment = lv->segment.format == GST_FORMAT_TIME;
      g_mutex_unlock (&lv->lock);
    } else if (GST_EVENT_TYPE (e) == GST_EVENT_FLUSH_STOP) {
      g_mutex_lock (&lv->lock);
      lv->have_segment = FALSE;
      g_mutex_unlock (&lv->lock);
    }
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstClockTime pts = GST_BUFFER_PTS (buf), rt, latency, now, ahead;
    GstClock *clock;
    GstClockTimeDiff late;

    if (!GST_CLOCK_TIME_IS_VALID (pts) || !(ahead = video_ahead (peer)))
      return GST_PAD_PROBE_OK;
    g_mutex_lock (&lv->lock);
    rt = lv->have_segment ? gst_segment_to_running_time (&lv->segment,
        GST_FORMAT_TIME, pts) : GST_CLOCK_TIME_NONE;
    latency = GST_CLOCK_TIME_IS_VALID (lv->total) && lv->total ?
        lv->total : lv->reported;
    g_mutex_unlock (&lv->lock);
    clock = gst_element_get_clock (GST_ELEMENT (peer->bin));
    if (!clock || !GST_CLOCK_TIME_IS_VALID (rt)) {
      gst_clear_object (&clock);
      return GST_PAD_PROBE_OK;
    }
    now = gst_clock_get_time (clock) -
        gst_element_get_base_time (GST_ELEMENT (peer->bin));
    gst_object_unref (clock);
    late = GST_CLOCK_DIFF (rt + latency, now);
    if (late <= 0 || (GstClockTime) late > ahead + LATE_SLACK)
      return GST_PAD_PROBE_OK;
    buf = gst_buffer_make_writable (buf);
    GST_BUFFER_PTS (buf) = pts + late;
    if (GST_BUFFER_DTS_IS_VALID (buf))
      GST_BUFFER_DTS (buf) += late;
    GST_PAD_PROBE_INFO_DATA (info) = buf;
    GST_LOG ("%s: a frame %" GST_STIME_FORMAT " late (it waited for a "
        "packet): shown now", peer->name, GST_STIME_ARGS (late));
  }
  return GST_PAD_PROBE_OK;
}

void
gst_mesh_peer_jitter_watch_video (GstMeshPeer * peer, GstPad * decoded)
{
  LateVideo *lv = g_new0 (LateVideo, 1);

  lv->peer = peer;
  lv->total = GST_CLOCK_TIME_NONE;
  g_mutex_init (&lv->lock);
  gst_segment_init (&lv->segment, GST_FORMAT_TIME);
  gst_pad_add_probe (decoded, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_UPSTREAM |
      GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, late_video_probe, lv,
      late_video_free);
}

/* ---- what our video asks of the remote's playout ---- */

static void
playout_set (GstRTPHeaderExtension * ext, gboolean free)
{
  g_object_set (ext, "min-delay", 0, "max-delay", free ? PLAYOUT_FREE_MS : 0,
      NULL);
}

GstRTPHeaderExtension *
gst_mesh_peer_playout_ext_new (GstMeshPeer * peer, guint id)
{
  GstRTPHeaderExtension *ext;

  if (!id || peer->config.playout_delay == GST_MESH_PLAYOUT_DELAY_RECEIVER)
    return NULL;
  ext = g_object_new (GST_TYPE_MESH_HDREXT_PLAYOUT_DELAY, NULL);
  gst_object_ref_sink (ext);
  gst_rtp_header_extension_set_id (ext, id);
  playout_set (ext, peer->playout_free);
  gst_clear_object (&peer->playout_ext);
  peer->playout_ext = gst_object_ref (ext);
  GST_INFO ("%s: playout-delay as extension %u, %s", peer->name, id,
      peer->playout_free ? "the remote chooses" : "frames shown at once");
  return ext;
}

void
gst_mesh_peer_playout_remote_answer (GstMeshPeer * peer,
    const GstSDPMessage * answer)
{
  gboolean taken = FALSE;
  GstRTPHeaderExtension *ext;

  g_mutex_lock (&peer->lock);
  ext = peer->playout_ext ? gst_object_ref (peer->playout_ext) : NULL;
  g_mutex_unlock (&peer->lock);
  if (!ext)
    return;
  for (guint i = 0; answer && i < gst_sdp_message_medias_len (answer); i++)
    if (gst_mesh_peer_extmap_id_in_media (gst_sdp_message_get_media (answer,
                i), GST_MESH_PLAYOUT_DELAY_URI) ==
        gst_rtp_header_extension_get_id (ext))
      taken = TRUE;
  if (!taken || gst_mesh_peer_remote_is_ours (peer)) {
    GST_INFO ("%s: the answer %s: no playout-delay in our packets",
        peer->name, taken ? "is from gst-mesh" : "does not take it");
    gst_rtp_header_extension_set_direction (ext,
        GST_RTP_HEADER_EXTENSION_DIRECTION_INACTIVE);
  }
  gst_object_unref (ext);
}

/* The worst interarrival jitter (ms) the remote's receiver reports give
 * of our streams; < 0 before any report. rtpsession keeps the last report
 * block a remote source sent, about one of our sources ("rb-ssrc"), in
 * the units of that source's clock. */
static gdouble
remote_jitter_ms (GstMeshPeer * peer)
{
  GObject *session = NULL;
  GstStructure *stats = NULL;
  const GValue *v;
  GValueArray *sources = NULL;
  GHashTable *rates;
  gdouble worst = -1;

  g_mutex_lock (&peer->twcc_lock);
  if (peer->rtp_session)
    session = g_object_ref (peer->rtp_session);
  g_mutex_unlock (&peer->twcc_lock);
  if (!session)
    return -1;
  g_object_get (session, "stats", &stats, NULL);
  g_object_unref (session);
  if (!stats)
    return -1;
  v = gst_structure_get_value (stats, "source-stats");
  /* rtpsession 1.22 gives a GValueArray */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
  if (v && G_VALUE_HOLDS (v, g_value_array_get_type ()))
    sources = g_value_get_boxed (v);
  G_GNUC_END_IGNORE_DEPRECATIONS;
  rates = g_hash_table_new (NULL, NULL);
  /* our sources' clocks, then the remote's reports on them */
  for (gint pass = 0; sources && pass < 2; pass++) {
    for (guint i = 0; i < sources->n_values; i++) {
      const GstStructure *s = g_value_get_boxed (&sources->values[i]);
      gboolean internal = FALSE, have_rb = FALSE;
      guint ssrc = 0, jitter = 0;
      gint rate = 0;

      if (!s)
        continue;
      gst_structure_get (s, "internal", G_TYPE_BOOLEAN, &internal, NULL);
      if (pass == 0 && internal &&
          gst_structure_get (s, "ssrc", G_TYPE_UINT, &ssrc, "clock-rate",
              G_TYPE_INT, &rate, NULL) && rate > 0)
        g_hash_table_insert (rates, GUINT_TO_POINTER (ssrc),
            GINT_TO_POINTER (rate));
      if (pass == 1 && !internal &&
          gst_structure_get (s, "have-rb", G_TYPE_BOOLEAN, &have_rb,
              "rb-ssrc", G_TYPE_UINT, &ssrc, "rb-jitter", G_TYPE_UINT,
              &jitter, NULL) && have_rb &&
          (rate = GPOINTER_TO_INT (g_hash_table_lookup (rates,
                      GUINT_TO_POINTER (ssrc)))) > 0)
        worst = MAX (worst, 1000.0 * jitter / rate);
    }
  }
  g_hash_table_unref (rates);
  gst_structure_free (stats);
  return worst;
}

const gchar *
gst_mesh_peer_get_playout (GstMeshPeer * peer, gdouble * jitter)
{
  const gchar *asks = NULL;

  g_mutex_lock (&peer->lock);
  if (gst_mesh_hdrext_playout_delay_sends (peer->playout_ext))
    asks = peer->playout_free ? "receiver" : "at-once";
  if (jitter)
    *jitter = peer->playout_jitter;
  g_mutex_unlock (&peer->lock);
  return asks;
}

void
gst_mesh_peer_playout_tick (GstMeshPeer * peer, gint64 now)
{
  GstRTPHeaderExtension *ext;
  gboolean free;
  gdouble jitter;

  /* receivers report about once a second: so often, then */
  if (now - peer->playout_checked < G_USEC_PER_SEC)
    return;
  g_mutex_lock (&peer->lock);
  ext = gst_mesh_hdrext_playout_delay_sends (peer->playout_ext) ?
      gst_object_ref (peer->playout_ext) : NULL;
  g_mutex_unlock (&peer->lock);
  if (!ext)
    return;
  peer->playout_checked = now;
  jitter = remote_jitter_ms (peer);
  g_mutex_lock (&peer->lock);
  peer->playout_jitter = jitter;
  g_mutex_unlock (&peer->lock);
  if (peer->config.playout_delay != GST_MESH_PLAYOUT_DELAY_AUTO) {
    gst_object_unref (ext);
    return;
  }
  free = peer->playout_free;
  if (jitter > PLAYOUT_JITTERY_MS) {
    free = TRUE;
    peer->playout_steady_since = 0;
  } else if (jitter >= 0 && jitter < PLAYOUT_STEADY_MS) {
    if (!peer->playout_steady_since)
      peer->playout_steady_since = now;
    if (now - peer->playout_steady_since >= PLAYOUT_CALM_US)
      free = FALSE;
  } else {
    peer->playout_steady_since = 0;
  }
  if (free != peer->playout_free) {
    GST_INFO ("%s: the remote reports %.1f ms of jitter: %s", peer->name,
        jitter, free ? "it chooses its playout delay" :
        "frames shown at once");
    g_mutex_lock (&peer->lock);
    peer->playout_free = free;
    g_mutex_unlock (&peer->lock);
    playout_set (ext, free);
  } else {
    GST_LOG ("%s: the remote reports %.1f ms of jitter", peer->name, jitter);
  }
  gst_object_unref (ext);
}
