/* gst-mesh: Engine.IO v4 server on libsoup's SoupServer.
 *
 * Follows the reference server (socketio/engine.io lib/server.ts,
 * lib/socket.ts, lib/transports/polling.ts) closely: the same request
 * verification order, error codes and bodies, open packet key order,
 * heartbeat timers, polling payloads and polling → WebSocket upgrade, so
 * that the official clients cannot tell the two apart. Where the reference
 * drops a request without an answer, we answer with a JSON body that says
 * what was wrong.
 *
 * Everything runs in the thread-default main context the server was
 * attached in; nothing here is thread-safe.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmesheioserver.h"
#include "gstmeshprivate.h"
#include "gstmeshmarshal.h"
#include "gstmeshpacket.h"
#include "gstmeshwsconn.h"
#include "gstmeshhttp.h"

#include <gst/gst.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

GST_DEBUG_CATEGORY_STATIC (mesh_eio_debug);
#define GST_CAT_DEFAULT mesh_eio_debug

#define DEFAULT_PING_INTERVAL 25000
#define DEFAULT_PING_TIMEOUT 20000
#define DEFAULT_UPGRADE_TIMEOUT 10000
#define DEFAULT_MAX_PAYLOAD 1000000
#define DEFAULT_HEADER_TIMEOUT 10000
/* The reference gives a polling transport that cannot write its close
 * packet this long before giving up. */
#define POLLING_CLOSE_TIMEOUT 30000
/* How often a pending poll is answered with a noop during an upgrade. */
#define UPGRADE_CHECK_INTERVAL 100

static const gchar *const error_messages[GST_MESH_EIO_N_ERRORS] = {
  "Transport unknown",
  "Session ID unknown",
  "Bad handshake method",
  "Bad request",
  "Forbidden",
  "Unsupported protocol version",
};

typedef enum
{
  TRANSPORT_POLLING,
  TRANSPORT_WEBSOCKET,
} Transport;

typedef enum
{
  STATE_OPEN,
  STATE_CLOSING,
  STATE_CLOSED,
} State;

struct _GstMeshEioServer
{
  GObject parent;

  SoupServer *soup;
  gboolean own_soup;
  gchar *path;                  /* "/engine.io/" */
  gchar *handler_path;          /* "/engine.io", what SoupServer matches */

  guint ping_interval;
  guint ping_timeout;
  guint upgrade_timeout;
  guint64 max_payload;
  gchar **transports;
  gboolean allow_polling;
  gboolean allow_websocket;
  gboolean allow_upgrades;
  gchar **cors_origins;

  GstMeshEioAllowRequestFunc allow_func;
  gpointer allow_data;
  GDestroyNotify allow_notify;

  GHashTable *clients;          /* sid → GstMeshEioSocket (owned) */
  GstMeshWsPoller *poller;      /* WebSocket I/O, created on first use */
  GMainContext *context;        /* where it was attached */
  GSource *heartbeat;
  GPtrArray *accepted_sockets;  /* see release_accepted_sockets() */
  guint release_id;
  GstMeshHttpGuard *guard;      /* headers, timeouts, client addresses */
  guint header_timeout;
  gchar **trusted_proxies;
  GstMeshEioStats stats;        /* counters; gauges are counted on demand */
  GQueue ping_queue;            /* sessions to ping, by deadline */
  GQueue pong_queue;            /* sessions waiting for a pong, by deadline */
};

struct _GstMeshEioSocket
{
  GObject parent;

  GstMeshEioServer *server;     /* not owned: it outlives its sessions */
  gchar *id;
  gchar *remote_address;
  gchar *url;
  SoupMessageHeaders *headers;
  GHashTable *query;
  gboolean secure;

  State state;
  Transport transport;

  /* HTTP long-polling */
  SoupServerMessage *poll;      /* the pending GET, paused */
  gulong poll_disconnected_id;
  gboolean polling_closed;
  gboolean close_pending;       /* next poll carries the close packet */
  gboolean close_after_drain;
  guint close_timeout_id;

  /* WebSocket */
  GstMeshWsConn *ws;

  /* Upgrade from polling */
  GstMeshWsConn *upgrade_ws;
  guint upgrade_timeout_id;
  guint upgrade_check_id;
  gboolean upgraded;

  GQueue write_buffer;          /* GstMeshEioPacket */

  const GstMeshEioSocketFuncs *funcs;
  gpointer funcs_data;

  GList ping_link;              /* in server->ping_queue while waiting */
  GList pong_link;              /* in server->pong_queue while waiting */
  gint64 ping_due;              /* monotonic µs */
  gint64 pong_due;
  gboolean ping_refreshed;
};

enum
{
  PROP_0,
  PROP_PING_INTERVAL,
  PROP_PING_TIMEOUT,
  PROP_UPGRADE_TIMEOUT,
  PROP_MAX_PAYLOAD,
  PROP_TRANSPORTS,
  PROP_ALLOW_UPGRADES,
  PROP_CORS_ORIGINS,
  PROP_HEADER_TIMEOUT,
  PROP_TRUSTED_PROXIES,
};

enum
{
  SIGNAL_CONNECTION,
  SIGNAL_CONNECTION_ERROR,
  N_SERVER_SIGNALS
};

enum
{
  SIGNAL_MESSAGE,
  SIGNAL_CLOSE,
  SIGNAL_UPGRADE,
  N_SOCKET_SIGNALS
};

static guint server_signals[N_SERVER_SIGNALS];
static guint socket_signals[N_SOCKET_SIGNALS];

G_DEFINE_TYPE (GstMeshEioServer, gst_mesh_eio_server, G_TYPE_OBJECT);
G_DEFINE_TYPE (GstMeshEioSocket, gst_mesh_eio_socket, G_TYPE_OBJECT);

static void socket_on_close (GstMeshEioSocket * self, const gchar * reason);
static void socket_flush (GstMeshEioSocket * self);
static void socket_send_packet (GstMeshEioSocket * self,
    GstMeshEioPacket * packet);
static void ws_connect_handlers (GstMeshEioSocket * self,
    GstMeshWsConn * ws);
static void upgrade_cleanup (GstMeshEioSocket * self, gboolean close_ws);

static void
debug_init (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (mesh_eio_debug, "mesheio", 0,
        "gst-mesh Engine.IO server");
    g_once_init_leave (&once, 1);
  }
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Same shape as the reference's base64id: 15 bytes, URL-safe base64, 20
 * characters. The counter keeps ids unique even if getrandom() fails. */
static gchar *
generate_id (void)
{
  static guint32 sequence = 0;
  guint8 raw[15];
  gchar *id, *p;

  if (getrandom (raw, 11, 0) != 11) {
    gint64 now = g_get_monotonic_time ();
    guint i;

    for (i = 0; i < 11; i++)
      raw[i] = (guint8) g_random_int () ^ (guint8) (now >> (i * 4));
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

static gboolean
strv_contains (gchar ** strv, const gchar * s)
{
  return strv && s && g_strv_contains ((const gchar * const *) strv, s);
}

/* The reference refuses Origin headers with characters Node's HTTP parser
 * would not accept in a header value. */
static gboolean
header_value_is_valid (const gchar * value)
{
  const guchar *p;

  if (!value)
    return TRUE;
  for (p = (const guchar *) value; *p; p++) {
    if ((*p < 32 && *p != '\t') || *p == 127)
      return FALSE;
  }
  return TRUE;
}

static gboolean
request_wants_websocket (SoupServerMessage * msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);

  return soup_message_headers_header_contains (h, "Upgrade",
      "websocket");
}

static const gchar *
transport_name (Transport t)
{
  return t == TRANSPORT_WEBSOCKET ? "websocket" : "polling";
}

static void
set_body (SoupServerMessage * msg, guint status, const gchar * content_type,
    const gchar * body, gsize len)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY,
      body, len);
}

static void
set_body_take (SoupServerMessage * msg, guint status,
    const gchar * content_type, gchar * body, gsize len)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_TAKE,
      body, len);
}

static gchar *
json_escape (const gchar * s)
{
  JsonNode *node = json_node_init_string (json_node_alloc (), s);
  gchar *out = gst_mesh_json_to_string (node);

  json_node_unref (node);
  return out;
}

/* ------------------------------------------------------------------------ */
/* CORS, as the `cors` package configured by the reference's `cors` option   */
/* ------------------------------------------------------------------------ */

void
gst_mesh_eio_server_apply_cors (GstMeshEioServer * self,
    SoupServerMessage * msg)
{
  SoupMessageHeaders *req, *resp;
  const gchar *origin;

  g_return_if_fail (GST_MESH_IS_EIO_SERVER (self));

  if (!self->cors_origins || !self->cors_origins[0])
    return;

  req = soup_server_message_get_request_headers (msg);
  resp = soup_server_message_get_response_headers (msg);
  origin = soup_message_headers_get_one(req, "Origin");

  if (strv_contains (self->cors_origins, "*")) {
    soup_message_headers_replace(resp,
        "Access-Control-Allow-Origin", "*");
  } else {
    if (origin && header_value_is_valid (origin)
        && strv_contains (self->cors_origins, origin))
      soup_message_headers_replace(resp,
          "Access-Control-Allow-Origin", origin);
    soup_message_headers_append(resp, "Vary", "Origin");
  }
}

