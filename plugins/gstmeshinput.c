/* gst-mesh: meshsignal's media in. Each `*_sink` request pad is the
 * entry of a chain that lives as long as the pad: `queue (leaky) !
 * convert ! encoder ! tee`. The encoder runs once whatever happens to
 * calls; each call takes a tee branch. This file builds the chain, makes
 * and drops its encoder, and switches the encoder's codec between two
 * buffers when a call's codec falls back.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsignalprivate.h"

#include <gst/video/video.h>
#include <string.h>

gboolean
gst_mesh_input_build_encoder (GstMeshSignal * self, GstMeshMediaKind kind,
    GstMeshCodec codec, GError ** error)
{
  MediaIn *in = &self->in[kind];
  guint bitrate;
  GstElement *enc;

  GST_OBJECT_LOCK (self);
  bitrate = kind == GST_MESH_MEDIA_VIDEO ? self->video_bitrate :
      self->audio_bitrate;
  if (kind == GST_MESH_MEDIA_VIDEO && self->start_bitrate &&
      self->congestion_control != GST_MESH_CONGESTION_CONTROL_NONE)
    bitrate = self->start_bitrate;
  GST_OBJECT_UNLOCK (self);

  enc = gst_mesh_codec_make_encoder (codec, bitrate, error);
  if (!enc)
    return FALSE;
  gst_bin_add (GST_BIN (self), gst_object_ref (enc));
  /* no caps check towards the tee: while a codec is being switched, its
   * branches still ask for the old one */
  if (!gst_element_link (in->convert, enc) ||
      !gst_element_link_pads_full (enc, "src", in->tee, "sink",
          GST_PAD_LINK_CHECK_NOTHING)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "cannot link the %s encoder", gst_mesh_codec_encoding_name (codec));
    gst_bin_remove (GST_BIN (self), enc);
    gst_object_unref (enc);
    return FALSE;
  }
  in->encoder = enc;
  in->codec = in->encoder_codec = codec;
  if (kind == GST_MESH_MEDIA_VIDEO)
    self->encoder_kbps = bitrate;
  return TRUE;
}

void
gst_mesh_input_drop_encoder (GstMeshSignal * self, MediaIn * in)
{
  if (!in->encoder)
    return;
  gst_element_unlink (in->convert, in->encoder);
  gst_element_unlink (in->encoder, in->tee);
  gst_element_set_locked_state (in->encoder, TRUE);
  gst_mesh_signal_remove_child (self, in->encoder);
  in->encoder = NULL;
}

GstPad *
gst_mesh_input_new (GstMeshSignal * self, GstMeshMediaKind kind,
    GstPadTemplate * templ)
{
  MediaIn *in = &self->in[kind];
  GstPad *target, *ghost;
  GstMeshCodec codec;
  GError *error = NULL;

  if (in->ghost) {
    GST_WARNING_OBJECT (self, "%s_sink already requested",
        gst_mesh_media_kind_name (kind));
    return NULL;
  }

  GST_OBJECT_LOCK (self);
  codec = kind == GST_MESH_MEDIA_VIDEO ?
      gst_mesh_signal_video_codec (self->video_codec) : GST_MESH_CODEC_OPUS;
  GST_OBJECT_UNLOCK (self);

  in->queue = gst_element_factory_make ("queue", NULL);
  /* a live source must never wait for the encoder: drop old frames */
  g_object_set (in->queue, "max-size-buffers", 3, "max-size-bytes", 0,
      "max-size-time", (guint64) 0, NULL);
  gst_util_set_object_arg (G_OBJECT (in->queue), "leaky", "downstream");
  in->tee = gst_element_factory_make ("tee", NULL);
  g_object_set (in->tee, "allow-not-linked", TRUE, NULL);
  gst_bin_add_many (GST_BIN (self), in->queue, in->tee, NULL);
  gst_object_ref (in->queue);
  gst_object_ref (in->tee);

  if (kind == GST_MESH_MEDIA_VIDEO) {
    in->convert = gst_element_factory_make ("videoconvert", NULL);
    gst_bin_add (GST_BIN (self), gst_object_ref (in->convert));
    gst_element_link (in->queue, in->convert);
  } else {
    in->convert2 = gst_element_factory_make ("audioconvert", NULL);
    in->convert = gst_element_factory_make ("audioresample", NULL);
    gst_bin_add_many (GST_BIN (self), gst_object_ref (in->convert2),
        gst_object_ref (in->convert), NULL);
    gst_element_link_many (in->queue, in->convert2, in->convert, NULL);
  }

  if (!gst_mesh_input_build_encoder (self, kind, codec, &error)) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Cannot encode %s", gst_mesh_media_kind_name (kind)), ("%s",
            error->message));
    g_error_free (error);
  }

  target = gst_element_get_static_pad (in->queue, "sink");
  ghost = gst_ghost_pad_new_from_template (GST_PAD_TEMPLATE_NAME_TEMPLATE
      (templ), target, templ);
  gst_object_unref (target);
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (GST_ELEMENT (self), ghost);
  in->ghost = ghost;

  gst_element_sync_state_with_parent (in->tee);
  if (in->encoder)
    gst_element_sync_state_with_parent (in->encoder);
  gst_element_sync_state_with_parent (in->convert);
  if (in->convert2)
    gst_element_sync_state_with_parent (in->convert2);
  gst_element_sync_state_with_parent (in->queue);
  return ghost;
}

