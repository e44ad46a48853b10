/* gst-mesh-server: the seed's signalling server, without Node.js.
 *
 * Speaks Socket.IO like the seed's server (offer, answer and candidate go to
 * every other client), adds mesh rooms, and can serve the demo page from a
 * web root. Access control and limits: docs/protocol.md section 5.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/mesh/gstmeshsignalserver.h>
#include <glib-unix.h>
#include <locale.h>

static gboolean verbose = FALSE;

static void
on_connected (GstMeshSignalServer * server, const gchar * id,
    const gchar * address, gpointer user_data)
{
  if (verbose)
    g_print ("A user connected: %s (%s)\n", id, address);
  else
    g_print ("A user connected: %s\n", id);
}

static void
on_relayed (GstMeshSignalServer * server, const gchar * event,
    const gchar * id, guint n, gpointer user_data)
{
  if (verbose)
    g_print ("Received %s from: %s (relayed to %u)\n", event, id, n);
  else
    g_print ("Received %s from: %s\n", event, id);
}

static void
on_disconnected (GstMeshSignalServer * server, const gchar * id,
    const gchar * reason, gpointer user_data)
{
  if (verbose)
    g_print ("User disconnected: %s (%s)\n", id, reason);
  else
    g_print ("User disconnected: %s\n", id);
}

/* One token per line; blank lines and lines starting with '#' are skipped,
 * spaces around a token are not part of it. */
