/* gst-mesh: Socket.IO v5 client over Engine.IO v4 (libsoup 3).
 *
 * The transport is a WebSocket; when the server or a proxy on the way
 * answers the upgrade with plain HTTP (nginx's default proxying does), the
 * client says so and goes on over HTTP long-polling (gstmesheiopolling.c),
 * for the rest of its life. The "transport" property can also fix one.
 *
 * This file owns the connection life cycle: WebSocket handshake, the
 * Engine.IO open packet and heartbeat, the Socket.IO namespace handshake,
 * event and ack dispatch, and reconnection with back-off. Parsing and
 * encoding are the codec's (gstmeshpacket.c); what the events mean is the
 * caller's.
 *
 * Threading: every field below is touched only from the main context the
 * client was created in. Public calls that can come from other threads
 * (emit, ack) hop onto it with g_main_context_invoke_full().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsioclient.h"
#include "gstmeshprivate.h"
#include "gstmeshpacket.h"
#include "gstmesheiopolling.h"

#include <gst/gst.h>
#include <libsoup/soup.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mesh_sio_debug);
#define GST_CAT_DEFAULT mesh_sio_debug

/* socket.io-client's defaults: reconnectionDelay 1000, reconnectionDelayMax
 * 5000, randomizationFactor 0.5. */
#define DEFAULT_PATH "/socket.io/"
#define DEFAULT_NAMESPACE "/"
#define DEFAULT_RECONNECT TRUE
#define DEFAULT_RECONNECT_DELAY 1000
#define DEFAULT_RECONNECT_DELAY_MAX 5000
#define DEFAULT_RANDOMIZATION 0.5
#define DEFAULT_CONNECT_TIMEOUT 20000
/* Events emitted while offline wait at most this many; older ones drop
 * first, since signalling that old is stale anyway. */
#define SEND_BUFFER_MAX 512

struct _GstMeshSioClient
{
  GObject parent;

  GMainContext *context;
  gchar *url;                   /* the server tried now */
  GUri *base_uri;               /* its URI */
  gchar **urls;                 /* every server, when several are given */
  guint url_index;
  gchar *path;
  gchar *nsp;
  gchar *auth;                  /* JSON object text, or NULL */
  gboolean reconnect;
  guint reconnect_delay;
  guint reconnect_delay_max;
  gdouble randomization;
  guint connect_timeout;
  gchar *ca_file;
  gboolean tls_insecure;
  gchar *user_agent;

  SoupSession *session;
  SoupWebsocketConnection *ws;
  GInetAddress *local_address;  /* the WebSocket's own end, when known */
  gint64 probed_at;             /* monotonic µs of the last probe, or 0 */
  gboolean retry_at_once;       /* the next retry takes no back-off */
  GstMeshEioPolling *polling;
  gchar *transport;             /* "auto", "websocket" or "polling" */
  gboolean use_polling;         /* auto, after a refused upgrade */
  GCancellable *cancellable;
  GstMeshSioClientState state;
  gboolean active;              /* connect() called, disconnect() not */
  guint attempts;
  GSource *retry_source;
  GSource *heartbeat_source;
  GSource *connect_timeout_source;
  guint ping_interval;
  guint ping_timeout;
  gchar *eio_sid;
  gchar *sio_id;

  /* a BINARY_EVENT/BINARY_ACK waiting for its attachments */
  GstMeshSioPacket *partial;

  gint64 next_ack_id;
  GHashTable *pending_acks;     /* id -> PendingAck */
  GQueue send_buffer;           /* BufferedPacket* for after (re)connection */
};

enum
{
  PROP_0,
  PROP_URL,
  PROP_PATH,
  PROP_NAMESPACE,
  PROP_AUTH,
  PROP_RECONNECT,
  PROP_RECONNECT_DELAY,
  PROP_RECONNECT_DELAY_MAX,
  PROP_RANDOMIZATION,
  PROP_CONNECT_TIMEOUT,
  PROP_CA_FILE,
  PROP_TLS_INSECURE,
  PROP_STATE,
  PROP_TRANSPORT,
};

enum
{
  SIGNAL_EVENT,
  SIGNAL_STATE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_TYPE (GstMeshSioClient, gst_mesh_sio_client, G_TYPE_OBJECT);

typedef struct
{
  GstMeshSioClient *client;
  gint64 id;
  GstMeshSioAckFunc func;
  gpointer user_data;
  GDestroyNotify notify;
  GSource *timeout;
  /* FALSE while the event waits in the send buffer: losing a connection
   * it never went out on is no reason to give up on its ack */
  gboolean sent;
} PendingAck;

typedef struct
{
  gchar *text;
  gint64 ack_id;                /* GST_MESH_SIO_NO_ID when none */
} BufferedPacket;

static void start_attempt (GstMeshSioClient * self);
static void drop_connection (GstMeshSioClient * self, const gchar * why,
    gboolean retry);

GType
gst_mesh_sio_client_state_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MESH_SIO_CLIENT_STATE_DISCONNECTED, "Disconnected", "disconnected"},
    {GST_MESH_SIO_CLIENT_STATE_CONNECTING, "Connecting", "connecting"},
    {GST_MESH_SIO_CLIENT_STATE_CONNECTED, "Connected", "connected"},
    {GST_MESH_SIO_CLIENT_STATE_RECONNECTING, "Waiting to reconnect",
        "reconnecting"},
    {GST_MESH_SIO_CLIENT_STATE_FAILED, "Refused by the server", "failed"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstMeshSioClientState", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

const gchar *
gst_mesh_sio_client_state_to_string (GstMeshSioClientState state)
{
  GEnumClass *klass = g_type_class_ref (GST_TYPE_MESH_SIO_CLIENT_STATE);
  GEnumValue *v = g_enum_get_value (klass, state);
  const gchar *nick = v ? v->value_nick : "unknown";

  g_type_class_unref (klass);
  return nick;
}

/* ------------------------------------------------------------------------ */

static void
set_state (GstMeshSioClient * self, GstMeshSioClientState state,
    const gchar * detail)
{
  if (self->state == state)
    return;
  self->state = state;
  GST_INFO_OBJECT (self, "%s: %s", gst_mesh_sio_client_state_to_string (state),
      detail ? detail : "");
  g_object_notify (G_OBJECT (self), "state");
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, state, detail);
}

static GSource *
add_timeout (GstMeshSioClient * self, guint ms, GSourceFunc func)
{
  GSource *s = g_timeout_source_new (ms);

  g_source_set_callback (s, func, self, NULL);
  g_source_attach (s, self->context);
  return s;
}

static void
pending_ack_free (PendingAck * ack)
{
  gst_mesh_clear_source (&ack->timeout);
  if (ack->notify)
    ack->notify (ack->user_data);
  g_free (ack);
}

static void
buffered_packet_free (BufferedPacket * b)
{
  g_free (b->text);
  g_free (b);
}

/* Forgets the buffered event that waits for ack @id, so that an ack given
 * up on is not asked for later (socket.io-client does the same). */
static void
unbuffer_ack (GstMeshSioClient * self, gint64 id)
{
  GList *l;

  for (l = self->send_buffer.head; l; l = l->next) {
    BufferedPacket *b = l->data;
    if (b->ack_id == id) {
      buffered_packet_free (b);
      g_queue_delete_link (&self->send_buffer, l);
      return;
    }
  }
}

