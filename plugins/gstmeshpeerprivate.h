/* gst-mesh: a peer connection's insides, shared by gstmeshpeer.c
 * (life cycle, negotiation, candidates), gstmeshpeermedia.c (branches,
 * decoders, pad-added) and gstmeshpeerliveness.c (connection state,
 * activity, BYE, watchdog). Not installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "gstmeshpeer.h"

#include <gst/webrtc/webrtc.h>
#include <gst/sdp/sdp.h>
#include "gstmeshplayoutdelay.h"
#include <gst/mesh/gstmeshdata.h>
#include <gst/mesh/gstmeshtwcc.h>
#include <gst/mesh/gstmeshgate.h>

G_BEGIN_DECLS

/* one category for the peer, whichever file: GST_DEBUG=meshpeer:5 */
GST_DEBUG_CATEGORY_EXTERN (mesh_peer_debug);
#define GST_CAT_DEFAULT mesh_peer_debug

#define WATCHDOG_PERIOD_MS 250

struct _GstMeshPeer
{
  gint ref_count;
  GstMeshPeerConfig config;
  guint id;
  gchar *remote_id;
  gchar *name;
  GstElement *webrtc;
  GstElement *rtpbin;
  GstBin *bin;

  /* guarded by lock: pad-added adds to these from a streaming thread */
  GMutex lock;
  gboolean closed;
  GPtrArray *elements;          /* our elements inside the element's bin */
  GPtrArray *tee_pads;          /* request pads of config.tee[] */
  GPtrArray *out_pads;          /* request pads of config.out[] */
  GPtrArray *peer_pads;         /* our ghost pads on the element */
  gboolean receiving[GST_MESH_N_MEDIA];
  GArray *remote_ssrcs;         /* guint: SSRCs the remote sends media on */
  GstPad *send_pad[GST_MESH_N_MEDIA];   /* branch entry: keyframe asks, gate */
  GstMeshCodec sent_codec[GST_MESH_N_MEDIA];
  gint sent_pt[GST_MESH_N_MEDIA];
  /* the branches' gates (gst/mesh/gstmeshgate.h): shut until the
   * connection is up, the video's keeping a keyframe to send first */
  GstMeshGate *gate[GST_MESH_N_MEDIA];
  gboolean gates_open;
  gint64 keyframe_ahead_at;     /* monotonic µs one was asked for, 0: not */
  const gchar *video_source;    /* the encoding it sends (static) */
  GPtrArray *promises;          /* emitted to webrtcbin, not answered */

