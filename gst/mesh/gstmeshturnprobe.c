/* gst-mesh: a TURN allocation probe (RFC 5389 STUN, RFC 5766 TURN), to
 * tell why a TURN server gave no relay candidate.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshturnprobe.h"
#include "gstmeshiceserver.h"
#include "gstmeshprivate.h"

#include <gst/gst.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mesh_turn_debug);
#define GST_CAT_DEFAULT mesh_turn_debug

#define STUN_MAGIC 0x2112A442
#define STUN_HEADER ((gsize) 20)

#define ALLOCATE_REQUEST 0x0003
#define ALLOCATE_SUCCESS 0x0103
#define ALLOCATE_ERROR 0x0113
#define REFRESH_REQUEST 0x0004

#define ATTR_USERNAME 0x0006
#define ATTR_MESSAGE_INTEGRITY 0x0008
#define ATTR_ERROR_CODE 0x0009
#define ATTR_LIFETIME 0x000D
#define ATTR_REALM 0x0014
#define ATTR_NONCE 0x0015
#define ATTR_REQUESTED_TRANSPORT 0x0019

/* Over UDP the request goes again after these many ms, as STUN's
 * retransmissions do (RFC 5389 §7.2.1, shortened). */
#define UDP_RETRANSMIT_MS 500

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */

static void
put16 (GByteArray * m, guint16 v)
{
  guint8 b[2] = { v >> 8, v & 0xff };
  g_byte_array_append (m, b, 2);
}

static void
put32 (GByteArray * m, guint32 v)
{
  guint8 b[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };
  g_byte_array_append (m, b, 4);
}

static void
put_attr (GByteArray * m, guint16 type, const guint8 * value, gsize len)
{
  static const guint8 zero[4] = { 0, };

  put16 (m, type);
  put16 (m, len);
  g_byte_array_append (m, value, len);
  g_byte_array_append (m, zero, (4 - len % 4) % 4);
}

static void
set_length (GByteArray * m, gsize body)
{
  m->data[2] = body >> 8;
  m->data[3] = body & 0xff;
}

/* The long-term credential key: MD5 (username ":" realm ":" password). */
static void
long_term_key (const gchar * username, const gchar * realm,
    const gchar * password, guint8 key[16])
{
  GChecksum *md5 = g_checksum_new (G_CHECKSUM_MD5);
  gsize len = 16;

  g_checksum_update (md5, (const guchar *) username, -1);
  g_checksum_update (md5, (const guchar *) ":", 1);
  g_checksum_update (md5, (const guchar *) realm, -1);
  g_checksum_update (md5, (const guchar *) ":", 1);
  g_checksum_update (md5, (const guchar *) password, -1);
  g_checksum_get_digest (md5, key, &len);
  g_checksum_free (md5);
}

/* A request of @type; with @username, authenticated (USERNAME, REALM,
 * NONCE, MESSAGE-INTEGRITY). @lifetime >= 0 adds LIFETIME; @transport
 * adds REQUESTED-TRANSPORT (17: UDP relay). */
static GBytes *
build_request (guint16 type, const guint8 transaction[12],
    const gchar * username, const gchar * realm, const gchar * nonce,
    const gchar * password, gint64 lifetime, gboolean transport)
{
  GByteArray *m = g_byte_array_new ();

  put16 (m, type);
  put16 (m, 0);
  put32 (m, STUN_MAGIC);
  g_byte_array_append (m, transaction, 12);
  if (transport) {
    guint8 v[4] = { 17, 0, 0, 0 };
    put_attr (m, ATTR_REQUESTED_TRANSPORT, v, 4);
  }
  if (lifetime >= 0) {
    guint8 v[4] = { lifetime >> 24, (lifetime >> 16) & 0xff,
      (lifetime >> 8) & 0xff, lifetime & 0xff
    };
    put_attr (m, ATTR_LIFETIME, v, 4);
  }
  if (username) {
    guint8 key[16], mac[20];
    gsize mac_len = sizeof (mac);
    GHmac *hmac;

    put_attr (m, ATTR_USERNAME, (const guint8 *) username, strlen (username));
    put_attr (m, ATTR_REALM, (const guint8 *) realm, strlen (realm));
    put_attr (m, ATTR_NONCE, (const guint8 *) nonce, strlen (nonce));
    /* the length covers MESSAGE-INTEGRITY, which covers what precedes it */
    set_length (m, m->len - STUN_HEADER + 24);
    long_term_key (username, realm, password, key);
    hmac = g_hmac_new (G_CHECKSUM_SHA1, key, sizeof (key));
    g_hmac_update (hmac, m->data, m->len);
    g_hmac_get_digest (hmac, mac, &mac_len);
    g_hmac_unref (hmac);
    put_attr (m, ATTR_MESSAGE_INTEGRITY, mac, 20);
  }
  set_length (m, m->len - STUN_HEADER);
  return g_byte_array_free_to_bytes (m);
}

