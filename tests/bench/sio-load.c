/* sio-load: a Socket.IO load generator for the signalling-server benchmark.
 *
 * Speaks Engine.IO v4 / Socket.IO v5 over WebSocket only (libsoup 3 client,
 * the library's packet codec), so the same program loads our
 * gst-mesh-server and the seed's Node server. Two modes:
 *
 *   --clients N --hold S   open N clients, keep them S seconds (answering
 *                          pings), report how many connected and stayed.
 *   --events E             one sender and --receivers R clients (R = 1 is a
 *                          1:1 call); the sender emits E `candidate` events
 *                          with at most --window of them not yet received
 *                          by every receiver; reports events/s received and
 *                          the latency percentiles of receiver 1.
 *
 * Single-threaded: the hot path neither parses nor allocates JSON (the
 * event frame is encoded once, received events are recognised by their
 * prefix), so one core of it outruns the single-threaded servers it loads;
 * its own CPU time is printed to show that. Every wait is bounded by
 * --timeout. Only 127.0.0.1 (or another loopback address) is accepted.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/mesh/gstmeshpacket.h>
#include <libsoup/soup.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_CLIENTS 60000
#define MAX_EVENTS 50000000

typedef enum
{
  CLIENT_IDLE,
  CLIENT_CONNECTING,
  CLIENT_OPEN,                  /* WebSocket up, waiting for the Socket.IO connect */
  CLIENT_CONNECTED,
  CLIENT_CLOSED,
  CLIENT_FAILED,
} ClientState;

typedef struct _Load Load;

typedef struct
{
  Load *load;
  guint index;
  ClientState state;
  SoupMessage *msg;
  SoupWebsocketConnection *ws;
  guint64 received;
  gboolean checked;
} Client;

struct _Load
{
  GMainLoop *loop;
  SoupSession *session;
  gchar *ws_url;
  gboolean quiet;

  Client *clients;
  guint n_clients;
  guint next_client;
  guint in_flight;
  guint concurrency;
  guint n_connected;
  guint n_failed;
  guint n_closed;
  gint64 t_connect_start;
  gint64 t_connect_end;
  gboolean connect_done;

  /* relay mode */
  gboolean relay;
  guint64 events;
  guint window;
  GBytes *frame;
  gchar *prefix;
  gsize prefix_len;
  guint64 sent;
  guint64 unexpected;
  gint64 *send_times;           /* ring of @window send times */
  guint32 *latencies;           /* microseconds, receiver 1 */
  guint64 n_latencies;
  gint64 t_first_send;
  gint64 t_last_receive;
  gboolean done;
  gboolean timed_out;

  /* hold mode: the connect phase is bounded by --timeout, the hold by
   * --hold */
  guint hold;
  gboolean holding;
  gchar *ready_file;
};

static const gchar *const candidate_template =
    "candidate:842163049 1 udp 1677729535 192.0.2.33 54400 typ srflx "
    "raddr 10.0.2.15 rport 54400 generation 0 ufrag Zk3x network-cost 999";

static void pump (Load * load);
static void connect_more (Load * load);

static gdouble
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The event the seed's page sends for each ICE candidate, padded in its
 * candidate string to @payload bytes of JSON. */
static void
build_event (Load * load, guint payload)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *data;
  JsonArray *args;
  GstMeshSioPacket *sio;
  GstMeshEioPacket *eio;
  GString *cand = g_string_new (candidate_template);
  gchar *json, *sio_text, *eio_text;
  gsize len;

  for (;;) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "candidate");
    json_builder_add_string_value (b, cand->str);
    json_builder_set_member_name (b, "sdpMid");
    json_builder_add_string_value (b, "0");
    json_builder_set_member_name (b, "sdpMLineIndex");
    json_builder_add_int_value (b, 0);
    json_builder_set_member_name (b, "usernameFragment");
    json_builder_add_string_value (b, "Zk3x");
    json_builder_end_object (b);
    data = json_builder_get_root (b);
    json = gst_mesh_json_to_string (data);
    len = strlen (json);
    g_free (json);
    json_builder_reset (b);
    if (len >= payload || cand->len > 1000000)
      break;
    json_node_unref (data);
    g_string_append_c (cand, 'x');
    if (len + 64 < payload)
      g_string_append_len (cand, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
          payload - len - 64 > 56 ? 56 : payload - len - 64);
  }

  args = json_array_new ();
  json_array_add_element (args, data);
  sio = gst_mesh_sio_packet_new_event ("/", GST_MESH_SIO_NO_ID, "candidate",
      args);
  sio_text = gst_mesh_sio_packet_encode (sio);
  eio = gst_mesh_eio_packet_new (GST_MESH_EIO_MESSAGE, sio_text);
  eio_text = gst_mesh_eio_packet_encode (eio);
  load->frame = g_bytes_new_take (eio_text, strlen (eio_text));
  load->prefix = g_strdup ("42[\"candidate\",");
  load->prefix_len = strlen (load->prefix);
  g_assert (g_str_has_prefix (eio_text, load->prefix));

  gst_mesh_eio_packet_free (eio);
  gst_mesh_sio_packet_free (sio);
  g_free (sio_text);
  json_array_unref (args);
  g_string_free (cand, TRUE);
  g_object_unref (b);
}

