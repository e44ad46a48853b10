/* gst-mesh: a peer's NACKs, sent as soon as rtpjitterbuffer asks (in
 * RTCP of our own: gst_mesh_peer_rtcp_out), and a budget for the
 * retransmissions the remote asks of us.
 *
 * rtpjitterbuffer asks for a missing packet with an upstream
 * GstRTPRetransmissionRequest; rtpsession, left to itself, keeps the
 * request until it may send an early RTCP, which AVPF allows once per
 * regular interval (RFC 4585 §3.5.2): about 100 ms at our rates, more
 * than the jitter buffers wait on a LAN. On the 5 % / 50 ms netem row
 * it let 768 of 1028 NACKs expire unsent, and 7 of 416 retransmissions
 * came in time (tests/bench/README.md). libwebrtc sends its NACKs at
 * once, in reduced-size RTCP (RFC 5506), and so do we once webrtcbin has
 * negotiated rtcp-rsize: the requests for the remote's video are taken
 * where they enter rtpsession, gathered for NACK_GATHER_MS (one loss
 * burst, one packet) and pushed out of rtpsession's send_rtcp_src as one
 * generic NACK per SSRC (gst/mesh/gstmeshnack.c), with the sender SSRC
 * of rtpsession's own RTCP (peer->rtcp_sender); SRTP and the transport
 * take it from there. Pushing there from the peer context is safe: the
 * pad it is linked to takes its stream lock for each buffer, so our
 * packets and rtpsession's go downstream one at a time.
 * Without rtcp-rsize, or before rtpsession's first RTCP went out, a
 * request goes to rtpsession as before. rtpjitterbuffer itself decides
 * when to ask again (rtx-retry-timeout, from the round trips it sees).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshpeerprivate.h"
#include "gst/mesh/gstmeshprivate.h"
#include <gst/mesh/gstmeshnack.h>

#include <gst/rtp/rtp.h>
#include <stdlib.h>
#include <string.h>

#define NACK_GATHER_MS 2
/* sequence numbers per RTCP packet: at worst one FCI pair each, 12 +
 * 4 x 300 bytes, within 1400; a burst beyond goes in several packets */
#define NACK_MAX_SEQS 300

typedef struct
{
  guint32 ssrc;
  guint16 seq;
} NackRequest;

void
gst_mesh_peer_nack_init (GstMeshPeer * peer)
{
  g_mutex_init (&peer->nack_lock);
  peer->nack_pending = g_array_new (FALSE, FALSE, sizeof (NackRequest));
  peer->nack_ssrcs = g_array_new (FALSE, FALSE, sizeof (guint32));
}

void
gst_mesh_peer_nack_close (GstMeshPeer * peer)
{
  g_mutex_lock (&peer->nack_lock);
  peer->nack_closed = TRUE;
  gst_mesh_clear_source (&peer->nack_source);
  g_array_set_size (peer->nack_pending, 0);
  g_clear_object (&peer->nack_pad);
  g_mutex_unlock (&peer->nack_lock);
}

void
gst_mesh_peer_nack_clear (GstMeshPeer * peer)
{
  g_clear_object (&peer->nack_pad);
  g_array_unref (peer->nack_pending);
  g_array_unref (peer->nack_ssrcs);
  g_mutex_clear (&peer->nack_lock);
}

void
gst_mesh_peer_get_nack_counts (GstMeshPeer * peer, guint64 * nacks_sent,
    guint64 * rtx_refused, guint64 * plis_sent)
{
  g_mutex_lock (&peer->nack_lock);
  *nacks_sent = peer->nacks_sent;
  *rtx_refused = peer->rtx_refused;
  *plis_sent = peer->plis_sent;
  g_mutex_unlock (&peer->nack_lock);
}

