/* gst-mesh-server: the seed's signalling server, without Node.js.
 *
 * Speaks Socket.IO like the seed's server (offer, answer and candidate go to
 * every other client), adds mesh rooms, and can serve the demo page from a
 * web root. Access control and limits: docs/protocol.md section 5; running
 * it as a service (config file, reload, health and metrics): its man page,
 * docs/gst-mesh-server.1.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/mesh/gstmeshsignalserver.h>
#include <gst/mesh/gstmeshiceserver.h>
#include <gst/mesh/gstmeshredis.h>
#include <glib-unix.h>
#include <locale.h>
#include <string.h>

static gboolean verbose = FALSE;

/* Everything the command line and the config file say. */
typedef struct
{
  gchar *config;
  gchar *address;
  gchar *path;
  gchar *cert;
  gchar *key;
  gchar *web_root;
  gchar *client_script;
  gchar *auth_file;
  gchar **origins;
  gchar **auth_tokens;
  gchar **trusted_proxies;
  gchar *turn_secret;
  gchar **turn_urls;
  gint turn_ttl;
  gchar *redis;
  gchar *redis_key;
  gint port, ping_interval, ping_timeout, max_room_peers, max_event_rate;
  gint header_timeout;
  gint64 max_payload;
  gboolean metrics;
  gboolean verbose;
} Options;

