/* gst-mesh: rtphdrextplayoutdelay, the playout-delay RTP header extension
 * (http://www.webrtc.org/experiments/rtp-hdrext/playout-delay, described in
 * libwebrtc's docs/native-code/rtp-hdrext/playout-delay). The sender tells
 * the receiver the least and the most it may delay a frame before showing
 * it: 3 bytes, two 12-bit counts of 10 ms.
 *
 * Chromium offers the extension and obeys it. With a least delay of 0 and a
 * most of at most 500 ms, and no lip-sync delay of its own, it decodes each
 * frame as soon as it is complete and shows it at the next refresh (its
 * "low-latency renderer"), instead of at a render time it keeps a jitter
 * allowance ahead of arrival.
 *
 * As a payloader's extension (or rtpbasepayload's auto-header-extension,
 * from an extmap in its caps) it writes min-delay and max-delay into
 * every packet, unless its direction (gst_rtp_header_extension_set_direction)
 * excludes sending; read from a depayloader it keeps what the sender
 * asked.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshplayoutdelay.h"

GST_DEBUG_CATEGORY_STATIC (playout_delay_debug);
#define GST_CAT_DEFAULT playout_delay_debug

/* the 12-bit fields count 10 ms */
#define UNIT_MS 10
#define MAX_MS (0xfff * UNIT_MS)

struct _GstMeshHdrExtPlayoutDelay
{
  GstRTPHeaderExtension parent;

  /* ms; atomic: set by the application, written by the payloader */
  guint min_ms;
  guint max_ms;
};

enum
{
  PROP_0,
  PROP_MIN_DELAY,
  PROP_MAX_DELAY,
};

G_DEFINE_TYPE_WITH_CODE (GstMeshHdrExtPlayoutDelay, gst_mesh_hdrext_playout_delay,
    GST_TYPE_RTP_HEADER_EXTENSION,
    GST_DEBUG_CATEGORY_INIT (playout_delay_debug, "rtphdrextplayoutdelay", 0,
        "playout-delay RTP header extension"));
GST_ELEMENT_REGISTER_DEFINE (rtphdrextplayoutdelay, "rtphdrextplayoutdelay",
    GST_RANK_MARGINAL, GST_TYPE_MESH_HDREXT_PLAYOUT_DELAY);

gboolean
gst_mesh_hdrext_playout_delay_sends (GstRTPHeaderExtension * ext)
{
  return ext && (gst_rtp_header_extension_get_direction (ext) &
      (GST_RTP_HEADER_EXTENSION_DIRECTION_SENDONLY |
          GST_RTP_HEADER_EXTENSION_DIRECTION_INHERITED));
}

static GstRTPHeaderExtensionFlags
get_supported_flags (GstRTPHeaderExtension * ext)
{
  return GST_RTP_HEADER_EXTENSION_ONE_BYTE | GST_RTP_HEADER_EXTENSION_TWO_BYTE;
}

static gsize
get_max_size (GstRTPHeaderExtension * ext, const GstBuffer * buffer)
{
  return 3;
}

static gssize
write_ext (GstRTPHeaderExtension * ext, const GstBuffer * input,
    GstRTPHeaderExtensionFlags flags, GstBuffer * output, guint8 * data,
    gsize size)
{
  GstMeshHdrExtPlayoutDelay *self = GST_MESH_HDREXT_PLAYOUT_DELAY (ext);
  guint min = g_atomic_int_get (&self->min_ms) / UNIT_MS;
  guint max = g_atomic_int_get (&self->max_ms) / UNIT_MS;

  /* an extension the remote did not take (a direction without send)
   * writes nothing */
  if (!gst_mesh_hdrext_playout_delay_sends (ext))
    return 0;
  if (size < 3)
    return -1;
  if (max < min)
    max = min;
  data[0] = min >> 4;
  data[1] = ((min & 0xf) << 4) | (max >> 8);
  data[2] = max & 0xff;
  return 3;
}