GstPad *
gst_mesh_peer_rtcp_out (GstMeshPeer * peer, guint32 * sender)
{
  GObject *session = NULL;
  gboolean rsize = FALSE;
  guint32 ssrc = 0;
  GstPad *pad = NULL;

  g_mutex_lock (&peer->twcc_lock);
  if (peer->rtp_session && peer->rtcp_sender) {
    session = g_object_ref (peer->rtp_session);
    ssrc = peer->rtcp_sender;
  }
  g_mutex_unlock (&peer->twcc_lock);
  if (!session)
    return NULL;
  /* what webrtcbin negotiated (rtcp-rsize on both sides) */
  g_object_get (session, "rtcp-reduced-size", &rsize, NULL);
  g_object_unref (session);
  if (!rsize)
    return NULL;

  g_mutex_lock (&peer->nack_lock);
  if (peer->nack_pad && !peer->nack_closed)
    pad = gst_object_ref (peer->nack_pad);
  g_mutex_unlock (&peer->nack_lock);
  if (pad && sender)
    *sender = ssrc;
  return pad;
}

/* One RTCP buffer: a transport-layer (RTPFB) or payload-specific (PSFB)
 * feedback packet of @fb_type from @sender about @ssrc, with @fci (may
 * be NULL). */
static GstBuffer *
feedback_packet (GstRTCPType type, guint fb_type, guint32 sender,
    guint32 ssrc, GBytes * fci)
{
  gsize len = 0;
  const guint8 *data = fci ? g_bytes_get_data (fci, &len) : NULL;
  GstBuffer *buf = gst_rtcp_buffer_new (12 + len + 64);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  gboolean ok;

  gst_rtcp_buffer_map (buf, GST_MAP_READWRITE, &rtcp);
  ok = gst_rtcp_buffer_add_packet (&rtcp, type, &p);
  if (ok) {
    gst_rtcp_packet_fb_set_type (&p, fb_type);
    gst_rtcp_packet_fb_set_sender_ssrc (&p, sender);
    gst_rtcp_packet_fb_set_media_ssrc (&p, ssrc);
    if (len)
      ok = gst_rtcp_packet_fb_set_fci_length (&p, len / 4);
    if (ok && len)
      memcpy (gst_rtcp_packet_fb_get_fci (&p), data, len);
  }
  gst_rtcp_buffer_unmap (&rtcp);
  if (!ok)
    gst_clear_buffer (&buf);
  return buf;
}

/* A generic NACK for @ssrc asking for @seqs. */
static GstBuffer *
nack_packet (guint32 sender, guint32 ssrc, const guint16 * seqs, guint n)
{
  GBytes *fci = gst_mesh_nack_fci (seqs, n);
  GstBuffer *buf = feedback_packet (GST_RTCP_TYPE_RTPFB,
      GST_RTCP_RTPFB_TYPE_NACK, sender, ssrc, fci);

  g_bytes_unref (fci);
  return buf;
}

static gint
by_ssrc (gconstpointer a, gconstpointer b)
{
  const NackRequest *x = a, *y = b;

  return x->ssrc < y->ssrc ? -1 : x->ssrc > y->ssrc;
}

