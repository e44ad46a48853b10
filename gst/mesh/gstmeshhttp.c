/* gst-mesh: HTTP hygiene of a SoupServer, below any protocol.
 *
 * What every request on the server gets, whatever path it is for (the
 * Engine.IO endpoint, static files, /healthz):
 *
 * - a response that says whether the connection stays open (libsoup 3.2
 *   decides, but does not write it: see on_got_headers());
 * - TCP_NODELAY, so a small response does not wait for a delayed ACK;
 * - a deadline for the request's headers: a connection that has not sent
 *   a whole request head within header-timeout of its start (or of the end
 *   of its previous response, for keep-alive) is shut down. Without it,
 *   libsoup waits for ever, and a slow-loris client or a flood of
 *   half-open connections holds file descriptors until none are left;
 * - the client's address, from X-Forwarded-For when the connection comes
 *   from a trusted proxy (nginx's set_real_ip_from / real_ip_recursive).
 *
 * - a request refused before its body was read (413) has its body dropped
 *   as it comes, within header-timeout too.
 *
 * Headers over libsoup's own limit (64 KiB) are cut by libsoup, which
 * closes the connection without an answer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshhttp.h"

#include <gst/gst.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mesh_http_debug);
#define GST_CAT_DEFAULT mesh_http_debug

#define DEFAULT_HEADER_TIMEOUT 10000
#define TIMER_KEY "gst-mesh-http-header-timer"
#define CLIENT_KEY "gst-mesh-http-client"

struct _GstMeshHttpGuard
{
  SoupServer *soup;             /* not owned: the guard dies with it */
  GMainContext *context;
  gulong started_id;
  guint header_timeout;         /* ms, 0: none */
  GPtrArray *trusted;           /* GInetAddressMask */
  guint64 header_timeouts;
  guint64 body_timeouts;
};

static void
guard_clear (GstMeshHttpGuard * guard)
{
  g_ptr_array_unref (guard->trusted);
  g_main_context_unref (guard->context);
}

/* Says in every response whether the connection stays open, which libsoup
 * 3.2 decides but does not write: it closes after answering a request with
 * "Connection: close" (and any HTTP/1.0 request), yet the HTTP/1.1 response
 * carries no "Connection: close". A client that pools connections (Node's
 * http agent, hence node-fetch, undici) then takes the connection for open
 * and sends its next request into the closing socket: "socket hang up".
 * RFC 9112 9.6: a server that closes sends "close". An HTTP/1.0 client
 * that asks for keep-alive (and says so) gets it, as from Node's server;
 * libsoup keeps an HTTP/1.0 connection only when the response says
 * "keep-alive". */
static void
set_connection_header (SoupServerMessage * msg)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);

  if (soup_message_headers_header_contains (req, "Connection", "upgrade"))
    return;
  if (soup_server_message_get_http_version (msg) == SOUP_HTTP_1_0) {
    if (soup_message_headers_header_contains (req, "Connection",
            "keep-alive"))
      soup_message_headers_replace (resp, "Connection", "keep-alive");
    else
      soup_message_headers_replace (resp, "Connection", "close");
  } else if (soup_message_headers_header_contains (req, "Connection",
          "close")) {
    soup_message_headers_replace (resp, "Connection", "close");
  }
}

static void start_timer (GstMeshHttpGuard * guard, SoupServerMessage * msg,
    gboolean body);

static void
on_got_body (SoupServerMessage * msg, gpointer user_data)
{
  g_object_set_data (G_OBJECT (msg), TIMER_KEY, NULL);
}

/* Runs after SoupServer's own got-headers handler, so after the early
 * handlers: a request they refused (413) still has its body read, which
 * libsoup does before it answers. That body is dropped as it comes, and
 * has header-timeout to come, so neither a large nor a slow upload holds
 * the server. */