/* Fails the acks of events sent on the connection that is going away, or
 * every ack (and forgets their buffered events) when @all. */
static void
fail_pending_acks (GstMeshSioClient * self, const gchar * why, gboolean all)
{
  GHashTableIter iter;
  PendingAck *ack;
  GQueue failed = G_QUEUE_INIT;
  GError *error = g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
      "no acknowledgement: %s", why);

  /* socket.io-client keeps acks across reconnections, but an ack can only
   * come on the connection that carried the event: fail them now rather
   * than leaving callers to a timeout. Collected first, since a callback
   * may emit again and so change the table. */
  g_hash_table_iter_init (&iter, self->pending_acks);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & ack)) {
    if (!all && !ack->sent)
      continue;
    g_hash_table_iter_steal (&iter);
    if (!ack->sent)
      unbuffer_ack (self, ack->id);
    g_queue_push_tail (&failed, ack);
  }
  while ((ack = g_queue_pop_head (&failed))) {
    if (ack->func)
      ack->func (self, NULL, error, ack->user_data);
    pending_ack_free (ack);
  }
  g_error_free (error);
}

static void
mark_ack_sent (GstMeshSioClient * self, gint64 id)
{
  PendingAck *ack;

  if (id != GST_MESH_SIO_NO_ID &&
      (ack = g_hash_table_lookup (self->pending_acks, &id)))
    ack->sent = TRUE;
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                  */

static gboolean
transport_open (GstMeshSioClient * self)
{
  return self->ws || gst_mesh_eio_polling_is_open (self->polling);
}

/* One Engine.IO packet's text, on whichever transport there is. */
static void
transport_send_text (GstMeshSioClient * self, const gchar * text)
{
  GST_LOG_OBJECT (self, "> %s", text);
  if (self->ws)
    soup_websocket_connection_send_text (self->ws, text);
  else if (self->polling)
    gst_mesh_eio_polling_send (self->polling, text);
}

/* Sends a Socket.IO packet text inside an Engine.IO message. */
static void
send_sio (GstMeshSioClient * self, const gchar * sio_text)
{
  gchar *eio = g_strconcat ("4", sio_text, NULL);

  transport_send_text (self, eio);
  g_free (eio);
}

static void
send_or_buffer (GstMeshSioClient * self, gchar * sio_text, gint64 ack_id)
{
  BufferedPacket *b;

  if (self->state == GST_MESH_SIO_CLIENT_STATE_CONNECTED
      && transport_open (self)) {
    send_sio (self, sio_text);
    mark_ack_sent (self, ack_id);
    g_free (sio_text);
    return;
  }
  b = g_new0 (BufferedPacket, 1);
  b->text = sio_text;
  b->ack_id = ack_id;
  g_queue_push_tail (&self->send_buffer, b);
  while (self->send_buffer.length > SEND_BUFFER_MAX) {
    PendingAck *ack = NULL;

    b = g_queue_pop_head (&self->send_buffer);
    GST_WARNING_OBJECT (self, "send buffer full, dropping %.60s", b->text);
    /* its ack would never come: say so now */
    if (b->ack_id != GST_MESH_SIO_NO_ID &&
        g_hash_table_steal_extended (self->pending_acks, &b->ack_id, NULL,
            (gpointer *) & ack)) {
      GError *error = g_error_new (G_IO_ERROR, G_IO_ERROR_NO_SPACE,
          "no acknowledgement: more than %d events waiting for the "
          "connection, this one was dropped", SEND_BUFFER_MAX);
      if (ack->func)
        ack->func (self, NULL, error, ack->user_data);
      g_error_free (error);
      pending_ack_free (ack);
    }
    buffered_packet_free (b);
  }
}

static void
flush_send_buffer (GstMeshSioClient * self)
{
  BufferedPacket *b;

  while ((b = g_queue_pop_head (&self->send_buffer))) {
    send_sio (self, b->text);
    mark_ack_sent (self, b->ack_id);
    buffered_packet_free (b);
  }
}

/* ------------------------------------------------------------------------ */
/* Heartbeat: the server pings every pingInterval; no ping for
 * pingInterval + pingTimeout means the connection is dead even if TCP has
 * not noticed yet. */

static gboolean
heartbeat_expired (gpointer user_data)
{
  GstMeshSioClient *self = user_data;
  gchar *why = g_strdup_printf ("no ping from the server for %u ms",
      self->ping_interval + self->ping_timeout);

  g_source_unref (self->heartbeat_source);
  self->heartbeat_source = NULL;
  drop_connection (self, why, TRUE);
  g_free (why);
  return G_SOURCE_REMOVE;
}

static void
reset_heartbeat (GstMeshSioClient * self)
{
  gst_mesh_clear_source (&self->heartbeat_source);
  if (self->ping_interval + self->ping_timeout > 0)
    self->heartbeat_source = add_timeout (self,
        self->ping_interval + self->ping_timeout, heartbeat_expired);
}

/* ------------------------------------------------------------------------ */
/* Receiving                                                                */

static void
dispatch_sio (GstMeshSioClient * self, GstMeshSioPacket * packet)
{
  if (g_strcmp0 (packet->nsp, self->nsp) != 0) {
    GST_DEBUG_OBJECT (self, "ignoring packet for namespace %s", packet->nsp);
    return;
  }

  switch (packet->type) {
    case GST_MESH_SIO_CONNECT:{
      JsonObject *obj = packet->data && JSON_NODE_HOLDS_OBJECT (packet->data) ?
          json_node_get_object (packet->data) : NULL;
      const gchar *sid = obj && json_object_has_member (obj, "sid") ?
          json_object_get_string_member_with_default (obj, "sid", NULL) : NULL;
      gchar *detail;

      g_free (self->sio_id);
      self->sio_id = g_strdup (sid);
      self->attempts = 0;
      gst_mesh_clear_source (&self->connect_timeout_source);
      detail = g_strdup_printf ("connected to %s as %s", self->url,
          sid ? sid : "(no id)");
      set_state (self, GST_MESH_SIO_CLIENT_STATE_CONNECTED, detail);
      g_free (detail);
      flush_send_buffer (self);
      break;
    }
    case GST_MESH_SIO_CONNECT_ERROR:{
      gchar *why = NULL;

      if (packet->data && JSON_NODE_HOLDS_OBJECT (packet->data))
        why = g_strdup (json_object_get_string_member_with_default
            (json_node_get_object (packet->data), "message", "refused"));
      else if (packet->data && JSON_NODE_HOLDS_VALUE (packet->data))
        why = g_strdup (json_node_get_string (packet->data));
      if (!why)
        why = g_strdup ("refused");
      /* Like socket.io-client: a refusal by the server's middleware is not
       * retried, since retrying would be refused the same way. */
      self->active = FALSE;
      drop_connection (self, NULL, FALSE);
      {
        gchar *detail = g_strdup_printf ("the server refused namespace %s: %s",
            self->nsp, why);
        set_state (self, GST_MESH_SIO_CLIENT_STATE_FAILED, detail);
        g_free (detail);
      }
      g_free (why);
      break;
    }
    case GST_MESH_SIO_DISCONNECT:
      self->active = FALSE;
      drop_connection (self, NULL, FALSE);
      set_state (self, GST_MESH_SIO_CLIENT_STATE_FAILED,
          "the server disconnected us");
      break;
    case GST_MESH_SIO_EVENT:
    case GST_MESH_SIO_BINARY_EVENT:{
      const gchar *name = gst_mesh_sio_packet_get_event_name (packet);
      JsonArray *args = gst_mesh_sio_packet_dup_event_args (packet);

      if (name) {
        GST_DEBUG_OBJECT (self, "event '%s' (%u args, ack %" G_GINT64_FORMAT
            ")", name, json_array_get_length (args), packet->id);
        g_signal_emit (self, signals[SIGNAL_EVENT], g_quark_try_string (name),
            name, args, packet->id);
      }
      json_array_unref (args);
      break;
    }
    case GST_MESH_SIO_ACK:
    case GST_MESH_SIO_BINARY_ACK:{
      PendingAck *ack = NULL;

      if (g_hash_table_steal_extended (self->pending_acks, &packet->id, NULL,
              (gpointer *) & ack)) {
        JsonArray *args = json_node_get_array (packet->data);
        if (ack->func)
          ack->func (self, args, NULL, ack->user_data);
        pending_ack_free (ack);
      } else {
        GST_DEBUG_OBJECT (self, "ack %" G_GINT64_FORMAT " nobody waits for",
            packet->id);
      }
      break;
    }
  }
}

/* A duration from the open packet; a negative, absurd or non-numeric one
 * gets the default rather than a wrapped-around timer. */
static guint
get_ms_member (JsonObject * obj, const gchar * name, guint dflt)
{
  JsonNode *node = json_object_get_member (obj, name);
  gint64 v;

  if (!node || !JSON_NODE_HOLDS_VALUE (node) ||
      (json_node_get_value_type (node) != G_TYPE_INT64 &&
          json_node_get_value_type (node) != G_TYPE_DOUBLE))
    return dflt;
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE) {
    gdouble d = json_node_get_double (node);
    if (!(d >= 0 && d <= G_MAXINT / 4))
      return dflt;
    v = (gint64) d;
  } else {
    v = json_node_get_int (node);
  }
  if (v < 0 || v > G_MAXINT / 4)
    return dflt;
  return (guint) v;
}

