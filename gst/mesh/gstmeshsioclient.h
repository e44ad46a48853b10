/* gst-mesh: Socket.IO v5 client over an Engine.IO v4 WebSocket (libsoup 3).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * GstMeshSioClientState:
 * @GST_MESH_SIO_CLIENT_STATE_DISCONNECTED: not started, or stopped
 * @GST_MESH_SIO_CLIENT_STATE_CONNECTING: WebSocket and namespace handshake
 *   under way
 * @GST_MESH_SIO_CLIENT_STATE_CONNECTED: the namespace accepted us; events
 *   flow
 * @GST_MESH_SIO_CLIENT_STATE_RECONNECTING: the connection was lost (or never
 *   made); waiting for the back-off delay before the next attempt
 * @GST_MESH_SIO_CLIENT_STATE_FAILED: the server refused us (CONNECT_ERROR or
 *   a server-side disconnect); no more attempts until connect() again
 */
typedef enum
{
  GST_MESH_SIO_CLIENT_STATE_DISCONNECTED,
  GST_MESH_SIO_CLIENT_STATE_CONNECTING,
  GST_MESH_SIO_CLIENT_STATE_CONNECTED,
  GST_MESH_SIO_CLIENT_STATE_RECONNECTING,
  GST_MESH_SIO_CLIENT_STATE_FAILED,
} GstMeshSioClientState;

GType gst_mesh_sio_client_state_get_type (void);
#define GST_TYPE_MESH_SIO_CLIENT_STATE (gst_mesh_sio_client_state_get_type ())
const gchar *gst_mesh_sio_client_state_to_string (GstMeshSioClientState state);

#define GST_TYPE_MESH_SIO_CLIENT (gst_mesh_sio_client_get_type ())
G_DECLARE_FINAL_TYPE (GstMeshSioClient, gst_mesh_sio_client, GST,
    MESH_SIO_CLIENT, GObject);

/**
 * GstMeshSioAckFunc:
 * @client: the client
 * @args: (nullable): the acknowledgement's arguments, %NULL on error
 * @error: (nullable): why no acknowledgement came (timeout, disconnect)
 * @user_data: user data
 */
typedef void (*GstMeshSioAckFunc) (GstMeshSioClient * client,
    JsonArray * args, const GError * error, gpointer user_data);

/* Checks @url (http, https, ws or wss, with a host) and creates a client
 * bound to the thread-default main context of the caller. Nothing is sent
 * before gst_mesh_sio_client_connect(). */
GstMeshSioClient *gst_mesh_sio_client_new (const gchar * url, GError ** error);

/* The WebSocket URL actually used (path and Engine.IO query included). */
gchar *gst_mesh_sio_client_get_websocket_url (GstMeshSioClient * client);

void gst_mesh_sio_client_connect (GstMeshSioClient * client);
void gst_mesh_sio_client_disconnect (GstMeshSioClient * client);

GstMeshSioClientState gst_mesh_sio_client_get_state (GstMeshSioClient *
    client);
/* The Socket.IO id the server gave us in this connection (NULL when not
 * connected). */
gchar *gst_mesh_sio_client_dup_id (GstMeshSioClient * client);

/* Thread-safe. The network may have changed (a call's media stopped): when
 * the WebSocket's local address is no longer one of this host's, the
 * connection is dropped and a new one started at once, instead of waiting
 * for the server's pings to time out (pingInterval + pingTimeout, 45 s
 * with Socket.IO's defaults). */
void gst_mesh_sio_client_check_connection (GstMeshSioClient * client);

/* Thread-safe: may be called from any thread; the packet is sent from the
 * client's main context. While not connected, events are buffered (up to
 * a limit) and sent after (re)connection, like socket.io-client does. */
void gst_mesh_sio_client_emit (GstMeshSioClient * client,
    const gchar * event, JsonArray * args);
void gst_mesh_sio_client_emit_with_ack (GstMeshSioClient * client,
    const gchar * event, JsonArray * args, guint timeout_ms,
    GstMeshSioAckFunc func, gpointer user_data, GDestroyNotify notify);
/* Answers an event the server sent with an ack id. */
void gst_mesh_sio_client_ack (GstMeshSioClient * client, gint64 ack_id,
    JsonArray * args);

G_END_DECLS
