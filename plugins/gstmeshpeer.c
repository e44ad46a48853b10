/* gst-mesh: one peer connection of meshsignal.
 *
 * A peer owns one webrtcbin and everything that exists only for it. This
 * file holds its life cycle (creation, teardown), the work queue into the
 * signalling context, the offer/answer exchange and the candidates; its
 * media (gstmeshpeermedia.c: send branches from the element's tees,
 * decoders into its outputs) and its liveness (gstmeshpeerliveness.c:
 * connection state, RTP activity, BYE, the watchdog) have files of their
 * own, and share the struct through gstmeshpeerprivate.h.
 *
 * Threading: the peer's logic runs in the element's signalling context.
 * webrtcbin calls back from its own threads; those callbacks only post
 * work to the context (always deferred, never run inline), except
 * pad-added, which must link in place and takes the peer lock for it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshpeerprivate.h"
#include "gst/mesh/gstmeshprivate.h"

#include <gst/webrtc/webrtc.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <string.h>

GST_DEBUG_CATEGORY (mesh_peer_debug);

/* Remote candidates that arrive before the remote description wait here;
 * more than this many is not a call, it is a flood. */
#define MAX_PENDING_CANDIDATES 256


typedef struct
{
  gint mline;
  gchar *mid;
  gchar *candidate;
} PendingCandidate;


static void
pending_candidate_free (PendingCandidate * c)
{
  g_free (c->mid);
  g_free (c->candidate);
  g_free (c);
}

/* ------------------------------------------------------------------------ */
/* Running work in the context                                              */

typedef struct
{
  GstMeshPeer *peer;
  void (*func) (GstMeshPeer * peer, gpointer data);
  gpointer data;
  GDestroyNotify notify;
} Work;

static gboolean
run_work (gpointer user_data)
{
  Work *w = user_data;

  if (!w->peer->closed)
    w->func (w->peer, w->data);
  return G_SOURCE_REMOVE;
}

static void
free_work (gpointer user_data)
{
  Work *w = user_data;

  if (w->notify && w->data)
    w->notify (w->data);
  gst_mesh_peer_unref (w->peer);
  g_free (w);
}

/* Always deferred: a webrtcbin callback may come from our own thread, and
 * our code is not written to be re-entered from inside a signal emission. */
void
gst_mesh_peer_defer (GstMeshPeer * peer, void (*func) (GstMeshPeer *, gpointer),
    gpointer data, GDestroyNotify notify)
{
  Work *w = g_new0 (Work, 1);
  GSource *s = g_idle_source_new ();

  w->peer = gst_mesh_peer_ref (peer);
  w->func = func;
  w->data = data;
  w->notify = notify;
  g_source_set_priority (s, G_PRIORITY_HIGH);
  g_source_set_callback (s, run_work, w, free_work);
  g_source_attach (s, peer->config.context);
  g_source_unref (s);
}

GSource *
gst_mesh_peer_timeout_add (GstMeshPeer * peer, guint ms, GSourceFunc func)
{
  GSource *s = g_timeout_source_new (ms);

  g_source_set_callback (s, func, gst_mesh_peer_ref (peer),
      (GDestroyNotify) gst_mesh_peer_unref);
  g_source_attach (s, peer->config.context);
  return s;
}

const GstStructure *
gst_mesh_peer_custom_upstream (GstPadProbeInfo * info, const gchar * name)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  const GstStructure *s;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CUSTOM_UPSTREAM)
    return NULL;
  s = gst_event_get_structure (event);
  return s && gst_structure_has_name (s, name) ? s : NULL;
}

/* ------------------------------------------------------------------------ */
/* Sending to the remote                                                    */

static void
send_description (GstMeshPeer * peer, GstMeshSignalKind kind,
    const gchar * sdp)
{
  JsonArray *args = gst_mesh_signal_description_args (kind, sdp,
      peer->remote_id);

  peer->config.send (peer, gst_mesh_signal_kind_to_string (kind), args,
      peer->config.user_data);
  json_array_unref (args);
}

/* The SDP of webrtcbin's local description now: with the candidates
 * gathered since, which a peer that missed our trickled ones needs. */
static gchar *
current_local_sdp (GstMeshPeer * peer)
{
  GstWebRTCSessionDescription *desc = NULL;
  gchar *text;

  g_object_get (peer->webrtc, "local-description", &desc, NULL);
  if (!desc)
    return g_strdup (peer->local_sdp);
  text = gst_sdp_message_as_text (desc->sdp);
  gst_webrtc_session_description_free (desc);
  return text;
}

static gboolean
resend_offer_cb (gpointer user_data)
{
  GstMeshPeer *peer = user_data;

  if (peer->closed || !peer->awaiting_answer)
    return G_SOURCE_REMOVE;
  gst_mesh_peer_resend_offer (peer);
  return G_SOURCE_CONTINUE;
}

void
gst_mesh_peer_resend_offer (GstMeshPeer * peer)
{
  gchar *sdp;

  if (peer->closed || !peer->awaiting_answer || !peer->local_sdp)
    return;
  sdp = current_local_sdp (peer);
  GST_DEBUG ("%s: sending the offer again (no answer yet)", peer->name);
  send_description (peer, GST_MESH_SIGNAL_OFFER, sdp);
  g_free (sdp);
}

void
gst_mesh_peer_resend_answer (GstMeshPeer * peer)
{
  gchar *sdp;

  if (peer->closed || peer->offerer || !peer->local_sdp)
    return;
  sdp = current_local_sdp (peer);
  GST_DEBUG ("%s: the remote sent its offer again, answering again",
      peer->name);
  send_description (peer, GST_MESH_SIGNAL_ANSWER, sdp);
  g_free (sdp);
}

/* ------------------------------------------------------------------------ */
/* Local candidates                                                         */

typedef struct
{
  guint mline;
  gchar *candidate;
} LocalCandidate;

static void
local_candidate_free (gpointer p)
{
  LocalCandidate *c = p;
  g_free (c->candidate);
  g_free (c);
}

static void
send_local_candidate (GstMeshPeer * peer, gpointer data)
{
  LocalCandidate *c = data;
  const gchar *mid = NULL;
  JsonArray *args;

  if (peer->local_mids && c->mline < g_strv_length (peer->local_mids))
    mid = peer->local_mids[c->mline];
  g_ptr_array_add (peer->local_candidates, g_strdup (c->candidate));
  args = gst_mesh_signal_candidate_args (c->candidate, mid, c->mline,
      peer->remote_id);
  peer->config.send (peer, "candidate", args, peer->config.user_data);
  json_array_unref (args);
}

