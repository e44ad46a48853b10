/* gst-mesh: meshsignal, a bin that makes WebRTC calls over Socket.IO.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-meshsignal
 * @title: meshsignal
 *
 * meshsignal is a WebRTC peer that finds its peer through a Socket.IO
 * signalling server speaking the protocol of the classic "1:1 mesh" demo:
 * `offer`, `answer` and `candidate` events carrying the browser's
 * RTCSessionDescriptionInit and RTCIceCandidateInit JSON, relayed by the
 * server to the other client. It wraps webrtcbin, encodes the raw media
 * given to its sink pads, and gives the decoded media of the remote peer
 * on its source pads.
 *
 * Request only the pads you use: with no `video_src`/`audio_src` the call
 * is send-only, with no `video_sink`/`audio_sink` it is receive-only.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 meshsignal name=m server-url=http://localhost:4000 role=call \
 *     videotestsrc is-live=true ! m.video_sink \
 *     audiotestsrc is-live=true ! m.audio_sink \
 *     m.video_src ! videoconvert ! autovideosink \
 *     m.audio_src ! audioconvert ! autoaudiosink
 * ]| Calls whoever is on the server at http://localhost:4000 (for example the
 * seed's page) and shows the other side.
 * |[
 * gst-launch-1.0 meshsignal name=m server-url=http://localhost:4000 \
 *     v4l2src ! m.video_sink  m.video_src ! videoconvert ! autovideosink
 * ]| Waits for a call (the page's Call button) and answers it.
 *
 * ## Messages
 * Element messages on the bus tell how the call goes:
 * `mesh-signalling` (field `state`: connecting, connected, reconnecting,
 * failed, disconnected; `detail`), `mesh-call` (`state`: calling,
 * connecting, connected, failed, ended; `call-id`, `reason`), and
 * `mesh-first-frame` (`media`, `call-id`, `wallclock` in µs since the Unix
 * epoch, `since-playing` and `since-call-start` in ns). A message from the
 * network that cannot be used is a warning whose details have `event` and
 * `error`; the call goes on.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsignal.h"
#include "gstmeshpeer.h"
#include "gstmeshmedia.h"
#include "gst/mesh/gstmeshprivate.h"
#include "gstmeshoutput.h"

#include <gst/mesh/gstmesh.h>
#include <gst/video/video.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mesh_signal_debug);
#define GST_CAT_DEFAULT mesh_signal_debug

#define DEFAULT_SERVER_URL NULL
/* where a hosted server listens when no server-url says otherwise: the
 * seed's port */
#define HOSTED_SERVER_URL "http://127.0.0.1:4000"
#define DEFAULT_SERVER_PATH "/socket.io/"
#define DEFAULT_ROLE GST_MESH_SIGNAL_ROLE_WAIT
#define DEFAULT_STUN_SERVER NULL
#define DEFAULT_TURN_SERVER NULL
#define DEFAULT_VIDEO_CODEC GST_MESH_VIDEO_CODEC_VP8
#define DEFAULT_VIDEO_BITRATE 1000
#define DEFAULT_AUDIO_BITRATE 48
/* webrtcbin's 200 ms suits streaming; a call wants the picture now, and
 * on a LAN (RTT below 1 ms) NACK still has time for retransmissions. The
 * first frame of a call waits this long too (tests/bench/README.md). */
#define DEFAULT_LATENCY 20
#define DEFAULT_OFFER_INTERVAL 1000
#define DEFAULT_PEER_TIMEOUT 3000
#define MAX_EARLY_CANDIDATES 256
#define DEFAULT_ROOM NULL
#define DEFAULT_MAX_PEERS 8
#define DEFAULT_GRID_WIDTH 640
#define DEFAULT_GRID_HEIGHT 480
/* decoding and scheduling, on top of the jitter buffer's latency */
#define MIXER_EXTRA_LATENCY 30
#define JOIN_TIMEOUT_MS 5000
/* a member we offer to whose connection failed: offered again after this
 * long, doubling up to the maximum, while it stays in the room */
#define REOFFER_DELAY_MS 500
#define REOFFER_DELAY_MAX_MS 8000

typedef struct
{
  GstPad *ghost;
  GstElement *queue;
  GstElement *convert;          /* last raw element before the encoder */
  GstElement *convert2;         /* audio: audioconvert before resample */
  GstElement *encoder;
  GstElement *tee;
  GstMeshCodec codec;           /* what calls should send */
  GstMeshCodec encoder_codec;   /* what the encoder in place makes */
} MediaIn;

struct _GstMeshSignal
{
  GstBin parent;

  /* properties, under the object lock */
  gchar *server_url;
  gchar *server_path;
  GstMeshSignalRole role;
  gchar *stun_server;
  gchar *turn_server;
  GstMeshVideoCodec video_codec;
  guint video_bitrate;
  guint audio_bitrate;
  guint latency;
  guint offer_interval;
  guint peer_timeout;
  gchar *auth;
  gchar *ca_file;
  gboolean tls_insecure;
  gboolean host_server;
  gchar *web_root;
  gchar *client_script;
  gchar *room;
  guint max_peers;
  gint grid_width;
  gint grid_height;
  gboolean peer_pads;

  /* the signalling thread; everything below belongs to it */
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GstMeshSioClient *client;
  GstMeshSignalServer *server;
  gboolean ever_connected;
  GstMeshPeer *peer;
  guint next_call_id;
  GQueue early_candidates;      /* GstMeshSignalMessage* before any offer */
  gboolean codec_fallback_done;
  GSource *recall_source;
  /* rooms */
  gchar *uid;                   /* who we are across reconnections */
  gchar *local_id;              /* our socket id in the room, once joined */
  GHashTable *members;          /* socket id → Member */

  /* media plumbing, changed only with the state lock or before PAUSED */
  MediaIn in[GST_MESH_N_MEDIA];
  GstMeshOutput *out[GST_MESH_N_MEDIA];
  GstPad *out_ghost[GST_MESH_N_MEDIA];

  /* atomics */
  gint call_state;
  gint64 playing_time;
};

enum
{
  PROP_0,
  PROP_SERVER_URL,
  PROP_SERVER_PATH,
  PROP_ROLE,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_VIDEO_CODEC,
  PROP_VIDEO_BITRATE,
  PROP_AUDIO_BITRATE,
  PROP_LATENCY,
  PROP_OFFER_INTERVAL,
  PROP_PEER_TIMEOUT,
  PROP_AUTH,
  PROP_CA_FILE,
  PROP_TLS_INSECURE,
  PROP_HOST_SERVER,
  PROP_WEB_ROOT,
  PROP_CLIENT_SCRIPT,
  PROP_ROOM,
  PROP_MAX_PEERS,
  PROP_GRID_WIDTH,
  PROP_GRID_HEIGHT,
  PROP_PEER_PADS,
  PROP_CALL_STATE,
  PROP_STATS,
};

enum
{
  SIGNAL_PEER_ADDED,
  SIGNAL_PEER_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Someone else in our room. */
typedef struct
{
  gchar *id;                    /* its socket id now */
  gchar *uid;                   /* its stable identity, if it gave one */
  gboolean we_offer;            /* it was there before us: we offer */
  GstMeshPeer *peer;            /* our connection to it, if any */
  GQueue early_candidates;      /* before its offer */
  GSource *reoffer_source;
  guint reoffer_delay;
  gboolean refused;             /* max-peers turned it away: said once */
  gboolean hung_up;             /* it sent hangup: no more offers to it */
} Member;

#define VIDEO_RAW_CAPS "video/x-raw(ANY)"
#define AUDIO_RAW_CAPS "audio/x-raw(ANY)"

static GstStaticPadTemplate video_sink_template =
GST_STATIC_PAD_TEMPLATE ("video_sink", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-raw"));
static GstStaticPadTemplate audio_sink_template =
GST_STATIC_PAD_TEMPLATE ("audio_sink", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("audio/x-raw"));
static GstStaticPadTemplate video_src_template =
GST_STATIC_PAD_TEMPLATE ("video_src", GST_PAD_SRC, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-raw"));
static GstStaticPadTemplate audio_src_template =
GST_STATIC_PAD_TEMPLATE ("audio_src", GST_PAD_SRC, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("audio/x-raw"));
static GstStaticPadTemplate peer_video_template =
GST_STATIC_PAD_TEMPLATE ("peer_video_%s", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("video/x-raw"));
static GstStaticPadTemplate peer_audio_template =
GST_STATIC_PAD_TEMPLATE ("peer_audio_%s", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("audio/x-raw"));

#define gst_mesh_signal_parent_class parent_class
G_DEFINE_TYPE (GstMeshSignal, gst_mesh_signal, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE (meshsignal, "meshsignal", GST_RANK_NONE,
    GST_TYPE_MESH_SIGNAL);

static void start_call (GstMeshSignal * self);
static void room_peer_state (GstMeshSignal * self, GstMeshPeer * peer,
    GstMeshCallState state, const gchar * reason);
static void remove_child (GstMeshSignal * self, GstElement * e);

/* ------------------------------------------------------------------------ */
/* Enums                                                                    */

#define GST_TYPE_MESH_SIGNAL_ROLE (gst_mesh_signal_role_get_type ())
static GType
gst_mesh_signal_role_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MESH_SIGNAL_ROLE_WAIT, "Wait for an offer and answer it", "wait"},
    {GST_MESH_SIGNAL_ROLE_CALL, "Send offers until one is answered", "call"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstMeshSignalRole",
            values));
  return type;
}

#define GST_TYPE_MESH_VIDEO_CODEC (gst_mesh_video_codec_get_type ())
static GType
gst_mesh_video_codec_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MESH_VIDEO_CODEC_VP8, "VP8", "vp8"},
    {GST_MESH_VIDEO_CODEC_H264, "H.264 constrained baseline", "h264"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstMeshVideoCodec",
            values));
  return type;
}

#define GST_TYPE_MESH_CALL_STATE (gst_mesh_call_state_get_type ())
static GType
gst_mesh_call_state_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MESH_CALL_STATE_IDLE, "No call", "idle"},
    {GST_MESH_CALL_STATE_CALLING, "Offer sent, waiting for an answer",
        "calling"},
    {GST_MESH_CALL_STATE_CONNECTING, "Negotiated, connecting", "connecting"},
    {GST_MESH_CALL_STATE_CONNECTED, "Connected", "connected"},
    {GST_MESH_CALL_STATE_FAILED, "The connection failed", "failed"},
    {GST_MESH_CALL_STATE_ENDED, "The call ended", "ended"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstMeshCallState",
            values));
  return type;
}