static gboolean
handle_preflight (GstMeshEioServer * self, SoupServerMessage * msg)
{
  SoupMessageHeaders *req, *resp;
  const gchar *req_headers;

  if (!self->cors_origins || !self->cors_origins[0])
    return FALSE;
  if (soup_server_message_get_method (msg) != SOUP_METHOD_OPTIONS)
    return FALSE;

  req = soup_server_message_get_request_headers (msg);
  resp = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace(resp,
      "Access-Control-Allow-Methods",
      "GET,HEAD,PUT,PATCH,POST,DELETE");
  req_headers = soup_message_headers_get_one(req,
      "Access-Control-Request-Headers");
  soup_message_headers_append(resp, "Vary",
      "Access-Control-Request-Headers");
  if (req_headers && header_value_is_valid (req_headers))
    soup_message_headers_replace(resp,
        "Access-Control-Allow-Headers", req_headers);
  soup_message_headers_set_content_length (resp, 0);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Error replies                                                            */
/* ------------------------------------------------------------------------ */

static void
emit_connection_error (GstMeshEioServer * self, SoupServerMessage * msg,
    GstMeshEioError code, const gchar * context)
{
  GST_INFO_OBJECT (self, "%s %s from %s: code %d (%s): %s",
      soup_server_message_get_method (msg),
      g_uri_get_path (soup_server_message_get_uri (msg)),
      gst_mesh_http_guard_client_address (self->guard, msg), code,
      error_messages[code], context);
  self->stats.handshake_errors[code]++;
  g_signal_emit (self, server_signals[SIGNAL_CONNECTION_ERROR], 0, (gint) code,
      error_messages[code], context);
}

/* The reference's abortRequest(): {"code":N,"message":"..."} */
static void
abort_request (GstMeshEioServer * self, SoupServerMessage * msg,
    GstMeshEioError code, const gchar * message, const gchar * context)
{
  gchar *escaped, *body;

  emit_connection_error (self, msg, code, context);

  escaped = json_escape (message ? message : error_messages[code]);
  body = g_strdup_printf ("{\"code\":%d,\"message\":%s}", code, escaped);
  g_free (escaped);
  set_body_take (msg, code == GST_MESH_EIO_ERROR_FORBIDDEN ?
      SOUP_STATUS_FORBIDDEN : SOUP_STATUS_BAD_REQUEST, "application/json",
      body, strlen (body));
}

/* The reference's abortUpgrade(): plain text and the connection closed. */
static void
abort_upgrade (GstMeshEioServer * self, SoupServerMessage * msg,
    GstMeshEioError code, const gchar * message, const gchar * context)
{
  const gchar *text = message ? message : error_messages[code];

  emit_connection_error (self, msg, code, context);
  soup_message_headers_replace(soup_server_message_get_response_headers
      (msg), "Connection", "close");
  set_body (msg, SOUP_STATUS_BAD_REQUEST, "text/html", text, strlen (text));
}

/* For failures the reference answers by destroying the request (bad
 * payloads, overlapping polls...): we answer, and say what was wrong. */
static void
reply_bad_request (SoupServerMessage * msg, guint status, const gchar * detail)
{
  gchar *escaped = json_escape (detail);
  gchar *body = g_strdup_printf ("{\"code\":%d,\"message\":\"%s\","
      "\"detail\":%s}", GST_MESH_EIO_ERROR_BAD_REQUEST,
      error_messages[GST_MESH_EIO_ERROR_BAD_REQUEST], escaped);

  g_free (escaped);
  set_body_take (msg, status, "application/json", body, strlen (body));
}

/* ------------------------------------------------------------------------ */
/* Socket: heartbeat                                                        */
/* ------------------------------------------------------------------------ */

/* Every timer of the server lives in the context it was attached in (the
 * element's own thread when meshsignal hosts it), not in the global
 * default context. */
static guint
server_timeout_add (GstMeshEioServer * server, guint ms, GSourceFunc func,
    gpointer data)
{
  GSource *source = g_timeout_source_new (ms);
  guint id;

  g_source_set_callback (source, func, data, NULL);
  id = g_source_attach (source, server->context);
  g_source_unref (source);
  return id;
}

static void
clear_source (GstMeshEioSocket * self, guint * id)
{
  if (*id) {
    GSource *source = g_main_context_find_source_by_id (self->server ?
        self->server->context : NULL, *id);

    if (source)
      g_source_destroy (source);
    *id = 0;
  }
}

/* Heartbeats: no timer per session. GMainContext walks every source on
 * every iteration, so 10,000 sessions with two timers each made every
 * iteration cost O(sessions). Every session waits for its ping in one
 * queue and for its pong in another; ping-interval and ping-timeout are
 * the same for all, so appending keeps each queue in deadline order, and
 * one timer, set for the earliest deadline, serves them all. Deadlines of
 * whole-second timers are served at the next whole second (as GLib's
 * g_timeout_add_seconds() does), so sessions due within the same second
 * are pinged in one wake-up; they may be up to a second late, which the
 * client's pingInterval + pingTimeout allowance absorbs. */

static void
heartbeat_update (GstMeshEioServer * server)
{
  GstMeshEioSocket *ping = g_queue_peek_head (&server->ping_queue);
  GstMeshEioSocket *wait = g_queue_peek_head (&server->pong_queue);
  gint64 due = G_MAXINT64;

  if (!server->heartbeat)
    return;
  if (ping) {
    due = ping->ping_due;
    if (server->ping_interval % 1000 == 0)
      due = (due + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC * G_USEC_PER_SEC;
  }
  if (wait) {
    gint64 d = wait->pong_due;

    if (server->ping_timeout % 1000 == 0)
      d = (d + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC * G_USEC_PER_SEC;
    due = MIN (due, d);
  }
  g_source_set_ready_time (server->heartbeat, due == G_MAXINT64 ? -1 : due);
}

static void
heartbeat_unqueue (GQueue * queue, GList * link)
{
  if (link->data) {
    g_queue_unlink (queue, link);
    link->data = NULL;
  }
}

static void
socket_stop_heartbeat (GstMeshEioSocket * self)
{
  if (!self->server)
    return;
  heartbeat_unqueue (&self->server->ping_queue, &self->ping_link);
  heartbeat_unqueue (&self->server->pong_queue, &self->pong_link);
}

static void
reset_ping_timeout (GstMeshEioSocket * self)
{
  GstMeshEioServer *server = self->server;

  heartbeat_unqueue (&server->pong_queue, &self->pong_link);
  self->pong_due = g_get_monotonic_time () +
      (gint64) server->ping_timeout * 1000;
  self->pong_link.data = self;
  g_queue_push_tail_link (&server->pong_queue, &self->pong_link);
  heartbeat_update (server);
}

static void
schedule_ping (GstMeshEioSocket * self)
{
  GstMeshEioServer *server = self->server;

  heartbeat_unqueue (&server->ping_queue, &self->ping_link);
  self->ping_due = g_get_monotonic_time () +
      (gint64) server->ping_interval * 1000;
  self->ping_link.data = self;
  g_queue_push_tail_link (&server->ping_queue, &self->ping_link);
  heartbeat_update (server);
}

static void
on_ping_timeout (GstMeshEioSocket * self)
{
  GST_DEBUG_OBJECT (self->server, "session %s: no pong within %u ms",
      self->id, self->server->ping_timeout);
  socket_on_close (self, "ping timeout");
}

static void
on_ping_interval (GstMeshEioSocket * self)
{
  self->ping_refreshed = FALSE;
  socket_send_packet (self, gst_mesh_eio_packet_new (GST_MESH_EIO_PING,
          NULL));
  if (self->state != STATE_CLOSED)
    reset_ping_timeout (self);
}

typedef struct
{
  GSource source;
  GstMeshEioServer *server;     /* not owned: destroyed in its dispose */
} HeartbeatSource;

static gboolean
heartbeat_dispatch (GSource * source, GSourceFunc callback,
    gpointer user_data)
{
  GstMeshEioServer *server = ((HeartbeatSource *) source)->server;
  gint64 now = g_get_monotonic_time ();
  GstMeshEioSocket *s;

  g_object_ref (server);
  /* Each step may close sessions and requeue others (at the tail, due
   * later than now): take the head again every time. */
  while ((s = g_queue_peek_head (&server->pong_queue)) && s->pong_due <= now) {
    heartbeat_unqueue (&server->pong_queue, &s->pong_link);
    g_object_ref (s);
    on_ping_timeout (s);
    g_object_unref (s);
  }
  while ((s = g_queue_peek_head (&server->ping_queue)) && s->ping_due <= now) {
    heartbeat_unqueue (&server->ping_queue, &s->ping_link);
    g_object_ref (s);
    on_ping_interval (s);
    g_object_unref (s);
  }
  heartbeat_update (server);
  g_object_unref (server);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs heartbeat_funcs = {
  NULL, NULL, heartbeat_dispatch, NULL, NULL, NULL
};

/* ------------------------------------------------------------------------ */
/* Socket: polling transport                                                */
/* ------------------------------------------------------------------------ */

static void
poll_release (GstMeshEioSocket * self)
{
  SoupServerMessage *msg = self->poll;

  if (!msg)
    return;
  self->poll = NULL;
  if (self->poll_disconnected_id)
    g_signal_handler_disconnect (msg, self->poll_disconnected_id);
  self->poll_disconnected_id = 0;
  g_object_unref (msg);
}

static void
add_polling_headers (GstMeshEioServer * server, SoupServerMessage * msg)
{
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "cache-control", "no-store");
  gst_mesh_eio_server_apply_cors (server, msg);
}

/* Answers the pending poll with @packets (owned). The reference's
 * Polling.send(): an orderly close waiting for a poll goes out with it. */
static void
polling_send (GstMeshEioSocket * self, GPtrArray * packets)
{
  SoupServerMessage *msg = self->poll;
  gboolean closing = FALSE;
  gchar *payload;

  g_assert (msg != NULL);

  if (self->close_pending) {
    self->close_pending = FALSE;
    clear_source (self, &self->close_timeout_id);
    g_ptr_array_add (packets, gst_mesh_eio_packet_new (GST_MESH_EIO_CLOSE,
            NULL));
    closing = TRUE;
  }

  payload = gst_mesh_eio_payload_encode ((GstMeshEioPacket * const *)
      packets->pdata, packets->len);
  g_ptr_array_unref (packets);

  g_object_ref (msg);
  poll_release (self);
  add_polling_headers (self->server, msg);
  self->server->stats.bytes_sent += strlen (payload);
  set_body_take (msg, SOUP_STATUS_OK, "text/plain; charset=UTF-8", payload,
      strlen (payload));
  soup_server_message_unpause (msg);
  g_object_unref (msg);

  if (closing) {
    self->polling_closed = TRUE;
    socket_on_close (self, "forced close");
  }
}

static void
polling_send_one (GstMeshEioSocket * self, GstMeshEioType type)
{
  GPtrArray *packets =
      g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_mesh_eio_packet_free);

  g_ptr_array_add (packets, gst_mesh_eio_packet_new (type, NULL));
  polling_send (self, packets);
}

static gboolean
on_polling_close_timeout (gpointer user_data)
{
  GstMeshEioSocket *self = user_data;

  self->close_timeout_id = 0;
  self->close_pending = FALSE;
  self->polling_closed = TRUE;
  socket_on_close (self, "forced close");
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------ */
/* Socket: sending                                                          */
/* ------------------------------------------------------------------------ */

static gboolean
transport_writable (GstMeshEioSocket * self)
{
  if (self->transport == TRANSPORT_POLLING)
    return self->poll != NULL && !self->polling_closed;
  return self->ws != NULL && gst_mesh_ws_conn_is_open (self->ws);
}

static void
ws_send_packet (GstMeshWsConn * ws, GstMeshEioPacket * packet)
{
  gsize len = 0;
  gconstpointer data = packet->data ? g_bytes_get_data (packet->data, &len) :
      NULL;

  if (packet->binary) {
    gst_mesh_ws_conn_send (ws, TRUE, NULL, 0, data, len);
  } else {
    gchar type = '0' + packet->type;

    gst_mesh_ws_conn_send (ws, FALSE, &type, 1, data, len);
  }
}

static void
close_transport (GstMeshEioSocket * self)
{
  GST_DEBUG_OBJECT (self->server, "session %s: closing the %s transport",
      self->id, transport_name (self->transport));

  if (self->transport == TRANSPORT_WEBSOCKET) {
    socket_on_close (self, "forced close");
    return;
  }

  if (self->poll) {
    polling_send_one (self, GST_MESH_EIO_CLOSE);
    self->polling_closed = TRUE;
    socket_on_close (self, "forced close");
  } else {
    /* Buffered orderly close: the next poll carries the close packet. */
    self->close_pending = TRUE;
    self->close_timeout_id = server_timeout_add (self->server,
        POLLING_CLOSE_TIMEOUT, on_polling_close_timeout, self);
  }
}

static void
socket_flush (GstMeshEioSocket * self)
{
  if (self->state == STATE_CLOSED || !transport_writable (self)
      || g_queue_is_empty (&self->write_buffer))
    return;

  if (self->transport == TRANSPORT_WEBSOCKET) {
    GstMeshEioPacket *packet;

    while ((packet = g_queue_pop_head (&self->write_buffer))) {
      ws_send_packet (self->ws, packet);
      gst_mesh_eio_packet_free (packet);
    }
  } else {
    GPtrArray *packets = g_ptr_array_new_full (self->write_buffer.length,
        (GDestroyNotify) gst_mesh_eio_packet_free);
    GstMeshEioPacket *packet;

    while ((packet = g_queue_pop_head (&self->write_buffer)))
      g_ptr_array_add (packets, packet);
    polling_send (self, packets);
  }

  /* "drain" */
  if (self->close_after_drain && self->state == STATE_CLOSING) {
    self->close_after_drain = FALSE;
    close_transport (self);
  }
}

/* Takes @packet. The reference's sendPacket(): dropped once closing. */
static void
socket_send_packet (GstMeshEioSocket * self, GstMeshEioPacket * packet)
{
  if (self->state != STATE_OPEN) {
    gst_mesh_eio_packet_free (packet);
    return;
  }
  g_queue_push_tail (&self->write_buffer, packet);
  socket_flush (self);
}

/* ------------------------------------------------------------------------ */
/* Socket: receiving                                                        */
/* ------------------------------------------------------------------------ */

/* A busy client may be slow to answer a ping: anything it sends while we
 * wait for the pong buys it one more timeout, as the reference does. */
static void
socket_heard (GstMeshEioSocket * self, GstMeshEioType type)
{
  if (self->pong_link.data && !self->ping_refreshed
      && type != GST_MESH_EIO_PONG) {
    reset_ping_timeout (self);
    self->ping_refreshed = TRUE;
  }
}

/* Text, as gst_mesh_eio_packet_decode() keeps it: followed by a NUL that
 * is not counted. */
static GBytes *
text_bytes (const gchar * data, gsize len)
{
  gchar *copy = g_malloc (len + 1);

  memcpy (copy, data, len);
  copy[len] = '\0';
  return g_bytes_new_take (copy, len);
}

/* A message packet. @bytes (transfer none) holds @data when the caller has
 * it as a GBytes already; else one is made only if "message" has
 * handlers. */
static void
socket_on_message (GstMeshEioSocket * self, const gchar * data, gsize len,
    gboolean binary, GBytes * bytes)
{
  if (self->state != STATE_OPEN)
    return;
  socket_heard (self, GST_MESH_EIO_MESSAGE);
  g_object_ref (self);
  if (self->funcs && self->funcs->message)
    self->funcs->message (self, data, len, binary, self->funcs_data);
  if (self->state == STATE_OPEN
      && g_signal_has_handler_pending (self, socket_signals[SIGNAL_MESSAGE],
          0, TRUE)) {
    GBytes *message = bytes ? g_bytes_ref (bytes) : binary ?
        g_bytes_new (data, len) : text_bytes (data, len);

    g_signal_emit (self, socket_signals[SIGNAL_MESSAGE], 0, message, binary);
    g_bytes_unref (message);
  }
  g_object_unref (self);
}

/* Takes @packet. */
static void
socket_on_packet (GstMeshEioSocket * self, GstMeshEioPacket * packet)
{
  if (self->state != STATE_OPEN) {
    gst_mesh_eio_packet_free (packet);
    return;
  }

  socket_heard (self, packet->type);

  switch (packet->type) {
    case GST_MESH_EIO_PING:
      GST_INFO_OBJECT (self->server, "session %s: client sent a ping "
          "(invalid heartbeat direction in protocol v4)", self->id);
      socket_on_close (self, "transport error");
      break;
    case GST_MESH_EIO_PONG:
      heartbeat_unqueue (&self->server->pong_queue, &self->pong_link);
      schedule_ping (self);
      break;
    case GST_MESH_EIO_MESSAGE:{
      GBytes *data = packet->data ? g_bytes_ref (packet->data) :
          g_bytes_new_static ("", 0);
      gsize len;
      gconstpointer bytes = g_bytes_get_data (data, &len);

      socket_on_message (self, bytes ? bytes : "", len, packet->binary, data);
      g_bytes_unref (data);
      break;
    }
    case GST_MESH_EIO_CLOSE:
      /* Only polling clients announce their close; a close packet over a
       * WebSocket means the same thing. */
      if (self->transport == TRANSPORT_POLLING && self->poll)
        polling_send_one (self, GST_MESH_EIO_NOOP);
      self->polling_closed = self->transport == TRANSPORT_POLLING;
      socket_on_close (self, "transport close");
      break;
    default:
      /* open, upgrade and noop mean nothing here: ignored as the reference
       * does. */
      break;
  }
  gst_mesh_eio_packet_free (packet);
}

/* ------------------------------------------------------------------------ */
/* Socket: WebSocket transport                                              */
/* ------------------------------------------------------------------------ */

static void
on_ws_message (GstMeshWsConn * ws, gboolean binary, const guint8 * data,
    gsize len, gpointer user_data)
{
  GstMeshEioSocket *self = user_data;
  GstMeshEioPacket *packet;
  GError *error = NULL;

  g_object_ref (self);
  if (binary) {
    socket_on_message (self, (const gchar *) data, len, TRUE, NULL);
  } else if (len > 0 && data[0] == '0' + GST_MESH_EIO_MESSAGE
      && !memchr (data, '\0', len)) {
    /* The hot path: a message, whose UTF-8 the WebSocket layer checked;
     * the codec would refuse a NUL, so anything with one goes through it
     * below and is refused the same way. No copy is made. */
    socket_on_message (self, (const gchar *) data + 1, len - 1, FALSE, NULL);
  } else if ((packet = gst_mesh_eio_packet_decode ((const gchar *) data, len,
              &error))) {
    socket_on_packet (self, packet);
  } else {
    GST_INFO_OBJECT (self->server, "session %s: invalid packet: %s",
        self->id, error->message);
    g_error_free (error);
    socket_on_close (self, "parse error");
  }
  g_object_unref (self);
}

static void
on_ws_closed (GstMeshWsConn * ws, const GError * error, gpointer user_data)
{
  GstMeshEioSocket *self = user_data;

  if (error) {
    /* The close frame with the right code (1002, 1007, 1009) is on its
     * way. */
    GST_INFO_OBJECT (self->server, "session %s: WebSocket error: %s",
        self->id, error->message);
    socket_on_close (self, "transport error");
  } else {
    GST_DEBUG_OBJECT (self->server, "session %s: WebSocket closed by the "
        "client", self->id);
    socket_on_close (self, "transport close");
  }
}

static void
ws_connect_handlers (GstMeshEioSocket * self, GstMeshWsConn * ws)
{
  gst_mesh_ws_conn_set_handlers (ws, on_ws_message, on_ws_closed, self);
}

/* Closes (1000 unless it is already closing) and lets go. */
static void
ws_drop (GstMeshWsConn * ws)
{
  gst_mesh_ws_conn_close (ws, 1000);
  gst_mesh_ws_conn_unref (ws);
}

/* ------------------------------------------------------------------------ */
/* Socket: upgrade from polling to WebSocket                                */
/* ------------------------------------------------------------------------ */

static void
upgrade_cleanup (GstMeshEioSocket * self, gboolean close_ws)
{
  clear_source (self, &self->upgrade_timeout_id);
  clear_source (self, &self->upgrade_check_id);
  if (self->upgrade_ws) {
    GstMeshWsConn *ws = g_steal_pointer (&self->upgrade_ws);

    if (close_ws) {
      ws_drop (ws);
    } else {
      gst_mesh_ws_conn_set_handlers (ws, NULL, NULL, NULL);
      gst_mesh_ws_conn_unref (ws);
    }
  }
}

static gboolean
on_upgrade_timeout (gpointer user_data)
{
  GstMeshEioSocket *self = user_data;

  self->upgrade_timeout_id = 0;
  GST_INFO_OBJECT (self->server, "session %s: client did not complete the "
      "upgrade within %u ms", self->id, self->server->upgrade_timeout);
  upgrade_cleanup (self, TRUE);
  return G_SOURCE_REMOVE;
}

/* Lets a client that is waiting on a poll see that it can pause polling. */
static gboolean
on_upgrade_check (gpointer user_data)
{
  GstMeshEioSocket *self = user_data;

  if (self->transport == TRANSPORT_POLLING && transport_writable (self))
    polling_send_one (self, GST_MESH_EIO_NOOP);
  return G_SOURCE_CONTINUE;
}

static void
upgrade_complete (GstMeshEioSocket * self)
{
  GstMeshWsConn *ws = gst_mesh_ws_conn_ref (self->upgrade_ws);

  upgrade_cleanup (self, FALSE);

  /* The reference's clearTransport() on the discarded polling transport: a
   * poll still pending gets the close packet. */
  if (self->poll)
    polling_send_one (self, GST_MESH_EIO_CLOSE);
  clear_source (self, &self->close_timeout_id);
  self->close_pending = FALSE;
  self->polling_closed = TRUE;

  self->upgraded = TRUE;
  self->transport = TRANSPORT_WEBSOCKET;
  self->ws = ws;
  ws_connect_handlers (self, ws);

  GST_DEBUG_OBJECT (self->server, "session %s upgraded to websocket",
      self->id);
  g_signal_emit (self, socket_signals[SIGNAL_UPGRADE], 0, "websocket");

  socket_flush (self);
  if (self->state == STATE_CLOSING)
    socket_on_close (self, "forced close");
}

static void
on_upgrade_ws_message (GstMeshWsConn * ws, gboolean binary,
    const guint8 * data, gsize len, gpointer user_data)
{
  GstMeshEioSocket *self = user_data;
  GstMeshEioPacket *packet = NULL;

  if (!binary)
    packet = gst_mesh_eio_packet_decode ((const gchar *) data, len, NULL);

  g_object_ref (self);
  if (packet && packet->type == GST_MESH_EIO_PING && packet->data
      && g_bytes_get_size (packet->data) == 5
      && memcmp (g_bytes_get_data (packet->data, NULL), "probe", 5) == 0) {
    GstMeshEioPacket *pong = gst_mesh_eio_packet_new (GST_MESH_EIO_PONG,
        "probe");

    ws_send_packet (ws, pong);
    gst_mesh_eio_packet_free (pong);
    clear_source (self, &self->upgrade_check_id);
    self->upgrade_check_id = server_timeout_add (self->server,
        UPGRADE_CHECK_INTERVAL, on_upgrade_check, self);
  } else if (packet && packet->type == GST_MESH_EIO_UPGRADE
      && self->state != STATE_CLOSED) {
    upgrade_complete (self);
  } else {
    GST_INFO_OBJECT (self->server, "session %s: unexpected packet during "
        "upgrade, dropping the new transport", self->id);
    upgrade_cleanup (self, TRUE);
  }
  if (packet)
    gst_mesh_eio_packet_free (packet);
  g_object_unref (self);
}

static void
on_upgrade_ws_closed (GstMeshWsConn * ws, const GError * error,
    gpointer user_data)
{
  GstMeshEioSocket *self = user_data;

  GST_DEBUG_OBJECT (self->server, "session %s: upgrade transport closed",
      self->id);
  upgrade_cleanup (self, FALSE);
}

static void
socket_maybe_upgrade (GstMeshEioSocket * self, GstMeshWsConn * ws)
{
  GST_DEBUG_OBJECT (self->server, "session %s might upgrade from %s to "
      "websocket", self->id, transport_name (self->transport));
  self->upgrade_ws = gst_mesh_ws_conn_ref (ws);
  self->upgrade_timeout_id = server_timeout_add (self->server,
      self->server->upgrade_timeout, on_upgrade_timeout, self);
  gst_mesh_ws_conn_set_handlers (ws, on_upgrade_ws_message,
      on_upgrade_ws_closed, self);
}

/* ------------------------------------------------------------------------ */
/* Socket: closing                                                          */
/* ------------------------------------------------------------------------ */

/* The reference's onClose(): every path that ends a session comes here. */
static void
socket_on_close (GstMeshEioSocket * self, const gchar * reason)
{
  GstMeshEioServer *server = self->server;

  if (self->state == STATE_CLOSED)
    return;

  g_object_ref (self);
  self->state = STATE_CLOSED;
  GST_DEBUG_OBJECT (server, "session %s closed: %s", self->id, reason);

  socket_stop_heartbeat (self);
  clear_source (self, &self->close_timeout_id);
  g_queue_clear_full (&self->write_buffer,
      (GDestroyNotify) gst_mesh_eio_packet_free);
  upgrade_cleanup (self, TRUE);

  /* clearTransport(): a polling transport that can still write says goodbye
   * with a close packet. */
  if (self->transport == TRANSPORT_POLLING) {
    if (self->poll && !self->polling_closed) {
      self->close_pending = FALSE;
      polling_send_one (self, GST_MESH_EIO_CLOSE);
    }
    self->polling_closed = TRUE;
    poll_release (self);
  } else if (self->ws) {
    ws_drop (g_steal_pointer (&self->ws));
  }

  if (server)
    g_hash_table_remove (server->clients, self->id);

  if (self->funcs && self->funcs->close) {
    const GstMeshEioSocketFuncs *funcs = self->funcs;

    self->funcs = NULL;
    funcs->close (self, reason, self->funcs_data);
  }
  g_signal_emit (self, socket_signals[SIGNAL_CLOSE], 0, reason);
  g_object_unref (self);
}

/* ------------------------------------------------------------------------ */
/* Socket: public API                                                       */
/* ------------------------------------------------------------------------ */

/**
 * gst_mesh_eio_socket_send:
 * @socket: a session
 * @data: the message: UTF-8 text, or bytes when @binary
 * @binary: whether @data is a binary message
 *
 * Queues a message for the client. Messages sent while the session closes
 * are dropped, as the reference does.
 */
void
gst_mesh_eio_socket_send (GstMeshEioSocket * socket, GBytes * data,
    gboolean binary)
{
  GstMeshEioPacket *packet;

  g_return_if_fail (GST_MESH_IS_EIO_SOCKET (socket));
  g_return_if_fail (data != NULL);

  if (socket->state != STATE_OPEN)
    return;

  /* Straight into the WebSocket's output when nothing waits before it. */
  if (socket->transport == TRANSPORT_WEBSOCKET
      && g_queue_is_empty (&socket->write_buffer)
      && transport_writable (socket)) {
    gsize len;
    gconstpointer bytes = g_bytes_get_data (data, &len);
    gchar type = '0' + GST_MESH_EIO_MESSAGE;

    gst_mesh_ws_conn_send (socket->ws, binary, binary ? NULL : &type,
        binary ? 0 : 1, bytes, len);
    return;
  }

  if (binary) {
    /* Shares @data: a broadcast encodes its attachments once. */
    packet = gst_mesh_eio_packet_new_binary (data);
  } else {
    gsize len;
    const gchar *text = g_bytes_get_data (data, &len);

    /* Text packets promise a NUL after their text, which a GBytes does not;
     * the copy is small next to the framing copy every send makes. */
    packet = gst_mesh_eio_packet_new_text (GST_MESH_EIO_MESSAGE, text, len);
  }
  socket_send_packet (socket, packet);
}

/**
 * gst_mesh_eio_socket_send_data:
 * @data: (array length=len): the message: UTF-8 text, or bytes when @binary
 *
 * gst_mesh_eio_socket_send() of bytes the caller keeps: over WebSocket they
 * are framed straight into the connection's output, without a GBytes.
 */
void
gst_mesh_eio_socket_send_data (GstMeshEioSocket * socket, gconstpointer data,
    gsize len, gboolean binary)
{
  GBytes *bytes;

  g_return_if_fail (GST_MESH_IS_EIO_SOCKET (socket));
  g_return_if_fail (data != NULL || len == 0);

  if (socket->state != STATE_OPEN)
    return;
  if (socket->transport == TRANSPORT_WEBSOCKET
      && g_queue_is_empty (&socket->write_buffer)
      && transport_writable (socket)) {
    gchar type = '0' + GST_MESH_EIO_MESSAGE;

    gst_mesh_ws_conn_send (socket->ws, binary, binary ? NULL : &type,
        binary ? 0 : 1, data, len);
    return;
  }
  bytes = g_bytes_new (data, len);
  gst_mesh_eio_socket_send (socket, bytes, binary);
  g_bytes_unref (bytes);
}

void
gst_mesh_eio_socket_send_text (GstMeshEioSocket * socket, const gchar * text)
{
  g_return_if_fail (GST_MESH_IS_EIO_SOCKET (socket));
  g_return_if_fail (text != NULL);

  if (socket->state != STATE_OPEN)
    return;
  socket_send_packet (socket, gst_mesh_eio_packet_new (GST_MESH_EIO_MESSAGE,
          text));
}

/**
 * gst_mesh_eio_socket_set_funcs:
 * @funcs: (nullable): the functions (static: not copied), %NULL for none
 * @user_data: passed to them
 *
 * See #GstMeshEioSocketFuncs.
 */
void
gst_mesh_eio_socket_set_funcs (GstMeshEioSocket * socket,
    const GstMeshEioSocketFuncs * funcs, gpointer user_data)
{
  g_return_if_fail (GST_MESH_IS_EIO_SOCKET (socket));

  socket->funcs = funcs;
  socket->funcs_data = user_data;
}

/**
 * gst_mesh_eio_socket_close:
 * @socket: a session
 *
 * Closes the session once the queued messages are written; the "close"
 * signal follows with reason "forced close".
 */
void
gst_mesh_eio_socket_close (GstMeshEioSocket * socket)
{
  g_return_if_fail (GST_MESH_IS_EIO_SOCKET (socket));

  if (socket->state != STATE_OPEN)
    return;
  socket->state = STATE_CLOSING;
  if (!g_queue_is_empty (&socket->write_buffer)) {
    socket->close_after_drain = TRUE;
    return;
  }
  close_transport (socket);
}

const gchar *
gst_mesh_eio_socket_get_id (GstMeshEioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SOCKET (socket), NULL);
  return socket->id;
}

const gchar *
gst_mesh_eio_socket_get_transport (GstMeshEioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SOCKET (socket), NULL);
  return transport_name (socket->transport);
}

const gchar *
gst_mesh_eio_socket_get_remote_address (GstMeshEioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SOCKET (socket), NULL);
  return socket->remote_address;
}

