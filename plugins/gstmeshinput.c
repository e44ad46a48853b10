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

static GstPadProbeReturn
count_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
  return GST_PAD_PROBE_OK;
}

/* Frames into the encoder (out of the capsfilter) and out of it (into the
 * tee): the pads stay while encoders are switched. */
static void
count_frames (MediaIn * in)
{
  GstPad *pad = gst_element_get_static_pad (in->convert, "src");

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe,
      &in->frames_in, NULL);
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (in->tee, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe,
      &in->frames_out, NULL);
  gst_object_unref (pad);
  in->kept = 1.0;
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
    /* videoconvert ! videoscale ! capsfilter: the filter takes anything
     * until congestion control asks for a smaller picture */
    in->convert2 = gst_element_factory_make ("videoconvert", NULL);
    in->scaler = gst_element_factory_make ("videoscale", NULL);
    in->convert = gst_element_factory_make ("capsfilter", NULL);
    gst_bin_add_many (GST_BIN (self), gst_object_ref (in->convert2),
        gst_object_ref (in->scaler), gst_object_ref (in->convert), NULL);
    gst_element_link_many (in->queue, in->convert2, in->scaler, in->convert,
        NULL);
    count_frames (in);
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
  if (in->scaler)
    gst_element_sync_state_with_parent (in->scaler);
  if (in->convert2)
    gst_element_sync_state_with_parent (in->convert2);
  gst_element_sync_state_with_parent (in->queue);
  return ghost;
}

/* Picture sizes, as a share of the input's width and height, and the
 * bits per pixel (per frame) below which a step is too big for the rate,
 * and above which the next bigger one fits again: VP8 at 640x480@30
 * steps down under about 460 kbit/s, back up over about 740. The
 * hysteresis and the waits keep it from hunting; each step costs a
 * keyframe. */
static const gdouble scale_steps[] = { 1.0, 0.75, 0.5, 0.375, 0.25 };
#define STEP_DOWN_BPP 0.05
#define STEP_UP_BPP 0.08
/* the encoder keeps fewer than 85 % of the frames: step down; at least
 * 97 % before a step up */
#define KEPT_LOW 0.85
#define KEPT_HIGH 0.97
#define STEP_DOWN_WAIT_US (2 * G_USEC_PER_SEC)
#define STEP_UP_WAIT_US (5 * G_USEC_PER_SEC)

static gdouble
bits_per_pixel (guint kbps, gint w, gint h, gdouble fps, gdouble scale)
{
  gdouble px = w * scale * h * scale * fps;

  return px > 0 ? kbps * 1000.0 / px : 0;
}

void
gst_mesh_input_adapt_video (GstMeshSignal * self, guint kbps)
{
  MediaIn *in = &self->in[GST_MESH_MEDIA_VIDEO];
  GstPad *pad;
  GstCaps *caps;
  GstVideoInfo info;
  guint step;
  gint64 now = g_get_monotonic_time ();
  gdouble fps;

  if (!in->scaler || !in->queue)
    return;
  pad = gst_element_get_static_pad (in->queue, "src");
  caps = gst_pad_get_current_caps (pad);
  gst_object_unref (pad);
  if (!caps)
    return;
  if (!gst_video_info_from_caps (&info, caps) || info.width <= 0) {
    gst_caps_unref (caps);
    return;
  }
  gst_caps_unref (caps);
  fps = info.fps_n > 0 && info.fps_d > 0 ? (gdouble) info.fps_n / info.fps_d :
      30.0;

  step = in->step;
  while (step + 1 < G_N_ELEMENTS (scale_steps) &&
      bits_per_pixel (kbps, info.width, info.height, fps,
          scale_steps[step]) < STEP_DOWN_BPP)
    step++;
  /* the encoder drops frames to keep to the rate: the picture is too big
   * for it, whatever the rule of thumb says (hard content) */
  if (step == in->step && in->kept < KEPT_LOW &&
      step + 1 < G_N_ELEMENTS (scale_steps)) {
    step++;
    in->failed_kbps = kbps;
  }
  if (step == in->step)
    while (step > 0 && bits_per_pixel (kbps, info.width, info.height, fps,
            scale_steps[step - 1]) >= STEP_UP_BPP &&
        in->kept >= KEPT_HIGH &&
        (!in->failed_kbps || kbps >= in->failed_kbps * 13 / 10))
      step--;
  if (step == in->step ||
      now - in->step_changed < (step > in->step ? STEP_DOWN_WAIT_US :
          STEP_UP_WAIT_US))
    return;

  {
    gint w = ((gint) (info.width * scale_steps[step])) & ~1;
    gint h = ((gint) (info.height * scale_steps[step])) & ~1;
    GstCaps *filter = step == 0 ? gst_caps_new_empty_simple ("video/x-raw") :
        gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, w,
        "height", G_TYPE_INT, h, NULL);
    GstStructure *s;

    GST_INFO_OBJECT (self, "video at %u kbit/s: %dx%d (%s; the encoder "
        "kept %.0f %% of the frames)", kbps, w, h,
        step > in->step ? "smaller" : "larger", 100 * in->kept);
    if (step == 0)
      in->failed_kbps = 0;
    in->step = step;
    in->step_changed = now;
    g_object_set (in->convert, "caps", filter, NULL);
    gst_caps_unref (filter);
    s = gst_structure_new ("mesh-video-quality",
        "degraded", G_TYPE_BOOLEAN, step > 0,
        "width", G_TYPE_INT, w, "height", G_TYPE_INT, h,
        "input-width", G_TYPE_INT, info.width,
        "input-height", G_TYPE_INT, info.height,
        "bitrate", G_TYPE_UINT, kbps, NULL);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), s));
  }
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


void
gst_mesh_input_video_tick (GstMeshSignal * self)
{
  MediaIn *in = &self->in[GST_MESH_MEDIA_VIDEO];
  gint n_in, n_out, d_in, d_out;

  if (!in->scaler)
    return;
  n_in = g_atomic_int_get (&in->frames_in);
  n_out = g_atomic_int_get (&in->frames_out);
  d_in = n_in - in->last_in;
  d_out = n_out - in->last_out;
  in->last_in = n_in;
  in->last_out = n_out;
  /* a second's share, smoothed over about two */
  if (d_in > 0)
    in->kept = 0.5 * in->kept + 0.5 * CLAMP ((gdouble) d_out / d_in, 0, 1);
  if (g_hash_table_size (self->peer_targets) > 0 && self->encoder_kbps)
    gst_mesh_input_adapt_video (self, self->encoder_kbps);
}
