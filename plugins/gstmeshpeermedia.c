/* gst-mesh: a peer connection's media. Send branches take encoded media
 * from the element's tees (`queue ! payloader ! capsfilter` into
 * webrtcbin), gated until the connection is up; receive transceivers; on
 * pad-added, a depayloader and decoder into the element's outputs (and a
 * per-peer pad); the jitter buffers' NACK settings; first-frame and
 * decoded-buffer counts.
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
track_element (GstMeshPeer * peer, GstElement * e)
{
  gst_bin_add (peer->bin, e);
  g_ptr_array_add (peer->elements, gst_object_ref (e));
}

/* webrtcbin (1.20 on) puts a clocksync on each stream it sends and that
 * holds every buffer until its running time plus the latency upstream of
 * it. Live input has waited for its capture already: a camera's frame
 * comes a frame after its timestamp and says so in its latency, a live
 * test source comes at its timestamp and says a frame all the same. The
 * wait then cost a video frame (33 ms at 30 fps) and an audio buffer on
 * every packet we send (tests/bench/glass.c --trace). For live input a
 * ts-offset of minus that latency moves the deadline back to the
 * timestamp, which a live buffer has always passed; input that is not live
 * (a file) keeps its offset of 0 and is still paced to the clock. */
static void
clocksync_set_offset (GstMeshPeer * peer, GstElement * clocksync,
    gboolean live, GstClockTime min)
{
  gint64 offset = live && GST_CLOCK_TIME_IS_VALID (min) ? -(gint64) min : 0;
  gint64 old;

  g_object_get (clocksync, "ts-offset", &old, NULL);
  if (old != offset) {
    GST_DEBUG ("%s: %s ts-offset %" G_GINT64_FORMAT " ms (%s input)",
        peer->name, GST_OBJECT_NAME (clocksync), offset / GST_MSECOND,
        live ? "live" : "not live");
    g_object_set (clocksync, "ts-offset", offset, NULL);
  }
}

/* Where the pipeline's latency query passes on its way back: upstream's
 * latency may change during the call. */
static GstPadProbeReturn
clocksync_latency_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  GstQuery *q = GST_PAD_PROBE_INFO_QUERY (info);
  gboolean live = FALSE;
  GstClockTime min = 0;
  GstElement *clocksync;

  if (GST_QUERY_TYPE (q) != GST_QUERY_LATENCY)
    return GST_PAD_PROBE_OK;
  gst_query_parse_latency (q, &live, &min, NULL);
  clocksync = gst_pad_get_parent_element (pad);
  if (clocksync) {
    clocksync_set_offset (user_data, clocksync, live, min);
    gst_object_unref (clocksync);
  }
  return GST_PAD_PROBE_OK;
}

/* Before the first buffer is synced. The pipeline's last latency query
 * may have passed before this branch was linked to its source (a peer
 * that joins a playing pipeline), and answered "not live" then; no
 * new query comes until something posts a latency message, and the
 * clocksync would wait a frame on every packet until it does (seen once
 * in meshsignal's test_latency_is_the_jitter_buffer_and_the_sink). */
static GstPadProbeReturn
clocksync_first_buffer (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  GstQuery *q = gst_query_new_latency ();
  GstElement *clocksync = gst_pad_get_parent_element (pad);

  if (clocksync && gst_pad_peer_query (pad, q)) {
    gboolean live = FALSE;
    GstClockTime min = 0;

    gst_query_parse_latency (q, &live, &min, NULL);
    clocksync_set_offset (user_data, clocksync, live, min);
  }
  gst_query_unref (q);
  gst_clear_object (&clocksync);
  return GST_PAD_PROBE_REMOVE;
}

void
gst_mesh_peer_tune_clocksync (GstMeshPeer * peer, GstElement * clocksync)
{
  GstPad *src = gst_element_get_static_pad (clocksync, "src");
  GstPad *sink = gst_element_get_static_pad (clocksync, "sink");

  /* PULL: after clocksync answered, with upstream's figures in it */
  if (src)
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM |
        GST_PAD_PROBE_TYPE_PULL, clocksync_latency_probe, peer, NULL);
  if (sink)
    gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, clocksync_first_buffer, peer, NULL);
  gst_clear_object (&src);
  gst_clear_object (&sink);
}

