/* gst-mesh: libFuzzer target for the server's HTTP handling.
 *
 * One in-process server, built once, as tests/servers/sio-test-server.c
 * sets it up (Engine.IO + Socket.IO, namespaces "/", "/custom" and
 * "/refused", events answered, acked and echoed) but with a small
 * max-payload so that the size limits are in reach. Each input is up to
 * four raw client connections, separated by a line "~~": each is handed to
 * the SoupServer over a socket pair (soup_server_accept_iostream(), so no
 * ports and no TCP timing), written, and the main context is run until
 * nothing more happens; then the client end is closed. "@SID@" in a
 * connection's bytes is replaced by the id of the session opened last, so a
 * handshake can be followed by polls, POSTs and an upgrade. After each input
 * every session is closed, so inputs do not depend on each other; the
 * heartbeat timers (25 s) never fire during one.
 *
 * Found problems are ASan / UBSan reports, GLib criticals (made fatal) and
 * hangs. Run without -detect_leaks: libsoup 3.2 leaks one GSocket per
 * accepted connection (see tests/servers/valgrind.supp).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I . -I build \
 *     $(pkg-config --cflags libsoup-3.0 json-glib-1.0 gstreamer-sdp-1.0) \
 *     gst/mesh/gstmeshpacket.c gst/mesh/gstmesheioserver.c \
 *     gst/mesh/gstmeshsioserver.c tests/fuzz/fuzz_http.c \
 *     $(pkg-config --libs libsoup-3.0 json-glib-1.0 gstreamer-sdp-1.0) -lm
 *   ./a.out -detect_leaks=0 tests/fuzz/corpus/http
 *
 * Linked with standalone.c instead of -fsanitize=fuzzer it gets a
 * main() that runs the files named on the command line once.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/gst.h>
#include <gst/mesh/gstmesheioserver.h>
#include <gst/mesh/gstmeshsioserver.h>

#include <gio/gunixsocketaddress.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNECTIONS 4
#define SEPARATOR "\n~~\n"
/* Main loop rounds with nothing to do before a connection counts as idle;
 * and a bound on all rounds, for a peer that keeps the server busy. */
#define IDLE_ROUNDS 3
#define MAX_ROUNDS 2000

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

typedef struct
{
  GstMeshEioServer *engine;
  GstMeshSioServer *sio;
  SoupServer *soup;
  gchar *last_sid;
} Fixture;

static Fixture fx;

static void
on_answer (GstMeshSioSocket * socket, JsonArray * args,
    GPtrArray * attachments, gpointer user_data)
{
  gst_mesh_sio_socket_emit (socket, "answer-was", args, attachments);
}

static void
on_event (GstMeshSioSocket * socket, const gchar * name, JsonArray * args,
    GPtrArray * attachments, gint64 ack_id, gpointer user_data)
{
  if (g_str_equal (name, "message"))
    gst_mesh_sio_socket_emit (socket, "message-back", args, attachments);
  else if (g_str_equal (name, "message-with-ack"))
    gst_mesh_sio_socket_ack (socket, ack_id, args, attachments);
  else if (g_str_equal (name, "disconnect-me"))
    gst_mesh_sio_socket_disconnect (socket, json_array_get_length (args) > 0);
  else if (g_str_equal (name, "ask"))
    gst_mesh_sio_socket_emit_with_ack (socket, "question", args, attachments,
        on_answer, NULL, NULL);
}

static void
on_sio_connection (GstMeshSioNamespace * nsp, GstMeshSioSocket * socket,
    gpointer user_data)
{
  JsonArray *args = json_array_new ();

  json_array_add_element (args,
      json_node_copy (gst_mesh_sio_socket_get_auth (socket)));
  gst_mesh_sio_socket_emit (socket, "auth", args, NULL);
  json_array_unref (args);
  g_signal_connect (socket, "event", G_CALLBACK (on_event), NULL);
}

static gboolean
check_token (GstMeshSioNamespace * nsp, GstMeshSioSocket * socket,
    gchar ** message, JsonNode ** data, gpointer user_data)
{
  JsonNode *auth = gst_mesh_sio_socket_get_auth (socket);

  if (auth && JSON_NODE_HOLDS_OBJECT (auth)
      && g_strcmp0 (json_object_get_string_member_with_default
          (json_node_get_object (auth), "token", NULL), "secret") == 0)
    return TRUE;
  *message = g_strdup ("not authorized");
  return FALSE;
}

static void
on_engine_connection (GstMeshEioServer * engine, GstMeshEioSocket * socket,
    gpointer user_data)
{
  g_free (fx.last_sid);
  fx.last_sid = g_strdup (gst_mesh_eio_socket_get_id (socket));
}

