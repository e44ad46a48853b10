/* gst-mesh: MessagePack as notepack.io writes it (see the header).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshmsgpack.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (gst-mesh-msgpack-error-quark, gst_mesh_msgpack_error);

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */

static void
put_be (GByteArray * out, guint8 tag, guint64 v, guint n)
{
  guint8 b[9];

  b[0] = tag;
  for (guint i = 0; i < n; i++)
    b[1 + i] = (guint8) (v >> (8 * (n - 1 - i)));
  g_byte_array_append (out, b, 1 + n);
}

/* the header of a string, array or map of @len: the short form when
 * @len < @fix_max, else 8-bit (strings only: @tag8 != 0), 16 or 32 */
static void
put_len (GByteArray * out, guint8 fix, guint fix_max, guint8 tag8,
    guint8 tag16, guint8 tag32, guint64 len)
{
  if (len < fix_max) {
    guint8 b = fix | (guint8) len;

    g_byte_array_append (out, &b, 1);
  } else if (tag8 && len < 0x100)
    put_be (out, tag8, len, 1);
  else if (len < 0x10000)
    put_be (out, tag16, len, 2);
  else
    put_be (out, tag32, len, 4);
}

static void
put_int (GByteArray * out, gint64 v)
{
  if (v >= 0) {
    guint64 u = (guint64) v;

    if (u < 0x80) {
      guint8 b = (guint8) u;

      g_byte_array_append (out, &b, 1);
    } else if (u < 0x100)
      put_be (out, 0xcc, u, 1);
    else if (u < 0x10000)
      put_be (out, 0xcd, u, 2);
    else if (u < 0x100000000ULL)
      put_be (out, 0xce, u, 4);
    else
      put_be (out, 0xcf, u, 8);
  } else {
    if (v >= -0x20) {
      guint8 b = (guint8) (gint8) v;

      g_byte_array_append (out, &b, 1);
    } else if (v >= -0x80)
      put_be (out, 0xd0, (guint64) v, 1);
    else if (v >= -0x8000)
      put_be (out, 0xd1, (guint64) v, 2);
    else if (v >= -0x80000000LL)
      put_be (out, 0xd2, (guint64) v, 4);
    else
      put_be (out, 0xd3, (guint64) v, 8);
  }
}

/* JavaScript's ToUint32: the integer part modulo 2^32 */
static guint32
js_to_uint32 (gdouble d)
{
  gdouble m;

  if (!isfinite (d))
    return 0;
  m = fmod (trunc (d), 4294967296.0);
  if (m < 0)
    m += 4294967296.0;
  return (guint32) m;
}

/* An integer beyond 32 bits as notepack writes it: 64 bits from two
 * 32-bit halves taken with JavaScript's bit operators, exact up to 2^53
 * (and, like notepack's, wrapped beyond 2^64) */
static void
put_js_int64 (GByteArray * out, gdouble d)
{
  guint32 hi = d >= 0 ? js_to_uint32 (d / 4294967296.0) :
      js_to_uint32 (floor (d / 4294967296.0));
  guint32 lo = js_to_uint32 (d);

  put_be (out, d >= 0 ? 0xcf : 0xd3, ((guint64) hi << 32) | lo, 8);
}

static void
put_double (GByteArray * out, gdouble d)
{
  /* JavaScript has numbers only: one with no fraction is an integer */
  if (isfinite (d) && floor (d) == d) {
    if (d >= 4294967296.0 || d < -2147483648.0)
      put_js_int64 (out, d);
    else
      put_int (out, (gint64) d);
  } else {
    union
    {
      gdouble d;
      guint64 u;
    } v;

    v.d = d;
    put_be (out, 0xcb, v.u, 8);
  }
}

static void
put_string (GByteArray * out, const gchar * s)
{
  gsize len = strlen (s);

  put_len (out, 0xa0, 0x20, 0xd9, 0xda, 0xdb, len);
  g_byte_array_append (out, (const guint8 *) s, len);
}