static void
on_ice_candidate (GstElement * webrtc, guint mline, gchar * candidate,
    GstMeshPeer * peer)
{
  LocalCandidate *c = g_new0 (LocalCandidate, 1);

  c->mline = mline;
  c->candidate = g_strdup (candidate);
  gst_mesh_peer_defer (peer, send_local_candidate, c, local_candidate_free);
}

static void
report_gathered (GstMeshPeer * peer, gpointer data)
{
  if (!peer->config.gathered)
    return;
  g_ptr_array_add (peer->local_candidates, NULL);
  peer->config.gathered (peer,
      (const gchar * const *) peer->local_candidates->pdata,
      peer->config.user_data);
  g_ptr_array_remove_index (peer->local_candidates,
      peer->local_candidates->len - 1);
}

static void
on_ice_gathering_state_notify (GstElement * webrtc, GParamSpec * pspec,
    GstMeshPeer * peer)
{
  GstWebRTCICEGatheringState state;

  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  /* after every candidate already deferred: same queue, same order */
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    gst_mesh_peer_defer (peer, report_gathered, NULL, NULL);
}

/* ------------------------------------------------------------------------ */
/* Remote candidates                                                        */

static gint
mline_for_mid (GstMeshPeer * peer, const gchar * mid)
{
  if (!peer->remote_sdp || !mid)
    return -1;
  for (guint i = 0; i < gst_sdp_message_medias_len (peer->remote_sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (peer->remote_sdp, i);
    if (g_strcmp0 (gst_sdp_media_get_attribute_val (m, "mid"), mid) == 0)
      return i;
  }
  return -1;
}

static void
apply_candidate (GstMeshPeer * peer, PendingCandidate * c)
{
  gint mline = c->mid ? mline_for_mid (peer, c->mid) : -1;

  /* the mid names the m-line when both are given (as in
   * RTCPeerConnection.addIceCandidate) */
  if (mline < 0)
    mline = c->mline;
  if (mline < 0) {
    GST_WARNING ("%s: candidate for unknown mid '%s' dropped", peer->name,
        c->mid);
    return;
  }
  GST_LOG ("%s: remote candidate m-line %d: %s", peer->name, mline,
      c->candidate);
  g_signal_emit_by_name (peer->webrtc, "add-ice-candidate", (guint) mline,
      c->candidate);
  peer->remote_candidates++;
}

static void
flush_pending_candidates (GstMeshPeer * peer)
{
  PendingCandidate *c;

  while ((c = g_queue_pop_head (&peer->pending_candidates))) {
    apply_candidate (peer, c);
    pending_candidate_free (c);
  }
}

void
gst_mesh_peer_add_candidate (GstMeshPeer * peer,
    const GstMeshSignalMessage * msg)
{
  PendingCandidate *c;

  if (peer->closed || !msg->candidate || !*msg->candidate)
    return;                     /* end-of-candidates: nothing to do */
  c = g_new0 (PendingCandidate, 1);
  c->mline = msg->sdp_mline_index;
  c->mid = g_strdup (msg->sdp_mid);
  c->candidate = g_strdup (msg->candidate);
  if (peer->remote_set) {
    apply_candidate (peer, c);
    pending_candidate_free (c);
    return;
  }
  g_queue_push_tail (&peer->pending_candidates, c);
  while (peer->pending_candidates.length > MAX_PENDING_CANDIDATES)
    pending_candidate_free (g_queue_pop_head (&peer->pending_candidates));
}

/* ------------------------------------------------------------------------ */
/* Negotiation                                                              */

static gchar **
mids_of (const GstSDPMessage * sdp)
{
  guint n = gst_sdp_message_medias_len (sdp);
  gchar **mids = g_new0 (gchar *, n + 1);

  for (guint i = 0; i < n; i++)
    mids[i] = g_strdup (gst_sdp_media_get_attribute_val
        (gst_sdp_message_get_media (sdp, i), "mid"));
  return mids;
}

typedef struct
{
  GstPromise *promise;
} PromiseData;

static void
promise_data_free (gpointer p)
{
  PromiseData *d = p;
  gst_promise_unref (d->promise);
  g_free (d);
}

/* A promise the peer keeps until it is answered. */
typedef struct
{
  GstMeshPeer *peer;
  GstPromiseChangeFunc func;
  gpointer data;
  GDestroyNotify notify;
} Kept;

static void
kept_free (gpointer p)
{
  Kept *k = p;

  if (k->notify)
    k->notify (k->data);
  gst_mesh_peer_unref (k->peer);
  g_free (k);
}

static void
on_kept_promise (GstPromise * promise, gpointer user_data)
{
  Kept *k = user_data;
  gboolean kept;

  g_mutex_lock (&k->peer->lock);
  kept = g_ptr_array_remove_fast (k->peer->promises, promise);
  g_mutex_unlock (&k->peer->lock);
  k->func (promise, k->data);
  /* whoever answered holds its own reference */
  if (kept)
    gst_promise_unref (promise);
}

void
gst_mesh_peer_emit_promise (GstMeshPeer * peer, const gchar * signal,
    gpointer arg, GstPromiseChangeFunc func, gpointer data,
    GDestroyNotify notify)
{
  Kept *k = g_new0 (Kept, 1);
  GstPromise *promise;

  k->peer = gst_mesh_peer_ref (peer);
  k->func = func;
  k->data = data;
  k->notify = notify;
  promise = gst_promise_new_with_change_func (on_kept_promise, k, kept_free);
  /* kept before the emission: a closed webrtcbin answers inside it */
  g_mutex_lock (&peer->lock);
  g_ptr_array_add (peer->promises, gst_promise_ref (promise));
  g_mutex_unlock (&peer->lock);
  g_signal_emit_by_name (peer->webrtc, signal, arg, promise);
  gst_promise_unref (promise);
}

/* After webrtcbin stopped: what it never answered is interrupted (its
 * function is told so) and freed. Not gst_promise_expire(): in GStreamer
 * 1.22 it forgets the change data but not the notify, which is then
 * called with NULL. */
static void
expire_promises (GstMeshPeer * peer)
{
  GPtrArray *promises;

  g_mutex_lock (&peer->lock);
  promises = peer->promises;
  peer->promises = g_ptr_array_new ();
  g_mutex_unlock (&peer->lock);
  if (promises->len)
    GST_DEBUG ("%s: %u webrtcbin operations never ran", peer->name,
        promises->len);
  for (guint i = 0; i < promises->len; i++) {
    GstPromise *promise = g_ptr_array_index (promises, i);
    gst_promise_interrupt (promise);
    gst_promise_unref (promise);
  }
  g_ptr_array_unref (promises);
}

/* Hands a webrtcbin promise's reply to @func in the context. */
static void
on_promise (GstPromise * promise, gpointer user_data)
{
  Work *w = user_data;
  PromiseData *d;

  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_INTERRUPTED)
    return;                     /* the peer closed */
  d = g_new0 (PromiseData, 1);
  d->promise = gst_promise_ref (promise);
  gst_mesh_peer_defer (w->peer, w->func, d, promise_data_free);
}

