/* gst-mesh: a Redis pub/sub client on a GLib main context (see the
 * header). hiredis does the protocol; this file runs its two async
 * connections on a GSource of our own (hiredis' adapters/glib.h reads from
 * a context that its write handler may have freed) and makes them again
 * when they are lost.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshredis.h"

#include <gio/gio.h>
#include <gst/gst.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mesh_redis_debug);
#define GST_CAT_DEFAULT mesh_redis_debug

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000

typedef struct _Conn Conn;

typedef struct
{
  GSource source;
  Conn *conn;
  gpointer tag;
} ConnSource;

struct _Conn
{
  GstMeshRedis *redis;
  redisAsyncContext *ac;        /* NULL once hiredis freed it */
  ConnSource *source;
  gboolean subscriber;
  gboolean connected;
  gboolean reading, writing;
};

struct _GstMeshRedis
{
  gchar *host;
  guint port, db;
  gchar *address;
  GMainContext *context;
  GstMeshRedisMessageFunc message_func;
  GstMeshRedisStateFunc state_func;
  gpointer user_data;

  GPtrArray *channels, *patterns;
  Conn *pub, *sub;
  guint subscribed;             /* confirmations on the current sub */
  gboolean up, said_down;
  guint backoff_ms;
  GSource *retry;
  gboolean started, freeing;
};

static void conn_lost (Conn * conn, const redisAsyncContext * ac,
    const gchar * why);
static void maybe_up (GstMeshRedis * r);

/* ------------------------------------------------------------------------ */
/* hiredis on a GSource                                                     */

static void
update_fd (Conn * conn)
{
  GIOCondition cond = G_IO_ERR | G_IO_HUP;

  if (!conn->source)
    return;
  if (conn->reading)
    cond |= G_IO_IN;
  if (conn->writing)
    cond |= G_IO_OUT;
  g_source_modify_unix_fd ((GSource *) conn->source, conn->source->tag, cond);
}

static void
ev_add_read (void *data)
{
  ((Conn *) data)->reading = TRUE;
  update_fd (data);
}

static void
ev_del_read (void *data)
{
  ((Conn *) data)->reading = FALSE;
  update_fd (data);
}

static void
ev_add_write (void *data)
{
  ((Conn *) data)->writing = TRUE;
  update_fd (data);
}

static void
ev_del_write (void *data)
{
  ((Conn *) data)->writing = FALSE;
  update_fd (data);
}

/* hiredis frees the context: the source goes with it */
static void
ev_cleanup (void *data)
{
  Conn *conn = data;

  conn->ac = NULL;
  if (conn->source) {
    g_source_destroy ((GSource *) conn->source);
    g_source_unref ((GSource *) conn->source);
    conn->source = NULL;
  }
}

