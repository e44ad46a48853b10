/* gst-mesh: meshsignal's media in. Each `*_sink` request pad is the
 * entry of a chain that lives as long as the pad: `queue (leaky) !
 * convert ! encoder ! tee`. The encoder runs once whatever happens to
 * calls; each call takes a tee branch. This file builds the chain, makes
 * and drops its encoder, and switches the encoder's codec between two
 * buffers when a call's codec falls back. With congestion control it
 * sets the encoders' rates and picture sizes from the peers' estimates,
 * and makes a second, low encoding of the video for peers whose links
 * carry far less than the others' (a room's slow member).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsignalprivate.h"

#include <gst/video/video.h>
#include <string.h>

static void leave_low (GstMeshSignal * self);

#define ENCODED_VIDEO_CAPS "video/x-h264; video/x-vp8; video/x-vp9"
#define ENCODED_AUDIO_CAPS "audio/x-opus"

/* video-encoder names an encoder of video-codec: a fallback to the other
 * codec (the remote takes only that) picks its own. */
static gchar *
video_encoder_for (GstMeshSignal * self, GstMeshCodec codec)
{
  if (codec != gst_mesh_signal_first_video_codec (self))
    return NULL;
  return gst_mesh_signal_dup_video_encoder (self);
}

/* Puts @enc (taken) into the bin between @upstream and the tee, as @in's
 * encoder making @codec; @what names it in the error. */
static gboolean
place_encoder (GstMeshSignal * self, MediaIn * in, GstElement * upstream,
    GstElement * enc, GstMeshCodec codec, const gchar * what, GError ** error)
{
  gst_bin_add (GST_BIN (self), gst_object_ref (enc));
  /* no caps check towards the tee: while a codec is being switched, its
   * branches still ask for the old one */
  if (!gst_element_link (upstream, enc) ||
      !gst_element_link_pads_full (enc, "src", in->tee, "sink",
          GST_PAD_LINK_CHECK_NOTHING)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "cannot link the %s %s", gst_mesh_codec_encoding_name (codec), what);
    gst_bin_remove (GST_BIN (self), enc);
    gst_object_unref (enc);
    return FALSE;
  }
  in->encoder = enc;
  in->codec = in->encoder_codec = codec;
  return TRUE;
}

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

  {
    gchar *factory = kind == GST_MESH_MEDIA_VIDEO ?
        video_encoder_for (self, codec) : NULL;

    enc = gst_mesh_codec_make_encoder (codec, factory, bitrate, error);
    g_free (factory);
  }
  if (!enc)
    return FALSE;
  gst_mesh_signal_encoder_setup (self, kind == GST_MESH_MEDIA_VIDEO ?
      "video" : "audio", enc);
  if (!place_encoder (self, in, in->convert, enc, codec, "encoder", error))
    return FALSE;
  if (kind == GST_MESH_MEDIA_VIDEO)
    self->encoder_kbps = bitrate;
  else
    self->audio_frame_ms = 0;   /* a new encoder starts at 10 ms */
  return TRUE;
}

void
gst_mesh_input_drop_encoder (GstMeshSignal * self, MediaIn * in)
{
  GstPad *sink, *peer;

  if (!in->encoder)
    return;
  /* from whatever feeds it: the raw chain, or the queue (passthrough) */
  sink = gst_element_get_static_pad (in->encoder, "sink");
  if ((peer = gst_pad_get_peer (sink))) {
    gst_pad_unlink (peer, sink);
    gst_object_unref (peer);
  }
  gst_object_unref (sink);
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
count_frames (PictureSteps * ps, GstElement * tee)
{
  GstPad *pad = gst_element_get_static_pad (ps->filter, "src");

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe,
      &ps->frames_in, NULL);
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (tee, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe,
      &ps->frames_out, NULL);
  gst_object_unref (pad);
  ps->kept = 1.0;
}

