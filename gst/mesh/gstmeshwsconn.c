/* gst-mesh: server-side WebSocket connections (RFC 6455).
 *
 * SoupServer answers the upgrade handshake; the Engine.IO server then takes
 * the connection over and hands it to this file, which does the framing
 * itself instead of SoupWebsocketConnection, for three reasons measured in
 * tests/bench/server-bench.md:
 *
 * - Writes are coalesced: frames queued while the main loop dispatches go
 *   out in one send() per connection per loop iteration (libsoup makes one
 *   send() per frame, which was ~40% of the server's time relaying).
 * - One GSource for all plain connections (an epoll set), instead of one
 *   per connection: GMainContext walks every source on every iteration, so
 *   with 10,000 clients each iteration cost O(clients).
 * - Less memory per idle connection: no buffers while nothing is pending,
 *   and none of libsoup's per-connection objects kept around.
 *
 * TLS connections (and systems without epoll) go through the stolen
 * GIOStream with a pollable source of their own; the framing is the same.
 *
 * Behaviour follows libsoup's SoupWebsocketConnection in server mode, which
 * it replaces: unmasked client frames, reserved bits, unknown opcodes and
 * bad control frames close with 1002, invalid UTF-8 in text with 1007, a
 * message over the size limit with 1009; pings are answered; a close frame
 * is echoed and the server then closes the TCP connection.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshwsconn.h"
#include "gstmeshprivate.h"

#include <glib-unix.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#ifdef __linux__
#include <sys/epoll.h>
#define HAVE_EPOLL 1
#endif

#define READ_BUFFER_SIZE 65536
/* Reads per connection per dispatch: the epoll set is level-triggered, so
 * a busy client is served again on the next iteration after the others. */
#define READS_PER_DISPATCH 4
#define EPOLL_BATCH 256
/* How long a closing connection waits for the client's close frame. */
#define CLOSE_TIMEOUT_S 5
/* How long a closed connection's unread input is read and dropped. */
#define LINGER_MS 2000
#define LINGER_READS_PER_TURN 16

#define OP_CONTINUATION 0x0
#define OP_TEXT 0x1
#define OP_BINARY 0x2
#define OP_CLOSE 0x8
#define OP_PING 0x9
#define OP_PONG 0xa

#define CLOSE_NORMAL 1000
#define CLOSE_PROTOCOL_ERROR 1002
#define CLOSE_BAD_DATA 1007
#define CLOSE_TOO_BIG 1009

typedef enum
{
  CONN_OPEN,
  CONN_CLOSING,                 /* our close frame is queued or sent */
  CONN_CLOSED,                  /* transport closed */
} ConnState;

struct _GstMeshWsPoller
{
  GSource source;

  gint epfd;
  gpointer epfd_tag;
  guint8 *read_buffer;
  GPtrArray *dirty;             /* connections with output queued, a ref each */
  GPtrArray *failed;            /* write failures, reported in dispatch */
  GHashTable *conns;            /* every connection with an open transport */
  GHashTable *lingers;          /* Linger*: closed, draining their input */
  gboolean freed;
  guint64 bytes_in, bytes_out;  /* on the wire, frames included */
};

struct _GstMeshWsConn
{
  gint ref_count;
  GstMeshWsPoller *poller;      /* NULL once closed */
  ConnState state;
  guint64 max_payload;

  /* transport: a socket in the poller's epoll set, or a stream */
  gint fd;
  guint32 epoll_events;
  GIOStream *stream;
  GSource *in_source;
  GSource *out_source;

  /* input: a partial frame, a fragmented message */
  guint8 *rbuf;
  gsize rlen, rcap;
  guint8 *mbuf;
  gsize mlen, mcap;
  guint8 mopcode;
  guint64 skip;                 /* payload bytes of a refused frame to drop */
  gboolean discard;             /* framing lost: drop everything */

  /* output */
  guint8 *wbuf;
  gsize wlen, wcap, woff;
  gboolean dirty;
  gboolean close_when_flushed;
  GSource *close_timeout;

  GstMeshWsMessageFunc message_func;
  GstMeshWsClosedFunc closed_func;
  gpointer user_data;
};

static void conn_finish (GstMeshWsConn * conn);
static gboolean conn_flush (GstMeshWsConn * conn);
static void conn_update_events (GstMeshWsConn * conn);

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* RFC 3629 UTF-8, NUL included (WebSocket text may carry it; the Engine.IO
 * layer decides what it accepts). Like libsoup's check. */
