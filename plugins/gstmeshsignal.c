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
 * The sink pads also take media encoded before the element (H.264, VP8,
 * VP9, Opus), which is sent as it is: decided at READY from what the
 * linked upstream gives.
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
 * |[
 * gst-launch-1.0 meshsignal name=m server-url=http://localhost:4000 role=call \
 *     filesrc location=big.bin ! m.data_sink
 * gst-launch-1.0 meshsignal name=m server-url=http://localhost:4000 \
 *     m.data_src ! filesink location=copy.bin
 * ]| Copies a file through a data-only call. `data_sink` sends each buffer
 * as a message to every peer (and waits for one, and while they are
 * behind); `data_src` gives each binary message from any peer as a buffer
 * with a `GstMeshDataMeta` custom meta (`peer-id`). The `send-data` action
 * and the `data-received` signal carry text and bytes for applications.
 * |[
 * gst-launch-1.0 meshsignal name=m server-url=http://localhost:4000 role=call \
 *     rtspsrc location=rtsp://camera/stream ! rtph264depay ! h264parse ! m.video_sink
 * ]| Sends an IP camera's H.264 without decoding it.
 *
 * ## Messages
 * Element messages on the bus tell how the call goes:
 * `mesh-signalling` (field `state`: connecting, connected, reconnecting,
 * failed, disconnected; `detail`), `mesh-call` (`state`: calling,
 * connecting, connected, failed, ended; `call-id`, `reason`), and
 * `mesh-data-channel` (`peer-id`, `state`: open, closed), `mesh-data-text`
 * (`peer-id`, `text`: a text message over the data channel),
 * `mesh-first-frame` (`media`, `call-id`, `wallclock` in µs since the Unix
 * epoch, `since-playing` and `since-call-start` in ns), and `mesh-ice-path`
 * once a call connects: the candidate pair ICE chose (`local-type` and
 * `remote-type`: host, srflx, prflx or relay; `local-address`,
 * `local-port`, `local-protocol`, the same for `remote-`, and
 * `relay-protocol`: udp when the local side is relayed over UDP, empty
 * otherwise, as webrtcbin 1.22 names no other;
 * `call-id`, `peer-id`). The `stats` of a peer carry it as `ice-path`. A message from the
 * network that cannot be used is a warning whose details have `event` and
 * `error`; the call goes on.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsignalprivate.h"
#include "gst/mesh/gstmeshprivate.h"

#include <gst/video/video.h>
#include <string.h>

GST_DEBUG_CATEGORY (mesh_signal_debug);

#define DEFAULT_SERVER_URL NULL
#define DEFAULT_SERVER_PATH "/socket.io/"
#define DEFAULT_ROLE GST_MESH_SIGNAL_ROLE_WAIT
#define DEFAULT_STUN_SERVER NULL
#define DEFAULT_TURN_SERVER NULL
#define DEFAULT_VIDEO_CODEC GST_MESH_VIDEO_CODEC_VP8
#define DEFAULT_VIDEO_BITRATE 1000
#define DEFAULT_AUDIO_BITRATE 48
#define DEFAULT_CONGESTION_CONTROL GST_MESH_CONGESTION_CONTROL_GCC
#define DEFAULT_PLAYOUT_DELAY GST_MESH_PLAYOUT_DELAY_AUTO
#define DEFAULT_VIDEO_DELAY GST_MESH_VIDEO_DELAY_LEAST
#define DEFAULT_MIN_BITRATE 30
#define DEFAULT_MAX_BITRATE 2500
#define DEFAULT_START_BITRATE 0
#define DEFAULT_FEC FALSE
#define DEFAULT_FEC_PERCENTAGE 0
/* webrtcbin's 200 ms suits streaming; a call wants the picture now, and
 * on a LAN (RTT below 1 ms) NACK still has time for retransmissions. The
 * first frame of a call waits this long too (tests/bench/README.md). */
#define DEFAULT_LATENCY 10
/* how far the jitter buffers may grow when packets come late */
#define DEFAULT_MAX_LATENCY 400
#define DEFAULT_VIDEO_ENCODINGS 2
#define DEFAULT_OFFER_INTERVAL 1000
#define DEFAULT_PEER_TIMEOUT 3000
#define DEFAULT_CONNECT_TIMEOUT 15000
#define DEFAULT_ROOM NULL
#define DEFAULT_MAX_PEERS 8
#define DEFAULT_GRID_WIDTH 640
#define DEFAULT_GRID_HEIGHT 480
/* decoding and scheduling, on top of the jitter buffer's latency: a
 * decoder takes 1-2 ms a frame here (tests/bench/glass.c --trace) */
#define MIXER_EXTRA_LATENCY 10

enum
{
  PROP_0,
  PROP_SERVER_URL,
  PROP_SERVER_PATH,
  PROP_ROLE,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_TURN_SERVERS,
  PROP_ICE_TRANSPORT_POLICY,
  PROP_VIDEO_CODEC,
  PROP_VIDEO_CODECS,
  PROP_VIDEO_ENCODER,
  PROP_VIDEO_BITRATE,
  PROP_AUDIO_BITRATE,
  PROP_CONGESTION_CONTROL,
  PROP_MIN_BITRATE,
  PROP_MAX_BITRATE,
  PROP_START_BITRATE,
  PROP_FEC,
  PROP_FEC_PERCENTAGE,
  PROP_LATENCY,
  PROP_MAX_LATENCY,
  PROP_PLAYOUT_DELAY,
  PROP_VIDEO_DELAY,
  PROP_VIDEO_ENCODINGS,
  PROP_OFFER_INTERVAL,
  PROP_PEER_TIMEOUT,
  PROP_CONNECT_TIMEOUT,
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
  PROP_DATA_CHANNEL,
  PROP_CALL_STATE,
  PROP_STATS,
};

enum
{
  SIGNAL_PEER_ADDED,
  SIGNAL_PEER_REMOVED,
  SIGNAL_ENCODER_SETUP,
  SIGNAL_SEND_DATA,
  SIGNAL_DATA_RECEIVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];


#define VIDEO_RAW_CAPS "video/x-raw(ANY)"
#define AUDIO_RAW_CAPS "audio/x-raw(ANY)"

/* raw media is encoded; encoded media is sent as it is */
static GstStaticPadTemplate video_sink_template =
GST_STATIC_PAD_TEMPLATE ("video_sink", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-raw; video/x-h264; video/x-vp8; "
        "video/x-vp9"));
