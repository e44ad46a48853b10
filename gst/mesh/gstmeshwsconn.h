/* gst-mesh: server-side WebSocket connections (RFC 6455) for the Engine.IO
 * server, after SoupServer has answered the upgrade handshake.
 *
 * Private to libgstmesh (not installed).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _GstMeshWsPoller GstMeshWsPoller;
typedef struct _GstMeshWsConn GstMeshWsConn;

/**
 * GstMeshWsMessageFunc:
 * @conn: the connection
 * @binary: whether the message is binary (else UTF-8 text, validated)
 * @data: (array length=len): the message; valid during the call only
 * @len: its length
 * @user_data: user data
 *
 * A complete message from the client (fragments reassembled).
 */
typedef void (*GstMeshWsMessageFunc) (GstMeshWsConn * conn, gboolean binary,
    const guint8 * data, gsize len, gpointer user_data);

/**
 * GstMeshWsClosedFunc:
 * @conn: the connection
 * @error: (nullable): why, when the connection failed (a protocol error,
 *   invalid UTF-8, a message over the size limit: the close frame with the
 *   matching code is on its way); %NULL when the client closed it (close
 *   frame, end of stream, reset)
 * @user_data: user data
 *
 * The connection is over; called once, and never after
 * gst_mesh_ws_conn_close().
 */
typedef void (*GstMeshWsClosedFunc) (GstMeshWsConn * conn,
    const GError * error, gpointer user_data);

GstMeshWsPoller *gst_mesh_ws_poller_new (GMainContext * context);
void gst_mesh_ws_poller_free (GstMeshWsPoller * poller);
guint gst_mesh_ws_poller_get_n_connections (GstMeshWsPoller * poller);
void gst_mesh_ws_conn_read_pending (GstMeshWsConn * conn);
void gst_mesh_ws_poller_get_bytes (GstMeshWsPoller * poller,
    guint64 * bytes_in, guint64 * bytes_out);

GstMeshWsConn *gst_mesh_ws_conn_new (GstMeshWsPoller * poller,
    GIOStream * stream, GSocket * socket, guint64 max_payload);
GstMeshWsConn *gst_mesh_ws_conn_ref (GstMeshWsConn * conn);
void gst_mesh_ws_conn_unref (GstMeshWsConn * conn);

void gst_mesh_ws_conn_set_handlers (GstMeshWsConn * conn,
    GstMeshWsMessageFunc message_func, GstMeshWsClosedFunc closed_func,
    gpointer user_data);
gboolean gst_mesh_ws_conn_is_open (GstMeshWsConn * conn);

void gst_mesh_ws_conn_send (GstMeshWsConn * conn, gboolean binary,
    const gchar * head, gsize head_len, gconstpointer data, gsize len);
void gst_mesh_ws_conn_close (GstMeshWsConn * conn, gushort code);

G_END_DECLS
