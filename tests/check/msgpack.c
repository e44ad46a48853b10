/* gst-mesh: the MessagePack codec (gst/mesh/gstmeshmsgpack.c) against
 * notepack.io, the encoder of Socket.IO's Redis adapter: byte for byte on
 * every vector tests/node/notepack-vectors.mjs prints from the real
 * package, and every kind of bad input.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/mesh/gstmeshmsgpack.h>
#include <string.h>

#include "meshtest.h"

static JsonNode *
parse (const gchar * json)
{
  GError *error = NULL;
  JsonNode *node = json_from_string (json, &error);

  fail_unless (node != NULL, "bad vector %s: %s", json,
      error ? error->message : "");
  return node;
}

static gchar *
to_hex (const guint8 * data, gsize len)
{
  GString *s = g_string_sized_new (len * 2 + 1);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}

static guint8 *
from_hex (const gchar * hex, gsize * len)
{
  gsize n = strlen (hex) / 2;
  guint8 *out = g_malloc (n + 1);

  for (gsize i = 0; i < n; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 |
        g_ascii_xdigit_value (hex[2 * i + 1]));
  *len = n;
  return out;
}

/* What notepack makes of each vector, from node. */
static gchar **
notepack_vectors (void)
{
  gchar *script = g_build_filename (mesh_test_dir (), "node",
      "notepack-vectors.mjs", NULL);
  gchar *argv[] = { (gchar *) "node", script, NULL };
  gchar *out = NULL, *err = NULL;
  gint status = 0;
  GError *error = NULL;
  gchar **lines;

  fail_unless (g_spawn_sync (mesh_test_dir (), argv, NULL,
          G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error),
      "node: %s", error ? error->message : "");
  fail_unless (g_spawn_check_wait_status (status, NULL), "node: %s", err);
  lines = g_strsplit (g_strstrip (out), "\n", -1);
  g_free (out);
  g_free (err);
  g_free (script);
  return lines;
}

/* Each value encodes to notepack's bytes, and those bytes decode to the
 * value again; what notepack reads beyond JSON decodes as its
 * JSON.stringify says. */
GST_START_TEST (test_notepack_vectors)
{
  gchar **lines = notepack_vectors ();
  guint n_enc = 0, n_dec = 0;

  for (guint i = 0; lines[i]; i++) {
    gchar **f = g_strsplit (lines[i], " ", 3);
    gsize len;
    guint8 *bytes;
    JsonNode *want, *got;
    GError *error = NULL;

    fail_unless (g_strv_length (f) == 3, "bad line %s", lines[i]);
    bytes = from_hex (f[1], &len);
    want = parse (f[2]);
    if (g_str_has_prefix (f[0], "enc")) {
      GBytes *enc = gst_mesh_msgpack_encode_bytes (want);
      gsize n;
      gchar *hex = to_hex (g_bytes_get_data (enc, &n), g_bytes_get_size (enc));

      fail_unless (g_str_equal (hex, f[1]), "%.200s encodes as\n%.200s,\n"
          "notepack:\n%.200s", f[2], hex, f[1]);
      g_free (hex);
      g_bytes_unref (enc);
      n_enc++;
      if (g_str_equal (f[0], "encx"))
        goto next;
    } else {
      n_dec++;
    }
    got = gst_mesh_msgpack_decode (bytes, len, &error);
    fail_unless (got != NULL, "%.200s: %s", f[1], error ? error->message : "");
    /* compared through their encodings, where 2.0 and 2 are one number
     * as in JavaScript: an "enc" vector decodes to what encodes to its
     * bytes again (notepack itself wraps integers past 2^64), a "dec"
     * vector to what notepack's decoding stringified to */
    {
      gchar *a = json_to_string (got, FALSE), *b = json_to_string (want,
          FALSE);
      GBytes *ea = gst_mesh_msgpack_encode_bytes (got);
      GBytes *eb = g_str_equal (f[0], "enc") ? g_bytes_new (bytes, len) :
          gst_mesh_msgpack_encode_bytes (want);

      fail_unless (g_bytes_equal (ea, eb), "%.200s decodes as %.200s, "
          "notepack: %.200s", f[1], a, b);
      g_bytes_unref (ea);
      g_bytes_unref (eb);
      g_free (a);
      g_free (b);
    }
    json_node_unref (got);
  next:
    json_node_unref (want);
    g_free (bytes);
    g_strfreev (f);
  }
  g_print ("msgpack: %u encodings and %u decodings as notepack's\n", n_enc,
      n_dec);
  fail_unless (n_enc >= 40 && n_dec >= 5);
  g_strfreev (lines);
}