static void
fixture_init (void)
{
  const gchar *cors[] = { "*", NULL };
  GError *error = NULL;

  if (fx.engine)
    return;

  /* Criticals are bugs: make them crashes libFuzzer can see. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  gst_init (NULL, NULL);

  fx.engine = g_object_new (GST_MESH_TYPE_EIO_SERVER, "max-payload",
      (guint64) 2000, "cors-origins", cors, NULL);
  fx.sio = gst_mesh_sio_server_new (fx.engine);
  g_signal_connect (gst_mesh_sio_server_get_namespace (fx.sio, "/"),
      "connection", G_CALLBACK (on_sio_connection), NULL);
  g_signal_connect (gst_mesh_sio_server_add_namespace (fx.sio, "/custom"),
      "connection", G_CALLBACK (on_sio_connection), NULL);
  gst_mesh_sio_namespace_set_connect_check (gst_mesh_sio_server_add_namespace
      (fx.sio, "/refused"), check_token, NULL, NULL);
  g_signal_connect (fx.engine, "connection",
      G_CALLBACK (on_engine_connection), NULL);

  fx.soup = soup_server_new (NULL, NULL);
  if (!gst_mesh_eio_server_attach (fx.engine, fx.soup, "/socket.io/",
          &error)) {
    fprintf (stderr, "attach: %s\n", error->message);
    abort ();
  }
}

/* Runs the main context until it has been idle for a few rounds (or
 * @client, when given, reached EOF). Everything is in this thread, so once
 * nothing is ready to dispatch, nothing will be until a timer fires. */
static void
pump (GSocket * client)
{
  guint idle = 0, rounds;
  gchar buf[4096];

  for (rounds = 0; rounds < MAX_ROUNDS && idle < IDLE_ROUNDS; rounds++) {
    gboolean busy = g_main_context_iteration (NULL, FALSE);

    if (client) {
      gssize n = g_socket_receive (client, buf, sizeof buf, NULL, NULL);

      if (n == 0)
        break;                  /* the server closed the connection */
      if (n > 0)
        busy = TRUE;
    }
    idle = busy ? 0 : idle + 1;
  }
}

static gchar *
substitute_sid (const gchar * chunk, gsize len, gsize * out_len)
{
  const gchar *sid = fx.last_sid ? fx.last_sid : "";
  GString *out = g_string_sized_new (len + 32);
  gsize i = 0;

  while (i < len) {
    if (len - i >= 5 && memcmp (chunk + i, "@SID@", 5) == 0) {
      g_string_append (out, sid);
      i += 5;
    } else {
      g_string_append_c (out, chunk[i++]);
    }
  }
  *out_len = out->len;
  return g_string_free (out, FALSE);
}

static GSocketAddress *
inet_address (const gchar * ip, guint16 port)
{
  GInetAddress *inet = g_inet_address_new_from_string (ip);
  GSocketAddress *addr = g_inet_socket_address_new (inet, port);

  g_object_unref (inet);
  return addr;
}

static void
run_connection (const gchar * bytes, gsize len)
{
  GSocket *server_end, *client;
  GSocketConnection *stream;
  GSocketAddress *local, *remote;
  int fds[2];
  gsize sent = 0;

  if (socketpair (AF_UNIX, SOCK_STREAM, 0, fds) != 0)
    abort ();
  server_end = g_socket_new_from_fd (fds[0], NULL);
  client = g_socket_new_from_fd (fds[1], NULL);
  g_socket_set_blocking (client, FALSE);

  /* As if over TCP from 127.0.0.1, which is what the server logs. */
  stream = g_socket_connection_factory_create_connection (server_end);
  local = inet_address ("127.0.0.1", 3000);
  remote = inet_address ("127.0.0.1", 40000);
  if (!soup_server_accept_iostream (fx.soup, G_IO_STREAM (stream), local,
          remote, NULL))
    abort ();
  g_object_unref (local);
  g_object_unref (remote);
  g_object_unref (stream);
  g_object_unref (server_end);

  /* Write in pieces when the socket buffer is full, letting the server
   * read in between. */
  while (sent < len) {
    gssize n = g_socket_send (client, bytes + sent, len - sent, NULL, NULL);

    if (n > 0)
      sent += n;
    else if (n < 0)
      pump (NULL);
    else
      break;
    if (n < 0 && !g_socket_condition_check (client, G_IO_OUT))
      break;                    /* the server stopped reading */
  }
  pump (client);

  g_socket_close (client, NULL);
  g_object_unref (client);
  pump (NULL);
}

/* The input may hold NULs: no string functions. */
static const gchar *
find_separator (const gchar * from, const gchar * end)
{
  gsize n = strlen (SEPARATOR);
  const gchar *p;

  for (p = from; p + n <= end; p++) {
    if (memcmp (p, SEPARATOR, n) == 0)
      return p;
  }
  return NULL;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const gchar *text = (const gchar *) data;
  const gchar *end = text + size;
  guint n;

  fixture_init ();
  g_clear_pointer (&fx.last_sid, g_free);

  for (n = 0; n < MAX_CONNECTIONS && text <= end; n++) {
    const gchar *sep = find_separator (text, end);
    const gchar *stop = sep ? sep : end;
    gsize len;
    gchar *bytes = substitute_sid (text, stop - text, &len);

    run_connection (bytes, len);
    g_free (bytes);
    if (!sep)
      break;
    text = sep + strlen (SEPARATOR);
  }

  gst_mesh_eio_server_close_all (fx.engine);
  pump (NULL);
  return 0;
}