/**
 * gst_mesh_eio_socket_get_request_headers:
 *
 * Returns: (transfer none): the headers of the handshake request
 */
SoupMessageHeaders *
gst_mesh_eio_socket_get_request_headers (GstMeshEioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SOCKET (socket), NULL);
  return socket->headers;
}

/**
 * gst_mesh_eio_socket_get_query:
 *
 * Returns: (transfer none) (element-type utf8 utf8): the query of the
 *   handshake request
 */
GHashTable *
gst_mesh_eio_socket_get_query (GstMeshEioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SOCKET (socket), NULL);

  /* Decoded from the URL when first asked for, as SoupServer decoded it
   * for the handshake: most applications never ask, and keeping the
   * handshake's table cost a few hundred bytes per session. */
  if (!socket->query) {
    GUri *uri = socket->url ? g_uri_parse (socket->url, G_URI_FLAGS_ENCODED,
        NULL) : NULL;
    const gchar *query = uri ? g_uri_get_query (uri) : NULL;

    socket->query = query ? soup_form_decode (query) :
        g_hash_table_new (g_str_hash, g_str_equal);
    if (uri)
      g_uri_unref (uri);
  }
  return socket->query;
}

const gchar *
gst_mesh_eio_socket_get_url (GstMeshEioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SOCKET (socket), NULL);
  return socket->url;
}