static gboolean
read_ext (GstRTPHeaderExtension * ext, GstRTPHeaderExtensionFlags flags,
    const guint8 * data, gsize size, GstBuffer * buffer)
{
  GstMeshHdrExtPlayoutDelay *self = GST_MESH_HDREXT_PLAYOUT_DELAY (ext);
  guint min, max;

  if (size < 3) {
    GST_WARNING_OBJECT (self, "playout delay of %" G_GSIZE_FORMAT " bytes, "
        "not 3: ignored", size);
    return FALSE;
  }
  min = ((guint) data[0] << 4 | data[1] >> 4) * UNIT_MS;
  max = (((guint) data[1] & 0xf) << 8 | data[2]) * UNIT_MS;
  if (min != (guint) g_atomic_int_get (&self->min_ms) ||
      max != (guint) g_atomic_int_get (&self->max_ms)) {
    GST_DEBUG_OBJECT (self, "the sender asks for %u-%u ms", min, max);
    g_atomic_int_set (&self->min_ms, min);
    g_atomic_int_set (&self->max_ms, max);
    g_object_notify (G_OBJECT (self), "min-delay");
    g_object_notify (G_OBJECT (self), "max-delay");
  }
  return TRUE;
}

static void
set_property (GObject * object, guint id, const GValue * value,
    GParamSpec * pspec)
{
  GstMeshHdrExtPlayoutDelay *self = GST_MESH_HDREXT_PLAYOUT_DELAY (object);

  switch (id) {
    case PROP_MIN_DELAY:
      g_atomic_int_set (&self->min_ms, g_value_get_uint (value));
      break;
    case PROP_MAX_DELAY:
      g_atomic_int_set (&self->max_ms, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
      break;
  }
}

static void
get_property (GObject * object, guint id, GValue * value, GParamSpec * pspec)
{
  GstMeshHdrExtPlayoutDelay *self = GST_MESH_HDREXT_PLAYOUT_DELAY (object);

  switch (id) {
    case PROP_MIN_DELAY:
      g_value_set_uint (value, g_atomic_int_get (&self->min_ms));
      break;
    case PROP_MAX_DELAY:
      g_value_set_uint (value, g_atomic_int_get (&self->max_ms));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
      break;
  }
}

static void
gst_mesh_hdrext_playout_delay_class_init (GstMeshHdrExtPlayoutDelayClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstRTPHeaderExtensionClass *ext_class = GST_RTP_HEADER_EXTENSION_CLASS (klass);

  object_class->set_property = set_property;
  object_class->get_property = get_property;

  g_object_class_install_property (object_class, PROP_MIN_DELAY,
      g_param_spec_uint ("min-delay", "Least playout delay",
          "The least delay (ms) the receiver should hold a frame for before "
          "it shows it, in steps of 10 ms; written into each packet, or the "
          "sender's, read from the last packet", 0, MAX_MS, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, PROP_MAX_DELAY,
      g_param_spec_uint ("max-delay", "Most playout delay",
          "The most delay (ms) the receiver may hold a frame for to ride "
          "out jitter, in steps of 10 ms (below min-delay: min-delay). "
          "0 with min-delay 0: show each frame as soon as it is decoded",
          0, MAX_MS, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  ext_class->get_supported_flags = get_supported_flags;
  ext_class->get_max_size = get_max_size;
  ext_class->write = write_ext;
  ext_class->read = read_ext;

  gst_element_class_set_static_metadata (element_class,
      "Playout delay RTP header extension", GST_RTP_HDREXT_ELEMENT_CLASS,
      "Tells the receiver the least and most delay before it shows a frame "
      "(libwebrtc's playout-delay extension)",
      "gst-mesh developers");
  gst_rtp_header_extension_class_set_uri (ext_class,
      GST_MESH_PLAYOUT_DELAY_URI);
}

static void
gst_mesh_hdrext_playout_delay_init (GstMeshHdrExtPlayoutDelay * self)
{
}
