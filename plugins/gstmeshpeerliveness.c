/* gst-mesh: whether a peer connection is alive. webrtcbin's connection
 * state (failed, closed) and an RTCP BYE from an SSRC the remote sends
 * media on end a call at once; disconnected for peer-timeout, or nothing
 * (RTP or RTCP) for that long from a peer that was talking, ends it too,
 * found by a watchdog. The state the peer is in, and what it tells the
 * element, is set here.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshpeerprivate.h"

#include <gst/video/video.h>
#include <string.h>

static void
note_activity (GstMeshPeer * peer)
{
  /* ms since the peer started: fits an int, which is atomic */
  g_atomic_int_set (&peer->last_rtp_ms,
      (gint) ((g_get_monotonic_time () - peer->start_time) / 1000));
}

/* RTCP from the remote counts as life too: a peer that only receives
 * sends no RTP, but reports every few seconds. */
static GstPadProbeReturn
transport_activity_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  note_activity (user_data);
  return GST_PAD_PROBE_OK;
}

/* What proves the peer still reaches us is a packet on the ICE transport:
 * SRTP, SRTCP or DTLS out of nicesrc (libnice keeps STUN to itself). Not
 * rtpbin's on-ssrc-active, which its RTCP timer emits for every source it
 * still counts as active: after a NAT rebinding it went on for ~36 s
 * (five RTCP intervals, until the source timed out) with nothing arriving
 * (tests/bench/ice-recovery.mjs). */
void
gst_mesh_peer_on_deep_element_added (GstBin * webrtc, GstBin * sub_bin,
    GstElement * element, GstMeshPeer * peer)
{
  GstElementFactory *f = gst_element_get_factory (element);
  GstPad *src;

  if (f && !g_strcmp0 (GST_OBJECT_NAME (f), "clocksync")) {
    gst_mesh_peer_tune_clocksync (peer, element);
    return;
  }
  if (f && !g_strcmp0 (GST_OBJECT_NAME (f), "rtprtxsend")) {
    gst_mesh_peer_nack_watch_rtx_sender (peer, element);
    return;
  }
  if (f && !g_strcmp0 (GST_OBJECT_NAME (f), "rtprtxreceive")) {
    gst_mesh_peer_nack_watch_rtx_receiver (peer, element);
    return;
  }
  if (f && !g_strcmp0 (GST_OBJECT_NAME (f), "rtpsession")) {
    gst_mesh_peer_bwe_setup_session (peer, element);
    gst_mesh_peer_nack_setup_session (peer, element);
    return;
  }
  if (!f || g_strcmp0 (GST_OBJECT_NAME (f), "nicesrc") != 0)
    return;
  src = gst_element_get_static_pad (element, "src");
  if (!src)
    return;
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, transport_activity_probe, peer, NULL);
  gst_mesh_peer_bwe_watch_transport (peer, src);
  gst_object_unref (src);
  GST_DEBUG ("%s: watching %s for packets from the peer", peer->name,
      GST_OBJECT_NAME (element));
}

/* Whether @ssrc is one the remote sends media on, or we know none yet. */
static gboolean
is_remote_media_ssrc (GstMeshPeer * peer, guint ssrc)
{
  gboolean known = FALSE;

  g_mutex_lock (&peer->lock);
  for (guint i = 0; i < peer->remote_ssrcs->len && !known; i++)
    known = g_array_index (peer->remote_ssrcs, guint, i) == ssrc;
  known = known || peer->remote_ssrcs->len == 0;
  g_mutex_unlock (&peer->lock);
  return known;
}

static void
on_remote_bye (GstMeshPeer * peer, gpointer data)
{
  gchar *reason;

  /* rtpsession says BYE for an SSRC it only ever sent receiver reports
   * from, once a media SSRC took over (reason "timed out"): that is not
   * the peer leaving */
  if (!is_remote_media_ssrc (peer, GPOINTER_TO_UINT (data))) {
    GST_DEBUG ("%s: BYE from SSRC %u, which sends no media: ignored",
        peer->name, GPOINTER_TO_UINT (data));
    return;
  }
  reason = g_strdup_printf ("the peer hung up (RTCP BYE from SSRC %u)",
      GPOINTER_TO_UINT (data));

  if (peer->state == GST_MESH_CALL_STATE_CONNECTED)
    gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_ENDED, reason);
  g_free (reason);
}

