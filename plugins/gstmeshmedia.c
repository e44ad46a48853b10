/* gst-mesh: media plumbing for meshsignal.
 *
 * This file owns the choice of elements and their settings for each codec:
 * everything a call needs to turn raw media into RTP and back. The settings
 * are those of a real-time call (no look-ahead, short keyframe reaction,
 * constant bitrate), not of a recording.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshmedia.h"

#include <gst/video/video.h>
#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>

#define DEFAULT_VIDEO_KBPS 1000
#define DEFAULT_AUDIO_KBPS 48

typedef struct
{
  GstMeshCodec codec;
  GstMeshMediaKind kind;
  const gchar *encoding_name;
  gint clock_rate;
  gint default_pt;
  const gchar *payloader;
} CodecInfo;

/* Payload types as Chrome numbers them, so an offer of ours looks familiar
 * to a browser. */
static const CodecInfo codecs[] = {
  {GST_MESH_CODEC_VP8, GST_MESH_MEDIA_VIDEO, "VP8", 90000, 96, "rtpvp8pay"},
  {GST_MESH_CODEC_H264, GST_MESH_MEDIA_VIDEO, "H264", 90000, 102,
      "rtph264pay"},
  {GST_MESH_CODEC_OPUS, GST_MESH_MEDIA_AUDIO, "OPUS", 48000, 111,
      "rtpopuspay"},
  {GST_MESH_CODEC_VP9, GST_MESH_MEDIA_VIDEO, "VP9", 90000, 98, "rtpvp9pay"},
};

static const CodecInfo *
info (GstMeshCodec codec)
{
  g_return_val_if_fail (codec >= 0 && codec < (gint) G_N_ELEMENTS (codecs),
      &codecs[0]);
  return &codecs[codec];
}

const gchar *
gst_mesh_media_kind_name (GstMeshMediaKind kind)
{
  return kind == GST_MESH_MEDIA_VIDEO ? "video" : "audio";
}

GstMeshMediaKind
gst_mesh_codec_kind (GstMeshCodec codec)
{
  return info (codec)->kind;
}

const gchar *
gst_mesh_codec_encoding_name (GstMeshCodec codec)
{
  return info (codec)->encoding_name;
}

gint
gst_mesh_codec_default_pt (GstMeshCodec codec)
{
  return info (codec)->default_pt;
}

