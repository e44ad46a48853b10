/* gst-mesh: the Socket.IO server the official socket.io-protocol test suite
 * expects, on http://localhost:3000/socket.io/: on connect it emits "auth"
 * with the handshake's auth payload, answers "message" with "message-back"
 * and the same arguments, acks "message-with-ack" with its arguments; the
 * /custom namespace emits "auth" too. pingInterval 300 ms, pingTimeout
 * 200 ms, maxPayload 1000000, connectTimeout 1000 ms, CORS "*".
 *
 * Beyond the suite, for tests/node/server-client.test.mjs: "disconnect-me"
 * (argument true: close the whole connection) makes the server disconnect
 * the socket, "ask" makes it emit "question" with an ack and emit
 * "answer-was" with the client's answer, and /refused refuses everyone
 * unless auth.token is "secret".
 *
 * PORT, PING_INTERVAL, PING_TIMEOUT and CONNECT_TIMEOUT (ms) in the
 * environment override the suite's values, for tests that need timeouts a
 * loaded machine can keep.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <gst/mesh/gstmeshsioserver.h>
#include <glib-unix.h>
#include <stdlib.h>

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
    gst_mesh_sio_socket_disconnect (socket, json_array_get_length (args) > 0
        && json_node_get_boolean (json_array_get_element (args, 0)));
  else if (g_str_equal (name, "ask"))
    gst_mesh_sio_socket_emit_with_ack (socket, "question", args, attachments,
        on_answer, NULL, NULL);
}

static gboolean
check_token (GstMeshSioNamespace * nsp, GstMeshSioSocket * socket,
    gchar ** message, JsonNode ** data, gpointer user_data)
{
  JsonObject *auth = json_node_get_object (gst_mesh_sio_socket_get_auth
      (socket));
  JsonObject *details;

  if (g_strcmp0 (json_object_get_string_member_with_default (auth, "token",
              NULL), "secret") == 0)
    return TRUE;
  *message = g_strdup ("not authorized");
  details = json_object_new ();
  json_object_set_string_member (details, "reason", "missing token");
  *data = json_node_init_object (json_node_alloc (), details);
  json_object_unref (details);
  return FALSE;
}

static void
emit_auth (GstMeshSioNamespace * nsp, GstMeshSioSocket * socket,
    gpointer user_data)
{
  JsonArray *args = json_array_new ();

  json_array_add_element (args,
      json_node_copy (gst_mesh_sio_socket_get_auth (socket)));
  gst_mesh_sio_socket_emit (socket, "auth", args, NULL);
  json_array_unref (args);
}

static void
on_main_connection (GstMeshSioNamespace * nsp, GstMeshSioSocket * socket,
    gpointer user_data)
{
  emit_auth (nsp, socket, NULL);
  g_signal_connect (socket, "event", G_CALLBACK (on_event), NULL);
}

static guint
env_uint (const gchar * name, guint fallback)
{
  const gchar *value = g_getenv (name);

  return value && *value ? (guint) atoi (value) : fallback;
}

static gboolean
quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  const gchar *cors[] = { "*", NULL };
  guint port = env_uint ("PORT", 3000);
  GstMeshEioServer *engine;
  GstMeshSioServer *server;
  SoupServer *soup;
  GError *error = NULL;
  GMainLoop *loop;

  gst_init (&argc, &argv);
  engine = g_object_new (GST_MESH_TYPE_EIO_SERVER,
      "ping-interval", env_uint ("PING_INTERVAL", 300),
      "ping-timeout", env_uint ("PING_TIMEOUT", 200),
      "max-payload", (guint64) 1000000, "cors-origins", cors, NULL);
  server = gst_mesh_sio_server_new (engine);
  g_object_set (server, "connect-timeout", env_uint ("CONNECT_TIMEOUT", 1000),
      NULL);

  g_signal_connect (gst_mesh_sio_server_get_namespace (server, "/"),
      "connection", G_CALLBACK (on_main_connection), NULL);
  g_signal_connect (gst_mesh_sio_server_add_namespace (server, "/custom"),
      "connection", G_CALLBACK (emit_auth), NULL);
  gst_mesh_sio_namespace_set_connect_check (gst_mesh_sio_server_add_namespace
      (server, "/refused"), check_token, NULL, NULL);

  soup = soup_server_new (NULL, NULL);
  if (!gst_mesh_eio_server_attach (engine, soup, "/socket.io/", &error)
      || !gst_mesh_eio_server_listen (engine, NULL, port, &error)) {
    g_printerr ("Cannot listen on port %u: %s\n", port, error->message);
    return 1;
  }
  g_print ("Socket.IO test server on http://localhost:%u/socket.io/\n",
      gst_mesh_eio_server_get_port (engine));

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit, loop);
  g_unix_signal_add (SIGTERM, quit, loop);
  g_main_loop_run (loop);

  g_object_unref (server);
  g_object_unref (engine);
  g_object_unref (soup);
  g_main_loop_unref (loop);
  return 0;
}