static GstStaticPadTemplate audio_sink_template =
GST_STATIC_PAD_TEMPLATE ("audio_sink", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("audio/x-raw; audio/x-opus"));
static GstStaticPadTemplate video_src_template =
GST_STATIC_PAD_TEMPLATE ("video_src", GST_PAD_SRC, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-raw"));
static GstStaticPadTemplate audio_src_template =
GST_STATIC_PAD_TEMPLATE ("audio_src", GST_PAD_SRC, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("audio/x-raw"));
static GstStaticPadTemplate data_sink_template =
GST_STATIC_PAD_TEMPLATE ("data_sink", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate data_src_template =
GST_STATIC_PAD_TEMPLATE ("data_src", GST_PAD_SRC, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("application/octet-stream"));
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

#define GST_TYPE_MESH_CONGESTION_CONTROL \
  (gst_mesh_congestion_control_get_type ())
static GType
gst_mesh_congestion_control_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MESH_CONGESTION_CONTROL_NONE, "Send at video-bitrate", "none"},
    {GST_MESH_CONGESTION_CONTROL_GCC,
        "Google Congestion Control from transport-wide feedback", "gcc"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstMeshCongestionControl", values));
  return type;
}

#define GST_TYPE_MESH_PLAYOUT_DELAY (gst_mesh_playout_delay_get_type ())
static GType
gst_mesh_playout_delay_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MESH_PLAYOUT_DELAY_RECEIVER, "No playout-delay extension: the "
          "receiver chooses", "receiver"},
    {GST_MESH_PLAYOUT_DELAY_AUTO, "Frames shown at once while the receiver "
          "reports a steady path", "auto"},
    {GST_MESH_PLAYOUT_DELAY_ASAP, "Frames shown at once", "asap"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstMeshPlayoutDelay",
            values));
  return type;
}

#define GST_TYPE_MESH_VIDEO_DELAY (gst_mesh_video_delay_get_type ())
static GType
gst_mesh_video_delay_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MESH_VIDEO_DELAY_LEAST, "Each frame as soon as it can be shown: at "
          "the audio's latency, one that waited for a retransmission when it "
          "comes", "least"},
    {GST_MESH_VIDEO_DELAY_EVEN, "Every frame as late as the longest "
          "retransmission wait", "even"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstMeshVideoDelay",
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
    {GST_MESH_VIDEO_CODEC_VP9, "VP9 profile 0", "vp9"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstMeshVideoCodec",
            values));
  return type;
}

GType
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

const gchar *
gst_mesh_signal_enum_nick (GType type, gint value)
{
  GEnumClass *klass = g_type_class_ref (type);
  GEnumValue *v = g_enum_get_value (klass, value);
  const gchar *nick = v ? v->value_nick : "unknown";
  g_type_class_unref (klass);
  return nick;
}

gboolean
gst_mesh_signal_video_order (GstMeshSignal * self,
    GstMeshCodec order[GST_MESH_MAX_VIDEO_CODECS], guint * n, GError ** error)
{
  gchar **names;
  gboolean ok = TRUE;

  *n = 0;
  GST_OBJECT_LOCK (self);
  if (!self->video_codecs) {
    order[(*n)++] = gst_mesh_signal_video_codec (self->video_codec);
    GST_OBJECT_UNLOCK (self);
    return TRUE;
  }
  names = g_strsplit (self->video_codecs, ",", -1);
  GST_OBJECT_UNLOCK (self);
  for (guint i = 0; names[i] && ok; i++) {
    gchar *name = g_strstrip (names[i]);
    GstMeshCodec c = !g_ascii_strcasecmp (name, "vp8") ? GST_MESH_CODEC_VP8 :
        !g_ascii_strcasecmp (name, "h264") ? GST_MESH_CODEC_H264 :
        !g_ascii_strcasecmp (name, "vp9") ? GST_MESH_CODEC_VP9 :
        GST_MESH_CODEC_NONE;
    gboolean seen = FALSE;

    if (c == GST_MESH_CODEC_NONE) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
          "video-codecs: '%s' is none of vp8, h264, vp9", name);
      ok = FALSE;
      break;
    }
    for (guint j = 0; j < *n; j++)
      seen |= order[j] == c;
    if (!seen && *n < GST_MESH_MAX_VIDEO_CODECS &&
        gst_mesh_codec_can_encode (c))
      order[(*n)++] = c;
  }
  g_strfreev (names);
  return ok;
}

GstMeshCodec
gst_mesh_signal_first_video_codec (GstMeshSignal * self)
{
  GstMeshCodec order[GST_MESH_MAX_VIDEO_CODECS];
  guint n;

  if (!gst_mesh_signal_video_order (self, order, &n, NULL) || n == 0) {
    GstMeshCodec c;

    GST_OBJECT_LOCK (self);
    c = gst_mesh_signal_video_codec (self->video_codec);
    GST_OBJECT_UNLOCK (self);
    return c;
  }
  return order[0];
}

GstMeshCodec
gst_mesh_signal_video_codec (GstMeshVideoCodec c)
{
  switch (c) {
    case GST_MESH_VIDEO_CODEC_H264:
      return GST_MESH_CODEC_H264;
    case GST_MESH_VIDEO_CODEC_VP9:
      return GST_MESH_CODEC_VP9;
    default:
      return GST_MESH_CODEC_VP8;
  }
}

void
gst_mesh_signal_encoder_setup (GstMeshSignal * self, const gchar * encoding,
    GstElement * encoder)
{
  GstElement *e;

  /* an encoder made while the pipeline is built (a pad requested in
   * gst_parse_launch) is said at NULL_TO_READY, when a handler can be
   * connected; each encoder once */
  if (GST_STATE (self) == GST_STATE_NULL &&
      GST_STATE_NEXT (self) == GST_STATE_VOID_PENDING)
    return;
  if (g_object_get_data (G_OBJECT (encoder), "gst-mesh-setup-said"))
    return;
  e = gst_mesh_codec_get_encoder_element (encoder);
  if (!e)
    return;
  g_object_set_data (G_OBJECT (encoder), "gst-mesh-setup-said",
      GINT_TO_POINTER (1));
  GST_INFO_OBJECT (self, "%s encoder: %s", encoding,
      GST_OBJECT_NAME (gst_element_get_factory (e)));
  g_signal_emit (self, signals[SIGNAL_ENCODER_SETUP], 0, encoding, e);
  gst_object_unref (e);
}

void
gst_mesh_signal_data_received (GstMeshSignal * self, const gchar * peer_id,
    GVariant * message)
{
  g_signal_emit (self, signals[SIGNAL_DATA_RECEIVED], 0, peer_id, message);
}

gchar *
gst_mesh_signal_dup_video_encoder (GstMeshSignal * self)
{
  gchar *name;

  GST_OBJECT_LOCK (self);
  name = g_strdup (self->video_encoder);
  GST_OBJECT_UNLOCK (self);
  return name;
}

/* ------------------------------------------------------------------------ */
/* Bus messages                                                             */

void
gst_mesh_signal_post_call_state (GstMeshSignal * self, GstMeshPeer * peer,
    GstMeshCallState state, const gchar * reason)
{
  GstStructure *s = gst_structure_new ("mesh-call",
      "state", G_TYPE_STRING,
      gst_mesh_signal_enum_nick (GST_TYPE_MESH_CALL_STATE, state),
      "call-id", G_TYPE_UINT, gst_mesh_peer_get_id (peer),
      "peer-id", G_TYPE_STRING, gst_mesh_peer_get_remote_id (peer) ?
      gst_mesh_peer_get_remote_id (peer) : "",
      "reason", G_TYPE_STRING, reason ? reason : "",
      "elapsed", G_TYPE_UINT64, (guint64) (g_get_monotonic_time () -
          gst_mesh_peer_get_start_time (peer)) * GST_USECOND, NULL);

  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  /* which way the media goes: host, server-reflexive, relayed */
  if (state == GST_MESH_CALL_STATE_CONNECTED)
    gst_mesh_stats_post_ice_path (self, peer);
}