  /* touched only in the context */
  GstMeshCallState state;
  gboolean offerer;
  gboolean awaiting_answer;
  gboolean remote_set;
  gchar *local_sdp;
  guint64 local_session_id;
  guint64 remote_session_id;
  guint64 remote_session_version;
  gchar **local_mids;
  GstSDPMessage *remote_sdp;
  GQueue pending_candidates;    /* GstMeshSignalMessage-like pairs */
  GPtrArray *local_candidates;  /* what ICE gathered (strings) */
  guint remote_candidates;      /* given to webrtcbin */
  GSource *resend_source;
  GSource *watchdog_source;
  gint64 disconnected_since;
  gint64 connecting_since;      /* monotonic µs: state CONNECTING from */
  gboolean quiet_said;          /* config.quiet called for this silence */
  /* jitter buffers (gstmeshpeerjitter.c): refs under lock; the rest is
   * the peer context's */
  GPtrArray *jitterbuffers;     /* each marked with its kind */
  /* per kind (gstmeshpeerjitter.c): the jitter buffers' latency (ms now,
   * 0: config.latency; atomic), num-late summed at the last tick, when it
   * last changed, since when no packet came late */
  struct
  {
    guint latency;
    guint64 late;
    gint64 changed, calm_since;
  } jitter[GST_MESH_N_MEDIA];
  /* what our video asks of the remote's playout (gstmeshpeerjitter.c):
   * the extension on the payloader (ref, under lock), whether it now
   * leaves the remote its choice, since when the path was steady */
  GstRTPHeaderExtension *playout_ext;
  gboolean playout_free;
  gint64 playout_steady_since;
  gdouble playout_jitter;       /* the last the remote reported, ms */
  gint64 playout_checked;       /* when it was last read (µs) */
  /* congestion control, under lock (fed from rtpsession's thread) */
  GstMeshBwe *bwe;
  guint reported_bps;           /* what config.bitrate_changed was told */
  /* FEC (config.fec): the video transceiver we send on (ref), its
   * fec-percentage now and when it last moved; the transport-cc id that
   * rtpbin_send_probe writes into what webrtcbin's FEC encoder sends
   * (atomic; 0 until the video branch is made) */
  GstWebRTCRTPTransceiver *fec_trans;
  guint fec_percentage;
  gint64 fec_changed;
  guint twcc_after_fec_id;
  guint32 bwe_event_seqnum;
  /* transport-cc feedback we send (gstmeshpeerbwe.c), under twcc_lock:
   * arrivals come from nicesrc's thread, feedbacks are written on the
   * peer context and go out with rtpsession's RTCP from its thread */
  GMutex twcc_lock;
  GstMeshTwccRecorder *twcc;
  guint twcc_recv_id;           /* the extension's id; 0: not known yet */
  guint32 twcc_media_ssrc;
  GBytes *twcc_out;             /* an FCI the last RTCP had no room for */
  GObject *rtp_session;         /* the internal RTPSession (ref) */
  guint32 rtcp_sender;          /* the SSRC of its RTCP, 0 before any */
  GSource *twcc_source;
  gboolean regular_rtcp_set;    /* the peer context's */
  /* NACKs we send (gstmeshpeernack.c), under nack_lock: requests come
   * from the jitter buffers' threads, go out from the peer context */
  GMutex nack_lock;
  gboolean nack_closed;
  GArray *nack_pending;         /* NackRequest */
  GArray *nack_ssrcs;           /* guint32: the remote's video */
  GSource *nack_source;         /* the batch's flush, when one waits */
  GstPad *nack_pad;             /* rtpsession's send_rtcp_src (ref) */
  guint64 nacks_sent;           /* sequence numbers asked for */
  /* the NACKs' round trip: when the last numbers asked for went out (a
   * ring; µs, 0: answered), and the smoothed time until their
   * retransmissions came (ms, atomic: the jitter buffers' tick reads it) */
  struct
  {
    guint32 ssrc;
    guint16 seq;
    gint64 at;
  } nack_sent[512];
  guint nack_sent_head;
  gint nack_rtt_ms;              /* atomic; 0 until NACK_RTT_MIN samples */
  guint nack_rtt_samples[7];    /* the last round trips (ms), nack_lock */
  guint nack_rtt_count;
  /* the retransmissions we send: their budget, and when the last
   * granted ones were (µs, a ring: a second of them at 30 Mbit/s) */
  gdouble rtx_tokens;           /* bits */
  gint64 rtx_refilled;
  gint64 rtx_granted[1024];
  guint rtx_granted_head;
  guint64 rtx_refused;
  guint32 pli_ssrc;             /* the last PLI we sent, and when */
  gint64 pli_at;
  guint64 plis_sent;
  gint64 start_time;
  /* data channel (gstmeshpeerdata.c): under data_lock, which senders hold
   * for all the chunks of a message; the assembler is webrtcbin's
   * thread's */
  GMutex data_lock;
  GstWebRTCDataChannel *data_channel;
  gboolean data_open;
  gint64 data_sent;             /* monotonic µs of the last send */
  GstMeshDataAssembler *assembler;

  /* atomics, from streaming threads */
  gint last_rtp_ms;              /* 0: no RTP yet */
  gint first_frame_seen[GST_MESH_N_MEDIA];
  gint decoded[GST_MESH_N_MEDIA];       /* buffers out of our decoders */
};

/* gstmeshpeer.c */
void gst_mesh_peer_defer (GstMeshPeer * peer,
    void (*func) (GstMeshPeer *, gpointer), gpointer data,
    GDestroyNotify notify);
GSource *gst_mesh_peer_timeout_add (GstMeshPeer * peer, guint ms,
    GSourceFunc func);
/* In an event probe: the structure of the custom upstream event @name
 * (RTPTWCCPackets, GstRTPRetransmissionRequest), else NULL. */
const GstStructure *gst_mesh_peer_custom_upstream (GstPadProbeInfo * info,
    const gchar * name);

/* gstmeshpeermedia.c */
gboolean gst_mesh_peer_add_send_branch (GstMeshPeer * peer,
    GstMeshMediaKind kind, GstMeshCodec codec, gint pt, GstCaps * caps,
    GstWebRTCRTPTransceiverDirection direction, GError ** error);
void gst_mesh_peer_add_recv_transceiver (GstMeshPeer * peer,
    GstMeshMediaKind kind, GstCaps * caps);
