/* gst-mesh: a Socket.IO namespace as a node of a Redis cluster (see the
 * header; the wire is in docs/protocol.md §9).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshcluster.h"
#include "gstmeshmsgpack.h"
#include "gstmeshredis.h"

#include <gst/gst.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mesh_cluster_debug);
#define GST_CAT_DEFAULT mesh_cluster_debug

/* Socket.IO's packet type of an event (socket.io-parser) */
#define SIO_EVENT 2

struct _GstMeshCluster
{
  GstMeshSioNamespace *nsp;     /* owned */
  GstMeshRedis *redis;
  gchar *uid;
  gchar *channel;               /* KEY#NSP# */
  GstMeshClusterStateFunc state_func;
  gpointer user_data;
  guint64 published, received, malformed;
  gboolean said_binary;
};

static gchar *
new_uid (void)
{
  static const gchar chars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  gchar *uid = g_malloc (7);

  for (guint i = 0; i < 6; i++)
    uid[i] = chars[g_random_int_range (0, sizeof (chars) - 1)];
  uid[6] = '\0';
  return uid;
}

static JsonNode *
string_array (const gchar * const *strv)
{
  JsonArray *a = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; strv && strv[i]; i++)
    json_array_add_string_element (a, strv[i]);
  json_node_take_array (node, a);
  return node;
}

/* A broadcast made here, published as the adapter publishes it */
static void
on_broadcast (GstMeshSioNamespace * nsp, const gchar * const *rooms,
    const gchar * const *except, const gchar * event, JsonArray * args,
    GPtrArray * attachments, gpointer user_data)
{
  GstMeshCluster *c = user_data;
  JsonArray *msg, *data;
  JsonObject *packet, *opts;
  JsonNode *node;
  GByteArray *out;
  gchar *channel;
  guint n_rooms = 0;

  if (attachments && attachments->len) {
    if (!c->said_binary)
      GST_WARNING ("%s: binary attachments are not carried to the other "
          "servers of the cluster", event);
    c->said_binary = TRUE;
    return;
  }
  while (rooms && rooms[n_rooms])
    n_rooms++;

  data = json_array_new ();
  json_array_add_string_element (data, event);
  for (guint i = 0; args && i < json_array_get_length (args); i++)
    json_array_add_element (data,
        json_node_copy (json_array_get_element (args, i)));
  packet = json_object_new ();
  json_object_set_int_member (packet, "type", SIO_EVENT);
  json_object_set_array_member (packet, "data", data);
  json_object_set_string_member (packet, "nsp",
      gst_mesh_sio_namespace_get_name (nsp));
  opts = json_object_new ();
  json_object_set_member (opts, "rooms", string_array (rooms));
  json_object_set_member (opts, "except", string_array (except));
  json_object_set_object_member (opts, "flags", json_object_new ());
  msg = json_array_new ();
  json_array_add_string_element (msg, c->uid);
  json_array_add_object_element (msg, packet);
  json_array_add_object_element (msg, opts);
  node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, msg);

  out = g_byte_array_new ();
  gst_mesh_msgpack_encode (node, out);
  channel = n_rooms == 1 ? g_strconcat (c->channel, rooms[0], "#", NULL) :
      g_strdup (c->channel);
  if (gst_mesh_redis_publish (c->redis, channel, out->data, out->len)) {
    c->published++;
    GST_LOG ("published %s on %s (%u bytes)", event, channel, out->len);
  } else {
    GST_DEBUG ("Redis is down: %s not published on %s", event, channel);
  }
  g_free (channel);
  g_byte_array_unref (out);
  json_node_unref (node);
}

/* The strings of @node, an array of strings, as a NULL-terminated vector;
 * NULL when it is not one */
