/* gst-mesh: meshsignal's 1:1 call, the seed's policy (docs/protocol.md
 * §3): `wait` answers offers; `call` offers and re-sends until answered,
 * and calls again when a call ends; a duplicate offer (same `o=` id and
 * version) gets the same answer again; a colliding offer loses to the
 * larger session id on both sides; a new offer replaces the call;
 * candidates before any offer wait in a bounded queue. A side whose
 * signalling reconnects while the call's media is silent calls again at
 * once, even a waiting one (its network changed under both). An answer
 * that refuses our video codec makes the encoder switch and the caller
 * call again, once. A waiter whose call failed offers once itself.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsignalprivate.h"
#include "gst/mesh/gstmeshprivate.h"

static void start_call (GstMeshSignal * self);

static gboolean
recall_cb (gpointer user_data)
{
  GstMeshSignal *self = user_data;

  g_source_unref (self->recall_source);
  self->recall_source = NULL;
  if (!self->peer)
    start_call (self);
  return G_SOURCE_REMOVE;
}

/* Ends the 1:1 call; posts @state for it unless that is IDLE. */
static void
end_call (GstMeshSignal * self, GstMeshCallState state, const gchar * reason)
{
  GstMeshPeer *peer = self->peer;

  if (!peer)
    return;
  self->peer = NULL;
  g_atomic_int_set (&self->call_state, GST_MESH_CALL_STATE_IDLE);
  g_object_notify (G_OBJECT (self), "call-state");
  gst_mesh_signal_close_peer (self, peer, state, reason);
}

/* Ends the current call for @reason: removed first, then said on the bus,
 * so that whoever hears it finds the bin without it. */
static void
finish_call (GstMeshSignal * self, const gchar * reason)
{
  end_call (self, GST_MESH_CALL_STATE_ENDED, reason);
}

static void
call_peer_state (GstMeshSignal * self, GstMeshPeer * peer,
    GstMeshCallState state, const gchar * reason)
{
  gboolean over = state == GST_MESH_CALL_STATE_ENDED ||
      state == GST_MESH_CALL_STATE_FAILED;

  if (peer != self->peer)
    return;
  GST_INFO_OBJECT (self, "call %u: %s (%s)", gst_mesh_peer_get_id (peer),
      gst_mesh_signal_enum_nick (GST_TYPE_MESH_CALL_STATE, state), reason);
  /* gone before anyone hears that it ended: an application that reacts
   * to the message finds the bin without the old call */
  if (over)
    end_call (self, state, reason);
  else {
    g_atomic_int_set (&self->call_state, state);
    g_object_notify (G_OBJECT (self), "call-state");
    gst_mesh_signal_post_call_state (self, peer, state, reason);
  }

  if (state == GST_MESH_CALL_STATE_CONNECTED)
    self->stall_offered = FALSE;
  /* a caller calls again, so the next peer to come finds a call. A waiter
   * whose call failed (never connected by connect-timeout, or ICE failed)
   * offers once: the seed's page that made the stuck call does not offer
   * again, while it takes an offer from either side. A caller pipeline
   * calls again too; the session-id rule picks one of the two offers. */
  if (over && self->role == GST_MESH_SIGNAL_ROLE_WAIT &&
      state == GST_MESH_CALL_STATE_FAILED && !self->stall_offered) {
    self->stall_offered = TRUE;
    GST_INFO_OBJECT (self, "the call failed: offering once ourselves");
  } else if (self->role != GST_MESH_SIGNAL_ROLE_CALL)
    over = FALSE;
  if (over && !self->recall_source) {
    self->recall_source = g_timeout_source_new (100);
    g_source_set_callback (self->recall_source, recall_cb, self, NULL);
    g_source_attach (self->recall_source, self->context);
  }
}

static void
start_call (GstMeshSignal * self)
{
  if (self->peer)
    return;
  self->peer = gst_mesh_signal_new_peer (self, NULL);
  GST_INFO_OBJECT (self, "call %u: calling", gst_mesh_peer_get_id (self->peer));
  gst_mesh_peer_call (self->peer);
}

/* The codec to call again with when the remote refused @refused: the next
 * of video-codecs, or (without it) the fallback; NONE when there is none. */
static GstMeshCodec
next_video_codec (GstMeshSignal * self, GstMeshCodec refused)
{
  GstMeshCodec order[GST_MESH_MAX_VIDEO_CODECS];
  guint n = 0;

  if (!self->video_codecs)
    return gst_mesh_codec_fallback (refused);
  gst_mesh_signal_video_order (self, order, &n, NULL);
  for (guint i = 0; i + 1 < n; i++)
    if (order[i] == refused)
      return order[i + 1];
  return GST_MESH_CODEC_NONE;
}

