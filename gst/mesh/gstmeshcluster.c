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
/* how long a request waits for the other nodes (the adapter's
 * requestsTimeout) */
#define REQUEST_TIMEOUT_MS 5000

/* the adapter's request types (lib/index.ts, RequestType) */
enum
{
  REQ_SOCKETS = 0,
  REQ_ALL_ROOMS = 1,
  REQ_REMOTE_JOIN = 2,
  REQ_REMOTE_LEAVE = 3,
  REQ_REMOTE_DISCONNECT = 4,
  REQ_REMOTE_FETCH = 5,
  REQ_SERVER_SIDE_EMIT = 6,
  REQ_BROADCAST = 7,
  REQ_BROADCAST_CLIENT_COUNT = 8,
  REQ_BROADCAST_ACK = 9,
};

typedef struct
{
  GstMeshCluster *cluster;
  gchar *id;
  gchar **rooms;
  GstMeshClusterFetchFunc func;
  gpointer user_data;
  guint n_nodes;                /* subscribers of the request channel */
  guint answered;               /* including ourselves */
  JsonArray *sockets;
  GSource *timeout;
} Fetch;

struct _GstMeshCluster
{
  GstMeshSioNamespace *nsp;     /* owned */
  GstMeshRedis *redis;
  gchar *uid;
  gchar *channel;               /* KEY#NSP# */
  GstMeshClusterStateFunc state_func;
  gpointer user_data;
  gchar *request_channel;       /* KEY-request#NSP# */
  gchar *response_channel;      /* KEY-response#NSP# */
  gchar *specific_channel;      /* KEY-response#NSP#UID# */
  guint64 published, received, malformed;
  gboolean said_binary;
  GstMeshClusterHandlers handlers;
  gpointer handlers_data;
  GHashTable *fetches;          /* request id → Fetch */
  gboolean closing;             /* in gst_mesh_cluster_free() */
  GHashTable *nodes;            /* uid → gint64* monotonic µs of its last
                                 * heartbeat */
  GSource *heartbeat;
  GHashTable *lost;             /* uids of nodes declared lost */
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

/* ------------------------------------------------------------------------ */
/* The adapter's requests and responses                                     */

static void
publish_json (GstMeshCluster * c, const gchar * channel, JsonObject * o)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  gchar *text;

  json_node_take_object (node, o);
  text = json_to_string (node, FALSE);
  if (gst_mesh_redis_publish (c->redis, channel, (const guint8 *) text,
          strlen (text)))
    c->published++;
  g_free (text);
  json_node_unref (node);
}

/* A request or response: JSON when it starts with '{', else MessagePack,
 * as the adapter reads them; NULL (counted, warned) when neither */
static JsonObject *
decode_object (GstMeshCluster * c, const gchar * channel,
    const guint8 * bytes, gsize len)
{
  GError *error = NULL;
  JsonNode *node;
  JsonObject *o;

  if (len && bytes[0] == '{') {
    gchar *text = g_strndup ((const gchar *) bytes, len);

    node = json_from_string (text, &error);
    g_free (text);
  } else {
    node = gst_mesh_msgpack_decode (bytes, len, &error);
  }
  if (!node) {
    malformed (c, channel, error->message);
    g_error_free (error);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    malformed (c, channel, "not an object");
    json_node_unref (node);
    return NULL;
  }
  o = json_object_ref (json_node_get_object (node));
  json_node_unref (node);
  return o;
}

static const gchar *
string_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_STRING ?
      json_node_get_string (n) : NULL;
}

/* opts {rooms, except} of a request; FALSE when malformed */
static gboolean
request_opts (JsonObject * req, gchar *** rooms, gchar *** except)
{
  JsonNode *n = json_object_get_member (req, "opts");
  JsonObject *opts = n && JSON_NODE_HOLDS_OBJECT (n) ?
      json_node_get_object (n) : NULL;

  *rooms = *except = NULL;
  if (!opts)
    return FALSE;
  *rooms = strv_of (json_object_get_member (opts, "rooms"));
  *except = json_object_has_member (opts, "except") ?
      strv_of (json_object_get_member (opts, "except")) : g_new0 (gchar *, 1);
  if (!*rooms || !*except) {
    g_strfreev (*rooms);
    g_strfreev (*except);
    return FALSE;
  }
  return TRUE;
}