/* Emits webrtcbin's action @signal with @arg (a description, or NULL for
 * create-offer/create-answer options), its reply going to @func in the
 * context. */
static void
emit_with_promise (GstMeshPeer * peer, const gchar * signal, gpointer arg,
    void (*func) (GstMeshPeer *, gpointer))
{
  Work *w = g_new0 (Work, 1);

  w->peer = gst_mesh_peer_ref (peer);
  w->func = func;
  gst_mesh_peer_emit_promise (peer, signal, arg, on_promise, w, free_work);
}

/* The description in a create-offer / create-answer reply, or NULL with a
 * warning naming what failed. */
static GstWebRTCSessionDescription *
reply_description (GstMeshPeer * peer, GstPromise * promise,
    const gchar * field)
{
  const GstStructure *reply;
  GstWebRTCSessionDescription *desc = NULL;
  GError *error = NULL;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    goto failed;
  reply = gst_promise_get_reply (promise);
  if (!reply)
    goto failed;
  if (gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL)) {
    GST_ELEMENT_WARNING (peer->bin, LIBRARY, FAILED,
        ("Cannot create the %s for %s", field, peer->name),
        ("%s", error->message));
    g_error_free (error);
    return NULL;
  }
  gst_structure_get (reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
      &desc, NULL);
  if (desc)
    return desc;
failed:
  GST_ELEMENT_WARNING (peer->bin, LIBRARY, FAILED,
      ("Cannot create the %s for %s", field, peer->name),
      ("webrtcbin gave no %s", field));
  return NULL;
}

static void
on_remote_set (GstMeshPeer * peer, gpointer data)
{
  PromiseData *d = data;
  const GstStructure *reply = gst_promise_get_reply (d->promise);
  GError *error = NULL;

  if (reply && gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL)) {
    gchar *reason = g_strdup_printf ("the remote %s was refused: %s",
        peer->offerer ? "answer" : "offer", error->message);
    GST_ELEMENT_WARNING (peer->bin, STREAM, FAILED,
        ("Cannot use the remote description of %s", peer->name),
        ("%s", reason));
    gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_FAILED, reason);
    g_free (reason);
    g_error_free (error);
    return;
  }
  peer->remote_set = TRUE;
  flush_pending_candidates (peer);
}

/* The H.264 preferences carry no profile-level-id (see
 * gst_mesh_peer_add_send_branch), and a missing one means baseline level
 * 1 (RFC 6184). Our offers state
 * constrained baseline 3.1; our answers echo the offer's, as browsers do
 * (the stream is constrained baseline, which every profile decodes). */
static const gchar *
offered_h264_profile (GstMeshPeer * peer, const gchar * prefix)
{
  for (guint j = 0; peer->remote_sdp &&
      j < gst_sdp_message_medias_len (peer->remote_sdp); j++) {
    const GstSDPMedia *om = gst_sdp_message_get_media (peer->remote_sdp, j);
    for (guint a = 0; a < gst_sdp_media_attributes_len (om); a++) {
      const GstSDPAttribute *at = gst_sdp_media_get_attribute (om, a);
      const gchar *p;
      if (g_strcmp0 (at->key, "fmtp") || !at->value ||
          !g_str_has_prefix (at->value, prefix))
        continue;
      p = strstr (at->value, "profile-level-id=");
      return p ? p + strlen ("profile-level-id=") : NULL;
    }
  }
  return NULL;
}

static void
set_h264_profile (GstMeshPeer * peer, GstSDPMessage * sdp)
{
  gint pt = peer->sent_pt[GST_MESH_MEDIA_VIDEO];
  gchar *prefix;
  const gchar *profile;

  if (peer->sent_codec[GST_MESH_MEDIA_VIDEO] != GST_MESH_CODEC_H264)
    return;
  prefix = g_strdup_printf ("%d ", pt);
  profile = !peer->offerer ? offered_h264_profile (peer, prefix) :
      peer->config.h264_profile[0] ? peer->config.h264_profile : "42e01f";
  for (guint i = 0; profile && i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);

    if (g_strcmp0 (gst_sdp_media_get_media (m), "video") != 0)
      continue;
    for (guint a = 0; a < gst_sdp_media_attributes_len (m); a++) {
      const GstSDPAttribute *at = gst_sdp_media_get_attribute (m, a);
      GstSDPAttribute repl;
      gchar *value;

      if (g_strcmp0 (at->key, "fmtp") || !at->value ||
          !g_str_has_prefix (at->value, prefix) ||
          strstr (at->value, "profile-level-id="))
        continue;
      value = g_strdup_printf ("%s;profile-level-id=%.6s", at->value,
          profile);
      gst_sdp_attribute_set (&repl, "fmtp", value);
      gst_sdp_media_replace_attribute (m, a, &repl);
      g_free (value);
      break;
    }
    break;
  }
  g_free (prefix);
}

/* webrtcbin 1.22 copies only a few of the offer's attributes into its
 * answers, and rtcp-rsize (RFC 5506) is not one: an offer from Chromium
 * or from webrtcbin itself was answered without it, and NACKs then waited
 * for compound RTCP (gstmeshpeernack.c). rtpsession reads reduced-size
 * RTCP whatever was negotiated; say so where the offer asked. */
static gboolean
has_attribute (const GstSDPMedia * m, const gchar * key)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (m); i++)
    if (!g_strcmp0 (gst_sdp_media_get_attribute (m, i)->key, key))
      return TRUE;
  return FALSE;
}

