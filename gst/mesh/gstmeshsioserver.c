/* gst-mesh: Socket.IO v5 server on top of GstMeshEioServer.
 *
 * One "client" per Engine.IO session (the reference's Client) holds one
 * GstMeshSioSocket per namespace it joined. Packets are parsed and encoded
 * with gstmeshpacket; a broadcast encodes its packet once and hands the
 * same bytes to every session. Invalid packets, packets for namespaces the
 * client has not joined and sessions that join none in time close the
 * Engine.IO session, as the reference does.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsioserver.h"
#include "gstmeshpacket.h"

#include <gst/gst.h>
#include <string.h>
#include <sys/random.h>

GST_DEBUG_CATEGORY_STATIC (mesh_server_debug);
#define GST_CAT_DEFAULT mesh_server_debug

#define DEFAULT_CONNECT_TIMEOUT 45000
/* socket.io-parser's maxAttachments: more closes the connection. */
#define MAX_ATTACHMENTS 10

typedef struct _Client Client;

struct _GstMeshSioServer
{
  GObject parent;

  GstMeshEioServer *engine;
  gulong connection_id;
  GHashTable *nsps;             /* name → GstMeshSioNamespace (owned) */
  GHashTable *clients;          /* GstMeshEioSocket → Client */
  guint connect_timeout;
  GMainContext *context;        /* thread-default at creation */
};

struct _GstMeshSioNamespace
{
  GObject parent;

  GstMeshSioServer *server;     /* not owned */
  gchar *name;
  GHashTable *sockets;          /* id → GstMeshSioSocket (owned) */
  GHashTable *rooms;            /* room → GHashTable set of sockets */
  gint64 next_ack_id;

  GstMeshSioConnectCheckFunc check;
  gpointer check_data;
  GDestroyNotify check_notify;

  GstMeshSioRawEventFunc raw_func;
  gpointer raw_data;
  GDestroyNotify raw_notify;

  GstMeshSioAdapterFunc adapter;
  gpointer adapter_data;
  GDestroyNotify adapter_notify;
};

struct _GstMeshSioSocket
{
  GObject parent;

  Client *client;               /* NULL once disconnected */
  GstMeshEioSocket *conn;       /* owned */
  GstMeshSioNamespace *nsp;     /* owned */
  gchar *id;
  JsonNode *auth;
  gboolean connected;
  GHashTable *rooms;            /* room names; NULL until one is joined */
  GHashTable *acks;             /* ack id → Ack; NULL until needed */
};

struct _Client
{
  GstMeshSioServer *server;
  GstMeshEioSocket *conn;       /* owned */
  GSList *sockets;              /* GstMeshSioSocket, owned */
  GstMeshSioPacket *reconstructing;
  guint connect_timeout_id;
};

typedef struct
{
  GstMeshSioSocketAckFunc func;
  gpointer data;
  GDestroyNotify notify;
} Ack;

enum
{
  PROP_0,
  PROP_CONNECT_TIMEOUT,
};

enum
{
  SERVER_SIGNAL_CONNECTION,
  N_SERVER_SIGNALS
};

enum
{
  NSP_SIGNAL_CONNECTION,
  NSP_SIGNAL_EVENT,
  NSP_SIGNAL_DISCONNECTION,
  N_NSP_SIGNALS
};

enum
{
  SOCKET_SIGNAL_EVENT,
  SOCKET_SIGNAL_DISCONNECT,
  N_SOCKET_SIGNALS
};

static guint server_signals[N_SERVER_SIGNALS];
static guint nsp_signals[N_NSP_SIGNALS];
static guint socket_signals[N_SOCKET_SIGNALS];

G_DEFINE_TYPE (GstMeshSioServer, gst_mesh_sio_server, G_TYPE_OBJECT);
G_DEFINE_TYPE (GstMeshSioNamespace, gst_mesh_sio_namespace, G_TYPE_OBJECT);
G_DEFINE_TYPE (GstMeshSioSocket, gst_mesh_sio_socket, G_TYPE_OBJECT);

static void client_onclose (Client * client, const gchar * reason);
static void socket_onclose (GstMeshSioSocket * socket, const gchar * reason);

static void
debug_init (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (mesh_server_debug, "meshserver", 0,
        "gst-mesh Socket.IO and signalling server");
    g_once_init_leave (&once, 1);
  }
}

/* Socket ids as the reference's base64id (not the Engine.IO id, which is
 * sensitive: it lets anyone post into the session). */
static gchar *
generate_id (void)
{
  static guint32 sequence = 0;
  guint8 raw[15];
  gchar *id, *p;
  guint i;

  if (getrandom (raw, 11, 0) != 11) {
    for (i = 0; i < 11; i++)
      raw[i] = (guint8) g_random_int ();
  }
  sequence++;
  raw[11] = sequence >> 24;
  raw[12] = sequence >> 16;
  raw[13] = sequence >> 8;
  raw[14] = sequence;
  id = g_base64_encode (raw, sizeof (raw));
  for (p = id; *p; p++) {
    if (*p == '/')
      *p = '_';
    else if (*p == '+')
      *p = '-';
  }
  return id;
}