GstPadProbeReturn
gst_mesh_peer_drop_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  return GST_PAD_PROBE_DROP;
}

/* The gates (gst/mesh/gstmeshgate.h). Until the peer connection is up, a
 * branch passes events but no buffers: webrtcbin's sink pads can answer
 * FLUSHING while it sets up its transports; a queue that got FLUSHING
 * pauses for good and hands FLUSHING to the tee, which hands it to the
 * application's source, and the source stops: one peer's negotiation must
 * not end everyone's media. The gate is the branch queue's sink pad.
 *
 * A peer's picture starts with a keyframe. Asked for when the connection
 * comes up, it came with the encoder's next frame, up to a frame interval
 * later (33 ms at 30 fps; tests/bench/run.sh --trace). So one is asked
 * for ahead, when ICE starts its checks, and the video's gate keeps it
 * for the moment the connection is up. */
/* how long after the request ahead its keyframe may still come */
#define KEYFRAME_AHEAD_WAIT_US (100 * 1000)

/* ICE began its checks: the connection may be up within a few ms. */
void
gst_mesh_peer_keyframe_ahead (GstMeshPeer * peer)
{
  GstPad *pad = NULL;

  g_mutex_lock (&peer->lock);
  if (!peer->closed && !peer->gates_open && !peer->keyframe_ahead_at
      && peer->send_pad[GST_MESH_MEDIA_VIDEO]) {
    peer->keyframe_ahead_at = g_get_monotonic_time ();
    pad = gst_object_ref (peer->send_pad[GST_MESH_MEDIA_VIDEO]);
  }
  g_mutex_unlock (&peer->lock);
  if (!pad)
    return;
  GST_DEBUG ("%s: ICE checks began, asking for a keyframe ahead",
      peer->name);
  gst_pad_push_event (pad, gst_mesh_keyframe_request_new (TRUE));
  gst_object_unref (pad);
}

/* The keyframe asked for ahead is due: if the video's gate still waits
 * for a keyframe (the request went nowhere), one is asked for. */
static gboolean
keyframe_due (gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  GstMeshGate *gate = NULL;
  GstPad *pad = NULL;

  g_mutex_lock (&peer->lock);
  if (!peer->closed && peer->gate[GST_MESH_MEDIA_VIDEO])
    gate = gst_mesh_gate_ref (peer->gate[GST_MESH_MEDIA_VIDEO]);
  if (peer->send_pad[GST_MESH_MEDIA_VIDEO])
    pad = gst_object_ref (peer->send_pad[GST_MESH_MEDIA_VIDEO]);
  g_mutex_unlock (&peer->lock);
  if (gate && pad && gst_mesh_gate_awaits_keyframe (gate)) {
    GST_DEBUG ("%s: the keyframe asked for ahead did not come: asking "
        "again", peer->name);
    gst_pad_push_event (pad, gst_mesh_keyframe_request_new (FALSE));
  }
  if (gate)
    gst_mesh_gate_unref (gate);
  gst_clear_object (&pad);
  return G_SOURCE_REMOVE;
}

/* The connection is up. Returns TRUE when the video still needs a
 * keyframe asked for: its gate held one too old (the one asked for ahead
 * has come and gone), or none and none asked for ahead is due, or the
 * connection comes back (what was sent meanwhile was lost). When one
 * asked for ahead is still due and does not come, it is asked for again
 * then. */
