/* gst-mesh: meshsignal's link to the signalling server: the element's
 * own thread and GMainContext, the Socket.IO client in it (and the hosted
 * server, with host-server), and the events and connection states it
 * hears, handed to the session (gstmeshsession.h) or said on the bus.
 * Everything the sessions and peers do runs in this thread; the element
 * reaches into it with gst_mesh_signaller_run_sync().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsignalprivate.h"
#include "gst/mesh/gstmeshprivate.h"

#include <string.h>

/* where a hosted server listens when no server-url says otherwise: the
 * seed's port */
#define HOSTED_SERVER_URL "http://127.0.0.1:4000"

static void
post_signalling (GstMeshSignal * self, GstMeshSioClientState state,
    const gchar * detail)
{
  GstStructure *s = gst_structure_new ("mesh-signalling",
      "state", G_TYPE_STRING, gst_mesh_sio_client_state_to_string (state),
      "detail", G_TYPE_STRING, detail ? detail : "",
      "url", G_TYPE_STRING, self->server_url, NULL);

  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static void
on_sio_event (GstMeshSioClient * client, const gchar * name, JsonArray * args,
    gint64 ack_id, GstMeshSignal * self)
{
  GstMeshSignalMessage *msg;
  GError *error = NULL;
  gchar *own_id;

  if (gst_mesh_ice_event (self, name, args))
    return;
  if (strcmp (name, "offer") && strcmp (name, "answer") &&
      strcmp (name, "candidate") && strcmp (name, "hangup")) {
    if (!self->session || !self->session->event (self, name, args))
      GST_DEBUG_OBJECT (self, "ignoring event '%s'", name);
    return;
  }
  msg = gst_mesh_signal_message_parse (name, args, &error);
  if (!msg) {
    gst_mesh_signal_warn_bad_message (self, name, error->message);
    g_error_free (error);
    return;
  }
  own_id = gst_mesh_sio_client_dup_id (client);
  if (msg->to && own_id && strcmp (msg->to, own_id) != 0) {
    GST_LOG_OBJECT (self, "'%s' for %s, not us", name, msg->to);
    gst_mesh_signal_message_free (msg);
    g_free (own_id);
    return;
  }
  g_free (own_id);

  GST_DEBUG_OBJECT (self, "received %s", name);
  if (self->session)
    self->session->message (self, msg);
  else
    gst_mesh_signal_message_free (msg);
}

/* the number of servers in a server-url list */
static guint
n_servers (const gchar * urls)
{
  guint n = 1;

  for (const gchar * p = urls; p && *p; p++)
    n += *p == ',';
  return n;
}

static void
on_sio_state (GstMeshSioClient * client, GstMeshSioClientState state,
    const gchar * detail, GstMeshSignal * self)
{
  post_signalling (self, state, detail);

  switch (state) {
    case GST_MESH_SIO_CLIENT_STATE_CONNECTED:
      if (self->ever_connected)
        self->reconnected_at = g_get_monotonic_time ();
      self->ever_connected = TRUE;
      GST_INFO_OBJECT (self, "signalling connected: %s", detail);
      if (self->session)
        self->session->connected (self);
      break;
    case GST_MESH_SIO_CLIENT_STATE_RECONNECTING:
      /* with several servers (failover), each is tried once before the
       * element gives up */
      if (!self->ever_connected &&
          ++self->first_failures >= n_servers (self->server_url)) {
        GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
            ("Cannot connect to the signalling server %s", self->server_url),
            ("%s", detail));
        gst_mesh_sio_client_disconnect (client);
      } else if (!self->ever_connected) {
        GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ_WRITE,
            ("Cannot connect to a signalling server, trying the next"),
            ("%s", detail));
      } else {
        GST_ELEMENT_WARNING (self, RESOURCE, READ,
            ("Lost the signalling server %s, reconnecting", self->server_url),
            ("%s", detail));
        if (self->session)
          self->session->disconnected (self);
      }
      break;
    case GST_MESH_SIO_CLIENT_STATE_FAILED:
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
          ("The signalling server %s refused us", self->server_url),
          ("%s", detail));
      break;
    default:
      break;
  }
}