static gchar **
strv_of (JsonNode * node)
{
  JsonArray *a;
  GPtrArray *v;

  if (!node || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  a = json_node_get_array (node);
  v = g_ptr_array_new ();
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);

    /* the adapter's rooms may be numbers (a room named 5) */
    if (JSON_NODE_HOLDS_VALUE (e) &&
        json_node_get_value_type (e) == G_TYPE_STRING)
      g_ptr_array_add (v, g_strdup (json_node_get_string (e)));
    else if (JSON_NODE_HOLDS_VALUE (e) &&
        json_node_get_value_type (e) == G_TYPE_INT64)
      g_ptr_array_add (v, g_strdup_printf ("%" G_GINT64_FORMAT,
              json_node_get_int (e)));
    else {
      g_ptr_array_free (v, TRUE);
      return NULL;
    }
  }
  g_ptr_array_add (v, NULL);
  return (gchar **) g_ptr_array_free (v, FALSE);
}

static void
malformed (GstMeshCluster * c, const gchar * channel, const gchar * what)
{
  c->malformed++;
  GST_WARNING ("a message on %s from the cluster dropped: %s", channel, what);
}

static void
on_message (const gchar * channel, const guint8 * bytes, gsize len,
    gpointer user_data)
{
  GstMeshCluster *c = user_data;
  GError *error = NULL;
  JsonNode *node, *e;
  JsonArray *msg, *data, *args;
  JsonObject *packet, *opts;
  const gchar *uid, *nsp;
  gchar **rooms = NULL, **except = NULL;
  gsize plen = strlen (c->channel);

  if (!g_str_has_prefix (channel, c->channel))
    return;
  /* KEY#NSP#ROOM#: only when a socket here is in that room (or is it) */
  if (strlen (channel) > plen) {
    gchar *room = g_strndup (channel + plen, strlen (channel) - plen - 1);
    gboolean here = gst_mesh_sio_namespace_has_room (c->nsp, room);

    g_free (room);
    if (!here)
      return;
  }
  c->received++;
  node = gst_mesh_msgpack_decode (bytes, len, &error);
  if (!node) {
    malformed (c, channel, error->message);
    g_error_free (error);
    return;
  }
  if (!JSON_NODE_HOLDS_ARRAY (node) ||
      json_array_get_length (msg = json_node_get_array (node)) != 3) {
    malformed (c, channel, "not an array [uid, packet, opts]");
    goto done;
  }
  e = json_array_get_element (msg, 0);
  uid = JSON_NODE_HOLDS_VALUE (e) &&
      json_node_get_value_type (e) == G_TYPE_STRING ?
      json_node_get_string (e) : NULL;
  if (!uid) {
    malformed (c, channel, "the sender's uid is not a string");
    goto done;
  }
  if (g_str_equal (uid, c->uid))
    goto done;                  /* ours */
  e = json_array_get_element (msg, 1);
  packet = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
  e = json_array_get_element (msg, 2);
  opts = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
  if (!packet || !opts) {
    malformed (c, channel, "the packet or the options are not objects");
    goto done;
  }
  nsp = json_object_has_member (packet, "nsp") ?
      json_object_get_string_member_with_default (packet, "nsp", NULL) : "/";
  if (!nsp || !g_str_equal (nsp, gst_mesh_sio_namespace_get_name (c->nsp)))
    goto done;                  /* another namespace's */
  if (json_object_get_int_member_with_default (packet, "type", -1) !=
      SIO_EVENT) {
    malformed (c, channel, "not an event (packet type 2); binary events "
        "are not carried");
    goto done;
  }
  e = json_object_get_member (packet, "data");
  data = e && JSON_NODE_HOLDS_ARRAY (e) ? json_node_get_array (e) : NULL;
  if (!data || json_array_get_length (data) == 0 ||
      !JSON_NODE_HOLDS_VALUE (json_array_get_element (data, 0)) ||
      json_node_get_value_type (json_array_get_element (data, 0)) !=
      G_TYPE_STRING) {
    malformed (c, channel, "the event's data is not [name, ...args]");
    goto done;
  }
  rooms = strv_of (json_object_get_member (opts, "rooms"));
  except = json_object_has_member (opts, "except") ?
      strv_of (json_object_get_member (opts, "except")) : g_new0 (gchar *, 1);
  if (!rooms || !except) {
    malformed (c, channel, "rooms or except is not an array of strings");
    goto done;
  }
  args = json_array_new ();
  for (guint i = 1; i < json_array_get_length (data); i++)
    json_array_add_element (args,
        json_node_copy (json_array_get_element (data, i)));
  {
    guint n = gst_mesh_sio_namespace_deliver (c->nsp,
        (const gchar * const *) rooms, (const gchar * const *) except,
        json_array_get_string_element (data, 0), args);

    GST_LOG ("%s from node %s given to %u sockets",
        json_array_get_string_element (data, 0), uid, n);
  }
  json_array_unref (args);

done:
  g_strfreev (rooms);
  g_strfreev (except);
  json_node_unref (node);
}

