/* gst-mesh: meshsignal's statistics: one peer's figures, with
 * webrtcbin's get-stats waited for in the signalling thread.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsignalprivate.h"

/* webrtcbin's get-stats, waited for at most STATS_TIMEOUT_MS: a webrtcbin
 * that is closing may never answer, and this runs in the signalling
 * thread, which must not hang on it. */
#define STATS_TIMEOUT_MS 500

typedef struct
{
  gint ref_count;
  GMutex lock;
  GCond cond;
  gboolean done;
  GstStructure *reply;
} StatsWait;

static void
stats_wait_unref (StatsWait * w)
{
  if (!g_atomic_int_dec_and_test (&w->ref_count))
    return;
  if (w->reply)
    gst_structure_free (w->reply);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w);
}

static void
on_stats_reply (GstPromise * promise, gpointer user_data)
{
  StatsWait *w = user_data;

  g_mutex_lock (&w->lock);
  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED &&
      gst_promise_get_reply (promise))
    w->reply = gst_structure_copy (gst_promise_get_reply (promise));
  w->done = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
}

static GstStructure *
webrtc_stats (GstMeshPeer * peer)
{
  StatsWait *w = g_new0 (StatsWait, 1);
  gint64 deadline = g_get_monotonic_time () + STATS_TIMEOUT_MS * 1000;
  GstStructure *reply;

  w->ref_count = 2;             /* ours, and the promise's */
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  gst_mesh_peer_emit_promise (peer, "get-stats", NULL, on_stats_reply, w,
      (GDestroyNotify) stats_wait_unref);

  g_mutex_lock (&w->lock);
  while (!w->done && g_cond_wait_until (&w->cond, &w->lock, deadline));
  reply = g_steal_pointer (&w->reply);
  g_mutex_unlock (&w->lock);
  stats_wait_unref (w);
  return reply;
}

/* ------------------------------------------------------------------------ */
/* The path ICE chose                                                       */

static gboolean
find_selected_pair (GQuark field, const GValue * value, gpointer user_data)
{
  const GstStructure **transport = user_data;
  const GstStructure *s;

  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  s = gst_value_get_structure (value);
  if (gst_structure_has_field (s, "selected-candidate-pair-id")) {
    *transport = s;
    return FALSE;
  }
  return TRUE;
}

static const GstStructure *
stats_entry (const GstStructure * stats, const gchar * id)
{
  const GValue *v = id ? gst_structure_get_value (stats, id) : NULL;

  return v && GST_VALUE_HOLDS_STRUCTURE (v) ? gst_value_get_structure (v) :
      NULL;
}

static void
copy_candidate (GstStructure * path, const gchar * side,
    const GstStructure * c)
{
  gchar *type = g_strdup_printf ("%s-type", side);
  gchar *address = g_strdup_printf ("%s-address", side);
  gchar *port = g_strdup_printf ("%s-port", side);
  gchar *protocol = g_strdup_printf ("%s-protocol", side);
  guint p = 0;

  gst_structure_get_uint (c, "port", &p);
  gst_structure_set (path,
      type, G_TYPE_STRING, gst_structure_get_string (c, "candidate-type"),
      address, G_TYPE_STRING, gst_structure_get_string (c, "address"),
      port, G_TYPE_UINT, p,
      protocol, G_TYPE_STRING, gst_structure_get_string (c, "protocol"),
      NULL);
  g_free (type);
  g_free (address);
  g_free (port);
  g_free (protocol);
}

/* The selected candidate pair in webrtcbin's get-stats reply, as
 * "mesh-ice-path" {local,remote}-{type,address,port,protocol} and
 * relay-protocol (udp when the local candidate is relayed over UDP; empty
 * when not relayed or when webrtcbin does not say), or NULL when no
 * pair is selected yet. The pair's candidate ids are followed, and the
 * `type` field of the candidate entries is not read: webrtcbin 1.22.0
 * labels its local candidate "remote-candidate" and the other way round
 * (seen in a relayed call: the entry "ice-candidate-local_..." that
 * holds our own relay candidate has type remote-candidate). */