GBytes *
gst_mesh_turn_allocate_request (const guint8 transaction[12],
    const gchar * username, const gchar * realm, const gchar * nonce,
    const gchar * password)
{
  return build_request (ALLOCATE_REQUEST, transaction, username, realm,
      nonce, password, -1, TRUE);
}

static gchar *
attr_text (const guint8 * v, gsize len)
{
  gchar *s = g_strndup ((const gchar *) v, len);

  /* from the network: shown to people, so text only */
  if (!g_utf8_validate (s, -1, NULL)) {
    gchar *t = g_utf8_make_valid (s, -1);
    g_free (s);
    s = t;
  }
  return s;
}

gboolean
gst_mesh_turn_answer_parse (const guint8 * data, gsize size,
    const guint8 transaction[12], GstMeshTurnAnswer * answer)
{
  guint16 type, len;
  gsize pos;

  memset (answer, 0, sizeof (*answer));
  if (size < STUN_HEADER)
    return FALSE;
  type = (data[0] << 8) | data[1];
  len = (data[2] << 8) | data[3];
  if ((data[0] & 0xc0) != 0 || len % 4 != 0 || STUN_HEADER + len > size
      || GUINT32_FROM_BE (*(const guint32 *) (data + 4)) != STUN_MAGIC
      || memcmp (data + 8, transaction, 12) != 0)
    return FALSE;
  if (type != ALLOCATE_SUCCESS && type != ALLOCATE_ERROR)
    return FALSE;
  answer->success = type == ALLOCATE_SUCCESS;

  for (pos = STUN_HEADER; pos + 4 <= STUN_HEADER + len;) {
    guint16 at = (data[pos] << 8) | data[pos + 1];
    guint16 al = (data[pos + 2] << 8) | data[pos + 3];
    const guint8 *v = data + pos + 4;

    if (pos + 4 + al > STUN_HEADER + len) {
      gst_mesh_turn_answer_clear (answer);
      return FALSE;
    }
    if (at == ATTR_ERROR_CODE && al >= 4 && !answer->code) {
      /* class 3 to 6, number 0 to 99 (RFC 5389 §15.6) */
      if ((v[2] & 0x07) < 3 || (v[2] & 0x07) > 6 || v[3] > 99) {
        gst_mesh_turn_answer_clear (answer);
        return FALSE;
      }
      answer->code = (v[2] & 0x07) * 100 + v[3];
      answer->reason = attr_text (v + 4, al - 4);
    } else if (at == ATTR_REALM && !answer->realm) {
      answer->realm = attr_text (v, al);
    } else if (at == ATTR_NONCE && !answer->nonce) {
      answer->nonce = attr_text (v, al);
    }
    pos += 4 + al + (4 - al % 4) % 4;
  }
  if (!answer->success && !answer->code) {
    gst_mesh_turn_answer_clear (answer);
    return FALSE;
  }
  return TRUE;
}

void
gst_mesh_turn_answer_clear (GstMeshTurnAnswer * answer)
{
  g_clear_pointer (&answer->reason, g_free);
  g_clear_pointer (&answer->realm, g_free);
  g_clear_pointer (&answer->nonce, g_free);
}

