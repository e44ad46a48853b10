/* gst-mesh: a peer's congestion control. What we send carries
 * transport-wide sequence numbers (an rtphdrexttwcc on each payloader,
 * under the id the SDP gives; rtpsession numbers the packets across the
 * bundle); the remote's transport-cc feedback comes back as rtpsession
 * parses it, an RTPTWCCPackets event sent upstream through webrtcbin to
 * each of our branches; the estimator of gst/mesh/gstmeshbwe.c turns it
 * into a target, which goes to the element (config.bitrate_changed).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshpeerprivate.h"
#include "gst/mesh/gstmeshprivate.h"

#include <gst/rtp/rtp.h>
#include <stdlib.h>
#include <string.h>

/* ---- the feedback we send ----------------------------------------------
 *
 * rtpsession 1.22 writes transport-cc feedback itself, but a packet that
 * arrives after a feedback counted it missing is dropped for good
 * ("Received out of order packet ... treating as lost"): on a path that
 * reorders (40 +- 30 ms of jitter in tests/net's netimp) 308 packets of
 * one 25 s call were reported lost so, and Chromium's estimate sank to
 * 70-190 kbit/s on a 1 Mbit/s link (ours let 200 through). So the
 * feedback is ours
 * (gst/mesh/gstmeshtwcc.c, which says a late packet again, as libwebrtc
 * does): arrivals stamped as nicesrc pushes them (RTP headers are clear
 * under SRTP), an FCI every FEEDBACK_MS, as libwebrtc's receivers send
 * theirs at 50-250 ms by rate.
 *
 * One FCI goes in each RTCP compound: libwebrtc's RTCPReceiver keeps one
 * transport-cc packet per compound (the last), so the others in it were
 * never acknowledged. With four in a compound, as rtpsession's pace
 * gathered them, Chromium sending to us counted three quarters of its
 * packets in flight for good: its congestion window cut its encoder to
 * 70 kbit/s in the call's first second, and the feedback on its probes
 * at the start was lost, so its estimate climbed from 300 kbit/s at 8 %
 * a second where between two pages the probes took it to 3.5 Mbit/s in
 * 3 s (tests/bench/README.md).
 *
 * Once rtpsession has sent its first RTCP (its SSRC is then known) and
 * rtcp-rsize is negotiated, as with browsers and between our elements,
 * each tick's FCI goes at once in a reduced-size RTCP of our own, as
 * gstmeshpeernack.c sends NACKs (libwebrtc's receivers send theirs every
 * 50-250 ms by rate). Until then, and without rtcp-rsize, the FCIs ride
 * in rtpsession's RTCP (on-sending-rtcp; its own transport-cc packets are
 * taken out), one per compound, with an early RTCP asked for each tick;
 * rtcp-min-interval is lowered from 5 s to 50 ms so that AVPF lets them
 * out as its RTCP bandwidth allows (RFC 4585 allows a T_rr_interval of
 * 0). With rtcp-rsize an early compound has no SR/RR and may be empty:
 * ours then goes alone, with the SSRC of the last report. Once ours go
 * their own way, rtcp-min-interval is 1 s: regular RTCP, the sender
 * reports, about once a second (see gst_mesh_peer_bwe_setup_session on
 * rtpsession's own feedback, which had held them off). */
#define FEEDBACK_MS 50
#define REGULAR_RTCP_MS 1000
/* sequence numbers per feedback: at most ~700 bytes of FCI */
#define FEEDBACK_MAX_PACKETS 250
/* our own RTCP packets per tick, at most */
#define FEEDBACK_MAX_PER_TICK 4

void
gst_mesh_peer_bwe_init (GstMeshPeer * peer)
{
  g_mutex_init (&peer->twcc_lock);
  peer->twcc = gst_mesh_twcc_recorder_new ();
}

void
gst_mesh_peer_bwe_close (GstMeshPeer * peer)
{
  g_mutex_lock (&peer->twcc_lock);
  gst_mesh_clear_source (&peer->twcc_source);
  g_mutex_unlock (&peer->twcc_lock);
}

void
gst_mesh_peer_bwe_clear (GstMeshPeer * peer)
{
  if (peer->rtp_session)
    g_signal_handlers_disconnect_by_data (peer->rtp_session, peer);
  g_clear_object (&peer->rtp_session);
  g_clear_pointer (&peer->twcc_out, g_bytes_unref);
  gst_mesh_twcc_recorder_free (peer->twcc);
  g_mutex_clear (&peer->twcc_lock);
}