gboolean
gst_mesh_eio_socket_is_secure (GstMeshEioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SOCKET (socket), FALSE);
  return socket->secure;
}

gboolean
gst_mesh_eio_socket_is_open (GstMeshEioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SOCKET (socket), FALSE);
  return socket->state == STATE_OPEN;
}

/**
 * gst_mesh_eio_socket_get_server:
 *
 * Returns: (transfer none) (nullable): the server, %NULL once it is gone
 */
GstMeshEioServer *
gst_mesh_eio_socket_get_server (GstMeshEioSocket * socket)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SOCKET (socket), NULL);
  return socket->server;
}

/* ------------------------------------------------------------------------ */
/* Socket: GObject                                                          */
/* ------------------------------------------------------------------------ */

static void
gst_mesh_eio_socket_finalize (GObject * object)
{
  GstMeshEioSocket *self = GST_MESH_EIO_SOCKET (object);

  socket_stop_heartbeat (self);
  clear_source (self, &self->close_timeout_id);
  upgrade_cleanup (self, TRUE);
  poll_release (self);
  if (self->ws)
    ws_drop (g_steal_pointer (&self->ws));
  g_queue_clear_full (&self->write_buffer,
      (GDestroyNotify) gst_mesh_eio_packet_free);
  g_free (self->id);
  g_free (self->remote_address);
  g_free (self->url);
  if (self->headers)
    soup_message_headers_unref (self->headers);
  if (self->query)
    g_hash_table_unref (self->query);

  G_OBJECT_CLASS (gst_mesh_eio_socket_parent_class)->finalize (object);
}