/* ------------------------------------------------------------------------ */
/* The probe                                                                */

typedef struct
{
  gint ref_count;
  gchar *uri;
  gchar *shown;                 /* uri without the password, for logs */
  GstMeshTurnProbeFunc func;
  gpointer user_data;
  GMainContext *context;
  GCancellable *cancellable;
  gboolean done;

  gchar *host;
  guint port;
  gchar *username;
  gchar *password;
  gboolean tcp, tls;

  gint stage;                   /* 0: without credentials; 1: with them */
  guint stale_retries;
  guint8 transaction[12];
  gchar *realm;
  gchar *nonce;
  GBytes *request;

  GSocket *udp;                 /* UDP */
  GSource *udp_source;
  GSource *retransmit;
  GIOStream *stream;            /* TCP or TLS */
  guint8 header[STUN_HEADER];
  guint8 *body;
  GSource *deadline;
  GCancellable *external;       /* the caller's */
  gulong external_id;
  gboolean in_external;         /* finishing from its "cancelled" */
} Probe;

static Probe *
probe_ref (Probe * p)
{
  g_atomic_int_inc (&p->ref_count);
  return p;
}

static void
probe_unref (Probe * p)
{
  if (!g_atomic_int_dec_and_test (&p->ref_count))
    return;
  g_free (p->uri);
  g_free (p->shown);
  g_main_context_unref (p->context);
  g_clear_object (&p->cancellable);
  g_clear_object (&p->external);
  g_free (p->host);
  g_free (p->username);
  if (p->password)
    memset (p->password, 0, strlen (p->password));
  g_free (p->password);
  g_free (p->realm);
  g_free (p->nonce);
  g_clear_pointer (&p->request, g_bytes_unref);
  g_clear_object (&p->udp);
  g_clear_object (&p->stream);
  g_free (p->body);
  g_free (p);
}

