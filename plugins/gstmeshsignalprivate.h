/* gst-mesh: meshsignal's insides, shared by the files that make it up:
 * the element (gstmeshsignal.c), its link to the server and its thread
 * (gstmeshsignaller.c), its media in (gstmeshinput.c), its two call
 * policies (gstmeshcall.c, gstmeshroom.c, behind gstmeshsession.h) and its
 * statistics (gstmeshstats.c). Not installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "gstmeshsignal.h"
#include "gstmeshpeer.h"
#include "gstmeshmedia.h"
#include "gstmeshoutput.h"
#include "gstmeshsession.h"

#include <gst/mesh/gstmesh.h>
#include <gst/webrtc/webrtc.h>

G_BEGIN_DECLS

/* One category for the element and its parts: GST_DEBUG=meshsignal:5
 * tells the story of a call, whichever file the line comes from. */
GST_DEBUG_CATEGORY_EXTERN (mesh_signal_debug);
#define GST_CAT_DEFAULT mesh_signal_debug

#define MAX_EARLY_CANDIDATES 256

/* One video encoding's picture size, stepped down when its rate is too
 * low for the picture (gstmeshinput.c). */
typedef struct
{
  GstElement *filter;           /* the capsfilter after videoscale */
  guint step;                   /* index into the scale steps */
  gint64 step_changed;          /* monotonic µs of the last step */
  gint frames_in, frames_out;   /* into and out of the encoder (atomics,
                                 * from the streaming thread) */
  gint last_in, last_out;       /* at the last tick */
  gdouble kept;                 /* share of frames the encoder kept, last
                                 * 2 s; 1 when unknown */
  guint failed_kbps;            /* a step made for dropped frames: the rate
                                 * the bigger picture did not fit */
} PictureSteps;

/* The second, low encoding of the video, for room members whose link
 * carries far less than the others' (gstmeshinput.c): raw tee ! queue !
 * videoscale ! capsfilter ! encoder ! tee. Made when first needed,
 * dropped when no peer took it for a while. */
typedef struct
{
  GstPad *raw_pad;              /* its request pad on the raw tee */
  GstElement *queue, *scaler, *encoder, *tee;
  PictureSteps steps;
  GstMeshCodec codec;
  guint kbps;
  gint64 unused_since;          /* monotonic µs; 0 while a peer takes it */
} LowEncoding;

/* A sink pad's chain: raw → convert → encoder → tee (gstmeshinput.c);
 * for video, raw → videoconvert → raw tee → videoscale → capsfilter →
 * encoder → tee, the raw tee also feeding the low encoding. */