static void
handle_open (GstMeshSioClient * self, const gchar * json, gsize len)
{
  JsonParser *parser = json_parser_new ();
  GError *error = NULL;
  JsonObject *obj;
  gchar *connect;

  /* The open packet starts the session; another one on the same
   * connection is a confused server, not a reason to handshake again or
   * to drop a working connection. */
  if (self->eio_sid) {
    GST_WARNING_OBJECT (self, "ignoring a second Engine.IO open packet from "
        "%s", self->url);
    g_object_unref (parser);
    return;
  }
  if (!json_parser_load_from_data (parser, json, len, &error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    gchar *why = g_strdup_printf ("bad Engine.IO open packet: %s",
        error ? error->message : "not a JSON object");
    g_clear_error (&error);
    g_object_unref (parser);
    drop_connection (self, why, TRUE);
    g_free (why);
    return;
  }
  obj = json_node_get_object (json_parser_get_root (parser));
  g_free (self->eio_sid);
  self->eio_sid = g_strdup (json_object_get_string_member_with_default (obj,
          "sid", ""));
  self->ping_interval = get_ms_member (obj, "pingInterval", 25000);
  self->ping_timeout = get_ms_member (obj, "pingTimeout", 20000);
  g_object_unref (parser);
  GST_DEBUG_OBJECT (self, "engine.io open: sid %s, ping %u+%u ms",
      self->eio_sid, self->ping_interval, self->ping_timeout);
  reset_heartbeat (self);

  /* Socket.IO handshake: "0" [nsp ","] [auth] */
  if (g_strcmp0 (self->nsp, "/") == 0)
    connect = g_strdup_printf ("0%s", self->auth ? self->auth : "");
  else
    connect = g_strdup_printf ("0%s,%s", self->nsp,
        self->auth ? self->auth : "");
  send_sio (self, connect);
  g_free (connect);
}

static void handle_eio (GstMeshSioClient * self, GstMeshEioPacket * eio);

/* A binary message: the next attachment of the packet waiting for it. */
static void
handle_binary (GstMeshSioClient * self, GBytes * message)
{
  GstMeshSioPacket *p;

  if (!self->partial) {
    GST_WARNING_OBJECT (self, "binary message (%" G_GSIZE_FORMAT
        " bytes) with no binary packet waiting for it, ignored",
        g_bytes_get_size (message));
    return;
  }
  if (gst_mesh_sio_packet_add_attachment (self->partial, message)) {
    p = self->partial;
    self->partial = NULL;
    dispatch_sio (self, p);
    gst_mesh_sio_packet_free (p);
  }
}

static void
on_ws_message (SoupWebsocketConnection * ws, gint type, GBytes * message,
    gpointer user_data)
{
  GstMeshSioClient *self = user_data;
  GstMeshEioPacket *eio;
  GError *error = NULL;
  gsize len;
  const gchar *data = g_bytes_get_data (message, &len);

  if (type == SOUP_WEBSOCKET_DATA_BINARY) {
    handle_binary (self, message);
    return;
  }

  GST_LOG_OBJECT (self, "< %.*s", (int) MIN (len, 400), data);
  eio = gst_mesh_eio_packet_decode (data, len, &error);
  if (!eio) {
    GST_WARNING_OBJECT (self, "ignoring bad Engine.IO packet from %s: %s",
        self->url, error->message);
    g_error_free (error);
    return;
  }
  handle_eio (self, eio);
  gst_mesh_eio_packet_free (eio);
}

/* One Engine.IO packet from either transport. */
static void
handle_eio (GstMeshSioClient * self, GstMeshEioPacket * eio)
{
  GError *error = NULL;

  if (eio->binary) {
    handle_binary (self, eio->data);
    return;
  }
  switch (eio->type) {
    case GST_MESH_EIO_OPEN:{
      gsize plen;
      const gchar *p = gst_mesh_eio_packet_get_text (eio, &plen);
      handle_open (self, p, plen);
      break;
    }
    case GST_MESH_EIO_PING:
      reset_heartbeat (self);
      transport_send_text (self, "3");
      break;
    case GST_MESH_EIO_CLOSE:
      drop_connection (self, "the server closed the Engine.IO session", TRUE);
      break;
    case GST_MESH_EIO_MESSAGE:{
      gsize plen;
      const gchar *p = gst_mesh_eio_packet_get_text (eio, &plen);
      GstMeshSioPacket *sio = gst_mesh_sio_packet_decode (p, plen, &error);

      if (!sio) {
        GST_WARNING_OBJECT (self, "ignoring bad Socket.IO packet from %s: %s",
            self->url, error->message);
        g_error_free (error);
        break;
      }
      if (!gst_mesh_sio_packet_is_complete (sio)) {
        if (self->partial)
          gst_mesh_sio_packet_free (self->partial);
        self->partial = sio;
        break;
      }
      dispatch_sio (self, sio);
      gst_mesh_sio_packet_free (sio);
      break;
    }
    default:
      /* pong, upgrade, noop: nothing to do without upgrades */
      break;
  }
}

/* ------------------------------------------------------------------------ */
/* Connection life cycle                                                    */

static gboolean
retry_cb (gpointer user_data)
{
  GstMeshSioClient *self = user_data;

  g_source_unref (self->retry_source);
  self->retry_source = NULL;
  start_attempt (self);
  return G_SOURCE_REMOVE;
}

/* socket.io-client's Backoff: min * 2^attempts, randomised by +-factor,
 * capped at max. */
static guint
next_delay (GstMeshSioClient * self)
{
  gdouble ms = self->reconnect_delay * ldexp (1.0, MIN (self->attempts, 30));

  if (self->randomization > 0) {
    gdouble rand = g_random_double ();
    gdouble deviation = floor (rand * self->randomization * ms);
    ms = (((gint) floor (rand * 10)) & 1) == 0 ? ms - deviation :
        ms + deviation;
  }
  return (guint) CLAMP (ms, 0, self->reconnect_delay_max);
}

static gboolean parse_url (const gchar * url, GUri ** out, GError ** error);

/* With several servers, the next one after each failure, round and round */
static void
next_server (GstMeshSioClient * self)
{
  guint n = self->urls ? g_strv_length (self->urls) : 0;
  GUri *uri = NULL;

  if (n < 2)
    return;
  self->url_index = (self->url_index + 1) % n;
  g_free (self->url);
  self->url = g_strdup (self->urls[self->url_index]);
  if (parse_url (self->url, &uri, NULL)) {
    g_clear_pointer (&self->base_uri, g_uri_unref);
    self->base_uri = uri;
  }
}

static void
schedule_retry (GstMeshSioClient * self, const gchar * why)
{
  guint delay = self->retry_at_once ? 0 : next_delay (self);
  gchar *detail;

  self->retry_at_once = FALSE;

  self->attempts++;
  next_server (self);
  detail = g_strdup_printf ("%s; reconnecting in %u ms to %s (attempt %u)",
      why, delay, self->url, self->attempts);
  GST_WARNING_OBJECT (self, "%s", detail);
  set_state (self, GST_MESH_SIO_CLIENT_STATE_RECONNECTING, detail);
  g_free (detail);
  gst_mesh_clear_source (&self->retry_source);
  self->retry_source = add_timeout (self, delay, retry_cb);
}

/* Forgets the current connection. With @why set, says so, and retries when
 * @retry and reconnection is on. */
static void
drop_connection (GstMeshSioClient * self, const gchar * why, gboolean retry)
{
  gst_mesh_clear_source (&self->heartbeat_source);
  gst_mesh_clear_source (&self->connect_timeout_source);
  if (self->cancellable) {
    g_cancellable_cancel (self->cancellable);
    g_clear_object (&self->cancellable);
  }
  if (self->ws) {
    SoupWebsocketConnection *ws = self->ws;
    self->ws = NULL;
    g_signal_handlers_disconnect_by_data (ws, self);
    if (soup_websocket_connection_get_state (ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref (ws);
  }
  g_clear_pointer (&self->polling, gst_mesh_eio_polling_free);
  g_clear_object (&self->local_address);
  if (self->partial) {
    gst_mesh_sio_packet_free (self->partial);
    self->partial = NULL;
  }
  g_clear_pointer (&self->sio_id, g_free);
  g_clear_pointer (&self->eio_sid, g_free);
  /* an active client reconnects and sends what is still buffered then */
  fail_pending_acks (self, why ? why : "disconnected", !self->active);

  if (!why)
    return;
  if (retry && self->active && self->reconnect)
    schedule_retry (self, why);
  else
    set_state (self, self->active ? GST_MESH_SIO_CLIENT_STATE_FAILED :
        GST_MESH_SIO_CLIENT_STATE_DISCONNECTED, why);
}

/* A session that broke (a reset, no close from the server) right after
 * we probed it because a call fell silent is tried again at once: our
 * network changed, the server did nothing wrong, and a call waits for it.
 * Once: what fails after that backs off as socket.io-client does. Any
 * other loss backs off from the first attempt, so that the clients of a
 * server that restarts do not all come back in the same instant. */
#define PROBE_WINDOW_US (5 * G_USEC_PER_SEC)
static void
retry_at_once_if_lost (GstMeshSioClient * self, gboolean lost)
{
  self->retry_at_once = lost && self->sio_id && self->attempts == 0 &&
      self->probed_at &&
      g_get_monotonic_time () - self->probed_at < PROBE_WINDOW_US;
  self->probed_at = 0;
}

static void
on_ws_closed (SoupWebsocketConnection * ws, gpointer user_data)
{
  GstMeshSioClient *self = user_data;
  gushort code = soup_websocket_connection_get_close_code (ws);
  gchar *why = g_strdup_printf ("connection to %s closed (code %u)",
      self->url, code);

  retry_at_once_if_lost (self, code == 0
      || code == SOUP_WEBSOCKET_CLOSE_ABNORMAL);
  drop_connection (self, why, TRUE);
  g_free (why);
}

static void
on_ws_error (SoupWebsocketConnection * ws, GError * error, gpointer user_data)
{
  GstMeshSioClient *self = user_data;

  GST_WARNING_OBJECT (self, "WebSocket error on %s: %s", self->url,
      error->message);
}

/* The local address under a connection's stream (TLS and libsoup wrap
 * the socket connection), or NULL. */
static GInetAddress *
stream_local_address (GIOStream * io)
{
  for (gint depth = 0; io && depth < 4; depth++) {
    GObjectClass *k = G_OBJECT_GET_CLASS (io);
    GIOStream *base = NULL;
    const gchar *prop = NULL;

    if (G_IS_SOCKET_CONNECTION (io)) {
      GSocketAddress *a =
          g_socket_connection_get_local_address (G_SOCKET_CONNECTION (io),
          NULL);
      GInetAddress *ia = NULL;

      if (G_IS_INET_SOCKET_ADDRESS (a))
        ia = g_object_ref (g_inet_socket_address_get_address
            (G_INET_SOCKET_ADDRESS (a)));
      g_clear_object (&a);
      return ia;
    }
    if (g_object_class_find_property (k, "base-io-stream"))
      prop = "base-io-stream";
    else if (g_object_class_find_property (k, "base-iostream"))
      prop = "base-iostream";
    if (!prop)
      return NULL;
    g_object_get (io, prop, &base, NULL);
    if (!base)
      return NULL;
    g_object_unref (base);      /* io holds it */
    io = base;
  }
  return NULL;
}

/* Whether @address is still one of this host's (getifaddrs). */
static gboolean
address_is_local (GInetAddress * address)
{
  struct ifaddrs *list, *i;
  gboolean found = FALSE;

  if (g_inet_address_get_is_loopback (address))
    return TRUE;
  if (getifaddrs (&list) != 0)
    return TRUE;                /* cannot tell: assume it is */
  for (i = list; i && !found; i = i->ifa_next) {
    GSocketAddress *sa;

    if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
            i->ifa_addr->sa_family != AF_INET6))
      continue;
    sa = g_socket_address_new_from_native (i->ifa_addr,
        i->ifa_addr->sa_family == AF_INET ? sizeof (struct sockaddr_in) :
        sizeof (struct sockaddr_in6));
    if (G_IS_INET_SOCKET_ADDRESS (sa))
      found = g_inet_address_equal (address,
          g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa)));
    g_clear_object (&sa);
  }
  freeifaddrs (list);
  return found;
}

