/* gst-mesh: the seed's signalling server in C.
 *
 * The seed's Node server does, for each of offer / answer / candidate,
 * `socket.broadcast.emit(event, data)`: the payload goes unchanged to every
 * other client. This does the same on GstMeshSioServer, and serves a web
 * root (the demo page, a local socket.io.js) next to it on the same port.
 *
 * On top of that, mesh rooms (docs/protocol.md section 4): `join` / `leave`
 * with `peer-joined` / `peer-left` announcements, a member identity `uid`
 * that survives reconnections, and offer / answer / candidate routed to one
 * peer of the sender's room when the payload names it in `to`. A client
 * that never joins and never names a peer sees exactly the seed's server.
 *
 * And the server's access control and limits (docs/protocol.md section 5):
 * auth tokens checked at the Socket.IO CONNECT, Origin checked on every
 * Engine.IO request, room size and a per-client event rate.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsignalserver.h"
#include "gstmeshmarshal.h"
#include "gstmeshmetrics.h"
#include "gstmeshiceserver.h"
#include "gstmeshcluster.h"
#include "gstmeshprivate.h"

#include <gst/gst.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

GST_DEBUG_CATEGORY_STATIC (mesh_server_debug);
#define GST_CAT_DEFAULT mesh_server_debug

#define DEFAULT_PORT 4000
#define DEFAULT_PATH "/socket.io/"
/* Static files are read whole: the demo page and socket.io.js, not media. */
#define MAX_STATIC_FILE_SIZE (16 * 1024 * 1024)

struct _GstMeshSignalServer
{
  GObject parent;

  gchar *address;
  guint port;
  gchar *path;
  gchar *web_root;
  gchar *web_root_real;
  gchar *client_script;
  gchar **cors_origins;
  gchar *tls_cert_file;
  gchar *tls_key_file;
  guint ping_interval;
  guint ping_timeout;
  guint64 max_payload;
  guint connect_timeout;
  gchar **auth_tokens;
  guint max_room_peers;
  guint max_event_rate;
  gboolean metrics;
  guint header_timeout;
  gchar **trusted_proxies;
  gchar *turn_secret;
  gchar **turn_urls;
  guint turn_ttl;
  gchar *redis_url;
  gchar *redis_key;

  SoupServer *soup;
  GstMeshEioServer *engine;
  GstMeshSioServer *sio;
  gboolean secure;
  gboolean stopping;            /* no peer-left while going down */
  GstMeshCluster *cluster;      /* with redis-url, while running */
  gboolean cluster_was_down;    /* its link to Redis went down since up */
  GSource *repair_source;

  /* Mesh rooms: name → GPtrArray of GstMeshSioSocket (owned refs) in join
   * order, which is the order of a join ack's peers. Kept here rather than
   * in the Socket.IO rooms, where every socket is also the room named by
   * its id: a client joining a room named like another client's id must
   * not end up in a room with it. */
  GHashTable *rooms;
  /* With a cluster: the members of a room on other nodes, for the rooms
   * that have members here: name → GHashTable id → RemoteMember.
   * Filled by the join's fetchSockets, kept by the peer-joined and
   * peer-left the other nodes publish to the room. */
  GHashTable *remote;

  /* SHA-256 digests of auth-tokens (GBytes), while running: compared in
   * constant time. */
  GPtrArray *auth_digests;

  GstMeshSignalCounters counters;       /* for GET /metrics */
  gint64 start_time;
};

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_PATH,
  PROP_WEB_ROOT,
  PROP_CLIENT_SCRIPT,
  PROP_CORS_ORIGINS,
  PROP_TLS_CERT_FILE,
  PROP_TLS_KEY_FILE,
  PROP_PING_INTERVAL,
  PROP_PING_TIMEOUT,
  PROP_MAX_PAYLOAD,
  PROP_CONNECT_TIMEOUT,
  PROP_AUTH_TOKENS,
  PROP_MAX_ROOM_PEERS,
  PROP_MAX_EVENT_RATE,
  PROP_METRICS,
  PROP_HEADER_TIMEOUT,
  PROP_TRUSTED_PROXIES,
  PROP_TURN_SECRET,
  PROP_TURN_URLS,
  PROP_TURN_TTL,
  PROP_REDIS_URL,
  PROP_REDIS_KEY,
};

enum
{
  SIGNAL_CLIENT_CONNECTED,
  SIGNAL_CLIENT_DISCONNECTED,
  SIGNAL_RELAYED,
  SIGNAL_CLUSTER_STATE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define MAX_ROOM_NAME_LENGTH 64
#define MAX_UID_LENGTH 64
#define NO_SUCH_PEER "no such peer in your room"
/* A mesh room R is the Socket.IO room "mesh:R" (in every node of a
 * cluster): no socket id has a colon, so a room cannot be named like a
 * socket and take its messages. */
#define MESH_ROOM_PREFIX "mesh:"
/* after the link to Redis came back, the rooms are repaired this late:
 * the other nodes reconnect on their own back-off, at most 5 s */
#define REPAIR_DELAY_MS 6000
#define DEFAULT_MAX_EVENT_RATE 200
#define DEFAULT_HEADER_TIMEOUT 10000
/* A client sending more than this many times max-event-rate for this many
 * whole seconds in a row is disconnected. */
#define FLOOD_FACTOR 10
#define FLOOD_SECONDS 5

/* A member of a mesh room on another node of the cluster */
typedef struct
{
  gchar *uid;                   /* NULL: none */
  gchar *node;                  /* the node's uid; NULL: not known */
} RemoteMember;

static void
remote_member_free (gpointer data)
{
  RemoteMember *r = data;

  g_free (r->uid);
  g_free (r->node);
  g_free (r);
}

static RemoteMember *
remote_member_new (GstMeshCluster * cluster, const gchar * uid,
    const gchar * node)
{
  RemoteMember *r = g_new0 (RemoteMember, 1);

  if (cluster)
    gst_mesh_cluster_watch_node (cluster, node);

  r->uid = g_strdup (uid);
  r->node = g_strdup (node);
  return r;
}

static GHashTable *
remote_set_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      remote_member_free);
}

static const gchar *join_string_member (JsonObject * object,
    const gchar * name);

/* The members of mesh room @room among fetchSockets' @sockets: those
 * whose socket.data names that room, as ours and the Node reference's do */
static GHashTable *
remote_set_from (GstMeshCluster * cluster, JsonArray * sockets,
    const gchar * room)
{
  GHashTable *set = remote_set_new ();

  for (guint i = 0; i < json_array_get_length (sockets); i++) {
    JsonObject *o = json_array_get_object_element (sockets, i);
    JsonNode *d = json_object_get_member (o, "data");
    JsonObject *data = d && JSON_NODE_HOLDS_OBJECT (d) ?
        json_node_get_object (d) : NULL;
    const gchar *sid = join_string_member (o, "id");
    const gchar *r = join_string_member (data, "room");

    if (sid && r && g_str_equal (r, room))
      g_hash_table_insert (set, g_strdup (sid), remote_member_new (cluster,
              join_string_member (data, "uid"), join_string_member (data,
                  "node")));
  }
  return set;
}

/* What the server keeps for each socket of namespace "/". */
typedef struct
{
  gchar *room;                  /* its mesh room (at most one), or NULL */
  gchar *uid;                   /* the uid of its join, or NULL */

  /* max-event-rate: a token bucket of max-event-rate events, refilled at
   * max-event-rate per second, counted in millionths of an event. */
  gint64 tokens;
  gint64 last_event;            /* monotonic µs */
  gint64 last_error;            /* last "rate limit exceeded" sent */
  /* Flood detection: events in the current one-second window, and how many
   * windows in a row had more than FLOOD_FACTOR × max-event-rate. */
  gint64 window_start;
  guint64 window_count;
  guint flood_windows;
} Member;

static GQuark member_quark;

/* The seed relays the first three; "hangup" (a room member that will not
 * take a call) is relayed by the same rules. */
static const gchar *const relayed_events[GST_MESH_N_RELAYED_EVENTS + 1] = {
  "offer", "answer", "candidate", "hangup", NULL
};

G_DEFINE_TYPE (GstMeshSignalServer, gst_mesh_signal_server, G_TYPE_OBJECT);

/* Counts a relay of @name to @n clients, and tells the application. */
static void
relayed (GstMeshSignalServer * self, const gchar * name,
    GstMeshSioSocket * from, guint n)
{
  guint i;

  for (i = 0; relayed_events[i]; i++)
    if (g_str_equal (relayed_events[i], name))
      self->counters.relayed[i]++;
  self->counters.deliveries += n;
  g_signal_emit (self, signals[SIGNAL_RELAYED], 0, name,
      gst_mesh_sio_socket_get_id (from), n);
}

/* ------------------------------------------------------------------------ */
/* Per-socket state                                                         */
/* ------------------------------------------------------------------------ */

static void
member_free (gpointer data)
{
  Member *m = data;

  g_free (m->room);
  g_free (m->uid);
  g_free (m);
}

static Member *
member_new (guint max_event_rate)
{
  Member *m = g_new0 (Member, 1);

  m->tokens = (gint64) max_event_rate * G_USEC_PER_SEC;
  m->last_event = g_get_monotonic_time ();
  m->last_error = G_MININT64 / 2;
  m->window_start = m->last_event;
  return m;
}

/* Every socket of "/" has one from its "connection" on. */
static Member *
socket_member (GstMeshSioSocket * socket)
{
  return g_object_get_qdata (G_OBJECT (socket), member_quark);
}

static const gchar *
socket_room (GstMeshSioSocket * socket)
{
  Member *m = socket_member (socket);

  return m ? m->room : NULL;
}

/* ------------------------------------------------------------------------ */
/* The seed's semantics                                                     */
/* ------------------------------------------------------------------------ */

/* A node owning @object (json_node_init_object() would add a ref). */
static JsonNode *
object_node (JsonObject * object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  return node;
}

/* The payload with "from" set to the sender's id: a new object, members in
 * the sender's order, a "from" the sender put there overwritten in place
 * (ids cannot be spoofed). */
static JsonNode *
payload_with_from (JsonObject * payload, const gchar * from)
{
  JsonObject *copy = json_object_new ();
  GList *members = json_object_get_members (payload), *l;
  gboolean seen = FALSE;

  for (l = members; l; l = l->next) {
    const gchar *member = l->data;

    if (g_str_equal (member, "from")) {
      json_object_set_string_member (copy, "from", from);
      seen = TRUE;
    } else {
      json_object_set_member (copy, member,
          json_node_copy (json_object_get_member (payload, member)));
    }
  }
  g_list_free (members);
  if (!seen)
    json_object_set_string_member (copy, "from", from);
  return object_node (copy);
}

static JsonArray *
single_arg (JsonNode * node)
{
  JsonArray *args = json_array_sized_new (1);

  json_array_add_element (args, node);
  return args;
}

/* `{"event":...,"message":...}` to @socket: how it hears that something it
 * sent was not acted on. */
static void
emit_error (GstMeshSioSocket * socket, const gchar * event,
    const gchar * message)
{
  JsonObject *error = json_object_new ();
  JsonArray *args;

  json_object_set_string_member (error, "event", event);
  json_object_set_string_member (error, "message", message);
  args = single_arg (object_node (error));
  gst_mesh_sio_socket_emit (socket, "error", args, NULL);
  json_array_unref (args);
}

static gchar *
sio_room (const gchar * room)
{
  return g_strconcat (MESH_ROOM_PREFIX, room, NULL);
}

/* The room's members other than @except, here and on the other nodes of
 * the cluster. */