static void
gst_mesh_eio_socket_class_init (GstMeshEioSocketClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  debug_init ();
  gobject_class->finalize = gst_mesh_eio_socket_finalize;

  /**
   * GstMeshEioSocket::message:
   * @socket: the session
   * @data: the message (text without its type digit, or bytes)
   * @binary: whether @data is a binary message
   *
   * A message packet from the client.
   */
  socket_signals[SIGNAL_MESSAGE] = g_signal_new ("message",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
      gst_mesh_marshal_VOID__BOXED_BOOLEAN, G_TYPE_NONE, 2,
      G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_BOOLEAN);
  g_signal_set_va_marshaller (socket_signals[SIGNAL_MESSAGE],
      G_TYPE_FROM_CLASS (klass), gst_mesh_marshal_VOID__BOXED_BOOLEANv);

  /**
   * GstMeshEioSocket::close:
   * @socket: the session
   * @reason: the reference's reason: "transport close", "transport error",
   *   "ping timeout", "parse error", "forced close"
   *
   * The session is over; emitted once.
   */
  socket_signals[SIGNAL_CLOSE] = g_signal_new ("close",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * GstMeshEioSocket::upgrade:
   * @socket: the session
   * @transport: the new transport ("websocket")
   *
   * The client moved the session to another transport.
   */
  socket_signals[SIGNAL_UPGRADE] = g_signal_new ("upgrade",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
gst_mesh_eio_socket_init (GstMeshEioSocket * self)
{
  g_queue_init (&self->write_buffer);
}

/* ------------------------------------------------------------------------ */
/* Server: sessions                                                         */
/* ------------------------------------------------------------------------ */

static gchar *
build_open_packet (GstMeshEioServer * self, const gchar * sid,
    Transport transport)
{
  gboolean can_upgrade = transport == TRANSPORT_POLLING
      && self->allow_upgrades && self->allow_websocket;

  /* Key order as the reference's JSON.stringify of its handshake object. */
  return g_strdup_printf ("{\"sid\":\"%s\",\"upgrades\":[%s],"
      "\"pingInterval\":%u,\"pingTimeout\":%u,\"maxPayload\":%"
      G_GUINT64_FORMAT "}", sid, can_upgrade ? "\"websocket\"" : "",
      self->ping_interval, self->ping_timeout, self->max_payload);
}

static GstMeshEioSocket *
create_session (GstMeshEioServer * self, SoupServerMessage * msg,
    GHashTable * query, Transport transport)
{
  GstMeshEioSocket *socket = g_object_new (GST_MESH_TYPE_EIO_SOCKET, NULL);
  GUri *uri = soup_server_message_get_uri (msg);
  gchar *open;

  socket->server = self;
  socket->id = generate_id ();
  socket->remote_address =
      g_strdup (gst_mesh_http_guard_client_address (self->guard, msg));
  {
    /* Trimmed: the GString it comes from has room to spare. */
    gchar *url = g_uri_to_string_partial (uri, G_URI_HIDE_USERINFO);

    socket->url = g_strdup (url);
    g_free (url);
  }
  socket->headers =
      soup_message_headers_ref (soup_server_message_get_request_headers
      (msg));
  socket->query = NULL;         /* see gst_mesh_eio_socket_get_query() */
  socket->secure = g_strcmp0 (g_uri_get_scheme (uri), "https") == 0;
  socket->transport = transport;
  socket->state = STATE_OPEN;

  g_hash_table_insert (self->clients, socket->id, socket);
  self->stats.sessions_opened++;

  GST_DEBUG_OBJECT (self, "handshaking client %s over %s from %s",
      socket->id, transport_name (transport), socket->remote_address);

  /* onOpen(): the open packet waits in the buffer until the transport can
   * write it. */
  open = build_open_packet (self, socket->id, transport);
  g_queue_push_tail (&socket->write_buffer,
      gst_mesh_eio_packet_new (GST_MESH_EIO_OPEN, open));
  g_free (open);
  schedule_ping (socket);

  return socket;
}

static void
on_poll_disconnected (SoupServerMessage * msg, GstMeshEioSocket * self)
{
  if (self->poll != msg)
    return;
  GST_INFO_OBJECT (self->server, "session %s: poll connection closed "
      "prematurely", self->id);
  poll_release (self);
  socket_on_close (self, "transport error");
}

static void
on_poll_request (GstMeshEioServer * self, GstMeshEioSocket * socket,
    SoupServerMessage * msg)
{
  if (socket->poll) {
    GST_INFO_OBJECT (self, "session %s: overlapping poll request from "
        "client", socket->id);
    socket_on_close (socket, "transport error");
    add_polling_headers (self, msg);
    reply_bad_request (msg, SOUP_STATUS_BAD_REQUEST,
        "overlapping poll request: the session is closed");
    return;
  }
  if (socket->polling_closed || socket->state == STATE_CLOSED) {
    add_polling_headers (self, msg);
    reply_bad_request (msg, SOUP_STATUS_BAD_REQUEST, "session is closed");
    return;
  }

  socket->poll = g_object_ref (msg);
  socket->poll_disconnected_id = g_signal_connect (msg, "disconnected",
      G_CALLBACK (on_poll_disconnected), socket);
  soup_server_message_pause (msg);

  /* "ready" */
  g_object_ref (socket);
  socket_flush (socket);
  if (socket->poll && socket->close_pending)
    polling_send_one (socket, GST_MESH_EIO_NOOP);
  g_object_unref (socket);
}

static gboolean
get_body (GstMeshEioServer * self, SoupServerMessage * msg, GBytes ** out)
{
  GByteArray *collected = g_object_get_data (G_OBJECT (msg),
      "gst-mesh-eio-body");
  SoupMessageBody *body;

  if (g_object_get_data (G_OBJECT (msg), "gst-mesh-eio-too-large"))
    return FALSE;
  if (collected) {
    *out = g_bytes_new (collected->data, collected->len);
    return TRUE;
  }
  body = soup_server_message_get_request_body (msg);
  *out = soup_message_body_flatten (body);
  return g_bytes_get_size (*out) <= self->max_payload;
}

static void
on_data_request (GstMeshEioServer * self, GstMeshEioSocket * socket,
    SoupServerMessage * msg)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  const gchar *ctype =
      soup_message_headers_get_one(req, "Content-Type");
  GError *error = NULL;
  GBytes *body = NULL;
  GPtrArray *packets;
  const gchar *data;
  gsize len;
  guint i;

  add_polling_headers (self, msg);

  if (ctype && g_ascii_strncasecmp (ctype, "application/octet-stream",
          24) == 0) {
    GST_INFO_OBJECT (self, "session %s: binary POST body (invalid in "
        "protocol v4)", socket->id);
    socket_on_close (socket, "transport error");
    reply_bad_request (msg, SOUP_STATUS_BAD_REQUEST,
        "invalid content: binary payloads are not part of protocol v4");
    return;
  }

  if (!get_body (self, msg, &body)) {
    GST_INFO_OBJECT (self, "session %s: POST body over max-payload (%"
        G_GUINT64_FORMAT " bytes)", socket->id, self->max_payload);
    self->stats.payloads_too_large++;
    if (body)
      g_bytes_unref (body);
    socket_on_close (socket, "transport error");
    soup_message_headers_replace
        (soup_server_message_get_response_headers (msg),
        "Connection", "close");
    reply_bad_request (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "payload larger than maxPayload");
    return;
  }

  data = g_bytes_get_data (body, &len);
  self->stats.bytes_received += len;
  packets = gst_mesh_eio_payload_decode (data ? data : "", len, &error);
  g_bytes_unref (body);
  if (!packets) {
    gchar *detail = g_strdup_printf ("invalid payload: %s", error->message);

    GST_INFO_OBJECT (self, "session %s: %s", socket->id, detail);
    g_error_free (error);
    socket_on_close (socket, "parse error");
    reply_bad_request (msg, SOUP_STATUS_BAD_REQUEST, detail);
    g_free (detail);
    return;
  }

  g_object_ref (socket);
  for (i = 0; i < packets->len; i++) {
    GstMeshEioPacket *packet = g_ptr_array_index (packets, i);

    packets->pdata[i] = NULL;
    if (socket->state == STATE_CLOSED) {
      gst_mesh_eio_packet_free (packet);
      continue;
    }
    socket_on_packet (socket, packet);
  }
  g_ptr_array_unref (packets);
  g_object_unref (socket);

  set_body (msg, SOUP_STATUS_OK, "text/html", "ok", 2);
}

/* The reference's verify(): the same checks in the same order. */
static gboolean
verify (GstMeshEioServer * self, SoupServerMessage * msg, GHashTable * query,
    gboolean upgrade, GstMeshEioError * code, gchar ** message,
    gchar ** context)
{
  const gchar *transport = query ? g_hash_table_lookup (query,
      "transport") : NULL;
  const gchar *sid = query ? g_hash_table_lookup (query, "sid") : NULL;
  const gchar *eio = query ? g_hash_table_lookup (query, "EIO") : NULL;
  const gchar *origin;
  const gchar *method = soup_server_message_get_method (msg);

  if (!strv_contains (self->transports, transport)) {
    *code = GST_MESH_EIO_ERROR_UNKNOWN_TRANSPORT;
    *context = g_strdup_printf ("unknown transport \"%s\"",
        transport ? transport : "(none)");
    return FALSE;
  }

  origin = soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "Origin");
  if (!header_value_is_valid (origin)) {
    *code = GST_MESH_EIO_ERROR_BAD_REQUEST;
    *context = g_strdup ("invalid Origin header");
    return FALSE;
  }

  if (sid && *sid) {
    GstMeshEioSocket *socket = g_hash_table_lookup (self->clients, sid);

    if (!socket) {
      *code = GST_MESH_EIO_ERROR_UNKNOWN_SID;
      *context = g_strdup_printf ("unknown sid \"%s\"", sid);
      return FALSE;
    }
    if (!upgrade && strcmp (transport_name (socket->transport),
            transport) != 0) {
      *code = GST_MESH_EIO_ERROR_BAD_REQUEST;
      *context = g_strdup_printf ("transport mismatch: session %s uses %s, "
          "request uses %s", sid, transport_name (socket->transport),
          transport);
      return FALSE;
    }
    if (g_strcmp0 (eio, "4") != 0) {
      *code = GST_MESH_EIO_ERROR_BAD_REQUEST;
      *context = g_strdup_printf ("protocol mismatch: session %s uses "
          "EIO=4, request uses EIO=%s", sid, eio ? eio : "(none)");
      return FALSE;
    }
    return TRUE;
  }

  if (method != SOUP_METHOD_GET) {
    *code = GST_MESH_EIO_ERROR_BAD_HANDSHAKE_METHOD;
    *context = g_strdup_printf ("handshake with method %s, not GET", method);
    return FALSE;
  }
  if (g_str_equal (transport, "websocket") && !upgrade) {
    *code = GST_MESH_EIO_ERROR_BAD_REQUEST;
    *context = g_strdup ("websocket handshake without an Upgrade header");
    return FALSE;
  }
  if (self->allow_func) {
    gchar *reason = NULL;

    if (!self->allow_func (self, msg, &reason, self->allow_data)) {
      *code = GST_MESH_EIO_ERROR_FORBIDDEN;
      *context = g_strdup_printf ("refused by allow-request: %s",
          reason ? reason : "(no reason)");
      *message = reason;
      return FALSE;
    }
    g_free (reason);
  }
  return TRUE;
}

typedef struct
{
  GstMeshEioServer *server;
  GHashTable *query;
  gchar *sid;
} UpgradeData;

static void
upgrade_data_free (gpointer data)
{
  UpgradeData *u = data;

  g_object_unref (u->server);
  if (u->query)
    g_hash_table_unref (u->query);
  g_free (u->sid);
  g_free (u);
}

/* libsoup before 3.4 leaks every accepted GSocket (SoupListener's
 * listen_watch() never drops the reference g_socket_accept() gave it; see
 * tests/servers/valgrind.supp): 0.7 kB per connection, for the life of the
 * process. For the connections we take over, that reference is given back
 * once libsoup is done with the connection (the next idle): a socket then
 * held by nobody but us and the leak has exactly two references. Anything
 * else (a newer libsoup, someone else's reference) and we drop only ours. */
static gboolean
release_accepted_sockets (gpointer user_data)
{
  GstMeshEioServer *self = user_data;
  GPtrArray *sockets = g_steal_pointer (&self->accepted_sockets);
  guint i;

  self->release_id = 0;
  for (i = 0; sockets && i < sockets->len; i++) {
    GObject *gsocket = g_ptr_array_index (sockets, i);

    if (g_atomic_int_get (&gsocket->ref_count) == 2)
      g_object_unref (gsocket);
    g_object_unref (gsocket);
  }
  if (sockets)
    g_ptr_array_unref (sockets);
  return G_SOURCE_REMOVE;
}

static void
release_accepted_socket (GstMeshEioServer * self, GSocket * gsocket)
{
  static gint leaks = -1;

  if (leaks < 0)
    leaks = !soup_check_version (3, 4, 0);
  if (!leaks) {
    g_object_unref (gsocket);
    return;
  }
  if (!self->accepted_sockets)
    self->accepted_sockets = g_ptr_array_new ();
  g_ptr_array_add (self->accepted_sockets, gsocket);
  if (!self->release_id) {
    GSource *idle = g_idle_source_new ();

    /* Not starved by a burst of connections. */
    g_source_set_priority (idle, G_PRIORITY_DEFAULT);
    g_source_set_callback (idle, release_accepted_sockets, self, NULL);
    self->release_id = g_source_attach (idle, self->context);
    g_source_unref (idle);
  }
}

/* After the 101 response is written: take the connection over. */
static void
on_wrote_informational (SoupServerMessage * msg, gpointer user_data)
{
  UpgradeData *u = g_object_get_data (G_OBJECT (msg), "gst-mesh-eio-upgrade");
  GstMeshEioServer *self;
  GstMeshWsConn *ws;
  GIOStream *stream;
  GSocket *gsocket;
  gboolean tls;

  if (!u || soup_server_message_get_status (msg) !=
      SOUP_STATUS_SWITCHING_PROTOCOLS)
    return;
  self = u->server;

  g_object_ref (msg);
  tls = g_strcmp0 (g_uri_get_scheme (soup_server_message_get_uri (msg)),
      "https") == 0;
  gsocket = soup_server_message_get_socket (msg);
  if (gsocket)
    g_object_ref (gsocket);
  stream = soup_server_message_steal_connection (msg);
  if (!self->poller)
    self->poller = gst_mesh_ws_poller_new (self->context);
  /* Plain TCP is served from the poller's epoll set, TLS through the
   * stream. The reference's ws server closes connections with messages
   * over maxPayload (1009). */
  ws = gst_mesh_ws_conn_new (self->poller, stream, tls ? NULL : gsocket,
      self->max_payload);
  g_object_unref (stream);
  if (gsocket)
    release_accepted_socket (self, gsocket);

  if (u->sid) {
    GstMeshEioSocket *socket = g_hash_table_lookup (self->clients, u->sid);

    if (!socket || socket->state == STATE_CLOSED) {
      GST_INFO_OBJECT (self, "upgrade attempt for closed session %s", u->sid);
      gst_mesh_ws_conn_close (ws, 1000);
    } else if (socket->upgrade_ws) {
      GST_INFO_OBJECT (self, "session %s is already trying to upgrade",
          u->sid);
      gst_mesh_ws_conn_close (ws, 1000);
    } else if (socket->upgraded || socket->transport != TRANSPORT_POLLING) {
      GST_INFO_OBJECT (self, "session %s was already upgraded", u->sid);
      gst_mesh_ws_conn_close (ws, 1000);
    } else {
      socket_maybe_upgrade (socket, ws);
    }
  } else {
    GstMeshEioSocket *socket = create_session (self, msg, u->query,
        TRANSPORT_WEBSOCKET);

    socket->ws = gst_mesh_ws_conn_ref (ws);
    ws_connect_handlers (socket, ws);
    /* A "connection" handler that writes to a client that already hung up
     * closes the session, which drops the server's reference. */
    g_object_ref (socket);
    g_signal_emit (self, server_signals[SIGNAL_CONNECTION], 0, socket);
    socket_flush (socket);
    g_object_unref (socket);
  }

  gst_mesh_ws_conn_unref (ws);
  g_object_set_data (G_OBJECT (msg), "gst-mesh-eio-upgrade", NULL);
  g_object_unref (msg);
}

static void
handle_upgrade (GstMeshEioServer * self, SoupServerMessage * msg,
    GHashTable * query)
{
  GstMeshEioError code;
  gchar *message = NULL, *context = NULL;
  const gchar *sid, *transport, *eio;
  UpgradeData *u;
  GError *error = NULL;

  if (!verify (self, msg, query, TRUE, &code, &message, &context)) {
    abort_upgrade (self, msg, code, message, context);
    g_free (message);
    g_free (context);
    return;
  }

  transport = g_hash_table_lookup (query, "transport");
  sid = g_hash_table_lookup (query, "sid");
  eio = g_hash_table_lookup (query, "EIO");

  if (!g_str_equal (transport, "websocket")) {
    /* The reference's ws server takes the connection, then drops it. */
    abort_upgrade (self, msg, GST_MESH_EIO_ERROR_BAD_REQUEST, NULL,
        "WebSocket upgrade on a transport that cannot be upgraded to");
    return;
  }
  if (!(sid && *sid) && g_strcmp0 (eio, "4") != 0) {
    context = g_strdup_printf ("EIO=%s, only protocol 4 is served",
        eio ? eio : "(none)");
    abort_upgrade (self, msg, GST_MESH_EIO_ERROR_UNSUPPORTED_PROTOCOL_VERSION,
        NULL, context);
    g_free (context);
    return;
  }

  if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &error)) {
    emit_connection_error (self, msg, GST_MESH_EIO_ERROR_BAD_REQUEST,
        error->message);
    soup_message_headers_replace
        (soup_server_message_get_response_headers (msg),
        "Connection", "close");
    set_body (msg, SOUP_STATUS_BAD_REQUEST, "text/html", error->message,
        strlen (error->message));
    g_error_free (error);
    return;
  }
  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL))
    return;

  u = g_new0 (UpgradeData, 1);
  u->server = g_object_ref (self);
  u->query = query ? g_hash_table_ref (query) : NULL;
  u->sid = (sid && *sid) ? g_strdup (sid) : NULL;
  g_object_set_data_full (G_OBJECT (msg), "gst-mesh-eio-upgrade", u,
      upgrade_data_free);
  g_signal_connect (msg, "wrote-informational",
      G_CALLBACK (on_wrote_informational), NULL);
}