static gboolean
check_connection_in_context (gpointer user_data)
{
  GstMeshSioClient *self = user_data;
  gchar *address, *why;

  if (!self->active || !transport_open (self))
    return G_SOURCE_REMOVE;
  if (!self->local_address || address_is_local (self->local_address)) {
    /* The address is there, but the path may not be: a NAT that changed
     * its mapping (or its public address) answers the next segment of
     * this connection with a reset. An Engine.IO noop, which servers
     * ignore, is that segment: a broken connection closes now, not at
     * the next ping. */
    GST_DEBUG_OBJECT (self, "probing the connection to %s", self->url);
    self->probed_at = g_get_monotonic_time ();
    transport_send_text (self, "6");
    return G_SOURCE_REMOVE;
  }
  address = g_inet_address_to_string (self->local_address);
  why = g_strdup_printf ("this host's address %s, which the connection to "
      "%s used, is gone; reconnecting now", address, self->url);
  /* nothing will ever come back on it, and the server's pings would take
   * their interval and timeout to tell: a new connection, now (no back-off:
   * the server did nothing wrong) */
  GST_WARNING_OBJECT (self, "%s", why);
  drop_connection (self, NULL, FALSE);
  set_state (self, GST_MESH_SIO_CLIENT_STATE_RECONNECTING, why);
  gst_mesh_clear_source (&self->retry_source);
  start_attempt (self);
  g_free (why);
  g_free (address);
  return G_SOURCE_REMOVE;
}