/* the peer context, NACK_GATHER_MS after the first request of a batch */
static gboolean
nack_flush (gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  GArray *batch;
  GstPad *pad;
  guint32 sender;
  guint i = 0;

  g_mutex_lock (&peer->nack_lock);
  g_clear_pointer (&peer->nack_source, g_source_unref);
  batch = peer->nack_pending;
  peer->nack_pending = g_array_new (FALSE, FALSE, sizeof (NackRequest));
  g_mutex_unlock (&peer->nack_lock);
  pad = gst_mesh_peer_rtcp_out (peer, &sender);

  g_array_sort (batch, by_ssrc);
  while (pad && i < batch->len) {
    guint32 ssrc = g_array_index (batch, NackRequest, i).ssrc;
    guint16 seqs[NACK_MAX_SEQS];
    guint n = 0;
    GstBuffer *buf;
    GstFlowReturn ret;

    while (i < batch->len && n < NACK_MAX_SEQS &&
        g_array_index (batch, NackRequest, i).ssrc == ssrc)
      seqs[n++] = g_array_index (batch, NackRequest, i++).seq;
    buf = nack_packet (sender, ssrc, seqs, n);
    if (!buf)
      continue;
    GST_LOG ("%s: NACK for %u packet(s) of SSRC %08x from %u", peer->name,
        n, ssrc, seqs[0]);
    ret = gst_pad_push (pad, buf);
    if (ret != GST_FLOW_OK) {
      GST_DEBUG ("%s: NACK not sent: %s", peer->name,
          gst_flow_get_name (ret));
      break;
    }
    g_mutex_lock (&peer->nack_lock);
    peer->nacks_sent += n;
    for (guint k = 0; k < n; k++) {
      guint at = peer->nack_sent_head++ % G_N_ELEMENTS (peer->nack_sent);
      peer->nack_sent[at].ssrc = ssrc;
      peer->nack_sent[at].seq = seqs[k];
      peer->nack_sent[at].at = g_get_monotonic_time ();
    }
    g_mutex_unlock (&peer->nack_lock);
  }
  g_array_unref (batch);
  gst_clear_object (&pad);
  return G_SOURCE_REMOVE;
}

/* Keyframe requests (PLI, RFC 4585 §6.3.1) go the same way. rtpsession
 * sends one in an early RTCP, which AVPF allows once per regular
 * interval (1 s once our feedback has its own way out,
 * gstmeshpeerbwe.c), so a picture broken by a loss could wait that long
 * for its keyframe; libwebrtc sends them at once. One per PLI_MIN_MS per
 * SSRC: the decoder asks on every broken frame, and the sender makes one
 * keyframe per 500 ms at most anyway. */
#define PLI_MIN_MS 200

/* The peer context, as the NACKs: a push from the decoder's thread, in
 * the middle of its upstream event, would wait there for the transport's
 * stream locks. */
static void
pli_flush (GstMeshPeer * peer, gpointer data)
{
  guint32 ssrc = GPOINTER_TO_UINT (data), sender = 0;
  GstPad *out = gst_mesh_peer_rtcp_out (peer, &sender);
  GstBuffer *buf;
  GstFlowReturn ret;

  if (!out)
    return;
  buf = feedback_packet (GST_RTCP_TYPE_PSFB, GST_RTCP_PSFB_TYPE_PLI, sender,
      ssrc, NULL);
  ret = buf ? gst_pad_push (out, buf) : GST_FLOW_ERROR;
  gst_object_unref (out);
  GST_DEBUG ("%s: PLI for SSRC %08x: %s", peer->name, ssrc,
      gst_flow_get_name (ret));
  if (ret != GST_FLOW_OK)
    return;
  g_mutex_lock (&peer->nack_lock);
  peer->plis_sent++;
  g_mutex_unlock (&peer->nack_lock);
}

/* TRUE when it is on its way (or one went less than PLI_MIN_MS ago);
 * FALSE: rtpsession's way (no RTCP of our own yet) */
static gboolean
send_pli (GstMeshPeer * peer, guint32 ssrc)
{
  GstPad *out = gst_mesh_peer_rtcp_out (peer, NULL);
  gint64 now = g_get_monotonic_time ();
  gboolean recent;

  if (!out)
    return FALSE;
  gst_object_unref (out);
  g_mutex_lock (&peer->nack_lock);
  recent = peer->pli_ssrc == ssrc && now - peer->pli_at < PLI_MIN_MS * 1000;
  if (!recent) {
    peer->pli_ssrc = ssrc;
    peer->pli_at = now;
  }
  g_mutex_unlock (&peer->nack_lock);
  if (!recent)
    gst_mesh_peer_defer (peer, pli_flush, GUINT_TO_POINTER (ssrc), NULL);
  return TRUE;
}