static void
accept_rtcp_rsize (GstMeshPeer * peer, GstSDPMessage * answer)
{
  const GstSDPMessage *offer = peer->remote_sdp;

  for (guint i = 0; offer && i < gst_sdp_message_medias_len (answer) &&
      i < gst_sdp_message_medias_len (offer); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (answer, i);
    const GstSDPMedia *o = gst_sdp_message_get_media (offer, i);

    if (gst_sdp_media_get_port (m) != 0 &&
        has_attribute (o, "rtcp-rsize") && !has_attribute (m, "rtcp-rsize"))
      /* "", not NULL: webrtcbin reads the answer's attributes as caps,
       * and a NULL value crashes gst_sdp_media_attributes_to_caps */
      gst_sdp_media_add_attribute (m, "rtcp-rsize", "");
  }
}

static void
on_answer_created (GstMeshPeer * peer, gpointer data)
{
  PromiseData *d = data;
  GstWebRTCSessionDescription *answer;

  answer = reply_description (peer, d->promise, "answer");
  if (!answer) {
    gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_FAILED,
        "webrtcbin could not answer the offer");
    return;
  }
  set_h264_profile (peer, answer->sdp);
  accept_rtcp_rsize (peer, answer->sdp);
  g_signal_emit_by_name (peer->webrtc, "set-local-description", answer, NULL);
  gst_sdp_message_add_attribute (answer->sdp, "tool", GST_MESH_SDP_TOOL);
  g_free (peer->local_sdp);
  peer->local_sdp = gst_sdp_message_as_text (answer->sdp);
  g_strfreev (peer->local_mids);
  peer->local_mids = mids_of (answer->sdp);
  GST_DEBUG ("%s: answer:\n%s", peer->name, peer->local_sdp);
  send_description (peer, GST_MESH_SIGNAL_ANSWER, peer->local_sdp);
  gst_webrtc_session_description_free (answer);
  gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_CONNECTING, "answered");
}

static void
on_offer_set_for_answer (GstMeshPeer * peer, gpointer data)
{
  on_remote_set (peer, data);
  if (peer->state == GST_MESH_CALL_STATE_FAILED)
    return;
  emit_with_promise (peer, "create-answer", NULL, on_answer_created);
}

static void
on_offer_created (GstMeshPeer * peer, gpointer data)
{
  PromiseData *d = data;
  GstWebRTCSessionDescription *offer;

  offer = reply_description (peer, d->promise, "offer");
  if (!offer) {
    gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_FAILED,
        "webrtcbin could not make an offer");
    return;
  }
  set_h264_profile (peer, offer->sdp);
  g_signal_emit_by_name (peer->webrtc, "set-local-description", offer, NULL);
  /* the remote's description is then known as ours (gstmeshpeerbwe.c:
   * FEC); webrtcbin has its copy without it */
  gst_sdp_message_add_attribute (offer->sdp, "tool", GST_MESH_SDP_TOOL);
  g_free (peer->local_sdp);
  peer->local_sdp = gst_sdp_message_as_text (offer->sdp);
  peer->local_session_id = gst_mesh_signal_session_id (offer->sdp);
  g_strfreev (peer->local_mids);
  peer->local_mids = mids_of (offer->sdp);
  GST_DEBUG ("%s: offer:\n%s", peer->name, peer->local_sdp);
  gst_webrtc_session_description_free (offer);

  peer->awaiting_answer = TRUE;
  send_description (peer, GST_MESH_SIGNAL_OFFER, peer->local_sdp);
  gst_mesh_clear_source (&peer->resend_source);
  if (peer->config.offer_interval)
    peer->resend_source = gst_mesh_peer_timeout_add (peer,
        peer->config.offer_interval, resend_offer_cb);
}

static void
create_offer (GstMeshPeer * peer)
{
  emit_with_promise (peer, "create-offer", NULL, on_offer_created);
}

static void
sync_children (GstMeshPeer * peer)
{
  gst_element_sync_state_with_parent (peer->webrtc);
}

void
gst_mesh_peer_call (GstMeshPeer * peer)
{
  GError *error = NULL;

  g_mutex_lock (&peer->lock);
  peer->offerer = TRUE;
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
    GstWebRTCRTPTransceiverDirection dir = peer->config.out[k] ?
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV :
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY;

    if (peer->config.tee[k]) {
      GstMeshCodec codec = peer->config.send_codec[k];
      gint pt = gst_mesh_codec_default_pt (codec);
      GstCaps *caps = gst_mesh_codec_rtp_caps (codec, pt);

      if (peer->config.congestion_control)
        gst_mesh_peer_caps_add_extmap (caps, GST_MESH_TWCC_OFFER_ID,
            GST_MESH_TWCC_URI);
      /* whoever answers may take it (a browser), or not (gst-mesh) */
      if (k == GST_MESH_MEDIA_VIDEO &&
          peer->config.playout_delay != GST_MESH_PLAYOUT_DELAY_RECEIVER)
        gst_mesh_peer_caps_add_extmap (caps, GST_MESH_PLAYOUT_DELAY_OFFER_ID,
            GST_MESH_PLAYOUT_DELAY_URI);

      if (!gst_mesh_peer_add_send_branch (peer, k, codec, pt, caps, dir,
          &error)) {
        GST_ELEMENT_WARNING (peer->bin, CORE, MISSING_PLUGIN,
            ("Cannot send %s", gst_mesh_media_kind_name (k)), ("%s",
                error->message));
        g_clear_error (&error);
      }
      gst_caps_unref (caps);
    } else if (peer->config.out[k]) {
      GstCaps *caps = gst_mesh_peer_receivable_caps (k);
      gst_mesh_peer_add_recv_transceiver (peer, k, caps);
      gst_caps_unref (caps);
    }
  }
  g_mutex_unlock (&peer->lock);
  sync_children (peer);
  /* before the offer, which then has its m=application line */
  gst_mesh_peer_data_create (peer);

  gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_CALLING, "calling");
  create_offer (peer);
}

/* Direction of an m-line as the offerer sees it. */
static void
media_directions (const GstSDPMedia * m, gboolean * they_send,
    gboolean * they_receive)
{
  *they_send = *they_receive = TRUE;
  if (gst_sdp_media_get_attribute_val (m, "sendonly"))
    *they_receive = FALSE;
  else if (gst_sdp_media_get_attribute_val (m, "recvonly"))
    *they_send = FALSE;
  else if (gst_sdp_media_get_attribute_val (m, "inactive"))
    *they_send = *they_receive = FALSE;
  /* port 0 rejects the m-line, unless it rides on the BUNDLE transport */
  if (gst_sdp_media_get_port (m) == 0 &&
      !gst_sdp_media_get_attribute_val (m, "bundle-only"))
    *they_send = *they_receive = FALSE;
}