static void
finish (Probe * p, guint code, const gchar * reason)
{
  if (p->done)
    return;
  p->done = TRUE;
  GST_DEBUG ("%s: %u (%s)", p->shown, code, reason);
  /* not from its own handler: that would wait for itself */
  if (p->external_id && !p->in_external)
    g_cancellable_disconnect (p->external, p->external_id);
  p->external_id = 0;
  g_cancellable_cancel (p->cancellable);
  gst_mesh_clear_source (&p->udp_source);
  gst_mesh_clear_source (&p->retransmit);
  gst_mesh_clear_source (&p->deadline);
  if (p->stream)
    g_io_stream_close_async (p->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  p->func (p->uri, code, reason, p->user_data);
  probe_unref (p);              /* the probe's own reference */
}

static void
new_transaction (guint8 transaction[12])
{
  for (gint i = 0; i < 12; i++)
    transaction[i] = g_random_int_range (0, 256);
}

static void send_request (Probe * p);
static void read_answer (Probe * p);

static void
on_answer (Probe * p, const guint8 * data, gsize size)
{
  GstMeshTurnAnswer a;

  if (p->done || !gst_mesh_turn_answer_parse (data, size, p->transaction, &a)) {
    GST_LOG ("%s: %" G_GSIZE_FORMAT " bytes that are no answer to us",
        p->shown, size);
    return;                     /* not ours: keep listening */
  }
  GST_DEBUG ("%s: %s, code %u %s", p->shown, a.success ? "success" : "error",
      a.code, a.reason ? a.reason : "");
  gst_mesh_clear_source (&p->retransmit);
  if (a.success) {
    /* granted: give it back at once */
    GBytes *refresh;

    /* a new transaction: the same id would be a retransmission */
    new_transaction (p->transaction);
    refresh = build_request (REFRESH_REQUEST, p->transaction, p->username,
        p->realm ? p->realm : "", p->nonce ? p->nonce : "", p->password, 0,
        FALSE);

    if (p->udp)
      g_socket_send (p->udp, g_bytes_get_data (refresh, NULL),
          g_bytes_get_size (refresh), NULL, NULL);
    else if (p->stream)
      g_output_stream_write_all (g_io_stream_get_output_stream (p->stream),
          g_bytes_get_data (refresh, NULL), g_bytes_get_size (refresh), NULL,
          NULL, NULL);
    g_bytes_unref (refresh);
    finish (p, 0, "an allocation was granted (and released)");
  } else if (a.code == 401 && p->stage == 0 && a.realm && a.nonce) {
    p->stage = 1;
    g_free (p->realm);
    g_free (p->nonce);
    p->realm = g_steal_pointer (&a.realm);
    p->nonce = g_steal_pointer (&a.nonce);
    send_request (p);
  } else if (a.code == 438 && p->stale_retries++ < 1 && a.nonce) {
    g_free (p->nonce);
    p->nonce = g_steal_pointer (&a.nonce);
    send_request (p);
  } else {
    gchar *reason = g_strdup_printf ("%u %s", a.code, a.reason ? a.reason :
        "");
    finish (p, a.code, g_strstrip (reason));
    g_free (reason);
  }
  gst_mesh_turn_answer_clear (&a);
}

/* UDP ------------------------------------------------------------------- */

static gboolean
on_udp_readable (GSocket * socket, GIOCondition cond, gpointer user_data)
{
  Probe *p = user_data;
  guint8 buf[2048];
  GError *error = NULL;
  gssize n = g_socket_receive (socket, (gchar *) buf, sizeof (buf), NULL,
      &error);
  gboolean done;

  if (n < 0) {
    /* ICMP port unreachable comes back as ECONNREFUSED on a connected
     * UDP socket */
    if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      gchar *why = g_strdup_printf ("no TURN server there: %s",
          error->message);
      g_error_free (error);
      finish (p, GST_MESH_TURN_PROBE_NO_ANSWER, why);
      g_free (why);
      return G_SOURCE_REMOVE;
    }
    g_error_free (error);
    return G_SOURCE_CONTINUE;
  }
  /* the answer may finish the probe, which drops its own reference */
  probe_ref (p);
  on_answer (p, buf, n);
  done = p->done;
  probe_unref (p);
  return done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static gboolean
on_retransmit (gpointer user_data)
{
  Probe *p = user_data;

  g_socket_send (p->udp, g_bytes_get_data (p->request, NULL),
      g_bytes_get_size (p->request), NULL, NULL);
  return G_SOURCE_CONTINUE;
}

/* TCP and TLS ---------------------------------------------------------- */

static void
on_body (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Probe *p = user_data;
  gsize len = ((p->header[2] << 8) | p->header[3]);
  gsize got = 0;
  GError *error = NULL;

  if (g_input_stream_read_all_finish (G_INPUT_STREAM (source), res, &got,
          &error) && got == len && !p->done) {
    guint8 *m = g_malloc (STUN_HEADER + len);

    memcpy (m, p->header, STUN_HEADER);
    memcpy (m + STUN_HEADER, p->body, len);
    on_answer (p, m, STUN_HEADER + len);
    g_free (m);
    if (!p->done)
      read_answer (p);
  } else if (!p->done) {
    finish (p, GST_MESH_TURN_PROBE_NO_ANSWER, error ? error->message :
        "the connection closed");
  }
  g_clear_error (&error);
  probe_unref (p);
}

static void
on_header (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Probe *p = user_data;
  gsize got = 0;
  GError *error = NULL;

  if (g_input_stream_read_all_finish (G_INPUT_STREAM (source), res, &got,
          &error) && got == STUN_HEADER && !p->done) {
    gsize len = (p->header[2] << 8) | p->header[3];

    g_free (p->body);
    p->body = g_malloc (MAX (len, 1));
    g_input_stream_read_all_async (G_INPUT_STREAM (source), p->body, len,
        G_PRIORITY_DEFAULT, p->cancellable, on_body, probe_ref (p));
  } else if (!p->done) {
    finish (p, GST_MESH_TURN_PROBE_NO_ANSWER, error ? error->message :
        "the connection closed");
  }
  g_clear_error (&error);
  probe_unref (p);
}

static void
read_answer (Probe * p)
{
  g_input_stream_read_all_async (g_io_stream_get_input_stream (p->stream),
      p->header, STUN_HEADER, G_PRIORITY_DEFAULT, p->cancellable, on_header,
      probe_ref (p));
}

/* ------------------------------------------------------------------------ */

static void
send_request (Probe * p)
{
  new_transaction (p->transaction);
  g_clear_pointer (&p->request, g_bytes_unref);
  p->request = build_request (ALLOCATE_REQUEST, p->transaction,
      p->stage ? p->username : NULL, p->realm, p->nonce, p->password, -1,
      TRUE);
  if (p->udp) {
    on_retransmit (p);
    gst_mesh_clear_source (&p->retransmit);
    p->retransmit = g_timeout_source_new (UDP_RETRANSMIT_MS);
    g_source_set_callback (p->retransmit, on_retransmit, p, NULL);
    g_source_attach (p->retransmit, p->context);
  } else {
    /* small: the stream's buffer takes it at once */
    g_output_stream_write_all (g_io_stream_get_output_stream (p->stream),
        g_bytes_get_data (p->request, NULL), g_bytes_get_size (p->request),
        NULL, p->cancellable, NULL);
  }
}

static gboolean
accept_any_certificate (GTlsConnection * conn, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  /* libnice does not check a TURN server's certificate either: the probe
   * asks about credentials, not about TLS */
  return TRUE;
}

static void
on_client_event (GSocketClient * client, GSocketClientEvent event,
    GSocketConnectable * connectable, GIOStream * connection,
    gpointer user_data)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_signal_connect (connection, "accept-certificate",
        G_CALLBACK (accept_any_certificate), NULL);
}