/* Whether @ssrc is one the remote sends its video on. */
static gboolean
is_remote_video (GstMeshPeer * peer, guint32 ssrc)
{
  gboolean video = FALSE;

  g_mutex_lock (&peer->nack_lock);
  for (guint i = 0; i < peer->nack_ssrcs->len; i++)
    video |= g_array_index (peer->nack_ssrcs, guint32, i) == ssrc;
  g_mutex_unlock (&peer->nack_lock);
  return video;
}

/* A request on its way into rtpsession: rtpssrcdemux has added the SSRC
 * and rtprtxreceive has seen it (it maps the retransmission that comes
 * back to its stream by the requests it saw pass, so they are taken
 * here, not at the jitter buffer). The jitter buffers' timer threads. */
static GstPadProbeReturn
request_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  const GstStructure *s;
  NackRequest r;
  guint ssrc, seq;
  gboolean video;
  GstPad *out;

  s = gst_mesh_peer_custom_upstream (info, "GstForceKeyUnit");
  if (s && gst_structure_get_uint (s, "ssrc", &ssrc))
    return is_remote_video (peer, ssrc) && send_pli (peer, ssrc) ?
        GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
  s = gst_mesh_peer_custom_upstream (info, "GstRTPRetransmissionRequest");
  if (!s || !gst_structure_get_uint (s, "ssrc", &ssrc) ||
      !gst_structure_get_uint (s, "seqnum", &seq))
    return GST_PAD_PROBE_OK;

  video = is_remote_video (peer, ssrc);
  out = video ? gst_mesh_peer_rtcp_out (peer, NULL) : NULL;
  if (!out) {
    GST_LOG ("%s: request for %u of %08x to rtpsession (video %d)",
        peer->name, seq, ssrc, video);
    return GST_PAD_PROBE_OK;    /* rtpsession's way */
  }
  gst_object_unref (out);
  g_mutex_lock (&peer->nack_lock);
  r.ssrc = ssrc;
  r.seq = (guint16) seq;
  g_array_append_val (peer->nack_pending, r);
  if (!peer->nack_source)
    peer->nack_source = gst_mesh_peer_timeout_add (peer, NACK_GATHER_MS,
        nack_flush);
  g_mutex_unlock (&peer->nack_lock);
  return GST_PAD_PROBE_DROP;
}

/* rtprtxreceive's output: a retransmission, back under its stream's SSRC
 * and number, answers one of our NACKs. The round trip is the median of
 * the last seven, and none before three: one retransmission that took
 * 420 ms (its first ask, at a call's start, on a 20 ms path whose other
 * answers took 20-21) had set the jitter buffers to their 400 ms ceiling
 * at once, and glass to glass went from 107 to 440 ms for the next 20 s
 * (tests/bench/README.md). rtpjitterbuffer's own rtx-rtt counts only
 * retransmissions that come before it gives up on the packet: with a
 * buffer shorter than the round trip, none. */
#define NACK_RTT_MIN 3