static void
options_clear (Options * o)
{
  g_free (o->config);
  g_free (o->address);
  g_free (o->path);
  g_free (o->cert);
  g_free (o->key);
  g_free (o->web_root);
  g_free (o->client_script);
  g_free (o->auth_file);
  g_strfreev (o->origins);
  g_strfreev (o->auth_tokens);
  g_strfreev (o->trusted_proxies);
  g_free (o->turn_secret);
  g_strfreev (o->turn_urls);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear);

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
on_cluster_state (GstMeshSignalServer * server, gboolean up,
    const gchar * reason, gpointer user_data)
{
  gchar *url = NULL;

  g_object_get (server, "redis-url", &url, NULL);
  if (up)
    g_print ("In the cluster on %s\n", url);
  else
    g_printerr ("gst-mesh-server: the cluster's Redis at %s is unreachable "
        "(%s): serving this server's clients alone until it is back\n", url,
        reason ? reason : "unknown");
  g_free (url);
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

static GOptionContext *
options_context (Options * o)
{
  GOptionEntry entries[] = {
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config,
        "Read options from FILE first: one \"name = value\" per line, names "
        "as the long options, '#' starts a comment; the command line "
        "overrides single values and adds to lists", "FILE"},
    {"address", 'a', 0, G_OPTION_ARG_STRING, &o->address,
        "IP address to listen on (default: all)", "ADDR"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &o->port,
        "TCP port, 0 for any free one (default: 4000, as the seed)", "PORT"},
    {"path", 0, 0, G_OPTION_ARG_STRING, &o->path,
        "Socket.IO path (default: /socket.io/)", "PATH"},
    {"allowed-origins", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->origins,
        "Origin allowed (CORS, and browsers from other origins get 403), "
        "repeatable; \"*\" for any (default: *); reloaded on SIGHUP",
        "ORIGIN"},
    {"auth-token", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->auth_tokens,
        "Clients must connect with auth {\"token\": TOKEN}, repeatable: any "
        "one is accepted (visible in ps: prefer --auth-file)", "TOKEN"},
    {"auth-file", 0, 0, G_OPTION_ARG_FILENAME, &o->auth_file,
        "Accepted auth tokens, one per line ('#' starts a comment line); "
        "reloaded on SIGHUP", "FILE"},
    {"max-room-peers", 0, 0, G_OPTION_ARG_INT, &o->max_room_peers,
        "Most members of a room; a join into a full room is refused "
        "(default: 0, unlimited)", "N"},
    {"max-event-rate", 0, 0, G_OPTION_ARG_INT, &o->max_event_rate,
        "Events per second per client, bursts of N; more are dropped with an "
        "error event, 10x for 5 s disconnects (default: 200; 0: unlimited)",
        "N"},
    {"cert", 0, 0, G_OPTION_ARG_FILENAME, &o->cert,
        "PEM certificate file: serve https and wss", "FILE"},
    {"key", 0, 0, G_OPTION_ARG_FILENAME, &o->key,
        "PEM private key file for --cert", "FILE"},
    {"web-root", 'w', 0, G_OPTION_ARG_FILENAME, &o->web_root,
        "Serve the files of this directory (the demo page)", "DIR"},
    {"client-script", 0, 0, G_OPTION_ARG_FILENAME, &o->client_script,
        "Serve this socket.io client script at PATH/socket.io.js, as the "
        "Node server does", "FILE"},
    {"ping-interval", 0, 0, G_OPTION_ARG_INT, &o->ping_interval,
        "Milliseconds between pings (default: 25000)", "MS"},
    {"ping-timeout", 0, 0, G_OPTION_ARG_INT, &o->ping_timeout,
        "Milliseconds to wait for a pong (default: 20000)", "MS"},
    {"max-payload", 0, 0, G_OPTION_ARG_INT64, &o->max_payload,
        "Largest message in bytes (default: 1000000)", "BYTES"},
    {"header-timeout", 0, 0, G_OPTION_ARG_INT, &o->header_timeout,
        "Milliseconds an HTTP connection may take to send a request's "
        "headers, from its start or its last response; then it is closed "
        "(slow or idle clients; default: 10000; 0: no limit)", "MS"},
    {"trusted-proxy", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->trusted_proxies,
        "Address or network (10.0.0.0/8) of a reverse proxy whose "
        "X-Forwarded-For names the client, repeatable (default: none, the "
        "header is ignored)", "ADDR"},
    {"turn-secret", 0, 0, G_OPTION_ARG_STRING, &o->turn_secret,
        "Secret shared with coturn (its static-auth-secret, with "
        "use-auth-secret): each client gets time-limited TURN credentials "
        "for the --turn-url servers in an \"ice-servers\" event (better "
        "in the config file than on the command line)", "SECRET"},
    {"turn-url", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->turn_urls,
        "ICE server handed out with the credentials, as browsers write it "
        "(turn:HOST:3478, turn:HOST:3478?transport=tcp, turns:HOST:5349, "
        "stun:HOST:3478), repeatable", "URL"},
    {"turn-ttl", 0, 0, G_OPTION_ARG_INT, &o->turn_ttl,
        "Seconds the TURN credentials stay valid (default: 86400)", "S"},
    {"redis", 0, 0, G_OPTION_ARG_STRING, &o->redis,
        "Join the cluster of Socket.IO servers on this Redis "
        "(redis://HOST[:PORT][/DB]), as a node of @socket.io/redis-adapter: "
        "broadcasts reach the clients of every server", "URL"},
    {"redis-key", 0, 0, G_OPTION_ARG_STRING, &o->redis_key,
        "Prefix of the cluster's Redis channels, the adapter's key "
        "(default: socket.io)", "KEY"},
    {"metrics", 0, 0, G_OPTION_ARG_NONE, &o->metrics,
        "Serve GET /metrics in the Prometheus text format (GET /healthz is "
        "always served)", NULL},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o->verbose,
        "Say more about each connection and relay", NULL},
    {NULL}
  };
  GOptionContext *ctx =
      g_option_context_new ("- WebRTC mesh signalling server (Socket.IO)");

  g_option_context_set_summary (ctx,
      "Relays offer, answer and candidate events to every other client, "
      "like the seed's Node server,\nso its web page and the meshsignal "
      "element work against it unchanged; adds mesh rooms\n(join, leave, "
      "routed messages) and optional auth tokens, origin checks and "
      "limits.\nSee docs/protocol.md, and man gst-mesh-server.");
  g_option_context_set_description (ctx,
      "Signals: SIGINT and SIGTERM stop the server; SIGHUP reads the config "
      "file and the auth file\nagain and applies their auth tokens and "
      "allowed origins without dropping a client.\n\n"
      "Exit status: 0 after a signal, 1 when the server cannot start, 2 on "
      "bad options.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  return ctx;
}

/* The --config FILE (or --config=FILE, -c FILE) of @argv, if any. */
static const gchar *
find_config (gint argc, gchar ** argv)
{
  gint i;

  for (i = 1; i < argc; i++) {
    if (g_str_equal (argv[i], "--"))
      break;
    if ((g_str_equal (argv[i], "--config") || g_str_equal (argv[i], "-c"))
        && i + 1 < argc)
      return argv[i + 1];
    if (g_str_has_prefix (argv[i], "--config="))
      return argv[i] + strlen ("--config=");
  }
  return NULL;
}

/* The config file as command-line arguments: "name = value" becomes
 * "--name=value", "name = true" of a flag "--name". */