/* A key that is an array index: "0", or digits without a leading 0, below
 * 2^32 - 1. JavaScript lists those first, in ascending order. */
static gboolean
array_index (const gchar * key, guint64 * value)
{
  guint64 v = 0;
  const gchar *p;

  if (!*key || (key[0] == '0' && key[1]))
    return FALSE;
  for (p = key; *p; p++) {
    if (!g_ascii_isdigit (*p) || p - key >= 10)
      return FALSE;
    v = v * 10 + (guint64) (*p - '0');
  }
  if (v >= 0xffffffffULL)
    return FALSE;
  *value = v;
  return TRUE;
}

static gint
compare_index_keys (gconstpointer a, gconstpointer b)
{
  guint64 va = 0, vb = 0;

  array_index (*(const gchar **) a, &va);
  array_index (*(const gchar **) b, &vb);
  return va < vb ? -1 : va > vb;
}

/* @object's members in JavaScript's Object.keys() order */
static GPtrArray *
js_key_order (JsonObject * object)
{
  GList *members = json_object_get_members (object), *l;
  GPtrArray *keys = g_ptr_array_new ();
  guint64 v;

  for (l = members; l; l = l->next)
    if (array_index (l->data, &v))
      g_ptr_array_add (keys, l->data);
  g_ptr_array_sort (keys, compare_index_keys);
  for (l = members; l; l = l->next)
    if (!array_index (l->data, &v))
      g_ptr_array_add (keys, l->data);
  g_list_free (members);
  return keys;
}

void
gst_mesh_msgpack_encode (const JsonNode * cnode, GByteArray * out)
{
  JsonNode *node = (JsonNode *) cnode;

  switch (json_node_get_node_type (node)) {
    case JSON_NODE_NULL:
      put_be (out, 0xc0, 0, 0);
      break;
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node)) {
        case G_TYPE_BOOLEAN:
          put_be (out, json_node_get_boolean (node) ? 0xc3 : 0xc2, 0, 0);
          break;
        case G_TYPE_INT64:{
          gint64 v = json_node_get_int (node);

          /* what JavaScript parsed would be the nearest double */
          if (v > (G_GINT64_CONSTANT (1) << 53)
              || v < -(G_GINT64_CONSTANT (1) << 53))
            put_double (out, (gdouble) v);
          else
            put_int (out, v);
          break;
        }
        case G_TYPE_DOUBLE:
          put_double (out, json_node_get_double (node));
          break;
        case G_TYPE_STRING:
          put_string (out, json_node_get_string (node));
          break;
        default:
          put_be (out, 0xc0, 0, 0);
          break;
      }
      break;
    case JSON_NODE_ARRAY:{
      JsonArray *a = json_node_get_array (node);
      guint n = json_array_get_length (a);

      put_len (out, 0x90, 0x10, 0, 0xdc, 0xdd, n);
      for (guint i = 0; i < n; i++)
        gst_mesh_msgpack_encode (json_array_get_element (a, i), out);
      break;
    }
    case JSON_NODE_OBJECT:{
      JsonObject *o = json_node_get_object (node);
      GPtrArray *keys = js_key_order (o);

      put_len (out, 0x80, 0x10, 0, 0xde, 0xdf, keys->len);
      for (guint i = 0; i < keys->len; i++) {
        const gchar *k = g_ptr_array_index (keys, i);

        put_string (out, k);
        gst_mesh_msgpack_encode (json_object_get_member (o, k), out);
      }
      g_ptr_array_unref (keys);
      break;
    }
  }
}