static const gchar *
enum_nick (GType type, gint value)
{
  GEnumClass *klass = g_type_class_ref (type);
  GEnumValue *v = g_enum_get_value (klass, value);
  const gchar *nick = v ? v->value_nick : "unknown";
  g_type_class_unref (klass);
  return nick;
}

static GstMeshCodec
video_codec_to_codec (GstMeshVideoCodec c)
{
  return c == GST_MESH_VIDEO_CODEC_H264 ? GST_MESH_CODEC_H264 :
      GST_MESH_CODEC_VP8;
}

/* ------------------------------------------------------------------------ */
/* Bus messages                                                             */

static void
post_signalling (GstMeshSignal * self, GstMeshSioClientState state,
    const gchar * detail)
{
  GstStructure *s = gst_structure_new ("mesh-signalling",
      "state", G_TYPE_STRING, gst_mesh_sio_client_state_to_string (state),
      "detail", G_TYPE_STRING, detail ? detail : "",
      "url", G_TYPE_STRING, self->server_url, NULL);

  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static void
post_call_state (GstMeshSignal * self, GstMeshPeer * peer,
    GstMeshCallState state, const gchar * reason)
{
  GstStructure *s = gst_structure_new ("mesh-call",
      "state", G_TYPE_STRING, enum_nick (GST_TYPE_MESH_CALL_STATE, state),
      "call-id", G_TYPE_UINT, gst_mesh_peer_get_id (peer),
      "peer-id", G_TYPE_STRING, gst_mesh_peer_get_remote_id (peer) ?
      gst_mesh_peer_get_remote_id (peer) : "",
      "reason", G_TYPE_STRING, reason ? reason : "",
      "elapsed", G_TYPE_UINT64, (guint64) (g_get_monotonic_time () -
          gst_mesh_peer_get_start_time (peer)) * GST_USECOND, NULL);

  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Someone joined or left our room. */
static void
post_peer (GstMeshSignal * self, const gchar * event, const gchar * id,
    const gchar * uid)
{
  GstStructure *s = gst_structure_new ("mesh-peer",
      "event", G_TYPE_STRING, event,
      "peer-id", G_TYPE_STRING, id,
      "uid", G_TYPE_STRING, uid ? uid : "",
      "room", G_TYPE_STRING, self->room, NULL);

  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* A message from the network was unusable: say what, keep going. */
static void
warn_bad_message (GstMeshSignal * self, const gchar * event,
    const gchar * what)
{
  GST_ELEMENT_WARNING_WITH_DETAILS (self, STREAM, DECODE,
      ("Ignoring a bad '%s' message from the signalling server", event),
      ("%s", what), ("event", G_TYPE_STRING, event, "error", G_TYPE_STRING,
          what, NULL));
}

/* ------------------------------------------------------------------------ */
/* Local media in: raw → convert → encoder → tee                            */

static gboolean
media_in_build_encoder (GstMeshSignal * self, GstMeshMediaKind kind,
    GstMeshCodec codec, GError ** error)
{
  MediaIn *in = &self->in[kind];
  guint bitrate;
  GstElement *enc;

  GST_OBJECT_LOCK (self);
  bitrate = kind == GST_MESH_MEDIA_VIDEO ? self->video_bitrate :
      self->audio_bitrate;
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
  return TRUE;
}

static void
media_in_drop_encoder (GstMeshSignal * self, MediaIn * in)
{
  if (!in->encoder)
    return;
  gst_element_unlink (in->convert, in->encoder);
  gst_element_unlink (in->encoder, in->tee);
  gst_element_set_locked_state (in->encoder, TRUE);
  remove_child (self, in->encoder);
  in->encoder = NULL;
}

static GstPad *
media_in_new (GstMeshSignal * self, GstMeshMediaKind kind,
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
      video_codec_to_codec (self->video_codec) : GST_MESH_CODEC_OPUS;
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

  if (!media_in_build_encoder (self, kind, codec, &error)) {
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
  media_in_drop_encoder (self, in);
  if (!media_in_build_encoder (self, d->kind, d->codec, &error)) {
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
static gboolean
switch_codec_cb (GstMeshPeer * peer, GstMeshMediaKind kind,
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

/* ------------------------------------------------------------------------ */
/* Remote media out: a funnel (1:1) or a grid / mixer (room) → ghost pad  */

static GstMeshOutput *
media_out_build (GstMeshSignal * self, GstMeshMediaKind kind)
{
  GstMeshOutput *out;
  gboolean grid;
  gint width, height;
  guint latency;

  GST_OBJECT_LOCK (self);
  grid = self->room != NULL;
  width = self->grid_width;
  height = self->grid_height;
  /* a decoded frame comes the jitter buffer's latency after its capture
   * time, plus decoding: that is how long the mixer waits for it */
  latency = self->latency + MIXER_EXTRA_LATENCY;
  GST_OBJECT_UNLOCK (self);

  out = gst_mesh_output_new (GST_BIN (self), kind, grid, width, height,
      latency);
  if (!out)
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Cannot build the %s output", gst_mesh_media_kind_name (kind)),
        ("needs %s", grid ? (kind == GST_MESH_MEDIA_VIDEO ?
                "compositor and videotestsrc (gst-plugins-base)" :
                "audiomixer and audiotestsrc (gst-plugins-base)") :
            "funnel (GStreamer core)"));
  return out;
}

static void
media_out_retarget (GstMeshSignal * self, GstMeshMediaKind kind)
{
  GstPad *target = gst_mesh_output_get_src_pad (self->out[kind]);

  gst_ghost_pad_set_target (GST_GHOST_PAD (self->out_ghost[kind]), target);
  gst_object_unref (target);
}

static GstPad *
media_out_new (GstMeshSignal * self, GstMeshMediaKind kind,
    GstPadTemplate * templ)
{
  GstPad *ghost;

  if (self->out[kind]) {
    GST_WARNING_OBJECT (self, "%s_src already requested",
        gst_mesh_media_kind_name (kind));
    return NULL;
  }
  /* The pad exists before any call and outlives each one. */
  if (!(self->out[kind] = media_out_build (self, kind)))
    return NULL;
  ghost = gst_ghost_pad_new_no_target_from_template
      (GST_PAD_TEMPLATE_NAME_TEMPLATE (templ), templ);
  self->out_ghost[kind] = ghost;
  media_out_retarget (self, kind);
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (GST_ELEMENT (self), ghost);
  gst_mesh_output_sync_state (self->out[kind]);
  return ghost;
}

/* The room property may have changed since the pads were requested: a
 * grid for a room, a funnel for a 1:1 call. Before READY only. */
static gboolean
refresh_outputs (GstMeshSignal * self)
{
  gboolean grid;

  GST_OBJECT_LOCK (self);
  grid = self->room != NULL;
  GST_OBJECT_UNLOCK (self);
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
    if (!self->out[k] || gst_mesh_output_is_grid (self->out[k]) == grid)
      continue;
    gst_ghost_pad_set_target (GST_GHOST_PAD (self->out_ghost[k]), NULL);
    gst_mesh_output_free (self->out[k]);
    if (!(self->out[k] = media_out_build (self, k)))
      return FALSE;
    media_out_retarget (self, k);
  }
  return TRUE;
}

static GstPad *
gst_mesh_signal_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstMeshSignal *self = GST_MESH_SIGNAL (element);
  const gchar *t = GST_PAD_TEMPLATE_NAME_TEMPLATE (templ);

  if (!strcmp (t, "video_sink"))
    return media_in_new (self, GST_MESH_MEDIA_VIDEO, templ);
  if (!strcmp (t, "audio_sink"))
    return media_in_new (self, GST_MESH_MEDIA_AUDIO, templ);
  if (!strcmp (t, "video_src"))
    return media_out_new (self, GST_MESH_MEDIA_VIDEO, templ);
  if (!strcmp (t, "audio_src"))
    return media_out_new (self, GST_MESH_MEDIA_AUDIO, templ);
  return NULL;
}

/* Removes @e from the bin unless the bin is already being disposed (then
 * it has dropped its children itself). */
static void
remove_child (GstMeshSignal * self, GstElement * e)
{
  if (!e)
    return;
  if (GST_OBJECT_PARENT (e) == GST_OBJECT (self)) {
    gst_element_set_state (e, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), e);
  }
  gst_object_unref (e);
}

static void
gst_mesh_signal_release_pad (GstElement * element, GstPad * pad)
{
  GstMeshSignal *self = GST_MESH_SIGNAL (element);

  for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
    MediaIn *in = &self->in[k];
    if (in->ghost == pad) {
      gst_element_remove_pad (element, pad);
      remove_child (self, in->queue);
      remove_child (self, in->convert2);
      remove_child (self, in->convert);
      remove_child (self, in->encoder);
      remove_child (self, in->tee);
      memset (in, 0, sizeof (*in));
      in->codec = in->encoder_codec = GST_MESH_CODEC_NONE;
      return;
    }
    if (self->out_ghost[k] == pad) {
      gst_element_remove_pad (element, pad);
      gst_mesh_output_free (self->out[k]);
      self->out[k] = NULL;
      self->out_ghost[k] = NULL;
      return;
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */

static void
peer_send_cb (GstMeshPeer * peer, const gchar * event, JsonArray * args,
    gpointer user_data)
{
  GstMeshSignal *self = user_data;

  if (self->client)
    gst_mesh_sio_client_emit (self->client, event, args);
}

static void
peer_first_frame_cb (GstMeshPeer * peer, GstMeshMediaKind kind,
    gpointer user_data)
{
  GstMeshSignal *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 playing = self->playing_time;
  GstStructure *s = gst_structure_new ("mesh-first-frame",
      "media", G_TYPE_STRING, gst_mesh_media_kind_name (kind),
      "call-id", G_TYPE_UINT, gst_mesh_peer_get_id (peer),
      "wallclock", G_TYPE_INT64, g_get_real_time (),
      "since-playing", G_TYPE_UINT64, playing ? (guint64) (now - playing) *
      GST_USECOND : GST_CLOCK_TIME_NONE,
      "since-call-start", G_TYPE_UINT64, (guint64) (now -
          gst_mesh_peer_get_start_time (peer)) * GST_USECOND, NULL);

  GST_INFO_OBJECT (self, "first decoded %s frame of call %u",
      gst_mesh_media_kind_name (kind), gst_mesh_peer_get_id (peer));
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static gboolean
recall_cb (gpointer user_data)
{
  GstMeshSignal *self = user_data;

  g_source_unref (self->recall_source);
  self->recall_source = NULL;
  if (!self->peer)
    start_call (self);
  return G_SOURCE_REMOVE;
}

static const gchar *
peer_name (GstMeshPeer * peer)
{
  const gchar *id = gst_mesh_peer_get_remote_id (peer);

  return id ? id : GST_OBJECT_NAME (gst_mesh_peer_get_webrtcbin (peer));
}

/* Tears @peer down, tells the application (which may still look at the
 * webrtcbin it is handed: it is out of the bin by then), and posts @state
 * for it unless that is IDLE; takes @peer. The teardown takes none of the
 * element's locks: see gst_mesh_peer_close() for why it cannot wait for a
 * state change of the application's. */
static void
close_peer (GstMeshSignal * self, GstMeshPeer * peer,
    GstMeshCallState state, const gchar * reason)
{
  GstElement *webrtc = gst_object_ref (gst_mesh_peer_get_webrtcbin (peer));

  gst_mesh_peer_close (peer);
  g_signal_emit (self, signals[SIGNAL_PEER_REMOVED], 0, peer_name (peer),
      webrtc);
  gst_object_unref (webrtc);
  if (state != GST_MESH_CALL_STATE_IDLE)
    post_call_state (self, peer, state, reason);
  gst_mesh_peer_unref (peer);
}

/* Ends the 1:1 call; posts @state for it unless that is IDLE. */
static void
end_call (GstMeshSignal * self, GstMeshCallState state, const gchar * reason)
{
  GstMeshPeer *peer = self->peer;

  if (!peer)
    return;
  self->peer = NULL;
  g_atomic_int_set (&self->call_state, GST_MESH_CALL_STATE_IDLE);
  g_object_notify (G_OBJECT (self), "call-state");
  close_peer (self, peer, state, reason);
}

/* Ends the current call for @reason: removed first, then said on the bus,
 * so that whoever hears it finds the bin without it. */
static void
finish_call (GstMeshSignal * self, const gchar * reason)
{
  end_call (self, GST_MESH_CALL_STATE_ENDED, reason);
}

static void
peer_state_cb (GstMeshPeer * peer, GstMeshCallState state,
    const gchar * reason, gpointer user_data)
{
  GstMeshSignal *self = user_data;
  gboolean over = state == GST_MESH_CALL_STATE_ENDED ||
      state == GST_MESH_CALL_STATE_FAILED;

  if (self->members) {
    room_peer_state (self, peer, state, reason);
    return;
  }
  if (peer != self->peer)
    return;
  GST_INFO_OBJECT (self, "call %u: %s (%s)", gst_mesh_peer_get_id (peer),
      enum_nick (GST_TYPE_MESH_CALL_STATE, state), reason);
  /* gone before anyone hears that it ended: an application that reacts
   * to the message finds the bin without the old call */
  if (over)
    end_call (self, state, reason);
  else {
    g_atomic_int_set (&self->call_state, state);
    g_object_notify (G_OBJECT (self), "call-state");
    post_call_state (self, peer, state, reason);
  }

  /* a caller calls again, so the next peer to come finds a call */
  if (over && self->role == GST_MESH_SIGNAL_ROLE_CALL && !self->recall_source) {
    self->recall_source = g_timeout_source_new (100);
    g_source_set_callback (self->recall_source, recall_cb, self, NULL);
    g_source_attach (self->recall_source, self->context);
  }
}

static GstMeshPeer *
new_peer (GstMeshSignal * self, const gchar * remote_id)
{
  GstMeshPeerConfig config = { 0, };
  GstMeshPeer *peer;

  config.bin = GST_BIN (self);
  config.context = self->context;
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
    config.tee[k] = self->in[k].encoder ? self->in[k].tee : NULL;
    config.send_codec[k] = self->in[k].codec;
    config.out[k] = self->out[k] ? gst_mesh_output_get_mixer (self->out[k]) :
        NULL;
  }
  GST_OBJECT_LOCK (self);
  config.latency = self->latency;
  config.stun_server = self->stun_server;
  config.turn_server = self->turn_server;
  config.offer_interval = self->offer_interval;
  config.peer_timeout = self->peer_timeout;
  config.peer_pads = self->peer_pads;
  GST_OBJECT_UNLOCK (self);
  config.send = peer_send_cb;
  config.state_changed = peer_state_cb;
  config.first_frame = peer_first_frame_cb;
  config.switch_codec = switch_codec_cb;
  config.user_data = self;
  peer = gst_mesh_peer_new (&config, ++self->next_call_id, remote_id);
  /* before any negotiation: the application may still set webrtcbin up */
  g_signal_emit (self, signals[SIGNAL_PEER_ADDED], 0, peer_name (peer),
      gst_mesh_peer_get_webrtcbin (peer));
  return peer;
}

static void
start_call (GstMeshSignal * self)
{
  if (self->peer)
    return;
  self->peer = new_peer (self, NULL);
  GST_INFO_OBJECT (self, "call %u: calling", gst_mesh_peer_get_id (self->peer));
  gst_mesh_peer_call (self->peer);
}

static void
handle_offer (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  GstMeshPeer *peer = self->peer;
  guint64 rid = gst_mesh_signal_session_id (msg->sdp_message);
  guint64 rver = gst_mesh_signal_session_version (msg->sdp_message);
  GError *error = NULL;
  GstMeshSignalMessage *c;

  if (peer && !gst_mesh_peer_is_offerer (peer) &&
      gst_mesh_peer_get_remote_session_id (peer) == rid &&
      gst_mesh_peer_get_remote_session_version (peer) == rver) {
    /* the caller did not get our answer yet, or re-sent before it came */
    gst_mesh_peer_resend_answer (peer);
    return;
  }

  if (peer && gst_mesh_peer_awaits_answer (peer)) {
    guint64 ours = gst_mesh_peer_get_local_session_id (peer);
    /* Both sides called at once. Both apply the same rule, so exactly one
     * offer survives: the one with the larger o= session id. */
    if (ours > rid) {
      GST_INFO_OBJECT (self, "offer collision: our session %" G_GUINT64_FORMAT
          " beats %" G_GUINT64_FORMAT ", keeping our offer", ours, rid);
      /* the other side is there now: it may have missed our offer */
      gst_mesh_peer_resend_offer (peer);
      return;
    }
    GST_INFO_OBJECT (self, "offer collision: session %" G_GUINT64_FORMAT
        " beats ours %" G_GUINT64_FORMAT ", answering it", rid, ours);
    finish_call (self, "offer collision: answering the other side's offer");
  } else if (peer) {
    finish_call (self, "replaced by a new offer");
  }

  self->peer = new_peer (self, msg->from);
  GST_INFO_OBJECT (self, "call %u: answering an offer (session %"
      G_GUINT64_FORMAT ")", gst_mesh_peer_get_id (self->peer), rid);
  if (!gst_mesh_peer_answer (self->peer, msg, &error)) {
    warn_bad_message (self, "offer", error->message);
    g_error_free (error);
    end_call (self, GST_MESH_CALL_STATE_IDLE, NULL);
    return;
  }
  /* candidates that came ahead of the offer belong to it */
  while ((c = g_queue_pop_head (&self->early_candidates))) {
    gst_mesh_peer_add_candidate (self->peer, c);
    gst_mesh_signal_message_free (c);
  }
}

static void
handle_answer (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  GstMeshPeer *peer = self->peer;
  GError *error = NULL;

  if (peer && gst_mesh_peer_awaits_answer (peer)) {
    GstMeshCodec refused = gst_mesh_peer_refused_video_codec (peer, msg);

    if (refused != GST_MESH_CODEC_NONE) {
      GstMeshCodec other = refused == GST_MESH_CODEC_VP8 ?
          GST_MESH_CODEC_H264 : GST_MESH_CODEC_VP8;
      /* once: a remote that refuses both takes the call without video */
      if (!self->codec_fallback_done && gst_mesh_codec_can_encode (other)) {
        self->codec_fallback_done = TRUE;
        GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
            ("The remote does not accept %s video, calling again with %s",
                gst_mesh_codec_encoding_name (refused),
                gst_mesh_codec_encoding_name (other)),
            ("call %u: the answer rejects payload type of %s",
                gst_mesh_peer_get_id (peer),
                gst_mesh_codec_encoding_name (refused)));
        /* the old call's branch goes first: it wants the old codec */
        finish_call (self, "the remote refused our video codec");
        switch_codec_cb (NULL, GST_MESH_MEDIA_VIDEO, other, self);
        start_call (self);
        return;
      }
      GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
          ("The remote accepts no video codec we can send"),
          ("call %u: the answer rejects %s", gst_mesh_peer_get_id (peer),
              gst_mesh_codec_encoding_name (refused)));
    }
    if (!gst_mesh_peer_set_answer (peer, msg, &error)) {
      warn_bad_message (self, "answer", error->message);
      g_error_free (error);
    }
    return;
  }
  if (peer && gst_mesh_peer_is_offerer (peer) &&
      gst_mesh_peer_get_remote_session_id (peer) !=
      gst_mesh_signal_session_id (msg->sdp_message)) {
    /* A second answer from a new session: the remote answered one of our
     * re-sent offers with a fresh peer connection and dropped the one we
     * are talking to. Only a new call can reach it now. */
    GST_INFO_OBJECT (self, "a new answer session: the remote started over");
    finish_call (self, "the remote answered again from a new session");
    start_call (self);
    return;
  }
  GST_DEBUG_OBJECT (self, "ignoring an answer nobody waits for");
}

static void
handle_candidate (GstMeshSignalMessage * msg, GstMeshSignal * self)
{
  if (self->peer) {
    gst_mesh_peer_add_candidate (self->peer, msg);
    gst_mesh_signal_message_free (msg);
    return;
  }
  g_queue_push_tail (&self->early_candidates, msg);
  while (self->early_candidates.length > MAX_EARLY_CANDIDATES)
    gst_mesh_signal_message_free (g_queue_pop_head (&self->early_candidates));
}

/* ------------------------------------------------------------------------ */
/* Rooms: a peer connection per member (docs/protocol.md §4)                */

static void
member_free (Member * m)
{
  g_free (m->id);
  g_free (m->uid);
  g_queue_clear_full (&m->early_candidates,
      (GDestroyNotify) gst_mesh_signal_message_free);
  g_free (m);
}

static guint
room_n_peers (GstMeshSignal * self)
{
  GHashTableIter it;
  Member *m;
  guint n = 0;

  g_hash_table_iter_init (&it, self->members);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m))
    n += m->peer != NULL;
  return n;
}

/* call-state for a room: how far the most advanced connection got. */
static void
room_update_call_state (GstMeshSignal * self)
{
  static const GstMeshCallState order[] = { GST_MESH_CALL_STATE_CONNECTED,
    GST_MESH_CALL_STATE_CONNECTING, GST_MESH_CALL_STATE_CALLING
  };
  GstMeshCallState best = GST_MESH_CALL_STATE_IDLE;
  GHashTableIter it;
  Member *m;

  for (guint i = 0; i < G_N_ELEMENTS (order) && best ==
      GST_MESH_CALL_STATE_IDLE; i++) {
    g_hash_table_iter_init (&it, self->members);
    while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m))
      if (m->peer && gst_mesh_peer_get_state (m->peer) == order[i])
        best = order[i];
  }
  if (g_atomic_int_get (&self->call_state) != (gint) best) {
    g_atomic_int_set (&self->call_state, best);
    g_object_notify (G_OBJECT (self), "call-state");
  }
}