JsonNode *
gst_mesh_sio_placeholder_new (guint num)
{
  JsonObject *obj = json_object_new ();
  JsonNode *node;

  json_object_set_boolean_member (obj, "_placeholder", TRUE);
  json_object_set_int_member (obj, "num", num);
  node = json_node_init_object (json_node_alloc (), obj);
  json_object_unref (obj);
  return node;
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                  */
/* ------------------------------------------------------------------------ */

static void
send_encoded (GstMeshEioSocket * conn, GBytes * text, GPtrArray * attachments)
{
  guint i;

  gst_mesh_eio_socket_send (conn, text, FALSE);
  for (i = 0; attachments && i < attachments->len; i++)
    gst_mesh_eio_socket_send (conn, g_ptr_array_index (attachments, i), TRUE);
}

static GBytes *
encode_packet (GstMeshSioPacket * packet)
{
  gchar *text = gst_mesh_sio_packet_encode (packet);

  return g_bytes_new_take (text, strlen (text));
}

/* Takes @packet. */
static void
conn_send_packet (GstMeshEioSocket * conn, GstMeshSioPacket * packet)
{
  GBytes *text;

  if (gst_mesh_eio_socket_is_open (conn)) {
    text = encode_packet (packet);
    send_encoded (conn, text, packet->attachments);
    g_bytes_unref (text);
  }
  gst_mesh_sio_packet_free (packet);
}

static void
set_attachments (GstMeshSioPacket * packet, GPtrArray * attachments)
{
  guint i;

  if (!attachments || attachments->len == 0)
    return;
  packet->type = packet->type == GST_MESH_SIO_ACK ?
      GST_MESH_SIO_BINARY_ACK : GST_MESH_SIO_BINARY_EVENT;
  packet->n_attachments = attachments->len;
  for (i = 0; i < attachments->len; i++)
    g_ptr_array_add (packet->attachments,
        g_bytes_ref (g_ptr_array_index (attachments, i)));
}

static GstMeshSioPacket *
build_event (const gchar * nsp, gint64 id, const gchar * event,
    JsonArray * args, GPtrArray * attachments)
{
  GstMeshSioPacket *packet = gst_mesh_sio_packet_new_event (nsp, id, event,
      args);

  set_attachments (packet, attachments);
  return packet;
}

/* ------------------------------------------------------------------------ */
/* Raw events: relaying without a JSON round trip                           */
/* ------------------------------------------------------------------------ */

/* An event is handed over raw only when its text is exactly what
 * JSON.stringify() would write for the value it decodes to, so sending the
 * text on is byte for byte what decoding and encoding it would send. The
 * scanner below accepts that form only, and a subset of it at that: it
 * answers "not sure" (FALSE) for anything else, valid or not, and the full
 * codec then decides as it always did. It allocates nothing. The text is
 * already UTF-8 without NUL (checked by the Engine.IO layer). */

#define RAW_MAX_DEPTH 64
#define RAW_MAX_KEYS 32
/* Longer integers may not be exact as a JS number. */
#define RAW_MAX_INT_DIGITS 15

static gboolean raw_value (const gchar * t, gsize * pos, gsize end,
    guint depth);

static gint
raw_lower_hex (gchar c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* A string at t[*pos] == '"'. JSON.stringify() escapes '"', '\\', the
 * five controls with short escapes, and other controls as lower-case
 * \u00xx; nothing else. *plain says there was no escape at all. */
/* Bytes that end a run of plain string content: '"', '\\', controls. */
static const guint8 raw_string_stop[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

static gboolean
raw_string (const gchar * t, gsize * pos, gsize end, gboolean * plain)
{
  gsize p = *pos + 1;

  *plain = TRUE;
  while (p < end) {
    guchar c;
    gint hi, lo, v;

    /* Eight bytes at a time while none is '"', '\\' or a control. */
    while (end - p >= 8) {
      const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
      const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);
      guint64 w, q, b;

      memcpy (&w, t + p, 8);
      q = w ^ (ones * '"');
      b = w ^ (ones * '\\');
      if (((w - ones * 0x20) | (q - ones) | (b - ones)) & ~w & highs)
        break;
      p += 8;
    }
    while (p < end && !raw_string_stop[(guchar) t[p]])
      p++;
    if (p >= end)
      return FALSE;
    c = (guchar) t[p];
    if (c == '"') {
      *pos = p + 1;
      return TRUE;
    }
    if (c < 0x20)
      return FALSE;
    *plain = FALSE;
    if (p + 1 >= end)
      return FALSE;
    switch (t[p + 1]) {
      case '"':
      case '\\':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        p += 2;
        continue;
      case 'u':
        if (end - p < 6 || t[p + 2] != '0' || t[p + 3] != '0')
          return FALSE;
        hi = raw_lower_hex (t[p + 4]);
        lo = raw_lower_hex (t[p + 5]);
        if (hi < 0 || lo < 0)
          return FALSE;
        v = hi * 16 + lo;
        /* \u0000 is refused by the codec; the rest have short forms or
         * need no escape. */
        if (v == 0 || v >= 0x20 || v == '\b' || v == '\t' || v == '\n'
            || v == '\f' || v == '\r')
          return FALSE;
        p += 6;
        continue;
      default:
        return FALSE;
    }
  }
  return FALSE;
}

/* Integers that are exact as JS numbers, in their canonical form; "-0",
 * fractions and exponents are left to the codec. */
static gboolean
raw_number (const gchar * t, gsize * pos, gsize end)
{
  gsize p = *pos, start;
  gboolean negative = t[p] == '-';

  if (negative)
    p++;
  start = p;
  if (p >= end || t[p] < '0' || t[p] > '9')
    return FALSE;
  if (t[p] == '0') {
    if (negative)
      return FALSE;
    p++;
  } else {
    while (p < end && t[p] >= '0' && t[p] <= '9')
      p++;
  }
  if (p - start > RAW_MAX_INT_DIGITS)
    return FALSE;
  if (p < end && (t[p] == '.' || t[p] == 'e' || t[p] == 'E'
          || (t[p] >= '0' && t[p] <= '9')))
    return FALSE;
  *pos = p;
  return TRUE;
}

static gboolean
raw_literal (const gchar * t, gsize * pos, gsize end, const gchar * word,
    gsize n)
{
  if (end - *pos < n || memcmp (t + *pos, word, n) != 0)
    return FALSE;
  *pos += n;
  return TRUE;
}

/* JavaScript orders array-index keys ("0", "17") first: such an object does
 * not keep its order through JSON.parse() and JSON.stringify(). */
static gboolean
raw_key_is_index (const gchar * key, gsize len)
{
  guint64 value = 0;
  gsize i;

  if (len == 0 || len > 10 || (key[0] == '0' && len > 1))
    return FALSE;
  for (i = 0; i < len; i++) {
    if (key[i] < '0' || key[i] > '9')
      return FALSE;
    value = value * 10 + (key[i] - '0');
  }
  return value < G_MAXUINT32;
}

/* @ev (nullable): where to note the keys, for the first argument. */
static gboolean
raw_object (const gchar * t, gsize * pos, gsize end, guint depth,
    GstMeshSioRawEvent * ev)
{
  gsize keys[RAW_MAX_KEYS], key_lens[RAW_MAX_KEYS];
  guint n = 0, i;
  gsize p = *pos + 1;
  gboolean plain;

  if (ev)
    ev->n_keys = 0;
  if (p < end && t[p] == '}') {
    *pos = p + 1;
    return TRUE;
  }
  for (;;) {
    gsize k = p;

    if (p >= end || t[p] != '"' || n == RAW_MAX_KEYS
        || !raw_string (t, &p, end, &plain))
      return FALSE;
    keys[n] = k + 1;
    key_lens[n] = p - k - 2;
    if (raw_key_is_index (t + keys[n], key_lens[n]))
      return FALSE;
    /* A repeated key would be merged: the text would not survive. */
    for (i = 0; i < n; i++) {
      if (key_lens[i] == key_lens[n]
          && memcmp (t + keys[i], t + keys[n], key_lens[n]) == 0)
        return FALSE;
    }
    if (ev) {
      if (n < G_N_ELEMENTS (ev->key_offsets)) {
        ev->key_offsets[n] = keys[n] - *pos;
        ev->key_lens[n] = key_lens[n];
        ev->n_keys = n + 1;
      } else {
        ev->n_keys = G_MAXUINT;
      }
    }
    n++;
    if (p >= end || t[p] != ':')
      return FALSE;
    p++;
    if (!raw_value (t, &p, end, depth))
      return FALSE;
    if (p < end && t[p] == ',') {
      p++;
      continue;
    }
    if (p < end && t[p] == '}') {
      *pos = p + 1;
      return TRUE;
    }
    return FALSE;
  }
}

static gboolean
raw_array (const gchar * t, gsize * pos, gsize end, guint depth)
{
  gsize p = *pos + 1;

  if (p < end && t[p] == ']') {
    *pos = p + 1;
    return TRUE;
  }
  for (;;) {
    if (!raw_value (t, &p, end, depth))
      return FALSE;
    if (p < end && t[p] == ',') {
      p++;
      continue;
    }
    if (p < end && t[p] == ']') {
      *pos = p + 1;
      return TRUE;
    }
    return FALSE;
  }
}

static gboolean
raw_value (const gchar * t, gsize * pos, gsize end, guint depth)
{
  gboolean plain;

  if (*pos >= end)
    return FALSE;
  switch (t[*pos]) {
    case '{':
      return depth < RAW_MAX_DEPTH
          && raw_object (t, pos, end, depth + 1, NULL);
    case '[':
      return depth < RAW_MAX_DEPTH && raw_array (t, pos, end, depth + 1);
    case '"':
      return raw_string (t, pos, end, &plain);
    case 't':
      return raw_literal (t, pos, end, "true", 4);
    case 'f':
      return raw_literal (t, pos, end, "false", 5);
    case 'n':
      return raw_literal (t, pos, end, "null", 4);
    default:
      return raw_number (t, pos, end);
  }
}

/* Names socket.io-parser refuses as events (the codec's list). */
static const gchar *const raw_reserved_events[] = {
  "connect", "connect_error", "disconnect", "disconnecting", "newListener",
  "removeListener", NULL
};

/* "2[<name>,<args>]": an EVENT for the main namespace without ack id,
 * whose name is a string without escapes. @name_buf receives the name. */
static gboolean
raw_event_scan (const gchar * text, gsize len, GstMeshSioRawEvent * ev,
    gchar * name_buf, gsize name_buf_size)
{
  gsize p = 2, name_start, name_len;
  gboolean plain;
  guint i;

  if (len < 4 || text[0] != '0' + GST_MESH_SIO_EVENT || text[1] != '['
      || text[2] != '"' || text[len - 1] != ']')
    return FALSE;
  name_start = p + 1;
  if (!raw_string (text, &p, len, &plain) || !plain)
    return FALSE;
  name_len = p - name_start - 1;
  if (name_len >= name_buf_size)
    return FALSE;
  memcpy (name_buf, text + name_start, name_len);
  name_buf[name_len] = '\0';
  for (i = 0; raw_reserved_events[i]; i++) {
    if (strcmp (name_buf, raw_reserved_events[i]) == 0)
      return FALSE;
  }

  ev->event = name_buf;
  ev->n_args = 0;
  ev->first_arg = NULL;
  ev->first_arg_len = 0;
  ev->n_keys = 0;
  if (text[p] == ']') {
    ev->args = text + p;
    ev->args_len = 0;
    return p == len - 1;
  }
  if (text[p] != ',')
    return FALSE;
  p++;
  ev->args = text + p;
  for (;;) {
    gsize start = p;

    if (ev->n_args == 0 && text[p] == '{') {
      if (!raw_object (text, &p, len, 2, ev))
        return FALSE;
    } else if (!raw_value (text, &p, len, 1)) {
      return FALSE;
    }
    if (ev->n_args++ == 0) {
      ev->first_arg = text + start;
      ev->first_arg_len = p - start;
    }
    if (p < len && text[p] == ',') {
      p++;
      continue;
    }
    break;
  }
  if (p != len - 1)
    return FALSE;
  ev->args_len = p - (ev->args - text);
  return TRUE;
}

/* Needs no escaping in JSON. */
static gboolean
raw_name_is_plain (const gchar * name)
{
  const guchar *p;

  for (p = (const guchar *) name; *p; p++) {
    if (raw_string_stop[*p])
      return FALSE;
  }
  return TRUE;
}

/**
 * gst_mesh_sio_raw_event_first_arg_has_member:
 * @event: a raw event
 * @member: a key without characters JSON escapes
 *
 * Returns: whether the first argument is an object with the key @member
 */
gboolean
gst_mesh_sio_raw_event_first_arg_has_member (const GstMeshSioRawEvent *
    event, const gchar * member)
{
  const gchar *t = event->first_arg;
  gsize end = event->first_arg_len, p = 1, n;
  gboolean plain;

  g_return_val_if_fail (event != NULL && member != NULL, FALSE);

  if (!t || end < 2 || t[0] != '{' || t[1] == '}')
    return FALSE;
  n = strlen (member);
  if (event->n_keys != G_MAXUINT) {
    guint i;

    for (i = 0; i < event->n_keys; i++) {
      if (event->key_lens[i] == n
          && memcmp (t + event->key_offsets[i], member, n) == 0)
        return TRUE;
    }
    return FALSE;
  }
  /* The text was scanned: it is well-formed, so finding the top-level keys
   * only takes skipping strings and counting brackets. */
  for (;;) {
    gsize k = p;
    guint depth = 0;

    if (!raw_string (t, &p, end, &plain))
      return FALSE;
    if (p - k - 2 == n && memcmp (t + k + 1, member, n) == 0)
      return TRUE;
    p++;                        /* ':' */
    for (; p < end; p++) {
      gchar c = t[p];

      if (c == '"') {
        if (!raw_string (t, &p, end, &plain))
          return FALSE;
        p--;
      } else if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        if (depth == 0)
          return FALSE;         /* the end of the object */
        depth--;
      } else if (c == ',' && depth == 0) {
        break;
      }
    }
    if (p >= end)
      return FALSE;
    p++;
  }
}

/**
 * gst_mesh_sio_namespace_set_raw_event_func:
 * @nsp: the namespace
 * @func: (nullable): called for text events of @nsp without an ack id whose
 *   arguments are in the form JSON.stringify() writes (what the reference
 *   clients send), before they are decoded
 *
 * For relays: an event the function handles is never decoded, which is
 * most of the cost of relaying it (see gst_mesh_sio_socket_broadcast_raw()).
 * Only the main namespace's events are offered for now.
 */
void
gst_mesh_sio_namespace_set_raw_event_func (GstMeshSioNamespace * nsp,
    GstMeshSioRawEventFunc func, gpointer user_data, GDestroyNotify notify)
{
  g_return_if_fail (GST_MESH_IS_SIO_NAMESPACE (nsp));

  if (nsp->raw_notify)
    nsp->raw_notify (nsp->raw_data);
  nsp->raw_func = func;
  nsp->raw_data = user_data;
  nsp->raw_notify = notify;
}

/* ------------------------------------------------------------------------ */
/* Namespace                                                                */
/* ------------------------------------------------------------------------ */

static void
nsp_room_add (GstMeshSioNamespace * nsp, const gchar * room,
    GstMeshSioSocket * socket)
{
  GHashTable *members = g_hash_table_lookup (nsp->rooms, room);

  if (!members) {
    members = g_hash_table_new (NULL, NULL);
    g_hash_table_insert (nsp->rooms, g_strdup (room), members);
  }
  g_hash_table_add (members, socket);
}

static void
nsp_room_remove (GstMeshSioNamespace * nsp, const gchar * room,
    GstMeshSioSocket * socket)
{
  GHashTable *members = g_hash_table_lookup (nsp->rooms, room);

  if (!members)
    return;
  g_hash_table_remove (members, socket);
  if (g_hash_table_size (members) == 0)
    g_hash_table_remove (nsp->rooms, room);
}

/**
 * gst_mesh_sio_namespace_emit:
 * @nsp: the namespace
 * @room: (nullable): only the sockets in this room (or the socket with this
 *   id); %NULL for every socket of @nsp
 * @except: (nullable): a socket to leave out (the reference's
 *   `socket.broadcast`)
 * @event: the event name
 * @args: (nullable): the arguments, binary ones as placeholders
 * @attachments: (nullable) (element-type GBytes): the binary arguments
 *
 * Emits to many sockets, encoding the packet once.
 *
 * Returns: the number of sockets the event was sent to
 */
guint
gst_mesh_sio_namespace_emit (GstMeshSioNamespace * nsp, const gchar * room,
    GstMeshSioSocket * except, const gchar * event, JsonArray * args,
    GPtrArray * attachments)
{
  GstMeshSioPacket *packet;
  GBytes *text;
  GHashTableIter iter;
  gpointer key, value;
  guint count = 0;

  g_return_val_if_fail (GST_MESH_IS_SIO_NAMESPACE (nsp), 0);
  g_return_val_if_fail (event != NULL, 0);

  packet = build_event (nsp->name, GST_MESH_SIO_NO_ID, event, args,
      attachments);
  text = encode_packet (packet);

  if (room) {
    GHashTable *members = g_hash_table_lookup (nsp->rooms, room);

    if (members) {
      g_hash_table_iter_init (&iter, members);
      while (g_hash_table_iter_next (&iter, &key, NULL)) {
        GstMeshSioSocket *s = key;

        if (s != except) {
          send_encoded (s->conn, text, packet->attachments);
          count++;
        }
      }
    } else {
      /* Every socket is in the room named by its id. */
      GstMeshSioSocket *s = g_hash_table_lookup (nsp->sockets, room);

      if (s && s != except) {
        send_encoded (s->conn, text, packet->attachments);
        count++;
      }
    }
  } else {
    g_hash_table_iter_init (&iter, nsp->sockets);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      GstMeshSioSocket *s = value;

      if (s != except) {
        send_encoded (s->conn, text, packet->attachments);
        count++;
      }
    }
  }

  g_bytes_unref (text);
  gst_mesh_sio_packet_free (packet);

  /* the other servers of a cluster deliver it to theirs; a room named by
   * one of our sockets' ids is that socket alone */
  if (nsp->adapter && !(room && g_hash_table_lookup (nsp->sockets, room) &&
          !g_hash_table_lookup (nsp->rooms, room))) {
    const gchar *rooms[] = { room, NULL };
    const gchar *excepts[] = { except ? except->id : NULL, NULL };

    nsp->adapter (nsp, rooms, excepts, event, args, attachments,
        nsp->adapter_data);
  }
  return count;
}