static gboolean
have_factory (const gchar * name)
{
  GstElementFactory *f = gst_element_factory_find (name);

  if (!f)
    return FALSE;
  gst_object_unref (f);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Video encoders                                                           */

/* The video encoders the element knows, with what a call wants of each:
 * real time, no B-frames or look-ahead, constant bitrate, keyframes only
 * when a peer joins or asks (PLI/FIR: a GstForceKeyUnit event), so the
 * periodic ones are rare. `rate` is the property that takes the bitrate,
 * in kbit/s or bit/s (`bps`). A setting the installed version lacks is
 * skipped. The element takes the first of these that is installed in
 * this order (hardware first), unless an encoder it does not know ranks
 * higher as hardware (see compare_encoders). The hardware rows are written
 * from each element's documentation and have not run here (no GPU on the
 * test machine); the software rows are measured (tests/bench/README.md).
 *
 *   factory       codec  rate            settings
 *   vah264lpenc   H.264  bitrate         rate-control=cbr b-frames=0 key-int-max=600 target-usage=7
 *   vah264enc     H.264  bitrate         (same)
 *   vaapih264enc  H.264  bitrate         rate-control=cbr max-bframes=0 keyframe-period=600 quality-level=7
 *   nvh264enc     H.264  bitrate         preset=low-latency-hp rc-mode=cbr gop-size=600 bframes=0 zerolatency=true
 *   vaapivp8enc   VP8    bitrate         rate-control=cbr keyframe-period=600
 *   v4l2h264enc   H.264  video_bitrate (bps, V4L2)  video_bitrate_mode=1 h264_i_frame_period=600 repeat_sequence_header=1
 *   v4l2vp8enc    VP8    video_bitrate (bps, V4L2)  video_bitrate_mode=1
 *   v4l2vp9enc    VP9    video_bitrate (bps, V4L2)  video_bitrate_mode=1
 *   x264enc       H.264  bitrate         tune=zerolatency speed-preset=ultrafast key-int-max=600 b-adapt=false bframes=0
 *   openh264enc   H.264  bitrate (bps)   rate-control=bitrate gop-size=600
 *   vp8enc        VP8    target-bitrate (bps)  see VP8_SETTINGS
 *   vp9enc        VP9    target-bitrate (bps)  see VP9_SETTINGS
 *
 * The v4l2 memory-to-memory encoders (a Raspberry Pi's, many SoCs') take
 * their rate and settings as V4L2 controls in one `extra-controls`
 * structure, which the element merges into (bitrate mode 1 is CBR; the
 * sequence headers repeat so a peer that joins late can decode; GStreamer
 * applies the structure at once while the device is open, so a new
 * bitrate takes effect mid-call).
 * x264 comes before openh264: faster at the same quality here. An
 * encoder named with the video-encoder property that is not in the table
 * gets its bitrate only, on a `bitrate` property in kbit/s (the
 * convention of GStreamer's hardware encoders), and the application's
 * encoder-setup handler does the rest. */

/* libvpx's real-time mode, no look-ahead, CBR with a small decoder
 * buffer. One thread: at call sizes a second one only delays the first
 * frame (6-123 ms against 8-13 ms here, tests/bench/README.md). A
 * keyframe at most 3 frames' worth (libwebrtc's VP8 setting): an
 * unbounded one at a few hundred kbit/s overflows a shallow bottleneck
 * queue, is lost, and is asked for again, forever. Below what a picture
 * needs at its lowest quality (about 570 kbit/s for 640x480 test bars
 * here), libvpx overshoots its target unless it may drop frames: 30 as
 * libwebrtc sets. */
#define VP8_SETTINGS "deadline=1 cpu-used=8 lag-in-frames=0 " \
  "keyframe-max-dist=600 end-usage=cbr buffer-initial-size=100 " \
  "buffer-optimal-size=120 buffer-size=150 threads=1 max-intra-bitrate=300 " \
  "dropframe-threshold=30 error-resilient=default+partitions"
/* libvpx's VP9 in the same real-time mode. cpu-used 8 is libvpx's fastest
 * real-time speed for VP9 too (674 fps at 320x240, 160 at 640x480 here,
 * tests/bench/README.md); row-mt lets libvpx use both cores on the larger
 * pictures without the frame delay of frame threads; error-resilient
 * keeps a lost frame from breaking the ones after it. */
#define VP9_SETTINGS "deadline=1 cpu-used=8 lag-in-frames=0 " \
  "keyframe-max-dist=600 end-usage=cbr buffer-initial-size=100 " \
  "buffer-optimal-size=120 buffer-size=150 threads=2 row-mt=true " \
  "max-intra-bitrate=300 dropframe-threshold=30 error-resilient=default"
#define VA_H264_SETTINGS "rate-control=cbr b-frames=0 key-int-max=600 " \
  "target-usage=7"

typedef struct
{
  const gchar *factory;
  GstMeshCodec codec;
  const gchar *rate;
  gboolean bps;
  const gchar *settings;
  gboolean v4l2;                /* rate and settings are V4L2 controls */
} EncoderFamily;

static const EncoderFamily encoders[] = {
  {"vah264lpenc", GST_MESH_CODEC_H264, "bitrate", FALSE, VA_H264_SETTINGS},
  {"vah264enc", GST_MESH_CODEC_H264, "bitrate", FALSE, VA_H264_SETTINGS},
  {"vaapih264enc", GST_MESH_CODEC_H264, "bitrate", FALSE,
      "rate-control=cbr max-bframes=0 keyframe-period=600 quality-level=7"},
  {"nvh264enc", GST_MESH_CODEC_H264, "bitrate", FALSE,
      "preset=low-latency-hp rc-mode=cbr gop-size=600 bframes=0 "
      "zerolatency=true"},
  {"vaapivp8enc", GST_MESH_CODEC_VP8, "bitrate", FALSE,
      "rate-control=cbr keyframe-period=600"},
  {"v4l2h264enc", GST_MESH_CODEC_H264, "video_bitrate", TRUE,
      "video_bitrate_mode=1 h264_i_frame_period=600 repeat_sequence_header=1",
      TRUE},
  {"v4l2vp8enc", GST_MESH_CODEC_VP8, "video_bitrate", TRUE,
      "video_bitrate_mode=1", TRUE},
  {"v4l2vp9enc", GST_MESH_CODEC_VP9, "video_bitrate", TRUE,
      "video_bitrate_mode=1", TRUE},
  {"x264enc", GST_MESH_CODEC_H264, "bitrate", FALSE,
      "tune=zerolatency speed-preset=ultrafast key-int-max=600 "
      "b-adapt=false bframes=0"},
  {"openh264enc", GST_MESH_CODEC_H264, "bitrate", TRUE,
      "rate-control=bitrate gop-size=600"},
  {"vp8enc", GST_MESH_CODEC_VP8, "target-bitrate", TRUE, VP8_SETTINGS},
  {"vp9enc", GST_MESH_CODEC_VP9, "target-bitrate", TRUE, VP9_SETTINGS},
};

static const EncoderFamily *
encoder_family (const gchar * factory)
{
  for (guint i = 0; i < G_N_ELEMENTS (encoders); i++)
    if (!g_strcmp0 (encoders[i].factory, factory))
      return &encoders[i];
  return NULL;
}

static const gchar *
codec_media_type (GstMeshCodec codec)
{
  switch (codec) {
    case GST_MESH_CODEC_H264:
      return "video/x-h264";
    case GST_MESH_CODEC_VP9:
      return "video/x-vp9";
    default:
      return "video/x-vp8";
  }
}

/* Whether @f is a video encoder that can put out @codec. */
static gboolean
factory_encodes (GstElementFactory * f, GstMeshCodec codec)
{
  GstCaps *caps = gst_caps_new_empty_simple (codec_media_type (codec));
  gboolean ok = gst_element_factory_list_is_type (f,
      GST_ELEMENT_FACTORY_TYPE_ENCODER | GST_ELEMENT_FACTORY_TYPE_MEDIA_VIDEO)
      && gst_element_factory_can_src_any_caps (f, caps);

  gst_caps_unref (caps);
  return ok;
}

static gboolean
factory_is_hardware (GstElementFactory * f)
{
  const gchar *klass = gst_element_factory_get_metadata (f,
      GST_ELEMENT_METADATA_KLASS);

  return klass && strstr (klass, "Hardware") != NULL;
}

/* @f's row in the table, or the table's length for an encoder it does
 * not know */
static gint
table_index (GstElementFactory * f)
{
  const EncoderFamily *fam = encoder_family (GST_OBJECT_NAME (f));

  return fam ? (gint) (fam - encoders) : (gint) G_N_ELEMENTS (encoders);
}

/* Hardware first, then the table's order, then rank: an encoder the
 * table does not know comes after those it knows of its kind (hardware
 * or not) unless it ranks above them, as a vendor's new element may. */
static gint
compare_encoders (gconstpointer a, gconstpointer b)
{
  GstElementFactory *fa = (GstElementFactory *) a;
  GstElementFactory *fb = (GstElementFactory *) b;
  gint ha = factory_is_hardware (fa), hb = factory_is_hardware (fb);
  gint ra = gst_plugin_feature_get_rank (GST_PLUGIN_FEATURE (fa));
  gint rb = gst_plugin_feature_get_rank (GST_PLUGIN_FEATURE (fb));

  if (ha != hb)
    return hb - ha;
  if (ra != rb && (table_index (fa) == (gint) G_N_ELEMENTS (encoders) ||
          table_index (fb) == (gint) G_N_ELEMENTS (encoders)))
    return rb - ra;
  if (table_index (fa) != table_index (fb))
    return table_index (fa) - table_index (fb);
  return rb - ra;
}

gchar *
gst_mesh_codec_pick_encoder (GstMeshCodec codec, const gchar * wanted,
    GError ** error)
{
  GList *all, *l;
  gchar *name = NULL;

  if (codec != GST_MESH_CODEC_VP8 && codec != GST_MESH_CODEC_H264 &&
      codec != GST_MESH_CODEC_VP9) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "no video encoder for codec %d", codec);
    return NULL;
  }
  if (wanted && *wanted) {
    GstElementFactory *f = gst_element_factory_find (wanted);

    if (!f) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
          "video-encoder '%s' is not installed", wanted);
      return NULL;
    }
    if (!factory_encodes (f, codec)) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
          "video-encoder '%s' does not encode %s (%s)", wanted,
          gst_mesh_codec_encoding_name (codec), codec_media_type (codec));
      gst_object_unref (f);
      return NULL;
    }
    gst_object_unref (f);
    return g_strdup (wanted);
  }

  all = gst_element_factory_list_get_elements
      (GST_ELEMENT_FACTORY_TYPE_VIDEO_ENCODER, GST_RANK_MARGINAL);
  for (l = all; l; l = l->next) {
    GstElementFactory *f = l->data;
    /* ours from the table, or hardware we do not know */
    if (!factory_encodes (f, codec) || (table_index (f) == (gint)
            G_N_ELEMENTS (encoders) && !factory_is_hardware (f))) {
      l->data = NULL;
      gst_object_unref (f);
    }
  }
  all = g_list_remove_all (all, NULL);
  /* the table's software encoders may have rank none (openh264enc is
   * marginal, vp8enc primary): add those the registry list left out */
  for (guint i = 0; i < G_N_ELEMENTS (encoders); i++) {
    GstElementFactory *f;

    if (encoders[i].codec != codec)
      continue;
    f = gst_element_factory_find (encoders[i].factory);
    if (f && !g_list_find (all, f))
      all = g_list_prepend (all, f);
    else if (f)
      gst_object_unref (f);
  }
  all = g_list_sort (all, compare_encoders);
  if (all)
    name = g_strdup (GST_OBJECT_NAME (all->data));
  else
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "no %s encoder installed (%s)", gst_mesh_codec_encoding_name (codec),
        codec == GST_MESH_CODEC_H264 ? "x264enc or openh264enc" :
        codec == GST_MESH_CODEC_VP9 ? "vp9enc" : "vp8enc");
  gst_plugin_feature_list_free (all);
  return name;
}

