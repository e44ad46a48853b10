/* sio-load: a Socket.IO load generator for the signalling-server benchmark.
 *
 * Speaks Engine.IO v4 / Socket.IO v5 over WebSocket only, so the same
 * program loads our gst-mesh-server and the seed's Node server. Two modes:
 *
 *   --clients N --hold S   open N clients, keep them S seconds (answering
 *                          pings), report how many connected and stayed.
 *   --events E             one sender and --receivers R clients (R = 1 is a
 *                          1:1 call); the sender emits E `candidate` events
 *                          with at most --window of them not yet received
 *                          by every receiver; reports events/s received and
 *                          the latency percentiles of receiver 1.
 *
 * It must not be the bottleneck, so it does its own I/O: non-blocking
 * sockets in one epoll set, the WebSocket handshake and framing written
 * here (RFC 6455, client side: masked frames), and what it sends in one
 * loop iteration goes out in one send() per socket. The hot path neither
 * parses nor allocates: the event frame is built and masked once, received
 * events are recognised by their prefix. The first event each receiver gets
 * is decoded with the library's codec and compared byte for byte with the
 * one sent. Its own CPU time is printed (load_cpu_s). Every wait is bounded
 * by --timeout. Only loopback addresses are accepted.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/mesh/gstmeshpacket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 60000
#define MAX_EVENTS 50000000
#define READ_SIZE 65536
#define MAX_HANDSHAKE 8192

typedef enum
{
  CLIENT_IDLE,
  CLIENT_CONNECTING,            /* TCP connect in progress */
  CLIENT_HANDSHAKE,             /* upgrade request sent, reading the 101 */
  CLIENT_OPEN,                  /* WebSocket up, waiting for the Engine.IO open */
  CLIENT_JOINING,               /* "40" sent, waiting for the Socket.IO connect */
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
  gint fd;
  guint32 events;               /* registered with epoll */
  guint8 mask[4];
  gchar key[25];                /* Sec-WebSocket-Key */
  guint8 *in;
  gsize inlen, incap;
  guint8 *out;
  gsize outlen, outcap, outoff;
  gboolean dirty;
  guint64 received;
  gboolean checked;
} Client;

#define MAX_PORTS 16

struct _Load
{
  gint epfd;
  /* the servers: one, or (--ports) several of a cluster; in relay mode the
   * sender uses the first and the receivers the second, in hold mode the
   * clients go round them */
  struct sockaddr_in addr[MAX_PORTS];
  gchar *request_head[MAX_PORTS];       /* the upgrade request up to the key */
  guint n_ports;
  gboolean quiet;
  guint8 *read_buffer;

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
  GArray *dirty;                /* guint client indices */

  /* relay mode */
  gboolean relay;
  guint64 events;
  guint window;
  gchar *event_text;            /* the Engine.IO text of the event */
  gsize event_len;
  guint8 *frame;                /* ... as the sender's masked frame */
  gsize frame_len;
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
};

static volatile sig_atomic_t stop_requested = 0;

static const gchar *const candidate_template =
    "candidate:842163049 1 udp 1677729535 192.0.2.33 54400 typ srflx "
    "raddr 10.0.2.15 rport 54400 generation 0 ufrag Zk3x network-cost 999";

static void pump (Load * load);
static void connect_more (Load * load);
static void client_failed (Client * c, const gchar * why);

static gdouble
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
on_stop_signal (int sig)
{
  stop_requested = 1;
}

/* ------------------------------------------------------------------------ */
/* Buffers and frames                                                       */
/* ------------------------------------------------------------------------ */

static void
reserve (guint8 ** buf, gsize * cap, gsize need)
{
  gsize n;

  if (need <= *cap)
    return;
  n = MAX (*cap, 512);
  while (n < need)
    n *= 2;
  *buf = g_realloc (*buf, n);
  *cap = n;
}

static void
client_update_events (Client * c)
{
  guint32 want;
  struct epoll_event ev = { 0 };

  if (c->fd < 0)
    return;
  want = EPOLLIN;
  if (c->state == CLIENT_CONNECTING || c->outoff < c->outlen)
    want |= EPOLLOUT;
  if (want == c->events)
    return;
  ev.events = want;
  ev.data.u32 = c->index;
  epoll_ctl (c->load->epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd,
      &ev);
  c->events = want;
}

