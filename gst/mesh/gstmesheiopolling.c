/* gst-mesh: the client side of Engine.IO v4's HTTP long-polling transport.
 *
 * What socket.io-client does when WebSockets do not get through (a reverse
 * proxy that speaks HTTP/1.0 to its upstream, as nginx does by default,
 * drops the Upgrade header): a GET opens the session and brings the open
 * packet; then one GET is always pending, answered by the server with
 * whatever it has for us (packets separated by \x1e, binary ones as
 * "b<base64>"), and what we send goes in POSTs, one at a time, queued
 * packets batched into the next. The Engine.IO layer above (heartbeat,
 * Socket.IO) does not see the difference.
 *
 * Everything runs in the thread-default main context of the caller of
 * gst_mesh_eio_polling_new().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmesheiopolling.h"

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mesh_polling_debug);
#define GST_CAT_DEFAULT mesh_polling_debug

struct _GstMeshEioPolling
{
  SoupSession *session;
  gchar *url;                   /* ...?[query&]EIO=4&transport=polling */
  gchar *sid;
  gboolean tls_insecure;
  GCancellable *cancellable;
  gboolean failed;

  GPtrArray *outbox;            /* packet texts waiting for the next POST */
  gboolean posting;

  GstMeshEioPollingPacketFunc packet_func;
  GstMeshEioPollingFailedFunc failed_func;
  gpointer user_data;
};

static void poll_next (GstMeshEioPolling * self);
static void post_next (GstMeshEioPolling * self);

/* Each request in flight holds a reference: its completion may run after
 * gst_mesh_eio_polling_free() (cancelled, or done just before), and then
 * only looks at the failed flag. */
static void
polling_clear (GstMeshEioPolling * self)
{
  g_object_unref (self->cancellable);
  g_object_unref (self->session);
  g_ptr_array_unref (self->outbox);
  g_free (self->url);
  g_free (self->sid);
}

static void
release (GstMeshEioPolling * self)
{
  g_rc_box_release_full (self, (GDestroyNotify) polling_clear);
}

static void
fail (GstMeshEioPolling * self, const gchar * why)
{
  if (self->failed)
    return;
  self->failed = TRUE;
  g_cancellable_cancel (self->cancellable);
  GST_INFO ("long-polling %s failed: %s", self->url, why);
  self->failed_func (why, self->user_data);
}

static gboolean
on_accept_certificate (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  GstMeshEioPolling *self = user_data;

  return self->tls_insecure;
}

static SoupMessage *
new_message (GstMeshEioPolling * self, const gchar * method)
{
  gchar *url = self->sid ? g_strdup_printf ("%s&sid=%s", self->url,
      self->sid) : g_strdup (self->url);
  SoupMessage *msg = soup_message_new (method, url);

  g_free (url);
  g_signal_connect (msg, "accept-certificate",
      G_CALLBACK (on_accept_certificate), self);
  return msg;
}

/* The body of a finished request, or NULL after fail() saying why. */
static GBytes *
finish (GstMeshEioPolling * self, GObject * source, GAsyncResult * res,
    const gchar * what)
{
  GError *error = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION
      (source), res);
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source),
      res, &error);
  gchar *why;

  if (self->failed) {
    g_clear_error (&error);
    g_clear_pointer (&body, g_bytes_unref);
    return NULL;
  }
  if (!body) {
    if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      why = g_strdup_printf ("%s: %s", what, error->message);
      fail (self, why);
      g_free (why);
    }
    g_error_free (error);
    return NULL;
  }
  if (soup_message_get_status (msg) != SOUP_STATUS_OK) {
    gsize len;
    const gchar *text = g_bytes_get_data (body, &len);

    why = g_strdup_printf ("%s: HTTP %u %s: %.*s", what,
        soup_message_get_status (msg), soup_message_get_reason_phrase (msg),
        (int) MIN (len, 200), text ? text : "");
    fail (self, why);
    g_free (why);
    g_bytes_unref (body);
    return NULL;
  }
  return body;
}

/* Hands every packet of a poll response up; remembers the sid of an open
 * packet. */