GST_END_TEST;

static void
expect_error (const gchar * hex, GstMeshMsgpackError code,
    const gchar * words)
{
  gsize len;
  guint8 *bytes = from_hex (hex, &len);
  GError *error = NULL;
  JsonNode *node = gst_mesh_msgpack_decode (bytes, len, &error);

  fail_unless (node == NULL, "%s decoded", hex);
  fail_unless (g_error_matches (error, GST_MESH_MSGPACK_ERROR, code),
      "%s: %s", hex, error->message);
  fail_unless (strstr (error->message, words) != NULL, "%s: \"%s\" lacks "
      "\"%s\"", hex, error->message, words);
  g_error_free (error);
  g_free (bytes);
}

GST_START_TEST (test_bad_input)
{
  gchar *deep;
  GString *s = g_string_new (NULL);

  expect_error ("", GST_MESH_MSGPACK_ERROR_TRUNCATED, "ends inside");
  expect_error ("a5616263", GST_MESH_MSGPACK_ERROR_TRUNCATED, "ends inside");
  expect_error ("cd01", GST_MESH_MSGPACK_ERROR_TRUNCATED, "at byte 1");
  /* an array that claims more elements than there are bytes */
  expect_error ("ddffffffff", GST_MESH_MSGPACK_ERROR_TRUNCATED, "ends inside");
  expect_error ("dfffffffff", GST_MESH_MSGPACK_ERROR_TRUNCATED, "ends inside");
  expect_error ("0102", GST_MESH_MSGPACK_ERROR_TRAILING, "1 bytes after");
  expect_error ("c403616263", GST_MESH_MSGPACK_ERROR_UNSUPPORTED, "binary");
  expect_error ("c1", GST_MESH_MSGPACK_ERROR_UNSUPPORTED, "0xc1");
  expect_error ("d40501", GST_MESH_MSGPACK_ERROR_UNSUPPORTED,
      "extension type 5");
  expect_error ("810102", GST_MESH_MSGPACK_ERROR_UNSUPPORTED, "not a string");
  expect_error ("a2c328", GST_MESH_MSGPACK_ERROR_UTF8, "not UTF-8");
  expect_error ("92a178a2ff00", GST_MESH_MSGPACK_ERROR_UTF8, "byte 4");
  for (guint i = 0; i <= GST_MESH_MSGPACK_MAX_DEPTH + 1; i++)
    g_string_append (s, "91");
  g_string_append (s, "c0");
  deep = g_string_free (s, FALSE);
  expect_error (deep, GST_MESH_MSGPACK_ERROR_TOO_DEEP, "deeper than 64");
  g_free (deep);
}

GST_END_TEST;

/* Large integers and odd numbers: beyond int64 and not finite */
GST_START_TEST (test_numbers)
{
  const struct
  {
    const gchar *hex;
    const gchar *json;
  } cases[] = {
    {"cfffffffffffffffff", "1.8446744073709552e+19"},
    {"d38000000000000000", "-9223372036854775808"},
    {"d0ff", "-1"},
    {"d1ff7f", "-129"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gsize len;
    guint8 *bytes = from_hex (cases[i].hex, &len);
    JsonNode *got = gst_mesh_msgpack_decode (bytes, len, NULL);
    JsonNode *want = parse (cases[i].json);

    fail_unless (got != NULL, "%s", cases[i].hex);
    fail_unless (json_node_get_double (got) == json_node_get_double (want),
        "%s", cases[i].hex);
    json_node_unref (got);
    json_node_unref (want);
    g_free (bytes);
  }
}

GST_END_TEST;

static Suite *
msgpack_suite (void)
{
  Suite *s = suite_create ("msgpack");
  TCase *tc = tcase_create ("codec");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_notepack_vectors);
  tcase_add_test (tc, test_bad_input);
  tcase_add_test (tc, test_numbers);
  return s;
}

GST_CHECK_MAIN (msgpack);