GstStructure *
gst_mesh_stats_ice_path (const GstStructure * webrtc_stats)
{
  const GstStructure *transport = NULL, *pair, *local, *remote;
  GstStructure *path;
  const gchar *relay;

  if (!webrtc_stats)
    return NULL;
  gst_structure_foreach (webrtc_stats, find_selected_pair, &transport);
  if (!transport)
    return NULL;
  pair = stats_entry (webrtc_stats,
      gst_structure_get_string (transport, "selected-candidate-pair-id"));
  if (!pair)
    return NULL;
  local = stats_entry (webrtc_stats,
      gst_structure_get_string (pair, "local-candidate-id"));
  remote = stats_entry (webrtc_stats,
      gst_structure_get_string (pair, "remote-candidate-id"));
  if (!local || !remote)
    return NULL;
  path = gst_structure_new_empty ("mesh-ice-path");
  copy_candidate (path, "local", local);
  copy_candidate (path, "remote", remote);
  /* webrtcbin 1.22.0 says "udp" for a UDP relay but "none" for one
   * reached over TCP or TLS: that is left empty, not guessed */
  relay = gst_structure_get_string (local, "relay-protocol");
  if (!relay || !g_strcmp0 (relay, "none") || g_strcmp0 (gst_structure_get_string
          (local, "candidate-type"), "relay"))
    relay = "";
  gst_structure_set (path, "relay-protocol", G_TYPE_STRING, relay, NULL);
  return path;
}

typedef struct
{
  GstElement *element;
  gchar *peer_id;
  guint call_id;
} PathPost;

static void
path_post_free (PathPost * p)
{
  gst_object_unref (p->element);
  g_free (p->peer_id);
  g_free (p);
}

static void
on_path_stats (GstPromise * promise, gpointer user_data)
{
  PathPost *p = user_data;
  const GstStructure *reply = NULL;
  GstStructure *path;

  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED)
    reply = gst_promise_get_reply (promise);
  path = gst_mesh_stats_ice_path (reply);
  if (!path) {
    GST_INFO_OBJECT (p->element, "call %u: no selected ICE pair in the "
        "stats", p->call_id);
    return;
  }
  gst_structure_set (path, "call-id", G_TYPE_UINT, p->call_id,
      "peer-id", G_TYPE_STRING, p->peer_id, NULL);
  GST_INFO_OBJECT (p->element, "call %u: ICE path %" GST_PTR_FORMAT,
      p->call_id, path);
  gst_element_post_message (p->element,
      gst_message_new_element (GST_OBJECT (p->element), path));
}

/* Asks webrtcbin for its stats and posts the path its ICE chose as a
 * "mesh-ice-path" element message (from whichever thread answers). */
void
gst_mesh_stats_post_ice_path (GstMeshSignal * self, GstMeshPeer * peer)
{
  PathPost *p = g_new0 (PathPost, 1);

  p->element = gst_object_ref (GST_ELEMENT (self));
  p->peer_id = g_strdup (gst_mesh_peer_get_remote_id (peer) ?
      gst_mesh_peer_get_remote_id (peer) : "");
  p->call_id = gst_mesh_peer_get_id (peer);
  gst_mesh_peer_emit_promise (peer, "get-stats", NULL, on_path_stats, p,
      (GDestroyNotify) path_post_free);
}

/* One peer's figures: ours, and webrtcbin's get-stats. @uid: the
 * member's, or NULL. */