/* {id, handshake, rooms, data} of a local socket, as Node's adapter
 * answers fetchSockets */
static JsonNode *
describe_socket (GstMeshCluster * c, GstMeshSioSocket * s)
{
  JsonObject *o = json_object_new (), *hs = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT), *data = NULL;
  gchar **rooms = gst_mesh_sio_socket_get_rooms (s);

  json_object_set_string_member (o, "id", gst_mesh_sio_socket_get_id (s));
  json_object_set_object_member (hs, "headers", json_object_new ());
  json_object_set_object_member (hs, "query", json_object_new ());
  /* the auth payload stays on its server: it may hold a token */
  json_object_set_object_member (hs, "auth", json_object_new ());
  json_object_set_object_member (o, "handshake", hs);
  json_object_set_member (o, "rooms",
      string_array ((const gchar * const *) rooms));
  if (c->handlers.socket_data)
    data = c->handlers.socket_data (c, s, c->handlers_data);
  json_object_set_member (o, "data", data ? data :
      json_node_init_object (json_node_alloc (), json_object_new ()));
  g_strfreev (rooms);
  json_node_take_object (node, o);
  return node;
}

static void
on_request (GstMeshCluster * c, const guint8 * bytes, gsize len)
{
  JsonObject *req = decode_object (c, c->request_channel, bytes, len);
  JsonObject *resp = NULL;
  const gchar *uid, *request_id;
  gchar **rooms = NULL, **except = NULL;
  gint64 type;

  if (!req)
    return;
  c->received++;
  uid = string_member (req, "uid");
  request_id = string_member (req, "requestId");
  type = json_object_get_int_member_with_default (req, "type", -1);
  GST_LOG ("request %" G_GINT64_FORMAT " %s from node %s", type,
      request_id ? request_id : "(no id)", uid ? uid : "?");

  switch (type) {
    case REQ_SOCKETS:
    case REQ_REMOTE_FETCH:{
      GPtrArray *found;
      JsonArray *out;

      /* our own, answered here already */
      if (!request_id || (uid && g_str_equal (uid, c->uid)) ||
          g_hash_table_contains (c->fetches, request_id))
        break;
      if (type == REQ_SOCKETS) {
        /* SOCKETS has its rooms at the top */
        rooms = strv_of (json_object_get_member (req, "rooms"));
        except = g_new0 (gchar *, 1);
      } else if (!request_opts (req, &rooms, &except)) {
        malformed (c, c->request_channel, "fetchSockets without opts");
        break;
      }
      if (!rooms) {
        malformed (c, c->request_channel, "rooms is not an array");
        break;
      }
      found = gst_mesh_sio_namespace_select (c->nsp,
          (const gchar * const *) rooms, (const gchar * const *) except);
      out = json_array_new ();
      for (guint i = 0; i < found->len; i++) {
        if (type == REQ_SOCKETS)
          json_array_add_string_element (out,
              gst_mesh_sio_socket_get_id (found->pdata[i]));
        else
          json_array_add_element (out, describe_socket (c, found->pdata[i]));
      }
      g_ptr_array_unref (found);
      resp = json_object_new ();
      json_object_set_string_member (resp, "requestId", request_id);
      json_object_set_array_member (resp, "sockets", out);
      break;
    }
    case REQ_ALL_ROOMS:{
      GPtrArray *all;
      GHashTable *names;
      GHashTableIter it;
      gpointer key;
      JsonArray *out = json_array_new ();

      if (!request_id || (uid && g_str_equal (uid, c->uid))) {
        json_array_unref (out);
        break;
      }
      all = gst_mesh_sio_namespace_select (c->nsp, NULL, NULL);
      names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (guint i = 0; i < all->len; i++) {
        gchar **r = gst_mesh_sio_socket_get_rooms (all->pdata[i]);

        for (guint j = 0; r[j]; j++)
          g_hash_table_add (names, g_strdup (r[j]));
        g_strfreev (r);
      }
      g_hash_table_iter_init (&it, names);
      while (g_hash_table_iter_next (&it, &key, NULL))
        json_array_add_string_element (out, key);
      g_hash_table_unref (names);
      g_ptr_array_unref (all);
      resp = json_object_new ();
      json_object_set_string_member (resp, "requestId", request_id);
      json_object_set_array_member (resp, "rooms", out);
      break;
    }
    case REQ_REMOTE_JOIN:
    case REQ_REMOTE_LEAVE:
    case REQ_REMOTE_DISCONNECT:{
      GPtrArray *found;
      gchar **what = NULL;
      gboolean close = json_object_get_boolean_member_with_default (req,
          "close", FALSE);

      if (json_object_has_member (req, "opts")) {
        if (!request_opts (req, &rooms, &except)) {
          malformed (c, c->request_channel, "opts is not {rooms, except}");
          break;
        }
        found = gst_mesh_sio_namespace_select (c->nsp,
            (const gchar * const *) rooms, (const gchar * const *) except);
        what = strv_of (json_object_get_member (req, "rooms"));
      } else {
        const gchar *sid = string_member (req, "sid");
        const gchar *room = string_member (req, "room");
        GstMeshSioSocket *s = sid ?
            gst_mesh_sio_namespace_lookup (c->nsp, sid) : NULL;

        found = g_ptr_array_new ();
        if (!s)
          break;                /* not ours */
        g_ptr_array_add (found, s);
        what = g_new0 (gchar *, 2);
        what[0] = g_strdup (room ? room : "");
        if (request_id) {
          resp = json_object_new ();
          json_object_set_string_member (resp, "requestId", request_id);
        }
      }
      for (guint i = 0; i < found->len; i++) {
        GstMeshSioSocket *s = found->pdata[i];

        if (type == REQ_REMOTE_DISCONNECT)
          gst_mesh_sio_socket_disconnect (s, close);
        for (guint j = 0; type != REQ_REMOTE_DISCONNECT && what && what[j];
            j++) {
          if (type == REQ_REMOTE_JOIN)
            gst_mesh_sio_socket_join (s, what[j]);
          else
            gst_mesh_sio_socket_leave (s, what[j]);
        }
      }
      g_ptr_array_unref (found);
      g_strfreev (what);
      break;
    }
    case REQ_SERVER_SIDE_EMIT:{
      JsonNode *d = json_object_get_member (req, "data");
      JsonArray *data = d && JSON_NODE_HOLDS_ARRAY (d) ?
          json_node_get_array (d) : NULL;
      JsonArray *args;

      if (uid && g_str_equal (uid, c->uid))
        break;
      if (!data || !json_array_get_length (data) ||
          json_node_get_value_type (json_array_get_element (data, 0)) !=
          G_TYPE_STRING) {
        malformed (c, c->request_channel, "serverSideEmit data is not "
            "[event, ...args]");
        break;
      }
      if (g_str_equal (json_array_get_string_element (data, 0),
              "mesh-heartbeat")) {
        gint64 *seen = g_new (gint64, 1);

        *seen = g_get_monotonic_time ();
        if (uid && !g_hash_table_contains (c->nodes, uid))
          GST_INFO ("node %s is in the cluster", uid);
        if (uid && g_hash_table_remove (c->lost, uid)) {
          GST_WARNING ("node %s, lost, sends heartbeats again", uid);
          if (c->handlers.node_back)
            c->handlers.node_back (c, uid, c->handlers_data);
        }
        if (uid)
          g_hash_table_insert (c->nodes, g_strdup (uid), seen);
        else
          g_free (seen);
        break;
      }
      args = json_array_new ();
      for (guint i = 1; i < json_array_get_length (data); i++)
        json_array_add_element (args,
            json_node_copy (json_array_get_element (data, i)));
      if (c->handlers.server_event)
        c->handlers.server_event (c, json_array_get_string_element (data, 0),
            args, c->handlers_data);
      json_array_unref (args);
      if (request_id) {
        /* an acknowledgement is asked for: ours carries nothing */
        resp = json_object_new ();
        json_object_set_int_member (resp, "type", REQ_SERVER_SIDE_EMIT);
        json_object_set_string_member (resp, "requestId", request_id);
        json_object_set_null_member (resp, "data");
      }
      break;
    }
    case REQ_BROADCAST:{
      JsonNode *p = json_object_get_member (req, "packet");
      JsonObject *packet = p && JSON_NODE_HOLDS_OBJECT (p) ?
          json_node_get_object (p) : NULL;
      JsonNode *d = packet ? json_object_get_member (packet, "data") : NULL;
      JsonArray *data = d && JSON_NODE_HOLDS_ARRAY (d) ?
          json_node_get_array (d) : NULL;
      guint n = 0;

      if (uid && g_str_equal (uid, c->uid))
        break;
      if (!data || !json_array_get_length (data) ||
          json_node_get_value_type (json_array_get_element (data, 0)) !=
          G_TYPE_STRING || !request_opts (req, &rooms, &except)) {
        malformed (c, c->request_channel, "a broadcast with acks that is "
            "not {packet: {data: [event, ...]}, opts}");
        break;
      }
      {
        JsonArray *args = json_array_new ();

        for (guint i = 1; i < json_array_get_length (data); i++)
          json_array_add_element (args,
              json_node_copy (json_array_get_element (data, i)));
        n = gst_mesh_sio_namespace_deliver (c->nsp,
            (const gchar * const *) rooms, (const gchar * const *) except,
            json_array_get_string_element (data, 0), args);
        json_array_unref (args);
      }
      GST_DEBUG ("broadcast with acks given to %u sockets; their acks are "
          "not collected", n);
      if (request_id) {
        resp = json_object_new ();
        json_object_set_int_member (resp, "type", REQ_BROADCAST_CLIENT_COUNT);
        json_object_set_string_member (resp, "requestId", request_id);
        json_object_set_int_member (resp, "clientCount", 0);
      }
      break;
    }
    default:
      GST_DEBUG ("request type %" G_GINT64_FORMAT " not handled", type);
      break;
  }
  if (resp)
    publish_json (c, c->response_channel, resp);
  g_strfreev (rooms);
  g_strfreev (except);
  json_object_unref (req);
}