static gboolean
utf8_valid (const guint8 * p, gsize len)
{
  const guint8 *end = p + len;

  while (p < end) {
    guint8 c = *p;

    if (c < 0x80) {
      /* ASCII runs, 8 bytes at a time */
      while (end - p >= 8) {
        guint64 w;

        memcpy (&w, p, 8);
        if (w & G_GUINT64_CONSTANT (0x8080808080808080))
          break;
        p += 8;
      }
      if (p < end && *p < 0x80)
        p++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      if (end - p < 2 || (p[1] & 0xc0) != 0x80)
        return FALSE;
      p += 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      if (end - p < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
        return FALSE;
      if (c == 0xe0 && p[1] < 0xa0)
        return FALSE;           /* overlong */
      if (c == 0xed && p[1] > 0x9f)
        return FALSE;           /* surrogate */
      p += 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      if (end - p < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80
          || (p[3] & 0xc0) != 0x80)
        return FALSE;
      if (c == 0xf0 && p[1] < 0x90)
        return FALSE;           /* overlong */
      if (c == 0xf4 && p[1] > 0x8f)
        return FALSE;           /* over U+10FFFF */
      p += 4;
    } else {
      return FALSE;
    }
  }
  return TRUE;
}

static void
unmask (guint8 * p, gsize len, const guint8 key[4])
{
  guint64 k64;
  guint32 k32;
  gsize i = 0;

  memcpy (&k32, key, 4);
  k64 = ((guint64) k32 << 32) | k32;
  for (; i + 8 <= len; i += 8) {
    guint64 w;

    memcpy (&w, p + i, 8);
    w ^= k64;
    memcpy (p + i, &w, 8);
  }
  for (; i < len; i++)
    p[i] ^= key[i & 3];
}

/* Grows *buf to hold @need bytes. */
static void
buf_reserve (guint8 ** buf, gsize * cap, gsize need)
{
  gsize n;

  if (need <= *cap)
    return;
  n = MAX (*cap, 256);
  while (n < need)
    n *= 2;
  *buf = g_realloc (*buf, n);
  *cap = n;
}

static void
buf_free (guint8 ** buf, gsize * len, gsize * cap)
{
  g_clear_pointer (buf, g_free);
  *len = 0;
  *cap = 0;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */
/* ------------------------------------------------------------------------ */

static void
conn_mark_dirty (GstMeshWsConn * conn)
{
  if (!conn->dirty && conn->poller) {
    conn->dirty = TRUE;
    g_ptr_array_add (conn->poller->dirty, gst_mesh_ws_conn_ref (conn));
  }
}

/* Queues one frame: a header, then @head and @data as its payload. */
static void
conn_queue_frame (GstMeshWsConn * conn, guint8 opcode, const void *head,
    gsize head_len, const void *data, gsize len)
{
  gsize plen = head_len + len;
  guint8 *p;

  buf_reserve (&conn->wbuf, &conn->wcap, conn->wlen + plen + 10);
  p = conn->wbuf + conn->wlen;
  *p++ = 0x80 | opcode;
  if (plen < 126) {
    *p++ = (guint8) plen;
  } else if (plen <= 0xffff) {
    *p++ = 126;
    *p++ = (guint8) (plen >> 8);
    *p++ = (guint8) plen;
  } else {
    gint i;

    *p++ = 127;
    for (i = 7; i >= 0; i--)
      *p++ = (guint8) ((guint64) plen >> (i * 8));
  }
  if (head_len)
    memcpy (p, head, head_len);
  p += head_len;
  if (len)
    memcpy (p, data, len);
  p += len;
  conn->wlen = p - conn->wbuf;
  conn_mark_dirty (conn);
}

static void
conn_queue_close (GstMeshWsConn * conn, gushort code)
{
  guint8 payload[2] = { code >> 8, code & 0xff };

  /* 1005 ("no status") is never sent: an empty close frame says it. */
  conn_queue_frame (conn, OP_CLOSE, NULL, 0, payload, code == 1005 ? 0 : 2);
}

static gboolean
on_stream_writable (GObject * stream, gpointer user_data)
{
  GstMeshWsConn *conn = user_data;

  g_clear_pointer (&conn->out_source, g_source_unref);
  gst_mesh_ws_conn_ref (conn);
  if (!conn_flush (conn))
    conn_finish (conn);
  gst_mesh_ws_conn_unref (conn);
  return G_SOURCE_REMOVE;
}

/* Writes what is queued. Returns %FALSE when the transport failed (the
 * caller finishes the connection). */
static gboolean
conn_flush (GstMeshWsConn * conn)
{
  while (conn->woff < conn->wlen) {
    gssize n;

    if (conn->state == CONN_CLOSED)
      return TRUE;
    if (conn->fd >= 0) {
      n = send (conn->fd, conn->wbuf + conn->woff, conn->wlen - conn->woff,
          MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          conn_update_events (conn);
          return TRUE;
        }
        return FALSE;
      }
    } else {
      GError *error = NULL;
      GPollableOutputStream *out =
          G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream
          (conn->stream));

      n = g_pollable_output_stream_write_nonblocking (out,
          conn->wbuf + conn->woff, conn->wlen - conn->woff, NULL, &error);
      if (n < 0) {
        gboolean again = g_error_matches (error, G_IO_ERROR,
            G_IO_ERROR_WOULD_BLOCK);

        g_error_free (error);
        if (!again)
          return FALSE;
        if (!conn->out_source && conn->poller) {
          conn->out_source = g_pollable_output_stream_create_source (out,
              NULL);
          g_source_set_callback (conn->out_source,
              G_SOURCE_FUNC (on_stream_writable), conn, NULL);
          g_source_attach (conn->out_source,
              g_source_get_context (&conn->poller->source));
        }
        return TRUE;
      }
    }
    conn->woff += n;
    if (conn->poller)
      conn->poller->bytes_out += n;
  }

  /* All written: no buffer kept while idle. */
  buf_free (&conn->wbuf, &conn->wlen, &conn->wcap);
  conn->woff = 0;
  if (conn->fd >= 0)
    conn_update_events (conn);
  if (conn->close_when_flushed)
    conn_finish (conn);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Closing                                                                  */
/* ------------------------------------------------------------------------ */

/* A closed connection's descriptor is read and thrown away until the
 * client closes its side, or for LINGER_MS at most, before it is closed.
 * Closing a socket with unread input makes the kernel answer with a reset,
 * and the client may lose what we wrote last: the error event that says
 * why, and our close frame. A client disconnected for flooding always has
 * input in flight. (Apache's "lingering close" does the same.) */
typedef struct
{
  GstMeshWsPoller *poller;
  gint fd;
  GSource *io;
  GSource *timer;
} Linger;

static void
linger_free (Linger * l)
{
  g_hash_table_remove (l->poller->lingers, l);
  g_source_destroy (l->io);
  g_source_unref (l->io);
  g_source_destroy (l->timer);
  g_source_unref (l->timer);
  close (l->fd);
  g_free (l);
}

static gboolean
linger_read (gint fd, GIOCondition condition, gpointer user_data)
{
  gchar buf[16384];
  gssize n = 0;

  /* a bounded number of reads a turn: the client may send for ever */
  for (gint i = 0; i < LINGER_READS_PER_TURN; i++) {
    n = read (fd, buf, sizeof buf);
    if (n <= 0)
      break;
  }
  if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
              errno == EINTR)))
    return G_SOURCE_CONTINUE;
  linger_free (user_data);      /* end of stream, or an error */
  return G_SOURCE_REMOVE;
}

