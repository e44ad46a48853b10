/* gst-mesh: Engine.IO v4 and Socket.IO v5 packet codec.
 *
 * Pure functions: no I/O, no main loop, no global state, so that the client,
 * the server, the unit tests and the fuzzers all parse bytes the same way.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define GST_MESH_PACKET_ERROR (gst_mesh_packet_error_quark ())
GQuark gst_mesh_packet_error_quark (void);

/**
 * GstMeshPacketError:
 * @GST_MESH_PACKET_ERROR_EMPTY: nothing to decode
 * @GST_MESH_PACKET_ERROR_TYPE: unknown packet type
 * @GST_MESH_PACKET_ERROR_FORMAT: malformed framing (namespace, id, attachments)
 * @GST_MESH_PACKET_ERROR_JSON: the payload is not JSON
 * @GST_MESH_PACKET_ERROR_PAYLOAD: JSON of the wrong shape for the packet type
 * @GST_MESH_PACKET_ERROR_UTF8: text that is not UTF-8
 * @GST_MESH_PACKET_ERROR_BASE64: a `b` polling packet that is not base64
 * @GST_MESH_PACKET_ERROR_ATTACHMENTS: binary attachments that do not match
 *   the placeholders
 */
typedef enum
{
  GST_MESH_PACKET_ERROR_EMPTY,
  GST_MESH_PACKET_ERROR_TYPE,
  GST_MESH_PACKET_ERROR_FORMAT,
  GST_MESH_PACKET_ERROR_JSON,
  GST_MESH_PACKET_ERROR_PAYLOAD,
  GST_MESH_PACKET_ERROR_UTF8,
  GST_MESH_PACKET_ERROR_BASE64,
  GST_MESH_PACKET_ERROR_ATTACHMENTS,
} GstMeshPacketError;

/* ------------------------------------------------------------------------ */
/* Engine.IO v4                                                             */
/* ------------------------------------------------------------------------ */

/**
 * GstMeshEioType:
 *
 * Engine.IO packet types; the value is the digit on the wire.
 */
typedef enum
{
  GST_MESH_EIO_OPEN = 0,
  GST_MESH_EIO_CLOSE = 1,
  GST_MESH_EIO_PING = 2,
  GST_MESH_EIO_PONG = 3,
  GST_MESH_EIO_MESSAGE = 4,
  GST_MESH_EIO_UPGRADE = 5,
  GST_MESH_EIO_NOOP = 6,
} GstMeshEioType;

/* The record separator between packets of an HTTP long-polling payload. */
#define GST_MESH_EIO_SEPARATOR '\x1e'

/**
 * GstMeshEioPacket:
 * @type: the packet type
 * @binary: %TRUE when @data is a binary message (a WebSocket binary frame,
 *   or a `b`-prefixed base64 packet in a polling payload)
 * @data: (nullable): the payload after the type digit (text, not
 *   NUL-terminated inside the GBytes, but always followed by a NUL byte),
 *   or the raw bytes of a binary message; %NULL when empty
 */
typedef struct
{
  GstMeshEioType type;
  gboolean binary;
  GBytes *data;
} GstMeshEioPacket;

/* Ownership: every GBytes / JsonNode / JsonArray argument in this file is
 * (transfer none): the codec takes its own reference or copy. */
GstMeshEioPacket *gst_mesh_eio_packet_new (GstMeshEioType type,
    const gchar * text);
/* Like gst_mesh_eio_packet_new(), for text that is not NUL-terminated. */
GstMeshEioPacket *gst_mesh_eio_packet_new_text (GstMeshEioType type,
    const gchar * text, gsize len);
GstMeshEioPacket *gst_mesh_eio_packet_new_binary (GBytes * data);
void gst_mesh_eio_packet_free (GstMeshEioPacket * packet);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstMeshEioPacket, gst_mesh_eio_packet_free);

/* Text of @packet's payload as a NUL-terminated string ("" when empty);
 * %NULL for a binary packet. */
const gchar *gst_mesh_eio_packet_get_text (const GstMeshEioPacket * packet,
    gsize * len);

/* One packet of a WebSocket text frame: "<digit><payload>". */
GstMeshEioPacket *gst_mesh_eio_packet_decode (const gchar * text, gsize len,
    GError ** error);
/* One WebSocket binary frame: a binary message, no type byte (EIO v4). */
GstMeshEioPacket *gst_mesh_eio_packet_decode_binary (GBytes * data);
/* Text of a text packet ("4hello"); for binary packets use the bytes (this
 * returns their polling form "b<base64>"). */