static Member *
room_member_for_peer (GstMeshSignal * self, GstMeshPeer * peer)
{
  GHashTableIter it;
  Member *m;

  g_hash_table_iter_init (&it, self->members);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m))
    if (m->peer == peer)
      return m;
  return NULL;
}

static Member *
room_member_for_uid (GstMeshSignal * self, const gchar * uid)
{
  GHashTableIter it;
  Member *m;

  if (!uid)
    return NULL;
  g_hash_table_iter_init (&it, self->members);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m))
    if (!g_strcmp0 (m->uid, uid))
      return m;
  return NULL;
}

/* Closes @m's connection, first out of the bin, then said on the bus. */
static void
room_end_peer (GstMeshSignal * self, Member * m, const gchar * reason)
{
  GstMeshPeer *peer = m->peer;

  gst_mesh_clear_source (&m->reoffer_source);
  if (!peer)
    return;
  m->peer = NULL;
  close_peer (self, peer, GST_MESH_CALL_STATE_ENDED, reason);
  room_update_call_state (self);
}

static gboolean
room_has_space (GstMeshSignal * self, Member * m)
{
  guint max;

  GST_OBJECT_LOCK (self);
  max = self->max_peers;
  GST_OBJECT_UNLOCK (self);
  if (m->peer || room_n_peers (self) < max) {
    m->refused = FALSE;
    return TRUE;
  }
  /* one warning and one hangup per member turned away; a page that
   * missed the hangup (an older one) keeps offering, unanswered */
  if (!m->refused) {
    JsonArray *args = gst_mesh_signal_hangup_args ("busy", m->id);

    GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
        ("Not connecting to room member %s: max-peers (%u) reached", m->id,
            max), ("room '%s'; told it with hangup \"busy\"", self->room));
    gst_mesh_sio_client_emit (self->client, "hangup", args);
    json_array_unref (args);
  } else
    GST_DEBUG_OBJECT (self, "still no space for %s", m->id);
  m->refused = TRUE;
  return FALSE;
}