static guint64
min_received (Load * load)
{
  guint64 m = G_MAXUINT64;
  guint i;

  for (i = 1; i < load->n_clients; i++)
    m = MIN (m, load->clients[i].received);
  return m;
}

static void
finish (Load * load)
{
  if (!load->done) {
    load->done = TRUE;
    g_main_loop_quit (load->loop);
  }
}

/* Checks the first event a receiver gets with the full codec: the seed's
 * semantics are that the payload arrives unchanged. */
static gboolean
check_event (Load * load, const gchar * text, gsize len)
{
  GError *error = NULL;
  GstMeshEioPacket *eio;
  GstMeshSioPacket *sio;
  gboolean ok = FALSE;
  gsize sent_len;
  const gchar *sent = g_bytes_get_data (load->frame, &sent_len);

  eio = gst_mesh_eio_packet_decode (text, len, &error);
  if (eio) {
    gsize plen;
    const gchar *p = gst_mesh_eio_packet_get_text (eio, &plen);

    sio = gst_mesh_sio_packet_decode (p, plen, &error);
    if (sio) {
      ok = g_strcmp0 (gst_mesh_sio_packet_get_event_name (sio),
          "candidate") == 0 && len == sent_len && memcmp (text, sent, len) == 0;
      gst_mesh_sio_packet_free (sio);
    }
    gst_mesh_eio_packet_free (eio);
  }
  if (error) {
    g_printerr ("sio-load: bad event: %s\n", error->message);
    g_error_free (error);
  } else if (!ok) {
    g_printerr ("sio-load: relayed event differs from the one sent\n");
  }
  return ok;
}

static void
on_event (Client * c, const gchar * text, gsize len)
{
  Load *load = c->load;
  gint64 now;

  if (!load->relay || c->index == 0 || len < load->prefix_len
      || memcmp (text, load->prefix, load->prefix_len) != 0) {
    load->unexpected++;
    return;
  }
  if (!c->checked) {
    c->checked = TRUE;
    if (!check_event (load, text, len)) {
      load->unexpected++;
      finish (load);
      return;
    }
  }
  now = g_get_monotonic_time ();
  /* One sender, in-order delivery: the k-th event received is the k-th sent. */
  if (c->index == 1 && c->received < load->sent)
    load->latencies[load->n_latencies++] =
        (guint32) MIN (now - load->send_times[c->received % load->window],
        G_MAXUINT32);
  c->received++;
  load->t_last_receive = now;
  if (min_received (load) >= load->events) {
    finish (load);
    return;
  }
  pump (load);
}

static void
client_connected (Client * c)
{
  Load *load = c->load;

  c->state = CLIENT_CONNECTED;
  load->n_connected++;
  load->in_flight--;
  if (load->n_connected + load->n_failed == load->n_clients)
    load->t_connect_end = g_get_monotonic_time ();
  connect_more (load);
}

static void
client_failed (Client * c, const gchar * why)
{
  Load *load = c->load;

  if (c->state == CLIENT_CONNECTING || c->state == CLIENT_OPEN) {
    load->in_flight--;
    load->n_failed++;
    if (!load->quiet || load->n_failed <= 5)
      g_printerr ("sio-load: client %u failed: %s\n", c->index, why);
    if (load->n_connected + load->n_failed == load->n_clients)
      load->t_connect_end = g_get_monotonic_time ();
    c->state = CLIENT_FAILED;
    connect_more (load);
  } else if (c->state == CLIENT_CONNECTED) {
    load->n_closed++;
    c->state = CLIENT_CLOSED;
    if (load->relay) {
      g_printerr ("sio-load: client %u lost: %s\n", c->index, why);
      finish (load);
    }
  }
}