GBytes *
gst_mesh_msgpack_encode_bytes (const JsonNode * node)
{
  GByteArray *out = g_byte_array_new ();

  gst_mesh_msgpack_encode (node, out);
  return g_byte_array_free_to_bytes (out);
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                 */

typedef struct
{
  const guint8 *p, *end, *start;
} Reader;

#define UNDEFINED ((JsonNode *) &undefined_marker)
static const gint undefined_marker = 0;

static gboolean
need (Reader * r, gsize n, GError ** error)
{
  if ((gsize) (r->end - r->p) < n) {
    g_set_error (error, GST_MESH_MSGPACK_ERROR,
        GST_MESH_MSGPACK_ERROR_TRUNCATED,
        "MessagePack ends inside a value (at byte %" G_GSIZE_FORMAT
        ", %" G_GSIZE_FORMAT " more needed)", (gsize) (r->p - r->start),
        n - (gsize) (r->end - r->p));
    return FALSE;
  }
  return TRUE;
}

static guint64
get_be (Reader * r, guint n)
{
  guint64 v = 0;

  for (guint i = 0; i < n; i++)
    v = (v << 8) | r->p[i];
  r->p += n;
  return v;
}

static JsonNode *decode_value (Reader * r, guint depth, GError ** error);

static JsonNode *
decode_string (Reader * r, gsize len, GError ** error)
{
  JsonNode *node;
  gchar *s;

  if (!need (r, len, error))
    return NULL;
  if (!g_utf8_validate_len ((const gchar *) r->p, len, NULL)) {
    g_set_error (error, GST_MESH_MSGPACK_ERROR, GST_MESH_MSGPACK_ERROR_UTF8,
        "a MessagePack string at byte %" G_GSIZE_FORMAT " is not UTF-8",
        (gsize) (r->p - r->start));
    return NULL;
  }
  s = g_strndup ((const gchar *) r->p, len);
  r->p += len;
  node = json_node_init_string (json_node_alloc (), s);
  g_free (s);
  return node;
}

static JsonNode *
decode_array (Reader * r, guint64 n, guint depth, GError ** error)
{
  JsonArray *a;
  JsonNode *node;

  /* every element takes at least a byte: a count beyond what is left is
   * a lie, refused before anything is allocated for it */
  if (!need (r, n, error))
    return NULL;
  a = json_array_sized_new ((guint) MIN (n, 1024));
  for (guint64 i = 0; i < n; i++) {
    JsonNode *e = decode_value (r, depth + 1, error);

    if (!e) {
      json_array_unref (a);
      return NULL;
    }
    if (e == UNDEFINED)
      e = json_node_new (JSON_NODE_NULL);
    json_array_add_element (a, e);
  }
  node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, a);
  return node;
}

static JsonNode *
decode_map (Reader * r, guint64 n, guint depth, GError ** error)
{
  JsonObject *o;
  JsonNode *node;

  if (!need (r, n * 2, error))
    return NULL;
  o = json_object_new ();
  for (guint64 i = 0; i < n; i++) {
    gsize at = (gsize) (r->p - r->start);
    JsonNode *k = decode_value (r, depth + 1, error), *v;

    if (!k) {
      json_object_unref (o);
      return NULL;
    }
    if (k == UNDEFINED || !JSON_NODE_HOLDS_VALUE (k) ||
        json_node_get_value_type (k) != G_TYPE_STRING) {
      g_set_error (error, GST_MESH_MSGPACK_ERROR,
          GST_MESH_MSGPACK_ERROR_UNSUPPORTED,
          "a MessagePack map key at byte %" G_GSIZE_FORMAT " is not a "
          "string (JSON objects have string keys)", at);
      if (k != UNDEFINED)
        json_node_unref (k);
      json_object_unref (o);
      return NULL;
    }
    v = decode_value (r, depth + 1, error);
    if (!v) {
      json_node_unref (k);
      json_object_unref (o);
      return NULL;
    }
    /* JSON.stringify leaves out an undefined member */
    if (v != UNDEFINED)
      json_object_set_member (o, json_node_get_string (k), v);
    json_node_unref (k);
  }
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, o);
  return node;
}