GstCaps *gst_mesh_peer_receivable_caps (GstMeshMediaKind kind);
void gst_mesh_peer_keyframe_ahead (GstMeshPeer * peer);
gboolean gst_mesh_peer_open_gates (GstMeshPeer * peer);
void gst_mesh_peer_close_gates (GstMeshPeer * peer);
GstPadProbeReturn gst_mesh_peer_drop_probe (GstPad * pad,
    GstPadProbeInfo * info, gpointer user_data);
void gst_mesh_peer_on_new_jitterbuffer (GstElement * rtpbin,
    GstElement * jitterbuffer, guint session, guint ssrc, GstMeshPeer * peer);
void gst_mesh_peer_on_pad_added (GstElement * webrtc, GstPad * pad,
    GstMeshPeer * peer);

/* gstmeshpeerbwe.c */
#define GST_MESH_TWCC_URI \
  "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
/* The id of the header extension @uri among @caps' extmap-N fields, or 0. */
guint gst_mesh_peer_extmap_id (const GstCaps * caps, const gchar * uri);
/* The id an SDP m-line maps @uri to, or 0. */
guint gst_mesh_peer_extmap_id_in_media (const GstSDPMedia * media,
    const gchar * uri);
/* What our offers map TWCC and playout-delay to. */
#define GST_MESH_TWCC_OFFER_ID 3
#define GST_MESH_PLAYOUT_DELAY_OFFER_ID 4
/* Puts extmap-@id = @uri into @caps (writable). */
void gst_mesh_peer_caps_add_extmap (GstCaps * caps, guint id,
    const gchar * uri);
/* A send branch: the extension on @pay, the feedback caught at @pad (the
 * branch's last pad before webrtcbin). Call with the lock held. */
void gst_mesh_peer_bwe_setup_branch (GstMeshPeer * peer, GstElement * pay,
    GstPad * pad, guint twcc_id, gboolean fec);
/* What our offers and answers name as their tool (a=tool:gst-mesh). */
#define GST_MESH_SDP_TOOL "gst-mesh"
/* config.fec, and the call may use it: we offer, or the offer is ours. */
gboolean gst_mesh_peer_fec_on (GstMeshPeer * peer);
/* The remote's description names gst-mesh as its tool. */
gboolean gst_mesh_peer_remote_is_ours (GstMeshPeer * peer);
/* An answer came: one not from gst-mesh gets no FEC packets from us. */
void gst_mesh_peer_fec_remote_answer (GstMeshPeer * peer);
/* With config.fec: ULPFEC/RED on the video transceiver @trans; for the
 * one we send on (@sending), keeps it to set its percentage. With the
 * lock held. */
void gst_mesh_peer_fec_setup_transceiver (GstMeshPeer * peer,
    GstWebRTCRTPTransceiver * trans, gboolean sending);
/* rtpbin's pad-added: what goes into its send_rtp_sink pads */
void gst_mesh_peer_fec_on_rtpbin_pad (GstElement * rtpbin, GstPad * pad,
    GstMeshPeer * peer);
/* A new jitter buffer's session: rtpstorage keeps what FEC needs. */
void gst_mesh_peer_fec_setup_storage (GstMeshPeer * peer,
    GstElement * rtpbin, guint session);
/* webrtcbin's rtpsession: RTCP (and with it our transport-cc feedback,
 * NACKs and PLIs) paced by its bandwidth, not held to 2.5-7.5 s. */
void gst_mesh_peer_bwe_setup_session (GstMeshPeer * peer,
    GstElement * rtpsession);
/* Arrivals on the ICE transport (@pad: nicesrc's src) for our feedback. */
void gst_mesh_peer_bwe_watch_transport (GstMeshPeer * peer, GstPad * pad);
void gst_mesh_peer_bwe_remote_description (GstMeshPeer * peer,
    const GstSDPMessage * sdp);
void gst_mesh_peer_bwe_init (GstMeshPeer * peer);
void gst_mesh_peer_bwe_close (GstMeshPeer * peer);
void gst_mesh_peer_bwe_clear (GstMeshPeer * peer);


/* gstmeshpeernack.c */
void gst_mesh_peer_nack_init (GstMeshPeer * peer);
void gst_mesh_peer_nack_close (GstMeshPeer * peer);
void gst_mesh_peer_nack_clear (GstMeshPeer * peer);
/* the retransmission requests for @ssrc (the remote's video) are sent as
 * NACKs at once */