/* Someone joined or left our room. */
void
gst_mesh_signal_post_peer (GstMeshSignal * self, const gchar * event,
    const gchar * id, const gchar * uid)
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
void
gst_mesh_signal_warn_bad_message (GstMeshSignal * self, const gchar * event,
    const gchar * what)
{
  GST_ELEMENT_WARNING_WITH_DETAILS (self, STREAM, DECODE,
      ("Ignoring a bad '%s' message from the signalling server", event),
      ("%s", what), ("event", G_TYPE_STRING, event, "error", G_TYPE_STRING,
          what, NULL));
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
   * time, plus decoding. The mixer's latency query reaches the jitter
   * buffers through its pads (in a room of two it found the 10 ms
   * upstream, tests/bench/glass.c), so it is told only the second:
   * counting the jitter buffer twice held the grid 10 ms longer */
  latency = MIXER_EXTRA_LATENCY;
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
    return gst_mesh_input_new (self, GST_MESH_MEDIA_VIDEO, templ);
  if (!strcmp (t, "audio_sink"))
    return gst_mesh_input_new (self, GST_MESH_MEDIA_AUDIO, templ);
  if (!strcmp (t, "video_src"))
    return media_out_new (self, GST_MESH_MEDIA_VIDEO, templ);
  if (!strcmp (t, "audio_src"))
    return media_out_new (self, GST_MESH_MEDIA_AUDIO, templ);
  if (!strcmp (t, "data_sink"))
    return gst_mesh_data_new_sink (self, templ);
  if (!strcmp (t, "data_src"))
    return gst_mesh_data_new_src (self, templ);
  return NULL;
}

/* Removes @e from the bin unless the bin is already being disposed (then
 * it has dropped its children itself). */
void
gst_mesh_signal_remove_child (GstMeshSignal * self, GstElement * e)
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

  if (gst_mesh_data_release_pad (self, pad))
    return;
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
    MediaIn *in = &self->in[k];
    if (in->ghost == pad) {
      gst_element_remove_pad (element, pad);
      if (k == GST_MESH_MEDIA_VIDEO)
        gst_mesh_input_drop_low (self);
      gst_mesh_signal_remove_child (self, in->queue);
      gst_mesh_signal_remove_child (self, in->convert2);
      gst_mesh_signal_remove_child (self, in->raw_tee);
      gst_mesh_signal_remove_child (self, in->scaler);
      gst_mesh_signal_remove_child (self, in->convert);
      gst_mesh_signal_remove_child (self, in->encoder);
      gst_mesh_signal_remove_child (self, in->tee);
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
/* Peers: what every call has, whatever the session                         */

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

const gchar *
gst_mesh_signal_peer_name (GstMeshPeer * peer)
{
  const gchar *id = gst_mesh_peer_get_remote_id (peer);

  return id ? id : GST_OBJECT_NAME (gst_mesh_peer_get_webrtcbin (peer));
}

/* Tears @peer down, tells the application (which may still look at the
 * webrtcbin it is handed: it is out of the bin by then), and posts @state
 * for it unless that is IDLE; takes @peer. The teardown takes none of the
 * element's locks: see gst_mesh_peer_close() for why it cannot wait for a
 * state change of the application's. */
void
gst_mesh_signal_close_peer (GstMeshSignal * self, GstMeshPeer * peer,
    GstMeshCallState state, const gchar * reason)
{
  GstElement *webrtc = gst_object_ref (gst_mesh_peer_get_webrtcbin (peer));

  gst_mesh_input_forget_peer (self, peer);
  if (g_hash_table_remove (self->peer_targets, peer))
    gst_mesh_input_update_video_rates (self);
  gst_mesh_peer_close (peer);
  g_signal_emit (self, signals[SIGNAL_PEER_REMOVED], 0,
      gst_mesh_signal_peer_name (peer), webrtc);
  gst_object_unref (webrtc);
  if (state != GST_MESH_CALL_STATE_IDLE)
    gst_mesh_signal_post_call_state (self, peer, state, reason);
  gst_mesh_peer_unref (peer);
}

/* A peer connection changed state: the session says what it means. */
static void
peer_state_cb (GstMeshPeer * peer, GstMeshCallState state,
    const gchar * reason, gpointer user_data)
{
  GstMeshSignal *self = user_data;

  /* a call whose media stopped: the host's address may have changed under
   * the signalling connection too */
  if ((state == GST_MESH_CALL_STATE_ENDED
          || state == GST_MESH_CALL_STATE_FAILED) && self->client)
    gst_mesh_sio_client_check_connection (self->client);
  if (self->session)
    self->session->peer_state (self, peer, state, reason);
}

static void
peer_bitrate_cb (GstMeshPeer * peer, guint bps, gpointer user_data)
{
  GstMeshSignal *self = user_data;

  g_hash_table_insert (self->peer_targets, peer, GUINT_TO_POINTER (bps));
  gst_mesh_input_update_video_rates (self);
}

/* A peer fell silent: if the network changed under us, the signalling
 * connection is broken too, and the sooner it is back, the sooner the
 * session can call again (call_connected, on_join_ack). */
/* How close a reconnection and a silent call must be to say that the
 * network changed under both. */
#define NETWORK_CHANGE_WINDOW_US (5 * G_USEC_PER_SEC)

static void
peer_quiet_cb (GstMeshPeer * peer, gpointer user_data)
{
  GstMeshSignal *self = user_data;

  /* the signalling had to reconnect a moment ago (a reset, the first
   * write after the change, may come before the media is missed) */
  if (self->reconnected_at &&
      self->reconnected_at > gst_mesh_peer_get_start_time (peer) &&
      g_get_monotonic_time () - self->reconnected_at <
      NETWORK_CHANGE_WINDOW_US) {
    if (self->session)
      self->session->path_lost (self, peer);
    return;
  }
  if (self->client)
    gst_mesh_sio_client_check_connection (self->client);
}

static void
peer_gathered_cb (GstMeshPeer * peer, const gchar * const *candidates,
    gpointer user_data)
{
  gst_mesh_ice_gathered (user_data, gst_mesh_peer_get_config (peer),
      candidates);
}

GstMeshPeer *
gst_mesh_signal_new_peer (GstMeshSignal * self, const gchar * remote_id)
{
  GstMeshPeerConfig config = { 0, };
  GstMeshPeer *peer;

  config.bin = GST_BIN (self);
  config.context = self->context;
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
    config.tee[k] = self->in[k].encoder ? self->in[k].tee : NULL;
    if (k == GST_MESH_MEDIA_VIDEO && self->video_refused)
      config.tee[k] = NULL;
    config.send_codec[k] = self->in[k].codec;
    if (k == GST_MESH_MEDIA_VIDEO && self->in[k].passthrough)
      memcpy (config.h264_profile, self->in[k].h264_profile,
          sizeof (config.h264_profile));
    config.out[k] = self->out[k] ? gst_mesh_output_get_mixer (self->out[k]) :
        NULL;
  }
  GST_OBJECT_LOCK (self);
  config.latency = self->latency;
  config.max_latency = self->max_latency;
  config.playout_delay = self->playout_delay;
  config.video_delay = self->video_delay;
  config.offer_interval = self->offer_interval;
  config.peer_timeout = self->peer_timeout;
  config.connect_timeout = self->connect_timeout;
  config.peer_pads = self->peer_pads;
  /* the estimate is of the whole transport: video's bounds plus audio */
  config.congestion_control =
      self->congestion_control == GST_MESH_CONGESTION_CONTROL_GCC;
  {
    guint audio = self->in[GST_MESH_MEDIA_AUDIO].encoder ?
        self->audio_bitrate + 16 : 0;
    guint min = self->min_bitrate, max = MAX (self->max_bitrate, min);
    guint start = self->start_bitrate ? self->start_bitrate :
        self->video_bitrate;

    config.min_bitrate = (min + audio) * 1000;
    config.max_bitrate = (max + audio) * 1000;
    config.start_bitrate = (CLAMP (start, min, max) + audio) * 1000;
  }
  config.fec = self->fec;
  config.fec_percentage = self->fec_percentage;
  GST_OBJECT_UNLOCK (self);
  config.send = peer_send_cb;
  config.state_changed = peer_state_cb;
  config.quiet = peer_quiet_cb;
  config.bitrate_changed = peer_bitrate_cb;
  config.first_frame = peer_first_frame_cb;
  config.gathered = peer_gathered_cb;
  config.switch_codec = gst_mesh_input_switch_codec;
  GST_OBJECT_LOCK (self);
  if (self->video_codecs) {
    GST_OBJECT_UNLOCK (self);
    gst_mesh_signal_video_order (self, config.video_order,
        &config.n_video_order, NULL);
  } else {
    GST_OBJECT_UNLOCK (self);
  }
  gst_mesh_data_fill_config (self, &config);
  config.user_data = self;
  gst_mesh_ice_fill_config (self, &config);
  peer = gst_mesh_peer_new (&config, ++self->next_call_id, remote_id);
  gst_mesh_ice_clear_config (&config);
  /* before any negotiation: the application may still set webrtcbin up */
  g_signal_emit (self, signals[SIGNAL_PEER_ADDED], 0,
      gst_mesh_signal_peer_name (peer), gst_mesh_peer_get_webrtcbin (peer));
  return peer;
}