/**
 * gst_mesh_sio_namespace_set_adapter:
 * @nsp: the namespace
 * @func: (nullable): hears every broadcast of the namespace
 *
 * What Socket.IO calls an adapter: @func is given every broadcast made
 * here (gst_mesh_sio_namespace_emit(), gst_mesh_sio_socket_broadcast() and
 * its raw form) after it went to the local sockets, so that it can carry
 * it to the other servers of a cluster, which give it to theirs with
 * gst_mesh_sio_namespace_deliver().
 */
void
gst_mesh_sio_namespace_set_adapter (GstMeshSioNamespace * nsp,
    GstMeshSioAdapterFunc func, gpointer user_data, GDestroyNotify notify)
{
  g_return_if_fail (GST_MESH_IS_SIO_NAMESPACE (nsp));

  if (nsp->adapter_notify)
    nsp->adapter_notify (nsp->adapter_data);
  nsp->adapter = func;
  nsp->adapter_data = user_data;
  nsp->adapter_notify = notify;
}

static gboolean
socket_in_any (GstMeshSioNamespace * nsp, GstMeshSioSocket * s,
    const gchar * const *rooms)
{
  for (guint i = 0; rooms && rooms[i]; i++)
    if (g_str_equal (s->id, rooms[i]) ||
        (s->rooms && g_hash_table_contains (s->rooms, rooms[i])))
      return TRUE;
  return FALSE;
}

/**
 * gst_mesh_sio_namespace_select:
 * @rooms: (array zero-terminated=1) (nullable): the sockets in any of these
 *   rooms (a socket is in the room named by its id); all when empty
 * @except: (array zero-terminated=1) (nullable): but not those in any of
 *   these
 *
 * Returns: (transfer container): the sockets, as Socket.IO's adapter
 *   selects them for a broadcast
 */