/* Sets @value on @e's @prop if @e has it; FALSE if not. */
static gboolean
set_if_known (GstElement * e, const gchar * prop, const gchar * value)
{
  if (!g_object_class_find_property (G_OBJECT_GET_CLASS (e), prop)) {
    GST_INFO_OBJECT (e, "has no property %s: not set", prop);
    return FALSE;
  }
  gst_util_set_object_arg (G_OBJECT (e), prop, value);
  return TRUE;
}

/* Sets the V4L2 control @name to @value in @e's `extra-controls`, keeping
 * the controls already there. */
static gboolean
set_v4l2_control (GstElement * e, const gchar * name, const gchar * value)
{
  GstStructure *s = NULL;
  gchar *end = NULL;
  gint64 v = g_ascii_strtoll (value, &end, 10);

  if (!g_object_class_find_property (G_OBJECT_GET_CLASS (e), "extra-controls")
      || !end || *end || v < G_MININT32 || v > G_MAXINT32) {
    GST_WARNING_OBJECT (e, "cannot set V4L2 control %s=%s", name, value);
    return FALSE;
  }
  g_object_get (e, "extra-controls", &s, NULL);
  if (!s)
    s = gst_structure_new_empty ("controls");
  gst_structure_set (s, name, G_TYPE_INT, (gint) v, NULL);
  g_object_set (e, "extra-controls", s, NULL);
  gst_structure_free (s);
  return TRUE;
}