gboolean
gst_mesh_peer_open_gates (GstMeshPeer * peer)
{
  GstMeshGate *gate[GST_MESH_N_MEDIA] = { NULL, };
  gboolean ask;

  g_mutex_lock (&peer->lock);
  ask = peer->gates_open;
  peer->gates_open = TRUE;
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++)
    gate[k] = peer->gate[k] ? gst_mesh_gate_ref (peer->gate[k]) : NULL;
  g_mutex_unlock (&peer->lock);
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
    GstMeshGateOpened opened = gate[k] ? gst_mesh_gate_open (gate[k]) :
        GST_MESH_GATE_PASSES;

    if (opened == GST_MESH_GATE_HELD_OLD) {
      ask = TRUE;
      GST_DEBUG ("%s: video held a keyframe too old: needs a new one",
          peer->name);
    } else if (opened == GST_MESH_GATE_AWAITS_KEYFRAME) {
      gint64 now = g_get_monotonic_time ();
      gint64 due = peer->keyframe_ahead_at + KEYFRAME_AHEAD_WAIT_US - now;

      ask = ask || !peer->keyframe_ahead_at || due < 0;
      GST_DEBUG ("%s: video %s", peer->name, ask ? "needs a keyframe" :
          "awaits the keyframe asked for ahead");
      if (!ask)
        g_source_unref (gst_mesh_peer_timeout_add (peer,
                (guint) (due / 1000) + 1, keyframe_due));
    }
    if (gate[k])
      gst_mesh_gate_unref (gate[k]);
  }
  return ask;
}

/* The call is over: its branches are let go of. */
void
gst_mesh_peer_close_gates (GstMeshPeer * peer)
{
  GstMeshGate *gate[GST_MESH_N_MEDIA];

  g_mutex_lock (&peer->lock);
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
    gate[k] = peer->gate[k];
    peer->gate[k] = NULL;
  }
  g_mutex_unlock (&peer->lock);
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++)
    gst_mesh_gate_release (gate[k]);
}

/* tee ! queue ! payloader ! capsfilter ! webrtcbin.sink_%u, with the
 * transceiver set to @direction and @caps. Call with the lock held. */