GPtrArray *
gst_mesh_sio_namespace_select (GstMeshSioNamespace * nsp,
    const gchar * const *rooms, const gchar * const *except)
{
  GHashTable *targets = g_hash_table_new (NULL, NULL);
  GHashTableIter iter;
  gpointer key, value;
  GPtrArray *out = g_ptr_array_new ();

  g_return_val_if_fail (GST_MESH_IS_SIO_NAMESPACE (nsp), out);
  if (!rooms || !rooms[0]) {
    g_hash_table_iter_init (&iter, nsp->sockets);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      g_hash_table_add (targets, value);
  } else {
    for (guint i = 0; rooms[i]; i++) {
      GHashTable *members = g_hash_table_lookup (nsp->rooms, rooms[i]);
      GstMeshSioSocket *s = g_hash_table_lookup (nsp->sockets, rooms[i]);

      if (members) {
        g_hash_table_iter_init (&iter, members);
        while (g_hash_table_iter_next (&iter, &key, NULL))
          g_hash_table_add (targets, key);
      }
      if (s)
        g_hash_table_add (targets, s);
    }
  }
  g_hash_table_iter_init (&iter, targets);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!socket_in_any (nsp, key, except))
      g_ptr_array_add (out, key);
  g_hash_table_unref (targets);
  return out;
}

/**
 * gst_mesh_sio_namespace_deliver:
 * @nsp: the namespace
 * @rooms: (array zero-terminated=1) (nullable): to the sockets in any of
 *   these rooms (a socket is in the room named by its id); all when empty
 * @except: (array zero-terminated=1) (nullable): but not to those in any
 *   of these
 *
 * A broadcast that another server of the cluster made, given to the
 * sockets here; the adapter does not hear it again.
 *
 * Returns: the number of sockets it was sent to
 */
guint
gst_mesh_sio_namespace_deliver (GstMeshSioNamespace * nsp,
    const gchar * const *rooms, const gchar * const *except,
    const gchar * event, JsonArray * args)
{
  GstMeshSioPacket *packet;
  GBytes *text;
  GPtrArray *targets;
  guint count;

  g_return_val_if_fail (GST_MESH_IS_SIO_NAMESPACE (nsp), 0);
  g_return_val_if_fail (event != NULL, 0);

  targets = gst_mesh_sio_namespace_select (nsp, rooms, except);
  count = targets->len;
  if (count) {
    packet = build_event (nsp->name, GST_MESH_SIO_NO_ID, event, args, NULL);
    text = encode_packet (packet);
    for (guint i = 0; i < targets->len; i++)
      send_encoded (((GstMeshSioSocket *) targets->pdata[i])->conn, text,
          NULL);
    g_bytes_unref (text);
    gst_mesh_sio_packet_free (packet);
  }
  g_ptr_array_unref (targets);
  return count;
}

/**
 * gst_mesh_sio_socket_get_rooms:
 *
 * Returns: (transfer full): the rooms @socket is in, its id first
 */
gchar **
gst_mesh_sio_socket_get_rooms (GstMeshSioSocket * socket)
{
  GPtrArray *v = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (GST_MESH_IS_SIO_SOCKET (socket), NULL);
  g_ptr_array_add (v, g_strdup (socket->id));
  if (socket->rooms) {
    g_hash_table_iter_init (&iter, socket->rooms);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (v, g_strdup (key));
  }
  g_ptr_array_add (v, NULL);
  return (gchar **) g_ptr_array_free (v, FALSE);
}

/* Whether a socket here is in @room, or is it (its id). */
gboolean
gst_mesh_sio_namespace_has_room (GstMeshSioNamespace * nsp,
    const gchar * room)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_NAMESPACE (nsp), FALSE);
  return g_hash_table_contains (nsp->rooms, room) ||
      g_hash_table_contains (nsp->sockets, room);
}

const gchar *
gst_mesh_sio_namespace_get_name (GstMeshSioNamespace * nsp)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_NAMESPACE (nsp), NULL);
  return nsp->name;
}

/**
 * gst_mesh_sio_namespace_set_connect_check:
 * @nsp: the namespace
 * @func: (nullable): decides whether a socket may connect
 *
 * Installs the namespace's middleware; see #GstMeshSioConnectCheckFunc.
 */
void
gst_mesh_sio_namespace_set_connect_check (GstMeshSioNamespace * nsp,
    GstMeshSioConnectCheckFunc func, gpointer user_data,
    GDestroyNotify notify)
{
  g_return_if_fail (GST_MESH_IS_SIO_NAMESPACE (nsp));

  if (nsp->check_notify)
    nsp->check_notify (nsp->check_data);
  nsp->check = func;
  nsp->check_data = user_data;
  nsp->check_notify = notify;
}

guint
gst_mesh_sio_namespace_get_n_sockets (GstMeshSioNamespace * nsp)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_NAMESPACE (nsp), 0);
  return g_hash_table_size (nsp->sockets);
}

/**
 * gst_mesh_sio_namespace_lookup:
 *
 * Returns: (transfer none) (nullable): the connected socket @id
 */
GstMeshSioSocket *
gst_mesh_sio_namespace_lookup (GstMeshSioNamespace * nsp, const gchar * id)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_NAMESPACE (nsp), NULL);
  return id ? g_hash_table_lookup (nsp->sockets, id) : NULL;
}

static void
gst_mesh_sio_namespace_finalize (GObject * object)
{
  GstMeshSioNamespace *nsp = GST_MESH_SIO_NAMESPACE (object);

  gst_mesh_sio_namespace_set_connect_check (nsp, NULL, NULL, NULL);
  gst_mesh_sio_namespace_set_raw_event_func (nsp, NULL, NULL, NULL);
  gst_mesh_sio_namespace_set_adapter (nsp, NULL, NULL, NULL);
  g_hash_table_unref (nsp->sockets);
  g_hash_table_unref (nsp->rooms);
  g_free (nsp->name);

  G_OBJECT_CLASS (gst_mesh_sio_namespace_parent_class)->finalize (object);
}

static void
gst_mesh_sio_namespace_class_init (GstMeshSioNamespaceClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  debug_init ();
  gobject_class->finalize = gst_mesh_sio_namespace_finalize;

  /**
   * GstMeshSioNamespace::connection:
   * @nsp: the namespace
   * @socket: the socket that connected
   *
   * A client connected to the namespace; the CONNECT reply is already
   * queued, so events emitted from here follow it.
   */
  nsp_signals[NSP_SIGNAL_CONNECTION] = g_signal_new ("connection",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, GST_MESH_TYPE_SIO_SOCKET);

  /**
   * GstMeshSioNamespace::event:
   * @nsp: the namespace
   * @socket: the socket the event came from
   * @name: the event name
   * @args: the arguments after the name; binary ones are placeholders
   * @attachments: (nullable) (element-type GBytes): the binary arguments
   * @ack_id: the id to pass to gst_mesh_sio_socket_ack(), or -1
   *
   * An event from any socket of the namespace, before the socket's own
   * #GstMeshSioSocket::event; detailed by the event name. For servers with
   * many clients: handlers here cost nothing per socket, handlers on each
   * socket cost a few hundred bytes each.
   *
   * Returns: %TRUE to stop the event there (no further handler, no
   *   #GstMeshSioSocket::event)
   */
  nsp_signals[NSP_SIGNAL_EVENT] = g_signal_new ("event",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0,
      g_signal_accumulator_true_handled, NULL, NULL, G_TYPE_BOOLEAN, 5,
      GST_MESH_TYPE_SIO_SOCKET, G_TYPE_STRING, JSON_TYPE_ARRAY,
      G_TYPE_PTR_ARRAY, G_TYPE_INT64);

  /**
   * GstMeshSioNamespace::disconnection:
   * @nsp: the namespace
   * @socket: the socket that left
   * @reason: as #GstMeshSioSocket::disconnect's
   *
   * A socket left the namespace, after its own #GstMeshSioSocket::disconnect.
   */
  nsp_signals[NSP_SIGNAL_DISCONNECTION] = g_signal_new ("disconnection",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, GST_MESH_TYPE_SIO_SOCKET, G_TYPE_STRING);
}

static void
gst_mesh_sio_namespace_init (GstMeshSioNamespace * nsp)
{
  nsp->sockets = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      g_object_unref);
  nsp->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_hash_table_unref);
}

/* ------------------------------------------------------------------------ */
/* Socket                                                                   */
/* ------------------------------------------------------------------------ */

static void
ack_free (gpointer data)
{
  Ack *ack = data;

  if (ack->notify)
    ack->notify (ack->data);
  g_free (ack);
}

/* The reference's _onclose(): leaves the rooms and the namespace and tells
 * the application. */