static GstCaps *
offer_caps (const GstSDPMedia * m, gint pt)
{
  GstCaps *caps = gst_sdp_media_get_caps_from_media (m, pt);
  GstStructure *s;

  if (!caps)
    return NULL;
  caps = gst_caps_make_writable (caps);
  s = gst_caps_get_structure (caps, 0);
  gst_structure_set_name (s, "application/x-rtp");
  return caps;
}

/* Sets up sending and receiving for the first m-line of @kind in @offer. */
static void
plan_answer_media (GstMeshPeer * peer, GstMeshMediaKind kind,
    const GstSDPMessage * offer)
{
  const gchar *kind_name = gst_mesh_media_kind_name (kind);
  const GstSDPMedia *m = NULL;
  gboolean they_send, they_receive, sending, receiving;
  GstMeshCodec codec = GST_MESH_CODEC_NONE;
  gint pt = -1;
  GError *error = NULL;

  for (guint i = 0; i < gst_sdp_message_medias_len (offer); i++) {
    const GstSDPMedia *cand = gst_sdp_message_get_media (offer, i);
    if (g_strcmp0 (gst_sdp_media_get_media (cand), kind_name) == 0) {
      m = cand;
      break;
    }
  }
  if (!m)
    return;

  media_directions (m, &they_send, &they_receive);
  sending = peer->config.tee[kind] != NULL && they_receive;
  receiving = peer->config.out[kind] != NULL && they_send;

  if (sending && kind == GST_MESH_MEDIA_VIDEO &&
      peer->config.n_video_order > 0) {
    /* video-codecs: the first of ours that the offer has, none else */
    codec = peer->config.send_codec[kind];
    for (guint i = 0; i < peer->config.n_video_order && pt < 0; i++) {
      GstMeshCodec want = peer->config.video_order[i];
      gint want_pt = gst_mesh_codec_find_pt (want, m);

      if (want_pt < 0)
        continue;
      if (want != codec && !(peer->config.switch_codec &&
              peer->config.switch_codec (peer, kind, want,
                  peer->config.user_data)))
        continue;
      if (want != codec)
        GST_INFO ("%s: video-codecs: sending %s, the first the offer has",
            peer->name, gst_mesh_codec_encoding_name (want));
      codec = want;
      pt = want_pt;
    }
    if (pt < 0) {
      GST_ELEMENT_WARNING (peer->bin, STREAM, CODEC_NOT_FOUND,
          ("The remote's offer has none of video-codecs"),
          ("%s: sending no video", peer->name));
      sending = FALSE;
    }
  } else if (sending) {
    codec = peer->config.send_codec[kind];
    pt = gst_mesh_codec_find_pt (codec, m);
    if (pt < 0 && kind == GST_MESH_MEDIA_VIDEO) {
      /* the fallback first (VP8, which every endpoint must take), then
       * any other video codec of the offer that we can encode */
      const GstMeshCodec others[] = { gst_mesh_codec_fallback (codec),
        GST_MESH_CODEC_VP8, GST_MESH_CODEC_H264, GST_MESH_CODEC_VP9
      };

      for (guint i = 0; i < G_N_ELEMENTS (others) && pt < 0; i++) {
        GstMeshCodec other = others[i];
        gint other_pt = other == codec ? -1 :
            gst_mesh_codec_find_pt (other, m);

        if (other_pt >= 0 && gst_mesh_codec_can_encode (other) &&
            peer->config.switch_codec &&
            peer->config.switch_codec (peer, kind, other,
                peer->config.user_data)) {
          GST_ELEMENT_WARNING (peer->bin, STREAM, CODEC_NOT_FOUND,
              ("The remote does not accept %s video, sending %s instead",
                  gst_mesh_codec_encoding_name (codec),
                  gst_mesh_codec_encoding_name (other)),
              ("%s: offer has no usable %s format", peer->name,
                  gst_mesh_codec_encoding_name (codec)));
          codec = other;
          pt = other_pt;
        }
      }
    }
    if (pt < 0) {
      GST_ELEMENT_WARNING (peer->bin, STREAM, CODEC_NOT_FOUND,
          ("The remote accepts no %s codec we can send", kind_name),
          ("%s: wanted %s", peer->name,
              gst_mesh_codec_encoding_name (peer->config.send_codec[kind])));
      sending = FALSE;
    }
  }

  if (sending) {
    GstCaps *caps = offer_caps (m, pt);
    GstWebRTCRTPTransceiverDirection dir = receiving ?
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV :
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY;

    guint twcc = gst_mesh_peer_extmap_id_in_media (m, GST_MESH_TWCC_URI);

    if (!caps)
      caps = gst_mesh_codec_rtp_caps (codec, pt);
    /* the remote can give feedback: answer with the id it chose */
    if (peer->config.congestion_control && twcc)
      gst_mesh_peer_caps_add_extmap (caps, twcc, GST_MESH_TWCC_URI);
    /* a browser's receiver obeys it; ours do not read it */
    if (kind == GST_MESH_MEDIA_VIDEO && !gst_mesh_peer_remote_is_ours (peer) &&
        peer->config.playout_delay != GST_MESH_PLAYOUT_DELAY_RECEIVER) {
      guint pd = gst_mesh_peer_extmap_id_in_media (m,
          GST_MESH_PLAYOUT_DELAY_URI);

      if (pd)
        gst_mesh_peer_caps_add_extmap (caps, pd, GST_MESH_PLAYOUT_DELAY_URI);
    }
    if (!gst_mesh_peer_add_send_branch (peer, kind, codec, pt, caps, dir,
        &error)) {
      GST_ELEMENT_WARNING (peer->bin, CORE, MISSING_PLUGIN,
          ("Cannot send %s", kind_name), ("%s", error->message));
      g_clear_error (&error);
    }
    gst_caps_unref (caps);
  } else if (receiving) {
    /* receive what we decode best among what they offer */
    static const GstMeshCodec order[] = { GST_MESH_CODEC_VP8,
      GST_MESH_CODEC_H264, GST_MESH_CODEC_VP9, GST_MESH_CODEC_OPUS
    };
    GstCaps *caps = NULL;

    for (guint i = 0; i < G_N_ELEMENTS (order) && !caps; i++) {
      gint rpt;
      if (gst_mesh_codec_kind (order[i]) != kind)
        continue;
      rpt = gst_mesh_codec_find_pt (order[i], m);
      if (rpt >= 0)
        caps = offer_caps (m, rpt);
    }
    if (caps) {
      gst_mesh_peer_add_recv_transceiver (peer, kind, caps);
      gst_caps_unref (caps);
    } else {
      GST_ELEMENT_WARNING (peer->bin, STREAM, CODEC_NOT_FOUND,
          ("The remote offers no %s codec we can decode", kind_name),
          ("%s", peer->name));
    }
  }
}

