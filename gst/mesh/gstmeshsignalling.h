/* gst-mesh: the signalling messages of a call (offer, answer, candidate).
 *
 * The wire shapes are the seed's (RTCSessionDescriptionInit and
 * RTCIceCandidateInit as JSON), optionally with routing fields; see
 * docs/protocol.md. No I/O here: this is what the element and the
 * fuzzers use to turn Socket.IO event arguments into checked values.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

#define GST_MESH_SIGNAL_ERROR (gst_mesh_signal_error_quark ())
GQuark gst_mesh_signal_error_quark (void);

typedef enum
{
  GST_MESH_SIGNAL_ERROR_UNKNOWN_EVENT,
  GST_MESH_SIGNAL_ERROR_SHAPE,
  GST_MESH_SIGNAL_ERROR_SDP,
  GST_MESH_SIGNAL_ERROR_CANDIDATE,
} GstMeshSignalError;

typedef enum
{
  GST_MESH_SIGNAL_OFFER,
  GST_MESH_SIGNAL_ANSWER,
  GST_MESH_SIGNAL_CANDIDATE,
  GST_MESH_SIGNAL_HANGUP,
} GstMeshSignalKind;

/**
 * GstMeshSignalMessage:
 * @kind: offer, answer, candidate or hangup
 * @sdp: (nullable): offer and answer: the SDP text
 * @sdp_message: (nullable): offer and answer: the parsed SDP
 * @candidate: (nullable): candidate: the "candidate:..." line; "" for an
 *   end-of-candidates marker
 * @sdp_mid: (nullable): candidate: the media id
 * @sdp_mline_index: candidate: the m-line index, -1 when absent
 * @reason: (nullable): hangup: why, e.g. "busy"
 * @from: (nullable): routing: the sender's socket id, added by a server
 * @to: (nullable): routing: the target socket id
 */
typedef struct
{
  GstMeshSignalKind kind;
  gchar *sdp;
  GstSDPMessage *sdp_message;
  gchar *candidate;
  gchar *sdp_mid;
  gint sdp_mline_index;
  gchar *reason;
  gchar *from;
  gchar *to;
} GstMeshSignalMessage;

const gchar *gst_mesh_signal_kind_to_string (GstMeshSignalKind kind);

/* Checks the arguments of a Socket.IO event named @event (one JSON object,
 * as the seed sends) and returns the message, or %NULL with an error that
 * names the field that was wrong. */
GstMeshSignalMessage *gst_mesh_signal_message_parse (const gchar * event,
    JsonArray * args, GError ** error);
void gst_mesh_signal_message_free (GstMeshSignalMessage * msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstMeshSignalMessage,
    gst_mesh_signal_message_free);

/* The event arguments for an offer or answer: [{"type":..,"sdp":..}]. */
JsonArray *gst_mesh_signal_description_args (GstMeshSignalKind kind,
    const gchar * sdp, const gchar * to);
/* The event arguments for a candidate:
 * [{"candidate":..,"sdpMid":..,"sdpMLineIndex":..}]. */
JsonArray *gst_mesh_signal_candidate_args (const gchar * candidate,
    const gchar * sdp_mid, gint sdp_mline_index, const gchar * to);

/* The event arguments for a hangup (rooms only): [{"reason":..,"to":..}]. */
JsonArray *gst_mesh_signal_hangup_args (const gchar * reason,
    const gchar * to);

/* The o= session id of @sdp as a number (0 when missing or not a number);
 * the collision rule compares these. */
guint64 gst_mesh_signal_session_id (const GstSDPMessage * sdp);
/* The o= session version, to tell a re-sent offer from a new one. */
guint64 gst_mesh_signal_session_version (const GstSDPMessage * sdp);

/**
 * GstMeshRoomMember:
 * @id: the member's socket id
 * @uid: (nullable): the stable identity it joined with
 * @offer: peer-joined only: the server asks us to offer to this member
 *   (a member two nodes of a cluster learnt of only after they were cut
 *   apart: docs/protocol.md §9), rather than to wait for its offer
 */
typedef struct
{
  gchar *id;
  gchar *uid;
  gboolean offer;
} GstMeshRoomMember;

/**
 * GstMeshRoomInfo:
 * @id: our socket id, as the server sees it
 * @room: the room joined
 * @members: (element-type GstMeshRoomMember): who was there before us, in
 *   the order they joined
 *
 * A `join` acknowledgement (docs/protocol.md §4).
 */
typedef struct
{
  gchar *id;
  gchar *room;
  GPtrArray *members;
} GstMeshRoomInfo;

/* The arguments of `join`: [{"room":..,"uid":..}] (@uid may be NULL). */
JsonArray *gst_mesh_signal_join_args (const gchar * room, const gchar * uid);
/* Checks a `join` acknowledgement. An ack that reports an error (the room
 * is full, the name is bad) fails with that error's text. */
GstMeshRoomInfo *gst_mesh_signal_room_info_parse (JsonArray * args,
    GError ** error);
void gst_mesh_signal_room_info_free (GstMeshRoomInfo * info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstMeshRoomInfo,
    gst_mesh_signal_room_info_free);
/* Checks a `peer-joined` or `peer-left` event: returns the member it is
 * about (free with gst_mesh_room_member_free()). */
GstMeshRoomMember *gst_mesh_signal_room_member_parse (const gchar * event,
    JsonArray * args, GError ** error);
void gst_mesh_room_member_free (GstMeshRoomMember * member);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstMeshRoomMember, gst_mesh_room_member_free);

G_END_DECLS