static void
handle_request (SoupServer * soup, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  GstMeshEioServer *self = user_data;
  GstMeshEioError code;
  gchar *message = NULL, *context = NULL;
  const gchar *sid, *eio, *method;
  GstMeshEioSocket *socket;

  if (!g_str_has_prefix (path, self->path)) {
    set_body (msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Not Found", 9);
    return;
  }

  if (soup_server_message_get_status (msg) != 0)
    return;                     /* answered early: body too large */

  if (request_wants_websocket (msg)) {
    if (!self->allow_websocket) {
      abort_upgrade (self, msg, GST_MESH_EIO_ERROR_UNKNOWN_TRANSPORT, NULL,
          "the websocket transport is disabled");
      return;
    }
    handle_upgrade (self, msg, query);
    return;
  }

  gst_mesh_eio_server_apply_cors (self, msg);
  if (handle_preflight (self, msg))
    return;

  /* A client that ends its upgrade ("5" on the new WebSocket) and then
   * polls on its old connection: the two requests come on two sockets,
   * and GLib may dispatch the poll first, which would then be served as a
   * poll of a session still on polling. The reference, one epoll taking
   * events as they came, sees the upgrade first; so do we, by reading
   * what the upgrading WebSocket already received. */
  sid = query ? g_hash_table_lookup (query, "sid") : NULL;
  if (sid && (socket = g_hash_table_lookup (self->clients, sid))
      && socket->upgrade_ws)
    gst_mesh_ws_conn_read_pending (socket->upgrade_ws);

  if (!verify (self, msg, query, FALSE, &code, &message, &context)) {
    abort_request (self, msg, code, message, context);
    g_free (message);
    g_free (context);
    return;
  }

  method = soup_server_message_get_method (msg);
  sid = g_hash_table_lookup (query, "sid");
  if (sid && *sid) {
    socket = g_hash_table_lookup (self->clients, sid);
    if (method == SOUP_METHOD_GET) {
      on_poll_request (self, socket, msg);
    } else if (method == SOUP_METHOD_POST) {
      on_data_request (self, socket, msg);
    } else {
      add_polling_headers (self, msg);
      context = g_strdup_printf ("method %s on a polling session", method);
      reply_bad_request (msg, SOUP_STATUS_BAD_REQUEST, context);
      g_free (context);
    }
    return;
  }

  /* handshake() */
  eio = g_hash_table_lookup (query, "EIO");
  if (g_strcmp0 (eio, "4") != 0) {
    context = g_strdup_printf ("EIO=%s, only protocol 4 is served",
        eio ? eio : "(none)");
    abort_request (self, msg, GST_MESH_EIO_ERROR_UNSUPPORTED_PROTOCOL_VERSION,
        NULL, context);
    g_free (context);
    return;
  }

  socket = create_session (self, msg, query, TRANSPORT_POLLING);
  g_object_ref (socket);
  on_poll_request (self, socket, msg);
  g_signal_emit (self, server_signals[SIGNAL_CONNECTION], 0, socket);
  g_object_unref (socket);
}

/* POST bodies are checked against max-payload before they are read, so a
 * client cannot make us buffer more than that. */
static void
on_got_chunk (SoupServerMessage * msg, GBytes * chunk, gpointer user_data)
{
  GstMeshEioServer *self = user_data;
  GByteArray *collected = g_object_get_data (G_OBJECT (msg),
      "gst-mesh-eio-body");
  gsize len;
  gconstpointer data = g_bytes_get_data (chunk, &len);

  if (!collected || g_object_get_data (G_OBJECT (msg),
          "gst-mesh-eio-too-large"))
    return;
  if (collected->len + len > self->max_payload) {
    g_object_set_data (G_OBJECT (msg), "gst-mesh-eio-too-large",
        GINT_TO_POINTER (1));
    g_byte_array_set_size (collected, 0);
    return;
  }
  g_byte_array_append (collected, data, len);
}

static void
handle_early (SoupServer * soup, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  GstMeshEioServer *self = user_data;
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  goffset length;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST)
    return;

  if (soup_message_headers_get_encoding (req) == SOUP_ENCODING_CONTENT_LENGTH) {
    length = soup_message_headers_get_content_length (req);
    if ((guint64) length > self->max_payload) {
      const gchar *sid = query ? g_hash_table_lookup (query, "sid") : NULL;
      GstMeshEioSocket *socket = sid ? g_hash_table_lookup (self->clients,
          sid) : NULL;

      GST_INFO_OBJECT (self, "POST of %" G_GOFFSET_FORMAT " bytes over "
          "max-payload %" G_GUINT64_FORMAT, length, self->max_payload);
      self->stats.payloads_too_large++;
      gst_mesh_eio_server_apply_cors (self, msg);
      soup_message_headers_replace (soup_server_message_get_response_headers
          (msg), "cache-control", "no-store");
      soup_message_headers_replace
          (soup_server_message_get_response_headers (msg),
          "Connection", "close");
      reply_bad_request (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
          "payload larger than maxPayload");
      if (socket)
        socket_on_close (socket, "transport error");
    }
    return;
  }

  /* Chunked: collect it ourselves, with a cap. */
  soup_message_body_set_accumulate (soup_server_message_get_request_body
      (msg), FALSE);
  g_object_set_data_full (G_OBJECT (msg), "gst-mesh-eio-body",
      g_byte_array_new (), (GDestroyNotify) g_byte_array_unref);
  g_signal_connect_object (msg, "got-chunk", G_CALLBACK (on_got_chunk), self,
      0);
}