static void
room_emit (GstMeshSignalServer * self, const gchar * room,
    GstMeshSioSocket * except, const gchar * event, JsonArray * args)
{
  gchar *r = sio_room (room);

  gst_mesh_sio_namespace_emit (gst_mesh_sio_server_get_namespace (self->sio,
          "/"), r, except, event, args, NULL);
  g_free (r);
}

/* peer-joined / peer-left: {"id","room"} and "uid" when the member gave
 * one. */
static JsonArray *
peer_event_args (const gchar * id, const gchar * room, const gchar * uid)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "room", room);
  if (uid)
    json_object_set_string_member (o, "uid", uid);
  return single_arg (object_node (o));
}

/* Leaves the socket's mesh room, if any, and tells the rest of the room. */
static void
room_leave (GstMeshSignalServer * self, GstMeshSioSocket * socket)
{
  Member *m = socket_member (socket);
  gchar *room = m ? g_steal_pointer (&m->room) : NULL;
  GPtrArray *members;
  JsonArray *args;

  if (!room)
    return;
  members = g_hash_table_lookup (self->rooms, room);
  if (members) {
    /* The array owns a ref: keep the socket alive until we are done. */
    g_object_ref (socket);
    g_ptr_array_remove (members, socket);
    {
      gchar *r = sio_room (room);

      gst_mesh_sio_socket_leave (socket, r);
      g_free (r);
    }
    if (members->len == 0) {
      g_hash_table_remove (self->rooms, room);
      /* nobody here hears about that room any more */
      g_hash_table_remove (self->remote, room);
    }
    args = peer_event_args (gst_mesh_sio_socket_get_id (socket), room,
        m->uid);
    /* a server going down is not everyone leaving: members keep their
     * peer connections and find each other again after a restart */
    if (!self->stopping)
      room_emit (self, room, socket, "peer-left", args);
    json_array_unref (args);
    g_object_unref (socket);
  }
  GST_DEBUG_OBJECT (self, "client %s left room \"%s\"",
      gst_mesh_sio_socket_get_id (socket), room);
  g_free (room);
}

/* The member of @members other than @except whose uid is @uid. */
static GstMeshSioSocket *
room_find_uid (GPtrArray * members, const gchar * uid,
    GstMeshSioSocket * except)
{
  guint i;

  if (!members || !uid)
    return NULL;
  for (i = 0; i < members->len; i++) {
    GstMeshSioSocket *s = g_ptr_array_index (members, i);
    Member *m = socket_member (s);

    if (s != except && g_strcmp0 (m->uid, uid) == 0)
      return s;
  }
  return NULL;
}

/* The members of @room on other nodes (id → RemoteMember), or NULL */
static GHashTable *
room_remote (GstMeshSignalServer * self, const gchar * room)
{
  return g_hash_table_lookup (self->remote, room);
}

/* `to` in the payload: to that one socket, only if it is in the sender's
 * room. */
static void
relay_routed (GstMeshSignalServer * self, GstMeshSioSocket * socket,
    const gchar * name, JsonObject * payload, GPtrArray * attachments)
{
  JsonNode *to = json_object_get_member (payload, "to");
  const gchar *room = socket_room (socket);
  const gchar *message = NULL;
  GstMeshSioSocket *target = NULL;
  guint n = 0;

  if (!JSON_NODE_HOLDS_VALUE (to)
      || json_node_get_value_type (to) != G_TYPE_STRING) {
    message = "\"to\" must be a socket id (a string)";
  } else {
    target = gst_mesh_sio_namespace_lookup (gst_mesh_sio_socket_get_namespace
        (socket), json_node_get_string (to));
    /* A socket is not its own peer. */
    if (!target && room && room_remote (self, room) &&
        g_hash_table_contains (room_remote (self, room),
            json_node_get_string (to))) {
      /* in the room, on another node: through the cluster, to the room
       * named by its id */
      JsonArray *args = single_arg (payload_with_from (payload,
              gst_mesh_sio_socket_get_id (socket)));

      gst_mesh_sio_namespace_emit (gst_mesh_sio_socket_get_namespace
          (socket), json_node_get_string (to), NULL, name, args, attachments);
      json_array_unref (args);
      relayed (self, name, socket, 1);
      GST_LOG_OBJECT (self, "routed %s from %s to %s on another node", name,
          gst_mesh_sio_socket_get_id (socket), json_node_get_string (to));
      return;
    }
    if (!room || !target || target == socket
        || g_strcmp0 (socket_room (target), room) != 0)
      message = NO_SUCH_PEER;
  }

  if (message) {
    JsonObject *error = json_object_new ();
    JsonArray *args;

    self->counters.refused[!JSON_NODE_HOLDS_VALUE (to)
        || json_node_get_value_type (to) != G_TYPE_STRING ?
        GST_MESH_REFUSED_BAD_TARGET : GST_MESH_REFUSED_NO_SUCH_PEER]++;
    json_object_set_string_member (error, "event", name);
    json_object_set_member (error, "to", json_node_copy (to));
    json_object_set_string_member (error, "message", message);
    args = single_arg (object_node (error));
    gst_mesh_sio_socket_emit (socket, "error", args, NULL);
    json_array_unref (args);
    GST_INFO_OBJECT (self, "%s from %s not delivered: %s", name,
        gst_mesh_sio_socket_get_id (socket), message);
  } else {
    JsonArray *args = single_arg (payload_with_from (payload,
            gst_mesh_sio_socket_get_id (socket)));

    gst_mesh_sio_socket_emit (target, name, args, attachments);
    json_array_unref (args);
    n = 1;
    GST_LOG_OBJECT (self, "routed %s from %s to %s", name,
        gst_mesh_sio_socket_get_id (socket),
        gst_mesh_sio_socket_get_id (target));
  }
  relayed (self, name, socket, n);
}

static void
on_relay_event (GstMeshSioSocket * socket, const gchar * name,
    JsonArray * args, GPtrArray * attachments, gint64 ack_id,
    GstMeshSignalServer * self)
{
  JsonNode *first = json_array_get_length (args) ?
      json_array_get_element (args, 0) : NULL;
  JsonObject *payload = first && JSON_NODE_HOLDS_OBJECT (first) ?
      json_node_get_object (first) : NULL;
  guint n;

  if (payload && json_object_has_member (payload, "to")) {
    relay_routed (self, socket, name, payload, attachments);
    return;
  }

  /* Without `to`, the seed's broadcast. "from" is added for room members
   * (so their peers know who broadcast) and overwritten whenever the
   * sender wrote one; a client that never joined and sends the seed's
   * payloads gets them relayed byte for byte. */
  if (payload && (socket_room (socket)
          || json_object_has_member (payload, "from"))) {
    JsonArray *with_from = single_arg (payload_with_from (payload,
            gst_mesh_sio_socket_get_id (socket)));

    n = gst_mesh_sio_socket_broadcast (socket, name, with_from, attachments);
    json_array_unref (with_from);
  } else if (json_array_get_length (args) != 1) {
    /* socket.broadcast.emit(name, data): the seed forwards only its
     * handler's first argument. */
    JsonArray *only = json_array_sized_new (1);

    /* No argument at all is `data === undefined`, sent as null. */
    if (!first)
      json_array_add_null_element (only);
    else
      json_array_add_element (only, json_node_copy (first));
    n = gst_mesh_sio_socket_broadcast (socket, name, only, attachments);
    json_array_unref (only);
  } else {
    n = gst_mesh_sio_socket_broadcast (socket, name, args, attachments);
  }
  GST_LOG_OBJECT (self, "relayed %s from %s to %u clients", name,
      gst_mesh_sio_socket_get_id (socket), n);
  relayed (self, name, socket, n);
}