/* Keyframes on request, at most one per KEYFRAME_MIN_INTERVAL per
 * encoding. Every peer's PLI or FIR comes up the tee as a force-key-unit
 * event; on a lossy link each keyframe is more packets to lose, and a
 * request for each loss would make a keyframe storm on a narrow link
 * (libwebrtc bounds them too). A request within the interval after the
 * last one let through is held, and the ones after it fold into it; it
 * goes up with the first frame after the interval. Never dropped: a peer
 * that just changed encodings waits for it. A request made ahead of a
 * call's connection (gst_mesh_keyframe_request_new) does not count, nor
 * do the encoder's own keyframes (its first one): a call's first request
 * comes right after the encoder's first keyframe, which the peer did not
 * get, and holding it made the first picture of every call 450 ms late
 * (tests/bench/run.sh). */
#define KEYFRAME_MIN_INTERVAL_US (500 * 1000)

typedef struct
{
  GMutex lock;
  gint64 last;                  /* monotonic µs of the last request let up */
  gboolean held;
  guint held_count;             /* requests folded into the held one */
  GThread *sending;             /* the thread pushing the held request */
} KeyframeLimit;

static void
keyframe_limit_free (KeyframeLimit * k)
{
  g_mutex_clear (&k->lock);
  g_free (k);
}

static GstPadProbeReturn
keyframe_limit_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  KeyframeLimit *k = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean send = FALSE;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {

    g_mutex_lock (&k->lock);
    if (k->held && now - k->last >= KEYFRAME_MIN_INTERVAL_US) {
      GST_DEBUG_OBJECT (pad, "asking for the keyframe held back (%u "
          "requests)", k->held_count);
      k->held = FALSE;
      k->held_count = 0;
      k->last = now;            /* asked: the next frame or so */
      k->sending = g_thread_self ();
      send = TRUE;
    }
    g_mutex_unlock (&k->lock);
    if (send) {
      gst_pad_push_event (pad, gst_mesh_keyframe_request_new (FALSE));
      g_mutex_lock (&k->lock);
      k->sending = NULL;
      g_mutex_unlock (&k->lock);
    }
    return GST_PAD_PROBE_OK;
  }

  if (!gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info)))
    return GST_PAD_PROBE_OK;
  /* a call about to connect: its keyframe is what the peer starts with */
  if (gst_mesh_keyframe_request_is_ahead (GST_PAD_PROBE_INFO_EVENT (info)))
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&k->lock);
  if (k->sending == g_thread_self ()) {
    g_mutex_unlock (&k->lock);
    return GST_PAD_PROBE_OK;    /* ours, going up */
  }
  if (now - k->last >= KEYFRAME_MIN_INTERVAL_US && !k->held) {
    k->last = now;
    g_mutex_unlock (&k->lock);
    return GST_PAD_PROBE_OK;
  }
  k->held = TRUE;
  k->held_count++;
  g_mutex_unlock (&k->lock);
  GST_LOG_OBJECT (pad, "keyframe request held back");
  return GST_PAD_PROBE_DROP;
}

/* On the sink pad of an encoding's tee: it stays while encoders are
 * switched. */
static void
limit_keyframes (GstElement * tee)
{
  GstPad *pad = gst_element_get_static_pad (tee, "sink");
  KeyframeLimit *k = g_new0 (KeyframeLimit, 1);

  g_mutex_init (&k->lock);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, keyframe_limit_probe, k,
      (GDestroyNotify) keyframe_limit_free);
  gst_object_unref (pad);
}

/* A queue that keeps the newest @max_buffers and drops older ones. */
static GstElement *
make_leaky_queue (guint max_buffers)
{
  GstElement *q = gst_element_factory_make ("queue", NULL);

  g_object_set (q, "max-size-buffers", max_buffers, "max-size-bytes", 0,
      "max-size-time", (guint64) 0, NULL);
  gst_util_set_object_arg (G_OBJECT (q), "leaky", "downstream");
  return q;
}