static void
fetch_finish (Fetch * f)
{
  GstMeshCluster *c = f->cluster;
  guint missing = f->n_nodes > f->answered ? f->n_nodes - f->answered : 0;

  g_hash_table_steal (c->fetches, f->id);
  if (f->timeout) {
    g_source_destroy (f->timeout);
    g_source_unref (f->timeout);
  }
  if (missing && !c->closing)
    GST_WARNING ("fetchSockets %s: %u of %u other nodes did not answer in "
        "%u ms", f->id, missing, f->n_nodes - 1, REQUEST_TIMEOUT_MS);
  f->func (c, f->sockets, missing, f->user_data);
  json_array_unref (f->sockets);
  g_strfreev (f->rooms);
  g_free (f->id);
  g_free (f);
}

static gboolean
fetch_timeout (gpointer data)
{
  fetch_finish (data);
  return G_SOURCE_REMOVE;
}

static void
on_response (GstMeshCluster * c, const guint8 * bytes, gsize len)
{
  JsonObject *resp = decode_object (c, c->response_channel, bytes, len);
  const gchar *request_id;
  Fetch *f;
  JsonNode *n;

  if (!resp)
    return;
  c->received++;
  request_id = string_member (resp, "requestId");
  f = request_id ? g_hash_table_lookup (c->fetches, request_id) : NULL;
  if (f) {
    n = json_object_get_member (resp, "sockets");
    f->answered++;
    if (n && JSON_NODE_HOLDS_ARRAY (n)) {
      JsonArray *a = json_node_get_array (n);

      for (guint i = 0; i < json_array_get_length (a); i++) {
        JsonNode *e = json_array_get_element (a, i);

        if (JSON_NODE_HOLDS_OBJECT (e) &&
            string_member (json_node_get_object (e), "id"))
          json_array_add_element (f->sockets, json_node_copy (e));
      }
    }
    if (f->answered >= f->n_nodes)
      fetch_finish (f);
  }
  json_object_unref (resp);
}