static gint
by_value (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

/* with nack_lock */
static void
add_rtt_sample (GstMeshPeer * peer, guint ms)
{
  guint n = G_N_ELEMENTS (peer->nack_rtt_samples);
  guint sorted[G_N_ELEMENTS (peer->nack_rtt_samples)];
  guint have;

  peer->nack_rtt_samples[peer->nack_rtt_count++ % n] = ms;
  have = MIN (peer->nack_rtt_count, n);
  if (have < NACK_RTT_MIN)
    return;
  memcpy (sorted, peer->nack_rtt_samples, have * sizeof (guint));
  qsort (sorted, have, sizeof (guint), by_value);
  g_atomic_int_set (&peer->nack_rtt_ms, (gint) sorted[have / 2]);
}

static GstPadProbeReturn
rtx_in_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint32 ssrc;
  guint16 seq;
  gint64 sample = 0;

  if (!GST_BUFFER_FLAG_IS_SET (buf, GST_RTP_BUFFER_FLAG_RETRANSMISSION) ||
      !gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_OK;
  ssrc = gst_rtp_buffer_get_ssrc (&rtp);
  seq = gst_rtp_buffer_get_seq (&rtp);
  gst_rtp_buffer_unmap (&rtp);

  g_mutex_lock (&peer->nack_lock);
  for (guint k = 0; k < G_N_ELEMENTS (peer->nack_sent); k++) {
    /* newest first: a number asked for twice is timed from the last ask */
    guint at = (peer->nack_sent_head - 1 - k) % G_N_ELEMENTS (peer->nack_sent);
    if (peer->nack_sent[at].at && peer->nack_sent[at].ssrc == ssrc &&
        peer->nack_sent[at].seq == seq) {
      sample = g_get_monotonic_time () - peer->nack_sent[at].at;
      peer->nack_sent[at].at = 0;
      break;
    }
  }
  if (sample > 0)
    add_rtt_sample (peer, (guint) MAX (1, sample / 1000));
  g_mutex_unlock (&peer->nack_lock);
  if (sample > 0)
    GST_LOG ("%s: retransmission of %u after %d ms", peer->name, seq,
        (gint) MAX (1, sample / 1000));
  return GST_PAD_PROBE_OK;
}

/* a probe on @element's src pad, for as long as the peer's webrtcbin */
static void
probe_src (GstElement * element, GstPadProbeType type,
    GstPadProbeCallback probe, GstMeshPeer * peer)
{
  GstPad *src = gst_element_get_static_pad (element, "src");

  if (!src)
    return;
  gst_pad_add_probe (src, type, probe, peer, NULL);
  gst_object_unref (src);
}

void
gst_mesh_peer_nack_watch_rtx_receiver (GstMeshPeer * peer,
    GstElement * rtprtxreceive)
{
  probe_src (rtprtxreceive, GST_PAD_PROBE_TYPE_BUFFER, rtx_in_probe, peer);
}

guint
gst_mesh_peer_get_nack_rtt (GstMeshPeer * peer)
{
  return (guint) g_atomic_int_get (&peer->nack_rtt_ms);
}

void
gst_mesh_peer_nack_watch_ssrc (GstMeshPeer * peer, guint32 ssrc)
{
  g_mutex_lock (&peer->nack_lock);
  g_array_append_val (peer->nack_ssrcs, ssrc);
  g_mutex_unlock (&peer->nack_lock);
}

/* rtpsession's RTCP thread, once: the pad, now that the stream's events
 * went out on it (the sender SSRC is what gstmeshpeerbwe.c saw in it) */
static GstPadProbeReturn
rtcp_out_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstMeshPeer *peer = user_data;

  g_mutex_lock (&peer->nack_lock);
  if (!peer->nack_pad && !peer->nack_closed)
    peer->nack_pad = gst_object_ref (pad);
  g_mutex_unlock (&peer->nack_lock);
  return GST_PAD_PROBE_REMOVE;
}

static void
watch_pad (GstMeshPeer * peer, GstPad * pad)
{
  if (!g_strcmp0 (GST_PAD_NAME (pad), "send_rtcp_src"))
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, rtcp_out_probe, peer,
        NULL);
  else if (!g_strcmp0 (GST_PAD_NAME (pad), "recv_rtp_src"))
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, request_probe,
        peer, NULL);
}

static void
on_session_pad_added (GstElement * rtpsession, GstPad * pad,
    GstMeshPeer * peer)
{
  watch_pad (peer, pad);
}

void
gst_mesh_peer_nack_setup_session (GstMeshPeer * peer, GstElement * rtpsession)
{
  const gchar *names[] = { "send_rtcp_src", "recv_rtp_src" };

  g_signal_connect (rtpsession, "pad-added",
      G_CALLBACK (on_session_pad_added), peer);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    GstPad *pad = gst_element_get_static_pad (rtpsession, names[i]);
    if (pad) {
      watch_pad (peer, pad);
      gst_object_unref (pad);
    }
  }
}