static void
client_queue_raw (Client * c, const void *data, gsize len)
{
  reserve (&c->out, &c->outcap, c->outlen + len);
  memcpy (c->out + c->outlen, data, len);
  c->outlen += len;
  if (!c->dirty) {
    c->dirty = TRUE;
    g_array_append_val (c->load->dirty, c->index);
  }
}

/* A client frame: FIN, masked with the client's key. */
static gsize
build_frame (guint8 * out, guint8 opcode, const guint8 mask[4],
    const void *payload, gsize len)
{
  guint8 *p = out;
  const guint8 *src = payload;
  gsize i;

  *p++ = 0x80 | opcode;
  if (len < 126) {
    *p++ = 0x80 | len;
  } else if (len <= 0xffff) {
    *p++ = 0x80 | 126;
    *p++ = len >> 8;
    *p++ = len & 0xff;
  } else {
    gint k;

    *p++ = 0x80 | 127;
    for (k = 7; k >= 0; k--)
      *p++ = (guint8) ((guint64) len >> (k * 8));
  }
  memcpy (p, mask, 4);
  p += 4;
  for (i = 0; i < len; i++)
    *p++ = src[i] ^ mask[i & 3];
  return p - out;
}

static void
client_send (Client * c, guint8 opcode, const void *payload, gsize len)
{
  reserve (&c->out, &c->outcap, c->outlen + len + 14);
  c->outlen += build_frame (c->out + c->outlen, opcode, c->mask, payload,
      len);
  if (!c->dirty) {
    c->dirty = TRUE;
    g_array_append_val (c->load->dirty, c->index);
  }
}

static void
client_send_text (Client * c, const gchar * text)
{
  client_send (c, 0x1, text, strlen (text));
}

static void
client_flush (Client * c)
{
  while (c->outoff < c->outlen && c->fd >= 0) {
    gssize n = send (c->fd, c->out + c->outoff, c->outlen - c->outoff,
        MSG_NOSIGNAL | MSG_DONTWAIT);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        client_failed (c, g_strerror (errno));
      break;
    }
    c->outoff += n;
  }
  if (c->outoff == c->outlen) {
    c->outoff = c->outlen = 0;
    if (c->outcap > 65536) {
      g_clear_pointer (&c->out, g_free);
      c->outcap = 0;
    }
  }
  client_update_events (c);
}

static void
flush_all (Load * load)
{
  guint i;

  for (i = 0; i < load->dirty->len; i++) {
    Client *c = &load->clients[g_array_index (load->dirty, guint, i)];

    c->dirty = FALSE;
    client_flush (c);
  }
  g_array_set_size (load->dirty, 0);
}

static void
client_close_fd (Client * c)
{
  if (c->fd >= 0) {
    close (c->fd);              /* also leaves the epoll set */
    c->fd = -1;
    c->events = 0;
  }
  g_clear_pointer (&c->in, g_free);
  g_clear_pointer (&c->out, g_free);
  c->inlen = c->incap = c->outlen = c->outcap = c->outoff = 0;
}

/* ------------------------------------------------------------------------ */
/* The event                                                                */
/* ------------------------------------------------------------------------ */

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
  gchar *json, *sio_text;
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
      g_string_append_len (cand,
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
          payload - len - 64 > 56 ? 56 : payload - len - 64);
  }

  args = json_array_new ();
  json_array_add_element (args, data);
  sio = gst_mesh_sio_packet_new_event ("/", GST_MESH_SIO_NO_ID, "candidate",
      args);
  sio_text = gst_mesh_sio_packet_encode (sio);
  eio = gst_mesh_eio_packet_new (GST_MESH_EIO_MESSAGE, sio_text);
  load->event_text = gst_mesh_eio_packet_encode (eio);
  load->event_len = strlen (load->event_text);
  load->prefix = g_strdup ("42[\"candidate\",");
  load->prefix_len = strlen (load->prefix);
  g_assert (g_str_has_prefix (load->event_text, load->prefix));

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
  load->done = TRUE;
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

  eio = gst_mesh_eio_packet_decode (text, len, &error);
  if (eio) {
    gsize plen;
    const gchar *p = gst_mesh_eio_packet_get_text (eio, &plen);

    sio = gst_mesh_sio_packet_decode (p, plen, &error);
    if (sio) {
      ok = g_strcmp0 (gst_mesh_sio_packet_get_event_name (sio),
          "candidate") == 0 && len == load->event_len
          && memcmp (text, load->event_text, len) == 0;
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
    client_queue_raw (sender, load->frame, load->frame_len);
    load->sent++;
  }
}