static gboolean
conn_dispatch (GSource * source, GSourceFunc cb, gpointer data)
{
  ConnSource *cs = (ConnSource *) source;
  Conn *conn = cs->conn;
  GIOCondition rev = g_source_query_unix_fd (source, cs->tag);

  if ((rev & G_IO_OUT) && conn->ac)
    redisAsyncHandleWrite (conn->ac);
  /* the write may have found the connection refused and freed it all */
  if ((rev & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && conn->ac && !g_source_is_destroyed (source))
    redisAsyncHandleRead (conn->ac);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs conn_source_funcs = {
  NULL, NULL, conn_dispatch, NULL, NULL, NULL
};

/* ------------------------------------------------------------------------ */
/* Connections                                                              */

static Conn *
redis_conn (const redisAsyncContext * ac)
{
  return ac->data;
}

static void
on_connect (const redisAsyncContext * ac, int status)
{
  Conn *conn = redis_conn (ac);

  if (!conn || conn->redis->freeing)
    return;
  if (status != REDIS_OK) {
    conn_lost (conn, ac, ac->errstr[0] ? ac->errstr : "connection refused");
    return;
  }
  GST_DEBUG ("%s connection to %s made", conn->subscriber ? "subscriber" :
      "publisher", conn->redis->address);
  conn->connected = TRUE;
  maybe_up (conn->redis);
}

static void
on_disconnect (const redisAsyncContext * ac, int status)
{
  Conn *conn = redis_conn (ac);

  if (!conn || conn->redis->freeing)
    return;
  conn_lost (conn, ac, ac->errstr[0] ? ac->errstr : "connection closed");
}

/* a reply on the subscriber: a confirmation, or a message */
static void
on_sub_reply (redisAsyncContext * ac, void *reply_, void *privdata)
{
  redisReply *reply = reply_;
  GstMeshRedis *r = privdata;
  const gchar *kind;

  if (!reply || r->freeing || reply->type != REDIS_REPLY_ARRAY ||
      reply->elements < 3 || reply->element[0]->type != REDIS_REPLY_STRING)
    return;
  kind = reply->element[0]->str;
  if (!strcmp (kind, "subscribe") || !strcmp (kind, "psubscribe")) {
    r->subscribed++;
    maybe_up (r);
  } else if (!strcmp (kind, "message")) {
    r->message_func (reply->element[1]->str,
        (const guint8 *) reply->element[2]->str, reply->element[2]->len,
        r->user_data);
  } else if (!strcmp (kind, "pmessage") && reply->elements >= 4) {
    r->message_func (reply->element[2]->str,
        (const guint8 *) reply->element[3]->str, reply->element[3]->len,
        r->user_data);
  }
}

static void
on_select_reply (redisAsyncContext * ac, void *reply_, void *privdata)
{
  redisReply *reply = reply_;

  if (reply && reply->type == REDIS_REPLY_ERROR)
    GST_WARNING ("Redis at %s: SELECT: %s", ((GstMeshRedis *) privdata)->address,
        reply->str);
}

static Conn *
conn_new (GstMeshRedis * r, gboolean subscriber)
{
  Conn *conn = g_new0 (Conn, 1);
  redisAsyncContext *ac;
  ConnSource *cs;

  conn->redis = r;
  conn->subscriber = subscriber;
  ac = redisAsyncConnect (r->host, (int) r->port);
  if (!ac || ac->err) {
    GST_DEBUG ("cannot connect to %s: %s", r->address, ac ? ac->errstr :
        "out of memory");
    if (ac)
      redisAsyncFree (ac);
    g_free (conn);
    return NULL;
  }
  conn->ac = ac;
  ac->data = conn;
  cs = (ConnSource *) g_source_new (&conn_source_funcs, sizeof (ConnSource));
  cs->conn = conn;
  cs->tag = g_source_add_unix_fd ((GSource *) cs, ac->c.fd,
      G_IO_ERR | G_IO_HUP);
  g_source_set_name ((GSource *) cs, "gst-mesh redis");
  conn->source = cs;
  ac->ev.addRead = ev_add_read;
  ac->ev.delRead = ev_del_read;
  ac->ev.addWrite = ev_add_write;
  ac->ev.delWrite = ev_del_write;
  ac->ev.cleanup = ev_cleanup;
  ac->ev.data = conn;
  g_source_attach ((GSource *) cs, r->context);
  redisAsyncSetConnectCallback (ac, on_connect);
  redisAsyncSetDisconnectCallback (ac, on_disconnect);
  /* writable once the connection is made (or refused): hiredis checks it
   * on its first write, with or without a command queued */
  ev_add_write (conn);

  if (subscriber) {
    for (guint i = 0; i < r->channels->len; i++)
      redisAsyncCommand (ac, on_sub_reply, r, "SUBSCRIBE %s",
          (gchar *) g_ptr_array_index (r->channels, i));
    for (guint i = 0; i < r->patterns->len; i++)
      redisAsyncCommand (ac, on_sub_reply, r, "PSUBSCRIBE %s",
          (gchar *) g_ptr_array_index (r->patterns, i));
  } else if (r->db) {
    redisAsyncCommand (ac, on_select_reply, r, "SELECT %u", r->db);
  }
  return conn;
}

/* Frees @conn; hiredis answers pending commands with NULL replies first. */
static void
conn_free (Conn * conn)
{
  if (!conn)
    return;
  if (conn->ac) {
    redisAsyncContext *ac = conn->ac;

    /* no callback of ours may find this conn again */
    ac->data = NULL;
    ac->onConnect = NULL;
    ac->onDisconnect = NULL;
    redisAsyncFree (ac);        /* ev_cleanup drops the source */
  }
  if (conn->source) {
    g_source_destroy ((GSource *) conn->source);
    g_source_unref ((GSource *) conn->source);
  }
  g_free (conn);
}

static void
set_state (GstMeshRedis * r, gboolean up, const gchar * why)
{
  if (up == r->up && (up || r->said_down))
    return;
  r->up = up;
  r->said_down = !up;
  if (up)
    GST_INFO ("Redis at %s: connected and subscribed", r->address);
  else
    GST_INFO ("Redis at %s: down (%s)", r->address, why);
  if (r->state_func)
    r->state_func (up, why, r->user_data);
}

static void
maybe_up (GstMeshRedis * r)
{
  if (r->pub && r->pub->connected && r->sub && r->sub->connected &&
      r->subscribed >= r->channels->len + r->patterns->len) {
    r->backoff_ms = BACKOFF_MIN_MS;
    set_state (r, TRUE, NULL);
  }
}

static gboolean connect_both (gpointer data);

static void
schedule_retry (GstMeshRedis * r)
{
  if (r->retry || r->freeing)
    return;
  r->retry = g_timeout_source_new (r->backoff_ms);
  g_source_set_callback (r->retry, connect_both, r, NULL);
  g_source_attach (r->retry, r->context);
  r->backoff_ms = MIN (r->backoff_ms * 2, BACKOFF_MAX_MS);
}

static gboolean
drop_later (gpointer data)
{
  conn_free (data);
  return G_SOURCE_REMOVE;
}

/* One connection failed or was lost (@ac calls us from its connect or
 * disconnect callback): both are made again (a subscriber without its
 * publisher, or the other way round, is half a member). */
static void
conn_lost (Conn * conn, const redisAsyncContext * ac, const gchar * why)
{
  GstMeshRedis *r = conn->redis;
  gchar *reason = g_strdup (why);
  GSource *idle;

  /* hiredis frees @ac once we return (it may have dropped our source
   * already): no callback of it may find this conn again */
  ((redisAsyncContext *) ac)->data = NULL;
  conn->ac = NULL;
  if (r->pub == conn)
    r->pub = NULL;
  if (r->sub == conn)
    r->sub = NULL;
  /* the conn itself once hiredis is done with it: from an idle source,
   * never at once (g_main_context_invoke() would run it right here) */
  idle = g_idle_source_new ();
  g_source_set_callback (idle, drop_later, conn, NULL);
  g_source_attach (idle, r->context);
  g_source_unref (idle);
  set_state (r, FALSE, reason);
  /* the other one goes too */
  if (r->pub) {
    conn_free (r->pub);
    r->pub = NULL;
  }
  if (r->sub) {
    conn_free (r->sub);
    r->sub = NULL;
  }
  schedule_retry (r);
  g_free (reason);
}

static gboolean
connect_both (gpointer data)
{
  GstMeshRedis *r = data;

  if (r->retry) {
    g_source_unref (r->retry);
    r->retry = NULL;
  }
  r->subscribed = 0;
  r->pub = conn_new (r, FALSE);
  r->sub = r->pub ? conn_new (r, TRUE) : NULL;
  if (!r->pub || !r->sub) {
    conn_free (r->pub);
    r->pub = NULL;
    set_state (r, FALSE, "cannot connect");
    schedule_retry (r);
  }
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------ */
/* API                                                                      */

gboolean
gst_mesh_redis_parse_url (const gchar * url, gchar ** host, guint * port,
    guint * db, GError ** error)
{
  const gchar *p, *slash, *colon;
  guint64 v;

  *host = NULL;
  *port = 6379;
  *db = 0;
  if (!url || !g_str_has_prefix (url, "redis://")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Redis URL \"%s\" does not start with redis://", url ? url : "");
    return FALSE;
  }
  p = url + strlen ("redis://");
  slash = strchr (p, '/');
  colon = memchr (p, ':', slash ? (gsize) (slash - p) : strlen (p));
  if ((colon ? colon : slash ? slash : p + strlen (p)) == p) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Redis URL \"%s\" has no host", url);
    return FALSE;
  }
  if (memchr (p, '@', slash ? (gsize) (slash - p) : strlen (p))) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "Redis URL \"%s\": passwords (USER:PASS@) are not supported", url);
    return FALSE;
  }
  if (colon) {
    gchar *ps = g_strndup (colon + 1, slash ? (gsize) (slash - colon - 1) :
        strlen (colon + 1));
    gboolean ok = g_ascii_string_to_unsigned (ps, 10, 1, 65535, &v, NULL);

    g_free (ps);
    if (!ok) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "Redis URL \"%s\": the port is not a number from 1 to 65535", url);
      return FALSE;
    }
    *port = (guint) v;
  }
  if (slash && slash[1]) {
    if (!g_ascii_string_to_unsigned (slash + 1, 10, 0, 1000000, &v, NULL)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "Redis URL \"%s\": the database is not a number", url);
      return FALSE;
    }
    *db = (guint) v;
  }
  *host = g_strndup (p, colon ? (gsize) (colon - p) : slash ?
      (gsize) (slash - p) : strlen (p));
  return TRUE;
}