/* The remote refused our video's m-line. That m-line leads the BUNDLE
 * group, and webrtcbin 1.22 does not move the group to the next one (ICE
 * never starts: "ICE new" until connect-timeout), so the call that keeps
 * the rest is a new one, whose offer sends no video. */
static void
recall_without_video (GstMeshSignal * self)
{
  self->video_refused = TRUE;
  finish_call (self, "the remote refused our video");
  start_call (self);
}

static void
handle_offer (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  GstMeshPeer *peer = self->peer;
  guint64 rid = gst_mesh_signal_session_id (msg->sdp_message);
  guint64 rver = gst_mesh_signal_session_version (msg->sdp_message);
  GError *error = NULL;
  GstMeshSignalMessage *c;

  if (peer && !gst_mesh_peer_is_offerer (peer) &&
      gst_mesh_peer_get_remote_session_id (peer) == rid &&
      gst_mesh_peer_get_remote_session_version (peer) == rver) {
    /* the caller did not get our answer yet, or re-sent before it came */
    gst_mesh_peer_resend_answer (peer);
    return;
  }

  if (peer && gst_mesh_peer_awaits_answer (peer)) {
    guint64 ours = gst_mesh_peer_get_local_session_id (peer);
    /* Both sides called at once. Both apply the same rule, so exactly one
     * offer survives: the one with the larger o= session id. */
    if (ours > rid) {
      GST_INFO_OBJECT (self, "offer collision: our session %" G_GUINT64_FORMAT
          " beats %" G_GUINT64_FORMAT ", keeping our offer", ours, rid);
      /* the other side is there now: it may have missed our offer */
      gst_mesh_peer_resend_offer (peer);
      return;
    }
    GST_INFO_OBJECT (self, "offer collision: session %" G_GUINT64_FORMAT
        " beats ours %" G_GUINT64_FORMAT ", answering it", rid, ours);
    finish_call (self, "offer collision: answering the other side's offer");
  } else if (peer) {
    finish_call (self, "replaced by a new offer");
  }

  /* an offer says itself what it takes: our answer sends video if it
   * can, whatever an earlier callee refused */
  self->video_refused = FALSE;
  self->peer = gst_mesh_signal_new_peer (self, msg->from);
  GST_INFO_OBJECT (self, "call %u: answering an offer (session %"
      G_GUINT64_FORMAT ")", gst_mesh_peer_get_id (self->peer), rid);
  if (!gst_mesh_peer_answer (self->peer, msg, &error)) {
    gst_mesh_signal_warn_bad_message (self, "offer", error->message);
    g_error_free (error);
    end_call (self, GST_MESH_CALL_STATE_IDLE, NULL);
    return;
  }
  /* candidates that came ahead of the offer belong to it */
  while ((c = g_queue_pop_head (&self->early_candidates))) {
    gst_mesh_peer_add_candidate (self->peer, c);
    gst_mesh_signal_message_free (c);
  }
}

static void
handle_answer (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  GstMeshPeer *peer = self->peer;
  GError *error = NULL;

  if (peer && gst_mesh_peer_awaits_answer (peer)) {
    GstMeshCodec refused = gst_mesh_peer_refused_video_codec (peer, msg);

    if (refused != GST_MESH_CODEC_NONE) {
      GstMeshCodec other = next_video_codec (self, refused);
      gboolean encoded = self->in[GST_MESH_MEDIA_VIDEO].passthrough;

      /* video encoded before the element cannot become another codec */
      if (encoded) {
        GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
            ("The remote cannot decode the %s video given to video_sink",
                gst_mesh_codec_encoding_name (refused)),
            ("call %u: the answer rejects %s; calling again without "
                "sending video", gst_mesh_peer_get_id (peer),
                gst_mesh_codec_encoding_name (refused)));
        recall_without_video (self);
        return;
      } else if (other != GST_MESH_CODEC_NONE &&
          (self->video_codecs || !self->codec_fallback_done) &&
          gst_mesh_codec_can_encode (other)) {
        /* once, or along video-codecs: each codec is offered once */
        self->codec_fallback_done = TRUE;
        GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
            ("The remote does not accept %s video, calling again with %s",
                gst_mesh_codec_encoding_name (refused),
                gst_mesh_codec_encoding_name (other)),
            ("call %u: the answer rejects payload type of %s",
                gst_mesh_peer_get_id (peer),
                gst_mesh_codec_encoding_name (refused)));
        /* the old call's branch goes first: it wants the old codec */
        finish_call (self, "the remote refused our video codec");
        gst_mesh_input_switch_codec (NULL, GST_MESH_MEDIA_VIDEO, other, self);
        start_call (self);
        return;
      } else {
        GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
            ("The remote accepts no video codec we can send"),
            ("call %u: the answer rejects %s; calling again without "
                "sending video", gst_mesh_peer_get_id (peer),
                gst_mesh_codec_encoding_name (refused)));
        recall_without_video (self);
        return;
      }
    }
    if (!gst_mesh_peer_set_answer (peer, msg, &error)) {
      gst_mesh_signal_warn_bad_message (self, "answer", error->message);
      g_error_free (error);
    }
    return;
  }
  if (peer && gst_mesh_peer_is_offerer (peer) &&
      gst_mesh_peer_get_remote_session_id (peer) !=
      gst_mesh_signal_session_id (msg->sdp_message)) {
    /* A second answer from a new session: the remote answered one of our
     * re-sent offers with a fresh peer connection and dropped the one we
     * are talking to. Only a new call can reach it now. */
    GST_INFO_OBJECT (self, "a new answer session: the remote started over");
    finish_call (self, "the remote answered again from a new session");
    start_call (self);
    return;
  }
  GST_DEBUG_OBJECT (self, "ignoring an answer nobody waits for");
}