static void
socket_onclose (GstMeshSioSocket * socket, const gchar * reason)
{
  GstMeshSioNamespace *nsp = socket->nsp;

  if (!socket->connected)
    return;

  g_object_ref (socket);
  socket->connected = FALSE;
  GST_DEBUG_OBJECT (nsp->server, "socket %s left %s: %s", socket->id,
      nsp->name, reason);

  if (socket->rooms) {
    GHashTableIter iter;
    gpointer room;

    g_hash_table_iter_init (&iter, socket->rooms);
    while (g_hash_table_iter_next (&iter, &room, NULL))
      nsp_room_remove (nsp, room, socket);
    g_clear_pointer (&socket->rooms, g_hash_table_unref);
  }
  g_hash_table_remove (nsp->sockets, socket->id);

  if (socket->client) {
    Client *client = socket->client;
    GSList *link = g_slist_find (client->sockets, socket);

    if (link) {
      client->sockets = g_slist_delete_link (client->sockets, link);
      g_object_unref (socket);
    }
    socket->client = NULL;
  }
  g_clear_pointer (&socket->acks, g_hash_table_unref);

  g_signal_emit (socket, socket_signals[SOCKET_SIGNAL_DISCONNECT], 0, reason);
  g_signal_emit (nsp, nsp_signals[NSP_SIGNAL_DISCONNECTION], 0, socket,
      reason);
  g_object_unref (socket);
}

static void
socket_send (GstMeshSioSocket * socket, GstMeshSioPacket * packet)
{
  conn_send_packet (socket->conn, packet);
}

static void
socket_onevent (GstMeshSioSocket * socket, GstMeshSioPacket * packet)
{
  const gchar *name = gst_mesh_sio_packet_get_event_name (packet);
  JsonArray *args = gst_mesh_sio_packet_dup_event_args (packet);
  gchar *number = NULL;
  gboolean handled = FALSE;
  GQuark detail;

  if (!name) {
    /* EventEmitter keys are strings: a numeric event name is its text. */
    JsonNode *first = json_array_get_element (json_node_get_array
        (packet->data), 0);

    number = gst_mesh_json_to_string (first);
    name = number;
  }
  if (!args)
    args = json_array_new ();

  /* try_string: a client must not be able to grow the quark table. */
  detail = g_quark_try_string (name);
  g_signal_emit (socket->nsp, nsp_signals[NSP_SIGNAL_EVENT], detail, socket,
      name, args, packet->attachments->len ? packet->attachments : NULL,
      packet->id, &handled);
  if (!handled && socket->connected)
    g_signal_emit (socket, socket_signals[SOCKET_SIGNAL_EVENT], detail, name,
        args, packet->attachments->len ? packet->attachments : NULL,
        packet->id);
  json_array_unref (args);
  g_free (number);
}

static void
socket_onack (GstMeshSioSocket * socket, GstMeshSioPacket * packet)
{
  Ack *ack;
  JsonArray *args;

  if (!socket->acks || !(ack = g_hash_table_lookup (socket->acks,
              &packet->id))) {
    GST_DEBUG_OBJECT (socket->nsp->server, "socket %s: bad ack %"
        G_GINT64_FORMAT, socket->id, packet->id);
    return;
  }
  {
    gpointer key;

    /* Stolen, so the key is ours to free (the table's free func is not
     * called). */
    g_hash_table_steal_extended (socket->acks, &packet->id, &key, NULL);
    g_free (key);
  }
  args = gst_mesh_sio_packet_dup_event_args (packet);
  if (!args)
    args = json_array_new ();
  ack->func (socket, args, packet->attachments->len ? packet->attachments :
      NULL, ack->data);
  json_array_unref (args);
  ack_free (ack);
}

static void
socket_onpacket (GstMeshSioSocket * socket, GstMeshSioPacket * packet)
{
  g_object_ref (socket);
  switch (packet->type) {
    case GST_MESH_SIO_EVENT:
    case GST_MESH_SIO_BINARY_EVENT:
      socket_onevent (socket, packet);
      break;
    case GST_MESH_SIO_ACK:
    case GST_MESH_SIO_BINARY_ACK:
      socket_onack (socket, packet);
      break;
    case GST_MESH_SIO_DISCONNECT:
      socket_onclose (socket, "client namespace disconnect");
      break;
    default:
      break;
  }
  g_object_unref (socket);
}

const gchar *
gst_mesh_sio_socket_get_id (GstMeshSioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_SOCKET (socket), NULL);
  return socket->id;
}

/**
 * gst_mesh_sio_socket_get_namespace:
 *
 * Returns: (transfer none): the namespace of @socket
 */
GstMeshSioNamespace *
gst_mesh_sio_socket_get_namespace (GstMeshSioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_SOCKET (socket), NULL);
  return socket->nsp;
}

/**
 * gst_mesh_sio_socket_get_auth:
 *
 * Returns: (transfer none): the handshake's auth payload (`{}` when the
 *   client sent none)
 */
JsonNode *
gst_mesh_sio_socket_get_auth (GstMeshSioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_SOCKET (socket), NULL);
  return socket->auth;
}

/**
 * gst_mesh_sio_socket_get_engine_socket:
 *
 * Returns: (transfer none): the Engine.IO session under @socket
 */
GstMeshEioSocket *
gst_mesh_sio_socket_get_engine_socket (GstMeshSioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_SOCKET (socket), NULL);
  return socket->conn;
}

gboolean
gst_mesh_sio_socket_is_connected (GstMeshSioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_SOCKET (socket), FALSE);
  return socket->connected;
}

/**
 * gst_mesh_sio_socket_emit:
 * @socket: the socket
 * @event: the event name
 * @args: (nullable): the arguments, binary ones as placeholders (see
 *   gst_mesh_sio_placeholder_new())
 * @attachments: (nullable) (element-type GBytes): the binary arguments; a
 *   BINARY_EVENT is sent when there are any
 */
void
gst_mesh_sio_socket_emit (GstMeshSioSocket * socket, const gchar * event,
    JsonArray * args, GPtrArray * attachments)
{
  g_return_if_fail (GST_MESH_IS_SIO_SOCKET (socket));
  g_return_if_fail (event != NULL);

  if (!socket->connected)
    return;
  socket_send (socket, build_event (socket->nsp->name, GST_MESH_SIO_NO_ID,
          event, args, attachments));
}

/**
 * gst_mesh_sio_socket_emit_with_ack:
 * @callback: called with the client's ack; never if the socket disconnects
 *   first (then only @notify is)
 *
 * Like gst_mesh_sio_socket_emit(), asking the client to acknowledge.
 */
void
gst_mesh_sio_socket_emit_with_ack (GstMeshSioSocket * socket,
    const gchar * event, JsonArray * args, GPtrArray * attachments,
    GstMeshSioSocketAckFunc callback, gpointer user_data, GDestroyNotify notify)
{
  Ack *ack;
  gint64 id;

  g_return_if_fail (GST_MESH_IS_SIO_SOCKET (socket));
  g_return_if_fail (event != NULL);
  g_return_if_fail (callback != NULL);

  if (!socket->connected) {
    if (notify)
      notify (user_data);
    return;
  }

  /* Ack ids count per namespace, as the reference's nsp._ids. */
  id = socket->nsp->next_ack_id++;
  ack = g_new0 (Ack, 1);
  ack->func = callback;
  ack->data = user_data;
  ack->notify = notify;
  if (!socket->acks)
    socket->acks = g_hash_table_new_full (g_int64_hash, g_int64_equal,
        g_free, ack_free);
  g_hash_table_insert (socket->acks, g_memdup2 (&id, sizeof (id)), ack);

  socket_send (socket, build_event (socket->nsp->name, id, event, args,
          attachments));
}

/**
 * gst_mesh_sio_socket_ack:
 * @ack_id: the id the "event" signal gave
 * @args: (nullable): the ack's arguments
 * @attachments: (nullable) (element-type GBytes): binary arguments
 *
 * Answers an event the client sent with an ack id.
 */
void
gst_mesh_sio_socket_ack (GstMeshSioSocket * socket, gint64 ack_id,
    JsonArray * args, GPtrArray * attachments)
{
  GstMeshSioPacket *packet;
  JsonArray *empty = NULL;
  JsonNode *data;

  g_return_if_fail (GST_MESH_IS_SIO_SOCKET (socket));

  if (!socket->connected || ack_id < 0)
    return;
  if (!args)
    args = empty = json_array_new ();
  data = json_node_init_array (json_node_alloc (), args);
  packet = gst_mesh_sio_packet_new (GST_MESH_SIO_ACK, socket->nsp->name,
      ack_id, data);
  json_node_unref (data);
  if (empty)
    json_array_unref (empty);
  set_attachments (packet, attachments);
  socket_send (socket, packet);
}