static void
on_node_count (gint64 n, gpointer user_data)
{
  Fetch *f = user_data;
  GstMeshCluster *c = f->cluster;
  JsonObject *req, *opts;

  /* 1: only us; -1: Redis did not answer (or we are going) */
  if (n <= 1 || c->closing) {
    f->n_nodes = f->answered = 1;
    g_hash_table_insert (c->fetches, f->id, f);
    fetch_finish (f);
    return;
  }
  f->n_nodes = (guint) n;
  g_hash_table_insert (c->fetches, f->id, f);
  f->timeout = g_timeout_source_new (REQUEST_TIMEOUT_MS);
  g_source_set_callback (f->timeout, fetch_timeout, f, NULL);
  g_source_attach (f->timeout, g_main_context_get_thread_default ());
  req = json_object_new ();
  json_object_set_string_member (req, "uid", c->uid);
  json_object_set_string_member (req, "requestId", f->id);
  json_object_set_int_member (req, "type", REQ_REMOTE_FETCH);
  opts = json_object_new ();
  json_object_set_member (opts, "rooms",
      string_array ((const gchar * const *) f->rooms));
  json_object_set_array_member (opts, "except", json_array_new ());
  json_object_set_object_member (req, "opts", opts);
  publish_json (c, c->request_channel, req);
}