/* The member @name of @object if it is a string, else NULL. */
static const gchar *
join_string_member (JsonObject * object, const gchar * name)
{
  JsonNode *member = object ? json_object_get_member (object, name) : NULL;

  if (!member || !JSON_NODE_HOLDS_VALUE (member)
      || json_node_get_value_type (member) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (member);
}

/* Whether @socket may join @room as @uid without going over
 * max-room-peers, counting the members on every node: @evicted (the
 * member with the same uid, if any, here or elsewhere) and the socket
 * itself (rejoining with another uid) leave first. */
static gboolean
room_has_space (GstMeshSignalServer * self, GstMeshSioSocket * socket,
    const gchar * room, gboolean evicts)
{
  GPtrArray *members = g_hash_table_lookup (self->rooms, room);
  GHashTable *remote = room_remote (self, room);
  guint n = (members ? members->len : 0) +
      (remote ? g_hash_table_size (remote) : 0);

  if (self->max_room_peers == 0)
    return TRUE;
  if (g_strcmp0 (socket_room (socket), room) == 0)
    n--;
  if (evicts)
    n--;
  return n < self->max_room_peers;
}

/* A member with @uid on another node: its id, or NULL */
static const gchar *
remote_find_uid (GHashTable * remote, const gchar * uid)
{
  GHashTableIter it;
  gpointer id, r;

  if (!remote || !uid)
    return NULL;
  g_hash_table_iter_init (&it, remote);
  while (g_hash_table_iter_next (&it, &id, &r))
    if (g_strcmp0 (((RemoteMember *) r)->uid, uid) == 0)
      return id;
  return NULL;
}

static void
send_reply (GstMeshSioSocket * socket, gint64 ack_id, JsonObject * reply)
{
  JsonArray *reply_args = single_arg (object_node (reply));

  gst_mesh_sio_socket_ack (socket, ack_id, reply_args, NULL);
  json_array_unref (reply_args);
}

/* The ack of a join: the room's other members here and, in a cluster, on
 * the other nodes (self->remote) */
static void
join_ack (GstMeshSignalServer * self, GstMeshSioSocket * socket,
    const gchar * room, gint64 ack_id)
{
  GPtrArray *members = g_hash_table_lookup (self->rooms, room);
  JsonObject *reply = json_object_new ();
  JsonArray *peers = json_array_new ();
  JsonObject *uids = json_object_new ();
  GHashTable *remote = room_remote (self, room);
  GHashTableIter it;
  gpointer rid, r;

  for (guint i = 0; members && i < members->len; i++) {
    GstMeshSioSocket *s = g_ptr_array_index (members, i);
    Member *sm = socket_member (s);

    if (s == socket)
      continue;
    json_array_add_string_element (peers, gst_mesh_sio_socket_get_id (s));
    if (sm->uid)
      json_object_set_string_member (uids, gst_mesh_sio_socket_get_id (s),
          sm->uid);
  }
  if (remote) {
    g_hash_table_iter_init (&it, remote);
    while (g_hash_table_iter_next (&it, &rid, &r)) {
      json_array_add_string_element (peers, rid);
      if (((RemoteMember *) r)->uid)
        json_object_set_string_member (uids, rid, ((RemoteMember *) r)->uid);
    }
  }
  json_object_set_string_member (reply, "id",
      gst_mesh_sio_socket_get_id (socket));
  json_object_set_string_member (reply, "room", room);
  json_object_set_array_member (reply, "peers", peers);
  /* Only when somebody gave one: without uids the ack is as before. */
  if (json_object_get_size (uids))
    json_object_set_object_member (reply, "uids", uids);
  else
    json_object_unref (uids);
  send_reply (socket, ack_id, reply);
}

/* A valid join, once the other nodes' members of the room are known
 * (self->remote): the member is added and announced (peer-joined), or
 * refused with the reply returned. */
static JsonObject *
join_apply (GstMeshSignalServer * self, GstMeshSioSocket * socket,
    const gchar * room, const gchar * uid)
{
  const gchar *id = gst_mesh_sio_socket_get_id (socket);
  Member *m = socket_member (socket);
  GstMeshSioSocket *evicted = NULL;
  gchar *evicted_remote = NULL;
  JsonObject *reply = NULL;
  GHashTable *remote;

  if (g_strcmp0 (m->room, room) != 0 || g_strcmp0 (m->uid, uid) != 0) {
    evicted = room_find_uid (g_hash_table_lookup (self->rooms, room), uid,
        socket);
    if (!evicted)
      evicted_remote = g_strdup (remote_find_uid (room_remote (self, room),
              uid));
    if (!room_has_space (self, socket, room, evicted || evicted_remote)) {
      self->counters.refused[GST_MESH_REFUSED_ROOM_FULL]++;
      GST_INFO_OBJECT (self, "client %s: join refused: room \"%s\" is full "
          "(%u)", id, room, self->max_room_peers);
      reply = json_object_new ();
      json_object_set_string_member (reply, "error", "room is full");
      json_object_set_string_member (reply, "room", room);
      json_object_set_int_member (reply, "max", self->max_room_peers);
      goto done;
    }
  }

  {
    GPtrArray *members;

    if (g_strcmp0 (m->room, room) != 0 || g_strcmp0 (m->uid, uid) != 0) {
      JsonArray *joined;
      gchar *r = sio_room (room);

      room_leave (self, socket);
      if (evicted) {
        /* The same member on a new connection (it reconnected before we
         * noticed the old one died): the old one makes way. */
        GST_INFO_OBJECT (self, "client %s joins room \"%s\" as uid \"%s\": "
            "client %s, which had that uid, is taken out of the room", id,
            room, uid, gst_mesh_sio_socket_get_id (evicted));
        room_leave (self, evicted);
      } else if (evicted_remote && self->cluster) {
        /* ... on another node: that node takes it out (and says
         * peer-left to everyone) */
        JsonArray *args = json_array_new ();
        JsonObject *o = json_object_new ();

        GST_INFO_OBJECT (self, "client %s joins room \"%s\" as uid \"%s\": "
            "client %s on another node, which had that uid, is taken out",
            id, room, uid, evicted_remote);
        json_object_set_string_member (o, "room", room);
        json_object_set_string_member (o, "uid", uid);
        json_object_set_string_member (o, "id", evicted_remote);
        json_object_set_string_member (o, "by", id);
        json_array_add_object_element (args, o);
        gst_mesh_cluster_server_side_emit (self->cluster, "mesh-evict", args);
        json_array_unref (args);
        if ((remote = room_remote (self, room)))
          g_hash_table_remove (remote, evicted_remote);
      }
      members = g_hash_table_lookup (self->rooms, room);
      if (!members) {
        members = g_ptr_array_new_with_free_func (g_object_unref);
        g_hash_table_insert (self->rooms, g_strdup (room), members);
      }
      g_ptr_array_add (members, g_object_ref (socket));
      gst_mesh_sio_socket_join (socket, r);
      g_free (r);
      m->room = g_strdup (room);
      self->counters.joins++;
      g_free (m->uid);
      m->uid = g_strdup (uid);
      joined = peer_event_args (id, room, uid);
      room_emit (self, room, socket, "peer-joined", joined);
      json_array_unref (joined);
      GST_DEBUG_OBJECT (self, "client %s joined room \"%s\" (%u here)", id,
          room, members->len);
    }
  }

done:
  g_free (evicted_remote);
  return reply;
}

typedef struct
{
  GstMeshSignalServer *self;
  GstMeshSioSocket *socket;
  gchar *room, *uid;
  gint64 ack_id;
  gboolean announced;           /* added and peer-joined said */
} Join;

static void
join_free (Join * j)
{
  g_object_unref (j->self);
  g_object_unref (j->socket);
  g_free (j->room);
  g_free (j->uid);
  g_free (j);
}

/* A join in a cluster asks the other nodes for the room's members twice:
 * before it is applied (max-room-peers, a uid to evict) and after its
 * peer-joined went out (the ack). Of two members joining on two nodes at
 * once, each announces itself before it asks, so at least one of them
 * finds the other in its answer, and offers (when both do, the offers
 * collide and the larger session id wins, docs/protocol.md §4): no pair
 * of newcomers is left without a call. */
static void
on_join_fetched (GstMeshCluster * cluster, JsonArray * sockets,
    guint missing, gpointer user_data)
{
  Join *j = user_data;
  GstMeshSignalServer *self = j->self;
  GHashTable *remote = remote_set_from (cluster, sockets, j->room);
  GST_DEBUG_OBJECT (self, "room \"%s\": %u members on other nodes%s",
      j->room, g_hash_table_size (remote), missing ? " (some nodes did not "
      "answer)" : "");
  if (!gst_mesh_sio_socket_is_connected (j->socket) || !self->sio ||
      self->stopping) {
    g_hash_table_unref (remote);
    join_free (j);
    return;
  }
  /* a room with members here keeps its set up to date from the events;
   * a fresh answer is as good */
  g_hash_table_insert (self->remote, g_strdup (j->room), remote);
  if (!j->announced) {
    JsonObject *refused = join_apply (self, j->socket, j->room, j->uid);

    if (refused) {
      send_reply (j->socket, j->ack_id, refused);
    } else if (self->cluster && gst_mesh_cluster_is_up (self->cluster)) {
      gchar *r = sio_room (j->room);
      const gchar *rooms[] = { r, NULL };

      j->announced = TRUE;
      gst_mesh_cluster_fetch_sockets (self->cluster, rooms, on_join_fetched,
          j);
      g_free (r);
      return;
    } else {
      join_ack (self, j->socket, j->room, j->ack_id);
    }
  } else {
    join_ack (self, j->socket, j->room, j->ack_id);
  }
  if (!g_hash_table_lookup (self->rooms, j->room))
    g_hash_table_remove (self->remote, j->room);
  join_free (j);
}

static void
on_join (GstMeshSioSocket * socket, const gchar * name, JsonArray * args,
    GPtrArray * attachments, gint64 ack_id, GstMeshSignalServer * self)
{
  const gchar *id = gst_mesh_sio_socket_get_id (socket);
  JsonNode *first = json_array_get_length (args) ?
      json_array_get_element (args, 0) : NULL;
  JsonObject *request = first && JSON_NODE_HOLDS_OBJECT (first) ?
      json_node_get_object (first) : NULL;
  const gchar *room, *uid = NULL, *error = NULL;

  room = join_string_member (request, "room");
  if (!room)
    error = "\"room\" must be a string";
  else if (!*room)
    error = "\"room\" must not be empty";
  else if (strlen (room) > MAX_ROOM_NAME_LENGTH)
    error = "\"room\" must be at most 64 bytes";
  else if (json_object_has_member (request, "uid")) {
    uid = join_string_member (request, "uid");
    if (!uid || !*uid || strlen (uid) > MAX_UID_LENGTH)
      error = "\"uid\" must be a string of at most 64 bytes";
  }

  if (error) {
    JsonObject *reply = json_object_new ();
    JsonArray *reply_args;

    self->counters.refused[GST_MESH_REFUSED_BAD_JOIN]++;
    GST_INFO_OBJECT (self, "client %s: join refused: %s", id, error);
    json_object_set_string_member (reply, "error", error);
    reply_args = single_arg (object_node (reply));
    gst_mesh_sio_socket_ack (socket, ack_id, reply_args, NULL);
    json_array_unref (reply_args);
    return;
  }
  if (self->cluster && gst_mesh_cluster_is_up (self->cluster)) {
    /* the room's members on the other nodes first: fetchSockets */
    Join *j = g_new0 (Join, 1);
    gchar *r = sio_room (room);
    const gchar *rooms[] = { r, NULL };

    j->self = g_object_ref (self);
    j->socket = g_object_ref (socket);
    j->room = g_strdup (room);
    j->uid = g_strdup (uid);
    j->ack_id = ack_id;
    gst_mesh_cluster_fetch_sockets (self->cluster, rooms, on_join_fetched, j);
    g_free (r);
    return;
  }
  {
    JsonObject *refused = join_apply (self, socket, room, uid);

    if (refused)
      send_reply (socket, ack_id, refused);
    else
      join_ack (self, socket, room, ack_id);
  }
}

static void
on_leave (GstMeshSioSocket * socket, const gchar * name, JsonArray * args,
    GPtrArray * attachments, gint64 ack_id, GstMeshSignalServer * self)
{
  JsonObject *reply = json_object_new ();
  JsonArray *reply_args;
  const gchar *room = socket_room (socket);

  json_object_set_string_member (reply, "id",
      gst_mesh_sio_socket_get_id (socket));
  if (room)
    json_object_set_string_member (reply, "room", room);
  else
    json_object_set_null_member (reply, "room");
  reply_args = single_arg (object_node (reply));
  room_leave (self, socket);
  gst_mesh_sio_socket_ack (socket, ack_id, reply_args, NULL);
  json_array_unref (reply_args);
}

/* ------------------------------------------------------------------------ */
/* ICE servers: TURN REST credentials for each client                       */

/* {iceServers: [RTCIceServer...], ttl} for @socket, or NULL when the server
 * hands out none (no turn-secret or no turn-urls). STUN URLs go in an
 * entry of their own, without credentials; the TURN ones share one pair
 * of time-limited credentials whose id is the client's socket id. */
static JsonNode *
ice_servers_for (GstMeshSignalServer * self, GstMeshSioSocket * socket)
{
  JsonArray *servers, *stun = json_array_new (), *turn = json_array_new ();
  JsonObject *reply;
  gchar *user, *pass;

  if (!self->turn_secret || !*self->turn_secret || !self->turn_urls
      || !self->turn_urls[0]) {
    json_array_unref (stun);
    json_array_unref (turn);
    return NULL;
  }
  for (gchar ** u = self->turn_urls; *u; u++)
    json_array_add_string_element (g_ascii_strncasecmp (*u, "stun", 4) ?
        turn : stun, *u);
  servers = json_array_new ();
  if (json_array_get_length (stun)) {
    JsonObject *o = json_object_new ();
    json_object_set_array_member (o, "urls", stun);
    json_array_add_object_element (servers, o);
  } else {
    json_array_unref (stun);
  }
  if (json_array_get_length (turn)) {
    JsonObject *o = json_object_new ();

    gst_mesh_turn_rest_credentials (self->turn_secret,
        gst_mesh_sio_socket_get_id (socket), g_get_real_time () / G_USEC_PER_SEC,
        self->turn_ttl, &user, &pass);
    json_object_set_array_member (o, "urls", turn);
    json_object_set_string_member (o, "username", user);
    json_object_set_string_member (o, "credential", pass);
    json_array_add_object_element (servers, o);
    g_free (user);
    g_free (pass);
  } else {
    json_array_unref (turn);
  }
  reply = json_object_new ();
  json_object_set_array_member (reply, "iceServers", servers);
  json_object_set_int_member (reply, "ttl", self->turn_ttl);
  return object_node (reply);
}

/* "ice-servers": a client asks for fresh credentials (with an ack: the
 * answer comes as the ack; without one, as an "ice-servers" event). */
static void
on_ice_servers (GstMeshSioSocket * socket, const gchar * name,
    JsonArray * args, GPtrArray * attachments, gint64 ack_id,
    GstMeshSignalServer * self)
{
  JsonNode *node = ice_servers_for (self, socket);
  JsonArray *reply_args;

  if (!node) {
    JsonObject *o = json_object_new ();
    json_object_set_array_member (o, "iceServers", json_array_new ());
    json_object_set_int_member (o, "ttl", 0);
    node = object_node (o);
  }
  reply_args = single_arg (node);
  if (ack_id >= 0)
    gst_mesh_sio_socket_ack (socket, ack_id, reply_args, NULL);
  else
    gst_mesh_sio_socket_emit (socket, "ice-servers", reply_args, NULL);
  json_array_unref (reply_args);
}

/* ------------------------------------------------------------------------ */
/* Limits                                                                   */
/* ------------------------------------------------------------------------ */

typedef enum
{
  RATE_PASS,
  RATE_DROP,
  RATE_FLOOD,
} RateVerdict;

/* Runs for every event a client sends, before anything else looks at it:
 * a few integer operations, no allocation. */
static RateVerdict
rate_check (GstMeshSignalServer * self, Member * m, gint64 now)
{
  const gint64 one = G_USEC_PER_SEC;
  const gint64 rate = self->max_event_rate;
  gint64 elapsed;

  /* Flood windows: one second each, back to back while events keep
   * coming. */
  if (now - m->window_start >= one) {
    if (m->window_count > (guint64) rate * FLOOD_FACTOR
        && now - m->window_start < 2 * one)
      m->flood_windows++;
    else
      m->flood_windows = 0;
    m->window_start = now;
    m->window_count = 0;
  }
  m->window_count++;
  if (m->flood_windows >= FLOOD_SECONDS)
    return RATE_FLOOD;

  /* The bucket is full after a second: no need to add more (nor to
   * overflow). */
  elapsed = MIN (now - m->last_event, one);
  m->last_event = now;
  m->tokens = MIN (m->tokens + elapsed * rate, rate * one);
  if (m->tokens >= one) {
    m->tokens -= one;
    return RATE_PASS;
  }
  return RATE_DROP;
}

/* Whether @socket may send one more event now. Over max-event-rate it is
 * told so (the event is dropped), or disconnected when it floods. */
static gboolean
event_rate_ok (GstMeshSignalServer * self, GstMeshSioSocket * socket,
    const gchar * name)
{
  Member *m = socket_member (socket);
  gint64 now;

  if (self->max_event_rate == 0)
    return TRUE;

  now = g_get_monotonic_time ();
  switch (rate_check (self, m, now)) {
    case RATE_PASS:
      return TRUE;
    case RATE_DROP:
      self->counters.refused[GST_MESH_REFUSED_RATE_LIMIT]++;
      if (now - m->last_error >= G_USEC_PER_SEC) {
        m->last_error = now;
        GST_INFO_OBJECT (self, "client %s is over max-event-rate %u/s: "
            "dropping its events (\"%s\" first)",
            gst_mesh_sio_socket_get_id (socket), self->max_event_rate, name);
        emit_error (socket, name, "rate limit exceeded");
      }
      break;
    case RATE_FLOOD:
      self->counters.refused[GST_MESH_REFUSED_FLOOD]++;
      GST_WARNING_OBJECT (self, "client %s sent over %u events/s for %u s: "
          "disconnecting it", gst_mesh_sio_socket_get_id (socket),
          self->max_event_rate * FLOOD_FACTOR, FLOOD_SECONDS);
      emit_error (socket, name, "too many events: disconnected");
      gst_mesh_sio_socket_disconnect (socket, TRUE);
      break;
  }
  return FALSE;
}

/* The seed's broadcast without a JSON round trip, for the common case: one
 * argument that is neither addressed ("to") nor signed ("from"), from a
 * client in no room, goes to every other client as its text came. The
 * Socket.IO server only offers text in the form JSON.stringify() writes, so
 * these are the bytes decoding and re-encoding would send. Anything else is
 * left to on_nsp_event(). */
static gboolean
on_raw_event (GstMeshSioSocket * socket, const GstMeshSioRawEvent * ev,
    gpointer user_data)
{
  GstMeshSignalServer *self = user_data;
  guint n;

  if (!g_strv_contains (relayed_events, ev->event) || socket_room (socket)
      || ev->n_args != 1
      || gst_mesh_sio_raw_event_first_arg_has_member (ev, "to")
      || gst_mesh_sio_raw_event_first_arg_has_member (ev, "from"))
    return FALSE;
  if (event_rate_ok (self, socket, ev->event)) {
    n = gst_mesh_sio_socket_broadcast_raw (socket, ev->event, ev->args,
        ev->args_len);
    GST_LOG_OBJECT (self, "relayed %s from %s to %u clients", ev->event,
        gst_mesh_sio_socket_get_id (socket), n);
    relayed (self, ev->event, socket, n);
  }
  return TRUE;
}

/* SHA-256 of a token: what is kept and compared, in constant time. */
static GBytes *
token_digest (const gchar * token)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof (digest);

  g_checksum_update (sum, (const guchar *) token, strlen (token));
  g_checksum_get_digest (sum, digest, &len);
  g_checksum_free (sum);
  return g_bytes_new (digest, len);
}

