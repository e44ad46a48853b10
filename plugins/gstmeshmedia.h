/* gst-mesh: media plumbing for meshsignal: which encoder, payloader,
 * depayloader and decoder carry each codec, and the SDP caps for it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

typedef enum
{
  GST_MESH_CODEC_NONE = -1,
  GST_MESH_CODEC_VP8,
  GST_MESH_CODEC_H264,
  GST_MESH_CODEC_OPUS,
  GST_MESH_CODEC_VP9,
} GstMeshCodec;

/* VP8, H.264, VP9 */
#define GST_MESH_MAX_VIDEO_CODECS 3

typedef enum
{
  GST_MESH_MEDIA_VIDEO,
  GST_MESH_MEDIA_AUDIO,
  GST_MESH_N_MEDIA
} GstMeshMediaKind;

const gchar *gst_mesh_media_kind_name (GstMeshMediaKind kind);
GstMeshMediaKind gst_mesh_codec_kind (GstMeshCodec codec);
/* RTP encoding name: "VP8", "H264", "OPUS", "VP9" */
const gchar *gst_mesh_codec_encoding_name (GstMeshCodec codec);
/* The payload type we use when we make the offer. */
gint gst_mesh_codec_default_pt (GstMeshCodec codec);
/* The video codec to fall back to when a remote refuses @codec: VP8,
 * which every WebRTC endpoint must take, or H.264 when VP8 was refused. */
GstMeshCodec gst_mesh_codec_fallback (GstMeshCodec codec);
/* Whether the encoder and payloader for @codec are installed. */
gboolean gst_mesh_codec_can_encode (GstMeshCodec codec);

/* application/x-rtp caps for @codec with payload type @pt, with the fmtp
 * parameters browsers need (H.264: packetization-mode 1, constrained
 * baseline). */
GstCaps *gst_mesh_codec_rtp_caps (GstMeshCodec codec, gint pt);

/* Only what identifies the stream: media, encoding-name, clock-rate and
 * payload. What goes between the payloader and webrtcbin must not insist
 * on fmtp details the encoder decides (x264 says 42c01e where the SDP
 * offers 42e01f: both constrained baseline). */
GstCaps *gst_mesh_codec_rtp_filter_caps (GstMeshCodec codec, gint pt);

/* In @media (an SDP m-line), the payload type of the best match for
 * @codec, or -1. For H.264 that is packetization-mode=1 with a constrained
 * baseline profile-level-id when there is one. */
gint gst_mesh_codec_find_pt (GstMeshCodec codec, const GstSDPMedia * media);

/* The video encoder (a factory name) for @codec: @wanted when given, if
 * it is installed and puts out @codec; else the best installed one,
 * hardware first (the table in gstmeshmedia.c). NULL and @error if none. */
gchar *gst_mesh_codec_pick_encoder (GstMeshCodec codec, const gchar * wanted,
    GError ** error);
/* A bin "raw media in, encoded stream out" for @codec, with the settings
 * a call wants (real-time, low latency); @bitrate in kbit/s (0: default).
 * Video: the encoder @factory, or the one gst_mesh_codec_pick_encoder()
 * picks when NULL. Returns NULL and sets @error when there is none. */
GstElement *gst_mesh_codec_make_encoder (GstMeshCodec codec,
    const gchar * factory, guint bitrate, GError ** error);
/* The codec of already encoded media caps (video/x-h264, video/x-vp8,
 * video/x-vp9, audio/x-opus), or GST_MESH_CODEC_NONE. */
GstMeshCodec gst_mesh_codec_from_caps (const GstCaps * caps);
/* For H.264 caps with a fixed `profile` (and `level`): the SDP
 * profile-level-id (6 hex digits) into @out; FALSE when they say none. */
gboolean gst_mesh_codec_h264_profile_level_id (const GstStructure * s,
    gchar out[7]);
/* A bin "encoded @codec in, the same stream as the payloader takes it
 * out" for media encoded before the element: H.264 is parsed into
 * byte-stream access units with SPS/PPS before each keyframe; VP8, VP9
 * and Opus pass as they are. No encoder inside. */
GstElement *gst_mesh_codec_make_passthrough (GstMeshCodec codec,
    GError ** error);
/* The encoding element inside what gst_mesh_codec_make_encoder() made. */
GstElement *gst_mesh_codec_get_encoder_element (GstElement * encoder);
/* Sets a running encoder (what gst_mesh_codec_make_encoder() made) to
 * @kbps: libvpx and x264 take a new rate between frames. */
void gst_mesh_codec_set_encoder_bitrate (GstElement * encoder, guint kbps);
void gst_mesh_codec_set_audio_frame_ms (GstElement * encoder, guint ms);
/* The payloader for the encoded stream, set to @pt. */
GstElement *gst_mesh_codec_make_payloader (GstMeshCodec codec, gint pt,
    GError ** error);
/* A bin "RTP in, decoded raw media out" for the RTP caps @caps, or NULL
 * when we cannot decode them. */
GstElement *gst_mesh_codec_make_decoder (const GstCaps * caps,
    GError ** error);

/* Asks OpenSSL not to free its global state from an atexit() handler;
 * call before anything else initialises OpenSSL (plugin_init). */
void gst_mesh_media_init_openssl (void);

/* Starts making the process's default DTLS certificate in the background.
 * It is an RSA key that takes 150-500 ms to generate here, and the first
 * call of a process would otherwise wait for it in the middle of its
 * offer or answer. */
void gst_mesh_media_prewarm_dtls (void);
/* Waits for it to finish: a process that exits while OpenSSL makes the key
 * crashes in OpenSSL's exit handlers. */
void gst_mesh_media_prewarm_dtls_wait (void);

/* Requests a src pad of @tee and links it to @sink between two pushes
 * through the tee (under its sink pad's stream lock): a branch added to a
 * running tee gets its sticky events before its first buffer. Returns
 * the pad. */
GstPad *gst_mesh_request_tee_pad_idle (GstElement * tee, GstPad * sink);
/* Releases @pad of @tee between two pushes through it, likewise. */
void gst_mesh_release_tee_pad_idle (GstElement * tee, GstPad * pad);

/* An upstream force-key-unit event. @ahead: asked for before it is
 * needed (a call's ICE checks began; its keyframe waits at the branch's
 * gate for the connection), which the encodings' keyframe limit lets
 * up without counting it. */
GstEvent *gst_mesh_keyframe_request_new (gboolean ahead);
gboolean gst_mesh_keyframe_request_is_ahead (GstEvent * event);

G_END_DECLS