/* @fam's setting @prop=@value on @e: a property, or a V4L2 control */
static void
set_setting (GstElement * e, const EncoderFamily * fam, const gchar * prop,
    const gchar * value)
{
  if (fam && fam->v4l2)
    set_v4l2_control (e, prop, value);
  else
    set_if_known (e, prop, value);
}

static void
set_video_bitrate (GstElement * e, guint kbps)
{
  const EncoderFamily *fam =
      encoder_family (GST_OBJECT_NAME (gst_element_get_factory (e)));
  gchar *v = g_strdup_printf ("%u", fam && fam->bps ? kbps * 1000 : kbps);

  set_setting (e, fam, fam ? fam->rate : "bitrate", v);
  g_free (v);
}

static void
apply_settings (GstElement * e)
{
  const EncoderFamily *fam =
      encoder_family (GST_OBJECT_NAME (gst_element_get_factory (e)));
  gchar **kv;

  if (!fam)
    return;
  kv = g_strsplit (fam->settings, " ", -1);
  for (guint i = 0; kv[i]; i++) {
    gchar *eq = strchr (kv[i], '=');

    if (!eq)
      continue;
    *eq = '\0';
    set_setting (e, fam, kv[i], eq + 1);
  }
  g_strfreev (kv);
}

GstElement *
gst_mesh_codec_get_encoder_element (GstElement * encoder)
{
  GstPad *ghost = gst_element_get_static_pad (encoder, "sink");
  GstPad *target = ghost ? gst_ghost_pad_get_target (GST_GHOST_PAD (ghost)) :
      NULL;
  GstElement *e = target ? gst_pad_get_parent_element (target) : NULL;

  gst_clear_object (&target);
  gst_clear_object (&ghost);
  return e;
}

gboolean
gst_mesh_codec_can_encode (GstMeshCodec codec)
{
  if (!have_factory (info (codec)->payloader))
    return FALSE;
  switch (codec) {
    case GST_MESH_CODEC_VP8:
    case GST_MESH_CODEC_VP9:
    case GST_MESH_CODEC_H264:{
      gchar *name = gst_mesh_codec_pick_encoder (codec, NULL, NULL);
      gboolean ok = name != NULL;

      g_free (name);
      return ok;
    }
    case GST_MESH_CODEC_OPUS:
      return have_factory ("opusenc");
    default:
      return FALSE;
  }
}

GstCaps *
gst_mesh_codec_rtp_caps (GstMeshCodec codec, gint pt)
{
  const CodecInfo *ci = info (codec);
  GstCaps *caps = gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, gst_mesh_media_kind_name (ci->kind),
      "encoding-name", G_TYPE_STRING, ci->encoding_name,
      "clock-rate", G_TYPE_INT, ci->clock_rate,
      "payload", G_TYPE_INT, pt, NULL);

  if (codec == GST_MESH_CODEC_H264)
    gst_caps_set_simple (caps, "packetization-mode", G_TYPE_STRING, "1",
        "profile-level-id", G_TYPE_STRING, "42e01f",
        "level-asymmetry-allowed", G_TYPE_STRING, "1", NULL);
  else if (codec == GST_MESH_CODEC_VP9)
    /* 8-bit 4:2:0, what vp9enc makes from I420 */
    gst_caps_set_simple (caps, "profile-id", G_TYPE_STRING, "0", NULL);
  else if (codec == GST_MESH_CODEC_OPUS)
    gst_caps_set_simple (caps, "encoding-params", G_TYPE_STRING, "2",
        "minptime", G_TYPE_STRING, "10", "useinbandfec", G_TYPE_STRING, "1",
        NULL);
  /* ask for retransmission and picture loss indication: what makes video
   * survive packet loss */
  if (ci->kind == GST_MESH_MEDIA_VIDEO)
    gst_caps_set_simple (caps, "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE,
        "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
        "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, NULL);
  return caps;
}

GstCaps *
gst_mesh_codec_rtp_filter_caps (GstMeshCodec codec, gint pt)
{
  const CodecInfo *ci = info (codec);

  return gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, gst_mesh_media_kind_name (ci->kind),
      "encoding-name", G_TYPE_STRING, ci->encoding_name,
      "clock-rate", G_TYPE_INT, ci->clock_rate,
      "payload", G_TYPE_INT, pt, NULL);
}

/* The value of "key=value" in an fmtp parameter list, or NULL. */
static gchar *
fmtp_param (const gchar * fmtp, const gchar * key)
{
  gchar **params;
  gchar *value = NULL;
  gsize key_len = strlen (key);

  if (!fmtp)
    return NULL;
  params = g_strsplit (fmtp, ";", -1);
  for (gchar ** p = params; *p; p++) {
    gchar *s = g_strstrip (*p);
    if (g_ascii_strncasecmp (s, key, key_len) == 0 && s[key_len] == '=') {
      value = g_strdup (s + key_len + 1);
      break;
    }
  }
  g_strfreev (params);
  return value;
}