static void
on_control (Client * c, const gchar * text, gsize len)
{
  GError *error = NULL;
  GstMeshEioPacket *eio = gst_mesh_eio_packet_decode (text, len, &error);
  GstMeshSioPacket *sio;
  const gchar *p;
  gsize plen;

  if (!eio) {
    client_failed (c, error->message);
    g_error_free (error);
    return;
  }
  switch (eio->type) {
    case GST_MESH_EIO_OPEN:
      if (c->state == CLIENT_OPEN)
        soup_websocket_connection_send_text (c->ws, "40");
      break;
    case GST_MESH_EIO_PING:
      soup_websocket_connection_send_text (c->ws, "3");
      break;
    case GST_MESH_EIO_CLOSE:
      client_failed (c, "Engine.IO close");
      break;
    case GST_MESH_EIO_MESSAGE:
      p = gst_mesh_eio_packet_get_text (eio, &plen);
      sio = gst_mesh_sio_packet_decode (p, plen, &error);
      if (!sio) {
        client_failed (c, error->message);
        g_error_free (error);
      } else if (sio->type == GST_MESH_SIO_CONNECT && c->state == CLIENT_OPEN) {
        client_connected (c);
      } else if (sio->type == GST_MESH_SIO_CONNECT_ERROR) {
        client_failed (c, "CONNECT_ERROR");
      } else if (sio->type == GST_MESH_SIO_EVENT) {
        c->load->unexpected++;
      }
      if (sio)
        gst_mesh_sio_packet_free (sio);
      break;
    default:
      break;
  }
  gst_mesh_eio_packet_free (eio);
}

static void
on_ws_message (SoupWebsocketConnection * ws, gint type, GBytes * message,
    Client * c)
{
  gsize len;
  const gchar *text = g_bytes_get_data (message, &len);

  if (type != SOUP_WEBSOCKET_DATA_TEXT || len == 0) {
    c->load->unexpected++;
    return;
  }
  /* The hot path: a relayed event, recognised without parsing. */
  if (len > 2 && text[0] == '4' && text[1] == '2')
    on_event (c, text, len);
  else
    on_control (c, text, len);
}

static void
on_ws_closed (SoupWebsocketConnection * ws, Client * c)
{
  client_failed (c, "WebSocket closed");
}

static void
on_ws_connected (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Client *c = user_data;
  GError *error = NULL;

  g_clear_object (&c->msg);
  c->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      &error);
  if (!c->ws) {
    client_failed (c, error->message);
    g_error_free (error);
    return;
  }
  c->state = CLIENT_OPEN;
  g_signal_connect (c->ws, "message", G_CALLBACK (on_ws_message), c);
  g_signal_connect (c->ws, "closed", G_CALLBACK (on_ws_closed), c);
}

static void
connect_more (Load * load)
{
  while (load->in_flight < load->concurrency
      && load->next_client < load->n_clients) {
    Client *c = &load->clients[load->next_client++];

    c->state = CLIENT_CONNECTING;
    c->msg = soup_message_new (SOUP_METHOD_GET, load->ws_url);
    load->in_flight++;
    soup_session_websocket_connect_async (load->session, c->msg, NULL, NULL,
        G_PRIORITY_DEFAULT, NULL, on_ws_connected, c);
  }
  if (!load->connect_done
      && load->n_connected + load->n_failed == load->n_clients) {
    load->connect_done = TRUE;
    if (load->relay && load->n_failed == 0) {
      load->t_first_send = g_get_monotonic_time ();
      pump (load);
    } else if (!load->relay || load->n_failed) {
      g_main_loop_quit (load->loop);
    }
  }
}

/* Keeps at most @window events sent but not yet received by every
 * receiver: a closed loop, so neither server is measured on how much it can
 * buffer, and latency is the relay's, not a queue's. */
static void
pump (Load * load)
{
  Client *sender = &load->clients[0];
  guint64 floor = min_received (load);

  while (load->sent < load->events && load->sent - floor < load->window) {
    load->send_times[load->sent % load->window] = g_get_monotonic_time ();
    soup_websocket_connection_send_message (sender->ws,
        SOUP_WEBSOCKET_DATA_TEXT, load->frame);
    load->sent++;
  }
}