static gboolean
token_accepted (GstMeshSignalServer * self, const gchar * token)
{
  GBytes *digest = token_digest (token);
  const guint8 *d = g_bytes_get_data (digest, NULL);
  guint8 match = 0;
  guint i, j;

  for (i = 0; i < self->auth_digests->len; i++) {
    const guint8 *t = g_bytes_get_data (g_ptr_array_index (self->auth_digests,
            i), NULL);
    guint8 diff = 0;

    for (j = 0; j < 32; j++)
      diff |= d[j] ^ t[j];
    match |= (diff == 0);
  }
  g_bytes_unref (digest);
  return match;
}

/* The namespace middleware: the CONNECT's auth must carry a valid token. */
static gboolean
check_auth (GstMeshSioNamespace * nsp, GstMeshSioSocket * socket,
    gchar ** message, JsonNode ** data, gpointer user_data)
{
  GstMeshSignalServer *self = user_data;
  JsonNode *auth = gst_mesh_sio_socket_get_auth (socket);
  JsonObject *object = auth && JSON_NODE_HOLDS_OBJECT (auth) ?
      json_node_get_object (auth) : NULL;
  JsonNode *token = object ? json_object_get_member (object, "token") : NULL;

  if (!self->auth_digests)
    return TRUE;
  if (!token) {
    *message = g_strdup ("auth token required");
  } else if (!JSON_NODE_HOLDS_VALUE (token)
      || json_node_get_value_type (token) != G_TYPE_STRING
      || !token_accepted (self, json_node_get_string (token))) {
    *message = g_strdup ("invalid auth token");
  } else {
    return TRUE;
  }
  self->counters.refused[GST_MESH_REFUSED_AUTH]++;
  GST_INFO_OBJECT (self, "connection from %s refused: %s",
      gst_mesh_eio_socket_get_remote_address
      (gst_mesh_sio_socket_get_engine_socket (socket)), *message);
  return FALSE;
}

static gboolean
origin_allowed (GstMeshSignalServer * self, const gchar * origin)
{
  if (!origin || !self->cors_origins || !self->cors_origins[0])
    return TRUE;
  return g_strv_contains ((const gchar * const *) self->cors_origins, "*")
      || g_strv_contains ((const gchar * const *) self->cors_origins, origin);
}

/* Every Engine.IO request (handshakes, polls, WebSocket upgrades), once its
 * headers and body are read and before Engine.IO sees it: a browser page
 * from an origin not in cors-origins gets 403. CORS alone would only hide
 * the answers from the page; a WebSocket is not subject to CORS at all.
 * Requests without Origin (meshsignal, other non-browser clients) pass. */
static void
on_request_read (SoupServer * soup, SoupServerMessage * msg,
    GstMeshSignalServer * self)
{
  const gchar *path = g_uri_get_path (soup_server_message_get_uri (msg));
  const gchar *eio_path, *origin, *rest;
  gchar *escaped, *body;
  JsonNode *node;

  /* A CORS preflight only asks; CORS answers it (without
   * Access-Control-Allow-Origin for this origin, so the browser stops). */
  if (soup_server_message_get_status (msg) != 0 || !self->engine
      || soup_server_message_get_method (msg) == SOUP_METHOD_OPTIONS)
    return;
  eio_path = gst_mesh_eio_server_get_path (self->engine);
  if (!eio_path || !g_str_has_prefix (path, eio_path))
    return;
  /* The client script is fetched by <script> tags, not Engine.IO. */
  rest = path + strlen (eio_path);
  if (g_str_equal (rest, "socket.io.js")
      || g_str_equal (rest, "socket.io.min.js"))
    return;
  origin = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Origin");
  if (origin_allowed (self, origin))
    return;

  self->counters.refused[GST_MESH_REFUSED_ORIGIN]++;
  GST_INFO_OBJECT (self, "%s %s from %s refused: origin \"%s\" not allowed",
      soup_server_message_get_method (msg), path,
      gst_mesh_eio_server_get_client_address (self->engine, msg), origin);
  node = json_node_init_string (json_node_alloc (), origin);
  escaped = json_to_string (node, FALSE);
  json_node_unref (node);
  body = g_strdup_printf ("{\"code\":%d,\"message\":\"origin not allowed\","
      "\"origin\":%s}", GST_MESH_EIO_ERROR_FORBIDDEN, escaped);
  g_free (escaped);
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Connection", "close");
  soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
      body, strlen (body));
}

/* ------------------------------------------------------------------------ */
/* Clients                                                                  */
/* ------------------------------------------------------------------------ */

static void
on_disconnect (GstMeshSioSocket * socket, const gchar * reason,
    GstMeshSignalServer * self)
{
  room_leave (self, socket);
  GST_DEBUG_OBJECT (self, "client %s disconnected: %s",
      gst_mesh_sio_socket_get_id (socket), reason);
  g_signal_emit (self, signals[SIGNAL_CLIENT_DISCONNECTED], 0,
      gst_mesh_sio_socket_get_id (socket), reason);
}

/* Every event of the namespace: rate-limited first, so a dropped event
 * goes no further, then to its handler. */
static gboolean
on_nsp_event (GstMeshSioNamespace * nsp, GstMeshSioSocket * socket,
    const gchar * name, JsonArray * args, GPtrArray * attachments,
    gint64 ack_id, GstMeshSignalServer * self)
{
  if (!event_rate_ok (self, socket, name))
    return TRUE;
  if (g_strv_contains (relayed_events, name))
    on_relay_event (socket, name, args, attachments, ack_id, self);
  else if (g_str_equal (name, "join"))
    on_join (socket, name, args, attachments, ack_id, self);
  else if (g_str_equal (name, "leave"))
    on_leave (socket, name, args, attachments, ack_id, self);
  else if (g_str_equal (name, "ice-servers"))
    on_ice_servers (socket, name, args, attachments, ack_id, self);
  return FALSE;
}

static void
on_nsp_disconnection (GstMeshSioNamespace * nsp, GstMeshSioSocket * socket,
    const gchar * reason, GstMeshSignalServer * self)
{
  on_disconnect (socket, reason, self);
}