/* The "a=fmtp:<pt> ..." parameters of @pt in @media, or NULL. */
static const gchar *
media_fmtp (const GstSDPMedia * media, gint pt)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    gchar *end = NULL;
    gint64 v;

    if (g_strcmp0 (a->key, "fmtp") != 0 || !a->value)
      continue;
    v = g_ascii_strtoll (a->value, &end, 10);
    if (end != a->value && v == pt && *end == ' ')
      return end + 1;
  }
  return NULL;
}

/* How well the H.264 format @pt suits us: 3 constrained baseline with
 * packetization mode 1, 2 another profile with mode 1, 0 unusable. */
static gint
h264_score (const GstSDPMedia * media, gint pt)
{
  const gchar *fmtp = media_fmtp (media, pt);
  gchar *mode = fmtp_param (fmtp, "packetization-mode");
  gchar *profile = fmtp_param (fmtp, "profile-level-id");
  gint score = 0;

  if (g_strcmp0 (mode, "1") == 0) {
    score = 2;
    /* profile_idc 0x42 with constraint_set1 (0xe0 or 0x40 bits): the
     * constrained baseline x264 and openh264 produce */
    if (profile && strlen (profile) == 6 &&
        g_ascii_strncasecmp (profile, "42", 2) == 0 &&
        (g_ascii_xdigit_value (profile[2]) & 0x4))
      score = 3;
  }
  g_free (mode);
  g_free (profile);
  return score;
}

/* VP9 @pt: 1 for profile 0 (or no profile-id, which means 0), else 0:
 * vp9enc makes profile 0 from I420, and profile 2 is 10-bit. */
static gint
vp9_score (const GstSDPMedia * media, gint pt)
{
  gchar *profile = fmtp_param (media_fmtp (media, pt), "profile-id");
  gint score = !profile || !g_strcmp0 (profile, "0");

  g_free (profile);
  return score;
}

GstMeshCodec
gst_mesh_codec_fallback (GstMeshCodec codec)
{
  return codec == GST_MESH_CODEC_VP8 ? GST_MESH_CODEC_H264 :
      GST_MESH_CODEC_VP8;
}

gint
gst_mesh_codec_find_pt (GstMeshCodec codec, const GstSDPMedia * media)
{
  const CodecInfo *ci = info (codec);
  gint best_pt = -1, best_score = 0;

  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    gchar *end = NULL;
    gint64 pt;
    gsize name_len = strlen (ci->encoding_name);
    gint score;

    if (g_strcmp0 (a->key, "rtpmap") != 0 || !a->value)
      continue;
    pt = g_ascii_strtoll (a->value, &end, 10);
    if (end == a->value || *end != ' ' || pt < 0 || pt > 127)
      continue;
    end++;
    if (g_ascii_strncasecmp (end, ci->encoding_name, name_len) != 0 ||
        end[name_len] != '/')
      continue;
    score = codec == GST_MESH_CODEC_H264 ? h264_score (media, pt) :
        codec == GST_MESH_CODEC_VP9 ? vp9_score (media, pt) : 1;
    if (score > best_score) {
      best_score = score;
      best_pt = pt;
    }
  }
  return best_pt;
}

static GstElement *
make (const gchar * factory, GError ** error)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e)
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "element '%s' is not installed", factory);
  return e;
}

/* Links @elements in order inside a new bin with "sink" and "src" ghost
 * pads, so each codec's chain is one element to the caller. */
static GstElement *
chain (const gchar * name, GstElement ** elements, guint n)
{
  GstElement *bin = gst_bin_new (name);
  GstPad *pad;

  for (guint i = 0; i < n; i++)
    gst_bin_add (GST_BIN (bin), elements[i]);
  for (guint i = 0; i + 1 < n; i++)
    if (!gst_element_link (elements[i], elements[i + 1]))
      g_warning ("cannot link %s to %s", GST_OBJECT_NAME (elements[i]),
          GST_OBJECT_NAME (elements[i + 1]));
  pad = gst_element_get_static_pad (elements[0], "sink");
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", pad));
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (elements[n - 1], "src");
  gst_element_add_pad (bin, gst_ghost_pad_new ("src", pad));
  gst_object_unref (pad);
  return bin;
}

void
gst_mesh_codec_set_encoder_bitrate (GstElement * encoder, guint kbps)
{
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (encoder));
  GValue v = G_VALUE_INIT;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    GstElementFactory *f = gst_element_get_factory (e);

    if (f && !strcmp (GST_OBJECT_NAME (f), "opusenc"))
      g_object_set (e, "bitrate", kbps * 1000, NULL);
    else if (f && gst_element_factory_list_is_type (f,
            GST_ELEMENT_FACTORY_TYPE_VIDEO_ENCODER))
      set_video_bitrate (e, kbps);
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
}

/* An Opus encoder holds a frame's worth of samples before it encodes
 * them: 10 ms frames take 10 ms off the call's delay, the audio's and,
 * through lip sync, the video's too (tests/bench/README.md, glass). They
 * cost 50 more packets a second, about 20 kbit/s of headers, which a
 * narrow link should spend on the picture: the element goes back to 20 ms
 * frames there (gst_mesh_input_update_video_rates). The change is made
 * in the encoder's streaming thread: see set_frame_size_probe. */