/* ext type -1: a timestamp, as Date.prototype.toJSON() writes it */
static JsonNode *
decode_timestamp (Reader * r, gsize len, GError ** error)
{
  gint64 sec;
  guint32 nsec = 0;
  GDateTime *dt;
  gchar *base, *iso;
  JsonNode *node;

  if (len == 4) {
    sec = (gint64) get_be (r, 4);
  } else if (len == 8) {
    guint64 v = get_be (r, 8);

    nsec = (guint32) (v >> 34);
    sec = (gint64) (v & 0x3ffffffffULL);
  } else {
    nsec = (guint32) get_be (r, 4);
    sec = (gint64) get_be (r, 8);
  }
  /* JavaScript dates reach 8.64e15 ms either side of 1970 */
  dt = sec > -8640000000000LL && sec < 8640000000000LL ?
      g_date_time_new_from_unix_utc (sec) : NULL;
  if (!dt) {
    g_set_error (error, GST_MESH_MSGPACK_ERROR,
        GST_MESH_MSGPACK_ERROR_UNSUPPORTED,
        "a MessagePack timestamp of %" G_GINT64_FORMAT " s is out of range",
        sec);
    return NULL;
  }
  base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  iso = g_strdup_printf ("%s.%03uZ", base, nsec / 1000000);
  node = json_node_init_string (json_node_alloc (), iso);
  g_free (iso);
  g_free (base);
  g_date_time_unref (dt);
  return node;
}

static JsonNode *
decode_ext (Reader * r, gsize len, GError ** error)
{
  gsize at = (gsize) (r->p - r->start);
  gint8 type;

  if (!need (r, 1 + len, error))
    return NULL;
  type = (gint8) * r->p++;
  if (type == 0 && len == 1) {
    r->p++;
    return UNDEFINED;
  }
  if (type == -1 && (len == 4 || len == 8 || len == 12))
    return decode_timestamp (r, len, error);
  g_set_error (error, GST_MESH_MSGPACK_ERROR,
      GST_MESH_MSGPACK_ERROR_UNSUPPORTED,
      "MessagePack extension type %d (%" G_GSIZE_FORMAT " bytes) at byte %"
      G_GSIZE_FORMAT " has no JSON form", type, len, at);
  return NULL;
}

static JsonNode *
value_node (GType type, ...)
{
  JsonNode *node = json_node_alloc ();
  va_list ap;

  va_start (ap, type);
  if (type == G_TYPE_INT64)
    json_node_init_int (node, va_arg (ap, gint64));
  else if (type == G_TYPE_DOUBLE)
    json_node_init_double (node, va_arg (ap, gdouble));
  else
    json_node_init_boolean (node, va_arg (ap, gboolean));
  va_end (ap);
  return node;
}