static void
room_offer (GstMeshSignal * self, Member * m)
{
  if (m->peer || m->hung_up || !room_has_space (self, m))
    return;
  m->peer = new_peer (self, m->id);
  GST_INFO_OBJECT (self, "call %u: offering to %s",
      gst_mesh_peer_get_id (m->peer), m->id);
  gst_mesh_peer_call (m->peer);
  room_update_call_state (self);
}

static gboolean
reoffer_cb (gpointer user_data)
{
  GstMeshSignal *self = user_data;
  GHashTableIter it;
  Member *m;

  /* find whose timer this is: members are few */
  g_hash_table_iter_init (&it, self->members);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m)) {
    if (m->reoffer_source && m->reoffer_source == g_main_current_source ()) {
      g_source_unref (m->reoffer_source);
      m->reoffer_source = NULL;
      if (self->local_id)
        room_offer (self, m);
      break;
    }
  }
  return G_SOURCE_REMOVE;
}

static void
room_peer_state (GstMeshSignal * self, GstMeshPeer * peer,
    GstMeshCallState state, const gchar * reason)
{
  Member *m = room_member_for_peer (self, peer);

  if (!m)
    return;
  GST_INFO_OBJECT (self, "call %u with %s: %s (%s)",
      gst_mesh_peer_get_id (peer), m->id, enum_nick (GST_TYPE_MESH_CALL_STATE,
          state), reason);
  if (state != GST_MESH_CALL_STATE_ENDED && state != GST_MESH_CALL_STATE_FAILED) {
    if (state == GST_MESH_CALL_STATE_CONNECTED)
      m->reoffer_delay = 0;
    post_call_state (self, peer, state, reason);
    room_update_call_state (self);
    return;
  }

  gst_mesh_clear_source (&m->reoffer_source);
  m->peer = NULL;
  close_peer (self, peer, state, reason);
  room_update_call_state (self);

  /* The member is still in the room (no peer-left came): whoever offered
   * to it offers again, after a pause that grows while it keeps failing.
   * The other side waits for that offer. */
  if (m->we_offer) {
    m->reoffer_delay = m->reoffer_delay ? MIN (m->reoffer_delay * 2,
        REOFFER_DELAY_MAX_MS) : REOFFER_DELAY_MS;
    GST_INFO_OBJECT (self, "offering to %s again in %u ms", m->id,
        m->reoffer_delay);
    m->reoffer_source = g_timeout_source_new (m->reoffer_delay);
    g_source_set_callback (m->reoffer_source, reoffer_cb, self, NULL);
    g_source_attach (m->reoffer_source, self->context);
  }
}

/* A member came back under a new socket id (the server restarted, or its
 * signalling reconnected): its connection, if any, carries on. */
static void
room_rekey (GstMeshSignal * self, Member * m, const gchar * new_id)
{
  GST_INFO_OBJECT (self, "member %s (uid %s) is now %s", m->id, m->uid,
      new_id);
  g_hash_table_steal (self->members, m->id);
  g_free (m->id);
  m->id = g_strdup (new_id);
  g_hash_table_insert (self->members, m->id, m);
  if (m->peer) {
    gst_mesh_peer_set_remote_id (m->peer, new_id);
    /* an offer it may have missed goes to the new id */
    gst_mesh_peer_resend_offer (m->peer);
  }
}

/* Finds or makes the member for (@id, @uid). */
static Member *
room_member (GstMeshSignal * self, const gchar * id, const gchar * uid,
    gboolean we_offer, gboolean * is_new)
{
  Member *m = g_hash_table_lookup (self->members, id);

  *is_new = FALSE;
  if (m)
    return m;
  if ((m = room_member_for_uid (self, uid))) {
    room_rekey (self, m, id);
    return m;
  }
  m = g_new0 (Member, 1);
  m->id = g_strdup (id);
  m->uid = g_strdup (uid);
  m->we_offer = we_offer;
  g_queue_init (&m->early_candidates);
  g_hash_table_insert (self->members, m->id, m);
  *is_new = TRUE;
  return m;
}

static void
room_remove_member (GstMeshSignal * self, Member * m, const gchar * reason)
{
  gchar *id = g_strdup (m->id), *uid = g_strdup (m->uid);

  room_end_peer (self, m, reason);
  g_hash_table_remove (self->members, id);
  post_peer (self, "left", id, uid);
  g_free (id);
  g_free (uid);
}

static void
on_join_ack (GstMeshSioClient * client, JsonArray * args,
    const GError * ack_error, gpointer user_data)
{
  GstMeshSignal *self = user_data;
  GstMeshRoomInfo *info;
  GError *error = NULL;

  if (!args) {
    /* lost the connection before the ack: joining again on reconnection */
    GST_INFO_OBJECT (self, "no answer to join: %s", ack_error ?
        ack_error->message : "?");
    return;
  }
  if (!(info = gst_mesh_signal_room_info_parse (args, &error))) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        ("Cannot join room '%s'", self->room), ("%s", error->message));
    g_error_free (error);
    return;
  }
  g_free (self->local_id);
  self->local_id = g_strdup (info->id);
  GST_INFO_OBJECT (self, "joined room '%s' as %s, %u already there",
      info->room, info->id, info->members->len);

  /* The newcomer offers to everyone there (docs/protocol.md §4), except
   * to those it is still connected to from before a reconnection. */
  for (guint i = 0; i < info->members->len; i++) {
    GstMeshRoomMember *rm = g_ptr_array_index (info->members, i);
    gboolean is_new;
    Member *m = room_member (self, rm->id, rm->uid, TRUE, &is_new);

    if (is_new)
      post_peer (self, "joined", m->id, m->uid);
    if (!m->peer && !m->reoffer_source)
      room_offer (self, m);
  }
  gst_mesh_signal_room_info_free (info);
}

static void
room_join (GstMeshSignal * self)
{
  JsonArray *args = gst_mesh_signal_join_args (self->room, self->uid);

  GST_INFO_OBJECT (self, "joining room '%s' (uid %s)", self->room,
      self->uid);
  gst_mesh_sio_client_emit_with_ack (self->client, "join", args,
      JOIN_TIMEOUT_MS, on_join_ack, self, NULL);
  json_array_unref (args);
}

static void
room_handle_member_event (GstMeshSignal * self, const gchar * name,
    JsonArray * args)
{
  GstMeshRoomMember *rm;
  GError *error = NULL;
  Member *m;

  if (!(rm = gst_mesh_signal_room_member_parse (name, args, &error))) {
    warn_bad_message (self, name, error->message);
    g_error_free (error);
    return;
  }
  if (!strcmp (name, "peer-joined")) {
    gboolean is_new;

    /* it offers to us; unless it is one we know, back under a new id */
    m = room_member (self, rm->id, rm->uid, FALSE, &is_new);
    if (is_new)
      post_peer (self, "joined", m->id, m->uid);
  } else if ((m = g_hash_table_lookup (self->members, rm->id))) {
    room_remove_member (self, m, "left the room");
  } else {
    GST_DEBUG_OBJECT (self, "peer-left for %s, who we do not know (any "
        "more)", rm->id);
  }
  gst_mesh_room_member_free (rm);
}