gboolean
gst_mesh_peer_add_send_branch (GstMeshPeer * peer, GstMeshMediaKind kind,
    GstMeshCodec codec, gint pt, GstCaps * caps,
    GstWebRTCRTPTransceiverDirection direction, GError ** error)
{
  GstElement *queue, *pay, *filter;
  GstPad *tee_pad, *queue_sink, *filter_src, *webrtc_sink;
  GstWebRTCRTPTransceiver *trans = NULL;
  GstCaps *filter_caps;

  guint ssrc = g_random_int ();

  pay = gst_mesh_codec_make_payloader (codec, pt, error);
  if (!pay)
    return FALSE;
  g_object_set (pay, "ssrc", ssrc, NULL);
  queue = gst_element_factory_make ("queue", NULL);
  /* a peer that falls behind loses its own packets, not everyone's */
  g_object_set (queue, "max-size-buffers", 0, "max-size-bytes", 0,
      "max-size-time", (guint64) 500 * GST_MSECOND, NULL);
  gst_util_set_object_arg (G_OBJECT (queue), "leaky", "downstream");
  filter = gst_element_factory_make ("capsfilter", NULL);
  filter_caps = gst_mesh_codec_rtp_filter_caps (codec, pt);
  g_object_set (filter, "caps", filter_caps, NULL);
  gst_caps_unref (filter_caps);

  track_element (peer, queue);
  track_element (peer, pay);
  track_element (peer, filter);
  gst_element_link_many (queue, pay, filter, NULL);

  webrtc_sink = gst_element_request_pad_simple (peer->webrtc, "sink_%u");
  filter_src = gst_element_get_static_pad (filter, "src");
  gst_pad_link (filter_src, webrtc_sink);
  if (kind == GST_MESH_MEDIA_VIDEO) {
    GstRTPHeaderExtension *ext = gst_mesh_peer_playout_ext_new (peer,
        gst_mesh_peer_extmap_id (caps, GST_MESH_PLAYOUT_DELAY_URI));

    if (ext) {
      g_signal_emit_by_name (pay, "add-extension", ext);
      gst_object_unref (ext);
    }
  }
  gst_mesh_peer_bwe_setup_branch (peer, pay, filter_src,
      gst_mesh_peer_extmap_id (caps, GST_MESH_TWCC_URI), kind == GST_MESH_MEDIA_VIDEO
      && gst_mesh_peer_fec_on (peer));
  gst_object_unref (filter_src);
  g_object_get (webrtc_sink, "transceiver", &trans, NULL);
  if (trans) {
    /* webrtcbin writes a=ssrc only when it knows the SSRC, and a bundled
     * receiver without it cannot tell which stream is which: it drops
     * that medium. webrtcbin learns it from the pad's caps, which come
     * with the encoder's first frame (30-90 ms into a call) and do not
     * always intersect the preferences; so we choose the SSRC and name
     * it in the preferences, and the offer or answer need not wait. */
    GstCaps *prefs = gst_caps_copy (caps);
    gst_caps_set_simple (prefs, "ssrc", G_TYPE_UINT, ssrc, NULL);
    if (codec == GST_MESH_CODEC_H264)
      /* webrtcbin's sink pad answers caps queries with these preferences:
       * a profile-level-id in them that the encoder does not produce
       * exactly (x264: 42c01e, the offer: 42e01f, both constrained
       * baseline) fails the payloader's negotiation, and the error
       * reaches the application's source. The SDP gets it instead
       * (set_h264_profile). */
      gst_structure_remove_field (gst_caps_get_structure (prefs, 0),
          "profile-level-id");
    g_object_set (trans, "direction", direction, "codec-preferences", prefs,
        NULL);
    gst_caps_unref (prefs);
    if (kind == GST_MESH_MEDIA_VIDEO) {
      g_object_set (trans, "do-nack", TRUE, NULL);
      gst_mesh_peer_fec_setup_transceiver (peer, trans, TRUE);
    }
    gst_object_unref (trans);
  }
  gst_object_unref (webrtc_sink);

  gst_element_sync_state_with_parent (filter);
  gst_element_sync_state_with_parent (pay);
  gst_element_sync_state_with_parent (queue);

  queue_sink = gst_element_get_static_pad (queue, "sink");
  gst_mesh_gate_release (peer->gate[kind]);
  peer->gate[kind] = gst_mesh_gate_new (queue_sink,
      kind == GST_MESH_MEDIA_VIDEO, peer->gates_open);
  tee_pad = gst_mesh_request_tee_pad_idle (peer->config.tee[kind], queue_sink);
  g_ptr_array_add (peer->tee_pads, tee_pad);
  peer->send_pad[kind] = queue_sink;
  if (peer->gates_open && kind == GST_MESH_MEDIA_VIDEO)
    gst_pad_push_event (queue_sink, gst_mesh_keyframe_request_new (FALSE));

  peer->sent_codec[kind] = codec;
  peer->sent_pt[kind] = pt;
  if (kind == GST_MESH_MEDIA_VIDEO)
    peer->video_source = "main";
  GST_INFO ("%s: sending %s as %s, payload type %d", peer->name,
      gst_mesh_media_kind_name (kind), gst_mesh_codec_encoding_name (codec),
      pt);
  return TRUE;
}

/* Until the new encoding's first keyframe: what came before it cannot
 * be decoded without the frames of the other encoding. */
static GstPadProbeReturn
await_keyframe_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT))
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_REMOVE;
}