/* ------------------------------------------------------------------------ */
/* Server: public API                                                       */
/* ------------------------------------------------------------------------ */

GstMeshEioServer *
gst_mesh_eio_server_new (void)
{
  return g_object_new (GST_MESH_TYPE_EIO_SERVER, NULL);
}

/**
 * gst_mesh_eio_server_attach:
 * @server: the server
 * @soup_server: the SoupServer to serve on
 * @path: (nullable): the path, "/engine.io/" by default; a trailing "/" is
 *   added as the reference does
 * @error: return location for an error
 *
 * Handles the requests under @path of @soup_server, which may serve other
 * paths (static files) on the same port.
 */
gboolean
gst_mesh_eio_server_attach (GstMeshEioServer * server,
    SoupServer * soup_server, const gchar * path, GError ** error)
{
  gchar *trimmed;

  g_return_val_if_fail (GST_MESH_IS_EIO_SERVER (server), FALSE);
  g_return_val_if_fail (SOUP_IS_SERVER (soup_server), FALSE);

  if (server->soup) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
        "Engine.IO server already attached at %s", server->path);
    return FALSE;
  }
  if (!path || !*path)
    path = "/engine.io";
  if (path[0] != '/') {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Engine.IO path \"%s\" does not start with /", path);
    return FALSE;
  }

  trimmed = g_strdup (path);
  while (strlen (trimmed) > 1 && g_str_has_suffix (trimmed, "/"))
    trimmed[strlen (trimmed) - 1] = '\0';
  server->handler_path = trimmed;
  server->path = g_str_equal (trimmed, "/") ? g_strdup ("/") :
      g_strconcat (trimmed, "/", NULL);
  server->soup = g_object_ref (soup_server);
  server->context = g_main_context_ref_thread_default ();
  server->heartbeat = g_source_new (&heartbeat_funcs,
      sizeof (HeartbeatSource));
  ((HeartbeatSource *) server->heartbeat)->server = server;
  g_source_set_name (server->heartbeat, "gst-mesh Engine.IO heartbeats");
  g_source_attach (server->heartbeat, server->context);

  soup_server_add_early_handler (soup_server, server->handler_path,
      handle_early, server, NULL);
  soup_server_add_handler (soup_server, server->handler_path, handle_request,
      server, NULL);
  server->guard = gst_mesh_http_guard_new (soup_server, server->context);
  gst_mesh_http_guard_set_header_timeout (server->guard,
      server->header_timeout);
  if (!gst_mesh_http_guard_set_trusted_proxies (server->guard,
          (const gchar * const *) server->trusted_proxies, error))
    return FALSE;
  GST_INFO_OBJECT (server, "serving Engine.IO at %s", server->path);
  return TRUE;
}

/* GSocket listens with a backlog of 10. Polling clients open a connection
 * per request, so a few dozen of them answering the same ping round
 * overflow it: the kernel drops their SYNs, they retry after a second, and
 * their pong comes too late. Node listens with 511; so do we. GSocket
 * cannot change the backlog once listening, but listen() again on the
 * socket does (Linux, the BSDs). */
#define LISTEN_BACKLOG 511

static void
raise_listen_backlog (SoupServer * soup)
{
  GSList *sockets = soup_server_get_listeners (soup), *l;

  for (l = sockets; l; l = l->next) {
    if (listen (g_socket_get_fd (l->data), LISTEN_BACKLOG) != 0)
      GST_WARNING ("cannot raise the listen backlog to %d: %s",
          LISTEN_BACKLOG, g_strerror (errno));
  }
  g_slist_free (sockets);
}

/**
 * gst_mesh_eio_server_listen:
 * @server: the server
 * @address: (nullable): the address to listen on; %NULL for all
 * @port: the port, 0 for any
 * @error: return location for an error
 *
 * Creates a SoupServer of its own, attaches to it at "/engine.io/" unless
 * gst_mesh_eio_server_attach() was called before, and listens.
 */
gboolean
gst_mesh_eio_server_listen (GstMeshEioServer * server, const gchar * address,
    guint port, GError ** error)
{
  gboolean ok;

  g_return_val_if_fail (GST_MESH_IS_EIO_SERVER (server), FALSE);

  if (!server->soup) {
    SoupServer *soup = soup_server_new (NULL, NULL);

    ok = gst_mesh_eio_server_attach (server, soup, NULL, error);
    g_object_unref (soup);
    if (!ok)
      return FALSE;
    server->own_soup = TRUE;
  }

  if (address && *address) {
    GInetAddress *inet = g_inet_address_new_from_string (address);
    GSocketAddress *sockaddr;

    if (!inet) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "\"%s\" is not an IP address", address);
      return FALSE;
    }
    sockaddr = g_inet_socket_address_new (inet, port);
    ok = soup_server_listen (server->soup, sockaddr, 0, error);
    g_object_unref (sockaddr);
    g_object_unref (inet);
  } else {
    ok = soup_server_listen_all (server->soup, port, 0, error);
  }
  if (ok)
    raise_listen_backlog (server->soup);
  return ok;
}

/**
 * gst_mesh_eio_server_get_soup_server:
 *
 * Returns: (transfer none) (nullable): the SoupServer serving @server
 */
SoupServer *
gst_mesh_eio_server_get_soup_server (GstMeshEioServer * server)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SERVER (server), NULL);
  return server->soup;
}

guint
gst_mesh_eio_server_get_port (GstMeshEioServer * server)
{
  GSList *uris, *l;
  guint port = 0;

  g_return_val_if_fail (GST_MESH_IS_EIO_SERVER (server), 0);
  if (!server->soup)
    return 0;
  uris = soup_server_get_uris (server->soup);
  for (l = uris; l; l = l->next) {
    if (!port)
      port = g_uri_get_port (l->data);
  }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return port;
}

const gchar *
gst_mesh_eio_server_get_path (GstMeshEioServer * server)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SERVER (server), NULL);
  return server->path;
}

void
gst_mesh_eio_server_set_allow_request_func (GstMeshEioServer * server,
    GstMeshEioAllowRequestFunc func, gpointer user_data,
    GDestroyNotify notify)
{
  g_return_if_fail (GST_MESH_IS_EIO_SERVER (server));

  if (server->allow_notify)
    server->allow_notify (server->allow_data);
  server->allow_func = func;
  server->allow_data = user_data;
  server->allow_notify = notify;
}

/**
 * gst_mesh_eio_server_lookup:
 *
 * Returns: (transfer none) (nullable): the open session @sid
 */
GstMeshEioSocket *
gst_mesh_eio_server_lookup (GstMeshEioServer * server, const gchar * sid)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SERVER (server), NULL);
  return sid ? g_hash_table_lookup (server->clients, sid) : NULL;
}

guint
gst_mesh_eio_server_get_n_clients (GstMeshEioServer * server)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SERVER (server), 0);
  return g_hash_table_size (server->clients);
}

/**
 * gst_mesh_eio_error_message:
 * @code: a #GstMeshEioError
 *
 * Returns: the reference's message for @code ("Transport unknown", ...), or
 *   %NULL for a code it does not have
 */
const gchar *
gst_mesh_eio_error_message (GstMeshEioError code)
{
  return (guint) code < GST_MESH_EIO_N_ERRORS ? error_messages[code] : NULL;
}

/**
 * gst_mesh_eio_server_get_client_address:
 * @msg: a request to @server
 *
 * Returns: (transfer none): the address of the client that sent @msg: the
 *   connection's peer, or the address a trusted proxy names (see
 *   #GstMeshEioServer:trusted-proxies)
 */
const gchar *
gst_mesh_eio_server_get_client_address (GstMeshEioServer * server,
    SoupServerMessage * msg)
{
  g_return_val_if_fail (GST_MESH_IS_EIO_SERVER (server), NULL);
  return gst_mesh_http_guard_client_address (server->guard, msg);
}

/**
 * gst_mesh_eio_server_get_stats:
 * @stats: (out caller-allocates): filled in
 *
 * The server's counters since it was created, and its sessions now.
 */
void
gst_mesh_eio_server_get_stats (GstMeshEioServer * server,
    GstMeshEioStats * stats)
{
  GHashTableIter iter;
  gpointer value;
  guint64 ws_in, ws_out;

  g_return_if_fail (GST_MESH_IS_EIO_SERVER (server));

  *stats = server->stats;
  stats->clients_polling = stats->clients_websocket = 0;
  g_hash_table_iter_init (&iter, server->clients);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    GstMeshEioSocket *socket = value;

    if (socket->state == STATE_CLOSED)
      continue;
    if (socket->transport == TRANSPORT_WEBSOCKET)
      stats->clients_websocket++;
    else
      stats->clients_polling++;
  }
  gst_mesh_ws_poller_get_bytes (server->poller, &ws_in, &ws_out);
  stats->bytes_received += ws_in;
  stats->bytes_sent += ws_out;
  stats->header_timeouts =
      gst_mesh_http_guard_get_header_timeouts (server->guard);
  stats->body_timeouts = gst_mesh_http_guard_get_body_timeouts (server->guard);
}