static void
set_remote_offer (GstMeshPeer * peer)
{
  GstSDPMessage *sdp = NULL;
  GstWebRTCSessionDescription *desc;

  gst_sdp_message_copy (peer->remote_sdp, &sdp);
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  emit_with_promise (peer, "set-remote-description", desc,
      on_offer_set_for_answer);
  gst_webrtc_session_description_free (desc);
}

/* the peer context: the remote side's latest description, kept whole
 * (for the answer's plan and the codec checks) and read once for what
 * the feedback needs */
static void
keep_remote_description (GstMeshPeer * peer, const GstSDPMessage * sdp)
{
  if (peer->remote_sdp)
    gst_sdp_message_free (peer->remote_sdp);
  gst_sdp_message_copy (sdp, &peer->remote_sdp);
  peer->remote_session_id = gst_mesh_signal_session_id (sdp);
  peer->remote_session_version = gst_mesh_signal_session_version (sdp);
  gst_mesh_peer_bwe_remote_description (peer, sdp);
}

gboolean
gst_mesh_peer_answer (GstMeshPeer * peer, const GstMeshSignalMessage * offer,
    GError ** error)
{
  GstSDPMessage *sdp = NULL;

  if (gst_sdp_message_copy (offer->sdp_message, &sdp) != GST_SDP_OK) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SDP,
        "cannot copy the offer");
    return FALSE;
  }
  keep_remote_description (peer, sdp);
  peer->offerer = FALSE;

  g_mutex_lock (&peer->lock);
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++)
    plan_answer_media (peer, k, sdp);
  g_mutex_unlock (&peer->lock);
  sync_children (peer);

  gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_CONNECTING,
      "answering an offer");
  /* remote_sdp keeps a copy; this one goes to webrtcbin */
  gst_sdp_message_free (sdp);
  set_remote_offer (peer);
  return TRUE;
}

GstMeshCodec
gst_mesh_peer_refused_video_codec (GstMeshPeer * peer,
    const GstMeshSignalMessage * answer)
{
  GstMeshCodec codec = peer->sent_codec[GST_MESH_MEDIA_VIDEO];
  gchar *pt;

  if (codec == GST_MESH_CODEC_NONE || !answer->sdp_message)
    return GST_MESH_CODEC_NONE;
  pt = g_strdup_printf ("%d", peer->sent_pt[GST_MESH_MEDIA_VIDEO]);
  for (guint i = 0; i < gst_sdp_message_medias_len (answer->sdp_message);
      i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (answer->sdp_message, i);
    gboolean has_pt = FALSE;

    if (g_strcmp0 (gst_sdp_media_get_media (m), "video") != 0)
      continue;
    for (guint f = 0; f < gst_sdp_media_formats_len (m); f++)
      has_pt |= g_strcmp0 (gst_sdp_media_get_format (m, f), pt) == 0;
    g_free (pt);
    /* answers do not use bundle-only: port 0 is a refusal */
    if (gst_sdp_media_get_port (m) == 0 || !has_pt)
      return codec;
    return GST_MESH_CODEC_NONE;
  }
  g_free (pt);
  return codec;
}

gboolean
gst_mesh_peer_set_answer (GstMeshPeer * peer,
    const GstMeshSignalMessage * answer, GError ** error)
{
  GstSDPMessage *sdp = NULL;
  GstWebRTCSessionDescription *desc;

  if (!peer->awaiting_answer) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "answer while not waiting for one");
    return FALSE;
  }
  gst_sdp_message_copy (answer->sdp_message, &sdp);
  keep_remote_description (peer, sdp);
  gst_mesh_peer_fec_remote_answer (peer);
  gst_mesh_peer_playout_remote_answer (peer, sdp);
  peer->awaiting_answer = FALSE;
  gst_mesh_clear_source (&peer->resend_source);

  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  emit_with_promise (peer, "set-remote-description", desc, on_remote_set);
  gst_webrtc_session_description_free (desc);
  gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_CONNECTING, "answered");
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */

/* libnice's defaults are made for the open Internet: a connectivity check
 * every 20 ms, UPnP port mapping (which holds gathering up to 200 ms) and
 * ICE-TCP candidates that double the pairs to check. A call between
 * browsers and pipelines wants UDP host/srflx/relay candidates checked
 * quickly; browsers pace at 5 ms too. */
static void
tune_ice_agent (GstElement * webrtc)
{
  GObject *ice = NULL, *agent = NULL;

  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (!ice)
    return;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
    g_object_get (ice, "agent", &agent, NULL);
  if (agent) {
    GObjectClass *k = G_OBJECT_GET_CLASS (agent);
    if (g_object_class_find_property (k, "stun-pacing-timer"))
      g_object_set (agent, "stun-pacing-timer", 5u, NULL);
    if (g_object_class_find_property (k, "upnp"))
      g_object_set (agent, "upnp", FALSE, NULL);
    if (g_object_class_find_property (k, "ice-tcp"))
      g_object_set (agent, "ice-tcp", FALSE, NULL);
    g_object_unref (agent);
  }
  g_object_unref (ice);
}