gboolean
gst_mesh_peer_set_video_source (GstMeshPeer * peer, GstElement * tee,
    GstMeshCodec codec, const gchar * name)
{
  GstPad *sink = NULL, *old = NULL, *pad;
  GstElement *old_tee = NULL;
  const GstMeshMediaKind kind = GST_MESH_MEDIA_VIDEO;

  g_mutex_lock (&peer->lock);
  if (!peer->closed && peer->send_pad[kind] && peer->sent_codec[kind] == codec) {
    sink = gst_object_ref (peer->send_pad[kind]);
    for (guint i = 0; i < peer->tee_pads->len; i++) {
      GstPad *p = g_ptr_array_index (peer->tee_pads, i);
      if (GST_PAD_PEER (p) == sink) {
        old = g_ptr_array_steal_index (peer->tee_pads, i);
        break;
      }
    }
  }
  g_mutex_unlock (&peer->lock);
  if (!sink)
    return FALSE;
  if (old) {
    old_tee = gst_pad_get_parent_element (old);
    if (old_tee == tee) {
      /* already there: put it back */
      g_mutex_lock (&peer->lock);
      g_ptr_array_add (peer->tee_pads, old);
      g_mutex_unlock (&peer->lock);
      gst_object_unref (old_tee);
      gst_object_unref (sink);
      return TRUE;
    }
    /* the old tee stops pushing here; a push under way ends first */
    if (old_tee) {
      gst_mesh_release_tee_pad_idle (old_tee, old);
      gst_object_unref (old_tee);
    }
    gst_object_unref (old);
  }
  /* nothing flows into the branch now: what comes next is the new
   * encoding's, and it starts with a keyframe */
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, await_keyframe_probe,
      NULL, NULL);
  pad = gst_mesh_request_tee_pad_idle (tee, sink);
  g_mutex_lock (&peer->lock);
  if (peer->closed) {
    /* closed meanwhile: its pads were released without this one */
    g_mutex_unlock (&peer->lock);
    gst_mesh_release_tee_pad_idle (tee, pad);
    gst_object_unref (pad);
    gst_object_unref (sink);
    return FALSE;
  }
  g_ptr_array_add (peer->tee_pads, pad);
  peer->video_source = name;
  if (peer->gate[kind])
    gst_mesh_gate_forget (peer->gate[kind]);    /* the other encoding's */
  g_mutex_unlock (&peer->lock);
  gst_pad_push_event (sink, gst_mesh_keyframe_request_new (FALSE));
  GST_INFO ("%s: video from the %s encoding", peer->name, name);
  gst_object_unref (sink);
  return TRUE;
}

const gchar *
gst_mesh_peer_get_video_source (GstMeshPeer * peer)
{
  const gchar *name;

  g_mutex_lock (&peer->lock);
  name = peer->send_pad[GST_MESH_MEDIA_VIDEO] ? peer->video_source : NULL;
  g_mutex_unlock (&peer->lock);
  return name;
}

void
gst_mesh_peer_add_recv_transceiver (GstMeshPeer * peer, GstMeshMediaKind kind,
    GstCaps * caps)
{
  GstWebRTCRTPTransceiver *trans = NULL;

  g_signal_emit_by_name (peer->webrtc, "add-transceiver",
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &trans);
  if (trans) {
    if (kind == GST_MESH_MEDIA_VIDEO) {
      g_object_set (trans, "do-nack", TRUE, NULL);
      gst_mesh_peer_fec_setup_transceiver (peer, trans, FALSE);
    }
    gst_object_unref (trans);
  }
  GST_INFO ("%s: receiving %s only", peer->name,
      gst_mesh_media_kind_name (kind));
}

/* What we can decode of @kind, for an offer of our own. */
GstCaps *
gst_mesh_peer_receivable_caps (GstMeshMediaKind kind)
{
  GstCaps *caps;

  if (kind == GST_MESH_MEDIA_AUDIO)
    return gst_mesh_codec_rtp_caps (GST_MESH_CODEC_OPUS,
        gst_mesh_codec_default_pt (GST_MESH_CODEC_OPUS));
  caps = gst_mesh_codec_rtp_caps (GST_MESH_CODEC_VP8,
      gst_mesh_codec_default_pt (GST_MESH_CODEC_VP8));
  gst_caps_append (caps, gst_mesh_codec_rtp_caps (GST_MESH_CODEC_H264,
          gst_mesh_codec_default_pt (GST_MESH_CODEC_H264)));
  gst_caps_append (caps, gst_mesh_codec_rtp_caps (GST_MESH_CODEC_VP9,
          gst_mesh_codec_default_pt (GST_MESH_CODEC_VP9)));
  return caps;
}

static GstPadProbeReturn
first_frame_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  GstMeshMediaKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (pad),
          "gst-mesh-kind"));

  if (g_atomic_int_compare_and_exchange (&peer->first_frame_seen[kind], 0, 1)
      && peer->config.first_frame)
    peer->config.first_frame (peer, kind, peer->config.user_data);
  return GST_PAD_PROBE_REMOVE;
}

static GstPadProbeReturn
count_decoded_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  GstMeshMediaKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (pad),
          "gst-mesh-kind"));

  g_atomic_int_inc (&peer->decoded[kind]);
  return GST_PAD_PROBE_OK;
}