/* opusenc's streaming thread, before its next input: the frame size
 * changes between frames. Set from another thread it raced the base
 * class, which cut a 20 ms frame that opusenc then encoded as 10 ms and
 * aborted on (gstopusenc.c: "assertion failed: (size == bytes)"; seen in
 * net-nat's NAT rebinding test, as the estimate came back over 1.3
 * Mbit/s). */
static GstPadProbeReturn
set_frame_size_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstObject *enc = gst_pad_get_parent (pad);
  gchar *value = g_strdup_printf ("%u", GPOINTER_TO_UINT (data));

  if (enc) {
    gst_util_set_object_arg (G_OBJECT (enc), "frame-size", value);
    gst_object_unref (enc);
  }
  g_free (value);
  return GST_PAD_PROBE_REMOVE;
}

void
gst_mesh_codec_set_audio_frame_ms (GstElement * encoder, guint ms)
{
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (encoder));
  GValue v = G_VALUE_INIT;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    GstElementFactory *f = gst_element_get_factory (e);
    GstPad *sink;

    if (f && !strcmp (GST_OBJECT_NAME (f), "opusenc") &&
        (sink = gst_element_get_static_pad (e, "sink"))) {
      gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER |
          GST_PAD_PROBE_TYPE_BUFFER_LIST, set_frame_size_probe,
          GUINT_TO_POINTER (ms), NULL);
      gst_object_unref (sink);
    }
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
}

GstElement *
gst_mesh_codec_make_encoder (GstMeshCodec codec, const gchar * factory,
    guint bitrate, GError ** error)
{
  GstElement *enc;

  switch (codec) {
    case GST_MESH_CODEC_VP8:
    case GST_MESH_CODEC_VP9:
    case GST_MESH_CODEC_H264:{
      gchar *name = gst_mesh_codec_pick_encoder (codec, factory, error);
      GstElement *caps, *parse, *els[3];

      if (!name)
        return NULL;
      enc = make (name, error);
      g_free (name);
      if (!enc)
        return NULL;
      apply_settings (enc);
      set_video_bitrate (enc, bitrate ? bitrate : DEFAULT_VIDEO_KBPS);
      if (codec == GST_MESH_CODEC_VP8)
        return chain ("vp8-encoder", &enc, 1);
      if (codec == GST_MESH_CODEC_VP9)
        return chain ("vp9-encoder", &enc, 1);
      /* what browsers decode, in the form the payloader takes */
      caps = make ("capsfilter", error);
      {
        GstCaps *c = gst_caps_from_string ("video/x-h264,"
            "profile=constrained-baseline,stream-format=byte-stream,"
            "alignment=au");
        g_object_set (caps, "caps", c, NULL);
        gst_caps_unref (c);
      }
      parse = make ("h264parse", error);
      if (!parse) {
        gst_object_unref (enc);
        gst_object_unref (caps);
        return NULL;
      }
      els[0] = enc;
      els[1] = caps;
      els[2] = parse;
      return chain ("h264-encoder", els, 3);
    }
    case GST_MESH_CODEC_OPUS:
      if (!(enc = make ("opusenc", error)))
        return NULL;
      g_object_set (enc, "bitrate", (bitrate ? bitrate : DEFAULT_AUDIO_KBPS) *
          1000, "inband-fec", TRUE, "packet-loss-percentage", 5, NULL);
      /* 10 ms frames: see gst_mesh_codec_set_audio_frame_ms() */
      gst_util_set_object_arg (G_OBJECT (enc), "frame-size", "10");
      return chain ("opus-encoder", &enc, 1);
    default:
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
          "no encoder for codec %d", codec);
      return NULL;
  }
}