static void
room_handle_offer (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  GError *error = NULL;
  GstMeshSignalMessage *c;
  gboolean is_new;
  Member *m;
  guint64 rid = gst_mesh_signal_session_id (msg->sdp_message);

  m = room_member (self, msg->from, NULL, FALSE, &is_new);
  if (is_new)
    post_peer (self, "joined", m->id, m->uid);

  if (m->peer && !gst_mesh_peer_is_offerer (m->peer) &&
      gst_mesh_peer_get_remote_session_id (m->peer) == rid &&
      gst_mesh_peer_get_remote_session_version (m->peer) ==
      gst_mesh_signal_session_version (msg->sdp_message)) {
    gst_mesh_peer_resend_answer (m->peer);
    return;
  }
  if (m->peer && gst_mesh_peer_awaits_answer (m->peer) &&
      gst_mesh_peer_get_local_session_id (m->peer) > rid) {
    /* both offered (each took the other for the newcomer, e.g. after a
     * reconnection): the larger session id wins on both sides */
    GST_INFO_OBJECT (self, "offer collision with %s: keeping ours", m->id);
    return;
  }
  if (m->peer)
    room_end_peer (self, m, "replaced by a new offer");
  if (!room_has_space (self, m))
    return;
  /* it offered: if this connection fails, it offers again */
  m->we_offer = FALSE;
  m->hung_up = FALSE;
  m->peer = new_peer (self, m->id);
  GST_INFO_OBJECT (self, "call %u: answering %s",
      gst_mesh_peer_get_id (m->peer), m->id);
  if (!gst_mesh_peer_answer (m->peer, msg, &error)) {
    warn_bad_message (self, "offer", error->message);
    g_error_free (error);
    room_end_peer (self, m, "the offer could not be answered");
    return;
  }
  while ((c = g_queue_pop_head (&m->early_candidates))) {
    gst_mesh_peer_add_candidate (m->peer, c);
    gst_mesh_signal_message_free (c);
  }
  room_update_call_state (self);
}

static void
room_handle_answer (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  Member *m = g_hash_table_lookup (self->members, msg->from);
  GError *error = NULL;

  if (!m || !m->peer || !gst_mesh_peer_awaits_answer (m->peer)) {
    GST_DEBUG_OBJECT (self, "ignoring an answer from %s nobody waits for",
        msg->from);
    return;
  }
  /* One encoder serves the whole room: no codec switch for one member. */
  if (gst_mesh_peer_refused_video_codec (m->peer, msg) != GST_MESH_CODEC_NONE)
    GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
        ("Room member %s does not accept our video codec", m->id),
        ("call %u: it gets our audio only", gst_mesh_peer_get_id (m->peer)));
  if (!gst_mesh_peer_set_answer (m->peer, msg, &error)) {
    warn_bad_message (self, "answer", error->message);
    g_error_free (error);
  }
}

static void
room_handle_candidate (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  Member *m = g_hash_table_lookup (self->members, msg->from);

  if (m && m->peer) {
    gst_mesh_peer_add_candidate (m->peer, msg);
    gst_mesh_signal_message_free (msg);
  } else if (m) {
    g_queue_push_tail (&m->early_candidates, msg);
    while (m->early_candidates.length > MAX_EARLY_CANDIDATES)
      gst_mesh_signal_message_free (g_queue_pop_head (&m->early_candidates));
  } else {
    GST_DEBUG_OBJECT (self, "candidate from %s, not in our room", msg->from);
    gst_mesh_signal_message_free (msg);
  }
}

/* The member will not take our call (its max-peers is reached): we stop
 * offering to it until it offers to us. */
static void
room_handle_hangup (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  Member *m = g_hash_table_lookup (self->members, msg->from);
  const gchar *why = msg->reason ? msg->reason : "no reason given";
  gchar *reason;

  if (!m || m->hung_up)
    return;
  reason = g_strdup_printf ("hung up: %s", why);
  GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
      ("Room member %s does not take our call (%s)", m->id, why),
      ("room '%s'; we stop offering to it", self->room));
  m->hung_up = TRUE;
  room_end_peer (self, m, reason);
  g_free (reason);
}

/* Takes @msg. */
static void
room_handle_message (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  if (!msg->from) {
    /* a 1:1 peer's broadcast (the seed's page): not for a room */
    GST_DEBUG_OBJECT (self, "ignoring a %s without \"from\" in a room",
        gst_mesh_signal_kind_to_string (msg->kind));
    gst_mesh_signal_message_free (msg);
    return;
  }
  if (self->local_id && !g_strcmp0 (msg->from, self->local_id)) {
    gst_mesh_signal_message_free (msg);
    return;
  }
  switch (msg->kind) {
    case GST_MESH_SIGNAL_OFFER:
      room_handle_offer (self, msg);
      break;
    case GST_MESH_SIGNAL_ANSWER:
      room_handle_answer (self, msg);
      break;
    case GST_MESH_SIGNAL_CANDIDATE:
      room_handle_candidate (self, msg);
      return;
    case GST_MESH_SIGNAL_HANGUP:
      room_handle_hangup (self, msg);
      break;
  }
  gst_mesh_signal_message_free (msg);
}

static void
room_leave_all (GstMeshSignal * self)
{
  GHashTableIter it;
  Member *m;

  if (!self->members)
    return;
  g_hash_table_iter_init (&it, self->members);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m)) {
    room_end_peer (self, m, "stopped");
    g_hash_table_iter_remove (&it);
  }
  g_clear_pointer (&self->local_id, g_free);
}

static void
on_sio_event (GstMeshSioClient * client, const gchar * name, JsonArray * args,
    gint64 ack_id, GstMeshSignal * self)
{
  GstMeshSignalMessage *msg;
  GError *error = NULL;
  gchar *own_id;

  if (self->members && (!strcmp (name, "peer-joined") ||
          !strcmp (name, "peer-left"))) {
    room_handle_member_event (self, name, args);
    return;
  }
  if (self->members && !strcmp (name, "error")) {
    gchar *text = json_to_string (args && json_array_get_length (args) ?
        json_array_get_element (args, 0) : NULL, FALSE);
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("The signalling server refused a message"), ("%s", text));
    g_free (text);
    return;
  }
  if (strcmp (name, "offer") && strcmp (name, "answer") &&
      strcmp (name, "candidate") && strcmp (name, "hangup")) {
    GST_DEBUG_OBJECT (self, "ignoring event '%s'", name);
    return;
  }
  msg = gst_mesh_signal_message_parse (name, args, &error);
  if (!msg) {
    warn_bad_message (self, name, error->message);
    g_error_free (error);
    return;
  }
  own_id = gst_mesh_sio_client_dup_id (client);
  if (msg->to && own_id && strcmp (msg->to, own_id) != 0) {
    GST_LOG_OBJECT (self, "'%s' for %s, not us", name, msg->to);
    gst_mesh_signal_message_free (msg);
    g_free (own_id);
    return;
  }
  g_free (own_id);

  GST_DEBUG_OBJECT (self, "received %s", name);
  if (self->members) {
    room_handle_message (self, msg);
    return;
  }
  switch (msg->kind) {
    case GST_MESH_SIGNAL_OFFER:
      handle_offer (self, msg);
      break;
    case GST_MESH_SIGNAL_ANSWER:
      handle_answer (self, msg);
      break;
    case GST_MESH_SIGNAL_CANDIDATE:
      handle_candidate (msg, self);
      return;                   /* handle_candidate took it */
    case GST_MESH_SIGNAL_HANGUP:
      /* rooms only: a 1:1 call ends by connection state and RTCP */
      GST_DEBUG_OBJECT (self, "ignoring a hangup outside a room");
      break;
  }
  gst_mesh_signal_message_free (msg);
}

static void
on_sio_state (GstMeshSioClient * client, GstMeshSioClientState state,
    const gchar * detail, GstMeshSignal * self)
{
  post_signalling (self, state, detail);

  switch (state) {
    case GST_MESH_SIO_CLIENT_STATE_CONNECTED:
      self->ever_connected = TRUE;
      GST_INFO_OBJECT (self, "signalling connected: %s", detail);
      if (self->members)
        room_join (self);
      else if (self->role == GST_MESH_SIGNAL_ROLE_CALL && !self->peer)
        start_call (self);
      else if (self->peer)
        /* the server may have restarted and lost what we sent */
        gst_mesh_peer_resend_offer (self->peer);
      break;
    case GST_MESH_SIO_CLIENT_STATE_RECONNECTING:
      if (!self->ever_connected) {
        GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
            ("Cannot connect to the signalling server %s", self->server_url),
            ("%s", detail));
        gst_mesh_sio_client_disconnect (client);
      } else {
        GST_ELEMENT_WARNING (self, RESOURCE, READ,
            ("Lost the signalling server %s, reconnecting", self->server_url),
            ("%s", detail));
        /* the connections go on; we join again under a new id */
        g_clear_pointer (&self->local_id, g_free);
      }
      break;
    case GST_MESH_SIO_CLIENT_STATE_FAILED:
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
          ("The signalling server %s refused us", self->server_url),
          ("%s", detail));
      break;
    default:
      break;
  }
}

/* ------------------------------------------------------------------------ */
/* Statistics                                                               */

/* webrtcbin's get-stats, waited for at most STATS_TIMEOUT_MS: a webrtcbin
 * that is closing may never answer, and this runs in the signalling
 * thread, which must not hang on it. */
#define STATS_TIMEOUT_MS 500

typedef struct
{
  gint ref_count;
  GMutex lock;
  GCond cond;
  gboolean done;
  GstStructure *reply;
} StatsWait;

static void
stats_wait_unref (StatsWait * w)
{
  if (!g_atomic_int_dec_and_test (&w->ref_count))
    return;
  if (w->reply)
    gst_structure_free (w->reply);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w);
}

static void
on_stats_reply (GstPromise * promise, gpointer user_data)
{
  StatsWait *w = user_data;

  g_mutex_lock (&w->lock);
  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED &&
      gst_promise_get_reply (promise))
    w->reply = gst_structure_copy (gst_promise_get_reply (promise));
  w->done = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
}