/**
 * gst_mesh_sio_socket_broadcast:
 *
 * Emits to every other socket of the namespace (the reference's
 * `socket.broadcast.emit`).
 *
 * Returns: the number of sockets the event was sent to
 */
guint
gst_mesh_sio_socket_broadcast (GstMeshSioSocket * socket, const gchar * event,
    JsonArray * args, GPtrArray * attachments)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_SOCKET (socket), 0);
  return gst_mesh_sio_namespace_emit (socket->nsp, NULL, socket, event, args,
      attachments);
}

/**
 * gst_mesh_sio_socket_broadcast_raw:
 * @event: the event name
 * @args: (array length=args_len): the arguments as JSON texts separated by
 *   commas, as a #GstMeshSioRawEvent has them; the caller vouches for them
 *
 * gst_mesh_sio_socket_broadcast() of arguments that are already text: the
 * packet is put together and sent to every other socket of the namespace,
 * the same bytes for each.
 *
 * Returns: the number of sockets the event was sent to
 */
guint
gst_mesh_sio_socket_broadcast_raw (GstMeshSioSocket * socket,
    const gchar * event, const gchar * args, gsize args_len)
{
  GstMeshSioNamespace *nsp;
  GHashTableIter iter;
  gpointer value;
  JsonNode *name;
  gchar *quoted;
  guint count = 0;

  g_return_val_if_fail (GST_MESH_IS_SIO_SOCKET (socket), 0);
  g_return_val_if_fail (event != NULL, 0);
  g_return_val_if_fail (args != NULL || args_len == 0, 0);

  nsp = socket->nsp;
  if (nsp->adapter) {
    /* the cluster wants values: the text parsed once more */
    gchar *text = g_strdup_printf ("[%.*s]", (int) args_len, args);
    JsonNode *node = json_from_string (text, NULL);
    const gchar *excepts[] = { socket->id, NULL };

    if (node && JSON_NODE_HOLDS_ARRAY (node))
      nsp->adapter (nsp, NULL, excepts, event, json_node_get_array (node),
          NULL, nsp->adapter_data);
    if (node)
      json_node_unref (node);
    g_free (text);
  }
  if (g_hash_table_size (nsp->sockets) <= 1)
    return 0;

  if (raw_name_is_plain (event)) {
    quoted = NULL;
  } else {
    name = json_node_init_string (json_node_alloc (), event);
    quoted = gst_mesh_json_to_string (name);
    json_node_unref (name);
  }
  /* The packet, built once (on the stack when small) for every socket. */
  {
    gsize nsp_len = g_str_equal (nsp->name, "/") ? 0 : strlen (nsp->name);
    gsize name_len = quoted ? strlen (quoted) : strlen (event) + 2;
    gsize need = 1 + nsp_len + 1 + 1 + name_len + 1 + args_len + 1;
    gchar stack[1024];
    gchar *buf = need <= sizeof (stack) ? stack : g_malloc (need);
    gchar *p = buf;

    *p++ = '0' + GST_MESH_SIO_EVENT;
    if (nsp_len) {
      memcpy (p, nsp->name, nsp_len);
      p += nsp_len;
      *p++ = ',';
    }
    *p++ = '[';
    if (quoted) {
      memcpy (p, quoted, name_len);
      p += name_len;
    } else {
      *p++ = '"';
      memcpy (p, event, name_len - 2);
      p += name_len - 2;
      *p++ = '"';
    }
    if (args_len) {
      *p++ = ',';
      memcpy (p, args, args_len);
      p += args_len;
    }
    *p++ = ']';

    g_hash_table_iter_init (&iter, nsp->sockets);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      GstMeshSioSocket *s = value;

      if (s != socket) {
        gst_mesh_eio_socket_send_data (s->conn, buf, p - buf, FALSE);
        count++;
      }
    }
    if (buf != stack)
      g_free (buf);
  }
  g_free (quoted);
  return count;
}

void
gst_mesh_sio_socket_join (GstMeshSioSocket * socket, const gchar * room)
{
  g_return_if_fail (GST_MESH_IS_SIO_SOCKET (socket));
  g_return_if_fail (room != NULL);

  if (!socket->connected)
    return;
  if (!socket->rooms)
    socket->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        NULL);
  if (g_hash_table_contains (socket->rooms, room))
    return;
  g_hash_table_add (socket->rooms, g_strdup (room));
  nsp_room_add (socket->nsp, room, socket);
}

void
gst_mesh_sio_socket_leave (GstMeshSioSocket * socket, const gchar * room)
{
  g_return_if_fail (GST_MESH_IS_SIO_SOCKET (socket));
  g_return_if_fail (room != NULL);

  if (!socket->rooms || !g_hash_table_remove (socket->rooms, room))
    return;
  nsp_room_remove (socket->nsp, room, socket);
}

gboolean
gst_mesh_sio_socket_in_room (GstMeshSioSocket * socket, const gchar * room)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_SOCKET (socket), FALSE);

  if (g_strcmp0 (room, socket->id) == 0)
    return socket->connected;
  return socket->rooms && g_hash_table_contains (socket->rooms, room);
}

static void client_close (Client * client);

/**
 * gst_mesh_sio_socket_disconnect:
 * @close: also close the underlying connection (and so every other
 *   namespace of this client)
 *
 * Disconnects the socket from its namespace, telling the client.
 */
void
gst_mesh_sio_socket_disconnect (GstMeshSioSocket * socket, gboolean close)
{
  g_return_if_fail (GST_MESH_IS_SIO_SOCKET (socket));

  if (!socket->connected)
    return;

  if (close && socket->client) {
    Client *client = socket->client;
    GSList *sockets = g_slist_copy (client->sockets), *l;

    for (l = sockets; l; l = l->next)
      g_object_ref (l->data);

    /* The reference's client._disconnect(). */
    for (l = sockets; l; l = l->next)
      gst_mesh_sio_socket_disconnect (l->data, FALSE);
    g_slist_free_full (sockets, g_object_unref);
    client_close (client);
    return;
  }

  socket_send (socket, gst_mesh_sio_packet_new (GST_MESH_SIO_DISCONNECT,
          socket->nsp->name, GST_MESH_SIO_NO_ID, NULL));
  socket_onclose (socket, "server namespace disconnect");
}

static void
gst_mesh_sio_socket_finalize (GObject * object)
{
  GstMeshSioSocket *socket = GST_MESH_SIO_SOCKET (object);

  if (socket->rooms)
    g_hash_table_unref (socket->rooms);
  if (socket->acks)
    g_hash_table_unref (socket->acks);
  g_clear_object (&socket->conn);
  g_clear_object (&socket->nsp);
  if (socket->auth)
    json_node_unref (socket->auth);
  g_free (socket->id);

  G_OBJECT_CLASS (gst_mesh_sio_socket_parent_class)->finalize (object);
}