static void
note_arrival (GstMeshPeer * peer, GstBuffer * buf, gint64 now)
{
  GstMapInfo map;
  guint32 ssrc = 0;
  guint id = g_atomic_int_get (&peer->twcc_recv_id);
  gint seq;

  if (!id || !gst_buffer_map (buf, &map, GST_MAP_READ))
    return;
  seq = gst_mesh_twcc_packet_seq (map.data, map.size, id, &ssrc);
  gst_buffer_unmap (buf, &map);
  if (seq < 0)
    return;
  g_mutex_lock (&peer->twcc_lock);
  gst_mesh_twcc_recorder_add (peer->twcc, (guint16) seq, now);
  peer->twcc_media_ssrc = ssrc;
  g_mutex_unlock (&peer->twcc_lock);
}

/* nicesrc's thread */
static GstPadProbeReturn
arrival_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  gint64 now = g_get_monotonic_time ();

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    note_arrival (peer, GST_PAD_PROBE_INFO_BUFFER (info), now);
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    for (guint i = 0; i < gst_buffer_list_length (list); i++)
      note_arrival (peer, gst_buffer_list_get (list, i), now);
  }
  return GST_PAD_PROBE_OK;
}

void
gst_mesh_peer_bwe_watch_transport (GstMeshPeer * peer, GstPad * pad)
{
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, arrival_probe, peer, NULL);
}

/* The transport-wide sequence number's extension id in @sdp (what the
 * remote side's packets carry, under BUNDLE the same in every m-line),
 * kept for the arrival probe; 0 while none is negotiated. */
void
gst_mesh_peer_bwe_remote_description (GstMeshPeer * peer,
    const GstSDPMessage * sdp)
{
  guint id = 0;

  for (guint i = 0; !id && i < gst_sdp_message_medias_len (sdp); i++)
    id = gst_mesh_peer_extmap_id_in_media (gst_sdp_message_get_media (sdp, i),
        GST_MESH_TWCC_URI);
  g_atomic_int_set (&peer->twcc_recv_id, id);
}

/* The next FCI: the one that waits, else what arrived since the last.
 * With the twcc_lock. */
static GBytes *
next_feedback (GstMeshPeer * peer)
{
  GBytes *fci = g_steal_pointer (&peer->twcc_out);

  return fci ? fci : gst_mesh_twcc_recorder_feedback (peer->twcc,
      FEEDBACK_MAX_PACKETS);
}

/* @fci into @rtcp (mapped) as a transport-cc packet from @sender about
 * @media; FALSE when it has no room. */
static gboolean
add_feedback (GstRTCPBuffer * rtcp, guint32 sender, guint32 media,
    GBytes * fci)
{
  GstRTCPPacket p;
  gsize len;
  const guint8 *data = g_bytes_get_data (fci, &len);

  if (!gst_rtcp_buffer_add_packet (rtcp, GST_RTCP_TYPE_RTPFB, &p))
    return FALSE;
  gst_rtcp_packet_fb_set_type (&p, GST_RTCP_RTPFB_TYPE_TWCC);
  gst_rtcp_packet_fb_set_sender_ssrc (&p, sender);
  gst_rtcp_packet_fb_set_media_ssrc (&p, media);
  if (!gst_rtcp_packet_fb_set_fci_length (&p, len / 4)) {
    gst_rtcp_packet_remove (&p);
    return FALSE;
  }
  memcpy (gst_rtcp_packet_fb_get_fci (&p), data, len);
  return TRUE;
}

/* The peer context, with RTCP of our own (@pad): each FCI in its own
 * compound, at once. */
static void
send_feedback (GstMeshPeer * peer, GstPad * pad, guint32 sender)
{
  for (guint i = 0; i < FEEDBACK_MAX_PER_TICK; i++) {
    GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
    GstBuffer *buf;
    GBytes *fci;
    guint32 media;
    gboolean ok;
    GstFlowReturn ret;

    g_mutex_lock (&peer->twcc_lock);
    fci = next_feedback (peer);
    media = peer->twcc_media_ssrc;
    g_mutex_unlock (&peer->twcc_lock);
    if (!fci)
      return;
    buf = gst_rtcp_buffer_new (16 + g_bytes_get_size (fci));
    gst_rtcp_buffer_map (buf, GST_MAP_READWRITE, &rtcp);
    ok = add_feedback (&rtcp, sender, media, fci);
    gst_rtcp_buffer_unmap (&rtcp);
    g_bytes_unref (fci);
    if (!ok) {
      gst_buffer_unref (buf);
      return;
    }
    ret = gst_pad_push (pad, buf);
    if (ret != GST_FLOW_OK) {
      GST_DEBUG ("%s: transport-cc feedback not sent: %s", peer->name,
          gst_flow_get_name (ret));
      return;
    }
    GST_LOG ("%s: transport-cc feedback out (our RTCP)", peer->name);
  }
}