/* ------------------------------------------------------------------------ */
/* Clients                                                                  */
/* ------------------------------------------------------------------------ */

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

  if (c->state >= CLIENT_CONNECTING && c->state <= CLIENT_JOINING) {
    load->in_flight--;
    load->n_failed++;
    if (!load->quiet || load->n_failed <= 5)
      g_printerr ("sio-load: client %u failed: %s\n", c->index, why);
    if (load->n_connected + load->n_failed == load->n_clients)
      load->t_connect_end = g_get_monotonic_time ();
    c->state = CLIENT_FAILED;
    client_close_fd (c);
    connect_more (load);
  } else if (c->state == CLIENT_CONNECTED) {
    load->n_closed++;
    c->state = CLIENT_CLOSED;
    client_close_fd (c);
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
      if (c->state == CLIENT_OPEN) {
        client_send_text (c, "40");
        c->state = CLIENT_JOINING;
      }
      break;
    case GST_MESH_EIO_PING:
      client_send_text (c, "3");
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
      } else if (sio->type == GST_MESH_SIO_CONNECT
          && c->state == CLIENT_JOINING) {
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
on_text (Client * c, const gchar * text, gsize len)
{
  if (len == 0) {
    c->load->unexpected++;
    return;
  }
  /* The hot path: a relayed event, recognised without parsing. */
  if (len > 2 && text[0] == '4' && text[1] == '2'
      && c->state == CLIENT_CONNECTED)
    on_event (c, text, len);
  else
    on_control (c, text, len);
}

/* Server frames (unmasked). Returns the bytes consumed. */
static gsize
parse_frames (Client * c, guint8 * data, gsize len)
{
  gsize pos = 0;

  while (pos + 2 <= len && c->fd >= 0) {
    guint8 op = data[pos] & 0x0f;
    guint64 plen = data[pos + 1] & 0x7f;
    gsize hlen = 2;

    if (data[pos + 1] & 0x80) {
      client_failed (c, "masked frame from the server");
      return len;
    }
    if (plen == 126) {
      if (pos + 4 > len)
        break;
      plen = (data[pos + 2] << 8) | data[pos + 3];
      hlen = 4;
    } else if (plen == 127) {
      gint k;

      if (pos + 10 > len)
        break;
      plen = 0;
      for (k = 0; k < 8; k++)
        plen = (plen << 8) | data[pos + 2 + k];
      hlen = 10;
    }
    if (len - pos - hlen < plen)
      break;
    pos += hlen;
    switch (op) {
      case 0x1:
        if (!(data[pos - hlen] & 0x80))
          client_failed (c, "fragmented message (not expected)");
        else
          on_text (c, (const gchar *) data + pos, plen);
        break;
      case 0x8:
        client_failed (c, "WebSocket closed");
        break;
      case 0x9:
        client_send (c, 0xa, data + pos, plen);
        break;
      case 0xa:
        break;
      default:
        c->load->unexpected++;
        break;
    }
    pos += plen;
  }
  return pos;
}

static void
feed (Client * c, guint8 * data, gsize len)
{
  gsize used;

  if (c->inlen == 0) {
    used = parse_frames (c, data, len);
    if (used < len && c->fd >= 0) {
      reserve (&c->in, &c->incap, len - used);
      memcpy (c->in, data + used, len - used);
      c->inlen = len - used;
    }
    return;
  }
  reserve (&c->in, &c->incap, c->inlen + len);
  memcpy (c->in + c->inlen, data, len);
  c->inlen += len;
  {
    guint8 *buf = c->in;
    gsize blen = c->inlen;

    c->in = NULL;
    c->inlen = c->incap = 0;
    used = parse_frames (c, buf, blen);
    if (used < blen && c->fd >= 0) {
      memmove (buf, buf + used, blen - used);
      c->in = buf;
      c->inlen = blen - used;
      c->incap = blen;
    } else {
      g_free (buf);
    }
  }
}

static gchar *
accept_key (const gchar * key)
{
  GChecksum *sha = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize dlen = sizeof (digest);
  gchar *accept;

  g_checksum_update (sha, (const guchar *) key, -1);
  g_checksum_update (sha,
      (const guchar *) "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", -1);
  g_checksum_get_digest (sha, digest, &dlen);
  g_checksum_free (sha);
  accept = g_base64_encode (digest, dlen);
  return accept;
}

/* Reads the 101 response; returns the offset after it, or 0 (incomplete or
 * failed: see the state). */
static gsize
parse_handshake (Client * c)
{
  gchar *head, *end, *accept, *line;
  gboolean ok = FALSE;
  gsize used;

  end = g_strstr_len ((gchar *) c->in, c->inlen, "\r\n\r\n");
  if (!end) {
    if (c->inlen > MAX_HANDSHAKE)
      client_failed (c, "handshake response too long");
    return 0;
  }
  used = end + 4 - (gchar *) c->in;
  head = g_strndup ((gchar *) c->in, used);
  accept = accept_key (c->key);
  if (g_str_has_prefix (head, "HTTP/1.1 101")) {
    gchar **lines = g_strsplit (head, "\r\n", -1), **l;

    for (l = lines; *l; l++) {
      line = *l;
      if (g_ascii_strncasecmp (line, "Sec-WebSocket-Accept:", 21) == 0
          && g_str_equal (g_strstrip (line + 21), accept))
        ok = TRUE;
    }
    g_strfreev (lines);
  }
  if (!ok) {
    gchar *first = g_strndup (head, strcspn (head, "\r\n"));
    gchar *why = g_strdup_printf ("handshake refused: %s", first);

    client_failed (c, why);
    g_free (why);
    g_free (first);
  }
  g_free (accept);
  g_free (head);
  return ok ? used : 0;
}

static void
client_readable (Client * c, guint8 * buffer)
{
  gint i;

  for (i = 0; i < 4 && c->fd >= 0; i++) {
    gssize n = recv (c->fd, buffer, READ_SIZE, MSG_DONTWAIT);

    if (n == 0) {
      client_failed (c, "connection closed by the server");
      return;
    }
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        client_failed (c, g_strerror (errno));
      return;
    }
    if (c->state == CLIENT_HANDSHAKE) {
      gsize used;

      reserve (&c->in, &c->incap, c->inlen + n);
      memcpy (c->in + c->inlen, buffer, n);
      c->inlen += n;
      used = parse_handshake (c);
      if (used) {
        guint8 *rest = c->in;
        gsize rlen = c->inlen - used;

        c->in = NULL;
        c->inlen = c->incap = 0;
        c->state = CLIENT_OPEN;
        if (rlen)
          feed (c, rest + used, rlen);
        g_free (rest);
      }
    } else {
      feed (c, buffer, n);
    }
    if (n < READ_SIZE)
      return;
  }
}