static void
on_ws_connected (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstMeshSioClient *self = user_data;
  GError *error = NULL;
  SoupWebsocketConnection *ws =
      soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      &error);

  if (!ws) {
    if (g_error_matches (error, SOUP_WEBSOCKET_ERROR,
            SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET)
        && g_str_equal (self->transport, "auto")) {
      /* Answered, but not with 101: a proxy that does not pass Upgrade on
       * (nginx by default), or a server without WebSockets. */
      GST_WARNING_OBJECT (self, "%s did not take the WebSocket upgrade (%s): "
          "using HTTP long-polling", self->url, error->message);
      self->use_polling = TRUE;
      g_clear_object (&self->cancellable);
      start_attempt (self);
    } else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      gchar *why = g_strdup_printf ("cannot connect to %s: %s", self->url,
          error->message);
      drop_connection (self, why, TRUE);
      g_free (why);
    }
    g_error_free (error);
    g_object_unref (self);
    return;
  }

  g_clear_object (&self->cancellable);
  self->ws = ws;
  g_clear_object (&self->local_address);
  self->local_address =
      stream_local_address (soup_websocket_connection_get_io_stream (ws));
  /* Offers carry several kB of SDP; the default 128 kB limit is ample but
   * the server's maxPayload is what really bounds us. */
  soup_websocket_connection_set_max_incoming_payload_size (ws, 16 * 1024 *
      1024);
  soup_websocket_connection_set_keepalive_interval (ws, 0);
  g_signal_connect (ws, "message", G_CALLBACK (on_ws_message), self);
  g_signal_connect (ws, "closed", G_CALLBACK (on_ws_closed), self);
  g_signal_connect (ws, "error", G_CALLBACK (on_ws_error), self);
  GST_DEBUG_OBJECT (self, "WebSocket open to %s", self->url);
  g_object_unref (self);
}

static gboolean
on_accept_certificate (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  GstMeshSioClient *self = user_data;

  if (!self->tls_insecure) {
    GST_INFO_OBJECT (self, "refusing a TLS certificate that does not verify "
        "(flags 0x%x)", errors);
    return FALSE;
  }
  GST_WARNING_OBJECT (self, "accepting a TLS certificate that does not "
      "verify (flags 0x%x) because tls-insecure is set", errors);
  return TRUE;
}

static gboolean
connect_timed_out (gpointer user_data)
{
  GstMeshSioClient *self = user_data;
  gchar *why = g_strdup_printf ("no Socket.IO handshake with %s within %u ms",
      self->url, self->connect_timeout);

  g_source_unref (self->connect_timeout_source);
  self->connect_timeout_source = NULL;
  drop_connection (self, why, TRUE);
  g_free (why);
  return G_SOURCE_REMOVE;
}

static gboolean
ensure_session (GstMeshSioClient * self, GError ** error)
{
  if (self->session)
    return TRUE;
  self->session = soup_session_new_with_options ("user-agent",
      self->user_agent, "timeout", 0, "idle-timeout", 0, NULL);
  if (self->ca_file) {
    /* GLib's file database takes absolute paths only: a relative one
     * loads, trusts nothing, and every certificate is then refused
     * (found by tests/check/tls.c) */
    gchar *path = g_canonicalize_filename (self->ca_file, NULL);
    GTlsDatabase *db = g_tls_file_database_new (path, error);

    g_free (path);
    if (!db) {
      g_clear_object (&self->session);
      return FALSE;
    }
    soup_session_set_tls_database (self->session, db);
    g_object_unref (db);
  }
  return TRUE;
}

static void
on_polling_packet (GstMeshEioPacket * packet, gpointer user_data)
{
  handle_eio (user_data, packet);
}

static void
on_polling_failed (const gchar * why, gpointer user_data)
{
  GstMeshSioClient *self = user_data;
  gchar *detail = g_strdup_printf ("long-polling with %s: %s", self->url,
      why);

  retry_at_once_if_lost (self, TRUE);
  drop_connection (self, detail, TRUE);
  g_free (detail);
}

static gchar *engine_url (GstMeshSioClient * self, gboolean websocket);

static void
start_polling (GstMeshSioClient * self)
{
  gchar *url = engine_url (self, FALSE);

  set_state (self, GST_MESH_SIO_CLIENT_STATE_CONNECTING, url);
  gst_mesh_clear_source (&self->connect_timeout_source);
  if (self->connect_timeout)
    self->connect_timeout_source = add_timeout (self, self->connect_timeout,
        connect_timed_out);
  self->polling = gst_mesh_eio_polling_new (self->session, url,
      self->tls_insecure, on_polling_packet, on_polling_failed, self);
  g_free (url);
}

static void
start_attempt (GstMeshSioClient * self)
{
  SoupMessage *msg;
  gchar *ws_url;
  GError *error = NULL;

  if (!self->active)
    return;

  if (!ensure_session (self, &error)) {
    gchar *why = g_strdup_printf ("cannot load CA file %s: %s",
        self->ca_file, error->message);
    g_error_free (error);
    drop_connection (self, why, FALSE);
    g_free (why);
    return;
  }

  if (self->use_polling || g_str_equal (self->transport, "polling")) {
    start_polling (self);
    return;
  }

  ws_url = gst_mesh_sio_client_get_websocket_url (self);
  msg = soup_message_new (SOUP_METHOD_GET, ws_url);
  if (!msg) {
    gchar *why = g_strdup_printf ("bad WebSocket URL %s", ws_url);
    drop_connection (self, why, FALSE);
    g_free (why);
    g_free (ws_url);
    return;
  }
  g_signal_connect (msg, "accept-certificate",
      G_CALLBACK (on_accept_certificate), self);
  set_state (self, GST_MESH_SIO_CLIENT_STATE_CONNECTING, ws_url);
  g_free (ws_url);

  self->cancellable = g_cancellable_new ();
  gst_mesh_clear_source (&self->connect_timeout_source);
  if (self->connect_timeout)
    self->connect_timeout_source = add_timeout (self, self->connect_timeout,
        connect_timed_out);
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, self->cancellable, on_ws_connected,
      g_object_ref (self));
  g_object_unref (msg);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */

static gboolean
parse_url (const gchar * url, GUri ** out, GError ** error)
{
  GUri *uri;
  const gchar *scheme, *host, *p;

  if (!url || !*url) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "no signalling server URL given");
    return FALSE;
  }
  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, error);
  if (!uri) {
    g_prefix_error (error, "bad signalling server URL '%s': ", url);
    return FALSE;
  }
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") && g_ascii_strcasecmp (scheme, "https")
      && g_ascii_strcasecmp (scheme, "ws") && g_ascii_strcasecmp (scheme, "wss")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "bad signalling server URL '%s': scheme must be http, https, ws or "
        "wss, not '%s'", url, scheme);
    g_uri_unref (uri);
    return FALSE;
  }
  host = g_uri_get_host (uri);
  if (!host || !*host) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "bad signalling server URL '%s': no host", url);
    g_uri_unref (uri);
    return FALSE;
  }
  /* GUri takes any byte in a host; catch the typo now rather than as a
   * name lookup failing on every reconnection attempt */
  for (p = host; *p; p++) {
    if (g_ascii_iscntrl (*p) || g_ascii_isspace (*p) ||
        strchr ("<>\"{}|\\^`/?#@", *p)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "bad signalling server URL '%s': invalid character '%c' in host "
          "'%s'", url, *p, host);
      g_uri_unref (uri);
      return FALSE;
    }
  }
  *out = uri;
  return TRUE;
}

/* "URL1,URL2,...": several servers, tried in turn (failover). Each one is
 * checked; @first gets the first one's URI. */
static gchar **
parse_urls (const gchar * list, GUri ** first, GError ** error)
{
  gchar **urls = g_strsplit (list ? list : "", ",", -1);
  guint n = 0;

  for (guint i = 0; urls[i]; i++) {
    GUri *uri = NULL;

    g_strstrip (urls[i]);
    if (!parse_url (urls[i], &uri, error)) {
      g_strfreev (urls);
      return NULL;
    }
    if (n++ == 0)
      *first = uri;
    else
      g_uri_unref (uri);
  }
  if (n == 0) {
    g_strfreev (urls);
    return NULL;
  }
  return urls;
}

GstMeshSioClient *
gst_mesh_sio_client_new (const gchar * url, GError ** error)
{
  GUri *uri = NULL;
  GstMeshSioClient *self;
  gchar **urls;

  if (!url || !*url) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "no signalling server URL given");
    return NULL;
  }
  if (!(urls = parse_urls (url, &uri, error)))
    return NULL;
  g_strfreev (urls);
  self = g_object_new (GST_TYPE_MESH_SIO_CLIENT, "url", url, NULL);
  g_uri_unref (uri);
  return self;
}

/* The Engine.IO URL of the server: ws(s)://…?EIO=4&transport=websocket,
 * or http(s)://…&transport=polling. */
static gchar *
engine_url (GstMeshSioClient * self, gboolean websocket)
{
  gboolean tls;
  const gchar *query;
  GString *q;
  GUri *uri;
  gchar *s;

  tls = !g_ascii_strcasecmp (g_uri_get_scheme (self->base_uri), "https")
      || !g_ascii_strcasecmp (g_uri_get_scheme (self->base_uri), "wss");

  /* Keep the user's query (socket.io-client does), then Engine.IO's. */
  q = g_string_new (NULL);
  query = g_uri_get_query (self->base_uri);
  if (query && *query)
    g_string_append_printf (q, "%s&", query);
  g_string_append (q, websocket ? "EIO=4&transport=websocket" :
      "EIO=4&transport=polling");

  uri = g_uri_build (G_URI_FLAGS_ENCODED, websocket ? (tls ? "wss" : "ws") :
      (tls ? "https" : "http"), NULL, g_uri_get_host (self->base_uri),
      g_uri_get_port (self->base_uri), self->path, q->str, NULL);
  s = g_uri_to_string (uri);
  g_uri_unref (uri);
  g_string_free (q, TRUE);
  return s;
}

gchar *
gst_mesh_sio_client_get_websocket_url (GstMeshSioClient * self)
{
  g_return_val_if_fail (GST_IS_MESH_SIO_CLIENT (self), NULL);
  g_return_val_if_fail (self->base_uri != NULL, NULL);

  return engine_url (self, TRUE);
}

void
gst_mesh_sio_client_connect (GstMeshSioClient * self)
{
  g_return_if_fail (GST_IS_MESH_SIO_CLIENT (self));

  if (self->active)
    return;
  self->active = TRUE;
  self->attempts = 0;
  start_attempt (self);
}

void
gst_mesh_sio_client_disconnect (GstMeshSioClient * self)
{
  g_return_if_fail (GST_IS_MESH_SIO_CLIENT (self));

  self->active = FALSE;
  gst_mesh_clear_source (&self->retry_source);
  if (transport_open (self)
      && self->state == GST_MESH_SIO_CLIENT_STATE_CONNECTED) {
    /* say goodbye to the namespace, as socket.disconnect() does */
    gchar *bye = g_strcmp0 (self->nsp, "/") ? g_strdup_printf ("1%s,",
        self->nsp) : g_strdup ("1");
    send_sio (self, bye);
    g_free (bye);
  }
  drop_connection (self, "disconnected by the application", FALSE);
}

GstMeshSioClientState
gst_mesh_sio_client_get_state (GstMeshSioClient * self)
{
  g_return_val_if_fail (GST_IS_MESH_SIO_CLIENT (self),
      GST_MESH_SIO_CLIENT_STATE_DISCONNECTED);
  return self->state;
}

gchar *
gst_mesh_sio_client_dup_id (GstMeshSioClient * self)
{
  g_return_val_if_fail (GST_IS_MESH_SIO_CLIENT (self), NULL);
  return g_strdup (self->sio_id);
}

void
gst_mesh_sio_client_check_connection (GstMeshSioClient * self)
{
  g_return_if_fail (GST_IS_MESH_SIO_CLIENT (self));
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT,
      check_connection_in_context, g_object_ref (self), g_object_unref);
}

typedef struct
{
  GstMeshSioClient *client;
  gchar *event;
  JsonArray *args;
  gint64 ack_id;                /* for ack(): the id we answer */
  gboolean is_ack;
  guint timeout_ms;
  GstMeshSioAckFunc func;
  gpointer user_data;
  GDestroyNotify notify;
} EmitData;

static void
emit_data_free (EmitData * d)
{
  g_object_unref (d->client);
  g_free (d->event);
  if (d->args)
    json_array_unref (d->args);
  if (d->notify)
    d->notify (d->user_data);
  g_free (d);
}

static gboolean
ack_timed_out (gpointer user_data)
{
  PendingAck *ack = user_data;
  GstMeshSioClient *self = ack->client;
  GError *error;

  if (!g_hash_table_steal (self->pending_acks, &ack->id))
    return G_SOURCE_REMOVE;
  g_source_unref (ack->timeout);
  ack->timeout = NULL;
  if (!ack->sent)
    unbuffer_ack (self, ack->id);
  error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
      "no acknowledgement for ack id %" G_GINT64_FORMAT, ack->id);
  if (ack->func)
    ack->func (self, NULL, error, ack->user_data);
  g_error_free (error);
  pending_ack_free (ack);
  return G_SOURCE_REMOVE;
}