GstStructure *
gst_mesh_stats_peer (GstMeshPeer * peer, const gchar * uid)
{
  GstStructure *s = gst_structure_new ("application/x-mesh-peer-stats",
      "peer-id", G_TYPE_STRING, gst_mesh_signal_peer_name (peer),
      "uid", G_TYPE_STRING, uid ? uid : "",
      "call-id", G_TYPE_UINT, gst_mesh_peer_get_id (peer),
      "state", G_TYPE_STRING,
      gst_mesh_signal_enum_nick (GST_TYPE_MESH_CALL_STATE,
          gst_mesh_peer_get_state (peer)),
      "offerer", G_TYPE_BOOLEAN, gst_mesh_peer_is_offerer (peer),
      "video-frames-decoded", G_TYPE_UINT, gst_mesh_peer_get_decoded (peer,
          GST_MESH_MEDIA_VIDEO),
      "audio-buffers-decoded", G_TYPE_UINT, gst_mesh_peer_get_decoded (peer,
          GST_MESH_MEDIA_AUDIO),
      "jitter-latency", G_TYPE_UINT, MAX (gst_mesh_peer_get_jitter_latency
          (peer, GST_MESH_MEDIA_VIDEO), gst_mesh_peer_get_jitter_latency (peer,
              GST_MESH_MEDIA_AUDIO)),
      "audio-jitter-latency", G_TYPE_UINT,
      gst_mesh_peer_get_jitter_latency (peer, GST_MESH_MEDIA_AUDIO),
      NULL);
  GstStructure *webrtc = webrtc_stats (peer);
  GstMeshBweStats bwe;

  /* what became of lost packets (gstmeshpeernack.c) */
  {
    guint64 nacks_sent, rtx_refused, plis_sent;

    gst_mesh_peer_get_nack_counts (peer, &nacks_sent, &rtx_refused,
        &plis_sent);
    gst_structure_set (s, "nacks-sent", G_TYPE_UINT64, nacks_sent,
        "rtx-refused", G_TYPE_UINT64, rtx_refused,
        "plis-sent", G_TYPE_UINT64, plis_sent,
        "nack-rtt", G_TYPE_UINT, gst_mesh_peer_get_nack_rtt (peer), NULL);
  }
  /* what our video asks of the remote's playout (gstmeshpeerjitter.c) */
  {
    gdouble jitter = -1;
    const gchar *asks = gst_mesh_peer_get_playout (peer, &jitter);

    if (asks)
      gst_structure_set (s, "playout-delay", G_TYPE_STRING, asks,
          "remote-jitter", G_TYPE_DOUBLE, jitter, NULL);
  }
  /* FEC (gstmeshpeerbwe.c) */
  {
    guint pct, recovered, unrecovered;

    if (gst_mesh_peer_get_fec_stats (peer, &pct, &recovered, &unrecovered))
      gst_structure_set (s, "fec-percentage", G_TYPE_UINT, pct,
          "fec-recovered", G_TYPE_UINT, recovered, "fec-unrecovered",
          G_TYPE_UINT, unrecovered, NULL);
  }
  /* how far the connection got, in webrtcbin's words */
  {
    GstWebRTCICEConnectionState ice;
    GstWebRTCPeerConnectionState pc;

    g_object_get (gst_mesh_peer_get_webrtcbin (peer), "ice-connection-state",
        &ice, "connection-state", &pc, NULL);
    gst_structure_set (s, "ice-connection-state", G_TYPE_STRING,
        gst_mesh_signal_enum_nick (GST_TYPE_WEBRTC_ICE_CONNECTION_STATE, ice),
        "connection-state", G_TYPE_STRING,
        gst_mesh_signal_enum_nick (GST_TYPE_WEBRTC_PEER_CONNECTION_STATE, pc),
        NULL);
  }

  /* congestion control: what the peer's feedback says the path carries */
  if (gst_mesh_peer_get_bwe_stats (peer, &bwe)) {
    GstStructure *b = gst_structure_new ("application/x-mesh-bwe",
        "target-bitrate", G_TYPE_UINT, bwe.target_bps,
        "delay-bitrate", G_TYPE_UINT, bwe.delay_bps,
        "loss-bitrate", G_TYPE_UINT, bwe.loss_bps,
        "received-bitrate", G_TYPE_UINT, bwe.received_bps,
        "loss", G_TYPE_DOUBLE, bwe.loss,
        "usage", G_TYPE_STRING, gst_mesh_bwe_usage_name (bwe.usage),
        "feedbacks", G_TYPE_UINT64, bwe.feedbacks, NULL);
    GValue bv = G_VALUE_INIT;

    g_value_init (&bv, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&bv, b);
    gst_structure_take_value (s, "bandwidth", &bv);
  }

  {
    const gchar *source = gst_mesh_peer_get_video_source (peer);
    if (source)
      gst_structure_set (s, "video-encoding", G_TYPE_STRING, source, NULL);
  }

  /* webrtcbin's own figures (RTP, RTCP, ICE), as its get-stats gives them */
  if (webrtc) {
    GValue v = G_VALUE_INIT;
    GstStructure *path = gst_mesh_stats_ice_path (webrtc);

    if (path) {
      GValue pv = G_VALUE_INIT;

      g_value_init (&pv, GST_TYPE_STRUCTURE);
      g_value_take_boxed (&pv, path);
      gst_structure_take_value (s, "ice-path", &pv);
    }

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, webrtc);
    gst_structure_take_value (s, "webrtc", &v);
  }
  return s;
}