GstMeshRedis *
gst_mesh_redis_new (const gchar * url, GMainContext * context,
    GstMeshRedisMessageFunc message_func, GstMeshRedisStateFunc state_func,
    gpointer user_data, GError ** error)
{
  GstMeshRedis *r;
  gchar *host;
  guint port, db;

  if (!mesh_redis_debug)
    GST_DEBUG_CATEGORY_INIT (mesh_redis_debug, "meshredis", 0,
        "gst-mesh Redis pub/sub client");
  if (!gst_mesh_redis_parse_url (url, &host, &port, &db, error))
    return NULL;
  r = g_new0 (GstMeshRedis, 1);
  r->host = host;
  r->port = port;
  r->db = db;
  r->address = g_strdup_printf ("%s:%u", host, port);
  r->context = context ? g_main_context_ref (context) :
      g_main_context_ref_thread_default ();
  r->message_func = message_func;
  r->state_func = state_func;
  r->user_data = user_data;
  r->channels = g_ptr_array_new_with_free_func (g_free);
  r->patterns = g_ptr_array_new_with_free_func (g_free);
  r->backoff_ms = BACKOFF_MIN_MS;
  return r;
}

void
gst_mesh_redis_subscribe (GstMeshRedis * r, const gchar * channel)
{
  g_return_if_fail (!r->started);
  g_ptr_array_add (r->channels, g_strdup (channel));
}