static GstStructure *
webrtc_stats (GstElement * webrtc)
{
  StatsWait *w = g_new0 (StatsWait, 1);
  gint64 deadline = g_get_monotonic_time () + STATS_TIMEOUT_MS * 1000;
  GstStructure *reply;
  GstPromise *promise;

  w->ref_count = 2;             /* ours, and the promise's */
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  promise = gst_promise_new_with_change_func (on_stats_reply, w,
      (GDestroyNotify) stats_wait_unref);
  g_signal_emit_by_name (webrtc, "get-stats", NULL, promise);
  gst_promise_unref (promise);

  g_mutex_lock (&w->lock);
  while (!w->done && g_cond_wait_until (&w->cond, &w->lock, deadline));
  reply = g_steal_pointer (&w->reply);
  g_mutex_unlock (&w->lock);
  stats_wait_unref (w);
  return reply;
}

static GstStructure *
peer_stats (GstMeshSignal * self, GstMeshPeer * peer, Member * m)
{
  GstStructure *s = gst_structure_new ("application/x-mesh-peer-stats",
      "peer-id", G_TYPE_STRING, peer_name (peer),
      "uid", G_TYPE_STRING, m && m->uid ? m->uid : "",
      "call-id", G_TYPE_UINT, gst_mesh_peer_get_id (peer),
      "state", G_TYPE_STRING, enum_nick (GST_TYPE_MESH_CALL_STATE,
          gst_mesh_peer_get_state (peer)),
      "offerer", G_TYPE_BOOLEAN, gst_mesh_peer_is_offerer (peer),
      "video-frames-decoded", G_TYPE_UINT, gst_mesh_peer_get_decoded (peer,
          GST_MESH_MEDIA_VIDEO),
      "audio-buffers-decoded", G_TYPE_UINT, gst_mesh_peer_get_decoded (peer,
          GST_MESH_MEDIA_AUDIO), NULL);
  GstStructure *webrtc = webrtc_stats (gst_mesh_peer_get_webrtcbin (peer));

  /* webrtcbin's own figures (RTP, RTCP, ICE), as its get-stats gives them */
  if (webrtc) {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, webrtc);
    gst_structure_take_value (s, "webrtc", &v);
  }
  return s;
}

typedef struct
{
  GstMeshSignal *self;
  GstStructure *stats;
} StatsData;

static void
collect_stats (GstMeshSignal * self, gpointer data)
{
  StatsData *d = data;
  GValue peers = G_VALUE_INIT, v = G_VALUE_INIT;

  g_value_init (&peers, GST_TYPE_ARRAY);
  g_value_init (&v, GST_TYPE_STRUCTURE);
  if (self->members) {
    GHashTableIter it;
    Member *m;

    g_hash_table_iter_init (&it, self->members);
    while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m)) {
      if (!m->peer)
        continue;
      g_value_take_boxed (&v, peer_stats (self, m->peer, m));
      gst_value_array_append_value (&peers, &v);
    }
    gst_structure_set (d->stats, "members", G_TYPE_UINT,
        g_hash_table_size (self->members), NULL);
  } else if (self->peer) {
    g_value_take_boxed (&v, peer_stats (self, self->peer, NULL));
    gst_value_array_append_value (&peers, &v);
  }
  g_value_unset (&v);
  gst_structure_set (d->stats, "local-id", G_TYPE_STRING, self->local_id,
      NULL);
  gst_structure_take_value (d->stats, "peers", &peers);
}

/* ------------------------------------------------------------------------ */
/* The signalling thread                                                    */

static gpointer
signalling_thread (gpointer user_data)
{
  GstMeshSignal *self = user_data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

typedef struct
{
  GstMeshSignal *self;
  void (*func) (GstMeshSignal * self, gpointer data);
  gpointer data;
  GMutex lock;
  GCond cond;
  gboolean done;
} SyncCall;

static gboolean
sync_call_run (gpointer user_data)
{
  SyncCall *c = user_data;

  c->func (c->self, c->data);
  g_mutex_lock (&c->lock);
  c->done = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
  return G_SOURCE_REMOVE;
}

/* Runs @func in the signalling thread and waits for it. */
static void
run_sync (GstMeshSignal * self, void (*func) (GstMeshSignal *, gpointer),
    gpointer data)
{
  SyncCall c = { self, func, data, };

  if (g_main_context_is_owner (self->context)) {
    func (self, data);
    return;
  }
  g_mutex_init (&c.lock);
  g_cond_init (&c.cond);
  g_main_context_invoke (self->context, sync_call_run, &c);
  g_mutex_lock (&c.lock);
  while (!c.done)
    g_cond_wait (&c.cond, &c.lock);
  g_mutex_unlock (&c.lock);
  g_mutex_clear (&c.lock);
  g_cond_clear (&c.cond);
}

/* Runs the signalling server in our thread, on the port of @url: one
 * gst-launch-1.0 line and a browser tab then make a call. */
static gboolean
host_server (GstMeshSignal * self, const gchar * url, const gchar * path)
{
  GUri *uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  gint port = uri ? g_uri_get_port (uri) : -1;
  GError *error = NULL;
  gchar *web_root, *client_script;

  if (port <= 0)
    port = uri && !g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") ?
        443 : 80;
  if (uri)
    g_uri_unref (uri);

  GST_OBJECT_LOCK (self);
  web_root = g_strdup (self->web_root);
  client_script = g_strdup (self->client_script);
  GST_OBJECT_UNLOCK (self);

  self->server = gst_mesh_signal_server_new ();
  g_object_set (self->server, "port", (guint) port, "path", path,
      "web-root", web_root, "client-script", client_script, NULL);
  g_free (web_root);
  g_free (client_script);
  if (!gst_mesh_signal_server_start (self->server, &error)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        ("Cannot host the signalling server on port %d", port),
        ("%s", error->message));
    g_error_free (error);
    g_clear_object (&self->server);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "hosting the signalling server on port %d", port);
  return TRUE;
}

static gboolean
start_thread (GstMeshSignal * self)
{
  GError *error = NULL;
  gchar *url, *path, *auth, *ca_file;
  gboolean tls_insecure;

  GST_OBJECT_LOCK (self);
  url = g_strdup (self->server_url);
  if (!url && self->host_server)
    url = g_strdup (HOSTED_SERVER_URL);
  path = g_strdup (self->server_path);
  auth = g_strdup (self->auth);
  ca_file = g_strdup (self->ca_file);
  tls_insecure = self->tls_insecure;
  GST_OBJECT_UNLOCK (self);

  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  g_main_context_push_thread_default (self->context);
  self->client = gst_mesh_sio_client_new (url, &error);
  if (self->client && self->host_server && !host_server (self, url, path))
    g_clear_object (&self->client);
  g_main_context_pop_thread_default (self->context);
  if (!self->client && !error) {
    /* host_server() said why */
    g_main_loop_unref (self->loop);
    g_main_context_unref (self->context);
    self->loop = NULL;
    self->context = NULL;
    g_free (url);
    g_free (path);
    g_free (auth);
    g_free (ca_file);
    return FALSE;
  }
  if (!self->client) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Bad signalling server URL '%s'", url ? url : "(none)"),
        ("%s; set server-url to http://HOST:PORT, https://, ws:// or wss://",
            error->message));
    g_error_free (error);
    g_main_loop_unref (self->loop);
    g_main_context_unref (self->context);
    self->loop = NULL;
    self->context = NULL;
    g_free (url);
    g_free (path);
    g_free (auth);
    g_free (ca_file);
    return FALSE;
  }
  g_object_set (self->client, "path", path, "auth", auth, "ca-file", ca_file,
      "tls-insecure", tls_insecure, NULL);
  g_signal_connect (self->client, "event", G_CALLBACK (on_sio_event), self);
  g_signal_connect (self->client, "state-changed", G_CALLBACK (on_sio_state),
      self);
  self->thread = g_thread_new ("meshsignal", signalling_thread, self);
  g_free (url);
  g_free (path);
  g_free (auth);
  g_free (ca_file);
  return TRUE;
}

static void
connect_in_thread (GstMeshSignal * self, gpointer unused)
{
  self->ever_connected = FALSE;
  self->codec_fallback_done = FALSE;
  if (self->room && !self->members)
    self->members = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
        (GDestroyNotify) member_free);
  gst_mesh_sio_client_connect (self->client);
}

static void
stop_in_thread (GstMeshSignal * self, gpointer unused)
{
  gst_mesh_clear_source (&self->recall_source);
  end_call (self, GST_MESH_CALL_STATE_IDLE, NULL);
  room_leave_all (self);
  g_clear_pointer (&self->members, g_hash_table_unref);
  g_queue_clear_full (&self->early_candidates,
      (GDestroyNotify) gst_mesh_signal_message_free);
  gst_mesh_sio_client_disconnect (self->client);
}

static void
stop_thread (GstMeshSignal * self)
{
  if (!self->thread)
    return;
  g_main_loop_quit (self->loop);
  g_thread_join (self->thread);
  self->thread = NULL;
  g_signal_handlers_disconnect_by_data (self->client, self);
  /* the client's sources belong to the context: drop it with them */
  g_main_context_push_thread_default (self->context);
  g_clear_object (&self->client);
  if (self->server) {
    gst_mesh_signal_server_stop (self->server);
    g_clear_object (&self->server);
  }
  while (g_main_context_iteration (self->context, FALSE));
  g_main_context_pop_thread_default (self->context);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  self->loop = NULL;
  self->context = NULL;
}

/* The codec may have changed since the pad was requested. */
static gboolean
refresh_encoders (GstMeshSignal * self)
{
  MediaIn *in = &self->in[GST_MESH_MEDIA_VIDEO];
  GstMeshCodec want;
  GError *error = NULL;

  if (!in->ghost)
    return TRUE;
  GST_OBJECT_LOCK (self);
  want = video_codec_to_codec (self->video_codec);
  GST_OBJECT_UNLOCK (self);
  if (in->encoder && in->encoder_codec == want)
    return TRUE;
  media_in_drop_encoder (self, in);
  if (!media_in_build_encoder (self, GST_MESH_MEDIA_VIDEO, want, &error)) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Cannot encode %s video", gst_mesh_codec_encoding_name (want)),
        ("%s", error->message));
    g_error_free (error);
    return FALSE;
  }
  return TRUE;
}