/**
 * gst_mesh_eio_server_close_all:
 *
 * Closes every session right away (reason "forced close").
 */
void
gst_mesh_eio_server_close_all (GstMeshEioServer * server)
{
  GList *sockets, *l;

  g_return_if_fail (GST_MESH_IS_EIO_SERVER (server));

  sockets = g_hash_table_get_values (server->clients);
  for (l = sockets; l; l = l->next)
    g_object_ref (l->data);
  for (l = sockets; l; l = l->next)
    socket_on_close (l->data, "forced close");
  g_list_free_full (sockets, g_object_unref);
}

/* ------------------------------------------------------------------------ */
/* Server: GObject                                                          */
/* ------------------------------------------------------------------------ */

static void
update_transports (GstMeshEioServer * self)
{
  self->allow_polling = strv_contains (self->transports, "polling");
  self->allow_websocket = strv_contains (self->transports, "websocket");
}

static void
gst_mesh_eio_server_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMeshEioServer *self = GST_MESH_EIO_SERVER (object);

  switch (prop_id) {
    case PROP_PING_INTERVAL:
      self->ping_interval = g_value_get_uint (value);
      break;
    case PROP_PING_TIMEOUT:
      self->ping_timeout = g_value_get_uint (value);
      break;
    case PROP_UPGRADE_TIMEOUT:
      self->upgrade_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_PAYLOAD:
      self->max_payload = g_value_get_uint64 (value);
      break;
    case PROP_TRANSPORTS:
      g_strfreev (self->transports);
      self->transports = g_value_dup_boxed (value);
      if (!self->transports) {
        const gchar *def[] = { "polling", "websocket", NULL };
        self->transports = g_strdupv ((gchar **) def);
      }
      update_transports (self);
      break;
    case PROP_ALLOW_UPGRADES:
      self->allow_upgrades = g_value_get_boolean (value);
      break;
    case PROP_CORS_ORIGINS:
      g_strfreev (self->cors_origins);
      self->cors_origins = g_value_dup_boxed (value);
      break;
    case PROP_HEADER_TIMEOUT:
      self->header_timeout = g_value_get_uint (value);
      if (self->guard)
        gst_mesh_http_guard_set_header_timeout (self->guard,
            self->header_timeout);
      break;
    case PROP_TRUSTED_PROXIES:
      g_strfreev (self->trusted_proxies);
      self->trusted_proxies = g_value_dup_boxed (value);
      if (self->guard && !gst_mesh_http_guard_set_trusted_proxies
          (self->guard, (const gchar * const *) self->trusted_proxies, NULL))
        GST_WARNING_OBJECT (self, "trusted-proxies has an entry that is "
            "not an address: kept the previous list");
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mesh_eio_server_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstMeshEioServer *self = GST_MESH_EIO_SERVER (object);

  switch (prop_id) {
    case PROP_PING_INTERVAL:
      g_value_set_uint (value, self->ping_interval);
      break;
    case PROP_PING_TIMEOUT:
      g_value_set_uint (value, self->ping_timeout);
      break;
    case PROP_UPGRADE_TIMEOUT:
      g_value_set_uint (value, self->upgrade_timeout);
      break;
    case PROP_MAX_PAYLOAD:
      g_value_set_uint64 (value, self->max_payload);
      break;
    case PROP_TRANSPORTS:
      g_value_set_boxed (value, self->transports);
      break;
    case PROP_ALLOW_UPGRADES:
      g_value_set_boolean (value, self->allow_upgrades);
      break;
    case PROP_CORS_ORIGINS:
      g_value_set_boxed (value, self->cors_origins);
      break;
    case PROP_HEADER_TIMEOUT:
      g_value_set_uint (value, self->header_timeout);
      break;
    case PROP_TRUSTED_PROXIES:
      g_value_set_boxed (value, self->trusted_proxies);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mesh_eio_server_dispose (GObject * object)
{
  GstMeshEioServer *self = GST_MESH_EIO_SERVER (object);

  if (self->clients) {
    GHashTableIter iter;
    gpointer value;

    gst_mesh_eio_server_close_all (self);
    /* Sessions kept alive by their users must not reach back to us. */
    g_hash_table_iter_init (&iter, self->clients);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      GST_MESH_EIO_SOCKET (value)->server = NULL;
    g_clear_pointer (&self->clients, g_hash_table_unref);
  }
  g_clear_pointer (&self->poller, gst_mesh_ws_poller_free);
  if (self->release_id) {
    GSource *idle = g_main_context_find_source_by_id (self->context,
        self->release_id);

    if (idle)
      g_source_destroy (idle);
    release_accepted_sockets (self);
  }
  gst_mesh_clear_source (&self->heartbeat);
  g_clear_pointer (&self->guard, gst_mesh_http_guard_free);
  if (self->soup) {
    soup_server_remove_handler (self->soup, self->handler_path);
    if (self->own_soup)
      soup_server_disconnect (self->soup);
    g_clear_object (&self->soup);
  }
  gst_mesh_eio_server_set_allow_request_func (self, NULL, NULL, NULL);

  G_OBJECT_CLASS (gst_mesh_eio_server_parent_class)->dispose (object);
}

static void
gst_mesh_eio_server_finalize (GObject * object)
{
  GstMeshEioServer *self = GST_MESH_EIO_SERVER (object);

  g_free (self->path);
  g_free (self->handler_path);
  g_strfreev (self->transports);
  g_strfreev (self->cors_origins);
  g_strfreev (self->trusted_proxies);
  if (self->context)
    g_main_context_unref (self->context);

  G_OBJECT_CLASS (gst_mesh_eio_server_parent_class)->finalize (object);
}

static void
gst_mesh_eio_server_class_init (GstMeshEioServerClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  debug_init ();

  gobject_class->set_property = gst_mesh_eio_server_set_property;
  gobject_class->get_property = gst_mesh_eio_server_get_property;
  gobject_class->dispose = gst_mesh_eio_server_dispose;
  gobject_class->finalize = gst_mesh_eio_server_finalize;

  /**
   * GstMeshEioServer:ping-interval:
   *
   * Milliseconds between server pings (the reference's pingInterval).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PING_INTERVAL,
      g_param_spec_uint ("ping-interval", "Ping interval",
          "Milliseconds between server pings", 1, G_MAXINT,
          DEFAULT_PING_INTERVAL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshEioServer:ping-timeout:
   *
   * Milliseconds the client has to answer a ping before its session is
   * closed with "ping timeout".
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PING_TIMEOUT,
      g_param_spec_uint ("ping-timeout", "Ping timeout",
          "Milliseconds to wait for a pong", 1, G_MAXINT,
          DEFAULT_PING_TIMEOUT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshEioServer:upgrade-timeout:
   *
   * Milliseconds a client has to complete an upgrade to WebSocket.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_UPGRADE_TIMEOUT,
      g_param_spec_uint ("upgrade-timeout", "Upgrade timeout",
          "Milliseconds to complete a transport upgrade", 1, G_MAXINT,
          DEFAULT_UPGRADE_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshEioServer:max-payload:
   *
   * Largest WebSocket message or polling POST body in bytes (the
   * reference's maxHttpBufferSize); bigger ones close the session.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MAX_PAYLOAD,
      g_param_spec_uint64 ("max-payload", "Max payload",
          "Largest message or POST body in bytes", 1, G_MAXINT64,
          DEFAULT_MAX_PAYLOAD, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshEioServer:transports:
   *
   * The transports clients may use: "polling", "websocket".
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TRANSPORTS,
      g_param_spec_boxed ("transports", "Transports",
          "Allowed transports (polling, websocket)", G_TYPE_STRV,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshEioServer:allow-upgrades:
   *
   * Whether polling sessions may upgrade to WebSocket.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ALLOW_UPGRADES,
      g_param_spec_boolean ("allow-upgrades", "Allow upgrades",
          "Whether polling sessions may upgrade to WebSocket", TRUE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshEioServer:cors-origins:
   *
   * Origins allowed by CORS; "*" allows any. %NULL (the default, as in the
   * reference) sends no CORS headers.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CORS_ORIGINS,
      g_param_spec_boxed ("cors-origins", "CORS origins",
          "Origins allowed by CORS (\"*\" for any)", G_TYPE_STRV,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshEioServer:header-timeout:
   *
   * Milliseconds a connection may take to send a whole request head, from
   * its start or from the end of its previous response; past that it is
   * shut down (slow-loris clients, half-open connections, idle
   * keep-alive). 0: no limit. Applies to every path of the SoupServer.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_HEADER_TIMEOUT,
      g_param_spec_uint ("header-timeout", "Header timeout",
          "Milliseconds to send a whole request head (0: no limit)",
          0, G_MAXUINT, DEFAULT_HEADER_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshEioServer:trusted-proxies:
   *
   * Addresses or networks ("10.0.0.1", "10.0.0.0/8") of reverse proxies:
   * a request from one of them is taken to come from the address its
   * X-Forwarded-For names (the last one that is not a trusted proxy
   * itself). %NULL (the default): X-Forwarded-For is ignored.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_TRUSTED_PROXIES,
      g_param_spec_boxed ("trusted-proxies", "Trusted proxies",
          "Proxies whose X-Forwarded-For names the client", G_TYPE_STRV,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshEioServer::connection:
   * @server: the server
   * @socket: the new session
   *
   * A client opened a session.
   */
  server_signals[SIGNAL_CONNECTION] = g_signal_new ("connection",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, GST_MESH_TYPE_EIO_SOCKET);

  /**
   * GstMeshEioServer::connection-error:
   * @server: the server
   * @code: a #GstMeshEioError
   * @message: the message sent to the client
   * @context: what exactly was wrong
   *
   * A request was refused.
   */
  server_signals[SIGNAL_CONNECTION_ERROR] = g_signal_new ("connection-error",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 3, G_TYPE_INT, G_TYPE_STRING, G_TYPE_STRING);
}

static void
gst_mesh_eio_server_init (GstMeshEioServer * self)
{
  const gchar *def[] = { "polling", "websocket", NULL };

  self->ping_interval = DEFAULT_PING_INTERVAL;
  self->ping_timeout = DEFAULT_PING_TIMEOUT;
  self->upgrade_timeout = DEFAULT_UPGRADE_TIMEOUT;
  self->header_timeout = DEFAULT_HEADER_TIMEOUT;
  self->max_payload = DEFAULT_MAX_PAYLOAD;
  self->allow_upgrades = TRUE;
  self->transports = g_strdupv ((gchar **) def);
  update_transports (self);
  self->clients = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      g_object_unref);
}