typedef struct
{
  GstPad *ghost;
  GstElement *queue;
  GstElement *convert;          /* last raw element before the encoder */
  GstElement *convert2;         /* first after the queue: audioconvert,
                                 * videoconvert */
  GstElement *scaler;           /* video: videoscale */
  GstElement *raw_tee;          /* video: before the scaler */
  PictureSteps steps;           /* video: the main encoding's size;
                                 * steps.filter == convert */
  LowEncoding low;              /* video */
  GstElement *encoder;
  GstElement *tee;
  GstMeshCodec codec;           /* what calls should send */
  GstMeshCodec encoder_codec;   /* what the encoder in place makes */
  /* the input comes encoded (gst_mesh_input_refresh): queue → @encoder,
   * which is then only a parser (gst_mesh_codec_make_passthrough) → tee;
   * no raw elements, no rate control, no picture steps */
  gboolean passthrough;
  gboolean decided;             /* refreshed since the pad was linked */
  gchar h264_profile[7];        /* passthrough H.264: its profile-level-id */
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
  gchar **turn_servers;
  GstWebRTCICETransportPolicy ice_transport_policy;
  GstMeshVideoCodec video_codec;
  gchar *video_codecs;          /* "vp9,vp8": preference, or NULL */
  gchar *video_encoder;          /* factory name, NULL: picked; object lock */
  guint video_bitrate;
  guint audio_bitrate;
  GstMeshCongestionControl congestion_control;
  guint min_bitrate, max_bitrate, start_bitrate;       /* kbit/s */
  gboolean fec;
  guint fec_percentage;
  guint video_encodings;        /* 1, or 2: a low one for slow peers */
  guint latency;
  guint max_latency;
  GstMeshPlayoutDelay playout_delay;
  GstMeshVideoDelay video_delay;
  guint offer_interval;
  guint peer_timeout;
  guint connect_timeout;
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
  gboolean data_channel;

  /* the signalling thread; everything below belongs to it */
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GstMeshSioClient *client;
  GstMeshSignalServer *server;
  const GstMeshSession *session;        /* 1:1 or room, from connect to stop */
  gboolean ever_connected;
  guint first_failures;         /* failed connections before the first */
  gint64 reconnected_at;        /* monotonic µs of the last reconnection */
  /* the 1:1 call (gstmeshcall.c) */
  GstMeshPeer *peer;
  guint next_call_id;
  GQueue early_candidates;      /* GstMeshSignalMessage* before any offer */
  gboolean codec_fallback_done;
  gboolean video_refused;       /* the remote took no video of ours: the
                                 * next calls offer none */
  GSource *recall_source;
  gboolean stall_offered;       /* a waiter offered once after a call that
                                 * failed; again only after a connection */
  /* rooms (gstmeshroom.c) */
  gchar *uid;                   /* who we are across reconnections */
  gchar *local_id;              /* our socket id in the room, once joined */
  GHashTable *members;          /* socket id → Member */

  /* ICE servers (gstmeshice.c): normalized URIs under the object lock */
  gchar *ice_stun;              /* from stun-server */
  GPtrArray *ice_turn;          /* from turn-server and turn-servers */
  gchar *ice_provided_stun;     /* from the signalling server */
  GPtrArray *ice_provided;
  GHashTable *ice_warned;       /* URIs warned about (signalling thread) */
  GSource *ice_refresh;         /* asks for fresh TURN credentials */
  GCancellable *ice_probes;     /* TURN probes under way */

  /* media plumbing, changed only with the state lock or before PAUSED */
  MediaIn in[GST_MESH_N_MEDIA];
  GstMeshOutput *out[GST_MESH_N_MEDIA];
  GstPad *out_ghost[GST_MESH_N_MEDIA];

  /* congestion control (signalling thread): each peer's target (bit/s),
   * and what the video encoder was last set to (kbit/s) */
  GHashTable *peer_targets;     /* GstMeshPeer* → guint */
  GHashTable *low_peers;        /* GstMeshPeer* set: on the low encoding */
  guint encoder_kbps;
  guint audio_frame_ms;         /* Opus frame size now, 0: 10 (the default) */
  GSource *video_tick;          /* gst_mesh_input_video_tick, each second */

  /* data in and out (gstmeshdataio.c): the pads are changed with the
   * state lock; the rest under data_lock, from any thread */
  GstPad *data_sink, *data_src;
  GMutex data_lock;
  GCond data_cond;
  GPtrArray *data_peers;        /* GstMeshPeer*: data channel open */
  GstElement *data_appsrc;
  gboolean data_flushing;

  /* atomics */
  gint call_state;
  gint64 playing_time;
};

/* gstmeshsignal.c: what the parts ask of the element */
#define GST_TYPE_MESH_CALL_STATE (gst_mesh_call_state_get_type ())
GType gst_mesh_call_state_get_type (void);
const gchar *gst_mesh_signal_enum_nick (GType type, gint value);
GstMeshCodec gst_mesh_signal_video_codec (GstMeshVideoCodec c);
/* The video codecs to send, best first: video-codecs' installed ones, or
 * video-codec alone; their number (0 only when video-codecs names none
 * installed). FALSE and @error when video-codecs names an unknown codec.
 * Takes the object lock. */
gboolean gst_mesh_signal_video_order (GstMeshSignal * self,
    GstMeshCodec order[GST_MESH_MAX_VIDEO_CODECS], guint * n, GError ** error);
/* The first of them (video-codec's when video-codecs has none). */
GstMeshCodec gst_mesh_signal_first_video_codec (GstMeshSignal * self);
/* Emits encoder-setup for the encoding element inside @encoder (what
 * gst_mesh_codec_make_encoder() made); @encoding: video, video-low, audio. */
void gst_mesh_signal_encoder_setup (GstMeshSignal * self,
    const gchar * encoding, GstElement * encoder);
/* The video-encoder property (a copy, or NULL). */
gchar *gst_mesh_signal_dup_video_encoder (GstMeshSignal * self);
void gst_mesh_signal_post_call_state (GstMeshSignal * self,
    GstMeshPeer * peer, GstMeshCallState state, const gchar * reason);
void gst_mesh_signal_post_peer (GstMeshSignal * self, const gchar * event,
    const gchar * id, const gchar * uid);
void gst_mesh_signal_warn_bad_message (GstMeshSignal * self,
    const gchar * event, const gchar * error);
void gst_mesh_signal_remove_child (GstMeshSignal * self, GstElement * e);
const gchar *gst_mesh_signal_peer_name (GstMeshPeer * peer);
GstMeshPeer *gst_mesh_signal_new_peer (GstMeshSignal * self,
    const gchar * remote_id);