/* Whether the remote description announces @ssrc on a video m-line. */
static gboolean
is_remote_video_ssrc (GstMeshPeer * peer, guint ssrc)
{
  const GstSDPMessage *sdp = peer->remote_sdp;

  for (guint i = 0; sdp && i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);

    if (g_strcmp0 (gst_sdp_media_get_media (m), "video"))
      continue;
    for (guint j = 0; j < gst_sdp_media_attributes_len (m); j++) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, j);
      if (!g_strcmp0 (a->key, "ssrc") && a->value &&
          g_ascii_strtoull (a->value, NULL, 10) == ssrc)
        return TRUE;
    }
  }
  return FALSE;
}

/* webrtcbin 1.22 sets each bundled jitter buffer's do-retransmission from
 * one transceiver, the last (audio), so video never sent a NACK (found by
 * tests/check/faults.c). This runs after webrtcbin's own handler: video
 * jitter buffers ask for what they lose.
 *
 * And only for what they lose: with rtx-next-seqnum (its default)
 * rtpjitterbuffer also asks for the next packet when it is later than
 * its timestamp says, before any later packet showed it missing. Behind a
 * filling queue every packet is late: Chromium sending to us at 300
 * kbit/s had each of its packets asked for and sent twice, on the link
 * that was already full (tests/bench/README.md). Without it a packet is
 * asked for once a later one came, as libwebrtc's NACK module does; a
 * frame's lost last packet waits for the next frame to show it. */
void
gst_mesh_peer_on_new_jitterbuffer (GstElement * rtpbin,
    GstElement * jitterbuffer,
    guint session, guint ssrc, GstMeshPeer * peer)
{
  gboolean video = is_remote_video_ssrc (peer, ssrc);

  g_object_set (jitterbuffer, "rtx-next-seqnum", FALSE, NULL);
  gst_mesh_peer_fec_setup_storage (peer, rtpbin, session);
  if (video) {
    GST_DEBUG ("%s: NACKs for video SSRC %u", peer->name, ssrc);
    g_object_set (jitterbuffer, "do-retransmission", TRUE, NULL);
    gst_mesh_peer_nack_watch_ssrc (peer, ssrc);
  }
  gst_mesh_peer_jitter_add (peer, jitterbuffer, video ? GST_MESH_MEDIA_VIDEO :
      GST_MESH_MEDIA_AUDIO);
}




/* Whether @mixer is a room's grid (a compositor), not a call's funnel. */
static gboolean
is_grid (GstElement * mixer)
{
  GstElementFactory *f = mixer ? gst_element_get_factory (mixer) : NULL;

  return f && g_strcmp0 (GST_OBJECT_NAME (f), "funnel") != 0;
}

/* The peer's own decoded @kind as a pad of the element, beside the grid or
 * mix: decoder ! tee, one branch to the element's pad (peer_video_ID), one
 * through a queue to the mixer; returns (transfer full) the pad the mixer
 * branch starts from. Called with the lock. */
static GstPad *
add_peer_pad (GstMeshPeer * peer, GstMeshMediaKind kind, GstPad * decoded)
{
  GstElement *tee = gst_element_factory_make ("tee", NULL);
  GstElement *queue = gst_element_factory_make ("queue", NULL);
  gchar *templ_name = g_strdup_printf ("peer_%s_%%s",
      gst_mesh_media_kind_name (kind));
  gchar *name = g_strdup_printf ("peer_%s_%s",
      gst_mesh_media_kind_name (kind), peer->remote_id ? peer->remote_id :
      peer->name);
  GstPadTemplate *templ =
      gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (peer->bin),
      templ_name);
  GstPad *tee_src, *sink, *ghost, *mixer_src;

  /* nobody has to link the peer's pad */
  g_object_set (tee, "allow-not-linked", TRUE, NULL);
  track_element (peer, tee);
  track_element (peer, queue);
  sink = gst_element_get_static_pad (tee, "sink");
  gst_pad_link (decoded, sink);
  gst_object_unref (sink);
  gst_object_unref (decoded);
  gst_element_link (tee, queue);
  tee_src = gst_element_request_pad_simple (tee, "src_%u");
  ghost = gst_ghost_pad_new_from_template (name, tee_src, templ);
  gst_object_unref (tee_src);
  mixer_src = gst_element_get_static_pad (queue, "src");
  gst_element_sync_state_with_parent (queue);
  gst_element_sync_state_with_parent (tee);
  gst_pad_set_active (ghost, TRUE);
  g_ptr_array_add (peer->peer_pads, gst_object_ref (ghost));
  gst_element_add_pad (GST_ELEMENT (peer->bin), ghost);
  GST_INFO ("%s: added pad %s", peer->name, name);
  g_free (name);
  g_free (templ_name);
  return mixer_src;
}