static gboolean
config_args (const gchar * filename, GPtrArray * args, GError ** error)
{
  static const gchar *const flags[] = { "metrics", "verbose", NULL };
  g_autofree gchar *contents = NULL;
  g_auto (GStrv) lines = NULL;
  guint i;

  if (!g_file_get_contents (filename, &contents, NULL, error))
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i]; i++) {
    gchar *line = g_strstrip (lines[i]), *eq, *name, *value;

    if (!*line || *line == '#')
      continue;
    eq = strchr (line, '=');
    if (!eq) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
          "%s:%u: \"%s\" is not \"name = value\"", filename, i + 1, line);
      return FALSE;
    }
    *eq = '\0';
    name = g_strstrip (line);
    value = g_strstrip (eq + 1);
    if (g_str_equal (name, "config")) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
          "%s:%u: a config file cannot name another", filename, i + 1);
      return FALSE;
    }
    if (g_strv_contains (flags, name)) {
      if (!g_ascii_strcasecmp (value, "true") || g_str_equal (value, "1")
          || !g_ascii_strcasecmp (value, "yes"))
        g_ptr_array_add (args, g_strdup_printf ("--%s", name));
      else if (g_ascii_strcasecmp (value, "false") && !g_str_equal (value,
              "0") && g_ascii_strcasecmp (value, "no")) {
        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
            "%s:%u: %s takes true or false, not \"%s\"", filename, i + 1,
            name, value);
        return FALSE;
      }
      continue;
    }
    g_ptr_array_add (args, g_strdup_printf ("--%s=%s", name, value));
  }
  return TRUE;
}

/* Parses the config file named on the command line, then the command line,
 * into @o; on SIGHUP again, into a fresh @o. */
static gboolean
options_parse (Options * o, gint argc, gchar ** argv, GError ** error)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  const gchar *config = find_config (argc, argv);
  gchar **v;
  gint n, i;
  gboolean ok;

  memset (o, 0, sizeof (*o));
  o->port = 4000;
  o->ping_interval = 25000;
  o->ping_timeout = 20000;
  o->max_event_rate = 200;
  o->max_payload = 1000000;
  o->header_timeout = 10000;
  o->turn_ttl = 86400;

  g_ptr_array_add (args, g_strdup (argv[0]));
  if (config && !config_args (config, args, error))
    return FALSE;
  for (i = 1; i < argc; i++)
    g_ptr_array_add (args, g_strdup (argv[i]));

  ctx = options_context (o);
  /* on SIGHUP too, so that --gst-* options parse again (GStreamer's init
   * is done once) and an unknown name in the file is an error there too */
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  /* g_option_context_parse() takes arguments out of the vector it is
   * given: parse a shallow copy, free the strings from @args. */
  n = args->len;
  v = g_new0 (gchar *, n + 1);
  memcpy (v, args->pdata, n * sizeof (gchar *));
  ok = g_option_context_parse (ctx, &n, &v, error);
  if (ok && n > 1) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
        "unexpected argument \"%s\"", v[1]);
    ok = FALSE;
  }
  g_free (v);
  return ok;
}

/* The tokens of --auth-token and --auth-file together. */
static gboolean
collect_tokens (Options * o, gchar *** tokens, GError ** error)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  guint i;

  *tokens = NULL;
  if (!o->auth_tokens && !o->auth_file)
    return TRUE;
  for (i = 0; o->auth_tokens && o->auth_tokens[i]; i++) {
    if (!*o->auth_tokens[i]) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--auth-token must not be empty");
      return FALSE;
    }
    g_ptr_array_add (all, g_strdup (o->auth_tokens[i]));
  }
  if (o->auth_file && !read_auth_file (o->auth_file, all, error)) {
    g_prefix_error (error, "--auth-file: ");
    return FALSE;
  }
  g_ptr_array_add (all, NULL);
  g_ptr_array_set_free_func (all, NULL);
  *tokens = (gchar **) g_ptr_array_free (g_steal_pointer (&all), FALSE);
  return TRUE;
}

typedef struct
{
  GstMeshSignalServer *server;
  gint argc;
  gchar **argv;
} Reload;

/* SIGHUP: the tokens and origins of the config file and the auth file as
 * they are now; clients already connected stay. Other options need a
 * restart. On any error the running values stay. */