GstMeshPeer *
gst_mesh_peer_new (const GstMeshPeerConfig * config, guint id,
    const gchar * remote_id)
{
  GstMeshPeer *peer = g_new0 (GstMeshPeer, 1);
  static gsize debug_init = 0;

  if (g_once_init_enter (&debug_init)) {
    GST_DEBUG_CATEGORY_INIT (mesh_peer_debug, "meshpeer", 0,
        "meshsignal peer connections");
    g_once_init_leave (&debug_init, 1);
  }

  peer->ref_count = 1;
  peer->config = *config;
  peer->config.stun_server = g_strdup (config->stun_server);
  peer->config.turn_servers = g_strdupv (config->turn_servers);
  peer->config.context = g_main_context_ref (config->context);
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
    if (config->tee[k])
      gst_object_ref (config->tee[k]);
    if (config->out[k])
      gst_object_ref (config->out[k]);
  }
  peer->id = id;
  peer->remote_id = g_strdup (remote_id);
  peer->name = g_strdup_printf ("call%u", id);
  peer->bin = config->bin;
  peer->state = GST_MESH_CALL_STATE_IDLE;
  peer->start_time = g_get_monotonic_time ();
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
    peer->sent_codec[k] = GST_MESH_CODEC_NONE;
    peer->sent_pt[k] = -1;
  }
  g_mutex_init (&peer->lock);
  gst_mesh_peer_bwe_init (peer);
  gst_mesh_peer_nack_init (peer);
  g_mutex_init (&peer->data_lock);
  peer->assembler = gst_mesh_data_assembler_new (0);
  peer->elements = g_ptr_array_new_with_free_func (gst_object_unref);
  peer->tee_pads = g_ptr_array_new ();
  peer->out_pads = g_ptr_array_new ();
  peer->jitterbuffers = g_ptr_array_new_with_free_func (gst_object_unref);
  peer->playout_jitter = -1;
  peer->peer_pads = g_ptr_array_new ();
  peer->remote_ssrcs = g_array_new (FALSE, FALSE, sizeof (guint));
  peer->promises = g_ptr_array_new ();
  g_queue_init (&peer->pending_candidates);

  peer->webrtc = gst_element_factory_make ("webrtcbin", peer->name);
  g_object_set (peer->webrtc, "latency", config->latency, NULL);
  gst_util_set_object_arg (G_OBJECT (peer->webrtc), "bundle-policy",
      "max-bundle");
  if (config->stun_server && *config->stun_server)
    g_object_set (peer->webrtc, "stun-server", config->stun_server, NULL);
  for (guint i = 0; config->turn_servers && config->turn_servers[i]; i++) {
    gboolean added = FALSE;

    g_signal_emit_by_name (peer->webrtc, "add-turn-server",
        config->turn_servers[i], &added);
    if (!added)
      GST_WARNING ("%s: webrtcbin refused TURN server %d", peer->name, i);
  }
  if (config->relay_only)
    gst_util_set_object_arg (G_OBJECT (peer->webrtc), "ice-transport-policy",
        "relay");
  peer->local_candidates = g_ptr_array_new_with_free_func (g_free);
  tune_ice_agent (peer->webrtc);
  peer->rtpbin = gst_bin_get_by_name (GST_BIN (peer->webrtc), "rtpbin");
  g_signal_connect (peer->webrtc, "deep-element-added",
      G_CALLBACK (gst_mesh_peer_on_deep_element_added), peer);
  if (peer->rtpbin) {
    g_signal_connect (peer->rtpbin, "on-bye-ssrc",
        G_CALLBACK (gst_mesh_peer_on_bye_ssrc),
        peer);
    if (config->fec)
      g_signal_connect (peer->rtpbin, "pad-added",
          G_CALLBACK (gst_mesh_peer_fec_on_rtpbin_pad), peer);
    g_signal_connect (peer->rtpbin, "new-jitterbuffer",
        G_CALLBACK (gst_mesh_peer_on_new_jitterbuffer), peer);
  }
  g_signal_connect (peer->webrtc, "on-ice-candidate",
      G_CALLBACK (on_ice_candidate), peer);
  g_signal_connect (peer->webrtc, "notify::ice-gathering-state",
      G_CALLBACK (on_ice_gathering_state_notify), peer);
  g_signal_connect (peer->webrtc, "pad-added",
      G_CALLBACK (gst_mesh_peer_on_pad_added),
      peer);
  g_signal_connect (peer->webrtc, "notify::ice-connection-state",
      G_CALLBACK (gst_mesh_peer_on_ice_connection_state_notify), peer);
  g_signal_connect (peer->webrtc, "notify::connection-state",
      G_CALLBACK (gst_mesh_peer_on_connection_state_notify), peer);
  g_signal_connect (peer->webrtc, "on-data-channel",
      G_CALLBACK (gst_mesh_peer_data_on_channel), peer);
  gst_bin_add (peer->bin, gst_object_ref (peer->webrtc));

  peer->watchdog_source = gst_mesh_peer_timeout_add (peer, WATCHDOG_PERIOD_MS,
      gst_mesh_peer_watchdog);
  return peer;
}

const GstMeshPeerConfig *
gst_mesh_peer_get_config (GstMeshPeer * peer)
{
  return &peer->config;
}

GstMeshPeer *
gst_mesh_peer_ref (GstMeshPeer * peer)
{
  g_atomic_int_inc (&peer->ref_count);
  return peer;
}

void
gst_mesh_peer_unref (GstMeshPeer * peer)
{
  if (!g_atomic_int_dec_and_test (&peer->ref_count))
    return;
  g_assert (peer->closed);
  g_ptr_array_unref (peer->elements);
  g_ptr_array_unref (peer->tee_pads);
  g_ptr_array_unref (peer->out_pads);
  g_ptr_array_unref (peer->peer_pads);
  g_array_unref (peer->remote_ssrcs);
  g_ptr_array_unref (peer->promises);
  g_queue_clear_full (&peer->pending_candidates,
      (GDestroyNotify) pending_candidate_free);
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
    if (peer->config.tee[k])
      gst_object_unref (peer->config.tee[k]);
    if (peer->config.out[k])
      gst_object_unref (peer->config.out[k]);
  }
  if (peer->remote_sdp)
    gst_sdp_message_free (peer->remote_sdp);
  g_strfreev (peer->local_mids);
  g_free (peer->local_sdp);
  g_free (peer->config.stun_server);
  g_strfreev (peer->config.turn_servers);
  g_ptr_array_unref (peer->local_candidates);
  g_clear_pointer (&peer->bwe, gst_mesh_bwe_free);
  g_clear_object (&peer->fec_trans);
  gst_clear_object (&peer->playout_ext);
  gst_mesh_peer_bwe_clear (peer);
  gst_mesh_peer_nack_clear (peer);
  g_ptr_array_unref (peer->jitterbuffers);
  g_main_context_unref (peer->config.context);
  gst_object_unref (peer->webrtc);
  if (peer->rtpbin)
    gst_object_unref (peer->rtpbin);
  g_mutex_clear (&peer->lock);
  g_mutex_clear (&peer->data_lock);
  gst_mesh_data_assembler_free (peer->assembler);
  g_free (peer->remote_id);
  g_free (peer->name);
  g_free (peer);
}