void
gst_mesh_cluster_fetch_sockets (GstMeshCluster * c,
    const gchar * const *rooms, GstMeshClusterFetchFunc func,
    gpointer user_data)
{
  Fetch *f = g_new0 (Fetch, 1);

  f->cluster = c;
  f->id = new_uid ();
  f->rooms = g_strdupv ((gchar **) rooms);
  f->func = func;
  f->user_data = user_data;
  f->sockets = json_array_new ();
  f->answered = 1;
  gst_mesh_redis_count_subscribers (c->redis, c->request_channel,
      on_node_count, f);
}

void
gst_mesh_cluster_server_side_emit (GstMeshCluster * c, const gchar * event,
    JsonArray * args)
{
  JsonObject *req = json_object_new ();
  JsonArray *data = json_array_new ();

  json_array_add_string_element (data, event);
  for (guint i = 0; args && i < json_array_get_length (args); i++)
    json_array_add_element (data,
        json_node_copy (json_array_get_element (args, i)));
  json_object_set_string_member (req, "uid", c->uid);
  json_object_set_int_member (req, "type", REQ_SERVER_SIDE_EMIT);
  json_object_set_array_member (req, "data", data);
  publish_json (c, c->request_channel, req);
}

/* Each second: our heartbeat out, and the nodes that fell silent */
static gboolean
heartbeat_cb (gpointer data)
{
  GstMeshCluster *c = data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter it;
  gpointer uid, seen;
  GPtrArray *lost = g_ptr_array_new_with_free_func (g_free);
  JsonArray *args;

  if (gst_mesh_redis_is_up (c->redis)) {
    args = json_array_new ();
    json_array_add_string_element (args, c->uid);
    gst_mesh_cluster_server_side_emit (c, "mesh-heartbeat", args);
    json_array_unref (args);
    g_hash_table_iter_init (&it, c->nodes);
    while (g_hash_table_iter_next (&it, &uid, &seen))
      if (now - *(gint64 *) seen > GST_MESH_CLUSTER_NODE_TIMEOUT_MS * 1000) {
        g_ptr_array_add (lost, g_strdup (uid));
        g_hash_table_iter_remove (&it);
      }
  } else {
    /* while we are cut off, the silence is ours, not theirs */
    g_hash_table_iter_init (&it, c->nodes);
    while (g_hash_table_iter_next (&it, &uid, &seen))
      *(gint64 *) seen = now;
  }
  for (guint i = 0; i < lost->len; i++) {
    GST_WARNING ("node %s of the cluster sent no heartbeat for %u ms: it is "
        "gone", (gchar *) lost->pdata[i], GST_MESH_CLUSTER_NODE_TIMEOUT_MS);
    g_hash_table_add (c->lost, g_strdup (lost->pdata[i]));
    if (c->handlers.node_lost)
      c->handlers.node_lost (c, lost->pdata[i], c->handlers_data);
  }
  g_ptr_array_unref (lost);
  return G_SOURCE_CONTINUE;
}