static gboolean
emit_in_context (gpointer user_data)
{
  EmitData *d = user_data;
  GstMeshSioClient *self = d->client;
  GstMeshSioPacket *packet;
  gint64 id = GST_MESH_SIO_NO_ID;

  if (d->is_ack) {
    JsonNode *node = json_node_new (JSON_NODE_ARRAY);

    if (d->args)
      json_node_set_array (node, d->args);
    else
      json_node_take_array (node, json_array_new ());
    packet = gst_mesh_sio_packet_new (GST_MESH_SIO_ACK, self->nsp, d->ack_id,
        node);
    json_node_unref (node);
    /* an ack only makes sense on the connection that asked for it */
    if (self->state == GST_MESH_SIO_CLIENT_STATE_CONNECTED
        && transport_open (self)) {
      gchar *text = gst_mesh_sio_packet_encode (packet);
      send_sio (self, text);
      g_free (text);
    }
    gst_mesh_sio_packet_free (packet);
    return G_SOURCE_REMOVE;
  }

  if (d->func) {
    PendingAck *ack = g_new0 (PendingAck, 1);
    id = self->next_ack_id++;
    ack->client = self;
    ack->id = id;
    ack->func = d->func;
    ack->user_data = d->user_data;
    ack->notify = d->notify;
    d->func = NULL;
    d->notify = NULL;
    if (d->timeout_ms) {
      ack->timeout = g_timeout_source_new (d->timeout_ms);
      g_source_set_callback (ack->timeout, ack_timed_out, ack, NULL);
      g_source_attach (ack->timeout, self->context);
    }
    g_hash_table_insert (self->pending_acks, &ack->id, ack);
  }
  packet = gst_mesh_sio_packet_new_event (self->nsp, id, d->event, d->args);
  send_or_buffer (self, gst_mesh_sio_packet_encode (packet), id);
  gst_mesh_sio_packet_free (packet);
  return G_SOURCE_REMOVE;
}

static void
invoke_emit (GstMeshSioClient * self, EmitData * d)
{
  d->client = g_object_ref (self);
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT,
      emit_in_context, d, (GDestroyNotify) emit_data_free);
}

void
gst_mesh_sio_client_emit (GstMeshSioClient * self, const gchar * event,
    JsonArray * args)
{
  EmitData *d;

  g_return_if_fail (GST_IS_MESH_SIO_CLIENT (self));
  g_return_if_fail (event != NULL);

  d = g_new0 (EmitData, 1);
  d->event = g_strdup (event);
  d->args = args ? json_array_ref (args) : NULL;
  invoke_emit (self, d);
}

void
gst_mesh_sio_client_emit_with_ack (GstMeshSioClient * self,
    const gchar * event, JsonArray * args, guint timeout_ms,
    GstMeshSioAckFunc func, gpointer user_data, GDestroyNotify notify)
{
  EmitData *d;

  g_return_if_fail (GST_IS_MESH_SIO_CLIENT (self));
  g_return_if_fail (event != NULL);

  d = g_new0 (EmitData, 1);
  d->event = g_strdup (event);
  d->args = args ? json_array_ref (args) : NULL;
  d->timeout_ms = timeout_ms;
  d->func = func;
  d->user_data = user_data;
  d->notify = notify;
  invoke_emit (self, d);
}