static void
on_connection (GstMeshSioNamespace * nsp, GstMeshSioSocket * socket,
    GstMeshSignalServer * self)
{
  /* Events and departures are handled for the whole namespace
   * (on_nsp_event(), on_nsp_disconnection()): handlers on each socket cost
   * ~1.5 kB per client. */
  g_object_set_qdata_full (G_OBJECT (socket), member_quark,
      member_new (self->max_event_rate), member_free);

  GST_DEBUG_OBJECT (self, "client %s connected from %s",
      gst_mesh_sio_socket_get_id (socket),
      gst_mesh_eio_socket_get_remote_address
      (gst_mesh_sio_socket_get_engine_socket (socket)));
  g_signal_emit (self, signals[SIGNAL_CLIENT_CONNECTED], 0,
      gst_mesh_sio_socket_get_id (socket),
      gst_mesh_eio_socket_get_remote_address
      (gst_mesh_sio_socket_get_engine_socket (socket)));

  /* first thing a client hears: the TURN servers and its credentials */
  {
    JsonNode *ice = ice_servers_for (self, socket);

    if (ice) {
      JsonArray *args = single_arg (ice);
      gst_mesh_sio_socket_emit (socket, "ice-servers", args, NULL);
      json_array_unref (args);
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Static files                                                             */
/* ------------------------------------------------------------------------ */

static const gchar *
content_type_for (const gchar * filename)
{
  static const struct
  {
    const gchar *ext;
    const gchar *type;
  } types[] = {
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".map", "application/json; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".wasm", "application/wasm"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (types); i++) {
    if (g_str_has_suffix (filename, types[i].ext))
      return types[i].type;
  }
  return "application/octet-stream";
}

static void
reply_text (SoupServerMessage * msg, guint status, const gchar * text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8",
      SOUP_MEMORY_COPY, text, strlen (text));
}

/* Only plain path segments: no "..", no ".", no hidden files, no
 * backslashes; and the file must resolve inside the web root, so a symlink
 * cannot lead out of it either. */
static gchar *
resolve_static_path (GstMeshSignalServer * self, const gchar * path)
{
  gchar **segments = g_strsplit (path, "/", -1);
  gchar *relative, *filename, *real;
  guint i;

  for (i = 0; segments[i]; i++) {
    const gchar *s = segments[i];

    if (s[0] == '.' || strchr (s, '\\') || !g_utf8_validate (s, -1, NULL)) {
      g_strfreev (segments);
      return NULL;
    }
  }
  relative = g_strjoinv (G_DIR_SEPARATOR_S, segments);
  g_strfreev (segments);
  filename = g_build_filename (self->web_root_real, relative, NULL);
  g_free (relative);

  if (g_file_test (filename, G_FILE_TEST_IS_DIR)) {
    gchar *index = g_build_filename (filename, "index.html", NULL);

    g_free (filename);
    filename = index;
  }
  real = realpath (filename, NULL);
  g_free (filename);
  if (!real)
    return NULL;
  if (!g_str_has_prefix (real, self->web_root_real)
      || real[strlen (self->web_root_real)] != G_DIR_SEPARATOR
      || !g_file_test (real, G_FILE_TEST_IS_REGULAR)) {
    free (real);
    return NULL;
  }
  filename = g_strdup (real);
  free (real);
  return filename;
}

static void
handle_static (SoupServer * soup, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  GstMeshSignalServer *self = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  gchar *filename, *contents = NULL;
  gsize length = 0;
  GError *error = NULL;

  gst_mesh_eio_server_apply_cors (self->engine, msg);

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    reply_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "Only GET and HEAD are served here\n");
    return;
  }

  if (!self->web_root_real) {
    /* What the seed's express app answers. */
    if (g_str_equal (path, "/")) {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "text/html; charset=utf-8",
          SOUP_MEMORY_STATIC, "WebRTC Example", 14);
    } else {
      reply_text (msg, SOUP_STATUS_NOT_FOUND, "Not Found\n");
    }
    return;
  }

  filename = resolve_static_path (self, path);
  if (!filename) {
    GST_DEBUG_OBJECT (self, "no static file for %s", path);
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "Not Found\n");
    return;
  }
  if (!g_file_get_contents (filename, &contents, &length, &error)
      || length > MAX_STATIC_FILE_SIZE) {
    GST_WARNING_OBJECT (self, "cannot serve %s: %s", filename,
        error ? error->message : "file too large");
    g_clear_error (&error);
    g_free (contents);
    g_free (filename);
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "Not Found\n");
    return;
  }

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Cache-Control", "no-cache");
  soup_server_message_set_response (msg, content_type_for (filename),
      SOUP_MEMORY_TAKE, contents, length);
  g_free (filename);
}

static void
handle_client_script (SoupServer * soup, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  GstMeshSignalServer *self = user_data;
  gchar *contents = NULL;
  gsize length = 0;
  GError *error = NULL;

  gst_mesh_eio_server_apply_cors (self->engine, msg);
  if (!g_file_get_contents (self->client_script, &contents, &length, &error)) {
    GST_WARNING_OBJECT (self, "cannot serve the client script %s: %s",
        self->client_script, error->message);
    g_error_free (error);
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "Not Found\n");
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/javascript",
      SOUP_MEMORY_TAKE, contents, length);
}

/* GSocket listens with a backlog of 10: a burst of clients connecting at
 * once (a page reload in a big room, a benchmark) overflows it, the kernel
 * drops their SYNs and they retry a second later. Node listens with 511; so
 * do we, by listen() again on SoupServer's sockets (allowed on Linux and the
 * BSDs). */
#define LISTEN_BACKLOG 511

static void
raise_listen_backlog (GstMeshSignalServer * self)
{
  GSList *sockets = soup_server_get_listeners (self->soup), *l;

  for (l = sockets; l; l = l->next) {
    if (listen (g_socket_get_fd (l->data), LISTEN_BACKLOG) != 0)
      GST_WARNING_OBJECT (self, "cannot raise the listen backlog to %d: %s",
          LISTEN_BACKLOG, g_strerror (errno));
  }
  g_slist_free (sockets);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */
/* ------------------------------------------------------------------------ */

GstMeshSignalServer *
gst_mesh_signal_server_new (void)
{
  return g_object_new (GST_MESH_TYPE_SIGNAL_SERVER, NULL);
}

/* auth-tokens as the digests check_auth() compares; none: no check. On
 * an empty token nothing changes. */
static gboolean
update_auth_digests (GstMeshSignalServer * self, GError ** error)
{
  GPtrArray *digests = NULL;
  guint i;

  for (i = 0; self->auth_tokens && self->auth_tokens[i]; i++) {
    if (!*self->auth_tokens[i]) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "auth-tokens holds an empty token");
      g_clear_pointer (&digests, g_ptr_array_unref);
      return FALSE;
    }
    if (!digests)
      digests = g_ptr_array_new_with_free_func ((GDestroyNotify)
          g_bytes_unref);
    g_ptr_array_add (digests, token_digest (self->auth_tokens[i]));
  }
  g_clear_pointer (&self->auth_digests, g_ptr_array_unref);
  self->auth_digests = digests;
  return TRUE;
}

/* Static files, /healthz and /metrics take no request body: one is refused
 * before it is read, so nobody makes the server buffer a large upload. */
static void
handle_early_static (SoupServer * soup, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  GstMeshSignalServer *self = user_data;
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (req);
  static const gchar body[] = "this path takes no request body\n";

  if (encoding == SOUP_ENCODING_NONE || (encoding ==
          SOUP_ENCODING_CONTENT_LENGTH
          && soup_message_headers_get_content_length (req) == 0))
    return;
  self->counters.bodies_refused++;
  GST_INFO_OBJECT (self, "%s %s from %s: request body refused",
      soup_server_message_get_method (msg), path,
      gst_mesh_eio_server_get_client_address (self->engine, msg));
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Connection", "close");
  soup_server_message_set_status (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
      NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8",
      SOUP_MEMORY_STATIC, body, strlen (body));
}

static void
handle_healthz (SoupServer * soup, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  GstMeshSignalServer *self = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  gboolean serving = self->engine && !self->stopping;
  const gchar *body = serving ? "ok\n" : "stopping\n";

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        NULL);
    return;
  }
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Cache-Control", "no-store");
  soup_server_message_set_status (msg, serving ? SOUP_STATUS_OK :
      SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8",
      SOUP_MEMORY_STATIC, body, strlen (body));
}

/* The members of every room, counted now. */
static guint
count_members (GstMeshSignalServer * self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += ((GPtrArray *) value)->len;
  return n;
}

static void
handle_metrics (SoupServer * soup, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  GstMeshSignalServer *self = user_data;
  GstMeshEioStats eio;
  const gchar *method = soup_server_message_get_method (msg);
  gchar *text;

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        NULL);
    return;
  }
  gst_mesh_eio_server_get_stats (self->engine, &eio);
  text = gst_mesh_metrics_render (&self->counters, relayed_events, &eio,
      g_hash_table_size (self->rooms), count_members (self),
      self->start_time);
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4; "
      "charset=utf-8", SOUP_MEMORY_TAKE, text, strlen (text));
}

/**
 * gst_mesh_signal_server_start:
 *
 * Listens on address:port and serves Socket.IO at path (and the web root,
 * if set, everywhere else).
 */
/* socket.data of our sockets in the other nodes' fetchSockets: the mesh
 * room and uid, as examples/rooms-server keeps them */
static JsonNode *
cluster_socket_data (GstMeshCluster * cluster, GstMeshSioSocket * socket,
    gpointer user_data)
{
  Member *m = socket_member (socket);
  JsonObject *o = json_object_new ();

  if (m && m->room)
    json_object_set_string_member (o, "room", m->room);
  if (m && m->uid)
    json_object_set_string_member (o, "uid", m->uid);
  json_object_set_string_member (o, "node", gst_mesh_cluster_get_uid
      (cluster));
  return object_node (o);
}

/* "mesh-evict" {room, uid, id, by}: a member joined elsewhere with the uid
 * of ours: ours leaves the room (and everyone hears peer-left) */
static void
cluster_server_event (GstMeshCluster * cluster, const gchar * event,
    JsonArray * args, gpointer user_data)
{
  GstMeshSignalServer *self = user_data;
  JsonNode *first = json_array_get_length (args) ?
      json_array_get_element (args, 0) : NULL;
  JsonObject *o = first && JSON_NODE_HOLDS_OBJECT (first) ?
      json_node_get_object (first) : NULL;
  const gchar *room = join_string_member (o, "room");
  const gchar *uid = join_string_member (o, "uid");
  const gchar *by = join_string_member (o, "by");
  GstMeshSioSocket *s;

  if (!g_str_equal (event, "mesh-evict"))
    return;
  if (!room || !uid || !by) {
    GST_WARNING_OBJECT (self, "mesh-evict from the cluster without room, uid "
        "and by: ignored");
    return;
  }
  s = room_find_uid (g_hash_table_lookup (self->rooms, room), uid, NULL);
  if (s && !g_str_equal (gst_mesh_sio_socket_get_id (s), by)) {
    GST_INFO_OBJECT (self, "client %s on another node joined room \"%s\" as "
        "uid \"%s\": client %s, which had that uid, is taken out", by, room,
        uid, gst_mesh_sio_socket_get_id (s));
    room_leave (self, s);
  }
}

/* peer-joined / peer-left that another node sent to a room with members
 * here keep that room's remote set */
static void
cluster_delivered (GstMeshCluster * cluster, const gchar * node,
    const gchar * const *rooms, const gchar * event, JsonArray * args,
    gpointer user_data)
{
  GstMeshSignalServer *self = user_data;
  JsonNode *first;
  JsonObject *o;
  const gchar *id, *room, *uid;
  GHashTable *remote;

  if (!rooms || !rooms[0] || rooms[1] ||
      !g_str_has_prefix (rooms[0], MESH_ROOM_PREFIX))
    return;
  if (!g_str_equal (event, "peer-joined") && !g_str_equal (event,
          "peer-left"))
    return;
  first = json_array_get_length (args) ? json_array_get_element (args, 0) :
      NULL;
  o = first && JSON_NODE_HOLDS_OBJECT (first) ? json_node_get_object (first) :
      NULL;
  id = join_string_member (o, "id");
  room = join_string_member (o, "room");
  uid = join_string_member (o, "uid");
  if (!id || !room || !g_str_equal (rooms[0] + strlen (MESH_ROOM_PREFIX),
          room) || !g_hash_table_lookup (self->rooms, room))
    return;
  remote = room_remote (self, room);
  if (!remote) {
    remote = remote_set_new ();
    g_hash_table_insert (self->remote, g_strdup (room), remote);
  }
  if (g_str_equal (event, "peer-joined")) {
    g_hash_table_insert (remote, g_strdup (id), remote_member_new (cluster, uid,
            node));
  } else {
    g_hash_table_remove (remote, id);
  }
}