void gst_mesh_signal_close_peer (GstMeshSignal * self, GstMeshPeer * peer,
    GstMeshCallState state, const gchar * reason);

/* Emits data-received. */
void gst_mesh_signal_data_received (GstMeshSignal * self,
    const gchar * peer_id, GVariant * message);

/* gstmeshdataio.c */
/* the custom meta on data_src's buffers: a structure with `peer-id` */
#define GST_MESH_DATA_META_NAME "GstMeshDataMeta"
void gst_mesh_data_register_meta (void);
void gst_mesh_data_init (GstMeshSignal * self);
void gst_mesh_data_finalize (GstMeshSignal * self);
GstPad *gst_mesh_data_new_sink (GstMeshSignal * self, GstPadTemplate * templ);
GstPad *gst_mesh_data_new_src (GstMeshSignal * self, GstPadTemplate * templ);
/* FALSE when @pad is not a data pad */
gboolean gst_mesh_data_release_pad (GstMeshSignal * self, GstPad * pad);
void gst_mesh_data_fill_config (GstMeshSignal * self,
    GstMeshPeerConfig * config);
/* the send-data action */
gboolean gst_mesh_data_send (GstMeshSignal * self, GVariant * message,
    const gchar * peer_id);
void gst_mesh_data_set_flushing (GstMeshSignal * self, gboolean flushing);

/* gstmeshinput.c */
GstPad *gst_mesh_input_new (GstMeshSignal * self, GstMeshMediaKind kind,
    GstPadTemplate * templ);
/* Congestion control: sets the video encoders' rates from the peers'
 * estimates (the main encoding follows the slowest peer on it; a peer
 * far slower than the best takes the low encoding, made on demand), and
 * steps each picture's size down when its rate is too few bits for it,
 * back up when it is enough. Posts mesh-video-quality on a step
 * (signalling thread). */
void gst_mesh_input_update_video_rates (GstMeshSignal * self);
/* @peer is closing: it no longer holds an encoding. */
void gst_mesh_input_forget_peer (GstMeshSignal * self, GstMeshPeer * peer);
/* Once a second with congestion control: how many frames the encoders
 * dropped (they do, to keep to a low rate), a step if too many; drops a
 * low encoding no peer took for a while. */
void gst_mesh_input_video_tick (GstMeshSignal * self);
/* The elements of the low encoding, out of the bin (pad release). */
void gst_mesh_input_drop_low (GstMeshSignal * self);
/* At NULL→READY, before the encoders: what the linked upstream of @kind's
 * sink pad gives. Encoded media the element can send (H.264, VP8, VP9,
 * Opus) is passed through, parsed but not decoded; raw media is encoded.
 * FALSE with @error when it cannot be set up. */
gboolean gst_mesh_input_refresh (GstMeshSignal * self, GstMeshMediaKind kind,
    GError ** error);
gboolean gst_mesh_input_build_encoder (GstMeshSignal * self,
    GstMeshMediaKind kind, GstMeshCodec codec, GError ** error);
void gst_mesh_input_drop_encoder (GstMeshSignal * self, MediaIn * in);
gboolean gst_mesh_input_switch_codec (GstMeshPeer * peer,
    GstMeshMediaKind kind, GstMeshCodec codec, gpointer user_data);

/* gstmeshsignaller.c */
gboolean gst_mesh_signaller_start (GstMeshSignal * self);
void gst_mesh_signaller_stop (GstMeshSignal * self);
void gst_mesh_signaller_run_sync (GstMeshSignal * self,
    void (*func) (GstMeshSignal *, gpointer), gpointer data);
void gst_mesh_signaller_connect (GstMeshSignal * self, gpointer unused);
void gst_mesh_signaller_disconnect (GstMeshSignal * self, gpointer unused);

/* gstmeshice.c */
void gst_mesh_ice_prepare (GstMeshSignal * self);
void gst_mesh_ice_fill_config (GstMeshSignal * self,
    GstMeshPeerConfig * config);
void gst_mesh_ice_clear_config (GstMeshPeerConfig * config);
gboolean gst_mesh_ice_event (GstMeshSignal * self, const gchar * name,
    JsonArray * args);
void gst_mesh_ice_stop (GstMeshSignal * self);
void gst_mesh_ice_gathered (GstMeshSignal * self,
    const GstMeshPeerConfig * config, const gchar * const *candidates);

/* gstmeshstats.c */
GstStructure *gst_mesh_stats_peer (GstMeshPeer * peer, const gchar * uid);
GstStructure *gst_mesh_stats_ice_path (const GstStructure * webrtc_stats);
void gst_mesh_stats_post_ice_path (GstMeshSignal * self, GstMeshPeer * peer);

G_END_DECLS