/* which of the servers @c connects to */
static guint
client_port (Client * c)
{
  Load *load = c->load;

  if (load->n_ports < 2)
    return 0;
  if (load->relay)
    return c->index == 0 ? 0 : 1;
  return c->index % load->n_ports;
}

static void
client_start_handshake (Client * c)
{
  gint err = 0;
  socklen_t elen = sizeof (err);
  gchar *req;

  if (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err) {
    client_failed (c, g_strerror (err ? err : errno));
    return;
  }
  c->state = CLIENT_HANDSHAKE;
  req = g_strdup_printf ("%s%s\r\nSec-WebSocket-Version: 13\r\n\r\n",
      c->load->request_head[client_port (c)], c->key);
  client_queue_raw (c, req, strlen (req));
  g_free (req);
  client_update_events (c);
}

static void
client_io (Client * c, guint32 events, guint8 * buffer)
{
  if (c->fd < 0)
    return;
  if (c->state == CLIENT_CONNECTING) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
      client_start_handshake (c);
    return;
  }
  if (events & EPOLLOUT)
    client_flush (c);
  if (c->fd >= 0 && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
    client_readable (c, buffer);
}

static void
client_start (Client * c)
{
  Load *load = c->load;
  guint8 raw[16];
  gchar *key;
  gint one = 1;

  c->state = CLIENT_CONNECTING;
  load->in_flight++;
  if (getrandom (raw, sizeof (raw), 0) != sizeof (raw)
      || getrandom (c->mask, 4, 0) != 4) {
    guint i;

    for (i = 0; i < sizeof (raw); i++)
      raw[i] = g_random_int ();
    for (i = 0; i < 4; i++)
      c->mask[i] = g_random_int ();
  }
  key = g_base64_encode (raw, sizeof (raw));
  g_strlcpy (c->key, key, sizeof (c->key));
  g_free (key);

  c->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    client_failed (c, g_strerror (errno));
    return;
  }
  setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
  if (connect (c->fd, (struct sockaddr *) &load->addr[client_port (c)],
          sizeof (load->addr[0])) != 0 && errno != EINPROGRESS) {
    client_failed (c, g_strerror (errno));
    return;
  }
  client_update_events (c);
}