/* the peer context, every FEEDBACK_MS */
static gboolean
feedback_tick (gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  GObject *session = NULL;
  GstPad *pad;
  guint32 sender = 0;

  if (peer->closed)
    return G_SOURCE_REMOVE;

  pad = gst_mesh_peer_rtcp_out (peer, &sender);
  if (pad) {
    if (!peer->regular_rtcp_set) {
      /* the FCIs no longer need rtpsession's RTCP: its regular RTCP (the
       * sender reports) goes back to a cadence like libwebrtc's video */
      g_mutex_lock (&peer->twcc_lock);
      if (peer->rtp_session)
        session = g_object_ref (peer->rtp_session);
      g_mutex_unlock (&peer->twcc_lock);
      if (session) {
        g_object_set (session, "rtcp-min-interval",
            (guint64) (REGULAR_RTCP_MS * GST_MSECOND), NULL);
        g_clear_object (&session);
      }
      peer->regular_rtcp_set = TRUE;
    }
    send_feedback (peer, pad, sender);
    gst_object_unref (pad);
    return G_SOURCE_CONTINUE;
  }
  g_mutex_lock (&peer->twcc_lock);
  if ((peer->twcc_out || gst_mesh_twcc_recorder_pending (peer->twcc))
      && peer->rtp_session)
    session = g_object_ref (peer->rtp_session);
  g_mutex_unlock (&peer->twcc_lock);
  if (session) {
    /* early RTCP, as soon as AVPF allows */
    g_signal_emit_by_name (session, "send-rtcp",
        (guint64) (FEEDBACK_MS * GST_MSECOND));
    g_object_unref (session);
  }
  return G_SOURCE_CONTINUE;
}

/* rtpsession's RTCP thread, for each compound it is about to send: its
 * own transport-cc packets out, ours in (one per compound). */
static gboolean
on_sending_rtcp (GObject * session, GstBuffer * buffer, gboolean early,
    GstMeshPeer * peer)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  gboolean more, added = FALSE;
  GBytes *fci;

  if (!gst_rtcp_buffer_map (buffer, GST_MAP_READWRITE, &rtcp))
    return FALSE;
  more = gst_rtcp_buffer_get_first_packet (&rtcp, &p);
  while (more) {
    if (gst_rtcp_packet_get_type (&p) == GST_RTCP_TYPE_RTPFB &&
        gst_rtcp_packet_fb_get_type (&p) == GST_RTCP_RTPFB_TYPE_TWCC)
      more = gst_rtcp_packet_remove (&p);
    else
      more = gst_rtcp_packet_move_to_next (&p);
  }

  g_mutex_lock (&peer->twcc_lock);
  /* every RTCP packet has its sender's SSRC in bytes 4-7. With rtcp-rsize
   * an early compound has no SR/RR or SDES and may be empty: ours then
   * goes alone, as the SSRC of the last report. */
  if (rtcp.map.size >= 8)
    peer->rtcp_sender = GST_READ_UINT32_BE (rtcp.map.data + 4);
  if (peer->rtcp_sender && (fci = next_feedback (peer))) {
    added = add_feedback (&rtcp, peer->rtcp_sender, peer->twcc_media_ssrc,
        fci);
    if (added)
      g_bytes_unref (fci);
    else
      peer->twcc_out = fci;     /* full: the next RTCP takes it */
  }
  if (added)
    GST_LOG ("%s: transport-cc feedback out (%s RTCP)", peer->name,
        early ? "early" : "regular");
  g_mutex_unlock (&peer->twcc_lock);
  gst_rtcp_buffer_unmap (&rtcp);
  return added;
}

/* A received packet's running time as rtpsession takes it: its PTS in
 * the pad's segment, or without a PTS the clock's time now. A packet
 * that would have none (a PTS before the segment, or no clock yet) goes
 * on without its PTS when there is a clock, and is dropped when there is
 * none (the session is not running). */
static gboolean
give_running_time (GstBuffer ** buf, guint idx, gpointer user_data)
{
  GstPad *pad = user_data;
  GstElement *e;
  gboolean clock;

  if (GST_BUFFER_PTS_IS_VALID (*buf)) {
    GstEvent *ev = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
    const GstSegment *segment;
    GstClockTime rt = GST_CLOCK_TIME_NONE;

    if (ev) {
      gst_event_parse_segment (ev, &segment);
      if (segment->format == GST_FORMAT_TIME)
        rt = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
            GST_BUFFER_PTS (*buf));
      gst_event_unref (ev);
    }
    if (GST_CLOCK_TIME_IS_VALID (rt))
      return TRUE;
  }
  e = gst_pad_get_parent_element (pad);
  clock = e && GST_ELEMENT_CLOCK (e) != NULL;
  gst_clear_object (&e);
  if (!clock) {
    gst_clear_buffer (buf);
    return TRUE;
  }
  if (GST_BUFFER_PTS_IS_VALID (*buf)) {
    *buf = gst_buffer_make_writable (*buf);
    GST_BUFFER_PTS (*buf) = GST_CLOCK_TIME_NONE;
  }
  return TRUE;
}