gchar *gst_mesh_eio_packet_encode (const GstMeshEioPacket * packet);

/* HTTP long-polling body: packets separated by \x1e, binary as "b<base64>".
 * Returns a GPtrArray of GstMeshEioPacket (free func set). */
GPtrArray *gst_mesh_eio_payload_decode (const gchar * body, gsize len,
    GError ** error);
gchar *gst_mesh_eio_payload_encode (GstMeshEioPacket * const *packets,
    guint n_packets);

/* ------------------------------------------------------------------------ */
/* Socket.IO v5                                                             */
/* ------------------------------------------------------------------------ */

/**
 * GstMeshSioType:
 *
 * Socket.IO packet types; the value is the digit on the wire.
 */
typedef enum
{
  GST_MESH_SIO_CONNECT = 0,
  GST_MESH_SIO_DISCONNECT = 1,
  GST_MESH_SIO_EVENT = 2,
  GST_MESH_SIO_ACK = 3,
  GST_MESH_SIO_CONNECT_ERROR = 4,
  GST_MESH_SIO_BINARY_EVENT = 5,
  GST_MESH_SIO_BINARY_ACK = 6,
} GstMeshSioType;

#define GST_MESH_SIO_NO_ID ((gint64) -1)

/**
 * GstMeshSioPacket:
 * @type: the packet type
 * @nsp: the namespace, "/" when the packet names none
 * @id: the ack id, or %GST_MESH_SIO_NO_ID
 * @n_attachments: the number of binary attachments announced by a
 *   BINARY_EVENT / BINARY_ACK header
 * @data: (nullable): the JSON payload. Binary attachments stay as
 *   `{"_placeholder":true,"num":N}` objects here.
 * @attachments: (element-type GBytes): the binary attachments received so
 *   far, in order; complete when `attachments->len == n_attachments`
 */
typedef struct
{
  GstMeshSioType type;
  gchar *nsp;
  gint64 id;
  guint n_attachments;
  JsonNode *data;
  GPtrArray *attachments;
} GstMeshSioPacket;

GstMeshSioPacket *gst_mesh_sio_packet_new (GstMeshSioType type,
    const gchar * nsp, gint64 id, JsonNode * data);
GstMeshSioPacket *gst_mesh_sio_packet_new_event (const gchar * nsp,
    gint64 id, const gchar * event, JsonArray * args);
void gst_mesh_sio_packet_free (GstMeshSioPacket * packet);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstMeshSioPacket, gst_mesh_sio_packet_free);

/* Parses the text of one Socket.IO packet (the payload of an Engine.IO
 * message) and checks its payload shape as the reference parser does:
 * CONNECT carries an object or nothing, DISCONNECT nothing, CONNECT_ERROR an
 * object or string, EVENT a non-empty array whose first element is a string
 * (not a reserved event name) or a number, ACK an array. */
GstMeshSioPacket *gst_mesh_sio_packet_decode (const gchar * text, gsize len,
    GError ** error);

/* Encodes the header and JSON of @packet. For binary packets the
 * attachments are sent after it as separate binary messages. */
gchar *gst_mesh_sio_packet_encode (const GstMeshSioPacket * packet);

/* Takes one more binary attachment for a BINARY_* packet; returns %TRUE once
 * all announced attachments are there. @data is (transfer none): a
 * reference is taken. An attachment the packet did not announce is not
 * taken and %FALSE is returned. */
gboolean gst_mesh_sio_packet_add_attachment (GstMeshSioPacket * packet,
    GBytes * data);
/* Same, but returns whether @data was taken, and says why not
 * (GST_MESH_PACKET_ERROR_ATTACHMENTS: not a BINARY_* packet, or more
 * attachments than announced), so a client can drop the connection. */
gboolean gst_mesh_sio_packet_add_attachment_full (GstMeshSioPacket * packet,
    GBytes * data, GError ** error);

/* Whether @packet still waits for binary attachments. */
gboolean gst_mesh_sio_packet_is_complete (const GstMeshSioPacket * packet);

/* For EVENT packets: the event name (NULL if the first element is a
 * number), and the arguments after it (a new array, the caller owns it). */
const gchar *gst_mesh_sio_packet_get_event_name (const GstMeshSioPacket *
    packet);
JsonArray *gst_mesh_sio_packet_dup_event_args (const GstMeshSioPacket *
    packet);

/* Serialises @node as compact JSON, the way JSON.stringify() does
 * (no spaces, "/" not escaped, non-ASCII kept as UTF-8). */
gchar *gst_mesh_json_to_string (JsonNode * node);

G_END_DECLS