static gboolean
linger_timeout (gpointer user_data)
{
  linger_free (user_data);
  return G_SOURCE_REMOVE;
}

static void
linger_close (GstMeshWsPoller * poller, gint fd)
{
  GMainContext *context = g_source_get_context (&poller->source);
  Linger *l = g_new0 (Linger, 1);

  /* our FIN goes after what is still queued */
  shutdown (fd, SHUT_WR);
  l->poller = poller;
  l->fd = fd;
  g_hash_table_add (poller->lingers, l);
  l->io = g_unix_fd_source_new (fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (l->io, G_SOURCE_FUNC (linger_read), l, NULL);
  g_source_attach (l->io, context);
  l->timer = g_timeout_source_new (LINGER_MS);
  g_source_set_callback (l->timer, linger_timeout, l, NULL);
  g_source_attach (l->timer, context);
}

static void
close_stream_done (GObject * source, GAsyncResult * res, gpointer user_data)
{
  g_io_stream_close_finish (G_IO_STREAM (source), res, NULL);
  g_object_unref (source);
}

/* Closes the transport; the connection is dead after this. */
static void
conn_finish (GstMeshWsConn * conn)
{
  GstMeshWsPoller *poller = conn->poller;

  if (conn->state == CONN_CLOSED)
    return;
  conn->state = CONN_CLOSED;
  conn->message_func = NULL;
  conn->closed_func = NULL;

  gst_mesh_clear_source (&conn->close_timeout);
  if (conn->fd >= 0) {
#ifdef HAVE_EPOLL
    if (poller && conn->epoll_events)
      epoll_ctl (poller->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
#endif
    if (poller && !poller->freed)
      linger_close (poller, conn->fd);
    else
      close (conn->fd);
    conn->fd = -1;
  }
  gst_mesh_clear_source (&conn->in_source);
  gst_mesh_clear_source (&conn->out_source);
  if (conn->stream) {
    GIOStream *stream = g_steal_pointer (&conn->stream);

    /* TLS says goodbye (close_notify) without blocking us. */
    if (poller && !poller->freed)
      g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL,
          close_stream_done, NULL);
    else {
      g_io_stream_close (stream, NULL, NULL);
      g_object_unref (stream);
    }
  }
  buf_free (&conn->rbuf, &conn->rlen, &conn->rcap);
  buf_free (&conn->mbuf, &conn->mlen, &conn->mcap);
  buf_free (&conn->wbuf, &conn->wlen, &conn->wcap);
  conn->woff = 0;
  conn->poller = NULL;
  if (poller)
    g_hash_table_remove (poller->conns, conn);  /* drops the poller's ref */
}

static gboolean
on_close_timeout (gpointer user_data)
{
  GstMeshWsConn *conn = user_data;

  g_clear_pointer (&conn->close_timeout, g_source_unref);
  conn_finish (conn);
  return G_SOURCE_REMOVE;
}

/* Sends our close frame and waits for the client's (or gives up). */
static void
conn_start_close (GstMeshWsConn * conn, gushort code)
{
  if (conn->state != CONN_OPEN)
    return;
  conn->state = CONN_CLOSING;
  conn_queue_close (conn, code);
  if (conn->poller) {
    conn->close_timeout = g_timeout_source_new_seconds (CLOSE_TIMEOUT_S);
    g_source_set_callback (conn->close_timeout, on_close_timeout, conn, NULL);
    g_source_attach (conn->close_timeout,
        g_source_get_context (&conn->poller->source));
  }
}

/* The client went away, or closed: tell the owner (once). */
static void
conn_notify_closed (GstMeshWsConn * conn, const GError * error)
{
  GstMeshWsClosedFunc func = conn->closed_func;
  gpointer data = conn->user_data;

  conn->message_func = NULL;
  conn->closed_func = NULL;
  if (func)
    func (conn, error, data);
}

static void
conn_protocol_error (GstMeshWsConn * conn, gushort code, const gchar * what)
{
  GError *error;

  if (conn->state != CONN_OPEN)
    return;
  error = g_error_new (G_IO_ERROR, code == CLOSE_TOO_BIG ?
      G_IO_ERROR_MESSAGE_TOO_LARGE : G_IO_ERROR_INVALID_DATA,
      "%s (closing with %u)", what, code);
  conn_start_close (conn, code);
  conn_notify_closed (conn, error);
  g_error_free (error);
}

/* After a protocol error the frames can no longer be told apart, so the
 * client's close frame cannot be read: the TCP connection is closed once
 * ours is written (RFC 6455 7.1.7, "Fail the WebSocket Connection"). */
static void
conn_lose_framing (GstMeshWsConn * conn)
{
  conn->discard = TRUE;
  conn->close_when_flushed = TRUE;
}

/* End of stream or a reset: nothing more can be said. */
static void
conn_lost (GstMeshWsConn * conn)
{
  gst_mesh_ws_conn_ref (conn);
  if (conn->state == CONN_OPEN)
    conn_notify_closed (conn, NULL);
  conn_finish (conn);
  gst_mesh_ws_conn_unref (conn);
}

/* ------------------------------------------------------------------------ */
/* Input                                                                    */
/* ------------------------------------------------------------------------ */

static gboolean
close_code_valid (guint code)
{
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
      || (code >= 3000 && code <= 4999);
}

static void
conn_deliver (GstMeshWsConn * conn, guint8 opcode, const guint8 * data,
    gsize len)
{
  if (opcode == OP_TEXT && !utf8_valid (data, len)) {
    conn_protocol_error (conn, CLOSE_BAD_DATA, "text message is not UTF-8");
    return;
  }
  if (conn->message_func)
    conn->message_func (conn, opcode == OP_BINARY, data, len,
        conn->user_data);
}

static void
conn_on_close_frame (GstMeshWsConn * conn, const guint8 * data, gsize len)
{
  guint code = 1005;

  if (len == 1) {
    conn_protocol_error (conn, CLOSE_PROTOCOL_ERROR, "close frame of 1 byte");
    return;
  }
  if (len >= 2) {
    code = (data[0] << 8) | data[1];
    if (!close_code_valid (code)) {
      conn_protocol_error (conn, CLOSE_PROTOCOL_ERROR, "invalid close code");
      return;
    }
    if (!utf8_valid (data + 2, len - 2)) {
      conn_protocol_error (conn, CLOSE_BAD_DATA, "close reason is not UTF-8");
      return;
    }
  }

  if (conn->state == CONN_CLOSING) {
    /* The answer to ours: the handshake is complete. */
    conn_finish (conn);
    return;
  }
  /* Echo it; the server closes the TCP connection first (RFC 6455 7.1.1). */
  conn->state = CONN_CLOSING;
  conn_queue_close (conn, code);
  conn->close_when_flushed = TRUE;
  conn_notify_closed (conn, NULL);
}

static void
conn_on_frame (GstMeshWsConn * conn, gboolean fin, guint8 opcode,
    const guint8 * data, gsize len)
{
  switch (opcode) {
    case OP_TEXT:
    case OP_BINARY:
      if (conn->state != CONN_OPEN)
        return;
      if (fin) {
        conn_deliver (conn, opcode, data, len);
      } else {
        conn->mopcode = opcode;
        buf_reserve (&conn->mbuf, &conn->mcap, len);
        memcpy (conn->mbuf, data, len);
        conn->mlen = len;
      }
      break;
    case OP_CONTINUATION:
      if (conn->state != CONN_OPEN)
        return;
      buf_reserve (&conn->mbuf, &conn->mcap, conn->mlen + len);
      memcpy (conn->mbuf + conn->mlen, data, len);
      conn->mlen += len;
      if (fin) {
        guint8 *msg = conn->mbuf;
        gsize mlen = conn->mlen;
        guint8 op = conn->mopcode;

        conn->mbuf = NULL;
        conn->mlen = conn->mcap = 0;
        conn->mopcode = 0;
        conn_deliver (conn, op, msg, mlen);
        g_free (msg);
      }
      break;
    case OP_CLOSE:
      conn_on_close_frame (conn, data, len);
      break;
    case OP_PING:
      if (conn->state == CONN_OPEN)
        conn_queue_frame (conn, OP_PONG, NULL, 0, data, len);
      break;
    default:                   /* pong */
      break;
  }
}

/* Parses the frames in @data, unmasking them in place. Returns the bytes
 * consumed; the rest is an incomplete frame. */
static gsize
conn_parse (GstMeshWsConn * conn, guint8 * data, gsize len)
{
  gsize pos = 0;

  while (conn->state != CONN_CLOSED && pos < len) {
    guint8 b0, b1, opcode;
    gsize avail, hlen;
    guint64 plen;
    gboolean fin;

    if (conn->discard)
      return len;
    if (conn->skip) {
      gsize n = MIN (conn->skip, len - pos);

      conn->skip -= n;
      pos += n;
      continue;
    }

    avail = len - pos;
    if (avail < 2)
      break;
    b0 = data[pos];
    b1 = data[pos + 1];
    fin = (b0 & 0x80) != 0;
    opcode = b0 & 0x0f;
    plen = b1 & 0x7f;
    hlen = 2;
    if (plen == 126) {
      if (avail < 4)
        break;
      plen = (data[pos + 2] << 8) | data[pos + 3];
      hlen = 4;
    } else if (plen == 127) {
      gint i;

      if (avail < 10)
        break;
      plen = 0;
      for (i = 0; i < 8; i++)
        plen = (plen << 8) | data[pos + 2 + i];
      hlen = 10;
    }

    if ((b0 & 0x70) != 0) {
      conn_protocol_error (conn, CLOSE_PROTOCOL_ERROR, "reserved bits set");
      conn_lose_framing (conn);
      continue;
    }
    if (!(b1 & 0x80)) {
      conn_protocol_error (conn, CLOSE_PROTOCOL_ERROR,
          "client frame not masked");
      conn_lose_framing (conn);
      continue;
    }
    if (opcode >= OP_CLOSE) {
      if (opcode > OP_PONG || !fin || plen > 125) {
        conn_protocol_error (conn, CLOSE_PROTOCOL_ERROR,
            "invalid control frame");
        conn_lose_framing (conn);
        continue;
      }
    } else if (opcode > OP_BINARY
        || (opcode == OP_CONTINUATION && conn->mopcode == 0)
        || (opcode != OP_CONTINUATION && conn->mopcode != 0)) {
      conn_protocol_error (conn, CLOSE_PROTOCOL_ERROR,
          "unexpected data frame");
      conn_lose_framing (conn);
      continue;
    } else if ((plen >> 62) != 0 || plen + (opcode == OP_CONTINUATION ?
            conn->mlen : 0) > conn->max_payload) {
      /* Refused before it is read: its payload is skipped as it comes. */
      conn_protocol_error (conn, CLOSE_TOO_BIG, "message too big");
      if ((plen >> 62) != 0) {
        conn_lose_framing (conn);
        continue;
      }
      buf_free (&conn->mbuf, &conn->mlen, &conn->mcap);
      conn->mopcode = 0;
      pos += hlen;
      conn->skip = 4 + plen;    /* the mask key and the payload */
      continue;
    }

    hlen += 4;                  /* the mask key */
    if (avail < hlen || avail - hlen < plen)
      break;

    unmask (data + pos + hlen, plen, data + pos + hlen - 4);
    pos += hlen + plen;
    conn_on_frame (conn, fin, opcode, data + pos - plen, plen);
  }
  return pos;
}

/* New bytes from the transport. */
static void
conn_feed (GstMeshWsConn * conn, const guint8 * data, gsize len)
{
  guint8 *buf;
  gsize blen, used;

  if (conn->poller)
    conn->poller->bytes_in += len;
  if (conn->rlen == 0) {
    /* The common case: whole frames, parsed where they were read. */
    used = conn_parse (conn, (guint8 *) data, len);
    if (used < len && conn->state != CONN_CLOSED) {
      buf_reserve (&conn->rbuf, &conn->rcap, len - used);
      memcpy (conn->rbuf, data + used, len - used);
      conn->rlen = len - used;
    }
    return;
  }

  buf_reserve (&conn->rbuf, &conn->rcap, conn->rlen + len);
  memcpy (conn->rbuf + conn->rlen, data, len);
  conn->rlen += len;
  /* Parse from a buffer the callbacks cannot free under us. */
  buf = g_steal_pointer (&conn->rbuf);
  blen = conn->rlen;
  conn->rlen = conn->rcap = 0;
  used = conn_parse (conn, buf, blen);
  if (used < blen && conn->state != CONN_CLOSED) {
    memmove (buf, buf + used, blen - used);
    conn->rbuf = buf;
    conn->rlen = blen - used;
    conn->rcap = blen;
    if (conn->rcap > 4 * conn->rlen + 4096) {
      conn->rbuf = g_realloc (conn->rbuf, conn->rlen);
      conn->rcap = conn->rlen;
    }
  } else {
    g_free (buf);
  }
}

static void
conn_read_socket (GstMeshWsConn * conn, guint8 * buffer)
{
  gint i;

  for (i = 0; i < READS_PER_DISPATCH && conn->state != CONN_CLOSED; i++) {
    gssize n = recv (conn->fd, buffer, READ_BUFFER_SIZE, MSG_DONTWAIT);

    if (n > 0) {
      conn_feed (conn, buffer, n);
      if (n < READ_BUFFER_SIZE)
        break;
    } else if (n == 0) {
      conn_lost (conn);
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else {
      conn_lost (conn);
    }
  }
}

static gboolean
on_stream_readable (GObject * stream, gpointer user_data)
{
  GstMeshWsConn *conn = user_data;
  GPollableInputStream *in = G_POLLABLE_INPUT_STREAM (stream);
  gint i;

  gst_mesh_ws_conn_ref (conn);
  for (i = 0; i < READS_PER_DISPATCH && conn->state != CONN_CLOSED
      && conn->poller; i++) {
    GError *error = NULL;
    gssize n = g_pollable_input_stream_read_nonblocking (in,
        conn->poller->read_buffer, READ_BUFFER_SIZE, NULL, &error);

    if (n > 0) {
      conn_feed (conn, conn->poller ? conn->poller->read_buffer : NULL, n);
    } else if (n == 0) {
      conn_lost (conn);
    } else {
      gboolean again = g_error_matches (error, G_IO_ERROR,
          G_IO_ERROR_WOULD_BLOCK);

      g_error_free (error);
      if (!again)
        conn_lost (conn);
      break;
    }
  }
  if (conn->poller)
    conn_flush (conn);
  gst_mesh_ws_conn_unref (conn);
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* The poller: one GSource for every connection                             */
/* ------------------------------------------------------------------------ */

static void
conn_update_events (GstMeshWsConn * conn)
{
#ifdef HAVE_EPOLL
  guint32 want = EPOLLIN | (conn->woff < conn->wlen ? EPOLLOUT : 0);
  struct epoll_event ev = { 0 };

  if (conn->fd < 0 || !conn->poller || want == conn->epoll_events)
    return;
  ev.events = want;
  ev.data.ptr = conn;
  epoll_ctl (conn->poller->epfd, conn->epoll_events ? EPOLL_CTL_MOD :
      EPOLL_CTL_ADD, conn->fd, &ev);
  conn->epoll_events = want;
#endif
}

static void
poller_flush (GstMeshWsPoller * poller)
{
  guint i;

  /* Flushing cannot queue more output, nor add to the list. */
  for (i = 0; i < poller->dirty->len; i++) {
    GstMeshWsConn *conn = g_ptr_array_index (poller->dirty, i);

    conn->dirty = FALSE;
    if (conn->state != CONN_CLOSED && !conn_flush (conn))
      g_ptr_array_add (poller->failed, gst_mesh_ws_conn_ref (conn));
    gst_mesh_ws_conn_unref (conn);
  }
  g_ptr_array_set_size (poller->dirty, 0);
}

static gboolean
poller_prepare (GSource * source, gint * timeout)
{
  GstMeshWsPoller *poller = (GstMeshWsPoller *) source;

  /* Once per main-loop iteration: what the last one queued goes out, one
   * write per connection. */
  poller_flush (poller);
  *timeout = -1;
  return poller->failed->len > 0;
}

static gboolean
poller_check (GSource * source)
{
  GstMeshWsPoller *poller = (GstMeshWsPoller *) source;

  if (poller->failed->len > 0)
    return TRUE;
  return poller->epfd_tag
      && (g_source_query_unix_fd (source, poller->epfd_tag) & G_IO_IN);
}

static gboolean
poller_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  GstMeshWsPoller *poller = (GstMeshWsPoller *) source;

  g_source_ref (source);
  while (poller->failed->len > 0 && !poller->freed) {
    GstMeshWsConn *conn = g_ptr_array_steal_index (poller->failed, 0);

    conn_lost (conn);
    gst_mesh_ws_conn_unref (conn);
  }
#ifdef HAVE_EPOLL
  if (!poller->freed && poller->epfd >= 0) {
    struct epoll_event events[EPOLL_BATCH];
    gint n, i;

    n = epoll_wait (poller->epfd, events, EPOLL_BATCH, 0);
    /* A callback may close any connection: keep them all alive. */
    for (i = 0; i < n; i++)
      gst_mesh_ws_conn_ref (events[i].data.ptr);
    for (i = 0; i < n; i++) {
      GstMeshWsConn *conn = events[i].data.ptr;

      if (poller->freed || conn->state == CONN_CLOSED || conn->fd < 0)
        continue;
      if (events[i].events & EPOLLOUT) {
        if (!conn_flush (conn)) {
          conn_lost (conn);
          continue;
        }
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        conn_read_socket (conn, poller->read_buffer);
    }
    for (i = 0; i < n; i++)
      gst_mesh_ws_conn_unref (events[i].data.ptr);
  }
#endif
  if (!poller->freed)
    poller_flush (poller);
  g_source_unref (source);
  return G_SOURCE_CONTINUE;
}

static void
poller_finalize (GSource * source)
{
  GstMeshWsPoller *poller = (GstMeshWsPoller *) source;

  g_free (poller->read_buffer);
  g_ptr_array_unref (poller->dirty);
  g_ptr_array_unref (poller->failed);
  g_hash_table_unref (poller->conns);
  g_hash_table_unref (poller->lingers);
#ifdef HAVE_EPOLL
  if (poller->epfd >= 0)
    close (poller->epfd);
#endif
}

static GSourceFuncs poller_funcs = {
  poller_prepare,
  poller_check,
  poller_dispatch,
  poller_finalize,
  NULL, NULL
};

/**
 * gst_mesh_ws_conn_read_pending:
 *
 * Reads and handles, now, what the connection has already received,
 * instead of when the poller next runs: for a caller that must see this
 * connection's messages before it acts on a request that came on another
 * one. Only for connections served from the poller's epoll set (plain
 * TCP); a TLS connection is read when its own source runs.
 */
void
gst_mesh_ws_conn_read_pending (GstMeshWsConn * conn)
{
  if (conn->fd < 0 || !conn->poller || conn->state == CONN_CLOSED)
    return;
  gst_mesh_ws_conn_ref (conn);
  conn_read_socket (conn, conn->poller->read_buffer);
  gst_mesh_ws_conn_unref (conn);
}

/**
 * gst_mesh_ws_poller_get_bytes:
 * @bytes_in: (out): bytes read from every connection so far
 * @bytes_out: (out): bytes written to them
 */
void
gst_mesh_ws_poller_get_bytes (GstMeshWsPoller * poller, guint64 * bytes_in,
    guint64 * bytes_out)
{
  *bytes_in = poller ? poller->bytes_in : 0;
  *bytes_out = poller ? poller->bytes_out : 0;
}

/**
 * gst_mesh_ws_poller_new:
 * @context: (nullable): the main context to serve connections in
 */
GstMeshWsPoller *
gst_mesh_ws_poller_new (GMainContext * context)
{
  GSource *source = g_source_new (&poller_funcs, sizeof (GstMeshWsPoller));
  GstMeshWsPoller *poller = (GstMeshWsPoller *) source;

  poller->epfd = -1;
#ifdef HAVE_EPOLL
  poller->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (poller->epfd >= 0)
    poller->epfd_tag = g_source_add_unix_fd (source, poller->epfd, G_IO_IN);
#endif
  poller->read_buffer = g_malloc (READ_BUFFER_SIZE);
  poller->dirty = g_ptr_array_new ();
  poller->failed = g_ptr_array_new ();
  poller->conns = g_hash_table_new_full (NULL, NULL, NULL,
      (GDestroyNotify) gst_mesh_ws_conn_unref);
  poller->lingers = g_hash_table_new (NULL, NULL);
  g_source_set_name (source, "gst-mesh WebSocket connections");
  g_source_attach (source, context);
  return poller;
}

/**
 * gst_mesh_ws_poller_free:
 *
 * Closes every connection at once, without callbacks: what was queued
 * (close frames included) is written if the sockets take it right away.
 */
void
gst_mesh_ws_poller_free (GstMeshWsPoller * poller)
{
  GList *conns, *l;
  guint i;

  if (!poller)
    return;
  poller_flush (poller);
  poller->freed = TRUE;
  conns = g_hash_table_get_keys (poller->conns);
  for (l = conns; l; l = l->next)
    gst_mesh_ws_conn_ref (l->data);
  for (l = conns; l; l = l->next) {
    GstMeshWsConn *conn = l->data;

    conn->message_func = NULL;
    conn->closed_func = NULL;
    conn_finish (conn);
  }
  g_list_free_full (conns, (GDestroyNotify) gst_mesh_ws_conn_unref);
  for (i = 0; i < poller->dirty->len; i++)
    gst_mesh_ws_conn_unref (g_ptr_array_index (poller->dirty, i));
  g_ptr_array_set_size (poller->dirty, 0);
  for (i = 0; i < poller->failed->len; i++)
    gst_mesh_ws_conn_unref (g_ptr_array_index (poller->failed, i));
  g_ptr_array_set_size (poller->failed, 0);
  {
    GList *lingers = g_hash_table_get_keys (poller->lingers);
    g_list_free_full (lingers, (GDestroyNotify) linger_free);
  }
  g_source_destroy (&poller->source);
  g_source_unref (&poller->source);
}

guint
gst_mesh_ws_poller_get_n_connections (GstMeshWsPoller * poller)
{
  return poller ? g_hash_table_size (poller->conns) : 0;
}

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

/**
 * gst_mesh_ws_conn_new:
 * @poller: the poller
 * @stream: (transfer none): the connection stolen from SoupServer after the
 *   101 response
 * @socket: (nullable): its socket when @stream is plain TCP, to serve it
 *   from the poller's epoll set; %NULL (TLS) reads and writes @stream
 * @max_payload: largest message accepted; bigger ones close with 1009
 *
 * Returns: (transfer full): the connection, open
 */
GstMeshWsConn *
gst_mesh_ws_conn_new (GstMeshWsPoller * poller, GIOStream * stream,
    GSocket * socket, guint64 max_payload)
{
  GstMeshWsConn *conn = g_new0 (GstMeshWsConn, 1);

  conn->ref_count = 1;
  conn->poller = poller;
  conn->state = CONN_OPEN;
  conn->max_payload = max_payload;
  conn->fd = -1;

#ifdef HAVE_EPOLL
  if (socket && poller->epfd >= 0)
    conn->fd = dup (g_socket_get_fd (socket));
#endif
  if (conn->fd >= 0) {
    /* Our own descriptor: libsoup's stream objects can go (closing them
     * closes their descriptor only; the connection lives on in ours). */
    g_io_stream_close (stream, NULL, NULL);
    conn_update_events (conn);
  } else {
    GInputStream *in = g_io_stream_get_input_stream (stream);

    conn->stream = g_object_ref (stream);
    conn->in_source =
        g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (in),
        NULL);
    g_source_set_callback (conn->in_source, G_SOURCE_FUNC (on_stream_readable),
        conn, NULL);
    g_source_attach (conn->in_source,
        g_source_get_context (&poller->source));
  }
  g_hash_table_add (poller->conns, gst_mesh_ws_conn_ref (conn));
  return conn;
}

GstMeshWsConn *
gst_mesh_ws_conn_ref (GstMeshWsConn * conn)
{
  conn->ref_count++;
  return conn;
}

void
gst_mesh_ws_conn_unref (GstMeshWsConn * conn)
{
  if (--conn->ref_count > 0)
    return;
  /* The poller holds a reference while the transport is open. */
  g_assert (conn->state == CONN_CLOSED || conn->poller == NULL);
  conn->poller = NULL;
  conn_finish (conn);
  g_free (conn);
}

void
gst_mesh_ws_conn_set_handlers (GstMeshWsConn * conn,
    GstMeshWsMessageFunc message_func, GstMeshWsClosedFunc closed_func,
    gpointer user_data)
{
  if (conn->state != CONN_OPEN)
    return;
  conn->message_func = message_func;
  conn->closed_func = closed_func;
  conn->user_data = user_data;
}

gboolean
gst_mesh_ws_conn_is_open (GstMeshWsConn * conn)
{
  return conn->state == CONN_OPEN;
}

/**
 * gst_mesh_ws_conn_send:
 * @binary: a binary message, else text (the caller's text is UTF-8)
 * @head: (array length=head_len) (nullable): the first bytes of the message
 * @data: (array length=len) (nullable): the rest
 *
 * Queues one message; it is written when the main loop next iterates,
 * together with everything else queued for this connection by then.
 */
void
gst_mesh_ws_conn_send (GstMeshWsConn * conn, gboolean binary,
    const gchar * head, gsize head_len, gconstpointer data, gsize len)
{
  if (conn->state != CONN_OPEN)
    return;
  conn_queue_frame (conn, binary ? OP_BINARY : OP_TEXT, head, head_len, data,
      len);
}

/**
 * gst_mesh_ws_conn_close:
 * @code: the close code
 *
 * Starts the closing handshake; no callback is called after this. The
 * transport is closed when the client answers, or after a few seconds.
 */
void
gst_mesh_ws_conn_close (GstMeshWsConn * conn, gushort code)
{
  conn->message_func = NULL;
  conn->closed_func = NULL;
  conn_start_close (conn, code);
}