static void
on_connected (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Probe *p = user_data;
  GError *error = NULL;
  GSocketConnection *conn =
      g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), res,
      &error);

  if (!conn) {
    if (!p->done) {
      gchar *why = g_strdup_printf ("cannot connect: %s", error->message);
      finish (p, GST_MESH_TURN_PROBE_NO_ANSWER, why);
      g_free (why);
    }
  } else if (!p->done) {
    p->stream = G_IO_STREAM (conn);
    conn = NULL;
    send_request (p);
    read_answer (p);
  }
  g_clear_object (&conn);
  g_clear_error (&error);
  probe_unref (p);
}

static void
on_resolved (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Probe *p = user_data;
  GError *error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source),
      res, &error);

  if (!addresses) {
    if (!p->done) {
      gchar *why = g_strdup_printf ("cannot resolve %s: %s", p->host,
          error->message);
      finish (p, GST_MESH_TURN_PROBE_NO_ANSWER, why);
      g_free (why);
    }
  } else if (!p->done) {
    GInetAddress *a = addresses->data;
    GSocketAddress *sa = g_inet_socket_address_new (a, p->port);

    p->udp = g_socket_new (g_inet_address_get_family (a),
        G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
    if (!p->udp || !g_socket_connect (p->udp, sa, NULL, &error)) {
      gchar *why = g_strdup_printf ("cannot send to %s: %s", p->host,
          error->message);
      finish (p, GST_MESH_TURN_PROBE_NO_ANSWER, why);
      g_free (why);
    } else {
      g_socket_set_blocking (p->udp, FALSE);
      p->udp_source = g_socket_create_source (p->udp, G_IO_IN, NULL);
      g_source_set_callback (p->udp_source, (GSourceFunc) (void (*)(void))
          on_udp_readable, p, NULL);
      g_source_attach (p->udp_source, p->context);
      send_request (p);
    }
    g_object_unref (sa);
  }
  g_resolver_free_addresses (addresses);
  g_clear_error (&error);
  probe_unref (p);
}

static gboolean
on_deadline (gpointer user_data)
{
  Probe *p = user_data;

  g_clear_pointer (&p->deadline, g_source_unref);
  finish (p, GST_MESH_TURN_PROBE_NO_ANSWER, p->stage ?
      "no answer to the request with credentials" : "no answer");
  return G_SOURCE_REMOVE;
}

