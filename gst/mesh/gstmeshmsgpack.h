/* gst-mesh: MessagePack as notepack.io writes it, for JSON values.
 *
 * Socket.IO's Redis adapter (@socket.io/redis-adapter) publishes its
 * broadcasts as MessagePack made by notepack.io. A gst-mesh-server in the
 * same cluster writes the same bytes for the same value, so that either
 * side can read the other and a message relayed through C is what Node
 * would have published:
 *
 *  - integers (and doubles with no fraction, as JavaScript has only
 *    numbers) in the shortest form: fixint, uint 8/16/32/64 when positive,
 *    int 8/16/32/64 when negative; other numbers as float 64;
 *  - strings as fixstr, str 8, 16 or 32 by their UTF-8 length;
 *  - arrays as fixarray, array 16 or 32; objects as fixmap, map 16 or 32,
 *    keys in JavaScript's order (keys that are array indices first, in
 *    ascending order, then the others as inserted);
 *  - null, true, false as nil, true, false.
 *
 * Decoding takes any MessagePack a JSON value can come from: also float
 * 32, the undefined of notepack (fixext 1 of type 0: null in an array,
 * left out of an object) and its timestamps (ext type -1: the ISO 8601
 * string JavaScript's JSON.stringify would give). What JSON cannot hold
 * (binary, other extensions, map keys that are not strings, invalid
 * UTF-8) is an error that says what and where.
 *
 * Pure functions, no I/O (tests/check/msgpack.c, fuzz_msgpack).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define GST_MESH_MSGPACK_ERROR (gst_mesh_msgpack_error_quark ())
GQuark gst_mesh_msgpack_error_quark (void);

typedef enum
{
  GST_MESH_MSGPACK_ERROR_TRUNCATED,     /* ends inside a value */
  GST_MESH_MSGPACK_ERROR_TRAILING,      /* bytes after the value */
  GST_MESH_MSGPACK_ERROR_UNSUPPORTED,   /* a type JSON cannot hold */
  GST_MESH_MSGPACK_ERROR_UTF8,          /* a string that is not UTF-8 */
  GST_MESH_MSGPACK_ERROR_TOO_DEEP,      /* nested deeper than the limit */
} GstMeshMsgpackError;

/* arrays and objects nest at most this deep */
#define GST_MESH_MSGPACK_MAX_DEPTH 64

/* Appends @node's encoding to @out. */
void gst_mesh_msgpack_encode (const JsonNode * node, GByteArray * out);
/* @node's encoding. */
GBytes *gst_mesh_msgpack_encode_bytes (const JsonNode * node);
/* The one value in @data[0..@len), or NULL with @error set. */
JsonNode *gst_mesh_msgpack_decode (const guint8 * data, gsize len,
    GError ** error);

G_END_DECLS