static GstPadProbeReturn
running_time_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = gst_buffer_list_make_writable
        (GST_PAD_PROBE_INFO_BUFFER_LIST (info));

    gst_buffer_list_foreach (list, give_running_time, pad);
    GST_PAD_PROBE_INFO_DATA (info) = list;
    return gst_buffer_list_length (list) ? GST_PAD_PROBE_OK :
        GST_PAD_PROBE_DROP;
  } else {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

    give_running_time (&buf, 0, pad);
    GST_PAD_PROBE_INFO_DATA (info) = buf;
    /* dropped: already let go of, so HANDLED, not DROP */
    return buf ? GST_PAD_PROBE_OK : GST_PAD_PROBE_HANDLED;
  }
}

static void
on_session_pad_added (GstElement * rtpsession, GstPad * pad, gpointer data)
{
  if (g_str_has_prefix (GST_PAD_NAME (pad), "recv_rtp_sink"))
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, running_time_probe, NULL, NULL);
}

void
gst_mesh_peer_bwe_setup_session (GstMeshPeer * peer, GstElement * rtpsession)
{
  GObject *session = NULL;

  g_object_get (rtpsession, "internal-session", &session, NULL);
  if (!session)
    return;
  g_object_set (session, "rtcp-min-interval",
      (guint64) (FEEDBACK_MS * GST_MSECOND), NULL);
  /* rtpsession makes transport-cc feedback of its own, which
   * on_sending_rtcp replaces with ours, and by default asks for early
   * RTCP at every video frame's last packet (its marker bit) to send it.
   * Each early RTCP puts the next regular one off (forward
   * reconsideration from the last RTCP of any kind): a call sent its
   * sender reports every 5-7 s (Chromium counted 2-3 in 15 s,
   * tests/bench/glass.mjs), and a receiver's lip sync needs two of each
   * stream before it starts. On an hour's interval it makes feedback only
   * when its packets would overflow one (about 600 packets); feedback_tick
   * sets the regular cadence. Its interval loop never ends for a packet
   * without a running time, which running_time_probe keeps out. */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (session),
          "twcc-feedback-interval")) {
    g_signal_connect (rtpsession, "pad-added",
        G_CALLBACK (on_session_pad_added), NULL);
    g_object_set (session, "twcc-feedback-interval",
        (guint64) (3600 * GST_SECOND), NULL);
  }
  g_mutex_lock (&peer->twcc_lock);
  if (!peer->rtp_session) {
    /* max-bundle: one transport, one session */
    peer->rtp_session = g_object_ref (session);
    g_signal_connect (session, "on-sending-rtcp",
        G_CALLBACK (on_sending_rtcp), peer);
    if (!peer->twcc_source && !peer->closed)
      peer->twcc_source = gst_mesh_peer_timeout_add (peer, FEEDBACK_MS,
          feedback_tick);
  }
  g_mutex_unlock (&peer->twcc_lock);
  GST_DEBUG ("%s: %s: our transport-cc feedback, RTCP as its bandwidth "
      "allows", peer->name, GST_OBJECT_NAME (rtpsession));
  g_object_unref (session);
}

guint
gst_mesh_peer_extmap_id (const GstCaps * caps, const gchar * uri)
{
  const GstStructure *s;

  if (!caps || gst_caps_get_size (caps) == 0)
    return 0;
  s = gst_caps_get_structure (caps, 0);
  for (gint i = 0; i < gst_structure_n_fields (s); i++) {
    const gchar *name = gst_structure_nth_field_name (s, i);
    const GValue *v;

    if (!g_str_has_prefix (name, "extmap-"))
      continue;
    v = gst_structure_get_value (s, name);
    /* extmap-N is a string, or (direction, uri, attributes) */
    if (G_VALUE_HOLDS_STRING (v) && g_strcmp0 (g_value_get_string (v), uri) == 0)
      return (guint) atoi (name + strlen ("extmap-"));
    if (GST_VALUE_HOLDS_ARRAY (v) && gst_value_array_get_size (v) >= 2) {
      const GValue *u = gst_value_array_get_value (v, 1);
      if (G_VALUE_HOLDS_STRING (u) && g_strcmp0 (g_value_get_string (u), uri) == 0)
        return (guint) atoi (name + strlen ("extmap-"));
    }
  }
  return 0;
}