static gboolean
read_auth_file (const gchar * filename, GPtrArray * tokens, GError ** error)
{
  gchar *contents, **lines;
  guint i, before = tokens->len;

  if (!g_file_get_contents (filename, &contents, NULL, error))
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  g_free (contents);
  for (i = 0; lines[i]; i++) {
    gchar *line = g_strstrip (lines[i]);

    if (*line && *line != '#')
      g_ptr_array_add (tokens, g_strdup (line));
  }
  g_strfreev (lines);
  if (tokens->len == before) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "%s holds no token", filename);
    return FALSE;
  }
  return TRUE;
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  /* freed on every way out, the error exits included (LeakSanitizer,
   * tools/leak-check.sh, counts those too) */
  g_autofree gchar *address = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *cert = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *web_root = NULL;
  g_autofree gchar *client_script = NULL;
  g_autofree gchar *auth_file = NULL;
  g_auto (GStrv) origins = NULL;
  g_auto (GStrv) auth_tokens = NULL;
  gint port = 4000, ping_interval = 25000, ping_timeout = 20000;
  gint max_room_peers = 0, max_event_rate = 200;
  gint64 max_payload = 1000000;
  GOptionEntry entries[] = {
    {"address", 'a', 0, G_OPTION_ARG_STRING, &address,
        "IP address to listen on (default: all)", "ADDR"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &port,
        "TCP port, 0 for any free one (default: 4000, as the seed)", "PORT"},
    {"path", 0, 0, G_OPTION_ARG_STRING, &path,
        "Socket.IO path (default: /socket.io/)", "PATH"},
    {"allowed-origins", 0, 0, G_OPTION_ARG_STRING_ARRAY, &origins,
        "Origin allowed (CORS, and browsers from other origins get 403), "
        "repeatable; \"*\" for any (default: *)", "ORIGIN"},
    {"auth-token", 0, 0, G_OPTION_ARG_STRING_ARRAY, &auth_tokens,
        "Clients must connect with auth {\"token\": TOKEN}, repeatable: any "
        "one is accepted (visible in ps: prefer --auth-file)", "TOKEN"},
    {"auth-file", 0, 0, G_OPTION_ARG_FILENAME, &auth_file,
        "Accepted auth tokens, one per line ('#' starts a comment line)",
        "FILE"},
    {"max-room-peers", 0, 0, G_OPTION_ARG_INT, &max_room_peers,
        "Most members of a room; a join into a full room is refused "
        "(default: 0, unlimited)", "N"},
    {"max-event-rate", 0, 0, G_OPTION_ARG_INT, &max_event_rate,
        "Events per second per client, bursts of N; more are dropped with an "
        "error event, 10x for 5 s disconnects (default: 200; 0: unlimited)",
        "N"},
    {"cert", 0, 0, G_OPTION_ARG_FILENAME, &cert,
        "PEM certificate file: serve https and wss", "FILE"},
    {"key", 0, 0, G_OPTION_ARG_FILENAME, &key,
        "PEM private key file for --cert", "FILE"},
    {"web-root", 'w', 0, G_OPTION_ARG_FILENAME, &web_root,
        "Serve the files of this directory (the demo page)", "DIR"},
    {"client-script", 0, 0, G_OPTION_ARG_FILENAME, &client_script,
        "Serve this socket.io client script at PATH/socket.io.js, as the "
        "Node server does", "FILE"},
    {"ping-interval", 0, 0, G_OPTION_ARG_INT, &ping_interval,
        "Milliseconds between pings (default: 25000)", "MS"},
    {"ping-timeout", 0, 0, G_OPTION_ARG_INT, &ping_timeout,
        "Milliseconds to wait for a pong (default: 20000)", "MS"},
    {"max-payload", 0, 0, G_OPTION_ARG_INT64, &max_payload,
        "Largest message in bytes (default: 1000000)", "BYTES"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
        "Say more about each connection and relay", NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GstMeshSignalServer) server = NULL;
  GMainLoop *loop;
  gchar *url;

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("- WebRTC mesh signalling server (Socket.IO)");
  g_option_context_set_summary (ctx,
      "Relays offer, answer and candidate events to every other client, "
      "like the seed's Node server,\nso its web page and the meshsignal "
      "element work against it unchanged; adds mesh rooms\n(join, leave, "
      "routed messages) and optional auth tokens, origin checks and "
      "limits.\nSee docs/protocol.md.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }

  if (port < 0 || port > 65535 || ping_interval <= 0 || ping_timeout <= 0
      || max_payload <= 0) {
    g_printerr ("--port must be 0..65535, the ping times and --max-payload "
        "positive\n");
    return 2;
  }
  if (max_room_peers < 0 || max_event_rate < 0) {
    g_printerr ("--max-room-peers and --max-event-rate must be 0 (no limit) "
        "or more\n");
    return 2;
  }
  if (!cert != !key) {
    g_printerr ("--cert and --key go together\n");
    return 2;
  }

  if (auth_tokens || auth_file) {
    g_autoptr (GPtrArray) tokens = g_ptr_array_new_with_free_func (g_free);
    guint i;

    for (i = 0; auth_tokens && auth_tokens[i]; i++) {
      if (!*auth_tokens[i]) {
        g_printerr ("--auth-token must not be empty\n");
        return 2;
      }
      g_ptr_array_add (tokens, g_strdup (auth_tokens[i]));
    }
    if (auth_file && !read_auth_file (auth_file, tokens, &error)) {
      g_printerr ("--auth-file: %s\n", error->message);
      return 2;
    }
    g_ptr_array_add (tokens, NULL);
    g_strfreev (auth_tokens);
    g_ptr_array_set_free_func (tokens, NULL);
    auth_tokens = (gchar **) g_ptr_array_free (g_steal_pointer (&tokens),
        FALSE);
  }

  server = gst_mesh_signal_server_new ();
  g_object_set (server, "address", address, "port", (guint) port,
      "ping-interval", (guint) ping_interval, "ping-timeout",
      (guint) ping_timeout, "max-payload", (guint64) max_payload,
      "web-root", web_root, "client-script", client_script,
      "tls-cert-file", cert, "tls-key-file", key, "auth-tokens", auth_tokens,
      "max-room-peers", (guint) max_room_peers, "max-event-rate",
      (guint) max_event_rate, NULL);
  if (path)
    g_object_set (server, "path", path, NULL);
  if (origins)
    g_object_set (server, "cors-origins", origins, NULL);

  g_signal_connect (server, "client-connected", G_CALLBACK (on_connected),
      NULL);
  g_signal_connect (server, "relayed", G_CALLBACK (on_relayed), NULL);
  g_signal_connect (server, "client-disconnected",
      G_CALLBACK (on_disconnected), NULL);

  if (!gst_mesh_signal_server_start (server, &error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  url = gst_mesh_signal_server_get_url (server);
  g_print ("Listening on %s\n", url);
  g_free (url);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);

  g_print ("Shutting down\n");
  gst_mesh_signal_server_stop (server);
  g_main_loop_unref (loop);
  return 0;
}