static GstStateChangeReturn
gst_mesh_signal_change_state (GstElement * element, GstStateChange transition)
{
  GstMeshSignal *self = GST_MESH_SIGNAL (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!refresh_encoders (self) || !refresh_outputs (self) ||
          !start_thread (self))
        return GST_STATE_CHANGE_FAILURE;
      /* only once the element is sure to come back through READY_TO_NULL,
       * which waits for it: a process that exits while OpenSSL makes the
       * key crashes in OpenSSL's exit handlers */
      gst_mesh_media_prewarm_dtls ();
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      run_sync (self, connect_in_thread, NULL);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      if (!self->playing_time)
        self->playing_time = g_get_monotonic_time ();
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      /* a call is live: there is nothing to preroll */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* Only now: before the children went to READY, a paused sink could
       * hold a decoder's streaming thread, and tearing the call down would
       * wait for that thread while the state change waited for us. */
      run_sync (self, stop_in_thread, NULL);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      stop_thread (self);
      gst_mesh_media_prewarm_dtls_wait ();
      self->playing_time = 0;
      break;
    default:
      break;
  }
  return ret;
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                  */

static GstStructure *
get_stats (GstMeshSignal * self)
{
  StatsData d = { self, gst_structure_new ("application/x-mesh-stats",
        "room", G_TYPE_STRING, NULL, NULL)
  };

  GST_OBJECT_LOCK (self);
  gst_structure_set (d.stats, "room", G_TYPE_STRING, self->room, NULL);
  GST_OBJECT_UNLOCK (self);
  /* the state lock keeps the thread alive while we ask it */
  GST_STATE_LOCK (self);
  if (self->thread)
    run_sync (self, collect_stats, &d);
  GST_STATE_UNLOCK (self);
  return d.stats;
}