guint
gst_mesh_peer_extmap_id_in_media (const GstSDPMedia * media, const gchar * uri)
{
  gsize len = strlen (uri);

  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    gchar *end = NULL;
    guint64 id;

    if (g_strcmp0 (a->key, "extmap") != 0 || !a->value)
      continue;
    /* "ID[/direction] URI [attributes]" */
    id = g_ascii_strtoull (a->value, &end, 10);
    if (end == a->value || id < 1 || id > 14)
      continue;
    while (*end && *end != ' ')
      end++;
    while (*end == ' ')
      end++;
    if (g_str_has_prefix (end, uri) && (end[len] == '\0' || end[len] == ' '))
      return (guint) id;
  }
  return 0;
}

void
gst_mesh_peer_caps_add_extmap (GstCaps * caps, guint id, const gchar * uri)
{
  gchar *field = g_strdup_printf ("extmap-%u", id);

  gst_caps_set_simple (caps, field, G_TYPE_STRING, uri, NULL);
  g_free (field);
}

static void
report_bitrate (GstMeshPeer * peer, gpointer data)
{
  guint bps;

  g_mutex_lock (&peer->lock);
  bps = peer->reported_bps;
  g_mutex_unlock (&peer->lock);
  if (bps && !peer->closed && peer->config.bitrate_changed)
    peer->config.bitrate_changed (peer, bps, peer->config.user_data);
}

/* ---- FEC ----------------------------------------------------------------
 *
 * webrtcbin 1.22 puts rtpulpfecenc and rtpredenc between each transceiver's
 * sink pad and rtpbin when its fec-type is ulp-red, and on the receiving
 * side rtpreddec ahead of the jitter buffers and rtpulpfecdec after them:
 * when a jitter buffer gives a packet up for lost, rtpulpfecdec rebuilds
 * it from rtpbin's rtpstorage, if a FEC packet covers it and the others it
 * covers came. Three things in 1.22 keep that from working as given, and
 * are mended here:
 *
 * - rtpredenc copies no header extension but the transport-cc one, which
 *   it writes under id 1 whatever the SDP says (gstrtpredenc.c, 1.22.0),
 *   so what it sends is not numbered, has no feedback, and the estimate
 *   falls to min-bitrate (seen: 94 kbit/s, received 17). And rtpreddec
 *   rebuilds media packets with no extension at all, while rtpulpfecenc
 *   protected them with theirs: the lengths do not add up and nothing is
 *   recovered (a rebuilt length 16 bytes off, "Unrecovered" for a single
 *   loss). So the video payloader writes no extension when FEC is on; a
 *   probe on rtpbin's send_rtp_sink pads (after the FEC encoder) gives
 *   each packet that has none a transport-cc placeholder for rtpsession
 *   to number. FEC is then computed over what the receiver rebuilds.
 * - rtpstorage keeps webrtcbin's latency plus 50 ms (60 ms at ours), and
 *   our jitter buffers grow past it on long paths (gstmeshpeerjitter.c):
 *   by the time a packet is given up, its neighbours were gone. It keeps
 *   max-latency plus 100 ms instead.
 * - The FEC packets share the estimate: the encoder gets what is left
 *   (update_reported).
 *
 * Only between our elements: an answer takes FEC only from an offer that
 * names gst-mesh as its tool (a=tool), and an offerer whose answer does
 * not sends no FEC packets. Chromium sending its ULPFEC to us at 5 % loss
 * showed 71-85 % of its frames against 98-100 % without FEC
 * (tests/bench/README.md): a browser's ULPFEC protects packets with
 * their extensions, which rtpreddec drops.
 *
 * The share follows the loss the feedback reports (libwebrtc's
 * protection tables also weigh the round trip; this is simpler): none
 * below 1 %, then five times the loss, 10 to 50 %; up at once, down by 5
 * points a second at most. */
#define FEC_AUTO_FIXED 25       /* without congestion control */
#define FEC_STEP_DOWN 5
#define FEC_STORAGE_EXTRA_MS 100

static guint
fec_wanted (gdouble loss)
{
  if (loss < 0.01)
    return 0;
  return CLAMP ((guint) (loss * 500 + 0.5), 10, 50);
}

/* Whether the remote's description is one of ours (the session's
 * a=tool, which gstmeshpeer.c writes into every offer and answer). */
gboolean
gst_mesh_peer_remote_is_ours (GstMeshPeer * peer)
{
  const gchar *tool = peer->remote_sdp ?
      gst_sdp_message_get_attribute_val (peer->remote_sdp, "tool") : NULL;

  return tool && g_str_has_prefix (tool, GST_MESH_SDP_TOOL);
}

gboolean
gst_mesh_peer_fec_on (GstMeshPeer * peer)
{
  /* an offer cannot know who answers; an answer goes by the offer */
  return peer->config.fec && (peer->offerer || gst_mesh_peer_remote_is_ours (peer));
}