static void
on_redis_state (gboolean up, const gchar * reason, gpointer user_data)
{
  GstMeshCluster *c = user_data;

  if (c->state_func)
    c->state_func (c, up, reason, c->user_data);
}

GstMeshCluster *
gst_mesh_cluster_new (GstMeshSioNamespace * nsp, const gchar * redis_url,
    const gchar * key, GstMeshClusterStateFunc state_func, gpointer user_data,
    GError ** error)
{
  GstMeshCluster *c;

  g_return_val_if_fail (GST_MESH_IS_SIO_NAMESPACE (nsp), NULL);
  if (!mesh_cluster_debug)
    GST_DEBUG_CATEGORY_INIT (mesh_cluster_debug, "meshcluster", 0,
        "gst-mesh cluster on Redis (Socket.IO Redis adapter)");
  if (!key || !*key)
    key = "socket.io";
  c = g_new0 (GstMeshCluster, 1);
  c->redis = gst_mesh_redis_new (redis_url, NULL, on_message, on_redis_state,
      c, error);
  if (!c->redis) {
    g_free (c);
    return NULL;
  }
  c->nsp = g_object_ref (nsp);
  c->uid = new_uid ();
  c->channel = g_strconcat (key, "#", gst_mesh_sio_namespace_get_name (nsp),
      "#", NULL);
  c->state_func = state_func;
  c->user_data = user_data;
  {
    gchar *pattern = g_strconcat (c->channel, "*", NULL);

    gst_mesh_redis_psubscribe (c->redis, pattern);
    g_free (pattern);
  }
  return c;
}

void
gst_mesh_cluster_start (GstMeshCluster * c)
{
  gst_mesh_sio_namespace_set_adapter (c->nsp, on_broadcast, c, NULL);
  GST_INFO ("node %s of the cluster on Redis at %s, channels %s*", c->uid,
      gst_mesh_redis_get_address (c->redis), c->channel);
  gst_mesh_redis_start (c->redis);
}

const gchar *
gst_mesh_cluster_get_uid (GstMeshCluster * c)
{
  return c->uid;
}

gboolean
gst_mesh_cluster_is_up (GstMeshCluster * c)
{
  return gst_mesh_redis_is_up (c->redis);
}

void
gst_mesh_cluster_get_counts (GstMeshCluster * c, guint64 * published,
    guint64 * received, guint64 * malformed_)
{
  if (published)
    *published = c->published;
  if (received)
    *received = c->received;
  if (malformed_)
    *malformed_ = c->malformed;
}

void
gst_mesh_cluster_free (GstMeshCluster * c)
{
  if (!c)
    return;
  gst_mesh_sio_namespace_set_adapter (c->nsp, NULL, NULL, NULL);
  gst_mesh_redis_free (c->redis);
  g_object_unref (c->nsp);
  g_free (c->channel);
  g_free (c->uid);
  g_free (c);
}