static void
gst_mesh_signal_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMeshSignal *self = GST_MESH_SIGNAL (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SERVER_URL:
      g_free (self->server_url);
      self->server_url = g_value_dup_string (value);
      break;
    case PROP_SERVER_PATH:
      g_free (self->server_path);
      self->server_path = g_value_dup_string (value);
      break;
    case PROP_ROLE:
      self->role = g_value_get_enum (value);
      break;
    case PROP_STUN_SERVER:
      g_free (self->stun_server);
      self->stun_server = g_value_dup_string (value);
      break;
    case PROP_TURN_SERVER:
      g_free (self->turn_server);
      self->turn_server = g_value_dup_string (value);
      break;
    case PROP_VIDEO_CODEC:
      self->video_codec = g_value_get_enum (value);
      break;
    case PROP_VIDEO_BITRATE:
      self->video_bitrate = g_value_get_uint (value);
      break;
    case PROP_AUDIO_BITRATE:
      self->audio_bitrate = g_value_get_uint (value);
      break;
    case PROP_LATENCY:
      self->latency = g_value_get_uint (value);
      break;
    case PROP_OFFER_INTERVAL:
      self->offer_interval = g_value_get_uint (value);
      break;
    case PROP_PEER_TIMEOUT:
      self->peer_timeout = g_value_get_uint (value);
      break;
    case PROP_AUTH:
      g_free (self->auth);
      self->auth = g_value_dup_string (value);
      break;
    case PROP_CA_FILE:
      g_free (self->ca_file);
      self->ca_file = g_value_dup_string (value);
      break;
    case PROP_TLS_INSECURE:
      self->tls_insecure = g_value_get_boolean (value);
      break;
    case PROP_HOST_SERVER:
      self->host_server = g_value_get_boolean (value);
      break;
    case PROP_WEB_ROOT:
      g_free (self->web_root);
      self->web_root = g_value_dup_string (value);
      break;
    case PROP_CLIENT_SCRIPT:
      g_free (self->client_script);
      self->client_script = g_value_dup_string (value);
      break;
    case PROP_ROOM:
      g_free (self->room);
      self->room = g_value_dup_string (value);
      /* "" is no room, as NULL: gst-launch-1.0 cannot say NULL */
      if (self->room && !*self->room)
        g_clear_pointer (&self->room, g_free);
      break;
    case PROP_MAX_PEERS:
      self->max_peers = g_value_get_uint (value);
      break;
    case PROP_GRID_WIDTH:
      self->grid_width = g_value_get_int (value);
      break;
    case PROP_GRID_HEIGHT:
      self->grid_height = g_value_get_int (value);
      break;
    case PROP_PEER_PADS:
      self->peer_pads = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_mesh_signal_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstMeshSignal *self = GST_MESH_SIGNAL (object);

  if (prop_id == PROP_STATS) {
    /* asks the signalling thread, which takes the object lock */
    g_value_take_boxed (value, get_stats (self));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SERVER_URL:
      g_value_set_string (value, self->server_url);
      break;
    case PROP_SERVER_PATH:
      g_value_set_string (value, self->server_path);
      break;
    case PROP_ROLE:
      g_value_set_enum (value, self->role);
      break;
    case PROP_STUN_SERVER:
      g_value_set_string (value, self->stun_server);
      break;
    case PROP_TURN_SERVER:
      g_value_set_string (value, self->turn_server);
      break;
    case PROP_VIDEO_CODEC:
      g_value_set_enum (value, self->video_codec);
      break;
    case PROP_VIDEO_BITRATE:
      g_value_set_uint (value, self->video_bitrate);
      break;
    case PROP_AUDIO_BITRATE:
      g_value_set_uint (value, self->audio_bitrate);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency);
      break;
    case PROP_OFFER_INTERVAL:
      g_value_set_uint (value, self->offer_interval);
      break;
    case PROP_PEER_TIMEOUT:
      g_value_set_uint (value, self->peer_timeout);
      break;
    case PROP_AUTH:
      g_value_set_string (value, self->auth);
      break;
    case PROP_CA_FILE:
      g_value_set_string (value, self->ca_file);
      break;
    case PROP_TLS_INSECURE:
      g_value_set_boolean (value, self->tls_insecure);
      break;
    case PROP_HOST_SERVER:
      g_value_set_boolean (value, self->host_server);
      break;
    case PROP_WEB_ROOT:
      g_value_set_string (value, self->web_root);
      break;
    case PROP_CLIENT_SCRIPT:
      g_value_set_string (value, self->client_script);
      break;
    case PROP_ROOM:
      g_value_set_string (value, self->room);
      break;
    case PROP_MAX_PEERS:
      g_value_set_uint (value, self->max_peers);
      break;
    case PROP_GRID_WIDTH:
      g_value_set_int (value, self->grid_width);
      break;
    case PROP_GRID_HEIGHT:
      g_value_set_int (value, self->grid_height);
      break;
    case PROP_PEER_PADS:
      g_value_set_boolean (value, self->peer_pads);
      break;
    case PROP_CALL_STATE:
      g_value_set_enum (value, g_atomic_int_get (&self->call_state));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_mesh_signal_finalize (GObject * object)
{
  GstMeshSignal *self = GST_MESH_SIGNAL (object);

  g_free (self->server_url);
  g_free (self->server_path);
  g_free (self->stun_server);
  g_free (self->turn_server);
  g_free (self->auth);
  g_free (self->ca_file);
  g_free (self->web_root);
  g_free (self->client_script);
  g_free (self->room);
  g_free (self->uid);
  gst_mesh_media_prewarm_dtls_wait ();
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_mesh_signal_init (GstMeshSignal * self)
{
  self->server_url = g_strdup (DEFAULT_SERVER_URL);
  self->server_path = g_strdup (DEFAULT_SERVER_PATH);
  self->role = DEFAULT_ROLE;
  self->video_codec = DEFAULT_VIDEO_CODEC;
  self->video_bitrate = DEFAULT_VIDEO_BITRATE;
  self->audio_bitrate = DEFAULT_AUDIO_BITRATE;
  self->latency = DEFAULT_LATENCY;
  self->offer_interval = DEFAULT_OFFER_INTERVAL;
  self->peer_timeout = DEFAULT_PEER_TIMEOUT;
  self->room = DEFAULT_ROOM;
  self->max_peers = DEFAULT_MAX_PEERS;
  self->grid_width = DEFAULT_GRID_WIDTH;
  self->grid_height = DEFAULT_GRID_HEIGHT;
  /* the same for this element's whole life, across reconnections */
  self->uid = g_uuid_string_random ();
  g_queue_init (&self->early_candidates);
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++)
    self->in[k].codec = self->in[k].encoder_codec = GST_MESH_CODEC_NONE;
}

static void
gst_mesh_signal_class_init (GstMeshSignalClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  GST_DEBUG_CATEGORY_INIT (mesh_signal_debug, "meshsignal", 0,
      "meshsignal WebRTC call element");

  gobject_class->set_property = gst_mesh_signal_set_property;
  gobject_class->get_property = gst_mesh_signal_get_property;
  gobject_class->finalize = gst_mesh_signal_finalize;

  /**
   * GstMeshSignal:server-url:
   *
   * The Socket.IO signalling server: `http://host:port` as in the browser's
   * `io("http://host:port")`, or https://, ws://, wss://. Checked when the
   * element goes to READY; an unreachable server is an element error.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SERVER_URL,
      g_param_spec_string ("server-url", "Server URL",
          "Socket.IO signalling server (http://, https://, ws:// or wss://)",
          DEFAULT_SERVER_URL, ready));
  /**
   * GstMeshSignal:server-path:
   *
   * The Engine.IO path on the server, socket.io's `path` option.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SERVER_PATH,
      g_param_spec_string ("server-path", "Server path",
          "Engine.IO path on the signalling server", DEFAULT_SERVER_PATH,
          ready));
  /**
   * GstMeshSignal:role:
   *
   * `wait` answers the offers that come; `call` sends an offer, again
   * every #GstMeshSignal:offer-interval until it is answered (so start
   * order does not matter), and calls again when a call ends. Two callers
   * that meet keep the offer with the larger SDP session id.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ROLE,
      g_param_spec_enum ("role", "Role",
          "Whether this peer sends the offer (call) or answers one (wait)",
          GST_TYPE_MESH_SIGNAL_ROLE, DEFAULT_ROLE, ready));
  /**
   * GstMeshSignal:stun-server:
   *
   * STUN server as stun://host:port. None by default: a call on one
   * network needs none, and offline machines cannot reach one.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_STUN_SERVER,
      g_param_spec_string ("stun-server", "STUN server",
          "STUN server of the form stun://host:port (default: none)",
          DEFAULT_STUN_SERVER, ready));
  /**
   * GstMeshSignal:turn-server:
   *
   * TURN server as turn(s)://user:password@host:port.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TURN_SERVER,
      g_param_spec_string ("turn-server", "TURN server",
          "TURN server of the form turn(s)://user:password@host:port",
          DEFAULT_TURN_SERVER, ready));
  /**
   * GstMeshSignal:video-codec:
   *
   * The codec to send video in. When the remote's offer has no format of
   * it, the element warns and sends the other codec if the remote takes
   * it.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_VIDEO_CODEC,
      g_param_spec_enum ("video-codec", "Video codec",
          "Codec to send video in", GST_TYPE_MESH_VIDEO_CODEC,
          DEFAULT_VIDEO_CODEC, ready));
  /**
   * GstMeshSignal:video-bitrate:
   *
   * Video bitrate in kbit/s.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_VIDEO_BITRATE,
      g_param_spec_uint ("video-bitrate", "Video bitrate",
          "Video bitrate in kbit/s", 50, 50000, DEFAULT_VIDEO_BITRATE, ready));
  /**
   * GstMeshSignal:audio-bitrate:
   *
   * Opus bitrate in kbit/s.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_AUDIO_BITRATE,
      g_param_spec_uint ("audio-bitrate", "Audio bitrate",
          "Opus bitrate in kbit/s", 6, 510, DEFAULT_AUDIO_BITRATE, ready));
  /**
   * GstMeshSignal:latency:
   *
   * Jitter buffer length in ms for the remote media. Short by default, as
   * suits a conversation; raise it on lossy or jittery networks.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Jitter buffer length in ms", 0, 10000, DEFAULT_LATENCY, ready));
  /**
   * GstMeshSignal:offer-interval:
   *
   * A calling peer sends its offer again after this many ms while it has
   * no answer (0: send it once).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_OFFER_INTERVAL,
      g_param_spec_uint ("offer-interval", "Offer interval",
          "Re-send an unanswered offer every this many ms (0 = never)", 0,
          600000, DEFAULT_OFFER_INTERVAL, ready));
  /**
   * GstMeshSignal:peer-timeout:
   *
   * A call ends when the connection stays disconnected, or no media comes
   * from a peer that was sending, for this many ms (0: never).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PEER_TIMEOUT,
      g_param_spec_uint ("peer-timeout", "Peer timeout",
          "End the call after this many ms without connection or media "
          "(0 = never)", 0, 600000, DEFAULT_PEER_TIMEOUT, ready));
  /**
   * GstMeshSignal:auth:
   *
   * A JSON object sent as the Socket.IO handshake's auth payload
   * (socket.io-client's `auth` option), e.g. `{"token":"secret"}`.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_AUTH,
      g_param_spec_string ("auth", "Auth",
          "JSON object sent as the Socket.IO auth payload", NULL, ready));
  /**
   * GstMeshSignal:ca-file:
   *
   * A PEM file of CA certificates that https:// and wss:// signalling
   * servers are checked against instead of the system's (a test CA, a
   * private one).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CA_FILE,
      g_param_spec_string ("ca-file", "CA file",
          "PEM file of CA certificates to check the server's TLS "
          "certificate with (default: the system's)", NULL, ready));
  /**
   * GstMeshSignal:tls-insecure:
   *
   * Accept any TLS certificate from the signalling server, self-signed or
   * not matching its name. For tests and trusted networks only: anyone
   * on the path can then read and change the signalling. Media stays
   * DTLS-SRTP encrypted, but its fingerprints travel in the signalling.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TLS_INSECURE,
      g_param_spec_boolean ("tls-insecure", "TLS insecure",
          "Accept the signalling server's TLS certificate without checking "
          "it (self-signed; tests only)", FALSE, ready));
  /**
   * GstMeshSignal:host-server:
   *
   * Run the Socket.IO signalling server inside this element, listening on
   * all addresses at the port of #GstMeshSignal:server-url (4000, the
   * seed's, when that is unset), and connect to it. Browsers and other
   * pipelines then use http://THIS-HOST:PORT as they would the seed's Node
   * server.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_HOST_SERVER,
      g_param_spec_boolean ("host-server", "Host server",
          "Run the signalling server in-process on server-url's port",
          FALSE, ready));
  /**
   * GstMeshSignal:web-root:
   *
   * With #GstMeshSignal:host-server, a directory served as static files
   * (the demo page).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_WEB_ROOT,
      g_param_spec_string ("web-root", "Web root",
          "With host-server: directory of static files to serve (a page)",
          NULL, ready));
  /**
   * GstMeshSignal:client-script:
   *
   * With #GstMeshSignal:host-server, a socket.io client script (npm's
   * socket.io/client-dist/socket.io.js) served at /socket.io/socket.io.js
   * as the Node server does, for pages that load it from there.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CLIENT_SCRIPT,
      g_param_spec_string ("client-script", "Client script",
          "With host-server: socket.io.js to serve at PATH/socket.io.js",
          NULL, ready));
  /**
   * GstMeshSignal:room:
   *
   * A room to join on the signalling server (gst-mesh-server or
   * examples/rooms-server; docs/protocol.md §4): the element then keeps a
   * peer connection to every other member, offering to those already
   * there and answering those who come later, and #GstMeshSignal:role
   * does not apply. `video_src` gives a grid of everyone's video
   * (#GstMeshSignal:grid-width x #GstMeshSignal:grid-height, black before
   * anyone joins) and `audio_src` everyone's audio mixed, both from the
   * start. Unset (the default), the element makes the seed's 1:1 call and
   * its source pads give the one remote's media as decoded.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_ROOM,
      g_param_spec_string ("room", "Room",
          "Room to join for a mesh call with every member (default: none, "
          "the seed's 1:1 call)", DEFAULT_ROOM, ready));
  /**
   * GstMeshSignal:max-peers:
   *
   * In a room, the most peer connections to keep. Members past it get
   * none: each is sent a `hangup` with reason "busy" (docs/protocol.md),
   * and one warning per member says so.
   * Each connection costs a payload copy of the sent media and a decoder
   * for the received.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_MAX_PEERS,
      g_param_spec_uint ("max-peers", "Max peers",
          "In a room: most remote peers to connect to", 1, 64,
          DEFAULT_MAX_PEERS, ready));
  /**
   * GstMeshSignal:grid-width:
   *
   * In a room, the width of the `video_src` picture. Each peer's video is
   * scaled into a cell of the grid, keeping its aspect ratio.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_GRID_WIDTH,
      g_param_spec_int ("grid-width", "Grid width",
          "In a room: width of the video_src grid picture", 16, 7680,
          DEFAULT_GRID_WIDTH, ready));
  /**
   * GstMeshSignal:grid-height:
   *
   * In a room, the height of the `video_src` picture.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_GRID_HEIGHT,
      g_param_spec_int ("grid-height", "Grid height",
          "In a room: height of the video_src grid picture", 16, 4320,
          DEFAULT_GRID_HEIGHT, ready));
  /**
   * GstMeshSignal:peer-pads:
   *
   * Also give each peer's decoded video and audio on pads of their own,
   * `peer_video_ID` and `peer_audio_ID` (ID: the peer's socket id, or in a
   * 1:1 call without one the webrtcbin's name), added when its media
   * starts and removed when it goes. They need not be linked; when they
   * are, put a queue after them: the peer's decoder pushes into them.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_PEER_PADS,
      g_param_spec_boolean ("peer-pads", "Peer pads",
          "Also expose each peer's decoded media on peer_video_%s / "
          "peer_audio_%s sometimes pads", FALSE, ready));
  /**
   * GstMeshSignal:stats:
   *
   * Figures for every peer connection now: an `application/x-mesh-stats`
   * structure with `room`, `local-id` (our socket id in the room),
   * `members` (in a room) and `peers`, an array of
   * `application/x-mesh-peer-stats` structures (`peer-id`, `uid`,
   * `call-id`, `state`, `offerer`, `video-frames-decoded`,
   * `audio-buffers-decoded`, and `webrtc`: what webrtcbin's `get-stats`
   * gives). Do not read it from a streaming thread.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Per-peer figures: state, decoded frames, webrtcbin statistics",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstMeshSignal:call-state:
   *
   * Where the current call is; also posted on the bus as `mesh-call`. In
   * a room: how far the most advanced of the peer connections got.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CALL_STATE,
      g_param_spec_enum ("call-state", "Call state", "State of the call",
          GST_TYPE_MESH_CALL_STATE, GST_MESH_CALL_STATE_IDLE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshSignal::peer-added:
   * @meshsignal: the element
   * @peer_id: the remote's socket id (in a 1:1 call without one, the
   *   webrtcbin's name)
   * @webrtcbin: the peer connection, before any negotiation
   *
   * A peer connection was made, in the element's signalling thread: an
   * application may set webrtcbin up here, or keep it for statistics.
   *
   * Since: 0.2
   */
  signals[SIGNAL_PEER_ADDED] = g_signal_new ("peer-added",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, GST_TYPE_ELEMENT);
  /**
   * GstMeshSignal::peer-removed:
   * @meshsignal: the element
   * @peer_id: as in #GstMeshSignal::peer-added
   * @webrtcbin: the peer connection, stopped and out of the bin
   *
   * A peer connection was torn down (the peer left, failed, hung up, or
   * the element stopped).
   *
   * Since: 0.2
   */
  signals[SIGNAL_PEER_REMOVED] = g_signal_new ("peer-removed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, GST_TYPE_ELEMENT);

  gst_element_class_add_static_pad_template (element_class,
      &video_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &audio_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &video_src_template);
  gst_element_class_add_static_pad_template (element_class,
      &audio_src_template);
  gst_element_class_add_static_pad_template (element_class,
      &peer_video_template);
  gst_element_class_add_static_pad_template (element_class,
      &peer_audio_template);

  gst_element_class_set_static_metadata (element_class,
      "Mesh WebRTC call", "Filter/Network/WebRTC",
      "WebRTC peer with Socket.IO signalling (offer/answer/candidate): "
      "raw media in, the remote peer's decoded media out",
      "gst-mesh developers");

  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_mesh_signal_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_mesh_signal_release_pad);
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_mesh_signal_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_MESH_SIGNAL_ROLE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MESH_VIDEO_CODEC, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MESH_CALL_STATE, 0);
}