/* ------------------------------------------------------------------------ */
/* Statistics (gstmeshstats.c makes each peer's)                            */

typedef struct
{
  GstMeshSignal *self;
  GstStructure *stats;
} StatsData;

static void
collect_stats (GstMeshSignal * self, gpointer data)
{
  StatsData *d = data;
  GValue peers = G_VALUE_INIT;

  g_value_init (&peers, GST_TYPE_ARRAY);
  if (self->session)
    self->session->stats (self, d->stats, &peers);
  gst_structure_set (d->stats, "local-id", G_TYPE_STRING, self->local_id,
      NULL);
  gst_structure_take_value (d->stats, "peers", &peers);
  /* what congestion control set the video encoder to (kbit/s) */
  gst_structure_set (d->stats, "video-encoder-bitrate", G_TYPE_UINT,
      self->encoder_kbps, NULL);
  if (self->in[GST_MESH_MEDIA_VIDEO].low.encoder)
    gst_structure_set (d->stats, "low-encoder-bitrate", G_TYPE_UINT,
        self->in[GST_MESH_MEDIA_VIDEO].low.kbps, NULL);
}

/* Whether @encoder is what video-encoder names (or it names none). */
static gboolean
encoder_is_wanted (GstMeshSignal * self, GstElement * encoder)
{
  gchar *wanted = gst_mesh_signal_dup_video_encoder (self);
  GstElement *e = gst_mesh_codec_get_encoder_element (encoder);
  gboolean ok = !wanted || (e &&
      !g_strcmp0 (GST_OBJECT_NAME (gst_element_get_factory (e)), wanted));

  g_free (wanted);
  gst_clear_object (&e);
  return ok;
}

/* The codec or the video-encoder may have changed since the pad was
 * requested. */