void
gst_mesh_peer_on_bye_ssrc (GstElement * rtpbin, guint session, guint ssrc,
    GstMeshPeer * peer)
{
  gst_mesh_peer_defer (peer, on_remote_bye, GUINT_TO_POINTER (ssrc), NULL);
}

GstPadProbeReturn
gst_mesh_peer_rtp_activity_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  GstMeshPeer *peer = user_data;

  note_activity (peer);
  return GST_PAD_PROBE_OK;
}

static void
request_keyframe (GstMeshPeer * peer)
{
  GstPad *pad = NULL;

  g_mutex_lock (&peer->lock);
  if (peer->send_pad[GST_MESH_MEDIA_VIDEO])
    pad = gst_object_ref (peer->send_pad[GST_MESH_MEDIA_VIDEO]);
  g_mutex_unlock (&peer->lock);
  if (pad) {
    gst_pad_push_event (pad, gst_mesh_keyframe_request_new (FALSE));
    gst_object_unref (pad);
  }
}

static void
on_connection_state (GstMeshPeer * peer, gpointer data)
{
  GstWebRTCPeerConnectionState state;

  g_object_get (peer->webrtc, "connection-state", &state, NULL);
  GST_DEBUG ("%s: connection state %d", peer->name, state);
  switch (state) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
      peer->disconnected_since = 0;
      if (peer->state != GST_MESH_CALL_STATE_CONNECTED) {
        /* what was encoded before DTLS was up never reached the peer:
         * it starts with a keyframe held at the gate, or one asked for */
        if (gst_mesh_peer_open_gates (peer))
          request_keyframe (peer);
        gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_CONNECTED,
            "connected");
      }
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
      if (!peer->disconnected_since)
        peer->disconnected_since = g_get_monotonic_time ();
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
      gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_FAILED,
          "the peer connection failed (ICE or DTLS)");
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
      gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_ENDED,
          "the peer closed the connection");
      break;
    default:
      break;
  }
}

static void
on_ice_connection_state (GstMeshPeer * peer, gpointer data)
{
  GstWebRTCICEConnectionState state;

  g_object_get (peer->webrtc, "ice-connection-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_CONNECTION_STATE_CHECKING)
    gst_mesh_peer_keyframe_ahead (peer);
}

void
gst_mesh_peer_on_ice_connection_state_notify (GObject * webrtc,
    GParamSpec * pspec, GstMeshPeer * peer)
{
  gst_mesh_peer_defer (peer, on_ice_connection_state, NULL, NULL);
}

void
gst_mesh_peer_on_connection_state_notify (GObject * webrtc, GParamSpec * pspec,
    GstMeshPeer * peer)
{
  gst_mesh_peer_defer (peer, on_connection_state, NULL, NULL);
}

/* How long (µs) a connected peer that talks to us has been silent: since
 * its last RTP, RTCP or DTLS packet. -1 when it is not connected or never
 * sent anything (one still starting). */
static gint64
silence (GstMeshPeer * peer, gint64 now)
{
  gint last_ms = g_atomic_int_get (&peer->last_rtp_ms);

  if (peer->state != GST_MESH_CALL_STATE_CONNECTED || !last_ms)
    return -1;
  return now - (peer->start_time + (gint64) last_ms * 1000);
}

/* Silence from a peer that sends us media means more than from one that
 * only reports (RTCP every second or more): only the first is "quiet". */
static gboolean
sends_media (GstMeshPeer * peer)
{
  gboolean media;

  g_mutex_lock (&peer->lock);
  media = peer->receiving[GST_MESH_MEDIA_VIDEO] ||
      peer->receiving[GST_MESH_MEDIA_AUDIO];
  g_mutex_unlock (&peer->lock);
  return media;
}

/* Whether the call has RTP sessions at all. A data-only call has none, and
 * SCTP's own heartbeats come 30 s apart: it sends keepalives on its data
 * channel instead (gst_mesh_peer_data_keepalive), whose acknowledgements
 * are what the silence rule then hears. */
static gboolean
carries_rtp (GstMeshPeer * peer)
{
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++)
    if (peer->config.tee[k] || peer->config.out[k])
      return TRUE;
  return FALSE;
}

gboolean
gst_mesh_peer_is_quiet (GstMeshPeer * peer)
{
  return silence (peer, g_get_monotonic_time ()) >
      (gint64) GST_MESH_PEER_QUIET_MS *1000 && sends_media (peer);
}