void
gst_mesh_peer_on_pad_added (GstElement * webrtc, GstPad * pad,
    GstMeshPeer * peer)
{
  GstCaps *caps;
  const GstStructure *s;
  const gchar *media;
  GstMeshMediaKind kind;
  GstElement *sink = NULL;
  GstPad *sinkpad;
  GError *error = NULL;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;

  caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  s = gst_caps_get_structure (caps, 0);
  media = gst_structure_get_string (s, "media");
  kind = g_strcmp0 (media, "audio") == 0 ? GST_MESH_MEDIA_AUDIO :
      GST_MESH_MEDIA_VIDEO;

  g_mutex_lock (&peer->lock);
  if (peer->closed)
    goto out;

  {
    guint ssrc;
    if (gst_structure_get_uint (s, "ssrc", &ssrc))
      g_array_append_val (peer->remote_ssrcs, ssrc);
  }
  if ((peer->config.out[kind] || peer->config.peer_pads) &&
      !peer->receiving[kind]) {
    sink = gst_mesh_codec_make_decoder (caps, &error);
    if (!sink) {
      GST_ELEMENT_WARNING (peer->bin, STREAM, CODEC_NOT_FOUND,
          ("Cannot decode the remote %s", media),
          ("%s: %s", peer->name, error->message));
      g_clear_error (&error);
    }
  }

  if (sink) {
    GstPad *src = gst_element_get_static_pad (sink, "src");

    track_element (peer, sink);
    g_object_set_data (G_OBJECT (src), "gst-mesh-kind",
        GINT_TO_POINTER (kind));
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, first_frame_probe,
        peer, NULL);
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, count_decoded_probe,
        peer, NULL);
    /* not into a room's grid: its compositor takes frames at its own
     * pace, at the latency the video answers */
    if (kind == GST_MESH_MEDIA_VIDEO && !is_grid (peer->config.out[kind]))
      gst_mesh_peer_jitter_watch_video (peer, src);
    if (peer->config.peer_pads)
      src = add_peer_pad (peer, kind, src);
    if (peer->config.out[kind]) {
      GstPad *out_pad = gst_element_request_pad_simple (peer->config.out[kind],
          "sink_%u");
      gst_pad_link (src, out_pad);
      g_ptr_array_add (peer->out_pads, out_pad);
    }
    gst_object_unref (src);
    peer->receiving[kind] = TRUE;
    GST_INFO ("%s: receiving %s %" GST_PTR_FORMAT, peer->name, media, caps);
  } else {
    /* media nobody asked for still has to go somewhere */
    sink = gst_element_factory_make ("fakesink", NULL);
    g_object_set (sink, "async", FALSE, "sync", FALSE, NULL);
    track_element (peer, sink);
    GST_INFO ("%s: discarding remote %s (no %s_src pad requested)",
        peer->name, media, media);
  }
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
      gst_mesh_peer_rtp_activity_probe,
      peer, NULL);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  {
    GstPadLinkReturn lr = gst_pad_link (pad, sinkpad);
    if (lr != GST_PAD_LINK_OK)
      GST_WARNING ("%s: cannot link %" GST_PTR_FORMAT " to %" GST_PTR_FORMAT
          ": %s", peer->name, pad, sinkpad, gst_pad_link_get_name (lr));
  }
  gst_object_unref (sinkpad);
  gst_element_sync_state_with_parent (sink);

out:
  g_mutex_unlock (&peer->lock);
  gst_caps_unref (caps);
}