/* A node is gone: its members leave their rooms, for our clients (every
 * other node tells its own) */
static void
cluster_node_lost (GstMeshCluster * cluster, const gchar * node,
    gpointer user_data)
{
  GstMeshSignalServer *self = user_data;
  GstMeshSioNamespace *nsp = gst_mesh_sio_server_get_namespace (self->sio,
      "/");
  GHashTableIter rooms_it, it;
  gpointer room, remote, id, r;

  g_hash_table_iter_init (&rooms_it, self->remote);
  while (g_hash_table_iter_next (&rooms_it, &room, &remote)) {
    gchar *sr = sio_room (room);
    const gchar *to[] = { sr, NULL };

    g_hash_table_iter_init (&it, remote);
    while (g_hash_table_iter_next (&it, &id, &r)) {
      JsonArray *args;

      if (g_strcmp0 (((RemoteMember *) r)->node, node) != 0)
        continue;
      GST_INFO_OBJECT (self, "room \"%s\": member %s was on node %s, which "
          "is gone", (gchar *) room, (gchar *) id, node);
      args = peer_event_args (id, room, ((RemoteMember *) r)->uid);
      gst_mesh_sio_namespace_deliver (nsp, to, NULL, "peer-left", args);
      json_array_unref (args);
      g_hash_table_iter_remove (&it);
    }
    g_free (sr);
  }
}

typedef struct
{
  GstMeshSignalServer *self;
  gchar *room;
} Repair;

/* The room's members on the other nodes as they are now, after a time
 * in which this node heard nothing from (some of) them: the members here
 * hear peer-left for those gone and peer-joined for those that came. Of
 * a pair that joined on two nodes while they were cut apart, neither was
 * in the other's join ack, so neither would offer: the peer-joined says
 * which one offers ("offer": true to the one with the smaller socket id;
 * the other node works it out the same way). */
static void
on_repair_fetched (GstMeshCluster * cluster, JsonArray * sockets,
    guint missing, gpointer user_data)
{
  Repair *r = user_data;
  GstMeshSignalServer *self = r->self;
  GPtrArray *members = self->stopping ? NULL :
      g_hash_table_lookup (self->rooms, r->room);
  GHashTable *old = room_remote (self, r->room);
  GHashTable *now;
  GHashTableIter it;
  gpointer id, rm;
  guint n_left = 0, n_joined = 0;

  if (!members || missing)
    /* nobody here any more, or an answer we cannot trust to say who left */
    goto done;
  now = remote_set_from (cluster, sockets, r->room);
  if (old) {
    gchar *sr = sio_room (r->room);
    const gchar *to[] = { sr, NULL };

    g_hash_table_iter_init (&it, old);
    while (g_hash_table_iter_next (&it, &id, &rm)) {
      JsonArray *args;

      if (g_hash_table_contains (now, id))
        continue;
      args = peer_event_args (id, r->room, ((RemoteMember *) rm)->uid);
      gst_mesh_sio_namespace_deliver (gst_mesh_sio_server_get_namespace
          (self->sio, "/"), to, NULL, "peer-left", args);
      json_array_unref (args);
      n_left++;
    }
    g_free (sr);
  }
  g_hash_table_iter_init (&it, now);
  while (g_hash_table_iter_next (&it, &id, &rm)) {
    if (old && g_hash_table_contains (old, id))
      continue;
    for (guint i = 0; i < members->len; i++) {
      GstMeshSioSocket *s = g_ptr_array_index (members, i);
      JsonObject *o = json_object_new ();
      JsonArray *args;

      json_object_set_string_member (o, "id", id);
      json_object_set_string_member (o, "room", r->room);
      if (((RemoteMember *) rm)->uid)
        json_object_set_string_member (o, "uid", ((RemoteMember *) rm)->uid);
      json_object_set_boolean_member (o, "offer",
          strcmp (gst_mesh_sio_socket_get_id (s), id) < 0);
      args = single_arg (object_node (o));
      gst_mesh_sio_socket_emit (s, "peer-joined", args, NULL);
      json_array_unref (args);
    }
    n_joined++;
  }
  GST_INFO_OBJECT (self, "room \"%s\" repaired: %u members gone, %u found "
      "on other nodes", r->room, n_left, n_joined);
  g_hash_table_insert (self->remote, g_strdup (r->room), now);

done:
  g_object_unref (r->self);
  g_free (r->room);
  g_free (r);
}

/* Every room with members here asks the other nodes again */
static void
repair_rooms (GstMeshSignalServer * self)
{
  GHashTableIter it;
  gpointer room;

  g_hash_table_iter_init (&it, self->rooms);
  while (g_hash_table_iter_next (&it, &room, NULL)) {
    Repair *r = g_new0 (Repair, 1);
    gchar *sr = sio_room (room);
    const gchar *rooms[] = { sr, NULL };

    r->self = g_object_ref (self);
    r->room = g_strdup (room);
    gst_mesh_cluster_fetch_sockets (self->cluster, rooms, on_repair_fetched,
        r);
    g_free (sr);
  }
}

static gboolean
repair_later (gpointer data)
{
  GstMeshSignalServer *self = data;

  g_source_unref (self->repair_source);
  self->repair_source = NULL;
  if (self->cluster && gst_mesh_cluster_is_up (self->cluster))
    repair_rooms (self);
  return G_SOURCE_REMOVE;
}

static void
cluster_node_back (GstMeshCluster * cluster, const gchar * node,
    gpointer user_data)
{
  repair_rooms (user_data);
}

static void
on_cluster_state (GstMeshCluster * cluster, gboolean up, const gchar * reason,
    gpointer user_data)
{
  GstMeshSignalServer *self = user_data;

  if (!up) {
    self->cluster_was_down = TRUE;
  } else if (self->cluster_was_down) {
    /* the other nodes come back on their own back-off (at most 5 s):
     * asked before, one that is not back yet would seem to have lost its
     * members */
    self->cluster_was_down = FALSE;
    gst_mesh_clear_source (&self->repair_source);
    self->repair_source = g_timeout_source_new (REPAIR_DELAY_MS);
    g_source_set_callback (self->repair_source, repair_later, self, NULL);
    g_source_attach (self->repair_source, g_main_context_get_thread_default ());
  }

  if (up)
    GST_INFO_OBJECT (self, "in the cluster as node %s",
        gst_mesh_cluster_get_uid (cluster));
  else
    GST_WARNING_OBJECT (self, "the cluster's Redis is unreachable (%s): "
        "serving this server's clients alone until it is back", reason);
  g_signal_emit (self, signals[SIGNAL_CLUSTER_STATE], 0, up, reason);
}

gboolean
gst_mesh_signal_server_start (GstMeshSignalServer * self, GError ** error)
{
  SoupServerListenOptions options = 0;
  gboolean ok;

  g_return_val_if_fail (GST_MESH_IS_SIGNAL_SERVER (self), FALSE);

  if (self->soup) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
        "signalling server already started");
    return FALSE;
  }

  if (self->web_root) {
    char *real = realpath (self->web_root, NULL);

    if (!real || !g_file_test (real, G_FILE_TEST_IS_DIR)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
          "web root \"%s\" is not a directory", self->web_root);
      free (real);
      return FALSE;
    }
    g_free (self->web_root_real);
    self->web_root_real = g_strdup (real);
    free (real);
  }

  if (!update_auth_digests (self, error))
    return FALSE;

  self->soup = soup_server_new (NULL, NULL);
  if (self->tls_cert_file || self->tls_key_file) {
    GTlsCertificate *cert;

    if (!self->tls_cert_file || !self->tls_key_file) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "TLS needs both a certificate file and a key file");
      goto failed;
    }
    cert = g_tls_certificate_new_from_files (self->tls_cert_file,
        self->tls_key_file, error);
    if (!cert) {
      g_prefix_error (error, "cannot load TLS certificate %s / key %s: ",
          self->tls_cert_file, self->tls_key_file);
      goto failed;
    }
    soup_server_set_tls_certificate (self->soup, cert);
    g_object_unref (cert);
    options |= SOUP_SERVER_LISTEN_HTTPS;
    self->secure = TRUE;
  }

  self->engine = g_object_new (GST_MESH_TYPE_EIO_SERVER, "ping-interval",
      self->ping_interval, "ping-timeout", self->ping_timeout, "max-payload",
      self->max_payload, "cors-origins", self->cors_origins,
      "header-timeout", self->header_timeout, "trusted-proxies",
      self->trusted_proxies, NULL);
  if (!gst_mesh_eio_server_attach (self->engine, self->soup, self->path,
          error))
    goto failed;
  self->sio = gst_mesh_sio_server_new (self->engine);
  g_object_set (self->sio, "connect-timeout", self->connect_timeout, NULL);
  g_signal_connect_object (gst_mesh_sio_server_get_namespace (self->sio, "/"),
      "connection", G_CALLBACK (on_connection), self, 0);
  g_signal_connect_object (gst_mesh_sio_server_get_namespace (self->sio, "/"),
      "event", G_CALLBACK (on_nsp_event), self, 0);
  g_signal_connect_object (gst_mesh_sio_server_get_namespace (self->sio, "/"),
      "disconnection", G_CALLBACK (on_nsp_disconnection), self, 0);
  gst_mesh_sio_namespace_set_raw_event_func
      (gst_mesh_sio_server_get_namespace (self->sio, "/"), on_raw_event, self,
      NULL);
  /* Always there: auth-tokens may be set while running (a reload). */
  gst_mesh_sio_namespace_set_connect_check
      (gst_mesh_sio_server_get_namespace (self->sio, "/"), check_auth, self,
      NULL);
  if (self->redis_url) {
    self->cluster_was_down = FALSE;
    self->cluster = gst_mesh_cluster_new (gst_mesh_sio_server_get_namespace
        (self->sio, "/"), self->redis_url, self->redis_key, on_cluster_state,
        self, error);
    if (!self->cluster)
      goto failed;
    {
      GstMeshClusterHandlers h = { cluster_socket_data, cluster_server_event,
        cluster_delivered, cluster_node_lost, cluster_node_back
      };

      gst_mesh_cluster_set_handlers (self->cluster, &h, self);
    }
  }
  g_signal_connect_object (self->soup, "request-read",
      G_CALLBACK (on_request_read), self, 0);
  soup_server_add_handler (self->soup, "/", handle_static, self, NULL);
  soup_server_add_early_handler (self->soup, "/", handle_early_static, self,
      NULL);
  soup_server_add_handler (self->soup, "/healthz", handle_healthz, self,
      NULL);
  if (self->metrics)
    soup_server_add_handler (self->soup, "/metrics", handle_metrics, self,
        NULL);
  memset (&self->counters, 0, sizeof (self->counters));
  self->start_time = g_get_real_time ();
  if (self->client_script) {
    /* more specific than the Engine.IO path, so SoupServer asks these
     * first */
    static const gchar *names[] = { "socket.io.js", "socket.io.min.js" };
    for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
      gchar *p = g_strconcat (self->path, g_str_has_suffix (self->path, "/") ?
          "" : "/", names[i], NULL);
      soup_server_add_handler (self->soup, p, handle_client_script, self,
          NULL);
      g_free (p);
    }
  }

  if (self->address && *self->address) {
    GInetAddress *inet = g_inet_address_new_from_string (self->address);
    GSocketAddress *sockaddr;

    if (!inet) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "\"%s\" is not an IP address", self->address);
      goto failed;
    }
    sockaddr = g_inet_socket_address_new (inet, self->port);
    ok = soup_server_listen (self->soup, sockaddr, options, error);
    g_object_unref (sockaddr);
    g_object_unref (inet);
  } else {
    ok = soup_server_listen_all (self->soup, self->port, options, error);
  }
  if (!ok) {
    g_prefix_error (error, "cannot listen on %s:%u: ",
        self->address ? self->address : "*", self->port);
    goto failed;
  }
  raise_listen_backlog (self);
  if (self->cluster)
    gst_mesh_cluster_start (self->cluster);

  GST_INFO_OBJECT (self, "listening on port %u, Socket.IO at %s",
      gst_mesh_signal_server_get_port (self), self->path);
  return TRUE;