static void
gst_mesh_sio_socket_class_init (GstMeshSioSocketClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  debug_init ();
  gobject_class->finalize = gst_mesh_sio_socket_finalize;

  /**
   * GstMeshSioSocket::event:
   * @socket: the socket
   * @name: the event name
   * @args: the arguments after the name; binary ones are placeholders
   * @attachments: (nullable) (element-type GBytes): the binary arguments
   * @ack_id: the id to pass to gst_mesh_sio_socket_ack(), or -1 when the
   *   client wants no ack
   *
   * An event from the client. Detailed by the event name, so
   * "event::offer" only sees offers.
   */
  socket_signals[SOCKET_SIGNAL_EVENT] = g_signal_new ("event",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0,
      NULL, NULL, NULL, G_TYPE_NONE, 4, G_TYPE_STRING, JSON_TYPE_ARRAY,
      G_TYPE_PTR_ARRAY, G_TYPE_INT64);

  /**
   * GstMeshSioSocket::disconnect:
   * @socket: the socket
   * @reason: the reference's reason ("client namespace disconnect",
   *   "server namespace disconnect", "transport close", "ping timeout",
   *   "forced server close", ...)
   */
  socket_signals[SOCKET_SIGNAL_DISCONNECT] = g_signal_new ("disconnect",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
gst_mesh_sio_socket_init (GstMeshSioSocket * socket)
{
}

/* ------------------------------------------------------------------------ */
/* Client: one per Engine.IO session                                        */
/* ------------------------------------------------------------------------ */

static GstMeshSioSocket *
client_find (Client * client, const gchar * nsp)
{
  GSList *l;

  for (l = client->sockets; l; l = l->next) {
    GstMeshSioSocket *s = l->data;

    if (g_str_equal (s->nsp->name, nsp))
      return s;
  }
  return NULL;
}

static void
on_conn_message (GstMeshEioSocket * conn, const gchar * data, gsize len,
    gboolean binary, gpointer user_data);
static void on_conn_close (GstMeshEioSocket * conn, const gchar * reason,
    gpointer user_data);

/* Not signal handlers: those cost memory for each of thousands of
 * sessions. */
static const GstMeshEioSocketFuncs client_funcs = {
  on_conn_message,
  on_conn_close,
};

static void
client_clear_connect_timeout (Client * client)
{
  if (client->connect_timeout_id) {
    GSource *source = g_main_context_find_source_by_id
        (client->server->context, client->connect_timeout_id);

    if (source)
      g_source_destroy (source);
    client->connect_timeout_id = 0;
  }
}

static void
client_destroy (Client * client)
{
  gst_mesh_eio_socket_set_funcs (client->conn, NULL, NULL);
  client_clear_connect_timeout (client);
  g_clear_pointer (&client->reconstructing, gst_mesh_sio_packet_free);
}

/* The reference's Client.onclose(): every socket goes with the session. */
static void
client_onclose (Client * client, const gchar * reason)
{
  GSList *sockets;

  client_destroy (client);
  sockets = g_steal_pointer (&client->sockets);
  while (sockets) {
    GstMeshSioSocket *s = sockets->data;

    sockets = g_slist_delete_link (sockets, sockets);
    s->client = NULL;
    socket_onclose (s, reason);
    g_object_unref (s);
  }
  if (client->server)
    g_hash_table_remove (client->server->clients, client->conn);
  g_object_unref (client->conn);
  g_free (client);
}

static void
client_close (Client * client)
{
  if (gst_mesh_eio_socket_is_open (client->conn)) {
    /* Closing may emit "close" right away: we are not listening anymore. */
    client_destroy (client);
    gst_mesh_eio_socket_close (client->conn);
    client_onclose (client, "forced server close");
  }
}

static void
client_onerror (Client * client, const gchar * what, const GError * error)
{
  GST_INFO_OBJECT (client->server, "session %s: %s%s%s, closing it",
      gst_mesh_eio_socket_get_id (client->conn), what, error ? ": " : "",
      error ? error->message : "");
  gst_mesh_eio_socket_close (client->conn);
}

static gboolean
on_connect_timeout (gpointer user_data)
{
  Client *client = user_data;

  client->connect_timeout_id = 0;
  if (client->sockets == NULL) {
    GST_INFO_OBJECT (client->server, "session %s joined no namespace within "
        "%u ms, closing it", gst_mesh_eio_socket_get_id (client->conn),
        client->server->connect_timeout);
    client_close (client);
  }
  return G_SOURCE_REMOVE;
}

/* `{}`, shared by every socket whose client sent no auth (most): an
 * object of its own each cost a hash table per socket. Sealed, so nobody
 * can change it for the others. */
static JsonNode *
empty_auth (void)
{
  static JsonNode *node = NULL;

  if (g_once_init_enter (&node)) {
    JsonObject *obj = json_object_new ();
    JsonNode *empty = json_node_init_object (json_node_alloc (), obj);

    json_object_unref (obj);
    json_node_seal (empty);
    g_once_init_leave (&node, empty);
  }
  return node;
}

static void
client_connect (Client * client, const gchar * name, JsonNode * auth)
{
  GstMeshSioServer *server = client->server;
  GstMeshSioNamespace *nsp = g_hash_table_lookup (server->nsps, name);
  GstMeshSioSocket *socket;
  GstMeshSioPacket *packet;
  JsonObject *obj;
  JsonNode *node;
  gchar *message = NULL;
  JsonNode *data = NULL;

  if (!nsp) {
    GST_INFO_OBJECT (server, "session %s: connection to unknown namespace %s "
        "refused", gst_mesh_eio_socket_get_id (client->conn), name);
    obj = json_object_new ();
    json_object_set_string_member (obj, "message", "Invalid namespace");
    node = json_node_init_object (json_node_alloc (), obj);
    conn_send_packet (client->conn,
        gst_mesh_sio_packet_new (GST_MESH_SIO_CONNECT_ERROR, name,
            GST_MESH_SIO_NO_ID, node));
    json_node_unref (node);
    json_object_unref (obj);
    return;
  }

  socket = g_object_new (GST_MESH_TYPE_SIO_SOCKET, NULL);
  socket->id = generate_id ();
  socket->nsp = g_object_ref (nsp);
  socket->conn = g_object_ref (client->conn);
  if (auth && JSON_NODE_HOLDS_OBJECT (auth))
    socket->auth = json_node_ref (auth);
  else
    socket->auth = json_node_ref (empty_auth ());

  if (nsp->check && !nsp->check (nsp, socket, &message, &data,
          nsp->check_data)) {
    GST_INFO_OBJECT (server, "session %s: connection to %s refused: %s",
        gst_mesh_eio_socket_get_id (client->conn), name,
        message ? message : "(no message)");
    obj = json_object_new ();
    json_object_set_string_member (obj, "message",
        message ? message : "Forbidden");
    if (data)
      json_object_set_member (obj, "data", data);
    node = json_node_init_object (json_node_alloc (), obj);
    conn_send_packet (client->conn,
        gst_mesh_sio_packet_new (GST_MESH_SIO_CONNECT_ERROR, name,
            GST_MESH_SIO_NO_ID, node));
    json_node_unref (node);
    json_object_unref (obj);
    g_free (message);
    g_object_unref (socket);
    return;
  }
  g_free (message);
  if (data)
    json_node_unref (data);

  if (!gst_mesh_eio_socket_is_open (client->conn)) {
    g_object_unref (socket);
    return;
  }

  /* _doConnect(): the CONNECT reply, then the application hears of it. */
  socket->connected = TRUE;
  socket->client = client;
  g_hash_table_insert (nsp->sockets, socket->id, g_object_ref (socket));
  client->sockets = g_slist_prepend (client->sockets, socket);

  obj = json_object_new ();
  json_object_set_string_member (obj, "sid", socket->id);
  node = json_node_init_object (json_node_alloc (), obj);
  packet = gst_mesh_sio_packet_new (GST_MESH_SIO_CONNECT, name,
      GST_MESH_SIO_NO_ID, node);
  json_node_unref (node);
  json_object_unref (obj);
  conn_send_packet (client->conn, packet);

  client_clear_connect_timeout (client);

  GST_DEBUG_OBJECT (server, "socket %s connected to %s (session %s)",
      socket->id, name, gst_mesh_eio_socket_get_id (client->conn));
  g_object_ref (socket);
  g_signal_emit (nsp, nsp_signals[NSP_SIGNAL_CONNECTION], 0, socket);
  if (socket->connected)
    g_signal_emit (server, server_signals[SERVER_SIGNAL_CONNECTION], 0,
        socket);
  g_object_unref (socket);
}

/* The reference's Client.ondecoded(). Takes @packet. */
static void
client_ondecoded (Client * client, GstMeshSioPacket * packet)
{
  GstMeshSioSocket *socket = client_find (client, packet->nsp);

  if (!socket && packet->type == GST_MESH_SIO_CONNECT) {
    client_connect (client, packet->nsp, packet->data);
  } else if (socket && packet->type != GST_MESH_SIO_CONNECT
      && packet->type != GST_MESH_SIO_CONNECT_ERROR) {
    socket_onpacket (socket, packet);
  } else {
    GST_INFO_OBJECT (client->server, "session %s: invalid state (packet "
        "type %d for namespace %s, %s), closing it",
        gst_mesh_eio_socket_get_id (client->conn), packet->type, packet->nsp,
        socket ? "already connected" : "not connected");
    client_close (client);
  }
  gst_mesh_sio_packet_free (packet);
}

/* Offers an event to its namespace's raw event function, undecoded. */
static gboolean
client_try_raw_event (Client * client, const gchar * text, gsize len)
{
  GstMeshSioSocket *socket;
  GstMeshSioRawEvent ev;
  gchar name[128];
  gboolean handled;

  if (len < 4 || text[0] != '0' + GST_MESH_SIO_EVENT || text[1] != '[')
    return FALSE;
  socket = client_find (client, "/");
  if (!socket || !socket->nsp->raw_func
      || !raw_event_scan (text, len, &ev, name, sizeof (name)))
    return FALSE;
  g_object_ref (socket);
  handled = socket->nsp->raw_func (socket, &ev, socket->nsp->raw_data);
  GST_TRACE_OBJECT (client->server, "socket %s: raw event %s %s",
      socket->id, ev.event, handled ? "handled" : "declined");
  g_object_unref (socket);
  return handled;
}

static void
on_conn_message (GstMeshEioSocket * conn, const gchar * data, gsize len,
    gboolean binary, gpointer user_data)
{
  Client *client = user_data;
  GError *error = NULL;
  GstMeshSioPacket *packet;

  if (binary) {
    GBytes *bytes;
    gboolean taken;

    if (!client->reconstructing) {
      client_onerror (client, "got binary data when not reconstructing a "
          "packet", NULL);
      return;
    }
    /* The packet keeps it: a copy (@data is valid during the call only). */
    bytes = g_bytes_new (data, len);
    taken = gst_mesh_sio_packet_add_attachment_full (client->reconstructing,
        bytes, &error);
    g_bytes_unref (bytes);
    if (!taken) {
      client_onerror (client, "invalid attachment", error);
      g_error_free (error);
      return;
    }
    if (gst_mesh_sio_packet_is_complete (client->reconstructing))
      client_ondecoded (client, g_steal_pointer (&client->reconstructing));
    return;
  } else {
    const gchar *text = data;

    if (client->reconstructing) {
      client_onerror (client, "got plaintext data when reconstructing a "
          "packet", NULL);
      return;
    }
    if (client_try_raw_event (client, text, len))
      return;
    packet = gst_mesh_sio_packet_decode (text ? text : "", len, &error);
    if (!packet) {
      client_onerror (client, "invalid packet", error);
      g_error_free (error);
      return;
    }
    if (packet->n_attachments > MAX_ATTACHMENTS) {
      gst_mesh_sio_packet_free (packet);
      client_onerror (client, "too many attachments", NULL);
      return;
    }
    if (!gst_mesh_sio_packet_is_complete (packet)) {
      client->reconstructing = packet;
      return;
    }
  }
  client_ondecoded (client, packet);
}

static void
on_conn_close (GstMeshEioSocket * conn, const gchar * reason,
    gpointer user_data)
{
  client_onclose (user_data, reason);
}

static void
on_engine_connection (GstMeshEioServer * engine, GstMeshEioSocket * conn,
    GstMeshSioServer * server)
{
  Client *client = g_new0 (Client, 1);

  client->server = server;
  client->conn = g_object_ref (conn);
  g_hash_table_insert (server->clients, conn, client);
  gst_mesh_eio_socket_set_funcs (conn, &client_funcs, client);
  {
    /* In the server's context, not the global default one. */
    GSource *timeout = g_timeout_source_new (server->connect_timeout);

    g_source_set_callback (timeout, on_connect_timeout, client, NULL);
    client->connect_timeout_id = g_source_attach (timeout, server->context);
    g_source_unref (timeout);
  }
}

/* ------------------------------------------------------------------------ */
/* Server                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * gst_mesh_sio_server_new:
 * @engine: (nullable): the Engine.IO server to serve on; %NULL creates one
 *
 * A Socket.IO server with the main namespace "/".
 */
GstMeshSioServer *
gst_mesh_sio_server_new (GstMeshEioServer * engine)
{
  GstMeshSioServer *server = g_object_new (GST_MESH_TYPE_SIO_SERVER, NULL);

  server->engine = engine ? g_object_ref (engine) : gst_mesh_eio_server_new ();
  server->connection_id = g_signal_connect (server->engine, "connection",
      G_CALLBACK (on_engine_connection), server);
  gst_mesh_sio_server_add_namespace (server, "/");
  return server;
}

/**
 * gst_mesh_sio_server_get_engine:
 *
 * Returns: (transfer none): the Engine.IO server
 */
GstMeshEioServer *
gst_mesh_sio_server_get_engine (GstMeshSioServer * server)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_SERVER (server), NULL);
  return server->engine;
}