void
gst_mesh_sio_client_ack (GstMeshSioClient * self, gint64 ack_id,
    JsonArray * args)
{
  EmitData *d;

  g_return_if_fail (GST_IS_MESH_SIO_CLIENT (self));
  if (ack_id < 0)
    return;

  d = g_new0 (EmitData, 1);
  d->is_ack = TRUE;
  d->ack_id = ack_id;
  d->args = args ? json_array_ref (args) : NULL;
  invoke_emit (self, d);
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                  */

static void
gst_mesh_sio_client_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMeshSioClient *self = GST_MESH_SIO_CLIENT (object);

  switch (prop_id) {
    case PROP_URL:{
      GUri *uri = NULL;
      GError *error = NULL;

      g_free (self->url);
  g_strfreev (self->urls);
      g_clear_pointer (&self->urls, g_strfreev);
      g_clear_pointer (&self->base_uri, g_uri_unref);
      self->url = NULL;
      self->url_index = 0;
      if (g_value_get_string (value)) {
        self->urls = parse_urls (g_value_get_string (value), &uri, &error);
        if (!self->urls) {
          g_warning ("%s", error ? error->message : "no URL");
          g_clear_error (&error);
        } else {
          self->url = g_strdup (self->urls[0]);
        }
      }
      self->base_uri = uri;
      break;
    }
    case PROP_PATH:{
      const gchar *p = g_value_get_string (value);
      g_free (self->path);
      /* socket.io-client always ends the path with a slash */
      if (!p || !*p)
        self->path = g_strdup (DEFAULT_PATH);
      else if (g_str_has_suffix (p, "/"))
        self->path = g_strdup (p);
      else
        self->path = g_strconcat (p, "/", NULL);
      if (self->path[0] != '/') {
        gchar *t = g_strconcat ("/", self->path, NULL);
        g_free (self->path);
        self->path = t;
      }
      break;
    }
    case PROP_NAMESPACE:{
      const gchar *n = g_value_get_string (value);
      g_free (self->nsp);
      if (!n || !*n)
        self->nsp = g_strdup (DEFAULT_NAMESPACE);
      else if (n[0] != '/')
        self->nsp = g_strconcat ("/", n, NULL);
      else
        self->nsp = g_strdup (n);
      break;
    }
    case PROP_AUTH:
      g_free (self->auth);
      self->auth = g_value_dup_string (value);
      if (self->auth && !*self->auth)
        g_clear_pointer (&self->auth, g_free);
      break;
    case PROP_RECONNECT:
      self->reconnect = g_value_get_boolean (value);
      break;
    case PROP_RECONNECT_DELAY:
      self->reconnect_delay = g_value_get_uint (value);
      break;
    case PROP_RECONNECT_DELAY_MAX:
      self->reconnect_delay_max = g_value_get_uint (value);
      break;
    case PROP_RANDOMIZATION:
      self->randomization = g_value_get_double (value);
      break;
    case PROP_CONNECT_TIMEOUT:
      self->connect_timeout = g_value_get_uint (value);
      break;
    case PROP_CA_FILE:
      g_free (self->ca_file);
      self->ca_file = g_value_dup_string (value);
      g_clear_object (&self->session);
      break;
    case PROP_TLS_INSECURE:
      self->tls_insecure = g_value_get_boolean (value);
      break;
    case PROP_TRANSPORT:{
      const gchar *t = g_value_get_string (value);

      if (!t || (g_strcmp0 (t, "auto") && g_strcmp0 (t, "websocket")
              && g_strcmp0 (t, "polling"))) {
        g_warning ("GstMeshSioClient: transport must be auto, websocket or "
            "polling, not \"%s\"", t ? t : "(null)");
        break;
      }
      g_free (self->transport);
      self->transport = g_strdup (t);
      self->use_polling = FALSE;
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mesh_sio_client_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstMeshSioClient *self = GST_MESH_SIO_CLIENT (object);

  switch (prop_id) {
    case PROP_URL:
      if (self->urls) {
        gchar *all = g_strjoinv (",", self->urls);

        g_value_take_string (value, all);
      } else {
        g_value_set_string (value, self->url);
      }
      break;
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_NAMESPACE:
      g_value_set_string (value, self->nsp);
      break;
    case PROP_AUTH:
      g_value_set_string (value, self->auth);
      break;
    case PROP_RECONNECT:
      g_value_set_boolean (value, self->reconnect);
      break;
    case PROP_RECONNECT_DELAY:
      g_value_set_uint (value, self->reconnect_delay);
      break;
    case PROP_RECONNECT_DELAY_MAX:
      g_value_set_uint (value, self->reconnect_delay_max);
      break;
    case PROP_RANDOMIZATION:
      g_value_set_double (value, self->randomization);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, self->connect_timeout);
      break;
    case PROP_CA_FILE:
      g_value_set_string (value, self->ca_file);
      break;
    case PROP_TLS_INSECURE:
      g_value_set_boolean (value, self->tls_insecure);
      break;
    case PROP_TRANSPORT:
      g_value_set_string (value, self->transport);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mesh_sio_client_dispose (GObject * object)
{
  GstMeshSioClient *self = GST_MESH_SIO_CLIENT (object);

  self->active = FALSE;
  gst_mesh_clear_source (&self->retry_source);
  drop_connection (self, NULL, FALSE);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (gst_mesh_sio_client_parent_class)->dispose (object);
}

static void
gst_mesh_sio_client_finalize (GObject * object)
{
  GstMeshSioClient *self = GST_MESH_SIO_CLIENT (object);

  g_queue_clear_full (&self->send_buffer, (GDestroyNotify)
      buffered_packet_free);
  g_hash_table_unref (self->pending_acks);
  g_clear_pointer (&self->base_uri, g_uri_unref);
  g_free (self->url);
  g_free (self->path);
  g_free (self->nsp);
  g_free (self->auth);
  g_free (self->ca_file);
  g_free (self->transport);
  g_free (self->user_agent);
  g_free (self->eio_sid);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (gst_mesh_sio_client_parent_class)->finalize (object);
}

static void
gst_mesh_sio_client_init (GstMeshSioClient * self)
{
  self->context = g_main_context_ref_thread_default ();
  self->path = g_strdup (DEFAULT_PATH);
  self->nsp = g_strdup (DEFAULT_NAMESPACE);
  self->reconnect = DEFAULT_RECONNECT;
  self->reconnect_delay = DEFAULT_RECONNECT_DELAY;
  self->reconnect_delay_max = DEFAULT_RECONNECT_DELAY_MAX;
  self->randomization = DEFAULT_RANDOMIZATION;
  self->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
  self->transport = g_strdup ("auto");
  self->user_agent = g_strdup_printf ("gst-mesh/%s", VERSION);
  self->pending_acks = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_queue_init (&self->send_buffer);
}

static void
gst_mesh_sio_client_class_init (GstMeshSioClientClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  GST_DEBUG_CATEGORY_INIT (mesh_sio_debug, "meshsio", 0,
      "gst-mesh Socket.IO client");

  gobject_class->set_property = gst_mesh_sio_client_set_property;
  gobject_class->get_property = gst_mesh_sio_client_get_property;
  gobject_class->dispose = gst_mesh_sio_client_dispose;
  gobject_class->finalize = gst_mesh_sio_client_finalize;

  g_object_class_install_property (gobject_class, PROP_URL,
      g_param_spec_string ("url", "URL",
          "Server URL: http://, https://, ws:// or wss://; several, "
          "comma-separated, are tried in turn (failover)", NULL,
          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PATH,
      g_param_spec_string ("path", "Path", "Engine.IO path on the server",
          DEFAULT_PATH, rw));
  g_object_class_install_property (gobject_class, PROP_NAMESPACE,
      g_param_spec_string ("namespace", "Namespace", "Socket.IO namespace",
          DEFAULT_NAMESPACE, rw));
  g_object_class_install_property (gobject_class, PROP_AUTH,
      g_param_spec_string ("auth", "Auth",
          "JSON object sent as the Socket.IO handshake auth payload", NULL,
          rw));
  g_object_class_install_property (gobject_class, PROP_RECONNECT,
      g_param_spec_boolean ("reconnect", "Reconnect",
          "Reconnect with back-off when the connection is lost",
          DEFAULT_RECONNECT, rw));
  g_object_class_install_property (gobject_class, PROP_RECONNECT_DELAY,
      g_param_spec_uint ("reconnect-delay", "Reconnect delay",
          "First reconnection delay in ms (doubles each attempt)", 0,
          G_MAXUINT / 64, DEFAULT_RECONNECT_DELAY, rw));
  g_object_class_install_property (gobject_class, PROP_RECONNECT_DELAY_MAX,
      g_param_spec_uint ("reconnect-delay-max", "Reconnect delay max",
          "Longest reconnection delay in ms", 0, G_MAXUINT,
          DEFAULT_RECONNECT_DELAY_MAX, rw));
  g_object_class_install_property (gobject_class, PROP_RANDOMIZATION,
      g_param_spec_double ("randomization", "Randomization",
          "Jitter of the reconnection delay, as a fraction", 0, 1,
          DEFAULT_RANDOMIZATION, rw));
  g_object_class_install_property (gobject_class, PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect timeout",
          "Give up one connection attempt after this many ms (0 = never)", 0,
          G_MAXUINT, DEFAULT_CONNECT_TIMEOUT, rw));
  g_object_class_install_property (gobject_class, PROP_CA_FILE,
      g_param_spec_string ("ca-file", "CA file",
          "PEM file of certificate authorities to trust for wss:// and "
          "https://", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_TLS_INSECURE,
      g_param_spec_boolean ("tls-insecure", "TLS insecure",
          "Accept server certificates that do not verify (self-signed)",
          FALSE, rw));
  g_object_class_install_property (gobject_class, PROP_STATE,
      g_param_spec_enum ("state", "State", "Connection state",
          GST_TYPE_MESH_SIO_CLIENT_STATE,
          GST_MESH_SIO_CLIENT_STATE_DISCONNECTED,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshSioClient:transport:
   *
   * "auto" (the default): a WebSocket, and HTTP long-polling from the
   * first time the upgrade is answered without 101 (a proxy that does not
   * pass WebSockets); "websocket" or "polling": only that one.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_TRANSPORT,
      g_param_spec_string ("transport", "Transport",
          "auto (WebSocket, long-polling when the upgrade is refused), "
          "websocket or polling", "auto",
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstMeshSioClient::event:
   * @client: the client
   * @name: the event name
   * @args: (transfer none): the event's arguments
   * @ack_id: the id to pass to gst_mesh_sio_client_ack(), or -1 when the
   *   server wants no acknowledgement
   *
   * An event came from the server. Detailed by the event name, so
   * "event::offer" connects to offers only.
   */
  signals[SIGNAL_EVENT] = g_signal_new ("event", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0, NULL, NULL, NULL, G_TYPE_NONE,
      3, G_TYPE_STRING, JSON_TYPE_ARRAY, G_TYPE_INT64);

  /**
   * GstMeshSioClient::state-changed:
   * @client: the client
   * @state: the new #GstMeshSioClientState
   * @detail: what happened, for people
   */
  signals[SIGNAL_STATE_CHANGED] = g_signal_new ("state-changed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, GST_TYPE_MESH_SIO_CLIENT_STATE, G_TYPE_STRING);
}