void
gst_mesh_cluster_watch_node (GstMeshCluster * c, const gchar * node)
{
  gint64 *seen;

  if (!node || !*node || g_str_equal (node, c->uid) ||
      g_hash_table_contains (c->nodes, node))
    return;
  seen = g_new (gint64, 1);
  *seen = g_get_monotonic_time ();
  g_hash_table_insert (c->nodes, g_strdup (node), seen);
  GST_DEBUG ("watching node %s", node);
}

void
gst_mesh_cluster_set_handlers (GstMeshCluster * c,
    const GstMeshClusterHandlers * handlers, gpointer user_data)
{
  c->handlers = *handlers;
  c->handlers_data = user_data;
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

  if (g_str_equal (channel, c->request_channel)) {
    on_request (c, bytes, len);
    return;
  }
  if (g_str_equal (channel, c->response_channel) ||
      g_str_equal (channel, c->specific_channel)) {
    on_response (c, bytes, len);
    return;
  }
  if (!g_str_has_prefix (channel, c->channel))
    return;
  /* our own broadcast, back from Redis: [uid as a fixstr of 6, ...] is
   * told by its first 8 bytes, before anything is decoded */
  if (len > 8 && bytes[0] == 0x93 && bytes[1] == 0xa6 &&
      memcmp (bytes + 2, c->uid, 6) == 0)
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
    if (c->handlers.delivered)
      c->handlers.delivered (c, uid, (const gchar * const *) rooms,
          json_array_get_string_element (data, 0), args, c->handlers_data);
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
  c->request_channel = g_strconcat (key, "-request#",
      gst_mesh_sio_namespace_get_name (nsp), "#", NULL);
  c->response_channel = g_strconcat (key, "-response#",
      gst_mesh_sio_namespace_get_name (nsp), "#", NULL);
  c->specific_channel = g_strconcat (c->response_channel, c->uid, "#", NULL);
  c->fetches = g_hash_table_new (g_str_hash, g_str_equal);
  c->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  c->lost = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gst_mesh_redis_subscribe (c->redis, c->request_channel);
  gst_mesh_redis_subscribe (c->redis, c->response_channel);
  gst_mesh_redis_subscribe (c->redis, c->specific_channel);
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
  c->heartbeat = g_timeout_source_new (GST_MESH_CLUSTER_HEARTBEAT_MS);
  g_source_set_callback (c->heartbeat, heartbeat_cb, c, NULL);
  g_source_attach (c->heartbeat, g_main_context_get_thread_default ());
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
  c->closing = TRUE;
  gst_mesh_sio_namespace_set_adapter (c->nsp, NULL, NULL, NULL);
  if (c->heartbeat) {
    g_source_destroy (c->heartbeat);
    g_source_unref (c->heartbeat);
  }
  g_hash_table_unref (c->nodes);
  g_hash_table_unref (c->lost);
  gst_mesh_redis_free (c->redis);
  /* requests in flight end now, with what they have: their callers free
   * what they hold (counts in flight were answered -1 by the free above) */
  {
    GList *pending = g_hash_table_get_values (c->fetches);

    for (GList * l = pending; l; l = l->next)
      fetch_finish (l->data);
    g_list_free (pending);
    g_hash_table_unref (c->fetches);
  }
  g_object_unref (c->nsp);
  g_free (c->request_channel);
  g_free (c->response_channel);
  g_free (c->specific_channel);
  g_free (c->channel);
  g_free (c->uid);
  g_free (c);
}