static gpointer
signalling_thread (gpointer user_data)
{
  GstMeshSignal *self = user_data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

typedef struct
{
  GstMeshSignal *self;
  void (*func) (GstMeshSignal * self, gpointer data);
  gpointer data;
  GMutex lock;
  GCond cond;
  gboolean done;
} SyncCall;

static gboolean
sync_call_run (gpointer user_data)
{
  SyncCall *c = user_data;

  c->func (c->self, c->data);
  g_mutex_lock (&c->lock);
  c->done = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
  return G_SOURCE_REMOVE;
}

/* Runs @func in the signalling thread and waits for it. */
void
gst_mesh_signaller_run_sync (GstMeshSignal * self,
    void (*func) (GstMeshSignal *, gpointer), gpointer data)
{
  SyncCall c = { self, func, data, };

  if (g_main_context_is_owner (self->context)) {
    func (self, data);
    return;
  }
  g_mutex_init (&c.lock);
  g_cond_init (&c.cond);
  g_main_context_invoke (self->context, sync_call_run, &c);
  g_mutex_lock (&c.lock);
  while (!c.done)
    g_cond_wait (&c.cond, &c.lock);
  g_mutex_unlock (&c.lock);
  g_mutex_clear (&c.lock);
  g_cond_clear (&c.cond);
}

/* Runs the signalling server in our thread, on the port of @url: one
 * gst-launch-1.0 line and a browser tab then make a call. */
static gboolean
host_server (GstMeshSignal * self, const gchar * url, const gchar * path)
{
  GUri *uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  gint port = uri ? g_uri_get_port (uri) : -1;
  GError *error = NULL;
  gchar *web_root, *client_script;

  if (port <= 0)
    port = uri && !g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") ?
        443 : 80;
  if (uri)
    g_uri_unref (uri);

  GST_OBJECT_LOCK (self);
  web_root = g_strdup (self->web_root);
  client_script = g_strdup (self->client_script);
  GST_OBJECT_UNLOCK (self);

  self->server = gst_mesh_signal_server_new ();
  g_object_set (self->server, "port", (guint) port, "path", path,
      "web-root", web_root, "client-script", client_script, NULL);
  g_free (web_root);
  g_free (client_script);
  if (!gst_mesh_signal_server_start (self->server, &error)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        ("Cannot host the signalling server on port %d", port),
        ("%s", error->message));
    g_error_free (error);
    g_clear_object (&self->server);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "hosting the signalling server on port %d", port);
  return TRUE;
}

gboolean
gst_mesh_signaller_start (GstMeshSignal * self)
{
  GError *error = NULL;
  gchar *url, *path, *auth, *ca_file;
  gboolean tls_insecure;

  GST_OBJECT_LOCK (self);
  url = g_strdup (self->server_url);
  if (!url && self->host_server)
    url = g_strdup (HOSTED_SERVER_URL);
  path = g_strdup (self->server_path);
  auth = g_strdup (self->auth);
  ca_file = g_strdup (self->ca_file);
  tls_insecure = self->tls_insecure;
  GST_OBJECT_UNLOCK (self);

  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  g_main_context_push_thread_default (self->context);
  self->client = gst_mesh_sio_client_new (url, &error);
  if (self->client && self->host_server && !host_server (self, url, path))
    g_clear_object (&self->client);
  g_main_context_pop_thread_default (self->context);
  if (!self->client) {
    /* without an error, host_server() said why */
    if (error) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Bad signalling server URL '%s'", url ? url : "(none)"),
          ("%s; set server-url to http://HOST:PORT, https://, ws:// or wss://",
              error->message));
      g_error_free (error);
    }
    g_clear_pointer (&self->loop, g_main_loop_unref);
    g_clear_pointer (&self->context, g_main_context_unref);
  } else {
    g_object_set (self->client, "path", path, "auth", auth, "ca-file",
        ca_file, "tls-insecure", tls_insecure, NULL);
    g_signal_connect (self->client, "event", G_CALLBACK (on_sio_event), self);
    g_signal_connect (self->client, "state-changed",
        G_CALLBACK (on_sio_state), self);
    self->thread = g_thread_new ("meshsignal", signalling_thread, self);
  }
  g_free (url);
  g_free (path);
  g_free (auth);
  g_free (ca_file);
  return self->client != NULL;
}

static gboolean
video_tick_cb (gpointer user_data)
{
  gst_mesh_input_video_tick (user_data);
  return G_SOURCE_CONTINUE;
}

void
gst_mesh_signaller_connect (GstMeshSignal * self, gpointer unused)
{
  self->ever_connected = FALSE;
  self->first_failures = 0;
  self->reconnected_at = 0;
  self->session = self->room ? &gst_mesh_room_session :
      &gst_mesh_call_session;
  self->session->start (self);
  if (self->congestion_control != GST_MESH_CONGESTION_CONTROL_NONE) {
    self->video_tick = g_timeout_source_new (1000);
    g_source_set_callback (self->video_tick, video_tick_cb, self, NULL);
    g_source_attach (self->video_tick, self->context);
  }
  gst_mesh_sio_client_connect (self->client);
}

void
gst_mesh_signaller_disconnect (GstMeshSignal * self, gpointer unused)
{
  if (self->session)
    self->session->stop (self);
  self->session = NULL;
  gst_mesh_clear_source (&self->video_tick);
  gst_mesh_ice_stop (self);
  gst_mesh_sio_client_disconnect (self->client);
}

void
gst_mesh_signaller_stop (GstMeshSignal * self)
{
  if (!self->thread)
    return;
  g_main_loop_quit (self->loop);
  g_thread_join (self->thread);
  self->thread = NULL;
  g_signal_handlers_disconnect_by_data (self->client, self);
  /* the client's sources belong to the context: drop it with them */
  g_main_context_push_thread_default (self->context);
  g_clear_object (&self->client);
  if (self->server) {
    gst_mesh_signal_server_stop (self->server);
    g_clear_object (&self->server);
  }
  while (g_main_context_iteration (self->context, FALSE));
  g_main_context_pop_thread_default (self->context);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  self->loop = NULL;
  self->context = NULL;
}
