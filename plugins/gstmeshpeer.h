/* gst-mesh: one peer connection of meshsignal (one webrtcbin).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <gst/mesh/gstmeshsignalling.h>

#include "gstmeshmedia.h"
#include <gst/mesh/gstmeshbwe.h>
#include "gstmeshsignal.h"

G_BEGIN_DECLS

typedef struct _GstMeshPeer GstMeshPeer;

/* What the element gives a peer. Callbacks run in @context, except
 * first_frame, which runs in a streaming thread. */
typedef struct
{
  GstBin *bin;
  GMainContext *context;
  /* encoded local media per kind (a tee), or NULL when not sending it */
  GstElement *tee[GST_MESH_N_MEDIA];
  GstMeshCodec send_codec[GST_MESH_N_MEDIA];
  /* video-codecs: the video codecs we send, best first; 0: none given
   * (video-codec and its fallbacks) */
  GstMeshCodec video_order[GST_MESH_MAX_VIDEO_CODECS];
  guint n_video_order;
  /* the profile-level-id our offers give H.264 ("": 42e01f, constrained
   * baseline 3.1): that of an H.264 stream encoded before the element */
  gchar h264_profile[7];
  /* where decoded remote media goes (a funnel), or NULL */
  GstElement *out[GST_MESH_N_MEDIA];
  guint latency;
  /* jitter buffers grow up to this when packets come late (ms); not above
   * latency: they stay there */
  guint max_latency;
  /* what our video's playout-delay extension asks (gstmeshpeerjitter.c) */
  GstMeshPlayoutDelay playout_delay;
  /* the remote's video: at the audio's latency, or all of it as late as
   * the longest retransmission wait (gstmeshpeerjitter.c) */
  GstMeshVideoDelay video_delay;
  gchar *stun_server;           /* stun://HOST:PORT, or NULL */
  gchar **turn_servers;         /* turn(s)://USER:PASS@HOST:PORT[?...] */
  gboolean relay_only;          /* ice-transport-policy relay */
  guint offer_interval;
  guint peer_timeout;
  /* a call negotiated but not connected after this many ms fails (0:
   * never waits out) */
  guint connect_timeout;
  /* also give each peer's decoded media as the bin's own pads
   * (peer_video_%s, peer_audio_%s) */
  gboolean peer_pads;

  void (*send) (GstMeshPeer * peer, const gchar * event, JsonArray * args,
      gpointer user_data);
  void (*state_changed) (GstMeshPeer * peer, GstMeshCallState state,
      const gchar * reason, gpointer user_data);
  void (*first_frame) (GstMeshPeer * peer, GstMeshMediaKind kind,
      gpointer user_data);
  /* ICE gathering is complete: the candidates it gave, as SDP
   * "candidate:..." lines (NULL-terminated) */
  void (*gathered) (GstMeshPeer * peer, const gchar * const *candidates,
      gpointer user_data);
  /* the offer names no codec we were told to send: may we switch the
   * element's encoder to @codec? */
  gboolean (*switch_codec) (GstMeshPeer * peer, GstMeshMediaKind kind,
      GstMeshCodec codec, gpointer user_data);
  /* congestion control (gstmeshpeerbwe.c), in bit/s: with it, what we
   * send carries transport-wide sequence numbers, the remote's feedback
   * feeds an estimate, and bitrate_changed says where it moved */
  gboolean congestion_control;
  guint min_bitrate, start_bitrate, max_bitrate;
  void (*bitrate_changed) (GstMeshPeer * peer, guint bps, gpointer user_data);
  /* ULPFEC/RED on video (gstmeshpeerbwe.c): @fec_percentage FEC packets
   * per 100, or 0 to follow the loss the feedback reports */
  gboolean fec;
  guint fec_percentage;
  /* a connected peer that sent us media fell silent (nothing for
   * GST_MESH_PEER_QUIET_MS): once per silence, well before peer_timeout.
   * A hint to check what else may have broken with the network. */
  void (*quiet) (GstMeshPeer * peer, gpointer user_data);
  /* the data channel (gstmeshpeerdata.c): an offer opens one when @data;
   * one the remote opens is taken either way. The callbacks run in
   * webrtcbin's thread (data_state FALSE also in gst_mesh_peer_close()):
   * the channel opened or closed; a whole message came; the channel's
   * send buffer drained below its low mark. */
  gboolean data;
  void (*data_state) (GstMeshPeer * peer, gboolean open, gpointer user_data);
  void (*data_received) (GstMeshPeer * peer, GBytes * message,
      gboolean text, gpointer user_data);
  void (*data_drained) (GstMeshPeer * peer, gpointer user_data);
  gpointer user_data;
} GstMeshPeerConfig;