typedef struct
{
  GstMeshSignal *self;
  GstMeshMediaKind kind;
  GstMeshCodec codec;
  GMutex lock;
  GCond cond;
  gboolean done;
} SwitchData;

static void
switch_done (SwitchData * d)
{
  g_mutex_lock (&d->lock);
  d->done = TRUE;
  g_cond_signal (&d->cond);
  g_mutex_unlock (&d->lock);
}

static GstPadProbeReturn
switch_encoder_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  SwitchData *d = user_data;
  GstMeshSignal *self = d->self;
  MediaIn *in = &self->in[d->kind];
  GError *error = NULL;

  /* compare with the encoder in place: in->codec already says what we
   * switch to, since the next call's branch must be built for it */
  if (in->encoder_codec == d->codec) {
    switch_done (d);
    return GST_PAD_PROBE_REMOVE;
  }
  GST_INFO_OBJECT (self, "switching the %s encoder from %s to %s",
      gst_mesh_media_kind_name (d->kind),
      gst_mesh_codec_encoding_name (in->encoder_codec),
      gst_mesh_codec_encoding_name (d->codec));
  gst_mesh_input_drop_encoder (self, in);
  if (!gst_mesh_input_build_encoder (self, d->kind, d->codec, &error)) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Cannot encode %s", gst_mesh_codec_encoding_name (d->codec)),
        ("%s", error->message));
    g_error_free (error);
    switch_done (d);
    return GST_PAD_PROBE_REMOVE;
  }
  gst_element_sync_state_with_parent (in->encoder);
  switch_done (d);
  return GST_PAD_PROBE_REMOVE;
}

/* GstMeshPeerConfig.switch_codec: the remote cannot take what we encode. */
gboolean
gst_mesh_input_switch_codec (GstMeshPeer * peer, GstMeshMediaKind kind,
    GstMeshCodec codec, gpointer user_data)
{
  GstMeshSignal *self = user_data;
  MediaIn *in = &self->in[kind];
  SwitchData *d;
  GstPad *pad;
  gboolean timed_out;

  if (!in->encoder)
    return FALSE;
  d = g_new0 (SwitchData, 1);
  d->self = self;
  d->kind = kind;
  d->codec = codec;
  g_mutex_init (&d->lock);
  g_cond_init (&d->cond);
  /* swap between two buffers: at once when the pad is idle, else after
   * the buffer being pushed; and wait for it, so that the next call's
   * branch only ever sees the new codec */
  pad = gst_element_get_static_pad (in->convert, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_IDLE, switch_encoder_probe, d,
      NULL);
  gst_object_unref (pad);
  {
    gint64 deadline = g_get_monotonic_time () + G_USEC_PER_SEC;
    g_mutex_lock (&d->lock);
    while (!d->done && g_cond_wait_until (&d->cond, &d->lock, deadline));
    timed_out = !d->done;
    g_mutex_unlock (&d->lock);
  }
  /* a probe that never ran still holds d: leave it to the probe */
  if (!timed_out) {
    g_mutex_clear (&d->lock);
    g_cond_clear (&d->cond);
    g_free (d);
  }
  in->codec = codec;
  return TRUE;
}