static gboolean
on_timeout (gpointer user_data)
{
  Load *load = user_data;

  g_printerr ("sio-load: timed out\n");
  load->done = TRUE;
  load->timed_out = TRUE;
  g_main_loop_quit (load->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer user_data)
{
  Load *load = user_data;

  load->done = TRUE;
  g_main_loop_quit (load->loop);
  return G_SOURCE_REMOVE;
}

static gint
cmp_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

static guint32
percentile (guint32 * v, guint64 n, gdouble p)
{
  if (n == 0)
    return 0;
  return v[MIN (n - 1, (guint64) (p * (n - 1) + 0.5))];
}

static guint
count_open (Load * load)
{
  guint i, n = 0;

  for (i = 0; i < load->n_clients; i++)
    n += load->clients[i].state == CLIENT_CONNECTED;
  return n;
}

static gboolean
on_hold_tick (gpointer user_data)
{
  Load *load = user_data;

  if (!load->quiet)
    g_printerr ("sio-load: %u connected\n", count_open (load));
  return G_SOURCE_CONTINUE;
}

static gboolean
on_hold_end (gpointer user_data)
{
  Load *load = user_data;

  g_main_loop_quit (load->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
is_loopback (const gchar * host)
{
  GInetAddress *addr = g_inet_address_new_from_string (host);
  gboolean ok = addr && g_inet_address_get_is_loopback (addr);

  g_clear_object (&addr);
  return ok;
}

int
main (int argc, char **argv)
{
  gchar *host = NULL, *path = NULL, *ready_file = NULL;
  gint port = 4000, clients = 0, hold = 0, receivers = 1, payload = 200;
  gint window = 100, concurrency = 256, timeout = 120;
  gint64 events = 0;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &host,
        "Server address, loopback only (default: 127.0.0.1)", "ADDR"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &port, "Server port (default: 4000)",
        "PORT"},
    {"path", 0, 0, G_OPTION_ARG_STRING, &path,
        "Socket.IO path (default: /socket.io/)", "PATH"},
    {"clients", 'n', 0, G_OPTION_ARG_INT, &clients,
        "Hold mode: number of clients to open", "N"},
    {"hold", 0, 0, G_OPTION_ARG_INT, &hold,
        "Hold mode: seconds to keep them open", "S"},
    {"ready-file", 0, 0, G_OPTION_ARG_FILENAME, &ready_file,
        "Hold mode: write the connected count here once connecting is over",
        "FILE"},
    {"concurrency", 0, 0, G_OPTION_ARG_INT, &concurrency,
        "Handshakes in flight at once (default: 256)", "N"},
    {"events", 'e', 0, G_OPTION_ARG_INT64, &events,
        "Relay mode: events the sender emits", "E"},
    {"receivers", 'r', 0, G_OPTION_ARG_INT, &receivers,
        "Relay mode: clients receiving them (default: 1, a 1:1 call)", "R"},
    {"payload", 0, 0, G_OPTION_ARG_INT, &payload,
        "Relay mode: bytes of the candidate JSON (default: 200)", "BYTES"},
    {"window", 'w', 0, G_OPTION_ARG_INT, &window,
        "Relay mode: events in flight at most (default: 100)", "N"},
    {"timeout", 't', 0, G_OPTION_ARG_INT, &timeout,
        "Give up after this many seconds (default: 120; hold adds --hold)",
        "S"},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Only the result line",
        NULL},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  Load load = { 0 };
  gdouble cpu0;
  guint i, timeout_id;
  struct rlimit rl;

  ctx = g_option_context_new ("- Socket.IO load generator");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);

  load.relay = events > 0;
  if (load.relay == (clients > 0) || port <= 0 || port > 65535
      || timeout <= 0 || concurrency <= 0
      || (load.relay && (events > MAX_EVENTS || receivers < 1
              || receivers >= MAX_CLIENTS || window < 1 || payload < 0))
      || (!load.relay && (clients > MAX_CLIENTS || hold < 0))) {
    g_printerr ("sio-load: give either --clients N [--hold S] or --events E "
        "(E <= %d, N < %d, positive port/window/timeout)\n", MAX_EVENTS,
        MAX_CLIENTS);
    return 2;
  }
  if (!host)
    host = g_strdup ("127.0.0.1");
  if (!is_loopback (host)) {
    g_printerr ("sio-load: %s is not a loopback address\n", host);
    return 2;
  }

  /* One descriptor per client, plus slack. */
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
  }

  load.quiet = quiet;
  load.loop = g_main_loop_new (NULL, FALSE);
  load.ws_url = g_strdup_printf ("ws://%s:%d%s?EIO=4&transport=websocket",
      host, port, path ? path : "/socket.io/");
  /* WebSocket connections leave the pool once upgraded; the limits only
   * bound handshakes, which --concurrency already does. */
  load.session = g_object_new (SOUP_TYPE_SESSION, "max-conns", MAX_CLIENTS,
      "max-conns-per-host", MAX_CLIENTS, "timeout", 0, "idle-timeout", 0,
      NULL);
  load.n_clients = load.relay ? (guint) receivers + 1 : (guint) clients;
  load.clients = g_new0 (Client, load.n_clients);
  for (i = 0; i < load.n_clients; i++) {
    load.clients[i].load = &load;
    load.clients[i].index = i;
  }
  load.concurrency = concurrency;
  load.ready_file = ready_file;
  if (load.relay) {
    load.events = events;
    load.window = window;
    build_event (&load, payload);
    load.send_times = g_new0 (gint64, window);
    load.latencies = g_new (guint32, events);
  }

  g_unix_signal_add (SIGINT, on_signal, &load);
  g_unix_signal_add (SIGTERM, on_signal, &load);
  timeout_id = g_timeout_add_seconds (timeout, on_timeout, &load);

  cpu0 = cpu_seconds ();
  load.t_connect_start = g_get_monotonic_time ();
  connect_more (&load);
  g_main_loop_run (load.loop);

  if (load.relay) {
    gdouble secs = (load.t_last_receive - load.t_first_send) / 1e6;
    guint64 got = min_received (&load);
    gdouble cpu = cpu_seconds () - cpu0;

    qsort (load.latencies, load.n_latencies, sizeof (guint32), cmp_u32);
    g_print ("RESULT mode=relay receivers=%d frame_bytes=%" G_GSIZE_FORMAT
        " window=%d events=%" G_GINT64_FORMAT " received=%" G_GUINT64_FORMAT
        " seconds=%.3f rate=%.0f p50_us=%u p90_us=%u p99_us=%u max_us=%u"
        " unexpected=%" G_GUINT64_FORMAT " failed=%u load_cpu_s=%.2f\n",
        receivers, g_bytes_get_size (load.frame),
        window, events, got, secs, secs > 0 ? got / secs : 0.0,
        percentile (load.latencies, load.n_latencies, 0.5),
        percentile (load.latencies, load.n_latencies, 0.9),
        percentile (load.latencies, load.n_latencies, 0.99),
        percentile (load.latencies, load.n_latencies, 1.0),
        load.unexpected, load.n_failed, cpu);
    return got == (guint64) events && !load.unexpected ? 0 : 1;
  }

  g_print ("CONNECTED connected=%u failed=%u seconds=%.2f\n",
      load.n_connected, load.n_failed,
      ((load.t_connect_end ? load.t_connect_end : g_get_monotonic_time ())
          - load.t_connect_start) / 1e6);
  fflush (stdout);
  if (ready_file) {
    gchar *s = g_strdup_printf ("%u\n", load.n_connected);

    g_file_set_contents (ready_file, s, -1, NULL);
    g_free (s);
  }
  if (!load.timed_out)
    g_source_remove (timeout_id);
  if (hold > 0 && !load.done) {
    guint tick = g_timeout_add_seconds (5, on_hold_tick, &load);

    g_timeout_add_seconds (hold, on_hold_end, &load);
    g_main_loop_run (load.loop);
    g_source_remove (tick);
  }
  g_print ("RESULT mode=hold clients=%d connected=%u failed=%u "
      "still_open=%u hold_s=%d unexpected=%" G_GUINT64_FORMAT
      " load_cpu_s=%.2f\n", clients, load.n_connected, load.n_failed,
      count_open (&load), hold, load.unexpected, cpu_seconds () - cpu0);
  /* Exit without closing 10,000 WebSockets one by one: the kernel closes
   * them, which the servers see as transport close. */
  return load.n_failed == 0 && count_open (&load) == load.n_connected ? 0 : 1;
}
