/* gst-mesh: Socket.IO v5 server on top of GstMeshEioServer.
 *
 * Namespaces, connect checks, events, acks, binary attachments, rooms and
 * broadcasts, with the reference server's (socketio/socket.io lib/client.ts,
 * lib/namespace.ts, lib/socket.ts) packets and error handling.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/mesh/gstmesheioserver.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define GST_MESH_TYPE_SIO_SERVER (gst_mesh_sio_server_get_type ())
G_DECLARE_FINAL_TYPE (GstMeshSioServer, gst_mesh_sio_server, GST_MESH,
    SIO_SERVER, GObject);

#define GST_MESH_TYPE_SIO_NAMESPACE (gst_mesh_sio_namespace_get_type ())
G_DECLARE_FINAL_TYPE (GstMeshSioNamespace, gst_mesh_sio_namespace, GST_MESH,
    SIO_NAMESPACE, GObject);

#define GST_MESH_TYPE_SIO_SOCKET (gst_mesh_sio_socket_get_type ())
G_DECLARE_FINAL_TYPE (GstMeshSioSocket, gst_mesh_sio_socket, GST_MESH,
    SIO_SOCKET, GObject);

/**
 * GstMeshSioConnectCheckFunc:
 * @nsp: the namespace
 * @socket: the socket asking to connect; its auth is the handshake's
 * @message: (out) (transfer full): the CONNECT_ERROR message when refusing
 * @data: (out) (transfer full) (nullable): optional CONNECT_ERROR data
 * @user_data: user data
 *
 * A namespace middleware (the reference's `nsp.use()`): refusing sends
 * `4<nsp>,{"message":...,"data":...}` and the socket never connects.
 *
 * Returns: %TRUE to let the socket connect
 */
typedef gboolean (*GstMeshSioConnectCheckFunc) (GstMeshSioNamespace * nsp,
    GstMeshSioSocket * socket, gchar ** message, JsonNode ** data,
    gpointer user_data);

/**
 * GstMeshSioSocketAckFunc:
 * @socket: the socket that acknowledged
 * @args: the ack's arguments (binary ones as placeholders)
 * @attachments: (element-type GBytes) (nullable): the binary arguments
 * @user_data: user data
 */
typedef void (*GstMeshSioSocketAckFunc) (GstMeshSioSocket * socket,
    JsonArray * args, GPtrArray * attachments, gpointer user_data);

/**
 * GstMeshSioRawEvent:
 * @event: the event name
 * @args: (array length=args_len): the arguments as they came, i.e. the JSON
 *   texts of the values after the name, separated by commas (`{"a":1},2`;
 *   empty when there are none). Checked: valid JSON, in exactly the form
 *   JSON.stringify() writes, so it can be sent on as it is.
 * @args_len: the length of @args in bytes
 * @n_args: the number of arguments
 * @first_arg: (array length=first_arg_len) (nullable): the first argument
 * @first_arg_len: its length in bytes
 *
 * A text event without an ack id, before it is decoded into JsonNodes; see
 * gst_mesh_sio_namespace_set_raw_event_func().
 */
typedef struct
{
  const gchar *event;
  const gchar *args;
  gsize args_len;
  guint n_args;
  const gchar *first_arg;
  gsize first_arg_len;

  /*< private >*/
  guint n_keys;                 /* of the first argument; G_MAXUINT: unknown */
  guint32 key_offsets[16];
  guint32 key_lens[16];
} GstMeshSioRawEvent;

/**
 * GstMeshSioRawEventFunc:
 * @socket: the socket the event came from
 * @event: the event
 * @user_data: user data
 *
 * Returns: %TRUE when the event was handled; %FALSE to have it decoded and
 *   emitted as #GstMeshSioSocket::event, as any other event
 */
typedef gboolean (*GstMeshSioRawEventFunc) (GstMeshSioSocket * socket,
    const GstMeshSioRawEvent * event, gpointer user_data);

/**
 * GstMeshSioAdapterFunc:
 * @nsp: the namespace
 * @rooms: (array zero-terminated=1): the rooms it went to (empty: all)
 * @except: (array zero-terminated=1): the rooms (socket ids) it skipped
 * @event: the event
 * @args: its arguments
 * @attachments: (nullable): binary attachments
 * @user_data: user data
 *
 * See gst_mesh_sio_namespace_set_adapter().
 */
typedef void (*GstMeshSioAdapterFunc) (GstMeshSioNamespace * nsp,
    const gchar * const *rooms, const gchar * const *except,
    const gchar * event, JsonArray * args, GPtrArray * attachments,
    gpointer user_data);