void
gst_mesh_redis_psubscribe (GstMeshRedis * r, const gchar * pattern)
{
  g_return_if_fail (!r->started);
  g_ptr_array_add (r->patterns, g_strdup (pattern));
}

void
gst_mesh_redis_start (GstMeshRedis * r)
{
  g_return_if_fail (!r->started);
  r->started = TRUE;
  connect_both (r);
}

gboolean
gst_mesh_redis_is_up (GstMeshRedis * r)
{
  return r->up;
}

const gchar *
gst_mesh_redis_get_address (GstMeshRedis * r)
{
  return r->address;
}

gboolean
gst_mesh_redis_publish (GstMeshRedis * r, const gchar * channel,
    const guint8 * data, gsize len)
{
  if (!r->up || !r->pub || !r->pub->ac)
    return FALSE;
  return redisAsyncCommand (r->pub->ac, NULL, NULL, "PUBLISH %s %b", channel,
      data, len) == REDIS_OK;
}

typedef struct
{
  GstMeshRedis *redis;
  GstMeshRedisCountFunc func;
  gpointer user_data;
} CountRequest;

static void
on_count_reply (redisAsyncContext * ac, void *reply_, void *privdata)
{
  redisReply *reply = reply_;
  CountRequest *req = privdata;
  gint64 n = -1;

  if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
      reply->element[1]->type == REDIS_REPLY_INTEGER)
    n = reply->element[1]->integer;
  /* NULL: lost or freed; the caller hears -1 either way */
  req->func (n, req->user_data);
  g_free (req);
}

void
gst_mesh_redis_count_subscribers (GstMeshRedis * r, const gchar * channel,
    GstMeshRedisCountFunc func, gpointer user_data)
{
  CountRequest *req = g_new0 (CountRequest, 1);

  req->redis = r;
  req->func = func;
  req->user_data = user_data;
  if (!r->up || !r->pub || !r->pub->ac ||
      redisAsyncCommand (r->pub->ac, on_count_reply, req,
          "PUBSUB NUMSUB %s", channel) != REDIS_OK) {
    g_free (req);
    func (-1, user_data);
  }
}

void
gst_mesh_redis_free (GstMeshRedis * r)
{
  if (!r)
    return;
  r->freeing = TRUE;
  if (r->retry) {
    g_source_destroy (r->retry);
    g_source_unref (r->retry);
  }
  conn_free (r->pub);
  conn_free (r->sub);
  g_ptr_array_unref (r->channels);
  g_ptr_array_unref (r->patterns);
  g_main_context_unref (r->context);
  g_free (r->address);
  g_free (r->host);
  g_free (r);
}