void
gst_mesh_peer_fec_remote_answer (GstMeshPeer * peer)
{
  GstWebRTCRTPTransceiver *trans;

  if (!peer->config.fec || gst_mesh_peer_remote_is_ours (peer))
    return;
  g_mutex_lock (&peer->lock);
  trans = peer->fec_trans;
  peer->fec_trans = NULL;
  peer->fec_percentage = 0;
  g_mutex_unlock (&peer->lock);
  if (!trans)
    return;
  GST_WARNING ("%s: the answer is not from gst-mesh: no FEC packets from "
      "us (it may still send its own)", peer->name);
  g_object_set (trans, "fec-percentage", 0, NULL);
  gst_object_unref (trans);
}

void
gst_mesh_peer_fec_setup_transceiver (GstMeshPeer * peer,
    GstWebRTCRTPTransceiver * trans, gboolean sending)
{
  guint pct = peer->config.fec_percentage;

  if (!gst_mesh_peer_fec_on (peer))
    return;
  if (!pct && !peer->config.congestion_control)
    pct = FEC_AUTO_FIXED;
  g_object_set (trans, "fec-type", GST_WEBRTC_FEC_TYPE_ULP_RED,
      "fec-percentage", pct, NULL);
  if (sending) {
    gst_object_replace ((GstObject **) & peer->fec_trans, GST_OBJECT (trans));
    peer->fec_percentage = pct;
  }
  GST_INFO ("%s: ULPFEC/RED on the video transceiver, %u %%%s", peer->name,
      pct, peer->config.fec_percentage || !peer->config.congestion_control ?
      "" : " (following the loss)");
}

/* rtpbin's send_rtp_sink, behind webrtcbin's FEC encoder (any thread) */
static gboolean
add_placeholder (GstBuffer ** buf, guint idx, gpointer user_data)
{
  guint id = GPOINTER_TO_UINT (user_data);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint8 zero[2] = { 0, 0 };
  gpointer data;

  if (!gst_rtp_buffer_map (*buf, GST_MAP_READ, &rtp))
    return TRUE;
  if (gst_rtp_buffer_get_extension_onebyte_header (&rtp, id, 0, &data, NULL)
      || gst_rtp_buffer_get_extension_twobytes_header (&rtp, NULL, id, 0,
          &data, NULL)) {
    gst_rtp_buffer_unmap (&rtp);
    return TRUE;
  }
  gst_rtp_buffer_unmap (&rtp);
  *buf = gst_buffer_make_writable (*buf);
  if (gst_rtp_buffer_map (*buf, GST_MAP_READWRITE, &rtp)) {
    gst_rtp_buffer_add_extension_onebyte_header (&rtp, id, zero, 2);
    gst_rtp_buffer_unmap (&rtp);
  }
  return TRUE;
}

static GstPadProbeReturn
send_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  guint id = g_atomic_int_get (&peer->twcc_after_fec_id);

  if (!id)
    return GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    add_placeholder (&buf, 0, GUINT_TO_POINTER (id));
    info->data = buf;
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list =
        gst_buffer_list_make_writable (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
    gst_buffer_list_foreach (list, add_placeholder, GUINT_TO_POINTER (id));
    info->data = list;
  }
  return GST_PAD_PROBE_OK;
}

void
gst_mesh_peer_fec_on_rtpbin_pad (GstElement * rtpbin, GstPad * pad,
    GstMeshPeer * peer)
{
  if (!g_str_has_prefix (GST_PAD_NAME (pad), "send_rtp_sink_"))
    return;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, send_probe, peer, NULL);
}

void
gst_mesh_peer_fec_setup_storage (GstMeshPeer * peer, GstElement * rtpbin,
    guint session)
{
  GObject *storage = NULL;

  if (!peer->config.fec)
    return;
  g_signal_emit_by_name (rtpbin, "get-storage", session, &storage);
  if (!storage)
    return;
  g_object_set (storage, "size-time", (guint64) (MAX (peer->config.max_latency,
              peer->config.latency) + FEC_STORAGE_EXTRA_MS) * GST_MSECOND,
      NULL);
  g_object_unref (storage);
}

static void
set_fec_percentage (GstMeshPeer * peer, gpointer data)
{
  GstWebRTCRTPTransceiver *trans = NULL;
  guint pct;

  g_mutex_lock (&peer->lock);
  if (peer->fec_trans)
    trans = gst_object_ref (peer->fec_trans);
  pct = peer->fec_percentage;
  g_mutex_unlock (&peer->lock);
  if (!trans)
    return;
  GST_DEBUG ("%s: FEC at %u %%", peer->name, pct);
  g_object_set (trans, "fec-percentage", pct, NULL);
  gst_object_unref (trans);
}