/* A tee whose branches come and go: none may be linked. */
static GstElement *
make_tee (void)
{
  GstElement *tee = gst_element_factory_make ("tee", NULL);

  g_object_set (tee, "allow-not-linked", TRUE, NULL);
  return tee;
}

/* What the linked upstream of @in's pad gives: an encoded codec to pass
 * through, or NONE (raw, or raw too: then we encode; or nothing linked). */
static GstMeshCodec
upstream_codec (MediaIn * in, GstMeshMediaKind kind, gchar profile[7])
{
  GstCaps *filter, *caps;
  GstMeshCodec codec;

  profile[0] = '\0';
  if (!gst_pad_is_linked (in->ghost))
    return GST_MESH_CODEC_NONE;
  filter = gst_caps_from_string (kind == GST_MESH_MEDIA_VIDEO ?
      "video/x-raw(ANY)" : "audio/x-raw(ANY)");
  caps = gst_pad_peer_query_caps (in->ghost, filter);
  gst_caps_unref (filter);
  if (!gst_caps_is_empty (caps)) {
    gst_caps_unref (caps);
    return GST_MESH_CODEC_NONE;
  }
  gst_caps_unref (caps);
  filter = gst_caps_from_string (kind == GST_MESH_MEDIA_VIDEO ?
      ENCODED_VIDEO_CAPS : ENCODED_AUDIO_CAPS);
  caps = gst_pad_peer_query_caps (in->ghost, filter);
  gst_caps_unref (filter);
  codec = gst_mesh_codec_from_caps (caps);
  if (codec == GST_MESH_CODEC_H264)
    gst_mesh_codec_h264_profile_level_id (gst_caps_get_structure (caps, 0),
        profile);
  gst_caps_unref (caps);
  return codec;
}

gboolean
gst_mesh_input_refresh (GstMeshSignal * self, GstMeshMediaKind kind,
    GError ** error)
{
  MediaIn *in = &self->in[kind];
  gchar profile[7];
  GstMeshCodec codec;
  GstElement *pass;

  if (!in->ghost)
    return TRUE;
  in->decided = TRUE;
  codec = upstream_codec (in, kind, profile);
  if (codec == GST_MESH_CODEC_NONE) {
    if (in->passthrough) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
          "%s_sink was set up for %s input, and now gets raw media: "
          "release the pad and request a new one",
          gst_mesh_media_kind_name (kind),
          gst_mesh_codec_encoding_name (in->codec));
      return FALSE;
    }
    return TRUE;
  }
  memcpy (in->h264_profile, profile, sizeof (profile));
  if (in->passthrough && in->codec == codec)
    return TRUE;
  if (!(pass = gst_mesh_codec_make_passthrough (codec, error)))
    return FALSE;
  gst_mesh_input_drop_encoder (self, in);
  if (!in->passthrough) {
    /* the raw chain goes: nothing here decodes */
    gst_element_unlink (in->queue, in->convert2);
    gst_mesh_signal_remove_child (self, in->convert2);
    gst_mesh_signal_remove_child (self, in->raw_tee);
    gst_mesh_signal_remove_child (self, in->scaler);
    gst_mesh_signal_remove_child (self, in->convert);
    in->convert2 = in->raw_tee = in->scaler = in->convert = NULL;
    in->steps.filter = NULL;
  }
  if (!place_encoder (self, in, in->queue, pass, codec, "parser", error))
    return FALSE;
  in->passthrough = TRUE;
  GST_INFO_OBJECT (self, "%s_sink takes %s as it is: no encoder%s%s",
      gst_mesh_media_kind_name (kind), gst_mesh_codec_encoding_name (codec),
      profile[0] ? ", profile-level-id " : "", profile);
  return TRUE;
}

/* a ghost pad's own query function (it proxies to the target) */
static GstPadQueryFunction ghost_query;