static JsonNode *
decode_value (Reader * r, guint depth, GError ** error)
{
  gsize at = (gsize) (r->p - r->start);
  guint8 b;

  if (depth > GST_MESH_MSGPACK_MAX_DEPTH) {
    g_set_error (error, GST_MESH_MSGPACK_ERROR,
        GST_MESH_MSGPACK_ERROR_TOO_DEEP,
        "MessagePack nested deeper than %u at byte %" G_GSIZE_FORMAT,
        GST_MESH_MSGPACK_MAX_DEPTH, at);
    return NULL;
  }
  if (!need (r, 1, error))
    return NULL;
  b = *r->p++;
  if (b < 0x80)
    return value_node (G_TYPE_INT64, (gint64) b);
  if (b >= 0xe0)
    return value_node (G_TYPE_INT64, (gint64) (gint8) b);
  if ((b & 0xf0) == 0x80)
    return decode_map (r, b & 0x0f, depth, error);
  if ((b & 0xf0) == 0x90)
    return decode_array (r, b & 0x0f, depth, error);
  if ((b & 0xe0) == 0xa0)
    return decode_string (r, b & 0x1f, error);

  switch (b) {
    case 0xc0:
      return json_node_new (JSON_NODE_NULL);
    case 0xc2:
    case 0xc3:
      return value_node (G_TYPE_BOOLEAN, (gboolean) (b == 0xc3));
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:{
      guint n = 1u << (b - 0xcc);
      guint64 u;

      if (!need (r, n, error))
        return NULL;
      u = get_be (r, n);
      /* beyond int64: a number, as JavaScript reads it */
      if (u > G_MAXINT64)
        return value_node (G_TYPE_DOUBLE, (gdouble) u);
      return value_node (G_TYPE_INT64, (gint64) u);
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:{
      guint n = 1u << (b - 0xd0);
      guint64 u;
      gint64 v;

      if (!need (r, n, error))
        return NULL;
      u = get_be (r, n);
      /* sign-extend from n bytes */
      if (n < 8 && (u & (1ULL << (8 * n - 1))))
        u |= ~0ULL << (8 * n);
      v = (gint64) u;
      return value_node (G_TYPE_INT64, v);
    }
    case 0xca:{
      union
      {
        gfloat f;
        guint32 u;
      } v;

      if (!need (r, 4, error))
        return NULL;
      v.u = (guint32) get_be (r, 4);
      return value_node (G_TYPE_DOUBLE, (gdouble) v.f);
    }
    case 0xcb:{
      union
      {
        gdouble d;
        guint64 u;
      } v;

      if (!need (r, 8, error))
        return NULL;
      v.u = get_be (r, 8);
      return value_node (G_TYPE_DOUBLE, v.d);
    }
    case 0xd9:
    case 0xda:
    case 0xdb:{
      guint n = 1u << (b - 0xd9);

      if (!need (r, n, error))
        return NULL;
      return decode_string (r, get_be (r, n), error);
    }
    case 0xdc:
    case 0xdd:{
      guint n = b == 0xdc ? 2 : 4;

      if (!need (r, n, error))
        return NULL;
      return decode_array (r, get_be (r, n), depth, error);
    }
    case 0xde:
    case 0xdf:{
      guint n = b == 0xde ? 2 : 4;

      if (!need (r, n, error))
        return NULL;
      return decode_map (r, get_be (r, n), depth, error);
    }
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
      return decode_ext (r, 1u << (b - 0xd4), error);
    case 0xc7:
    case 0xc8:
    case 0xc9:{
      guint n = 1u << (b - 0xc7);

      if (!need (r, n, error))
        return NULL;
      return decode_ext (r, get_be (r, n), error);
    }
    case 0xc4:
    case 0xc5:
    case 0xc6:
      g_set_error (error, GST_MESH_MSGPACK_ERROR,
          GST_MESH_MSGPACK_ERROR_UNSUPPORTED,
          "MessagePack binary data at byte %" G_GSIZE_FORMAT " (a Buffer "
          "in Node) has no JSON form", at);
      return NULL;
    default:
      g_set_error (error, GST_MESH_MSGPACK_ERROR,
          GST_MESH_MSGPACK_ERROR_UNSUPPORTED,
          "byte 0x%02x at %" G_GSIZE_FORMAT " starts no MessagePack value",
          b, at);
      return NULL;
  }
}

JsonNode *
gst_mesh_msgpack_decode (const guint8 * data, gsize len, GError ** error)
{
  Reader r = { data, data + len, data };
  JsonNode *node;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  node = decode_value (&r, 0, error);
  if (node == UNDEFINED)
    node = json_node_new (JSON_NODE_NULL);
  if (node && r.p != r.end) {
    g_set_error (error, GST_MESH_MSGPACK_ERROR,
        GST_MESH_MSGPACK_ERROR_TRAILING,
        "%" G_GSIZE_FORMAT " bytes after the MessagePack value",
        (gsize) (r.end - r.p));
    json_node_unref (node);
    return NULL;
  }
  return node;
}