gboolean
gst_mesh_peer_get_fec_stats (GstMeshPeer * peer, guint * percentage,
    guint * recovered, guint * unrecovered)
{
  GstIterator *it;
  GValue v = G_VALUE_INIT;

  *percentage = *recovered = *unrecovered = 0;
  if (!peer->config.fec)
    return FALSE;
  g_mutex_lock (&peer->lock);
  *percentage = peer->fec_percentage;
  g_mutex_unlock (&peer->lock);
  /* webrtcbin makes one per received stream (rtpbin's request-fec-decoder) */
  it = gst_bin_iterate_recurse (GST_BIN (peer->webrtc));
  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    GstElementFactory *f = gst_element_get_factory (e);
    guint r = 0, u = 0;

    if (f && !g_strcmp0 (GST_OBJECT_NAME (f), "rtpulpfecdec")) {
      g_object_get (e, "recovered", &r, "unrecovered", &u, NULL);
      *recovered += r;
      *unrecovered += u;
    }
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  return TRUE;
}

/* The share of FEC after a feedback: TRUE when it moved. With the lock. */
static gboolean
update_fec (GstMeshPeer * peer)
{
  GstMeshBweStats st;
  gint64 now = g_get_monotonic_time ();
  guint want, pct = peer->fec_percentage;

  if (!peer->fec_trans || peer->config.fec_percentage)
    return FALSE;
  gst_mesh_bwe_get_stats (peer->bwe, &st);
  want = fec_wanted (st.loss);
  if (want > pct)
    pct = want;
  else if (want < pct && now - peer->fec_changed >= G_USEC_PER_SEC)
    pct = MAX (want, pct > FEC_STEP_DOWN ? pct - FEC_STEP_DOWN : 0);
  if (pct == peer->fec_percentage)
    return FALSE;
  peer->fec_percentage = pct;
  peer->fec_changed = now;
  return TRUE;
}

/* What the encoder may use for this peer: the estimate less the
 * retransmissions of the last second (gstmeshpeernack.c), at least half
 * of it, and less the FEC packets' share. TRUE when that moved by more
 * than 1 % since last said. With the lock. */
static gboolean
update_reported (GstMeshPeer * peer)
{
  guint target = gst_mesh_bwe_get_target (peer->bwe);
  guint rtx = gst_mesh_peer_get_rtx_bps (peer);
  guint bps = MAX (target > rtx ? target - rtx : 0, target / 2);
  guint old = peer->reported_bps;

  if (peer->fec_trans)
    bps = (guint) ((guint64) bps * 100 / (100 + peer->fec_percentage));

  if (old && bps >= old * 0.99 && bps <= old * 1.01)
    return FALSE;
  peer->reported_bps = bps;
  return TRUE;
}

/* One packet of an RTPTWCCPackets event; FALSE for one that is not ours
 * to judge (no send time). */
static gboolean
parse_packet (const GstStructure * s, GstMeshBwePacket * p)
{
  guint64 local = GST_CLOCK_TIME_NONE, remote = GST_CLOCK_TIME_NONE;
  guint size = 0;
  gboolean lost = FALSE;
  guint seq = 0;

  memset (p, 0, sizeof (*p));
  gst_structure_get_uint64 (s, "local-ts", &local);
  gst_structure_get_uint64 (s, "remote-ts", &remote);
  gst_structure_get_uint (s, "size", &size);
  gst_structure_get_boolean (s, "lost", &lost);
  p->has_seq = gst_structure_get_uint (s, "seqnum", &seq);
  p->seq = (guint16) seq;
  /* rtpsession forgets a packet's send time once a feedback went past it:
   * one that a receiver reports again (late) then has none, and can only
   * take back its loss */
  if (!GST_CLOCK_TIME_IS_VALID (local) &&
      (!p->has_seq || lost || !GST_CLOCK_TIME_IS_VALID (remote)))
    return FALSE;
  p->send_us = GST_CLOCK_TIME_IS_VALID (local) ?
      (gint64) (local / GST_USECOND) : -1;
  p->lost = lost || !GST_CLOCK_TIME_IS_VALID (remote);
  p->arrival_us = p->lost ? 0 : (gint64) (remote / GST_USECOND);
  p->size = size;
  return TRUE;
}

/* The packets of an RTPTWCCPackets structure, whichever container holds
 * them (a GValueArray in 1.22). */
