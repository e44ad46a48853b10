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
webrtc_stats (GstElement * webrtc)
{
  StatsWait *w = g_new0 (StatsWait, 1);
  gint64 deadline = g_get_monotonic_time () + STATS_TIMEOUT_MS * 1000;
  GstStructure *reply;
  GstPromise *promise;

  w->ref_count = 2;             /* ours, and the promise's */
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  promise = gst_promise_new_with_change_func (on_stats_reply, w,
      (GDestroyNotify) stats_wait_unref);
  g_signal_emit_by_name (webrtc, "get-stats", NULL, promise);
  gst_promise_unref (promise);

  g_mutex_lock (&w->lock);
  while (!w->done && g_cond_wait_until (&w->cond, &w->lock, deadline));
  reply = g_steal_pointer (&w->reply);
  g_mutex_unlock (&w->lock);
  stats_wait_unref (w);
  return reply;
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
          GST_MESH_MEDIA_AUDIO), NULL);
  GstStructure *webrtc = webrtc_stats (gst_mesh_peer_get_webrtcbin (peer));

  /* webrtcbin's own figures (RTP, RTCP, ICE), as its get-stats gives them */
  if (webrtc) {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, webrtc);
    gst_structure_take_value (s, "webrtc", &v);
  }
  return s;
}