GstMeshCodec
gst_mesh_codec_from_caps (const GstCaps * caps)
{
  const gchar *name;

  if (!caps || gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return GST_MESH_CODEC_NONE;
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  if (!g_strcmp0 (name, "video/x-h264"))
    return GST_MESH_CODEC_H264;
  if (!g_strcmp0 (name, "video/x-vp8"))
    return GST_MESH_CODEC_VP8;
  if (!g_strcmp0 (name, "video/x-vp9"))
    return GST_MESH_CODEC_VP9;
  if (!g_strcmp0 (name, "audio/x-opus"))
    return GST_MESH_CODEC_OPUS;
  return GST_MESH_CODEC_NONE;
}

gboolean
gst_mesh_codec_h264_profile_level_id (const GstStructure * s, gchar out[7])
{
  /* profile_idc and the constraint flags (RFC 6184 §8.1, as browsers
   * write them) */
  static const struct
  {
    const gchar *profile;
    const gchar *hex;
  } profiles[] = {
    {"constrained-baseline", "42e0"}, {"baseline", "4200"},
    {"main", "4d00"}, {"constrained-high", "640c"}, {"high", "6400"},
  };
  const gchar *profile = gst_structure_get_string (s, "profile");
  const gchar *level = gst_structure_get_string (s, "level");
  gint level_idc = 31;          /* 3.1 when the caps say none */

  if (!profile)
    return FALSE;
  if (level) {
    gchar **parts = g_strsplit (level, ".", 2);
    level_idc = atoi (parts[0]) * 10 + (parts[1] ? atoi (parts[1]) : 0);
    g_strfreev (parts);
    if (!g_strcmp0 (level, "1b"))
      level_idc = 11;
  }
  for (guint i = 0; i < G_N_ELEMENTS (profiles); i++)
    if (!g_strcmp0 (profile, profiles[i].profile)) {
      g_snprintf (out, 7, "%s%02x", profiles[i].hex, level_idc & 0xff);
      return TRUE;
    }
  return FALSE;
}

GstElement *
gst_mesh_codec_make_passthrough (GstMeshCodec codec, GError ** error)
{
  GstElement *els[2];
  GstCaps *c;

  if (codec == GST_MESH_CODEC_H264) {
    if (!(els[0] = make ("h264parse", error)))
      return NULL;
    /* SPS/PPS before every keyframe: a peer that joins later can start */
    g_object_set (els[0], "config-interval", -1, NULL);
    if (!(els[1] = make ("capsfilter", error))) {
      gst_object_unref (els[0]);
      return NULL;
    }
    c = gst_caps_from_string ("video/x-h264,stream-format=byte-stream,"
        "alignment=au");
    g_object_set (els[1], "caps", c, NULL);
    gst_caps_unref (c);
    return chain ("h264-passthrough", els, 2);
  }
  if (codec == GST_MESH_CODEC_NONE || !(els[0] = make ("capsfilter", error)))
    return NULL;
  c = gst_caps_new_empty_simple (codec == GST_MESH_CODEC_OPUS ?
      "audio/x-opus" : codec_media_type (codec));
  g_object_set (els[0], "caps", c, NULL);
  gst_caps_unref (c);
  return chain (codec == GST_MESH_CODEC_OPUS ? "opus-passthrough" :
      "video-passthrough", els, 1);
}

GstElement *
gst_mesh_codec_make_payloader (GstMeshCodec codec, gint pt, GError ** error)
{
  GstElement *pay = make (info (codec)->payloader, error);

  if (!pay)
    return NULL;
  /* 1200 bytes leaves room for SRTP, TURN and VPN headers */
  g_object_set (pay, "pt", (guint) pt, "mtu", (guint) 1200, NULL);
  if (codec == GST_MESH_CODEC_VP8 || codec == GST_MESH_CODEC_VP9)
    gst_util_set_object_arg (G_OBJECT (pay), "picture-id-mode", "15-bit");
  else if (codec == GST_MESH_CODEC_H264) {
    /* SPS/PPS before every keyframe: a receiver that joins late or lost
     * them can start at the next keyframe */
    g_object_set (pay, "config-interval", -1, NULL);
    gst_util_set_object_arg (G_OBJECT (pay), "aggregate-mode", "zero-latency");
  }
  return pay;
}

GstElement *
gst_mesh_codec_make_decoder (const GstCaps * caps, GError ** error)
{
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  const gchar *name = gst_structure_get_string (s, "encoding-name");
  GstElement *els[3];
  guint n = 0;

  if (!name) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND,
        "RTP caps without encoding-name");
    return NULL;
  }
  if (!g_ascii_strcasecmp (name, "VP8")) {
    els[n++] = make ("rtpvp8depay", error);
    els[n++] = make ("vp8dec", error);
  } else if (!g_ascii_strcasecmp (name, "VP9")) {
    els[n++] = make ("rtpvp9depay", error);
    els[n++] = make ("vp9dec", error);
  } else if (!g_ascii_strcasecmp (name, "H264")) {
    els[n++] = make ("rtph264depay", error);
    els[n++] = make ("h264parse", error);
    els[n++] = make (have_factory ("avdec_h264") ? "avdec_h264" :
        "openh264dec", error);
  } else if (!g_ascii_strcasecmp (name, "OPUS")) {
    els[n++] = make ("rtpopusdepay", error);
    els[n++] = make ("opusdec", error);
  } else {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND,
        "cannot decode RTP encoding %s", name);
    return NULL;
  }
  for (guint i = 0; i < n; i++) {
    if (!els[i]) {
      for (guint j = 0; j < n; j++)
        if (els[j])
          gst_object_unref (els[j]);
      return NULL;
    }
  }
  /* ask the sender for a keyframe at once after loss instead of
   * showing corrupt frames until the next periodic one */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (els[0]),
          "request-keyframe"))
    g_object_set (els[0], "request-keyframe", TRUE, "wait-for-keyframe",
        TRUE, NULL);
  /* No in-band FEC on our side: opusdec decodes each packet only when the
   * next one has come, to have its FEC at hand (20 ms), and tells the
   * pipeline 120 ms, the longest Opus packet. The pipeline's latency is
   * the largest of its branches', so that delayed the video of the call
   * as much (160 ms glass to glass on a LAN instead of 40,
   * tests/bench/README.md). Loss is concealed (PLC) instead. Senders keep
   * putting FEC in for receivers that use it as NetEQ does, from a packet
   * already in its buffer. */
  if (!g_ascii_strcasecmp (name, "OPUS"))
    g_object_set (els[1], "plc", TRUE, "use-inband-fec", FALSE, NULL);
  return chain (NULL, els, n);
}