failed:
  gst_mesh_signal_server_stop (self);
  return FALSE;
}

/**
 * gst_mesh_signal_server_stop:
 *
 * Disconnects every client and stops listening.
 */
void
gst_mesh_signal_server_stop (GstMeshSignalServer * self)
{
  g_return_if_fail (GST_MESH_IS_SIGNAL_SERVER (self));

  self->stopping = TRUE;
  gst_mesh_clear_source (&self->repair_source);
  g_clear_pointer (&self->cluster, gst_mesh_cluster_free);
  g_clear_object (&self->sio);
  if (self->engine) {
    gst_mesh_eio_server_close_all (self->engine);
    g_clear_object (&self->engine);
  }
  if (self->soup) {
    soup_server_disconnect (self->soup);
    g_clear_object (&self->soup);
  }
  /* Every socket left its room on its way out; anything left is dropped. */
  g_hash_table_remove_all (self->rooms);
  g_hash_table_remove_all (self->remote);
  g_clear_pointer (&self->auth_digests, g_ptr_array_unref);
  self->secure = FALSE;
  self->stopping = FALSE;
}

/**
 * gst_mesh_signal_server_get_port:
 *
 * Returns: the port listened on (the actual one when port was 0), or 0 when
 *   not started
 */
guint
gst_mesh_signal_server_get_port (GstMeshSignalServer * self)
{
  g_return_val_if_fail (GST_MESH_IS_SIGNAL_SERVER (self), 0);
  return self->engine ? gst_mesh_eio_server_get_port (self->engine) : 0;
}

/**
 * gst_mesh_signal_server_get_url:
 *
 * Returns: (transfer full) (nullable): "http(s)://ADDRESS:PORT" clients can
 *   use, %NULL when not started
 */
gchar *
gst_mesh_signal_server_get_url (GstMeshSignalServer * self)
{
  const gchar *host;
  gboolean v6;

  g_return_val_if_fail (GST_MESH_IS_SIGNAL_SERVER (self), NULL);
  if (!self->soup)
    return NULL;
  host = self->address && *self->address ? self->address : "localhost";
  v6 = strchr (host, ':') != NULL;
  return g_strdup_printf ("%s://%s%s%s:%u", self->secure ? "https" : "http",
      v6 ? "[" : "", host, v6 ? "]" : "",
      gst_mesh_signal_server_get_port (self));
}

/**
 * gst_mesh_signal_server_get_sio_server:
 *
 * Returns: (transfer none) (nullable): the Socket.IO server, once started
 */