/* Until the element is set up (NULL→READY), the pad takes raw and encoded
 * media alike: its chain is made for raw media, and would refuse the link
 * of an encoder's output. */
static gboolean
input_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstMeshSignal *self = GST_MESH_SIGNAL (parent);

  if (GST_QUERY_TYPE (query) == GST_QUERY_CAPS) {
    for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
      if (self->in[k].ghost == pad && !self->in[k].decided) {
        GstCaps *filter, *templ = gst_pad_get_pad_template_caps (pad);

        gst_query_parse_caps (query, &filter);
        if (filter) {
          GstCaps *both = gst_caps_intersect_full (filter, templ,
              GST_CAPS_INTERSECT_FIRST);
          gst_caps_unref (templ);
          templ = both;
        }
        gst_query_set_caps_result (query, templ);
        gst_caps_unref (templ);
        return TRUE;
      }
    }
  }
  return ghost_query (pad, parent, query);
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

  codec = kind == GST_MESH_MEDIA_VIDEO ?
      gst_mesh_signal_first_video_codec (self) : GST_MESH_CODEC_OPUS;

  /* a live source must never wait for the encoder: drop old frames */
  in->queue = make_leaky_queue (3);
  in->tee = make_tee ();
  gst_bin_add_many (GST_BIN (self), in->queue, in->tee, NULL);
  gst_object_ref (in->queue);
  gst_object_ref (in->tee);

  if (kind == GST_MESH_MEDIA_VIDEO) {
    /* videoconvert ! tee ! videoscale ! capsfilter: the filter takes
     * anything until congestion control asks for a smaller picture; the
     * raw tee feeds the low encoding too, when there is one */
    in->convert2 = gst_element_factory_make ("videoconvert", NULL);
    in->raw_tee = make_tee ();
    in->scaler = gst_element_factory_make ("videoscale", NULL);
    in->convert = gst_element_factory_make ("capsfilter", NULL);
    gst_bin_add_many (GST_BIN (self), gst_object_ref (in->convert2),
        gst_object_ref (in->raw_tee), gst_object_ref (in->scaler),
        gst_object_ref (in->convert), NULL);
    gst_element_link_many (in->queue, in->convert2, in->raw_tee, in->scaler,
        in->convert, NULL);
    in->steps.filter = in->convert;
    count_frames (&in->steps, in->tee);
    limit_keyframes (in->tee);
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
  ghost_query = GST_PAD_QUERYFUNC (ghost);
  gst_pad_set_query_function (ghost, GST_DEBUG_FUNCPTR (input_query));
  in->ghost = ghost;
  /* linked while the element is in NULL (gst-launch): decided at READY */
  in->decided = GST_STATE (self) > GST_STATE_NULL;
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (GST_ELEMENT (self), ghost);

  gst_element_sync_state_with_parent (in->tee);
  if (in->encoder)
    gst_element_sync_state_with_parent (in->encoder);
  gst_element_sync_state_with_parent (in->convert);
  if (in->scaler)
    gst_element_sync_state_with_parent (in->scaler);
  if (in->raw_tee)
    gst_element_sync_state_with_parent (in->raw_tee);
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

/* Steps @ps's picture for @kbps; @which names the encoding. */
static void
adapt_picture (GstMeshSignal * self, PictureSteps * ps, guint kbps,
    const gchar * which)
{
  MediaIn *in = &self->in[GST_MESH_MEDIA_VIDEO];
  GstPad *pad;
  GstCaps *caps;
  GstVideoInfo info;
  guint step;
  gint64 now = g_get_monotonic_time ();
  gdouble fps;

  if (!in->scaler || !in->queue || !ps->filter)
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

  step = ps->step;
  while (step + 1 < G_N_ELEMENTS (scale_steps) &&
      bits_per_pixel (kbps, info.width, info.height, fps,
          scale_steps[step]) < STEP_DOWN_BPP)
    step++;
  /* the encoder drops frames to keep to the rate: the picture is too big
   * for it, whatever the rule of thumb says (hard content) */
  if (step == ps->step && ps->kept < KEPT_LOW &&
      step + 1 < G_N_ELEMENTS (scale_steps)) {
    step++;
    ps->failed_kbps = kbps;
  }
  if (step == ps->step)
    while (step > 0 && bits_per_pixel (kbps, info.width, info.height, fps,
            scale_steps[step - 1]) >= STEP_UP_BPP &&
        ps->kept >= KEPT_HIGH &&
        (!ps->failed_kbps || kbps >= ps->failed_kbps * 13 / 10))
      step--;
  if (step == ps->step ||
      now - ps->step_changed < (step > ps->step ? STEP_DOWN_WAIT_US :
          STEP_UP_WAIT_US))
    return;

  {
    gint w = ((gint) (info.width * scale_steps[step])) & ~1;
    gint h = ((gint) (info.height * scale_steps[step])) & ~1;
    GstCaps *filter = step == 0 ? gst_caps_new_empty_simple ("video/x-raw") :
        gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, w,
        "height", G_TYPE_INT, h, NULL);
    GstStructure *s;

    GST_INFO_OBJECT (self, "%s video at %u kbit/s: %dx%d (%s; the encoder "
        "kept %.0f %% of the frames)", which, kbps, w, h,
        step > ps->step ? "smaller" : "larger", 100 * ps->kept);
    if (step == 0)
      ps->failed_kbps = 0;
    ps->step = step;
    ps->step_changed = now;
    g_object_set (ps->filter, "caps", filter, NULL);
    gst_caps_unref (filter);
    s = gst_structure_new ("mesh-video-quality",
        "encoding", G_TYPE_STRING, which,
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

  /* what comes encoded cannot be made another codec here */
  if (!in->encoder || in->passthrough)
    return FALSE;
  /* the low encoding makes the old codec: its peers come back, and a new
   * one is made with the new codec if still needed */
  if (kind == GST_MESH_MEDIA_VIDEO && in->low.encoder) {
    leave_low (self);
    gst_mesh_input_drop_low (self);
  }
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


/* ------------------------------------------------------------------------ */
/* The low encoding                                                         */

/* A peer whose video rate is under LOW_ENTER of the best peer's takes the
 * low encoding; it comes back to the main one over LOW_LEAVE. The main
 * encoding then follows the slowest of the fast, the low one the slowest
 * of the slow: one member behind a narrow link neither holds the others
 * down nor is starved by them. A peer on the low encoding climbs back as
 * far as the low encoding's rate lets its estimate grow (1.5 times what
 * arrives), so its slowest member sets the pace for all on it. */
#define LOW_ENTER 0.5
#define LOW_LEAVE 0.65
/* a low encoding nobody took for this long is dropped */
#define LOW_UNUSED_US (10 * G_USEC_PER_SEC)

static gboolean
build_low (GstMeshSignal * self, guint kbps, GError ** error)
{
  MediaIn *in = &self->in[GST_MESH_MEDIA_VIDEO];
  LowEncoding *low = &in->low;
  GstElement *filter;
  GstPad *sink;

  {
    gchar *factory = video_encoder_for (self, in->encoder_codec);

    low->encoder = gst_mesh_codec_make_encoder (in->encoder_codec, factory,
        kbps, error);
    g_free (factory);
  }
  if (!low->encoder)
    return FALSE;
  gst_mesh_signal_encoder_setup (self, "video-low", low->encoder);
  /* the main one has the codec's name: names are unique in a bin */
  {
    gchar *name = g_strdup_printf ("%s-low", GST_OBJECT_NAME (low->encoder));
    gst_object_set_name (GST_OBJECT (low->encoder), name);
    g_free (name);
  }
  /* never holds the main encoding up: one frame, the newest */
  low->queue = make_leaky_queue (1);
  low->scaler = gst_element_factory_make ("videoscale", NULL);
  filter = gst_element_factory_make ("capsfilter", NULL);
  low->tee = make_tee ();
  gst_bin_add_many (GST_BIN (self), gst_object_ref (low->queue),
      gst_object_ref (low->scaler), gst_object_ref (filter),
      gst_object_ref (low->encoder), gst_object_ref (low->tee), NULL);
  gst_element_link_many (low->queue, low->scaler, filter, low->encoder,
      low->tee, NULL);
  memset (&low->steps, 0, sizeof (low->steps));
  low->steps.filter = filter;
  count_frames (&low->steps, low->tee);
  limit_keyframes (low->tee);
  low->codec = in->encoder_codec;
  low->kbps = kbps;
  low->unused_since = 0;
  /* its size before its first frame */
  adapt_picture (self, &low->steps, kbps, "low");

  gst_element_sync_state_with_parent (low->tee);
  gst_element_sync_state_with_parent (low->encoder);
  gst_element_sync_state_with_parent (filter);
  gst_element_sync_state_with_parent (low->scaler);
  gst_element_sync_state_with_parent (low->queue);
  sink = gst_element_get_static_pad (low->queue, "sink");
  low->raw_pad = gst_mesh_request_tee_pad_idle (in->raw_tee, sink);
  gst_object_unref (sink);
  GST_INFO_OBJECT (self, "a low %s encoding at %u kbit/s",
      gst_mesh_codec_encoding_name (low->codec), kbps);
  return TRUE;
}

void
gst_mesh_input_drop_low (GstMeshSignal * self)
{
  MediaIn *in = &self->in[GST_MESH_MEDIA_VIDEO];
  LowEncoding *low = &in->low;

  if (low->raw_pad) {
    if (in->raw_tee)
      gst_element_release_request_pad (in->raw_tee, low->raw_pad);
    gst_clear_object (&low->raw_pad);
  }
  if (!low->encoder)
    return;
  GST_INFO_OBJECT (self, "dropping the low encoding");
  gst_mesh_signal_remove_child (self, low->queue);
  gst_mesh_signal_remove_child (self, low->scaler);
  gst_mesh_signal_remove_child (self, low->steps.filter);
  gst_mesh_signal_remove_child (self, low->encoder);
  gst_mesh_signal_remove_child (self, low->tee);
  memset (low, 0, sizeof (*low));
}

/* Back to the main encoding, all of them (before the low one goes). */
static void
leave_low (GstMeshSignal * self)
{
  MediaIn *in = &self->in[GST_MESH_MEDIA_VIDEO];
  GHashTableIter it;
  gpointer peer;

  g_hash_table_iter_init (&it, self->low_peers);
  while (g_hash_table_iter_next (&it, &peer, NULL))
    gst_mesh_peer_set_video_source (peer, in->tee, in->encoder_codec, "main");
  g_hash_table_remove_all (self->low_peers);
}

void
gst_mesh_input_forget_peer (GstMeshSignal * self, GstMeshPeer * peer)
{
  if (g_hash_table_remove (self->low_peers, peer) &&
      g_hash_table_size (self->low_peers) == 0)
    self->in[GST_MESH_MEDIA_VIDEO].low.unused_since = g_get_monotonic_time ();
}

/* What a peer's transport estimate leaves for video: less audio's own
 * rate and about 16 kbit/s of its headers (50 packets a second), then 5 %
 * for video's headers. (Subtracting instead what the feedback was
 * measured to cover besides video gave video more and did worse on a
 * capped link: 66 % of frames shown at 300 kbit/s against 83 %, and
 * 79 packets dropped at the bottleneck against none, tests/bench/
 * capped-link.mjs, 3 runs.) */
static guint
video_kbps (guint bps, guint audio, guint min, guint max)
{
  gdouble left = (bps / 1000.0 - (audio ? audio + 16 : 0)) * 0.95;

  return (guint) CLAMP (left, min, max);
}

/* Short audio frames while every peer's estimate carries their headers
 * (gst_mesh_codec_set_audio_frame_ms): long ones as soon as one peer's
 * estimate is under AUDIO_LONG_FRAMES_BELOW_KBPS, short ones again when
 * all are over AUDIO_SHORT_FRAMES_OVER_KBPS, so that an estimate near the
 * line does not switch them (and the pipeline's latency) back and forth */
#define AUDIO_LONG_FRAMES_BELOW_KBPS 1000
#define AUDIO_SHORT_FRAMES_OVER_KBPS 1300

static void
update_audio_frames (GstMeshSignal * self)
{
  GstElement *enc = self->in[GST_MESH_MEDIA_AUDIO].encoder;
  guint now = self->audio_frame_ms ? self->audio_frame_ms : 10;
  guint line = now == 10 ? AUDIO_LONG_FRAMES_BELOW_KBPS :
      AUDIO_SHORT_FRAMES_OVER_KBPS;
  GHashTableIter it;
  gpointer target;
  guint ms = 10;

  g_hash_table_iter_init (&it, self->peer_targets);
  while (g_hash_table_iter_next (&it, NULL, &target))
    if (GPOINTER_TO_UINT (target) < line * 1000)
      ms = 20;
  if (!enc || self->in[GST_MESH_MEDIA_AUDIO].passthrough || ms == now)
    return;
  GST_INFO_OBJECT (self, "audio frames of %u ms", ms);
  self->audio_frame_ms = ms;
  gst_mesh_codec_set_audio_frame_ms (enc, ms);
}

void
gst_mesh_input_update_video_rates (GstMeshSignal * self)
{
  MediaIn *in = &self->in[GST_MESH_MEDIA_VIDEO];
  LowEncoding *low = &in->low;
  GHashTableIter it;
  gpointer peer, target;
  guint best = 0, main_kbps = 0, low_kbps = 0, min, max, start, audio;
  gboolean layered;
  GPtrArray *to_low, *to_main;

  GST_OBJECT_LOCK (self);
  min = self->min_bitrate;
  max = MAX (self->max_bitrate, min);
  start = self->start_bitrate ? self->start_bitrate : self->video_bitrate;
  audio = self->in[GST_MESH_MEDIA_AUDIO].encoder ? self->audio_bitrate : 0;
  layered = self->video_encodings > 1;
  GST_OBJECT_UNLOCK (self);
  update_audio_frames (self);
  /* passthrough: the encoder upstream is the application's */
  if (!in->encoder || in->passthrough)
    return;
  layered = layered && in->raw_tee && g_hash_table_size (self->peer_targets) > 1
      && in->codec == in->encoder_codec;

  g_hash_table_iter_init (&it, self->peer_targets);
  while (g_hash_table_iter_next (&it, NULL, &target))
    best = MAX (best, video_kbps (GPOINTER_TO_UINT (target), audio, min, max));

  /* who belongs where */
  to_low = g_ptr_array_new ();
  to_main = g_ptr_array_new ();
  g_hash_table_iter_init (&it, self->peer_targets);
  while (g_hash_table_iter_next (&it, &peer, &target)) {
    guint kbps = video_kbps (GPOINTER_TO_UINT (target), audio, min, max);
    gboolean on_low = g_hash_table_contains (self->low_peers, peer);
    gboolean want_low = layered &&
        kbps < best * (on_low ? LOW_LEAVE : LOW_ENTER);

    if (want_low && !on_low)
      g_ptr_array_add (to_low, peer);
    else if (!want_low && on_low)
      g_ptr_array_add (to_main, peer);
    if (want_low)
      low_kbps = low_kbps ? MIN (low_kbps, kbps) : kbps;
    else
      main_kbps = main_kbps ? MIN (main_kbps, kbps) : kbps;
  }
  if (!main_kbps)
    main_kbps = g_hash_table_size (self->peer_targets) ? best :
        CLAMP (start, min, max);

  if (to_low->len && !low->encoder) {
    GError *error = NULL;

    if (!build_low (self, low_kbps, &error)) {
      GST_WARNING_OBJECT (self, "no low encoding: %s", error->message);
      g_clear_error (&error);
      g_ptr_array_set_size (to_low, 0);
      main_kbps = MIN (main_kbps, low_kbps);
      low_kbps = 0;
    }
  }
  for (guint i = 0; i < to_main->len; i++) {
    peer = g_ptr_array_index (to_main, i);
    g_hash_table_remove (self->low_peers, peer);
    gst_mesh_peer_set_video_source (peer, in->tee, in->encoder_codec, "main");
  }
  for (guint i = 0; i < to_low->len; i++) {
    peer = g_ptr_array_index (to_low, i);
    if (gst_mesh_peer_set_video_source (peer, low->tee, low->codec, "low"))
      g_hash_table_add (self->low_peers, peer);
    else
      main_kbps = MIN (main_kbps, low_kbps);  /* it stays: it sets the pace */
  }
  g_ptr_array_unref (to_low);
  g_ptr_array_unref (to_main);

  if (g_hash_table_size (self->low_peers) == 0) {
    if (low->encoder && !low->unused_since)
      low->unused_since = g_get_monotonic_time ();
  } else {
    low->unused_since = 0;
    if (low_kbps && low_kbps != low->kbps) {
      GST_INFO_OBJECT (self, "low video encoder: %u kbit/s (%u peers on it)",
          low_kbps, g_hash_table_size (self->low_peers));
      low->kbps = low_kbps;
      gst_mesh_codec_set_encoder_bitrate (low->encoder, low_kbps);
      adapt_picture (self, &low->steps, low_kbps, "low");
    }
  }

  if (main_kbps == self->encoder_kbps)
    return;
  GST_INFO_OBJECT (self, "video encoder: %u kbit/s (best peer %u kbit/s, "
      "%u peers, %u on the low encoding)", main_kbps, best,
      g_hash_table_size (self->peer_targets),
      g_hash_table_size (self->low_peers));
  self->encoder_kbps = main_kbps;
  gst_mesh_codec_set_encoder_bitrate (in->encoder, main_kbps);
  adapt_picture (self, &in->steps, main_kbps, "main");
}

/* A second's share of frames the encoder kept, smoothed over about two. */
static void
count_kept (PictureSteps * ps)
{
  gint n_in = g_atomic_int_get (&ps->frames_in);
  gint n_out = g_atomic_int_get (&ps->frames_out);
  gint d_in = n_in - ps->last_in, d_out = n_out - ps->last_out;

  ps->last_in = n_in;
  ps->last_out = n_out;
  if (d_in > 0)
    ps->kept = 0.5 * ps->kept + 0.5 * CLAMP ((gdouble) d_out / d_in, 0, 1);
}

void
gst_mesh_input_video_tick (GstMeshSignal * self)
{
  MediaIn *in = &self->in[GST_MESH_MEDIA_VIDEO];
  LowEncoding *low = &in->low;

  if (!in->scaler)
    return;
  count_kept (&in->steps);
  if (g_hash_table_size (self->peer_targets) > 0 && self->encoder_kbps)
    adapt_picture (self, &in->steps, self->encoder_kbps, "main");
  if (!low->encoder)
    return;
  if (low->unused_since &&
      g_get_monotonic_time () - low->unused_since > LOW_UNUSED_US) {
    gst_mesh_input_drop_low (self);
    return;
  }
  count_kept (&low->steps);
  if (!low->unused_since)
    adapt_picture (self, &low->steps, low->kbps, "low");
}
