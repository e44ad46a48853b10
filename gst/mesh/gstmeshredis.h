/* gst-mesh: a Redis pub/sub client on a GLib main context (hiredis).
 *
 * Two connections, as every pub/sub user of Redis has: one subscribed
 * (SUBSCRIBE and PSUBSCRIBE put a connection in a mode where it takes no
 * other command) and one for PUBLISH and queries. Both are made again
 * after a loss, with a back-off from 250 ms to 5 s, and the subscriptions
 * are made again on the new connection; what is published while Redis is
 * away is dropped (pub/sub keeps nothing either), and the state callback
 * says when the link goes down and comes back, so the layer above can
 * repair what the others missed.
 *
 * Debug category: meshredis.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GstMeshRedis GstMeshRedis;

/**
 * GstMeshRedisMessageFunc:
 * @channel: the channel the message was published on
 * @data: (array length=len): the message
 * @user_data: user data
 */
typedef void (*GstMeshRedisMessageFunc) (const gchar * channel,
    const guint8 * data, gsize len, gpointer user_data);

/**
 * GstMeshRedisStateFunc:
 * @up: %TRUE once both connections are made and subscribed (again), %FALSE
 *   when one of them was lost or could not be made
 * @reason: (nullable): why it is down
 * @user_data: user data
 */
typedef void (*GstMeshRedisStateFunc) (gboolean up, const gchar * reason,
    gpointer user_data);

/**
 * GstMeshRedisCountFunc:
 * @n: the answer (PUBSUB NUMSUB: the subscribers of the channel), or -1
 *   when Redis did not answer
 */
typedef void (*GstMeshRedisCountFunc) (gint64 n, gpointer user_data);

/* Parses redis://HOST[:PORT][/DB] (port 6379, db 0 by default). */
gboolean gst_mesh_redis_parse_url (const gchar * url, gchar ** host,
    guint * port, guint * db, GError ** error);

/* A client for @url that will run in @context (NULL: the thread-default
 * one at the time of the call); nothing is connected before
 * gst_mesh_redis_start(). */
GstMeshRedis *gst_mesh_redis_new (const gchar * url, GMainContext * context,
    GstMeshRedisMessageFunc message_func, GstMeshRedisStateFunc state_func,
    gpointer user_data, GError ** error);
/* Channels and patterns to listen to, kept across reconnections; call
 * before gst_mesh_redis_start(). */
void gst_mesh_redis_subscribe (GstMeshRedis * redis, const gchar * channel);
void gst_mesh_redis_psubscribe (GstMeshRedis * redis, const gchar * pattern);
/* Connects, and keeps connecting. */
void gst_mesh_redis_start (GstMeshRedis * redis);
gboolean gst_mesh_redis_is_up (GstMeshRedis * redis);
/* PUBLISH @channel @data; FALSE (and nothing sent) while down. */
gboolean gst_mesh_redis_publish (GstMeshRedis * redis, const gchar * channel,
    const guint8 * data, gsize len);
/* PUBSUB NUMSUB @channel, answered once to @func (-1 when Redis did not
 * answer, also when the client is freed first). */
void gst_mesh_redis_count_subscribers (GstMeshRedis * redis,
    const gchar * channel, GstMeshRedisCountFunc func, gpointer user_data);
/* "HOST:PORT", for messages. */
const gchar *gst_mesh_redis_get_address (GstMeshRedis * redis);
/* Disconnects; no callback is called after it returns. */
void gst_mesh_redis_free (GstMeshRedis * redis);

G_END_DECLS