static const gchar *
enum_nick (GType type, gint value)
{
  GEnumValue *v = g_enum_get_value (g_type_class_peek (type), value);

  return v ? v->value_nick : "unknown";
}

/* Why a call is not connected: how far ICE and DTLS got. */
static gchar *
connect_stall_reason (GstMeshPeer * peer)
{
  GstWebRTCICEConnectionState ice;
  GstWebRTCICEGatheringState gathering;
  GstWebRTCPeerConnectionState pc;

  g_object_get (peer->webrtc, "ice-connection-state", &ice,
      "ice-gathering-state", &gathering, "connection-state", &pc, NULL);
  return g_strdup_printf ("not connected %u ms after the offer and answer "
      "(ICE %s, gathering %s, %u local and %u remote candidates; "
      "connection %s)", peer->config.connect_timeout,
      enum_nick (GST_TYPE_WEBRTC_ICE_CONNECTION_STATE, ice),
      enum_nick (GST_TYPE_WEBRTC_ICE_GATHERING_STATE, gathering),
      peer->local_candidates->len, peer->remote_candidates,
      enum_nick (GST_TYPE_WEBRTC_PEER_CONNECTION_STATE, pc));
}

/* Notices a peer that went away without a word: the seed's server says
 * nothing when a peer leaves, and ICE takes long to give up. Says early
 * (config.quiet) when a peer falls silent, so the element can look for a
 * network change before the call is given up. */
gboolean
gst_mesh_peer_watchdog (gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 limit = (gint64) peer->config.peer_timeout * 1000;
  gint64 quiet = silence (peer, now);

  if (peer->closed)
    return G_SOURCE_REMOVE;

  gst_mesh_peer_jitter_tick (peer, now);
  gst_mesh_peer_playout_tick (peer, now);
  if (!carries_rtp (peer))
    gst_mesh_peer_data_keepalive (peer, now);
  if (peer->state == GST_MESH_CALL_STATE_CONNECTING &&
      peer->config.connect_timeout && now - peer->connecting_since >
      (gint64) peer->config.connect_timeout * 1000) {
    gchar *r = connect_stall_reason (peer);

    GST_WARNING ("%s: %s", peer->name, r);
    gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_FAILED, r);
    g_free (r);
    return G_SOURCE_CONTINUE;
  }
  if (quiet <= (gint64) GST_MESH_PEER_QUIET_MS *1000) {
    peer->quiet_said = FALSE;
  } else if (!peer->quiet_said && sends_media (peer)) {
    peer->quiet_said = TRUE;
    GST_INFO ("%s: nothing from the peer for %" G_GINT64_FORMAT " ms",
        peer->name, quiet / 1000);
    if (peer->config.quiet)
      peer->config.quiet (peer, peer->config.user_data);
    if (peer->closed)
      return G_SOURCE_REMOVE;
  }

  if (!limit)
    return G_SOURCE_CONTINUE;
  if (peer->disconnected_since && now - peer->disconnected_since > limit) {
    gchar *r = g_strdup_printf ("connection lost for %u ms",
        peer->config.peer_timeout);
    gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_ENDED, r);
    g_free (r);
  } else if (quiet > limit && (carries_rtp (peer) ||
          gst_mesh_peer_data_is_open (peer))) {
    gchar *r = g_strdup_printf ("nothing from the peer (RTP, RTCP or SCTP) "
        "for %u ms",
        peer->config.peer_timeout);
    gst_mesh_peer_change_state (peer, GST_MESH_CALL_STATE_ENDED, r);
    g_free (r);
  }
  return G_SOURCE_CONTINUE;
}

void
gst_mesh_peer_change_state (GstMeshPeer * peer, GstMeshCallState state,
    const gchar * reason)
{
  if (peer->state == state)
    return;
  /* an ended or failed call stays so */
  if (peer->state == GST_MESH_CALL_STATE_ENDED ||
      peer->state == GST_MESH_CALL_STATE_FAILED)
    return;
  peer->state = state;
  if (state == GST_MESH_CALL_STATE_CONNECTING)
    peer->connecting_since = g_get_monotonic_time ();
  GST_INFO ("%s: call state %d (%s)", peer->name, state, reason);
  if (peer->config.state_changed)
    peer->config.state_changed (peer, state, reason, peer->config.user_data);
}
