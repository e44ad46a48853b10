/* gst-mesh: one namespace of a Socket.IO server as a node of a cluster on
 * Redis, speaking @socket.io/redis-adapter's wire (docs/protocol.md §9).
 *
 * A broadcast made here (to everyone, to a room, or to a socket id that
 * is not here) is published as the adapter publishes it: on channel
 * KEY#NSP# or, for a single room, KEY#NSP#ROOM#, the notepack MessagePack
 * of [uid, {type: 2, data: [event, ...args], nsp}, {rooms, except,
 * flags}]. What the other nodes publish (C servers, or Node servers using
 * the adapter) is given to the sockets here that it is for. Each node has
 * a random uid of 6 characters and ignores its own messages.
 *
 * Debug category: meshcluster (and meshredis for the connections).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/mesh/gstmeshsioserver.h>

G_BEGIN_DECLS

typedef struct _GstMeshCluster GstMeshCluster;

/**
 * GstMeshClusterStateFunc:
 * @up: whether the node reaches Redis (and so the other nodes)
 * @reason: (nullable): why not
 */
typedef void (*GstMeshClusterStateFunc) (GstMeshCluster * cluster,
    gboolean up, const gchar * reason, gpointer user_data);

/* A node for @nsp on the Redis at @redis_url (redis://HOST[:PORT][/DB]),
 * with channel prefix @key (NULL: "socket.io", the adapter's default), in
 * the thread-default main context. */
GstMeshCluster *gst_mesh_cluster_new (GstMeshSioNamespace * nsp,
    const gchar * redis_url, const gchar * key,
    GstMeshClusterStateFunc state_func, gpointer user_data, GError ** error);
/* Connects (and keeps reconnecting); broadcasts go out from now on. */
void gst_mesh_cluster_start (GstMeshCluster * cluster);
const gchar *gst_mesh_cluster_get_uid (GstMeshCluster * cluster);
gboolean gst_mesh_cluster_is_up (GstMeshCluster * cluster);
/* Published and received messages, and received ones that were dropped
 * as malformed. */
void gst_mesh_cluster_get_counts (GstMeshCluster * cluster,
    guint64 * published, guint64 * received, guint64 * malformed);
void gst_mesh_cluster_free (GstMeshCluster * cluster);

G_END_DECLS