GstMeshPeer *gst_mesh_peer_new (const GstMeshPeerConfig * config, guint id,
    const gchar * remote_id);
GstMeshPeer *gst_mesh_peer_ref (GstMeshPeer * peer);
void gst_mesh_peer_unref (GstMeshPeer * peer);

guint gst_mesh_peer_get_id (GstMeshPeer * peer);
/* The remote's socket id (NULL in the seed's 1:1 mode); a member that
 * came back under a new socket id keeps its peer connection. */
const gchar *gst_mesh_peer_get_remote_id (GstMeshPeer * peer);
void gst_mesh_peer_set_remote_id (GstMeshPeer * peer,
    const gchar * remote_id);
/* Emits webrtcbin's action @signal (get-stats, create-offer, ...) with
 * @arg and a promise answered to @func, from whichever thread answers;
 * @notify frees @data after. The peer keeps the promise until then: a
 * webrtcbin 1.22 that stops drops the operations it has not run, and so
 * would free a promise nobody answered (a critical). What is not answered
 * when the peer closes is interrupted: @func sees
 * GST_PROMISE_RESULT_INTERRUPTED. */
void gst_mesh_peer_emit_promise (GstMeshPeer * peer, const gchar * signal,
    gpointer arg, GstPromiseChangeFunc func, gpointer data,
    GDestroyNotify notify);
/* (transfer none) */
GstElement *gst_mesh_peer_get_webrtcbin (GstMeshPeer * peer);
/* (transfer none) what the peer was made with */
const GstMeshPeerConfig *gst_mesh_peer_get_config (GstMeshPeer * peer);
GstMeshCallState gst_mesh_peer_get_state (GstMeshPeer * peer);
/* Buffers that came out of this peer's @kind decoder (any thread). */
guint gst_mesh_peer_get_decoded (GstMeshPeer * peer, GstMeshMediaKind kind);
gboolean gst_mesh_peer_is_offerer (GstMeshPeer * peer);
/* o= session id of our offer (0 before it exists) */
guint64 gst_mesh_peer_get_local_session_id (GstMeshPeer * peer);
/* o= session id and version of the remote description (0 when none) */
guint64 gst_mesh_peer_get_remote_session_id (GstMeshPeer * peer);
guint64 gst_mesh_peer_get_remote_session_version (GstMeshPeer * peer);
/* whether an answer from the remote is still awaited */
gboolean gst_mesh_peer_awaits_answer (GstMeshPeer * peer);
/* Whether a connected peer that sent us media has sent nothing (RTP, RTCP
 * or DTLS) for GST_MESH_PEER_QUIET_MS: its path is likely gone. */
#define GST_MESH_PEER_QUIET_MS 1000
gboolean gst_mesh_peer_is_quiet (GstMeshPeer * peer);
/* The congestion controller's figures; FALSE when it has none (off, or
 * no feedback yet). Thread-safe. */
gboolean gst_mesh_peer_get_bwe_stats (GstMeshPeer * peer,
    GstMeshBweStats * stats);
/* Feeds the video send branch from @tee (another encoding of the same
 * picture and codec), named @name in stats: from the new encoding's next
 * keyframe on, which is asked for. FALSE when the peer sends no video
 * (yet) or sends another codec. Signalling thread. */
gboolean gst_mesh_peer_set_video_source (GstMeshPeer * peer, GstElement * tee,
    GstMeshCodec codec, const gchar * name);