static GArray *
parse_feedback (const GstStructure * s)
{
  const GValue *v = gst_structure_get_value (s, "packets");
  GArray *out = g_array_new (FALSE, FALSE, sizeof (GstMeshBwePacket));
  guint n = 0;

  if (!v)
    return out;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
  if (G_VALUE_HOLDS (v, g_value_array_get_type ())) {
    GValueArray *a = g_value_get_boxed (v);
    n = a ? a->n_values : 0;
    for (guint i = 0; i < n; i++) {
      const GValue *e = g_value_array_get_nth (a, i);
      GstMeshBwePacket p;
      if (GST_VALUE_HOLDS_STRUCTURE (e) &&
          parse_packet (gst_value_get_structure (e), &p))
        g_array_append_val (out, p);
    }
  } else if (GST_VALUE_HOLDS_LIST (v) || GST_VALUE_HOLDS_ARRAY (v)) {
    gboolean list = GST_VALUE_HOLDS_LIST (v);
    n = list ? gst_value_list_get_size (v) : gst_value_array_get_size (v);
    for (guint i = 0; i < n; i++) {
      const GValue *e = list ? gst_value_list_get_value (v, i) :
          gst_value_array_get_value (v, i);
      GstMeshBwePacket p;
      if (GST_VALUE_HOLDS_STRUCTURE (e) &&
          parse_packet (gst_value_get_structure (e), &p))
        g_array_append_val (out, p);
    }
  }
  G_GNUC_END_IGNORE_DEPRECATIONS;
  return out;
}

/* rtpsession's thread. The funnel ahead of rtpbin sends the one event up
 * every branch: its seqnum tells a second sight. */
static GstPadProbeReturn
feedback_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  const GstStructure *s;
  GArray *packets;
  gboolean changed = FALSE, fec_changed = FALSE;
  guint32 seqnum;

  s = gst_mesh_peer_custom_upstream (info, "RTPTWCCPackets");
  if (!s)
    return GST_PAD_PROBE_OK;

  seqnum = gst_event_get_seqnum (event);
  g_mutex_lock (&peer->lock);
  if (peer->bwe && seqnum != peer->bwe_event_seqnum) {
    peer->bwe_event_seqnum = seqnum;
    packets = parse_feedback (s);
    if (packets->len)
      gst_mesh_bwe_feedback (peer->bwe, (GstMeshBwePacket *) packets->data,
          packets->len, g_get_monotonic_time ());
    fec_changed = update_fec (peer);
    changed = update_reported (peer);
    if (G_UNLIKELY (GST_LEVEL_LOG <= _gst_debug_min) &&
        gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_LOG) {
      GstMeshBweStats st;
      gst_mesh_bwe_get_stats (peer->bwe, &st);
      GST_LOG ("%s: feedback on %u packets, target %u bps (delay %u, loss "
          "%u: %.3f, %s; received %u)", peer->name, packets->len,
          st.target_bps, st.delay_bps, st.loss_bps, st.loss,
          gst_mesh_bwe_usage_name (st.usage), st.received_bps);
    }
    g_array_unref (packets);
  }
  g_mutex_unlock (&peer->lock);
  if (fec_changed)
    gst_mesh_peer_defer (peer, set_fec_percentage, NULL, NULL);
  if (changed)
    gst_mesh_peer_defer (peer, report_bitrate, NULL, NULL);
  /* ours: the payloader and the encoder have nothing to do with it */
  return GST_PAD_PROBE_DROP;
}

void
gst_mesh_peer_bwe_setup_branch (GstMeshPeer * peer, GstElement * pay,
    GstPad * pad, guint twcc_id, gboolean fec)
{
  GstRTPHeaderExtension *ext;

  if (!peer->config.congestion_control || !twcc_id)
    return;
  ext = gst_rtp_header_extension_create_from_uri (GST_MESH_TWCC_URI);
  if (!ext) {
    GST_WARNING ("%s: no rtphdrexttwcc: sending without congestion control",
        peer->name);
    return;
  }
  gst_rtp_header_extension_set_id (ext, twcc_id);
  if (fec) {
    /* numbered after the FEC encoder (above); and not from the caps'
     * extmap either, as rtpbasepayload would by itself */
    g_object_set (pay, "auto-header-extension", FALSE, NULL);
    g_atomic_int_set (&peer->twcc_after_fec_id, twcc_id);
  } else {
    g_signal_emit_by_name (pay, "add-extension", ext);
  }
  gst_object_unref (ext);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, feedback_probe,
      peer, NULL);
  if (!peer->bwe)
    peer->bwe = gst_mesh_bwe_new (peer->config.min_bitrate,
        peer->config.start_bitrate, peer->config.max_bitrate);
  GST_INFO ("%s: congestion control on, transport-cc as extension %u, "
      "%u-%u bps from %u", peer->name, twcc_id, peer->config.min_bitrate,
      peer->config.max_bitrate, peer->config.start_bitrate);
}

gboolean
gst_mesh_peer_get_bwe_stats (GstMeshPeer * peer, GstMeshBweStats * stats)
{
  gboolean have;

  g_mutex_lock (&peer->lock);
  have = peer->bwe != NULL;
  if (have)
    gst_mesh_bwe_get_stats (peer->bwe, stats);
  g_mutex_unlock (&peer->lock);
  return have;
}
