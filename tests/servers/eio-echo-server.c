/* gst-mesh: the Engine.IO echo server the official engine.io-protocol test
 * suite expects: every message goes back as it came (text as text, binary as
 * binary) on http://localhost:3000/engine.io/, pingInterval 300 ms,
 * pingTimeout 200 ms, maxPayload 1000000, CORS "*".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <gst/mesh/gstmesheioserver.h>
#include <glib-unix.h>
#include <stdlib.h>

static void
on_message (GstMeshEioSocket * socket, GBytes * data, gboolean binary,
    gpointer user_data)
{
  gst_mesh_eio_socket_send (socket, data, binary);
}

static void
on_connection (GstMeshEioServer * server, GstMeshEioSocket * socket,
    gpointer user_data)
{
  g_signal_connect (socket, "message", G_CALLBACK (on_message), NULL);
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
  const gchar *port_env = g_getenv ("PORT");
  guint port = port_env ? atoi (port_env) : 3000;
  GstMeshEioServer *server;
  GError *error = NULL;
  GMainLoop *loop;

  gst_init (&argc, &argv);
  server = g_object_new (GST_MESH_TYPE_EIO_SERVER, "ping-interval", 300,
      "ping-timeout", 200, "max-payload", (guint64) 1000000, "cors-origins",
      cors, NULL);
  g_signal_connect (server, "connection", G_CALLBACK (on_connection), NULL);
  if (!gst_mesh_eio_server_listen (server, NULL, port, &error)) {
    g_printerr ("Cannot listen on port %u: %s\n", port, error->message);
    return 1;
  }
  g_print ("Engine.IO echo server on http://localhost:%u/engine.io/\n",
      gst_mesh_eio_server_get_port (server));

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit, loop);
  g_unix_signal_add (SIGTERM, quit, loop);
  g_main_loop_run (loop);

  g_object_unref (server);
  g_main_loop_unref (loop);
  return 0;
}