static void
on_external_cancelled (GCancellable * cancellable, gpointer user_data)
{
  Probe *p = user_data;

  p->in_external = TRUE;
  finish (p, GST_MESH_TURN_PROBE_NO_ANSWER, "cancelled");
}

static gboolean
report_bad_uri (gpointer user_data)
{
  finish (user_data, GST_MESH_TURN_PROBE_NO_ANSWER, "not a TURN URI");
  return G_SOURCE_REMOVE;
}

void
gst_mesh_turn_probe (const gchar * uri, guint timeout_ms,
    GCancellable * cancellable, GstMeshTurnProbeFunc func,
    gpointer user_data)
{
  Probe *p = g_new0 (Probe, 1);
  /* encoded: user name and password are unescaped once, below */
  GUri *u = g_uri_parse (uri, G_URI_FLAGS_ENCODED | G_URI_FLAGS_HAS_PASSWORD,
      NULL);
  const gchar *scheme = u ? g_uri_get_scheme (u) : NULL;
  const gchar *query = u ? g_uri_get_query (u) : NULL;

  g_return_if_fail (uri != NULL && func != NULL);

  GST_DEBUG_CATEGORY_INIT (mesh_turn_debug, "meshturn", 0,
      "gst-mesh TURN allocation probe");

  p->ref_count = 1;
  p->uri = g_strdup (uri);
  p->shown = gst_mesh_ice_server_describe (uri);
  p->func = func;
  p->user_data = user_data;
  p->context = g_main_context_ref_thread_default ();
  p->cancellable = g_cancellable_new ();

  if (!u || !g_uri_get_host (u) || !g_uri_get_user (u)
      || !g_uri_get_password (u) || (g_strcmp0 (scheme, "turn")
          && g_strcmp0 (scheme, "turns"))) {
    GSource *s = g_idle_source_new ();
    g_source_set_callback (s, report_bad_uri, p, NULL);
    g_source_attach (s, p->context);
    g_source_unref (s);
    g_clear_pointer (&u, g_uri_unref);
    return;
  }
  p->host = g_strdup (g_uri_get_host (u));
  p->tls = !g_strcmp0 (scheme, "turns");
  p->port = g_uri_get_port (u) > 0 ? g_uri_get_port (u) : p->tls ? 5349 : 3478;
  p->username = g_uri_unescape_string (g_uri_get_user (u), NULL);
  p->password = g_uri_unescape_string (g_uri_get_password (u), NULL);
  p->tcp = p->tls || (query && strstr (query, "transport=tcp"));
  g_uri_unref (u);

  p->deadline = g_timeout_source_new (timeout_ms);
  g_source_set_callback (p->deadline, on_deadline, p, NULL);
  g_source_attach (p->deadline, p->context);
  if (cancellable) {
    gboolean done;

    probe_ref (p);              /* finish() may drop the probe's own */
    p->external = g_object_ref (cancellable);
    p->external_id = g_cancellable_connect (cancellable,
        G_CALLBACK (on_external_cancelled), p, NULL);
    done = p->done;
    probe_unref (p);
    if (done)
      return;                   /* it was cancelled already */
  }

  if (p->tcp) {
    GSocketClient *client = g_socket_client_new ();

    g_socket_client_set_tls (client, p->tls);
    /* straight to the server, as libnice goes (it uses no system proxy) */
    g_socket_client_set_enable_proxy (client, FALSE);
    g_signal_connect (client, "event", G_CALLBACK (on_client_event), NULL);
    g_socket_client_connect_to_host_async (client, p->host, p->port,
        p->cancellable, on_connected, probe_ref (p));
    g_object_unref (client);
  } else {
    GResolver *resolver = g_resolver_get_default ();

    g_resolver_lookup_by_name_async (resolver, p->host, p->cancellable,
        on_resolved, probe_ref (p));
    g_object_unref (resolver);
  }
}
