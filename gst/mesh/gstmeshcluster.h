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
 * The adapter's requests (channel KEY-request#NSP#, answers on
 * KEY-response#NSP#) are answered as Node's adapter answers them
 * (fetchSockets, allRooms, socketsJoin/Leave, disconnectSockets,
 * serverSideEmit, broadcasts with acks; client acks are not collected),
 * and fetchSockets and serverSideEmit can be made from here.
 *
 * Liveness, which the adapter (8.x) does not have: each node sends
 * serverSideEmit("mesh-heartbeat", UID) every second; a node that sent
 * heartbeats and then none for 4 s is lost, and the layer above is told
 * (its members leave their rooms). A node that never sent one (a plain
 * Node server with the adapter) is never declared lost.
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

/**
 * GstMeshClusterHandlers:
 * @socket_data: the `data` of a local socket in a fetchSockets answer (as
 *   Node's socket.data); NULL: `{}`
 * @server_event: another node's serverSideEmit(@event, ...@args)
 * @delivered: a broadcast from node @node, after it went to the local
 *   sockets it was for
 * @node_lost: node @node, which sent heartbeats, sent none for
 *   GST_MESH_CLUSTER_NODE_TIMEOUT_MS: it is gone (its process, or its link
 *   to Redis)
 * @node_back: a node that was lost sends heartbeats again (its link to
 *   Redis came back): what it did meanwhile was not heard here
 *
 * What the layer above adds to the adapter's requests. Each may be NULL.
 */
typedef struct
{
  JsonNode *(*socket_data) (GstMeshCluster * cluster,
      GstMeshSioSocket * socket, gpointer user_data);
  void (*server_event) (GstMeshCluster * cluster, const gchar * event,
      JsonArray * args, gpointer user_data);
  void (*delivered) (GstMeshCluster * cluster, const gchar * node,
      const gchar * const *rooms, const gchar * event, JsonArray * args,
      gpointer user_data);
  void (*node_lost) (GstMeshCluster * cluster, const gchar * node,
      gpointer user_data);
  void (*node_back) (GstMeshCluster * cluster, const gchar * node,
      gpointer user_data);
} GstMeshClusterHandlers;

/* Every node of ours says serverSideEmit("mesh-heartbeat", UID) this
 * often; one that is silent this long is lost. */
#define GST_MESH_CLUSTER_HEARTBEAT_MS 1000
#define GST_MESH_CLUSTER_NODE_TIMEOUT_MS 4000

/**
 * GstMeshClusterFetchFunc:
 * @sockets: the sockets of the other nodes in the rooms asked for, each
 *   `{"id", "rooms", "data"}` as the adapter's fetchSockets gives them
 * @missing: how many nodes did not answer in time (5 s)
 */
typedef void (*GstMeshClusterFetchFunc) (GstMeshCluster * cluster,
    JsonArray * sockets, guint missing, gpointer user_data);

/* A node for @nsp on the Redis at @redis_url (redis://HOST[:PORT][/DB]),
 * with channel prefix @key (NULL: "socket.io", the adapter's default), in
 * the thread-default main context. */
GstMeshCluster *gst_mesh_cluster_new (GstMeshSioNamespace * nsp,
    const gchar * redis_url, const gchar * key,
    GstMeshClusterStateFunc state_func, gpointer user_data, GError ** error);
/* Connects (and keeps reconnecting); broadcasts go out from now on. */
void gst_mesh_cluster_start (GstMeshCluster * cluster);
void gst_mesh_cluster_set_handlers (GstMeshCluster * cluster,
    const GstMeshClusterHandlers * handlers, gpointer user_data);
/* fetchSockets(): the sockets in any of @rooms on the other nodes; @func
 * is called once, at once (no other node, or Redis down) or when every
 * node answered or 5 s passed. */
void gst_mesh_cluster_fetch_sockets (GstMeshCluster * cluster,
    const gchar * const *rooms, GstMeshClusterFetchFunc func,
    gpointer user_data);
/* serverSideEmit(@event, ...@args) to the other nodes, no ack. */
void gst_mesh_cluster_server_side_emit (GstMeshCluster * cluster,
    const gchar * event, JsonArray * args);
/* A node the layer above heard of (a member's socket.data.node): watched
 * from now on as if it had just sent a heartbeat, so that one that dies
 * before its first heartbeat reached us is lost all the same. */
void gst_mesh_cluster_watch_node (GstMeshCluster * cluster,
    const gchar * node);
const gchar *gst_mesh_cluster_get_uid (GstMeshCluster * cluster);
gboolean gst_mesh_cluster_is_up (GstMeshCluster * cluster);
/* Published and received messages, and received ones that were dropped
 * as malformed. */
void gst_mesh_cluster_get_counts (GstMeshCluster * cluster,
    guint64 * published, guint64 * received, guint64 * malformed);
void gst_mesh_cluster_free (GstMeshCluster * cluster);

G_END_DECLS
