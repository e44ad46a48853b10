/* gst-mesh: the seed's signalling server in C.
 *
 * A GstMeshSioServer with the seed's semantics (offer, answer and candidate
 * relayed unchanged to every other client of the namespace) plus optional
 * static files and TLS on one port: what gst-mesh-server and meshsignal's
 * in-process mode run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/mesh/gstmeshsioserver.h>

G_BEGIN_DECLS

#define GST_MESH_TYPE_SIGNAL_SERVER (gst_mesh_signal_server_get_type ())
G_DECLARE_FINAL_TYPE (GstMeshSignalServer, gst_mesh_signal_server, GST_MESH,
    SIGNAL_SERVER, GObject);

GstMeshSignalServer *gst_mesh_signal_server_new (void);
gboolean gst_mesh_signal_server_start (GstMeshSignalServer * server,
    GError ** error);
void gst_mesh_signal_server_stop (GstMeshSignalServer * server);
guint gst_mesh_signal_server_get_port (GstMeshSignalServer * server);
gchar *gst_mesh_signal_server_get_url (GstMeshSignalServer * server);
GstMeshSioServer *gst_mesh_signal_server_get_sio_server (GstMeshSignalServer
    * server);

G_END_DECLS