/**
 * gst_mesh_sio_server_add_namespace:
 * @name: the namespace, starting with "/"
 *
 * Returns: (transfer none): the namespace (the existing one if @name was
 *   already added)
 */
GstMeshSioNamespace *
gst_mesh_sio_server_add_namespace (GstMeshSioServer * server,
    const gchar * name)
{
  GstMeshSioNamespace *nsp;

  g_return_val_if_fail (GST_MESH_IS_SIO_SERVER (server), NULL);
  g_return_val_if_fail (name != NULL && name[0] == '/', NULL);

  nsp = g_hash_table_lookup (server->nsps, name);
  if (nsp)
    return nsp;
  nsp = g_object_new (GST_MESH_TYPE_SIO_NAMESPACE, NULL);
  nsp->server = server;
  nsp->name = g_strdup (name);
  g_hash_table_insert (server->nsps, nsp->name, nsp);
  return nsp;
}

/**
 * gst_mesh_sio_server_get_namespace:
 *
 * Returns: (transfer none) (nullable): the namespace @name
 */
GstMeshSioNamespace *
gst_mesh_sio_server_get_namespace (GstMeshSioServer * server,
    const gchar * name)
{
  g_return_val_if_fail (GST_MESH_IS_SIO_SERVER (server), NULL);
  return g_hash_table_lookup (server->nsps, name ? name : "/");
}

/**
 * gst_mesh_sio_server_emit_to:
 * @nsp: (nullable): the namespace name, "/" when %NULL
 *
 * gst_mesh_sio_namespace_emit() by namespace name.
 *
 * Returns: the number of sockets the event was sent to
 */
guint
gst_mesh_sio_server_emit_to (GstMeshSioServer * server, const gchar * nsp,
    const gchar * room, GstMeshSioSocket * except, const gchar * event,
    JsonArray * args, GPtrArray * attachments)
{
  GstMeshSioNamespace *ns;

  g_return_val_if_fail (GST_MESH_IS_SIO_SERVER (server), 0);

  ns = g_hash_table_lookup (server->nsps, nsp ? nsp : "/");
  if (!ns)
    return 0;
  return gst_mesh_sio_namespace_emit (ns, room, except, event, args,
      attachments);
}

static void
gst_mesh_sio_server_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMeshSioServer *server = GST_MESH_SIO_SERVER (object);

  switch (prop_id) {
    case PROP_CONNECT_TIMEOUT:
      server->connect_timeout = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mesh_sio_server_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstMeshSioServer *server = GST_MESH_SIO_SERVER (object);

  switch (prop_id) {
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, server->connect_timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mesh_sio_server_dispose (GObject * object)
{
  GstMeshSioServer *server = GST_MESH_SIO_SERVER (object);

  if (server->engine) {
    GList *clients, *l;

    g_signal_handler_disconnect (server->engine, server->connection_id);
    clients = g_hash_table_get_values (server->clients);
    for (l = clients; l; l = l->next) {
      Client *client = l->data;

      client_destroy (client);
      gst_mesh_eio_socket_close (client->conn);
      client_onclose (client, "server shutting down");
    }
    g_list_free (clients);
    g_clear_object (&server->engine);
  }
  if (server->nsps) {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, server->nsps);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      GST_MESH_SIO_NAMESPACE (value)->server = NULL;
    g_clear_pointer (&server->nsps, g_hash_table_unref);
  }

  G_OBJECT_CLASS (gst_mesh_sio_server_parent_class)->dispose (object);
}

static void
gst_mesh_sio_server_finalize (GObject * object)
{
  GstMeshSioServer *server = GST_MESH_SIO_SERVER (object);

  g_hash_table_unref (server->clients);
  g_main_context_unref (server->context);
  G_OBJECT_CLASS (gst_mesh_sio_server_parent_class)->finalize (object);
}

static void
gst_mesh_sio_server_class_init (GstMeshSioServerClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  debug_init ();

  gobject_class->set_property = gst_mesh_sio_server_set_property;
  gobject_class->get_property = gst_mesh_sio_server_get_property;
  gobject_class->dispose = gst_mesh_sio_server_dispose;
  gobject_class->finalize = gst_mesh_sio_server_finalize;

  /**
   * GstMeshSioServer:connect-timeout:
   *
   * Milliseconds an Engine.IO session has to join a namespace before it is
   * closed (the reference's connectTimeout).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect timeout",
          "Milliseconds a session has to join a namespace", 1, G_MAXINT,
          DEFAULT_CONNECT_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshSioServer::connection:
   * @server: the server
   * @socket: the socket that connected, to any namespace
   */
  server_signals[SERVER_SIGNAL_CONNECTION] = g_signal_new ("connection",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, GST_MESH_TYPE_SIO_SOCKET);
}

static void
gst_mesh_sio_server_init (GstMeshSioServer * server)
{
  server->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
  server->context = g_main_context_ref_thread_default ();
  server->nsps = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      g_object_unref);
  server->clients = g_hash_table_new (NULL, NULL);
}