static gboolean
refresh_encoders (GstMeshSignal * self)
{
  MediaIn *in = &self->in[GST_MESH_MEDIA_VIDEO];
  GstMeshCodec want;
  GError *error = NULL;

  if (!in->ghost || in->passthrough)
    return TRUE;
  want = gst_mesh_signal_first_video_codec (self);
  if (in->encoder && in->encoder_codec == want &&
      encoder_is_wanted (self, in->encoder))
    return TRUE;
  gst_mesh_input_drop_encoder (self, in);
  if (!gst_mesh_input_build_encoder (self, GST_MESH_MEDIA_VIDEO, want,
          &error)) {
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
    case GST_STATE_CHANGE_NULL_TO_READY:{
      GstMeshCodec order[GST_MESH_MAX_VIDEO_CODECS];
      guint n;
      GError *error = NULL;

      if (!gst_mesh_signal_video_order (self, order, &n, &error)) {
        GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
            ("Bad video-codecs"), ("%s", error->message));
        g_error_free (error);
        return GST_STATE_CHANGE_FAILURE;
      }
      if (n == 0)
        GST_ELEMENT_WARNING (self, CORE, MISSING_PLUGIN,
            ("None of video-codecs can be encoded here"),
            ("video-codecs '%s': using video-codec", self->video_codecs));
    }
      gst_mesh_ice_prepare (self);
      /* encoded input is passed through, raw input encoded */
      for (gint k = 0; k < GST_MESH_N_MEDIA; k++) {
        GError *error = NULL;

        if (!gst_mesh_input_refresh (self, k, &error)) {
          GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
              ("Cannot take the %s input", gst_mesh_media_kind_name (k)),
              ("%s", error->message));
          g_error_free (error);
          return GST_STATE_CHANGE_FAILURE;
        }
      }
      if (!refresh_encoders (self))
        return GST_STATE_CHANGE_FAILURE;
      /* encoders made while the pipeline was built: the application can
       * hear of them now */
      for (gint k = 0; k < GST_MESH_N_MEDIA; k++)
        if (self->in[k].encoder && !self->in[k].passthrough)
          gst_mesh_signal_encoder_setup (self, k == GST_MESH_MEDIA_VIDEO ?
              "video" : "audio", self->in[k].encoder);
      if (!refresh_outputs (self) || !gst_mesh_signaller_start (self))
        return GST_STATE_CHANGE_FAILURE;
      /* only once the element is sure to come back through READY_TO_NULL,
       * which waits for it: a process that exits while OpenSSL makes the
       * key crashes in OpenSSL's exit handlers */
      gst_mesh_media_prewarm_dtls ();
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      gst_mesh_signaller_run_sync (self, gst_mesh_signaller_connect, NULL);
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
      gst_mesh_signaller_run_sync (self, gst_mesh_signaller_disconnect, NULL);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      gst_mesh_signaller_stop (self);
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
    gst_mesh_signaller_run_sync (self, collect_stats, &d);
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
    case PROP_TURN_SERVERS:{
      GStrvBuilder *b = g_strv_builder_new ();

      for (guint i = 0; i < gst_value_array_get_size (value); i++) {
        const GValue *v = gst_value_array_get_value (value, i);
        if (G_VALUE_HOLDS_STRING (v) && g_value_get_string (v))
          g_strv_builder_add (b, g_value_get_string (v));
      }
      g_strfreev (self->turn_servers);
      self->turn_servers = g_strv_builder_end (b);
      g_strv_builder_unref (b);
      break;
    }
    case PROP_ICE_TRANSPORT_POLICY:
      self->ice_transport_policy = g_value_get_enum (value);
      break;
    case PROP_VIDEO_CODEC:
      self->video_codec = g_value_get_enum (value);
      break;
    case PROP_VIDEO_CODECS:
      g_free (self->video_codecs);
      self->video_codecs = g_value_dup_string (value);
      if (self->video_codecs && !*self->video_codecs)
        g_clear_pointer (&self->video_codecs, g_free);
      break;
    case PROP_VIDEO_ENCODER:
      g_free (self->video_encoder);
      self->video_encoder = g_value_dup_string (value);
      break;
    case PROP_VIDEO_BITRATE:
      self->video_bitrate = g_value_get_uint (value);
      break;
    case PROP_AUDIO_BITRATE:
      self->audio_bitrate = g_value_get_uint (value);
      break;
    case PROP_CONGESTION_CONTROL:
      self->congestion_control = g_value_get_enum (value);
      break;
    case PROP_MIN_BITRATE:
      self->min_bitrate = g_value_get_uint (value);
      break;
    case PROP_MAX_BITRATE:
      self->max_bitrate = g_value_get_uint (value);
      break;
    case PROP_FEC:
      self->fec = g_value_get_boolean (value);
      break;
    case PROP_FEC_PERCENTAGE:
      self->fec_percentage = g_value_get_uint (value);
      break;
    case PROP_START_BITRATE:
      self->start_bitrate = g_value_get_uint (value);
      break;
    case PROP_LATENCY:
      self->latency = g_value_get_uint (value);
      break;
    case PROP_VIDEO_ENCODINGS:
      self->video_encodings = g_value_get_uint (value);
      break;
    case PROP_MAX_LATENCY:
      self->max_latency = g_value_get_uint (value);
      break;
    case PROP_PLAYOUT_DELAY:
      self->playout_delay = g_value_get_enum (value);
      break;
    case PROP_VIDEO_DELAY:
      self->video_delay = g_value_get_enum (value);
      break;
    case PROP_OFFER_INTERVAL:
      self->offer_interval = g_value_get_uint (value);
      break;
    case PROP_PEER_TIMEOUT:
      self->peer_timeout = g_value_get_uint (value);
      break;
    case PROP_CONNECT_TIMEOUT:
      self->connect_timeout = g_value_get_uint (value);
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
    case PROP_DATA_CHANNEL:
      self->data_channel = g_value_get_boolean (value);
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
    case PROP_TURN_SERVERS:
      for (guint i = 0; self->turn_servers && self->turn_servers[i]; i++) {
        GValue v = G_VALUE_INIT;

        g_value_init (&v, G_TYPE_STRING);
        g_value_set_string (&v, self->turn_servers[i]);
        gst_value_array_append_and_take_value (value, &v);
      }
      break;
    case PROP_ICE_TRANSPORT_POLICY:
      g_value_set_enum (value, self->ice_transport_policy);
      break;
    case PROP_VIDEO_CODEC:
      g_value_set_enum (value, self->video_codec);
      break;
    case PROP_VIDEO_CODECS:
      g_value_set_string (value, self->video_codecs);
      break;
    case PROP_VIDEO_ENCODER:
      g_value_set_string (value, self->video_encoder);
      break;
    case PROP_VIDEO_BITRATE:
      g_value_set_uint (value, self->video_bitrate);
      break;
    case PROP_AUDIO_BITRATE:
      g_value_set_uint (value, self->audio_bitrate);
      break;
    case PROP_CONGESTION_CONTROL:
      g_value_set_enum (value, self->congestion_control);
      break;
    case PROP_MIN_BITRATE:
      g_value_set_uint (value, self->min_bitrate);
      break;
    case PROP_MAX_BITRATE:
      g_value_set_uint (value, self->max_bitrate);
      break;
    case PROP_FEC:
      g_value_set_boolean (value, self->fec);
      break;
    case PROP_FEC_PERCENTAGE:
      g_value_set_uint (value, self->fec_percentage);
      break;
    case PROP_START_BITRATE:
      g_value_set_uint (value, self->start_bitrate);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency);
      break;
    case PROP_VIDEO_ENCODINGS:
      g_value_set_uint (value, self->video_encodings);
      break;
    case PROP_MAX_LATENCY:
      g_value_set_uint (value, self->max_latency);
      break;
    case PROP_PLAYOUT_DELAY:
      g_value_set_enum (value, self->playout_delay);
      break;
    case PROP_VIDEO_DELAY:
      g_value_set_enum (value, self->video_delay);
      break;
    case PROP_OFFER_INTERVAL:
      g_value_set_uint (value, self->offer_interval);
      break;
    case PROP_PEER_TIMEOUT:
      g_value_set_uint (value, self->peer_timeout);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, self->connect_timeout);
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
    case PROP_DATA_CHANNEL:
      g_value_set_boolean (value, self->data_channel);
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

  g_hash_table_unref (self->peer_targets);
  g_hash_table_unref (self->low_peers);
  g_free (self->server_url);
  g_free (self->server_path);
  g_free (self->stun_server);
  g_free (self->turn_server);
  g_strfreev (self->turn_servers);
  g_free (self->ice_stun);
  g_free (self->ice_provided_stun);
  g_clear_pointer (&self->ice_turn, g_ptr_array_unref);
  g_clear_pointer (&self->ice_provided, g_ptr_array_unref);
  g_hash_table_unref (self->ice_warned);
  g_clear_object (&self->ice_probes);
  g_free (self->auth);
  g_free (self->ca_file);
  g_free (self->web_root);
  g_free (self->client_script);
  g_free (self->room);
  g_free (self->uid);
  g_free (self->video_codecs);
  gst_mesh_data_finalize (self);
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
  self->congestion_control = DEFAULT_CONGESTION_CONTROL;
  self->min_bitrate = DEFAULT_MIN_BITRATE;
  self->max_bitrate = DEFAULT_MAX_BITRATE;
  self->start_bitrate = DEFAULT_START_BITRATE;
  self->fec = DEFAULT_FEC;
  gst_mesh_output_overlap_deadline (GST_ELEMENT (self));
  self->fec_percentage = DEFAULT_FEC_PERCENTAGE;
  self->latency = DEFAULT_LATENCY;
  self->max_latency = DEFAULT_MAX_LATENCY;
  self->playout_delay = DEFAULT_PLAYOUT_DELAY;
  self->video_delay = DEFAULT_VIDEO_DELAY;
  self->video_encodings = DEFAULT_VIDEO_ENCODINGS;
  self->offer_interval = DEFAULT_OFFER_INTERVAL;
  self->peer_timeout = DEFAULT_PEER_TIMEOUT;
  self->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
  self->room = DEFAULT_ROOM;
  self->max_peers = DEFAULT_MAX_PEERS;
  self->grid_width = DEFAULT_GRID_WIDTH;
  self->grid_height = DEFAULT_GRID_HEIGHT;
  /* the same for this element's whole life, across reconnections */
  self->uid = g_uuid_string_random ();
  g_queue_init (&self->early_candidates);
  self->peer_targets = g_hash_table_new (NULL, NULL);
  self->low_peers = g_hash_table_new (NULL, NULL);
  self->ice_warned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  for (gint k = 0; k < GST_MESH_N_MEDIA; k++)
    self->in[k].codec = self->in[k].encoder_codec = GST_MESH_CODEC_NONE;
  gst_mesh_data_init (self);
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
   * Several servers of one cluster (`gst-mesh-server --redis`), separated
   * by commas, are tried in turn: the element moves to the next one each
   * time a connection fails or is lost (with the usual back-off), joins
   * its room again there, and calls carry on. It gives up only when none
   * of them could be reached at the start.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SERVER_URL,
      g_param_spec_string ("server-url", "Server URL",
          "Socket.IO signalling server (http://, https://, ws:// or wss://); "
          "several, comma-separated, for failover",
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
   * that meet keep the offer with the larger SDP session id. Either side
   * offers at once when its signalling had to reconnect while the call's
   * media was silent (its network changed: docs/protocol.md §3).
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
   * STUN server as stun://host:port (or stun:host:port, as browsers write
   * it; the port defaults to 3478). None by default: a call on one
   * network needs none, and offline machines cannot reach one. A signalling
   * server that hands out ICE servers (gst-mesh-server --turn-url) may
   * give one too; this one comes first.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_STUN_SERVER,
      g_param_spec_string ("stun-server", "STUN server",
          "STUN server: stun://host:port or stun:host:port (default: none)",
          DEFAULT_STUN_SERVER, ready));
  /**
   * GstMeshSignal:turn-server:
   *
   * One TURN server: turn://user:password@host:port (UDP and TCP to the
   * server), with ?transport=udp or ?transport=tcp for one of them, or
   * turns://user:password@host:port for TLS (port 5349 by default). A
   * user name or password holding ':' '@' '/' must be percent-escaped.
   * See turn-servers for more than one.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TURN_SERVER,
      g_param_spec_string ("turn-server", "TURN server",
          "TURN server: turn(s)://user:password@host:port[?transport=udp|tcp]",
          DEFAULT_TURN_SERVER, ready));
  /**
   * GstMeshSignal:turn-servers:
   *
   * More TURN servers, of the same form as turn-server, all used (as a
   * browser uses every entry of its iceServers): for example
   * `turn-servers="<\"turn://u:p@h:3478\", \"turns://u:p@h:443\">"`.
   * A URL that cannot be used is warned about and skipped. Those the
   * signalling server hands out (with time-limited credentials, refreshed
   * before they expire) are used as well.
   *
   * Since: 0.3
   */
  g_object_class_install_property (gobject_class, PROP_TURN_SERVERS,
      gst_param_spec_array ("turn-servers", "TURN servers",
          "TURN servers, each turn(s)://user:password@host:port[?transport=]",
          g_param_spec_string ("turn-server", "TURN server", "A TURN server",
              NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS), ready));
  /**
   * GstMeshSignal:ice-transport-policy:
   *
   * all: every kind of candidate; relay: only relayed ones (through a
   * TURN server), as RTCPeerConnection's iceTransportPolicy, to hide the
   * host's addresses from the other side or to test the TURN path.
   *
   * Since: 0.3
   */
  g_object_class_install_property (gobject_class, PROP_ICE_TRANSPORT_POLICY,
      g_param_spec_enum ("ice-transport-policy", "ICE transport policy",
          "Which candidates to use: all, or relay (TURN only)",
          GST_TYPE_WEBRTC_ICE_TRANSPORT_POLICY,
          GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL, ready));
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
   * GstMeshSignal:video-codecs:
   *
   * The video codecs this side may send, best first, as a comma-separated
   * list of `vp8`, `h264`, `vp9` (e.g. `vp9,vp8`); those not installed
   * are left out. Unset (the default), #GstMeshSignal:video-codec says,
   * and the element falls back to another codec when the remote has not
   * got it. Set, it overrides video-codec: an answer sends the first
   * codec of the list that the offer has (switching the encoder), or no
   * video when there is none; a caller offers the first, and when the
   * answer refuses it calls again with the next. In a room the encoder
   * serves every member and is not switched for one.
   *
   * Since: 0.3
   */
  g_object_class_install_property (gobject_class, PROP_VIDEO_CODECS,
      g_param_spec_string ("video-codecs", "Video codecs",
          "Video codecs to send, best first (vp8, h264, vp9; comma-separated); "
          "overrides video-codec", NULL, ready));
  /**
   * GstMeshSignal:video-encoder:
   *
   * The video encoder to use, as an element factory name (e.g.
   * `vah264enc`, `x264enc`); it must put out #GstMeshSignal:video-codec.
   * Unset (the default), the element takes the best one installed for the
   * codec: hardware first (VA, VA-API, NVENC), then x264enc, openh264enc
   * or vp8enc, each set for a call (the table in gstmeshmedia.c, listed in
   * the README). An encoder the element does not know gets its bitrate
   * only; configure the rest in #GstMeshSignal::encoder-setup.
   *
   * Since: 0.3
   */
  g_object_class_install_property (gobject_class, PROP_VIDEO_ENCODER,
      g_param_spec_string ("video-encoder", "Video encoder",
          "Video encoder element factory to use (NULL: the best installed "
          "for video-codec, hardware first)", NULL, ready));
  /**
   * GstMeshSignal:video-bitrate:
   *
   * Video bitrate in kbit/s; with #GstMeshSignal:congestion-control, the
   * rate a call starts at (unless #GstMeshSignal:start-bitrate says).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_VIDEO_BITRATE,
      g_param_spec_uint ("video-bitrate", "Video bitrate",
          "Video bitrate in kbit/s (with congestion control: where it "
          "starts)", 50, 50000, DEFAULT_VIDEO_BITRATE, ready));
  /**
   * GstMeshSignal:congestion-control:
   *
   * `gcc`: each peer's available bandwidth is estimated from the
   * transport-wide congestion control feedback it sends (RTCP transport-cc,
   * which browsers send when the SDP maps the extension, as ours does),
   * with Google Congestion Control (delay gradient and loss), and the video
   * encoder follows the lowest estimate, between #GstMeshSignal:min-bitrate
   * and #GstMeshSignal:max-bitrate, starting at
   * #GstMeshSignal:start-bitrate. `none`: video is sent at
   * #GstMeshSignal:video-bitrate whatever the network carries.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_CONGESTION_CONTROL,
      g_param_spec_enum ("congestion-control", "Congestion control",
          "How the video bitrate follows the network",
          GST_TYPE_MESH_CONGESTION_CONTROL, DEFAULT_CONGESTION_CONTROL,
          ready));
  /**
   * GstMeshSignal:min-bitrate:
   *
   * With congestion control, the lowest video bitrate in kbit/s. The
   * default is libwebrtc's (kMinVideoBitrateBps, 30 kbit/s): two senders
   * at 100 kbit/s each, with audio and retransmissions, overflow a
   * 500 kbit/s link, and then nothing gets through.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_MIN_BITRATE,
      g_param_spec_uint ("min-bitrate", "Minimum bitrate",
          "Lowest video bitrate in kbit/s with congestion control", 30, 50000,
          DEFAULT_MIN_BITRATE, ready));
  /**
   * GstMeshSignal:max-bitrate:
   *
   * With congestion control, the highest video bitrate in kbit/s.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_MAX_BITRATE,
      g_param_spec_uint ("max-bitrate", "Maximum bitrate",
          "Highest video bitrate in kbit/s with congestion control", 30, 50000,
          DEFAULT_MAX_BITRATE, ready));
  /**
   * GstMeshSignal:start-bitrate:
   *
   * With congestion control, the video bitrate in kbit/s a new peer starts
   * at; 0 takes #GstMeshSignal:video-bitrate.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_START_BITRATE,
      g_param_spec_uint ("start-bitrate", "Start bitrate",
          "Video bitrate in kbit/s a peer starts at with congestion control "
          "(0 = video-bitrate)", 0, 50000, DEFAULT_START_BITRATE, ready));
  /**
   * GstMeshSignal:fec:
   *
   * Forward error correction on video: ULPFEC in RED (RFC 5109, RFC 2198),
   * as webrtcbin's transceivers offer it, for paths whose round trip is
   * too long for a retransmission to come in time. The receiver rebuilds
   * a lost packet from the FEC packets once its jitter buffer gives up
   * waiting for it: after the NACKs, not instead of them. For calls
   * between meshsignal elements: webrtcbin 1.22 rebuilds a packet without
   * the header extensions the sender protected, so a browser's FEC is not
   * recovered, and ours protects packets without extensions, as a browser
   * does not expect (docs/design.md, **FEC**). So an answer takes FEC
   * only from an offer of ours (`a=tool:gst-mesh`), and a call we offer
   * that a browser answers gets no FEC packets from us (the browser may
   * still send its own). Opus has its in-band FEC either way.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_FEC,
      g_param_spec_boolean ("fec", "FEC",
          "ULPFEC/RED on video, between meshsignal elements", DEFAULT_FEC,
          ready));
  /**
   * GstMeshSignal:fec-percentage:
   *
   * With #GstMeshSignal:fec, FEC packets per 100 media packets; 0 follows
   * the loss each peer's transport-cc feedback reports: none below 1 %,
   * then five times the loss, from 10 to 50 (25 at 5 % loss). Without
   * congestion control 0 means 25. The FEC packets count against the
   * peer's estimate: the encoder gets what is left.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_FEC_PERCENTAGE,
      g_param_spec_uint ("fec-percentage", "FEC percentage",
          "FEC packets per 100 media packets with fec (0 = follow the loss)",
          0, 100, DEFAULT_FEC_PERCENTAGE, ready));
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
   * Jitter buffer length in ms for the remote media, where each call
   * starts. Short by default, as suits a conversation on a LAN: 10 ms is
   * time enough there for a lost packet to be asked for and sent again
   * (a round trip is well under a millisecond), and 10 ms less delay from
   * glass to glass than 20 (tests/bench/README.md). A retransmission that
   * comes too late counts as a late packet, and the buffers then grow by
   * themselves up to #GstMeshSignal:max-latency. Raise it for a path with
   * a long round trip from the start (a retransmission needs one).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Jitter buffer length in ms (where it starts)", 0, 10000,
          DEFAULT_LATENCY, ready));
  /**
   * GstMeshSignal:max-latency:
   *
   * How long in ms a call's jitter buffers may grow: when packets of a
   * kind (audio, video) arrive after their deadline (a bottleneck queue
   * or a jittery path delayed them, or a retransmission came too late),
   * that kind's buffers grow by half, at most once a second, up to this
   * (video's at once to a lost packet's round trip when that is more);
   * after 10 s without a late packet they shrink back towards
   * #GstMeshSignal:latency, never below four times the measured jitter.
   * Not above #GstMeshSignal:latency: they stay at that. See
   * #GstMeshSignal:video-delay for when the video is shown.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_MAX_LATENCY,
      g_param_spec_uint ("max-latency", "Maximum latency",
          "Longest jitter buffer in ms when packets come late (not above "
          "latency: fixed)", 0, 10000, DEFAULT_MAX_LATENCY, ready));
  /**
   * GstMeshSignal:video-delay:
   *
   * When the remote's video is shown. A lost video packet is asked for
   * again and comes back a round trip later, and the video jitter
   * buffers grow to wait for it (#GstMeshSignal:max-latency). `least`:
   * the video is shown at the audio's latency all the same (the element
   * answers the latency query for it with the audio's), and a frame that
   * waited for a retransmission is shown when it comes, given the time
   * it came at rather than dropped by the sink for lateness; the audio,
   * which is not asked for again (Opus conceals a loss), does not wait
   * either. This is what browsers do. Through a 1 Mbit/s link with 2 %
   * loss and 20 ms of delay it took the picture from 67-87 ms glass to
   * glass (`even`) to 48, and at 5 % loss from 114-123 to 57; Chromium's
   * pages took 67 and 100 in the same run (tests/bench/README.md). `even`: every frame waits as long as the
   * longest retransmission may take (the audio with it), so frames come
   * evenly spaced and with their capture times, at that delay: for a
   * recording, say. With no audio from the peer both are the same, and
   * in a room (the grid's compositor takes frames at its own pace) the
   * video is shown as with `even`.
   *
   * Since: 0.3
   */
  g_object_class_install_property (gobject_class, PROP_VIDEO_DELAY,
      g_param_spec_enum ("video-delay", "Video delay",
          "When the remote's video is shown: least (at the audio's latency, "
          "a frame that waited for a retransmission when it comes) or even "
          "(every frame after the longest retransmission wait)",
          GST_TYPE_MESH_VIDEO_DELAY, DEFAULT_VIDEO_DELAY, ready));
  /**
   * GstMeshSignal:playout-delay:
   *
   * What our video asks of the receiver's playout, with the playout-delay
   * RTP header extension (rtphdrextplayoutdelay), where the remote's SDP
   * offers or accepts it: Chromium does, and then obeys it.
   *
   * `auto`: while the receiver's reports say the path is steady
   * (interarrival jitter of what we send under 10 ms), the extension asks
   * for a least and most delay of 0: Chromium then decodes each frame as
   * soon as it is complete and shows it at the next refresh, without the
   * jitter allowance its render time keeps (about 12 ms on a LAN) and
   * without holding the video back for lip sync. Our sound then plays
   * 40-57 ms after our picture in Chromium (tests/bench/README.md, glass),
   * within EBU R37's 60 ms for late sound; Chromium's own calls show 34.
   * When the reported jitter passes 10 ms, the extension gives the
   * receiver back its choice (0 to 40950 ms) until it has been under
   * 5 ms for 10 s.
   *
   * `asap`: always 0. `receiver`: no extension; the receiver keeps its
   * jitter allowance and syncs our video to our sound.
   *
   * Since: 0.3
   */
  g_object_class_install_property (gobject_class, PROP_PLAYOUT_DELAY,
      g_param_spec_enum ("playout-delay", "Playout delay",
          "What our video asks of the receiver's playout delay (the "
          "playout-delay RTP header extension)", GST_TYPE_MESH_PLAYOUT_DELAY,
          DEFAULT_PLAYOUT_DELAY, ready));
  /**
   * GstMeshSignal:video-encodings:
   *
   * With congestion control, how many encodings of the video the element
   * may make. `1`: one, at the rate of the slowest peer. `2`: when a
   * peer's estimate is under half of the best peer's, a second, low
   * encoding (its own rate and picture size) is made for it and the
   * peers like it; the main encoding follows the slowest of the others.
   * A peer comes back to the main encoding when its estimate reaches 65 %
   * of the best; a low encoding that no peer took for 10 s is dropped.
   * Each change costs the peer a keyframe. The second encoder costs CPU
   * (at half the width and height it has a quarter of the pixels; its
   * cost is not measured yet).
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_VIDEO_ENCODINGS,
      g_param_spec_uint ("video-encodings", "Video encodings",
          "With congestion control, up to this many video encodings: a low "
          "one for peers far slower than the others (1 = the slowest peer "
          "sets everyone's rate)", 1, 2, DEFAULT_VIDEO_ENCODINGS, ready));
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
   * GstMeshSignal:connect-timeout:
   *
   * A call whose offer and answer are exchanged but whose connection (ICE
   * and DTLS) is not up after this many ms fails, with a reason that says
   * how far ICE and DTLS got (0: never). The caller (in a room: the side
   * that offered) then calls again, as after any failed call. Neither
   * webrtcbin nor a browser gives up while remote candidates may still
   * come; one lost candidate or handshake must not leave a call waiting
   * for ever. Long enough for ICE through TURN on a lossy path.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect timeout",
          "Fail a negotiated call that is not connected after this many ms, "
          "so that it is called again (0 = never)", 0, 600000,
          DEFAULT_CONNECT_TIMEOUT, ready));
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
   * GstMeshSignal:data-channel:
   *
   * Open a data channel (label `gst-mesh-data`, reliable and ordered) in
   * every call this element offers. Requesting `data_sink` or `data_src`
   * sets it; set it yourself for #GstMeshSignal::send-data and
   * #GstMeshSignal::data-received alone. A channel the remote side opens
   * with that label is taken whatever this says.
   *
   * Since: 0.3
   */
  g_object_class_install_property (gobject_class, PROP_DATA_CHANNEL,
      g_param_spec_boolean ("data-channel", "Data channel",
          "Open a data channel (gst-mesh-data) in the calls we offer", FALSE,
          ready));
  /**
   * GstMeshSignal:stats:
   *
   * Figures for every peer connection now: an `application/x-mesh-stats`
   * structure with `room`, `local-id` (our socket id in the room),
   * `members` (in a room) and `peers`, an array of
   * `application/x-mesh-peer-stats` structures (`peer-id`, `uid`,
   * `call-id`, `state`, `offerer`, `ice-connection-state` and
   * `connection-state` (webrtcbin's, as nicks), `video-frames-decoded`,
   * `audio-buffers-decoded`, `jitter-latency` (ms: the peer's longest
   * jitter buffers now, between #GstMeshSignal:latency and
   * #GstMeshSignal:max-latency), `audio-jitter-latency` (ms: its audio's,
   * which with #GstMeshSignal:video-delay `least` sets when its video is
   * shown too), `nacks-sent` (lost packets of the
   * peer's video asked for again in NACKs the element sent itself, at
   * once: all of them once `rtcp-rsize` is negotiated, which the element
   * does in its offers and answers), `nack-rtt` (ms from such a NACK
   * to the retransmission coming in, the median of the last seven; 0
   * before three; the jitter
   * buffers grow to it when packets come late), `plis-sent` (keyframe
   * requests for the peer's video the element sent itself, at once, at
   * most one per 200 ms), `rtx-refused`
   * (retransmissions the peer asked for that were not sent: with
   * congestion control they are kept within a quarter of the estimate),
   * with #GstMeshSignal:fec `fec-percentage` (FEC packets sent per 100
   * media packets now), `fec-recovered` and `fec-unrecovered` (lost
   * packets of the peer's media that FEC rebuilt, or could not: a lost
   * FEC packet counts there too), while our video carries the
   * playout-delay extension (see #GstMeshSignal:playout-delay)
   * `playout-delay` (`at-once`, or `receiver` while the remote chooses)
   * and `remote-jitter` (ms, the worst interarrival jitter the remote's
   * reports give of what we send; -1 before one),
   * `bandwidth` with congestion
   * control: an `application/x-mesh-bwe` structure with `target-bitrate`,
   * `delay-bitrate`, `loss-bitrate`, `received-bitrate` (bit/s), `loss`,
   * `usage` and `feedbacks`; `video-encoding`: `main` or `low`, the
   * encoding the peer is sent (see #GstMeshSignal:video-encodings); and
   * `webrtc`: what webrtcbin's `get-stats` gives), `video-encoder-bitrate`
   * (kbit/s) and, while there is a low encoding, `low-encoder-bitrate`. Do not read it from a
   * streaming thread.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Per-peer figures (peers[]): state, decoded frames, jitter-latency "
          "(ms), nacks-sent, nack-rtt (ms), plis-sent, rtx-refused, fec-*, "
          "playout-delay, remote-jitter (ms), "
          "bandwidth estimate, "
          "video-encoding, webrtcbin statistics; the video encoders' rates",
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

  /**
   * GstMeshSignal::encoder-setup:
   * @meshsignal: the element
   * @encoding: which encoder: `video` (the main video encoding),
   *   `video-low` (the low one, #GstMeshSignal:video-encodings) or `audio`
   * @encoder: the encoding element (e.g. a vp8enc), set for a call already
   *
   * An encoder was made and set up, and is about to start: change its
   * settings here. Its bitrate is the element's to set and moves with
   * congestion control. Emitted from the thread that builds the encoder,
   * which may be a streaming thread.
   *
   * Since: 0.3
   */
  signals[SIGNAL_ENCODER_SETUP] = g_signal_new ("encoder-setup",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, GST_TYPE_ELEMENT);

  /**
   * GstMeshSignal::send-data:
   * @meshsignal: the element
   * @message: a string (`s`: a text message) or bytes (`ay`: a binary
   *   message), up to 64 MiB
   * @peer_id: (nullable): the peer to send it to; NULL: every peer whose
   *   data channel is open
   *
   * Sends one message over the data channels, cut into chunks as
   * docs/protocol.md says. Never blocks: what SCTP cannot take yet is
   * queued (unlike `data_sink`, which waits).
   *
   * Returns: whether some peer's channel took it
   *
   * Since: 0.3
   */
  signals[SIGNAL_SEND_DATA] = g_signal_new_class_handler ("send-data",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_mesh_data_send), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 2, G_TYPE_VARIANT, G_TYPE_STRING);
  /**
   * GstMeshSignal::data-received:
   * @meshsignal: the element
   * @peer_id: who sent it (the remote's socket id; in a 1:1 call without
   *   one, the webrtcbin's name)
   * @message: the message: a string (`s`) or bytes (`ay`)
   *
   * A whole message came over a data channel. Emitted from webrtcbin's
   * thread: do not block in it. Binary messages also come out of
   * `data_src`, text messages also as `mesh-data-text` on the bus.
   *
   * Since: 0.3
   */
  signals[SIGNAL_DATA_RECEIVED] = g_signal_new ("data-received",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_VARIANT);
  gst_mesh_data_register_meta ();

  gst_element_class_add_static_pad_template (element_class,
      &video_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &audio_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &video_src_template);
  gst_element_class_add_static_pad_template (element_class,
      &audio_src_template);
  gst_element_class_add_static_pad_template (element_class,
      &data_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &data_src_template);
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
  gst_type_mark_as_plugin_api (GST_TYPE_MESH_CONGESTION_CONTROL, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MESH_VIDEO_CODEC, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MESH_PLAYOUT_DELAY, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MESH_VIDEO_DELAY, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MESH_CALL_STATE, 0);
}