void gst_mesh_peer_nack_watch_ssrc (GstMeshPeer * peer, guint32 ssrc);
/* where the NACKs go out: @rtpsession's send_rtcp_src */
void gst_mesh_peer_nack_setup_session (GstMeshPeer * peer,
    GstElement * rtpsession);
/* Where RTCP of our own may go now, alone (reduced size): rtpsession's
 * send_rtcp_src (a ref; push on it from any thread), with the sender
 * SSRC of rtpsession's RTCP in @sender; NULL without rtcp-rsize on both
 * sides or before rtpsession's first RTCP. */
GstPad *gst_mesh_peer_rtcp_out (GstMeshPeer * peer, guint32 * sender);
/* rtprtxreceive: its retransmissions, matched to our NACKs, time the
 * round trip gst_mesh_peer_get_nack_rtt() gives. */
void gst_mesh_peer_nack_watch_rtx_receiver (GstMeshPeer * peer,
    GstElement * rtprtxreceive);
/* The remote's NACKs, as they reach @rtprtxsend: kept within a budget
 * with congestion control on */
void gst_mesh_peer_nack_watch_rtx_sender (GstMeshPeer * peer,
    GstElement * rtprtxsend);
/* bit/s of retransmissions granted over the last second */
guint gst_mesh_peer_get_rtx_bps (GstMeshPeer * peer);

/* gstmeshpeerdata.c */
/* Opens the data channel when config.data says so; before the offer. */
void gst_mesh_peer_data_create (GstMeshPeer * peer);
void gst_mesh_peer_data_on_channel (GstElement * webrtc,
    GstWebRTCDataChannel * channel, GstMeshPeer * peer);
/* Sends a keepalive when nothing went out for a second, so that the
 * remote's acknowledgements show it is there (watchdog). */
void gst_mesh_peer_data_keepalive (GstMeshPeer * peer, gint64 now);
/* Once webrtcbin stopped (gst_mesh_peer_close). */
void gst_mesh_peer_data_close (GstMeshPeer * peer);

/* gstmeshpeerjitter.c */
void gst_mesh_peer_jitter_add (GstMeshPeer * peer, GstElement * jitterbuffer,
    GstMeshMediaKind kind);
/* The peer's decoded video: with config.video_delay least, shown at the
 * audio's latency, a frame that waited for a retransmission when it
 * comes. */
void gst_mesh_peer_jitter_watch_video (GstMeshPeer * peer, GstPad * decoded);
void gst_mesh_peer_jitter_tick (GstMeshPeer * peer, gint64 now);
/* The playout-delay extension for a video send branch whose caps map it
 * (NULL: none), kept to be steered by gst_mesh_peer_playout_tick. Call
 * with the lock held. */
GstRTPHeaderExtension *gst_mesh_peer_playout_ext_new (GstMeshPeer * peer,
    guint id);
void gst_mesh_peer_playout_tick (GstMeshPeer * peer, gint64 now);
/* The remote's answer came: without the extension, or from gst-mesh
 * (whose receivers do not read it), our packets stop carrying it. */
void gst_mesh_peer_playout_remote_answer (GstMeshPeer * peer,
    const GstSDPMessage * answer);

/* gstmeshpeerliveness.c */
void gst_mesh_peer_change_state (GstMeshPeer * peer, GstMeshCallState state,
    const gchar * reason);
GstPadProbeReturn gst_mesh_peer_rtp_activity_probe (GstPad * pad,
    GstPadProbeInfo * info, gpointer user_data);
/* webrtcbin's per-stream clocksync: no wait for live input */
void gst_mesh_peer_tune_clocksync (GstMeshPeer * peer, GstElement * clocksync);
void gst_mesh_peer_on_deep_element_added (GstBin * webrtc, GstBin * sub_bin,
    GstElement * element, GstMeshPeer * peer);
void gst_mesh_peer_on_bye_ssrc (GstElement * rtpbin, guint session,
    guint ssrc, GstMeshPeer * peer);
void gst_mesh_peer_on_ice_connection_state_notify (GObject * webrtc,
    GParamSpec * pspec, GstMeshPeer * peer);
void gst_mesh_peer_on_connection_state_notify (GObject * webrtc,
    GParamSpec * pspec, GstMeshPeer * peer);
gboolean gst_mesh_peer_watchdog (gpointer user_data);

G_END_DECLS