GstMeshSioServer *
gst_mesh_signal_server_get_sio_server (GstMeshSignalServer * self)
{
  g_return_val_if_fail (GST_MESH_IS_SIGNAL_SERVER (self), NULL);
  return self->sio;
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                  */
/* ------------------------------------------------------------------------ */

static void
gst_mesh_signal_server_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMeshSignalServer *self = GST_MESH_SIGNAL_SERVER (object);

  /* What a reload (gst-mesh-server's SIGHUP) changes can change while
   * running; the rest is read at start. */
  if (self->soup && prop_id != PROP_AUTH_TOKENS && prop_id != PROP_CORS_ORIGINS
      && prop_id != PROP_HEADER_TIMEOUT && prop_id != PROP_TRUSTED_PROXIES
      && prop_id != PROP_TURN_SECRET && prop_id != PROP_TURN_URLS
      && prop_id != PROP_TURN_TTL) {
    g_warning ("GstMeshSignalServer: property %s cannot change while the "
        "server runs", pspec->name);
    return;
  }

  switch (prop_id) {
    case PROP_ADDRESS:
      g_free (self->address);
      self->address = g_value_dup_string (value);
      break;
    case PROP_PORT:
      self->port = g_value_get_uint (value);
      break;
    case PROP_PATH:
      g_free (self->path);
      self->path = g_value_dup_string (value);
      if (!self->path)
        self->path = g_strdup (DEFAULT_PATH);
      break;
    case PROP_WEB_ROOT:
      g_free (self->web_root);
      self->web_root = g_value_dup_string (value);
      break;
    case PROP_CLIENT_SCRIPT:
      g_free (self->client_script);
      self->client_script = g_value_dup_string (value);
      break;
    case PROP_CORS_ORIGINS:
      g_strfreev (self->cors_origins);
      self->cors_origins = g_value_dup_boxed (value);
      if (self->engine)
        g_object_set (self->engine, "cors-origins", self->cors_origins, NULL);
      break;
    case PROP_TLS_CERT_FILE:
      g_free (self->tls_cert_file);
      self->tls_cert_file = g_value_dup_string (value);
      break;
    case PROP_TLS_KEY_FILE:
      g_free (self->tls_key_file);
      self->tls_key_file = g_value_dup_string (value);
      break;
    case PROP_PING_INTERVAL:
      self->ping_interval = g_value_get_uint (value);
      break;
    case PROP_PING_TIMEOUT:
      self->ping_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_PAYLOAD:
      self->max_payload = g_value_get_uint64 (value);
      break;
    case PROP_CONNECT_TIMEOUT:
      self->connect_timeout = g_value_get_uint (value);
      break;
    case PROP_AUTH_TOKENS:{
      gchar **old = self->auth_tokens;

      self->auth_tokens = g_value_dup_boxed (value);
      if (self->engine && !update_auth_digests (self, NULL)) {
        GST_WARNING_OBJECT (self, "auth-tokens holds an empty token: kept "
            "the previous tokens");
        g_strfreev (self->auth_tokens);
        self->auth_tokens = old;
      } else {
        g_strfreev (old);
      }
      break;
    }
    case PROP_METRICS:
      self->metrics = g_value_get_boolean (value);
      break;
    case PROP_HEADER_TIMEOUT:
      self->header_timeout = g_value_get_uint (value);
      if (self->engine)
        g_object_set (self->engine, "header-timeout", self->header_timeout,
            NULL);
      break;
    case PROP_TRUSTED_PROXIES:
      g_strfreev (self->trusted_proxies);
      self->trusted_proxies = g_value_dup_boxed (value);
      if (self->engine)
        g_object_set (self->engine, "trusted-proxies", self->trusted_proxies,
            NULL);
      break;
    case PROP_TURN_SECRET:
      g_free (self->turn_secret);
      self->turn_secret = g_value_dup_string (value);
      break;
    case PROP_REDIS_URL:
      g_free (self->redis_url);
      self->redis_url = g_value_dup_string (value);
      break;
    case PROP_REDIS_KEY:
      g_free (self->redis_key);
      self->redis_key = g_value_dup_string (value);
      break;
    case PROP_TURN_URLS:
      g_strfreev (self->turn_urls);
      self->turn_urls = g_value_dup_boxed (value);
      break;
    case PROP_TURN_TTL:
      self->turn_ttl = g_value_get_uint (value);
      break;
    case PROP_MAX_ROOM_PEERS:
      self->max_room_peers = g_value_get_uint (value);
      break;
    case PROP_MAX_EVENT_RATE:
      self->max_event_rate = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mesh_signal_server_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstMeshSignalServer *self = GST_MESH_SIGNAL_SERVER (object);

  switch (prop_id) {
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->soup ?
          gst_mesh_signal_server_get_port (self) : self->port);
      break;
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_WEB_ROOT:
      g_value_set_string (value, self->web_root);
      break;
    case PROP_CLIENT_SCRIPT:
      g_value_set_string (value, self->client_script);
      break;
    case PROP_CORS_ORIGINS:
      g_value_set_boxed (value, self->cors_origins);
      break;
    case PROP_TLS_CERT_FILE:
      g_value_set_string (value, self->tls_cert_file);
      break;
    case PROP_TLS_KEY_FILE:
      g_value_set_string (value, self->tls_key_file);
      break;
    case PROP_PING_INTERVAL:
      g_value_set_uint (value, self->ping_interval);
      break;
    case PROP_PING_TIMEOUT:
      g_value_set_uint (value, self->ping_timeout);
      break;
    case PROP_MAX_PAYLOAD:
      g_value_set_uint64 (value, self->max_payload);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, self->connect_timeout);
      break;
    case PROP_AUTH_TOKENS:
      g_value_set_boxed (value, self->auth_tokens);
      break;
    case PROP_MAX_ROOM_PEERS:
      g_value_set_uint (value, self->max_room_peers);
      break;
    case PROP_MAX_EVENT_RATE:
      g_value_set_uint (value, self->max_event_rate);
      break;
    case PROP_METRICS:
      g_value_set_boolean (value, self->metrics);
      break;
    case PROP_HEADER_TIMEOUT:
      g_value_set_uint (value, self->header_timeout);
      break;
    case PROP_TRUSTED_PROXIES:
      g_value_set_boxed (value, self->trusted_proxies);
      break;
    case PROP_TURN_SECRET:
      g_value_set_string (value, self->turn_secret);
      break;
    case PROP_REDIS_URL:
      g_value_set_string (value, self->redis_url);
      break;
    case PROP_REDIS_KEY:
      g_value_set_string (value, self->redis_key);
      break;
    case PROP_TURN_URLS:
      g_value_set_boxed (value, self->turn_urls);
      break;
    case PROP_TURN_TTL:
      g_value_set_uint (value, self->turn_ttl);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mesh_signal_server_dispose (GObject * object)
{
  gst_mesh_signal_server_stop (GST_MESH_SIGNAL_SERVER (object));
  G_OBJECT_CLASS (gst_mesh_signal_server_parent_class)->dispose (object);
}

static void
gst_mesh_signal_server_finalize (GObject * object)
{
  GstMeshSignalServer *self = GST_MESH_SIGNAL_SERVER (object);

  g_free (self->address);
  g_free (self->path);
  g_free (self->web_root);
  g_free (self->web_root_real);
  g_free (self->client_script);
  g_strfreev (self->cors_origins);
  g_free (self->tls_cert_file);
  g_free (self->tls_key_file);
  g_strfreev (self->auth_tokens);
  g_strfreev (self->trusted_proxies);
  g_free (self->turn_secret);
  g_strfreev (self->turn_urls);
  g_free (self->redis_url);
  g_free (self->redis_key);
  g_hash_table_unref (self->remote);
  g_hash_table_unref (self->rooms);

  G_OBJECT_CLASS (gst_mesh_signal_server_parent_class)->finalize (object);
}

static void
gst_mesh_signal_server_class_init (GstMeshSignalServerClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  static gsize once = 0;
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (mesh_server_debug, "meshserver", 0,
        "gst-mesh Socket.IO and signalling server");
    member_quark = g_quark_from_static_string ("gst-mesh-signal-member");
    g_once_init_leave (&once, 1);
  }

  gobject_class->set_property = gst_mesh_signal_server_set_property;
  gobject_class->get_property = gst_mesh_signal_server_get_property;
  gobject_class->dispose = gst_mesh_signal_server_dispose;
  gobject_class->finalize = gst_mesh_signal_server_finalize;

  /**
   * GstMeshSignalServer:address:
   *
   * IP address to listen on; %NULL for all interfaces (IPv4 and IPv6).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "IP address to listen on (NULL: all)", NULL, flags));

  /**
   * GstMeshSignalServer:port:
   *
   * TCP port; 0 picks a free one (read it back once started). The seed
   * uses 4000.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_uint ("port", "Port", "TCP port (0: any free one)", 0,
          65535, DEFAULT_PORT, flags));

  /**
   * GstMeshSignalServer:path:
   *
   * Where Socket.IO is served.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PATH,
      g_param_spec_string ("path", "Path", "Socket.IO path", DEFAULT_PATH,
          flags));

  /**
   * GstMeshSignalServer:web-root:
   *
   * A directory served as static files on every other path (the demo
   * page, a local socket.io.js); %NULL serves only "/" as the seed does.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_WEB_ROOT,
      g_param_spec_string ("web-root", "Web root",
          "Directory of static files to serve", NULL, flags));

  /**
   * GstMeshSignalServer:client-script:
   *
   * A socket.io client script (e.g. socket.io/client-dist/socket.io.js
   * from npm) served at PATH/socket.io.js and PATH/socket.io.min.js, where
   * the Node server serves its own (its serveClient option), so pages
   * written for it load the client from us unchanged.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CLIENT_SCRIPT,
      g_param_spec_string ("client-script", "Client script",
          "socket.io client script to serve at PATH/socket.io.js", NULL,
          flags));

  /**
   * GstMeshSignalServer:cors-origins:
   *
   * Origins allowed by CORS; the seed allows "*". Unless it holds "*" (or
   * is empty), it is also an allow-list: an Engine.IO request (handshake,
   * poll or WebSocket upgrade) whose Origin header is not in it gets HTTP
   * 403 `{"code":4,"message":"origin not allowed","origin":"..."}`.
   * Requests without an Origin header (non-browser clients) pass. May
   * change while the server runs: sessions already open stay.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CORS_ORIGINS,
      g_param_spec_boxed ("cors-origins", "CORS origins",
          "Origins allowed by CORS (\"*\" for any)", G_TYPE_STRV, flags));

  /**
   * GstMeshSignalServer:tls-cert-file:
   *
   * PEM certificate (chain) file; with tls-key-file, serves https/wss.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TLS_CERT_FILE,
      g_param_spec_string ("tls-cert-file", "TLS certificate file",
          "PEM certificate file (enables TLS)", NULL, flags));

  /**
   * GstMeshSignalServer:tls-key-file:
   *
   * PEM private key file for tls-cert-file.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TLS_KEY_FILE,
      g_param_spec_string ("tls-key-file", "TLS key file",
          "PEM private key file", NULL, flags));

  /**
   * GstMeshSignalServer:ping-interval:
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PING_INTERVAL,
      g_param_spec_uint ("ping-interval", "Ping interval",
          "Milliseconds between server pings", 1, G_MAXINT, 25000, flags));

  /**
   * GstMeshSignalServer:ping-timeout:
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PING_TIMEOUT,
      g_param_spec_uint ("ping-timeout", "Ping timeout",
          "Milliseconds to wait for a pong", 1, G_MAXINT, 20000, flags));

  /**
   * GstMeshSignalServer:max-payload:
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MAX_PAYLOAD,
      g_param_spec_uint64 ("max-payload", "Max payload",
          "Largest message or POST body in bytes", 1, G_MAXINT64, 1000000,
          flags));

  /**
   * GstMeshSignalServer:connect-timeout:
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect timeout",
          "Milliseconds a session has to join a namespace", 1, G_MAXINT,
          45000, flags));

  /**
   * GstMeshSignalServer:auth-tokens:
   *
   * Tokens that let a client in: when set, the Socket.IO CONNECT's auth
   * must be an object whose "token" is one of them, else the connection is
   * refused with CONNECT_ERROR "auth token required" (no token) or
   * "invalid auth token". %NULL or empty: no token needed. May change
   * while the server runs: clients already connected stay.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKENS,
      g_param_spec_boxed ("auth-tokens", "Auth tokens",
          "Tokens accepted in the Socket.IO CONNECT auth {\"token\":...} "
          "(NULL: no auth)", G_TYPE_STRV, flags));

  /**
   * GstMeshSignalServer:max-room-peers:
   *
   * Most members a mesh room may have; a `join` into a full room is
   * refused with `{"error":"room is full","room":...,"max":...}`. 0: no
   * limit.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MAX_ROOM_PEERS,
      g_param_spec_uint ("max-room-peers", "Max room peers",
          "Most members of a mesh room (0: unlimited)", 0, G_MAXINT, 0,
          flags));

  /**
   * GstMeshSignalServer:max-event-rate:
   *
   * Events per second each client may send, with bursts of as many: a
   * token bucket. Events over it are dropped and the client gets an
   * `error` event `{"event":...,"message":"rate limit exceeded"}`, at most
   * one a second; a client over 10 times the rate for 5 seconds in a row is
   * disconnected. 0: no limit.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MAX_EVENT_RATE,
      g_param_spec_uint ("max-event-rate", "Max event rate",
          "Events per second per client, as a burst too (0: unlimited)", 0,
          G_MAXINT, DEFAULT_MAX_EVENT_RATE, flags));

  /**
   * GstMeshSignalServer:metrics:
   *
   * Serve GET /metrics: counters and gauges in the Prometheus text format
   * (docs/protocol.md section 6). Read at start. GET /healthz is always
   * served.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_METRICS,
      g_param_spec_boolean ("metrics", "Metrics",
          "Serve GET /metrics (Prometheus text format)", FALSE, flags));

  /**
   * GstMeshSignalServer:header-timeout:
   *
   * Milliseconds an HTTP connection may take to send a whole request head
   * (from its start, or from its previous response); past that it is shut
   * down. 0: no limit.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_HEADER_TIMEOUT,
      g_param_spec_uint ("header-timeout", "Header timeout",
          "Milliseconds to send a whole request head (0: no limit)", 0,
          G_MAXUINT, DEFAULT_HEADER_TIMEOUT, flags));

  /**
   * GstMeshSignalServer:trusted-proxies:
   *
   * Addresses or networks of reverse proxies whose X-Forwarded-For is
   * believed: the client address in logs and checks is then the one the
   * proxy names. %NULL: the connection's peer.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_TRUSTED_PROXIES,
      g_param_spec_boxed ("trusted-proxies", "Trusted proxies",
          "Proxies whose X-Forwarded-For names the client", G_TYPE_STRV,
          flags));

  /**
   * GstMeshSignalServer:turn-secret:
   *
   * The secret shared with the TURN server (coturn's static-auth-secret
   * with use-auth-secret). With it and turn-urls, every client is sent an
   * "ice-servers" event when it connects: the URLs, and TURN credentials
   * that expire after turn-ttl seconds (the TURN REST API scheme), so no
   * client needs a long-lived TURN password. A client asks for fresh ones
   * by emitting "ice-servers" (answered by ack). docs/protocol.md.
   *
   * Since: 0.3
   */
  g_object_class_install_property (gobject_class, PROP_TURN_SECRET,
      g_param_spec_string ("turn-secret", "TURN secret",
          "Secret shared with the TURN server, to hand out time-limited "
          "TURN credentials", NULL, flags));
  /**
   * GstMeshSignalServer:turn-urls:
   *
   * The ICE server URLs handed out with turn-secret, as browsers write
   * them (turn:HOST:PORT?transport=tcp, turns:HOST:PORT, stun:HOST:PORT).
   *
   * Since: 0.3
   */
  g_object_class_install_property (gobject_class, PROP_TURN_URLS,
      g_param_spec_boxed ("turn-urls", "TURN URLs",
          "ICE server URLs handed out with the TURN credentials",
          G_TYPE_STRV, flags));
  /**
   * GstMeshSignalServer:turn-ttl:
   *
   * Seconds the handed-out TURN credentials stay valid.
   *
   * Since: 0.3
   */
  g_object_class_install_property (gobject_class, PROP_TURN_TTL,
      g_param_spec_uint ("turn-ttl", "TURN TTL",
          "Seconds the handed-out TURN credentials stay valid", 60,
          G_MAXINT, 86400, flags));

  /**
   * GstMeshSignalServer:redis-url:
   *
   * redis://HOST[:PORT][/DB]: the server joins the cluster of Socket.IO
   * servers on that Redis, as a node of @socket.io/redis-adapter
   * (docs/protocol.md §9): broadcasts reach the clients of every node.
   * Redis unreachable is no error: the server serves its own clients,
   * says so in #GstMeshSignalServer::cluster-state, and keeps trying.
   */
  g_object_class_install_property (gobject_class, PROP_REDIS_URL,
      g_param_spec_string ("redis-url", "Redis URL",
          "redis://HOST[:PORT][/DB] of a cluster of Socket.IO servers "
          "(the Redis adapter's); NULL: alone", NULL, flags));
  /**
   * GstMeshSignalServer:redis-key:
   *
   * The prefix of the cluster's Redis channels: the adapter's `key`.
   */
  g_object_class_install_property (gobject_class, PROP_REDIS_KEY,
      g_param_spec_string ("redis-key", "Redis key",
          "Prefix of the cluster's Redis channels (the adapter's key)",
          "socket.io", flags));

  /**
   * GstMeshSignalServer::cluster-state:
   * @server: the server
   * @up: whether it reaches the cluster's Redis
   * @reason: (nullable): why not
   *
   * With #GstMeshSignalServer:redis-url: the link to the cluster went
   * down or came (back) up.
   */
  signals[SIGNAL_CLUSTER_STATE] = g_signal_new ("cluster-state",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_BOOLEAN, G_TYPE_STRING);

  /**
   * GstMeshSignalServer::client-connected:
   * @server: the server
   * @id: the client's Socket.IO id
   * @address: its remote address
   */
  signals[SIGNAL_CLIENT_CONNECTED] = g_signal_new ("client-connected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  /**
   * GstMeshSignalServer::client-disconnected:
   * @server: the server
   * @id: the client's Socket.IO id
   * @reason: why
   */
  signals[SIGNAL_CLIENT_DISCONNECTED] = g_signal_new ("client-disconnected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  /**
   * GstMeshSignalServer::relayed:
   * @server: the server
   * @event: "offer", "answer", "candidate" or "hangup"
   * @id: the sender's Socket.IO id
   * @n_receivers: how many clients it went to (for a message routed by
   *   `to`: 1, or 0 when refused with an `error` event)
   */
  signals[SIGNAL_RELAYED] = g_signal_new ("relayed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
      gst_mesh_marshal_VOID__STRING_STRING_UINT, G_TYPE_NONE, 3,
      G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
      G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_UINT);
  g_signal_set_va_marshaller (signals[SIGNAL_RELAYED],
      G_TYPE_FROM_CLASS (klass), gst_mesh_marshal_VOID__STRING_STRING_UINTv);
}

static void
gst_mesh_signal_server_init (GstMeshSignalServer * self)
{
  const gchar *any[] = { "*", NULL };

  self->port = DEFAULT_PORT;
  self->path = g_strdup (DEFAULT_PATH);
  self->cors_origins = g_strdupv ((gchar **) any);
  self->ping_interval = 25000;
  self->ping_timeout = 20000;
  self->max_payload = 1000000;
  self->connect_timeout = 45000;
  self->max_event_rate = DEFAULT_MAX_EVENT_RATE;
  self->header_timeout = DEFAULT_HEADER_TIMEOUT;
  self->turn_ttl = 86400;
  self->remote = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_hash_table_unref);
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_ptr_array_unref);
}