GstMeshSioServer *gst_mesh_sio_server_new (GstMeshEioServer * engine);
GstMeshEioServer *gst_mesh_sio_server_get_engine (GstMeshSioServer * server);
GstMeshSioNamespace *gst_mesh_sio_server_add_namespace (GstMeshSioServer *
    server, const gchar * name);
GstMeshSioNamespace *gst_mesh_sio_server_get_namespace (GstMeshSioServer *
    server, const gchar * name);
guint gst_mesh_sio_server_emit_to (GstMeshSioServer * server,
    const gchar * nsp, const gchar * room, GstMeshSioSocket * except,
    const gchar * event, JsonArray * args, GPtrArray * attachments);

const gchar *gst_mesh_sio_namespace_get_name (GstMeshSioNamespace * nsp);
void gst_mesh_sio_namespace_set_connect_check (GstMeshSioNamespace * nsp,
    GstMeshSioConnectCheckFunc func, gpointer user_data,
    GDestroyNotify notify);
guint gst_mesh_sio_namespace_get_n_sockets (GstMeshSioNamespace * nsp);
GstMeshSioSocket *gst_mesh_sio_namespace_lookup (GstMeshSioNamespace * nsp,
    const gchar * id);
guint gst_mesh_sio_namespace_emit (GstMeshSioNamespace * nsp,
    const gchar * room, GstMeshSioSocket * except, const gchar * event,
    JsonArray * args, GPtrArray * attachments);
void gst_mesh_sio_namespace_set_raw_event_func (GstMeshSioNamespace * nsp,
    GstMeshSioRawEventFunc func, gpointer user_data, GDestroyNotify notify);
void gst_mesh_sio_namespace_set_adapter (GstMeshSioNamespace * nsp,
    GstMeshSioAdapterFunc func, gpointer user_data, GDestroyNotify notify);
gboolean gst_mesh_sio_namespace_has_room (GstMeshSioNamespace * nsp,
    const gchar * room);
GPtrArray *gst_mesh_sio_namespace_select (GstMeshSioNamespace * nsp,
    const gchar * const *rooms, const gchar * const *except);
guint gst_mesh_sio_namespace_deliver (GstMeshSioNamespace * nsp,
    const gchar * const *rooms, const gchar * const *except,
    const gchar * event, JsonArray * args);

gboolean gst_mesh_sio_raw_event_first_arg_has_member (const
    GstMeshSioRawEvent * event, const gchar * member);

const gchar *gst_mesh_sio_socket_get_id (GstMeshSioSocket * socket);
GstMeshSioNamespace *gst_mesh_sio_socket_get_namespace (GstMeshSioSocket *
    socket);
JsonNode *gst_mesh_sio_socket_get_auth (GstMeshSioSocket * socket);
GstMeshEioSocket *gst_mesh_sio_socket_get_engine_socket (GstMeshSioSocket *
    socket);
gboolean gst_mesh_sio_socket_is_connected (GstMeshSioSocket * socket);

void gst_mesh_sio_socket_emit (GstMeshSioSocket * socket,
    const gchar * event, JsonArray * args, GPtrArray * attachments);
void gst_mesh_sio_socket_emit_with_ack (GstMeshSioSocket * socket,
    const gchar * event, JsonArray * args, GPtrArray * attachments,
    GstMeshSioSocketAckFunc callback, gpointer user_data, GDestroyNotify notify);
void gst_mesh_sio_socket_ack (GstMeshSioSocket * socket, gint64 ack_id,
    JsonArray * args, GPtrArray * attachments);
guint gst_mesh_sio_socket_broadcast (GstMeshSioSocket * socket,
    const gchar * event, JsonArray * args, GPtrArray * attachments);
guint gst_mesh_sio_socket_broadcast_raw (GstMeshSioSocket * socket,
    const gchar * event, const gchar * args, gsize args_len);
void gst_mesh_sio_socket_join (GstMeshSioSocket * socket, const gchar * room);
void gst_mesh_sio_socket_leave (GstMeshSioSocket * socket,
    const gchar * room);
gboolean gst_mesh_sio_socket_in_room (GstMeshSioSocket * socket,
    const gchar * room);
gchar **gst_mesh_sio_socket_get_rooms (GstMeshSioSocket * socket);
void gst_mesh_sio_socket_disconnect (GstMeshSioSocket * socket,
    gboolean close);

/* `{"_placeholder":true,"num":N}`: stands for attachment N in args. */
JsonNode *gst_mesh_sio_placeholder_new (guint num);

G_END_DECLS