static gboolean
deliver (GstMeshEioPolling * self, GBytes * body)
{
  GError *error = NULL;
  gsize len;
  const gchar *text = g_bytes_get_data (body, &len);
  GPtrArray *packets = gst_mesh_eio_payload_decode (text ? text : "", len,
      &error);
  guint i;

  if (!packets) {
    gchar *why = g_strdup_printf ("bad long-polling payload: %s",
        error->message);

    g_error_free (error);
    fail (self, why);
    g_free (why);
    return FALSE;
  }
  for (i = 0; i < packets->len && !self->failed; i++) {
    GstMeshEioPacket *p = g_ptr_array_index (packets, i);

    if (p->type == GST_MESH_EIO_OPEN && !self->sid) {
      gsize plen;
      const gchar *json = gst_mesh_eio_packet_get_text (p, &plen);
      JsonParser *parser = json_parser_new ();

      if (json_parser_load_from_data (parser, json, plen, NULL)
          && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        self->sid = g_strdup (json_object_get_string_member_with_default
            (json_node_get_object (json_parser_get_root (parser)), "sid",
                NULL));
      g_object_unref (parser);
    }
    /* may free us (the caller's ref keeps the memory): see failed */
    self->packet_func (p, self->user_data);
  }
  g_ptr_array_unref (packets);
  return !self->failed;
}

static void
on_poll_done (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstMeshEioPolling *self = user_data;
  GBytes *body = finish (self, source, res, "poll");

  if (body) {
    if (deliver (self, body)) {
      if (!self->sid)
        fail (self, "the handshake's answer holds no open packet with a sid");
      else
        poll_next (self);
    }
    g_bytes_unref (body);
  }
  release (self);
}

static void
poll_next (GstMeshEioPolling * self)
{
  SoupMessage *msg = new_message (self, SOUP_METHOD_GET);

  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT,
      self->cancellable, on_poll_done, g_rc_box_acquire (self));
  g_object_unref (msg);
}

static void
on_post_done (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstMeshEioPolling *self = user_data;
  GBytes *body = finish (self, source, res, "send");

  if (body) {
    g_bytes_unref (body);
    self->posting = FALSE;
    post_next (self);
  }
  release (self);
}

static void
post_next (GstMeshEioPolling * self)
{
  GString *payload;
  SoupMessage *msg;
  GBytes *bytes;
  guint i;

  if (self->posting || self->failed || !self->sid || self->outbox->len == 0)
    return;
  payload = g_string_new (NULL);
  for (i = 0; i < self->outbox->len; i++) {
    if (i)
      g_string_append_c (payload, '\x1e');
    g_string_append (payload, g_ptr_array_index (self->outbox, i));
  }
  g_ptr_array_set_size (self->outbox, 0);
  msg = new_message (self, SOUP_METHOD_POST);
  bytes = g_string_free_to_bytes (payload);
  soup_message_set_request_body_from_bytes (msg, "text/plain;charset=UTF-8",
      bytes);
  g_bytes_unref (bytes);
  self->posting = TRUE;
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT,
      self->cancellable, on_post_done, g_rc_box_acquire (self));
  g_object_unref (msg);
}

/**
 * gst_mesh_eio_polling_new:
 * @url: the Engine.IO URL with "EIO=4&transport=polling" as its last
 *   query parameters
 *
 * Starts the handshake at once. The callbacks are called from the
 * caller's thread-default main context; @failed_func at most once.
 */
GstMeshEioPolling *
gst_mesh_eio_polling_new (SoupSession * session, const gchar * url,
    gboolean tls_insecure, GstMeshEioPollingPacketFunc packet_func,
    GstMeshEioPollingFailedFunc failed_func, gpointer user_data)
{
  GstMeshEioPolling *self = g_rc_box_new0 (GstMeshEioPolling);

  GST_DEBUG_CATEGORY_INIT (mesh_polling_debug, "meshpolling", 0,
      "gst-mesh Engine.IO long-polling client");
  self->session = g_object_ref (session);
  self->url = g_strdup (url);
  self->tls_insecure = tls_insecure;
  self->cancellable = g_cancellable_new ();
  self->outbox = g_ptr_array_new_with_free_func (g_free);
  self->packet_func = packet_func;
  self->failed_func = failed_func;
  self->user_data = user_data;
  GST_DEBUG ("long-polling handshake with %s", url);
  poll_next (self);
  return self;
}

/**
 * gst_mesh_eio_polling_send:
 * @packet_text: an Engine.IO packet's text ("3", "42[...]")
 *
 * Queued until the handshake is done and the POST before has been
 * answered; what is queued by then goes in one POST.
 */
void
gst_mesh_eio_polling_send (GstMeshEioPolling * self,
    const gchar * packet_text)
{
  if (self->failed)
    return;
  g_ptr_array_add (self->outbox, g_strdup (packet_text));
  post_next (self);
}

gboolean
gst_mesh_eio_polling_is_open (GstMeshEioPolling * self)
{
  return self && self->sid && !self->failed;
}

/* Stops: requests in flight are cancelled, no callback is called after
 * this. */
void
gst_mesh_eio_polling_free (GstMeshEioPolling * self)
{
  if (!self)
    return;
  self->failed = TRUE;
  g_cancellable_cancel (self->cancellable);
  release (self);
}