static void
connect_more (Load * load)
{
  while (load->in_flight < load->concurrency
      && load->next_client < load->n_clients)
    client_start (&load->clients[load->next_client++]);
  if (!load->connect_done
      && load->n_connected + load->n_failed == load->n_clients) {
    load->connect_done = TRUE;
    if (load->relay && load->n_failed == 0) {
      load->t_first_send = g_get_monotonic_time ();
      pump (load);
    } else if (load->relay) {
      load->done = TRUE;
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Main                                                                     */
/* ------------------------------------------------------------------------ */

/* Runs until @until (monotonic µs), the run is done, or a signal; the
 * connect phase of hold mode also ends when every client is settled. */
static void
run (Load * load, gint64 until, gboolean until_connected, guint tick_s)
{
  struct epoll_event evs[512];
  gint64 next_tick = tick_s ? g_get_monotonic_time () + tick_s * G_USEC_PER_SEC
      : G_MAXINT64;

  while (!load->done && !stop_requested) {
    gint64 now, deadline;
    gint n, i, timeout;

    if (until_connected && load->connect_done)
      return;
    flush_all (load);
    now = g_get_monotonic_time ();
    if (now >= until) {
      if (until_connected || load->relay) {
        g_printerr ("sio-load: timed out\n");
        load->timed_out = TRUE;
        load->done = TRUE;
      }
      return;
    }
    if (now >= next_tick) {
      guint k, open = 0;

      for (k = 0; k < load->n_clients; k++)
        open += load->clients[k].state == CLIENT_CONNECTED;
      g_printerr ("sio-load: %u connected\n", open);
      next_tick = now + tick_s * G_USEC_PER_SEC;
    }
    deadline = MIN (until, next_tick);
    timeout = (gint) MIN ((deadline - now + 999) / 1000, 1000);
    n = epoll_wait (load->epfd, evs, G_N_ELEMENTS (evs), timeout);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      g_printerr ("sio-load: epoll_wait: %s\n", g_strerror (errno));
      load->done = TRUE;
      return;
    }
    for (i = 0; i < n && !load->done; i++)
      client_io (&load->clients[evs[i].data.u32], evs[i].events,
          load->read_buffer);
  }
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

int
main (int argc, char **argv)
{
  gchar *host = NULL, *path = NULL, *ready_file = NULL, *ports = NULL;
  gint port = 4000, clients = 0, hold = 0, receivers = 1, payload = 200;
  gint window = 100, concurrency = 256, timeout = 120;
  gint64 events = 0;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &host,
        "Server address, IPv4 loopback only (default: 127.0.0.1)", "ADDR"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &port, "Server port (default: 4000)",
        "PORT"},
    {"ports", 0, 0, G_OPTION_ARG_STRING, &ports,
        "Servers of a cluster, P1,P2,...: relay mode sends through P1 to "
        "receivers on P2; hold mode spreads the clients over them", "PORTS"},
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
  guint i;
  struct rlimit rl;
  struct sigaction sa = { 0 };
  gint64 t0;

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
  {
    gchar **list = g_strsplit (ports ? ports : "", ",", MAX_PORTS);
    gint p[MAX_PORTS];
    guint n = 0;

    for (i = 0; list[i] && n < MAX_PORTS; i++)
      if (*list[i])
        p[n++] = atoi (list[i]);
    g_strfreev (list);
    if (n == 0)
      p[n++] = port;
    for (i = 0; i < n; i++) {
      if (p[i] <= 0 || p[i] > 65535) {
        g_printerr ("sio-load: bad port in --ports\n");
        return 2;
      }
      load.addr[i].sin_family = AF_INET;
      load.addr[i].sin_port = htons (p[i]);
      if (inet_pton (AF_INET, host, &load.addr[i].sin_addr) != 1
          || (ntohl (load.addr[i].sin_addr.s_addr) >> 24) != 127) {
        g_printerr ("sio-load: %s is not an IPv4 loopback address\n", host);
        return 2;
      }
      load.request_head[i] = g_strdup_printf ("GET %s?EIO=4&transport="
          "websocket HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\nSec-WebSocket-Key: ",
          path ? path : "/socket.io/", host, p[i]);
    }
    load.n_ports = n;
  }

  /* One descriptor per client, plus slack. */
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
  }
  sa.sa_handler = on_stop_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);

  load.quiet = quiet;
  load.epfd = epoll_create1 (EPOLL_CLOEXEC);
  load.read_buffer = g_malloc (READ_SIZE);
  load.dirty = g_array_new (FALSE, FALSE, sizeof (guint));
  load.n_clients = load.relay ? (guint) receivers + 1 : (guint) clients;
  load.clients = g_new0 (Client, load.n_clients);
  for (i = 0; i < load.n_clients; i++) {
    load.clients[i].load = &load;
    load.clients[i].index = i;
    load.clients[i].fd = -1;
  }
  load.concurrency = concurrency;
  if (load.relay) {
    load.events = events;
    load.window = window;
    build_event (&load, payload);
    load.send_times = g_new0 (gint64, window);
    load.latencies = g_new (guint32, events);
  }

  cpu0 = cpu_seconds ();
  t0 = load.t_connect_start = g_get_monotonic_time ();
  connect_more (&load);

  if (load.relay) {
    gdouble secs;
    guint64 got;
    gdouble cpu;

    /* The sender's frame, masked once with its key. */
    load.frame = g_malloc (load.event_len + 14);
    load.frame_len = build_frame (load.frame, 0x1, load.clients[0].mask,
        load.event_text, load.event_len);
    run (&load, t0 + (gint64) timeout * G_USEC_PER_SEC, FALSE, 0);
    secs = (load.t_last_receive - load.t_first_send) / 1e6;
    got = min_received (&load);
    cpu = cpu_seconds () - cpu0;
    qsort (load.latencies, load.n_latencies, sizeof (guint32), cmp_u32);
    g_print ("RESULT mode=relay receivers=%d frame_bytes=%" G_GSIZE_FORMAT
        " window=%d events=%" G_GINT64_FORMAT " received=%" G_GUINT64_FORMAT
        " seconds=%.3f rate=%.0f p50_us=%u p90_us=%u p99_us=%u max_us=%u"
        " unexpected=%" G_GUINT64_FORMAT " failed=%u load_cpu_s=%.2f\n",
        receivers, load.event_len, window, events, got,
        secs > 0 ? secs : 0.0, secs > 0 ? got / secs : 0.0,
        percentile (load.latencies, load.n_latencies, 0.5),
        percentile (load.latencies, load.n_latencies, 0.9),
        percentile (load.latencies, load.n_latencies, 0.99),
        percentile (load.latencies, load.n_latencies, 1.0),
        load.unexpected, load.n_failed, cpu);
    return got == (guint64) events && !load.unexpected ? 0 : 1;
  }

  run (&load, t0 + (gint64) timeout * G_USEC_PER_SEC, TRUE, quiet ? 0 : 5);
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
  if (hold > 0 && !load.done && !stop_requested)
    run (&load, g_get_monotonic_time () + (gint64) hold * G_USEC_PER_SEC,
        FALSE, quiet ? 0 : 5);
  g_print ("RESULT mode=hold clients=%d connected=%u failed=%u "
      "still_open=%u hold_s=%d unexpected=%" G_GUINT64_FORMAT
      " load_cpu_s=%.2f\n", clients, load.n_connected, load.n_failed,
      count_open (&load), hold, load.unexpected, cpu_seconds () - cpu0);
  /* Exit without closing 10,000 WebSockets one by one: the kernel closes
   * them, which the servers see as transport close. */
  return load.n_failed == 0 && count_open (&load) == load.n_connected ? 0 : 1;
}