static void
handle_candidate (GstMeshSignalMessage * msg, GstMeshSignal * self)
{
  if (self->peer) {
    gst_mesh_peer_add_candidate (self->peer, msg);
    gst_mesh_signal_message_free (msg);
    return;
  }
  g_queue_push_tail (&self->early_candidates, msg);
  while (self->early_candidates.length > MAX_EARLY_CANDIDATES)
    gst_mesh_signal_message_free (g_queue_pop_head (&self->early_candidates));
}

/* ------------------------------------------------------------------------ */
/* The session                                                              */

static void
call_start (GstMeshSignal * self)
{
  self->stall_offered = FALSE;
  self->codec_fallback_done = FALSE;
  self->video_refused = FALSE;
}

/* Our network changed under both the signalling and the call (a new NAT
 * mapping, a new address): the call's ICE pair is as dead as the old
 * connection was. A new call now, not after peer-timeout; the other side
 * cannot know, so even a waiting side offers this once (the seed's pages
 * take offers from either side, and meshsignal replaces its call with
 * it). */
static void
call_path_lost (GstMeshSignal * self, GstMeshPeer * peer)
{
  if (peer != self->peer)
    return;
  finish_call (self, "the network changed: calling again");
  start_call (self);
}

static void
call_connected (GstMeshSignal * self)
{
  if (self->peer && gst_mesh_peer_is_quiet (self->peer)) {
    /* Signalling had to reconnect while the call's media stopped */
    call_path_lost (self, self->peer);
  } else if (self->role == GST_MESH_SIGNAL_ROLE_CALL && !self->peer)
    start_call (self);
  else if (self->peer)
    /* the server may have restarted and lost what we sent */
    gst_mesh_peer_resend_offer (self->peer);
}

static void
call_disconnected (GstMeshSignal * self)
{
  /* the call goes on without the server */
}

static gboolean
call_event (GstMeshSignal * self, const gchar * name, JsonArray * args)
{
  return FALSE;
}

static void
call_message (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  switch (msg->kind) {
    case GST_MESH_SIGNAL_OFFER:
      handle_offer (self, msg);
      break;
    case GST_MESH_SIGNAL_ANSWER:
      handle_answer (self, msg);
      break;
    case GST_MESH_SIGNAL_CANDIDATE:
      handle_candidate (msg, self);
      return;                   /* handle_candidate took it */
    case GST_MESH_SIGNAL_HANGUP:
      /* rooms only: a 1:1 call ends by connection state and RTCP */
      GST_DEBUG_OBJECT (self, "ignoring a hangup outside a room");
      break;
  }
  gst_mesh_signal_message_free (msg);
}

static void
call_stop (GstMeshSignal * self)
{
  gst_mesh_clear_source (&self->recall_source);
  end_call (self, GST_MESH_CALL_STATE_IDLE, NULL);
  g_queue_clear_full (&self->early_candidates,
      (GDestroyNotify) gst_mesh_signal_message_free);
}

static void
call_stats (GstMeshSignal * self, GstStructure * stats, GValue * peers)
{
  GValue v = G_VALUE_INIT;

  if (!self->peer)
    return;
  g_value_init (&v, GST_TYPE_STRUCTURE);
  g_value_take_boxed (&v, gst_mesh_stats_peer (self->peer, NULL));
  gst_value_array_append_value (peers, &v);
  g_value_unset (&v);
}

const GstMeshSession gst_mesh_call_session = {
  "1:1 call",
  call_start,
  call_connected,
  call_disconnected,
  call_event,
  call_message,
  call_peer_state,
  call_path_lost,
  call_stop,
  call_stats,
};