static void
on_got_headers (SoupServerMessage * msg, gpointer user_data)
{
  GstMeshHttpGuard *guard = user_data;

  g_object_set_data (G_OBJECT (msg), TIMER_KEY, NULL);
  set_connection_header (msg);
  if (soup_server_message_get_status (msg) != 0) {
    soup_message_body_set_accumulate (soup_server_message_get_request_body
        (msg), FALSE);
    if (guard->header_timeout) {
      start_timer (guard, msg, TRUE);
      g_signal_connect (msg, "got-body", G_CALLBACK (on_got_body), NULL);
    }
  }
}

/* A header timer's data: the message is not referenced (the timer dies
 * with it, see on_request_started()), the guard is. */
typedef struct
{
  GstMeshHttpGuard *guard;
  SoupServerMessage *msg;
  gboolean body;                /* waiting for a refused request's body */
} Timer;

static void
timer_free (gpointer data)
{
  Timer *t = data;

  g_rc_box_release_full (t->guard, (GDestroyNotify) guard_clear);
  g_free (t);
}

static gboolean
on_header_timeout (gpointer user_data)
{
  Timer *t = user_data;
  GSocket *socket = soup_server_message_get_socket (t->msg);
  GSource *self;

  if (t->body) {
    t->guard->body_timeouts++;
    GST_INFO ("closing the connection from %s: the body of a refused "
        "request did not end within %u ms",
        soup_server_message_get_remote_host (t->msg),
        t->guard->header_timeout);
  } else {
    t->guard->header_timeouts++;
    GST_INFO ("closing the connection from %s: no whole request head "
        "within %u ms (slow or idle client)",
        soup_server_message_get_remote_host (t->msg),
        t->guard->header_timeout);
  }
  /* libsoup's read then fails and it drops the connection. */
  if (socket)
    g_socket_shutdown (socket, TRUE, TRUE, NULL);
  self = g_object_steal_data (G_OBJECT (t->msg), TIMER_KEY);
  if (self)
    g_source_unref (self);
  return G_SOURCE_REMOVE;
}

static void
timer_destroy (gpointer data)
{
  GSource *source = data;

  g_source_destroy (source);
  g_source_unref (source);
}

static void
on_request_started (SoupServer * soup, SoupServerMessage * msg,
    gpointer user_data)
{
  GstMeshHttpGuard *guard = user_data;
  GSocket *socket = soup_server_message_get_socket (msg);

  if (socket && g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX)
    g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), guard);
  if (guard->header_timeout)
    start_timer (guard, msg, FALSE);
}

/* The timer dies with the message (or when replaced); it holds the guard. */
static void
start_timer (GstMeshHttpGuard * guard, SoupServerMessage * msg,
    gboolean body)
{
  GSource *timer = g_timeout_source_new (guard->header_timeout);
  Timer *t = g_new (Timer, 1);

  t->guard = g_rc_box_acquire (guard);
  t->msg = msg;
  t->body = body;
  g_source_set_callback (timer, on_header_timeout, t, timer_free);
  g_source_attach (timer, guard->context);
  g_object_set_data_full (G_OBJECT (msg), TIMER_KEY, timer, timer_destroy);
}

GstMeshHttpGuard *
gst_mesh_http_guard_new (SoupServer * soup, GMainContext * context)
{
  GstMeshHttpGuard *guard = g_rc_box_new0 (GstMeshHttpGuard);

  GST_DEBUG_CATEGORY_INIT (mesh_http_debug, "meshhttp", 0,
      "gst-mesh HTTP connections");
  guard->soup = soup;
  guard->context = g_main_context_ref (context);
  guard->header_timeout = DEFAULT_HEADER_TIMEOUT;
  guard->trusted = g_ptr_array_new_with_free_func (g_object_unref);
  guard->started_id = g_signal_connect (soup, "request-started",
      G_CALLBACK (on_request_started), guard);
  return guard;
}

/* Stops guarding the server. Requests still reading their headers keep
 * their timer, and with it the guard, until libsoup drops them. */
void
gst_mesh_http_guard_free (GstMeshHttpGuard * guard)
{
  if (!guard)
    return;
  g_signal_handler_disconnect (guard->soup, guard->started_id);
  guard->soup = NULL;
  g_rc_box_release_full (guard, (GDestroyNotify) guard_clear);
}