/* The encoding it sends video from: "main" (config.tee) or a name given to
 * gst_mesh_peer_set_video_source(); NULL when it sends none. */
const gchar *gst_mesh_peer_get_video_source (GstMeshPeer * peer);
guint gst_mesh_peer_get_jitter_latency (GstMeshPeer * peer,
    GstMeshMediaKind kind);
/* What our video's playout-delay extension asks of the remote: "at-once",
 * "receiver" (its choice), or NULL when our packets carry none; @jitter:
 * the worst interarrival jitter the remote reports of our streams (ms, < 0
 * before a report). */
const gchar *gst_mesh_peer_get_playout (GstMeshPeer * peer,
    gdouble * jitter);
/* @nacks_sent: sequence numbers we asked for again in NACKs of our own
 * (not counting those left to rtpsession); @rtx_refused: retransmissions
 * the remote asked for that were not sent, being over the budget
 * congestion control gives them; @plis_sent: keyframe requests of our
 * own. Thread-safe. */
void gst_mesh_peer_get_nack_counts (GstMeshPeer * peer,
    guint64 * nacks_sent, guint64 * rtx_refused, guint64 * plis_sent);
/* From a NACK we sent to its retransmission coming in, smoothed (ms, 0:
 * none came yet); any thread. */
guint gst_mesh_peer_get_nack_rtt (GstMeshPeer * peer);
/* With config.fec: the FEC packets sent per 100 media packets now, and
 * the packets rtpulpfecdec rebuilt, or could not, of what we receive. */
gboolean gst_mesh_peer_get_fec_stats (GstMeshPeer * peer, guint * percentage,
    guint * recovered, guint * unrecovered);
/* The remote's id, else the peer's name (call%u); thread-safe. */
gchar *gst_mesh_peer_dup_label (GstMeshPeer * peer);
/* Sends one message over the data channel (any size up to
 * GST_MESH_DATA_MAX_MESSAGE, chunked as gstmeshdata.h says); any thread.
 * FALSE with @error when the channel is not open or refused it. */
gboolean gst_mesh_peer_send_data (GstMeshPeer * peer, const guint8 * data,
    gsize size, gboolean text, GError ** error);
gboolean gst_mesh_peer_data_is_open (GstMeshPeer * peer);
/* Bytes queued in the channel, not yet handed to SCTP. */
guint64 gst_mesh_peer_data_buffered (GstMeshPeer * peer);
/* monotonic µs when the peer was created */
gint64 gst_mesh_peer_get_start_time (GstMeshPeer * peer);

/* Makes an offer, sends it, and sends it again every offer-interval until
 * an answer comes. */
void gst_mesh_peer_call (GstMeshPeer * peer);
/* Sends our pending offer again now (someone new is listening). */
void gst_mesh_peer_resend_offer (GstMeshPeer * peer);
/* Answers @offer. */
gboolean gst_mesh_peer_answer (GstMeshPeer * peer,
    const GstMeshSignalMessage * offer, GError ** error);
/* Sends our answer again (the remote re-sent its offer). */
void gst_mesh_peer_resend_answer (GstMeshPeer * peer);
gboolean gst_mesh_peer_set_answer (GstMeshPeer * peer,
    const GstMeshSignalMessage * answer, GError ** error);
/* The video codec we send that @answer refuses (its video m-line is
 * rejected or lacks our payload type), or GST_MESH_CODEC_NONE. */
GstMeshCodec gst_mesh_peer_refused_video_codec (GstMeshPeer * peer,
    const GstMeshSignalMessage * answer);
/* Adds a remote candidate, or keeps it until the remote description is
 * set. */
void gst_mesh_peer_add_candidate (GstMeshPeer * peer,
    const GstMeshSignalMessage * candidate);

/* Tears the peer connection down: webrtcbin and every branch of this peer
 * leave the bin; the rest of the pipeline keeps running. Safe while the
 * application changes the pipeline's state: it takes no lock of the bin's
 * and waits for no thread that a paused sink of ours can hold. */
void gst_mesh_peer_close (GstMeshPeer * peer);

G_END_DECLS