/* ---- the retransmissions we send ----------------------------------------
 *
 * Now that a receiver's NACKs come at once (ours, as libwebrtc's do), a
 * bottleneck that drops a burst is asked for the burst again at once:
 * on the 1 Mbit/s link of tests/bench/capped-link.mjs the retransmissions
 * went into the queue that had just overflowed, and it dropped 18-93
 * packets a run where it had dropped 0-5 with NACKs left to rtpsession.
 * libwebrtc keeps retransmissions within a rate limiter and takes what
 * they use out of the encoder's target (its protection bitrate). So do
 * we, with congestion control on (the figures are ours, measured in
 * tests/bench/README.md): a token bucket of RTX_SHARE of the
 * target refills for each peer (at most RTX_BURST_S of the target
 * saved up), a request it cannot pay for is not passed to rtprtxsend
 * (the receiver asks again, or asks for a keyframe), and what was
 * granted over the last RTX_WINDOW_US is taken out of the rate the
 * encoder is given (gstmeshpeerbwe.c). A request is paid for as a full
 * packet. */
#define RTX_SHARE 0.25
#define RTX_BURST_S 0.1
#define RTX_PACKET_BITS (1200 * 8)
#define RTX_WINDOW_US G_USEC_PER_SEC

/* rtpsession's thread, as it parses a NACK: the requests on their way
 * to rtprtxsend */
static GstPadProbeReturn
rtx_request_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  guint target = 0;
  gint64 now;
  gboolean granted;

  if (!gst_mesh_peer_custom_upstream (info, "GstRTPRetransmissionRequest"))
    return GST_PAD_PROBE_OK;

  g_mutex_lock (&peer->lock);
  if (peer->bwe)
    target = gst_mesh_bwe_get_target (peer->bwe);
  g_mutex_unlock (&peer->lock);
  if (!target)
    return GST_PAD_PROBE_OK;    /* no congestion control: no budget */

  now = g_get_monotonic_time ();
  g_mutex_lock (&peer->nack_lock);
  if (peer->rtx_refilled) {
    peer->rtx_tokens += RTX_SHARE * target *
        (now - peer->rtx_refilled) / (gdouble) G_USEC_PER_SEC;
  } else {
    peer->rtx_tokens = RTX_BURST_S * target;
  }
  peer->rtx_tokens = MIN (peer->rtx_tokens, RTX_BURST_S * target);
  peer->rtx_refilled = now;
  granted = peer->rtx_tokens >= RTX_PACKET_BITS;
  if (granted) {
    peer->rtx_tokens -= RTX_PACKET_BITS;
    peer->rtx_granted[peer->rtx_granted_head] = now;
    peer->rtx_granted_head = (peer->rtx_granted_head + 1) %
        G_N_ELEMENTS (peer->rtx_granted);
  } else {
    peer->rtx_refused++;
  }
  g_mutex_unlock (&peer->nack_lock);
  if (!granted)
    GST_LOG ("%s: retransmission refused: over %.0f %% of %u bps",
        peer->name, RTX_SHARE * 100, target);
  return granted ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

void
gst_mesh_peer_nack_watch_rtx_sender (GstMeshPeer * peer,
    GstElement * rtprtxsend)
{
  probe_src (rtprtxsend, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, rtx_request_probe,
      peer);
}

guint
gst_mesh_peer_get_rtx_bps (GstMeshPeer * peer)
{
  gint64 now = g_get_monotonic_time ();
  guint n = 0;

  g_mutex_lock (&peer->nack_lock);
  for (guint i = 0; i < G_N_ELEMENTS (peer->rtx_granted); i++)
    n += peer->rtx_granted[i] && now - peer->rtx_granted[i] < RTX_WINDOW_US;
  g_mutex_unlock (&peer->nack_lock);
  return (guint) ((guint64) n * RTX_PACKET_BITS * G_USEC_PER_SEC /
      RTX_WINDOW_US);
}