/* OpenSSL registers OPENSSL_cleanup() with atexit() when it is first
 * initialised. A process that calls exit() while other threads still end
 * (GStreamer's pooled streaming threads run OpenSSL's per-thread cleanup
 * as they go, and DTLS ran in them) then frees OpenSSL's global state under
 * those threads: the rooms test caught it as "corrupted size vs. prev_size
 * in fastbins" in a pool thread's exit while the main thread was inside
 * OPENSSL_cleanup(), about one run in three of CI. OpenSSL's maintainers
 * call exiting with running threads unsupported with the handler
 * (openssl/openssl#6214) and added OPENSSL_INIT_NO_ATEXIT for libraries
 * (curl does the same: curl/curl#12153). The memory is the process's
 * anyway. Only the first initialisation decides, so this runs as our
 * plugin loads, before webrtcbin's dtls elements exist. */
void
gst_mesh_media_init_openssl (void)
{
  if (!OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL))
    GST_WARNING ("OpenSSL initialisation failed");
}

static GMutex prewarm_lock;
static GCond prewarm_cond;
static gboolean prewarm_running;

static gpointer
prewarm_dtls_thread (gpointer data)
{
  GstElement *dtls = gst_element_factory_make ("dtlsdec", NULL);
  gchar *pem = NULL;

  /* reading "pem" makes dtlsdec create the shared default agent, which
   * every webrtcbin of this process uses after */
  if (dtls) {
    g_object_get (dtls, "pem", &pem, NULL);
    g_free (pem);
    gst_object_unref (dtls);
  }
  g_mutex_lock (&prewarm_lock);
  prewarm_running = FALSE;
  g_cond_broadcast (&prewarm_cond);
  g_mutex_unlock (&prewarm_lock);
  return NULL;
}

void
gst_mesh_media_prewarm_dtls (void)
{
  static gsize started = 0;

  if (g_once_init_enter (&started)) {
    prewarm_running = TRUE;
    g_thread_unref (g_thread_new ("meshdtls", prewarm_dtls_thread, NULL));
    g_once_init_leave (&started, 1);
  }
}

void
gst_mesh_media_prewarm_dtls_wait (void)
{
  g_mutex_lock (&prewarm_lock);
  while (prewarm_running)
    g_cond_wait (&prewarm_cond, &prewarm_lock);
  g_mutex_unlock (&prewarm_lock);
}

/* ------------------------------------------------------------------------ */
/* Branches off a running tee                                               */

/* The encoder's tee runs while calls come and go. A new src pad gets the
 * sticky events the tee's sink pad holds when the pad is made, and the
 * events that come later through the tee's pad list. A sink pad stores a
 * sticky event only once the tee has pushed it on, so a stream-start under
 * way while the pad is made reaches neither: its first buffer then came
 * without one ("Got data flow before stream-start event", seen in the
 * rooms join/leave cycles). An IDLE probe on the tee's sink pad did not
 * close that window: a sink pad counts no pushes under way and calls an
 * IDLE probe at once. The tee's streaming thread holds the sink pad's
 * stream lock for each buffer and serialized event: holding it here, the
 * pad is made between two of them. The wait is one push through the tee,
 * whose branches start with leaky queues; the lock is recursive, so the
 * streaming thread itself may add a branch too. */
GstPad *
gst_mesh_request_tee_pad_idle (GstElement * tee, GstPad * sink)
{
  GstPad *tee_sink = gst_element_get_static_pad (tee, "sink");
  GstPad *src;
  GstPadLinkReturn ret;

  GST_PAD_STREAM_LOCK (tee_sink);
  src = gst_element_request_pad_simple (tee, "src_%u");
  ret = gst_pad_link (src, sink);
  GST_PAD_STREAM_UNLOCK (tee_sink);
  if (ret != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT (tee, "cannot link %" GST_PTR_FORMAT " to %"
        GST_PTR_FORMAT ": %s", src, sink, gst_pad_link_get_name (ret));
  gst_object_unref (tee_sink);
  return src;
}

/* Releasing a src pad of the running tee has the same window the other
 * way: deactivating the pad clears its sticky events, and a push that was
 * handing them to the branch (stream-start and caps gone through, the
 * segment next) finds the list empty, goes on with the buffer, and the
 * branch's queue gets data before any segment (seen when offers came a
 * few milliseconds apart, each call torn down as its first frame
 * arrived). Under the sink pad's stream lock no push is under way. */
void
gst_mesh_release_tee_pad_idle (GstElement * tee, GstPad * pad)
{
  GstPad *tee_sink = gst_element_get_static_pad (tee, "sink");

  GST_PAD_STREAM_LOCK (tee_sink);
  gst_element_release_request_pad (tee, pad);
  GST_PAD_STREAM_UNLOCK (tee_sink);
  gst_object_unref (tee_sink);
}

#define KEYFRAME_AHEAD_FIELD "gst-mesh-ahead"

GstEvent *
gst_mesh_keyframe_request_new (gboolean ahead)
{
  GstEvent *event = gst_video_event_new_upstream_force_key_unit
      (GST_CLOCK_TIME_NONE, TRUE, 0);

  if (ahead)
    gst_structure_set (gst_event_writable_structure (event),
        KEYFRAME_AHEAD_FIELD, G_TYPE_BOOLEAN, TRUE, NULL);
  return event;
}

gboolean
gst_mesh_keyframe_request_is_ahead (GstEvent * event)
{
  const GstStructure *s = gst_event_get_structure (event);
  gboolean ahead = FALSE;

  return s && gst_structure_get_boolean (s, KEYFRAME_AHEAD_FIELD, &ahead)
      && ahead;
}