void
gst_mesh_http_guard_set_header_timeout (GstMeshHttpGuard * guard, guint ms)
{
  guard->header_timeout = ms;
}

/**
 * gst_mesh_http_guard_set_trusted_proxies:
 * @proxies: (nullable): addresses or networks ("10.0.0.1", "10.0.0.0/8",
 *   "::1") of proxies whose X-Forwarded-For is believed
 *
 * Returns: %FALSE, with @error naming it, when an entry is not an address
 * or a network; nothing is changed then.
 */
gboolean
gst_mesh_http_guard_set_trusted_proxies (GstMeshHttpGuard * guard,
    const gchar * const *proxies, GError ** error)
{
  GPtrArray *masks = g_ptr_array_new_with_free_func (g_object_unref);
  guint i;

  for (i = 0; proxies && proxies[i]; i++) {
    GInetAddressMask *mask = g_inet_address_mask_new_from_string (proxies[i],
        NULL);

    if (!mask) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "trusted proxy \"%s\" is not an IP address or network", proxies[i]);
      g_ptr_array_unref (masks);
      return FALSE;
    }
    g_ptr_array_add (masks, mask);
  }
  g_ptr_array_unref (guard->trusted);
  guard->trusted = masks;
  return TRUE;
}

static gboolean
is_trusted (GstMeshHttpGuard * guard, const gchar * address)
{
  GInetAddress *inet;
  gboolean trusted = FALSE;
  guint i;

  if (!address || !(inet = g_inet_address_new_from_string (address)))
    return FALSE;
  for (i = 0; i < guard->trusted->len && !trusted; i++)
    trusted = g_inet_address_mask_matches (g_ptr_array_index (guard->trusted,
            i), inet);
  g_object_unref (inet);
  return trusted;
}

/**
 * gst_mesh_http_guard_client_address:
 *
 * The address of the client that sent @msg: the peer of the connection,
 * or, when that peer is a trusted proxy, the last address of
 * X-Forwarded-For that is not itself a trusted proxy (each proxy appends
 * the address it got the request from, so entries left of the last
 * untrusted one are the client's to forge).
 *
 * Returns: (transfer none): the address, valid while @msg lives
 */
const gchar *
gst_mesh_http_guard_client_address (GstMeshHttpGuard * guard,
    SoupServerMessage * msg)
{
  const gchar *peer = soup_server_message_get_remote_host (msg);
  const gchar *xff, *cached;
  gchar **hops;
  gchar *client = NULL;
  gint i;

  if (!guard || guard->trusted->len == 0 || !is_trusted (guard, peer))
    return peer;
  cached = g_object_get_data (G_OBJECT (msg), CLIENT_KEY);
  if (cached)
    return cached;
  xff = soup_message_headers_get_list (soup_server_message_get_request_headers
      (msg), "X-Forwarded-For");
  if (!xff)
    return peer;

  hops = g_strsplit (xff, ",", -1);
  for (i = g_strv_length (hops) - 1; i >= 0; i--) {
    GInetAddress *inet;
    gchar *hop = g_strstrip (hops[i]);

    inet = g_inet_address_new_from_string (hop);
    if (!inet) {
      GST_INFO ("X-Forwarded-For from proxy %s holds \"%s\", not an "
          "address: using the proxy's", peer, hop);
      break;
    }
    g_object_unref (inet);
    client = hop;
    if (!is_trusted (guard, hop))
      break;
  }
  if (client) {
    client = g_strdup (client);
    g_object_set_data_full (G_OBJECT (msg), CLIENT_KEY, client, g_free);
  }
  g_strfreev (hops);
  return client ? client : peer;
}

guint64
gst_mesh_http_guard_get_header_timeouts (GstMeshHttpGuard * guard)
{
  return guard ? guard->header_timeouts : 0;
}

guint64
gst_mesh_http_guard_get_body_timeouts (GstMeshHttpGuard * guard)
{
  return guard ? guard->body_timeouts : 0;
}