void
gst_mesh_peer_close (GstMeshPeer * peer)
{
  GPtrArray *elements, *tee_pads, *out_pads, *peer_pads;

  gst_mesh_peer_close_gates (peer);
  g_mutex_lock (&peer->lock);
  if (peer->closed) {
    g_mutex_unlock (&peer->lock);
    return;
  }
  peer->closed = TRUE;
  elements = peer->elements;
  tee_pads = peer->tee_pads;
  out_pads = peer->out_pads;
  peer_pads = peer->peer_pads;
  peer->elements = g_ptr_array_new_with_free_func (gst_object_unref);
  peer->tee_pads = g_ptr_array_new ();
  peer->out_pads = g_ptr_array_new ();
  peer->peer_pads = g_ptr_array_new ();
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
    g_clear_object (&peer->send_pad[k]);
  }
  g_ptr_array_set_size (peer->jitterbuffers, 0);
  g_mutex_unlock (&peer->lock);

  gst_mesh_clear_source (&peer->resend_source);
  gst_mesh_clear_source (&peer->watchdog_source);
  gst_mesh_peer_bwe_close (peer);
  gst_mesh_peer_nack_close (peer);
  GST_INFO ("%s: tearing down", peer->name);

  /* 1. stop feeding it: the tees go on for everyone else */
  for (guint i = 0; i < tee_pads->len; i++) {
    GstPad *pad = g_ptr_array_index (tee_pads, i);
    GstElement *tee = gst_pad_get_parent_element (pad);
    if (tee) {
      gst_mesh_release_tee_pad_idle (tee, pad);
      gst_object_unref (tee);
    }
    gst_object_unref (pad);
  }
  g_signal_handlers_disconnect_by_data (peer->webrtc, peer);
  if (peer->rtpbin)
    g_signal_handlers_disconnect_by_data (peer->rtpbin, peer);

  /* 2. let go of the mixers first. Stopping webrtcbin waits for its
   * streaming threads, and one of them may be blocked in a mixer's pad,
   * whose queue stays full while the mixer's own thread waits in a paused
   * sink: the application is changing the pipeline's state, sinks first,
   * and will come to this bin next. Releasing the pad flushes it, which
   * sets that thread free; what the decoder makes after that is dropped,
   * not pushed into an unlinked pad (NOT_LINKED would be an error). */
  for (guint i = 0; i < out_pads->len; i++) {
    GstPad *pad = g_ptr_array_index (out_pads, i);
    GstPad *src = gst_pad_get_peer (pad);
    GstElement *out = gst_pad_get_parent_element (pad);
    if (src) {
      gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_BUFFER_LIST, gst_mesh_peer_drop_probe, NULL, NULL);
      gst_object_unref (src);
    }
    if (out) {
      gst_element_release_request_pad (out, pad);
      gst_object_unref (out);
    }
    gst_object_unref (pad);
  }
  for (guint i = 0; i < peer_pads->len; i++) {
    GstPad *pad = g_ptr_array_index (peer_pads, i);
    if (GST_OBJECT_PARENT (pad) == GST_OBJECT (peer->bin))
      gst_element_remove_pad (GST_ELEMENT (peer->bin), pad);
    gst_object_unref (pad);
  }
  g_ptr_array_unref (peer_pads);

  /* 3. out of the bin before they stop: a state change of the
   * application's then no longer waits for their state locks while we
   * wait for their threads (removing also unlinks them) */
  gst_element_set_locked_state (peer->webrtc, TRUE);
  gst_bin_remove (peer->bin, peer->webrtc);
  for (guint i = 0; i < elements->len; i++) {
    GstElement *e = g_ptr_array_index (elements, i);
    gst_element_set_locked_state (e, TRUE);
    gst_bin_remove (peer->bin, e);
  }

  /* 4. stop webrtcbin, so nothing pushes into the decoders any more; then
   * the decoders and branches */
  gst_element_set_state (peer->webrtc, GST_STATE_NULL);
  for (guint i = 0; i < elements->len; i++)
    gst_element_set_state (g_ptr_array_index (elements, i), GST_STATE_NULL);
  expire_promises (peer);
  /* 5. webrtcbin's thread is gone: no channel handler runs any more */
  gst_mesh_peer_data_close (peer);

  g_ptr_array_unref (elements);
  g_ptr_array_unref (tee_pads);
  g_ptr_array_unref (out_pads);
}

guint
gst_mesh_peer_get_id (GstMeshPeer * peer)
{
  return peer->id;
}

const gchar *
gst_mesh_peer_get_remote_id (GstMeshPeer * peer)
{
  return peer->remote_id;
}

void
gst_mesh_peer_set_remote_id (GstMeshPeer * peer, const gchar * remote_id)
{
  gchar *old;

  GST_INFO ("%s: the remote is now %s (was %s)", peer->name, remote_id,
      peer->remote_id);
  /* under the lock: the data channel's thread reads it */
  g_mutex_lock (&peer->lock);
  old = peer->remote_id;
  peer->remote_id = g_strdup (remote_id);
  g_mutex_unlock (&peer->lock);
  g_free (old);
}

gchar *
gst_mesh_peer_dup_label (GstMeshPeer * peer)
{
  gchar *label;

  g_mutex_lock (&peer->lock);
  label = g_strdup (peer->remote_id ? peer->remote_id : peer->name);
  g_mutex_unlock (&peer->lock);
  return label;
}

GstElement *
gst_mesh_peer_get_webrtcbin (GstMeshPeer * peer)
{
  return peer->webrtc;
}

GstMeshCallState
gst_mesh_peer_get_state (GstMeshPeer * peer)
{
  return peer->state;
}

guint
gst_mesh_peer_get_decoded (GstMeshPeer * peer, GstMeshMediaKind kind)
{
  return (guint) g_atomic_int_get (&peer->decoded[kind]);
}

gboolean
gst_mesh_peer_is_offerer (GstMeshPeer * peer)
{
  return peer->offerer;
}

guint64
gst_mesh_peer_get_local_session_id (GstMeshPeer * peer)
{
  return peer->local_session_id;
}

guint64
gst_mesh_peer_get_remote_session_id (GstMeshPeer * peer)
{
  return peer->remote_session_id;
}

guint64
gst_mesh_peer_get_remote_session_version (GstMeshPeer * peer)
{
  return peer->remote_session_version;
}

gboolean
gst_mesh_peer_awaits_answer (GstMeshPeer * peer)
{
  return peer->awaiting_answer;
}

gint64
gst_mesh_peer_get_start_time (GstMeshPeer * peer)
{
  return peer->start_time;
}