static gboolean
on_reload (gpointer user_data)
{
  Reload *r = user_data;
  g_auto (Options) o = { 0 };
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) tokens = NULL;
  const gchar *any[] = { "*", NULL };

  if (!options_parse (&o, r->argc, r->argv, &error)
      || !collect_tokens (&o, &tokens, &error)) {
    g_printerr ("SIGHUP: not reloaded, keeping the running settings: %s\n",
        error->message);
    return G_SOURCE_CONTINUE;
  }
  g_object_set (r->server, "auth-tokens", tokens, "cors-origins",
      o.origins ? o.origins : (gchar **) any, NULL);
  g_print ("SIGHUP: reloaded %u auth token%s and %u allowed origin%s\n",
      tokens ? g_strv_length (tokens) : 0,
      tokens && g_strv_length (tokens) == 1 ? "" : "s",
      o.origins ? g_strv_length (o.origins) : 1,
      o.origins && g_strv_length (o.origins) != 1 ? "s" : "");
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  /* freed on every way out, the error exits included (LeakSanitizer,
   * tools/leak-check.sh, counts those too) */
  g_auto (Options) o = { 0 };
  g_auto (GStrv) auth_tokens = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GstMeshSignalServer) server = NULL;
  GMainLoop *loop;
  gchar *url;
  Reload reload;

  setlocale (LC_ALL, "");
  if (!options_parse (&o, argc, argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  verbose = o.verbose;

  if (o.port < 0 || o.port > 65535 || o.ping_interval <= 0
      || o.ping_timeout <= 0 || o.max_payload <= 0) {
    g_printerr ("--port must be 0..65535, the ping times and --max-payload "
        "positive\n");
    return 2;
  }
  if (o.max_room_peers < 0 || o.max_event_rate < 0 || o.header_timeout < 0) {
    g_printerr ("--max-room-peers, --max-event-rate and --header-timeout "
        "must be 0 (no limit) or more\n");
    return 2;
  }
  if (!o.cert != !o.key) {
    g_printerr ("--cert and --key go together\n");
    return 2;
  }
  if (!collect_tokens (&o, &auth_tokens, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  for (guint i = 0; o.trusted_proxies && o.trusted_proxies[i]; i++) {
    GInetAddressMask *mask =
        g_inet_address_mask_new_from_string (o.trusted_proxies[i], NULL);

    if (!mask) {
      g_printerr ("--trusted-proxy \"%s\" is not an IP address or "
          "network\n", o.trusted_proxies[i]);
      return 2;
    }
    g_object_unref (mask);
  }

  if (o.redis) {
    gchar *host = NULL;
    guint port, db;

    if (!gst_mesh_redis_parse_url (o.redis, &host, &port, &db, &error)) {
      g_printerr ("--redis: %s\n", error->message);
      return 2;
    }
    g_free (host);
  }
  if (!o.turn_secret != !o.turn_urls) {
    g_printerr ("--turn-secret and --turn-url go together\n");
    return 2;
  }
  if (o.turn_ttl < 60) {
    g_printerr ("--turn-ttl must be 60 seconds or more\n");
    return 2;
  }
  for (guint i = 0; o.turn_urls && o.turn_urls[i]; i++) {
    gchar *uri = gst_mesh_ice_server_normalize (o.turn_urls[i], "check",
        "check", NULL, &error);

    if (!uri) {
      g_printerr ("--turn-url: %s\n", error->message);
      return 2;
    }
    g_free (uri);
  }

  server = gst_mesh_signal_server_new ();
  g_object_set (server, "address", o.address, "port", (guint) o.port,
      "ping-interval", (guint) o.ping_interval, "ping-timeout",
      (guint) o.ping_timeout, "max-payload", (guint64) o.max_payload,
      "web-root", o.web_root, "client-script", o.client_script,
      "tls-cert-file", o.cert, "tls-key-file", o.key, "auth-tokens",
      auth_tokens, "max-room-peers", (guint) o.max_room_peers,
      "max-event-rate", (guint) o.max_event_rate, "metrics", o.metrics,
      "header-timeout", (guint) o.header_timeout, "trusted-proxies",
      o.trusted_proxies, "turn-secret", o.turn_secret, "turn-urls",
      o.turn_urls, "turn-ttl", (guint) o.turn_ttl, NULL);
  if (o.path)
    g_object_set (server, "path", o.path, NULL);
  if (o.redis)
    g_object_set (server, "redis-url", o.redis, NULL);
  if (o.redis_key)
    g_object_set (server, "redis-key", o.redis_key, NULL);
  if (o.origins)
    g_object_set (server, "cors-origins", o.origins, NULL);

  g_signal_connect (server, "client-connected", G_CALLBACK (on_connected),
      NULL);
  g_signal_connect (server, "relayed", G_CALLBACK (on_relayed), NULL);
  g_signal_connect (server, "cluster-state", G_CALLBACK (on_cluster_state),
      NULL);
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
  reload.server = server;
  reload.argc = argc;
  reload.argv = argv;
  g_unix_signal_add (SIGHUP, on_reload, &reload);
  g_main_loop_run (loop);

  g_print ("Shutting down\n");
  gst_mesh_signal_server_stop (server);
  g_main_loop_unref (loop);
  return 0;
}
