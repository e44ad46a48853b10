/* gst-mesh: Engine.IO v4 server on libsoup's SoupServer.
 *
 * Owns sessions, the WebSocket and HTTP long-polling transports, the upgrade
 * between them, heartbeats, CORS and the reference server's HTTP error
 * replies. Knows nothing about Socket.IO: it moves messages.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/**
 * GstMeshEioError:
 *
 * The error codes of the reference server, sent as
 * `{"code":N,"message":"..."}` with HTTP 400 (403 for FORBIDDEN).
 */
typedef enum
{
  GST_MESH_EIO_ERROR_UNKNOWN_TRANSPORT = 0,
  GST_MESH_EIO_ERROR_UNKNOWN_SID = 1,
  GST_MESH_EIO_ERROR_BAD_HANDSHAKE_METHOD = 2,
  GST_MESH_EIO_ERROR_BAD_REQUEST = 3,
  GST_MESH_EIO_ERROR_FORBIDDEN = 4,
  GST_MESH_EIO_ERROR_UNSUPPORTED_PROTOCOL_VERSION = 5,
} GstMeshEioError;

#define GST_MESH_TYPE_EIO_SERVER (gst_mesh_eio_server_get_type ())
G_DECLARE_FINAL_TYPE (GstMeshEioServer, gst_mesh_eio_server, GST_MESH,
    EIO_SERVER, GObject);

#define GST_MESH_TYPE_EIO_SOCKET (gst_mesh_eio_socket_get_type ())
G_DECLARE_FINAL_TYPE (GstMeshEioSocket, gst_mesh_eio_socket, GST_MESH,
    EIO_SOCKET, GObject);

/**
 * GstMeshEioAllowRequestFunc:
 * @server: the server
 * @msg: the handshake request
 * @message: (out) (transfer full) (nullable): the reason sent to the client
 *   when refusing (default "Forbidden")
 * @user_data: user data
 *
 * Decides whether a handshake may open a session, as the reference's
 * `allowRequest` option. Refused requests get HTTP 403 with code 4.
 *
 * Returns: %TRUE to accept
 */
typedef gboolean (*GstMeshEioAllowRequestFunc) (GstMeshEioServer * server,
    SoupServerMessage * msg, gchar ** message, gpointer user_data);

GstMeshEioServer *gst_mesh_eio_server_new (void);

gboolean gst_mesh_eio_server_attach (GstMeshEioServer * server,
    SoupServer * soup_server, const gchar * path, GError ** error);
gboolean gst_mesh_eio_server_listen (GstMeshEioServer * server,
    const gchar * address, guint port, GError ** error);
SoupServer *gst_mesh_eio_server_get_soup_server (GstMeshEioServer * server);
guint gst_mesh_eio_server_get_port (GstMeshEioServer * server);
const gchar *gst_mesh_eio_server_get_path (GstMeshEioServer * server);

void gst_mesh_eio_server_set_allow_request_func (GstMeshEioServer * server,
    GstMeshEioAllowRequestFunc func, gpointer user_data,
    GDestroyNotify notify);

GstMeshEioSocket *gst_mesh_eio_server_lookup (GstMeshEioServer * server,
    const gchar * sid);
guint gst_mesh_eio_server_get_n_clients (GstMeshEioServer * server);

#define GST_MESH_EIO_N_ERRORS 6
const gchar *gst_mesh_eio_error_message (GstMeshEioError code);

/**
 * GstMeshEioStats:
 * @clients_polling: open sessions on HTTP long-polling, now
 * @clients_websocket: open sessions on WebSocket, now
 * @sessions_opened: sessions opened since the server started
 * @handshake_errors: requests refused, by #GstMeshEioError code
 * @bytes_received: Engine.IO bytes in (POST bodies, WebSocket frames)
 * @bytes_sent: Engine.IO bytes out (poll responses, WebSocket frames)
 * @header_timeouts: connections shut down for a request head that did
 *   not come within header-timeout
 * @payloads_too_large: requests refused with 413 (over max-payload)
 * @body_timeouts: connections shut down because the body of a refused
 *   request did not end within header-timeout
 */
typedef struct
{
  guint clients_polling;
  guint clients_websocket;
  guint64 sessions_opened;
  guint64 handshake_errors[GST_MESH_EIO_N_ERRORS];
  guint64 bytes_received;
  guint64 bytes_sent;
  guint64 header_timeouts;
  guint64 payloads_too_large;
  guint64 body_timeouts;
} GstMeshEioStats;

const gchar *gst_mesh_eio_server_get_client_address (GstMeshEioServer *
    server, SoupServerMessage * msg);
void gst_mesh_eio_server_get_stats (GstMeshEioServer * server,
    GstMeshEioStats * stats);
void gst_mesh_eio_server_close_all (GstMeshEioServer * server);

/* Adds the CORS headers configured in cors-origins to a response; for
 * handlers that share the SoupServer (static files). */
void gst_mesh_eio_server_apply_cors (GstMeshEioServer * server,
    SoupServerMessage * msg);

const gchar *gst_mesh_eio_socket_get_id (GstMeshEioSocket * socket);
const gchar *gst_mesh_eio_socket_get_transport (GstMeshEioSocket * socket);
const gchar *gst_mesh_eio_socket_get_remote_address (GstMeshEioSocket *
    socket);
SoupMessageHeaders *gst_mesh_eio_socket_get_request_headers (GstMeshEioSocket
    * socket);
GHashTable *gst_mesh_eio_socket_get_query (GstMeshEioSocket * socket);
const gchar *gst_mesh_eio_socket_get_url (GstMeshEioSocket * socket);
gboolean gst_mesh_eio_socket_is_secure (GstMeshEioSocket * socket);
gboolean gst_mesh_eio_socket_is_open (GstMeshEioSocket * socket);
GstMeshEioServer *gst_mesh_eio_socket_get_server (GstMeshEioSocket * socket);

/**
 * GstMeshEioSocketFuncs:
 * @message: a message, as the #GstMeshEioSocket::message signal (called
 *   before it), but as bytes valid during the call only: no copy is made
 *   for it
 * @close: as the #GstMeshEioSocket::close signal, called before it
 *
 * For a layer that owns every session (the Socket.IO server): a pointer per
 * session instead of signal handlers, which cost memory for each of
 * thousands of sessions, and no copy of each message.
 */
typedef struct
{
  void (*message) (GstMeshEioSocket * socket, const gchar * data, gsize len,
      gboolean binary, gpointer user_data);
  void (*close) (GstMeshEioSocket * socket, const gchar * reason,
      gpointer user_data);
} GstMeshEioSocketFuncs;

void gst_mesh_eio_socket_set_funcs (GstMeshEioSocket * socket,
    const GstMeshEioSocketFuncs * funcs, gpointer user_data);

void gst_mesh_eio_socket_send (GstMeshEioSocket * socket, GBytes * data,
    gboolean binary);
void gst_mesh_eio_socket_send_text (GstMeshEioSocket * socket,
    const gchar * text);
void gst_mesh_eio_socket_send_data (GstMeshEioSocket * socket,
    gconstpointer data, gsize len, gboolean binary);
void gst_mesh_eio_socket_close (GstMeshEioSocket * socket);

G_END_DECLS
