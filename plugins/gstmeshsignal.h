/* gst-mesh: meshsignal, a bin that makes WebRTC calls over Socket.IO.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * GstMeshSignalRole:
 * @GST_MESH_SIGNAL_ROLE_WAIT: answer offers; offer only to revive a call
 *   (once after a call failed, and when the network changed)
 * @GST_MESH_SIGNAL_ROLE_CALL: send an offer (again and again until it is
 *   answered), and call again when a call ends
 */
typedef enum
{
  GST_MESH_SIGNAL_ROLE_WAIT,
  GST_MESH_SIGNAL_ROLE_CALL,
} GstMeshSignalRole;

/**
 * GstMeshCongestionControl:
 * @GST_MESH_CONGESTION_CONTROL_NONE: send at video-bitrate whatever the
 *   network carries
 * @GST_MESH_CONGESTION_CONTROL_GCC: estimate each peer's bandwidth from its
 *   transport-wide feedback (Google Congestion Control) and set the
 *   encoder's rate to it, between min-bitrate and max-bitrate
 */
typedef enum
{
  GST_MESH_CONGESTION_CONTROL_NONE,
  GST_MESH_CONGESTION_CONTROL_GCC,
} GstMeshCongestionControl;

/**
 * GstMeshPlayoutDelay:
 * @GST_MESH_PLAYOUT_DELAY_RECEIVER: send no playout-delay extension: the
 *   receiver holds our video as its jitter buffer and lip sync choose
 * @GST_MESH_PLAYOUT_DELAY_AUTO: ask the receiver to show each frame as
 *   soon as it is decoded (least and most delay 0) while it reports a
 *   steady path, and leave it the choice while the path is jittery
 * @GST_MESH_PLAYOUT_DELAY_ASAP: always ask for frames shown at once
 */
typedef enum
{
  GST_MESH_PLAYOUT_DELAY_RECEIVER,
  GST_MESH_PLAYOUT_DELAY_AUTO,
  GST_MESH_PLAYOUT_DELAY_ASAP,
} GstMeshPlayoutDelay;

/**
 * GstMeshVideoCodec:
 * @GST_MESH_VIDEO_CODEC_VP8: VP8 (vp8enc)
 * @GST_MESH_VIDEO_CODEC_H264: H.264 constrained baseline, packetization
 *   mode 1 (x264enc or openh264enc)
 * @GST_MESH_VIDEO_CODEC_VP9: VP9 profile 0 (vp9enc)
 */
typedef enum
{
  GST_MESH_VIDEO_CODEC_VP8,
  GST_MESH_VIDEO_CODEC_H264,
  GST_MESH_VIDEO_CODEC_VP9,
} GstMeshVideoCodec;

/**
 * GstMeshVideoDelay:
 * @GST_MESH_VIDEO_DELAY_LEAST: each remote frame as soon as it can be
 *   shown: at the audio's latency, and a frame that waited for a lost
 *   packet's retransmission when it comes (as browsers do)
 * @GST_MESH_VIDEO_DELAY_EVEN: every frame as late as the longest
 *   retransmission wait, evenly spaced (the jitter buffers' latency)
 */
typedef enum
{
  GST_MESH_VIDEO_DELAY_LEAST,
  GST_MESH_VIDEO_DELAY_EVEN,
} GstMeshVideoDelay;

/**
 * GstMeshCallState:
 * @GST_MESH_CALL_STATE_IDLE: no call
 * @GST_MESH_CALL_STATE_CALLING: our offer is out, no answer yet
 * @GST_MESH_CALL_STATE_CONNECTING: offer and answer exchanged, ICE and DTLS
 *   under way
 * @GST_MESH_CALL_STATE_CONNECTED: media can flow
 * @GST_MESH_CALL_STATE_FAILED: the peer connection failed
 * @GST_MESH_CALL_STATE_ENDED: the call was hung up, replaced or timed out
 */
typedef enum
{
  GST_MESH_CALL_STATE_IDLE,
  GST_MESH_CALL_STATE_CALLING,
  GST_MESH_CALL_STATE_CONNECTING,
  GST_MESH_CALL_STATE_CONNECTED,
  GST_MESH_CALL_STATE_FAILED,
  GST_MESH_CALL_STATE_ENDED,
} GstMeshCallState;

#define GST_TYPE_MESH_SIGNAL (gst_mesh_signal_get_type ())
G_DECLARE_FINAL_TYPE (GstMeshSignal, gst_mesh_signal, GST, MESH_SIGNAL,
    GstBin);

GST_ELEMENT_REGISTER_DECLARE (meshsignal);

G_END_DECLS
