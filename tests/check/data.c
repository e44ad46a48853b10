/* gst-mesh: the data channel's framing (gst/mesh/gstmeshdata.c) on its
 * own: messages of every size through frames and back, what a page may
 * send, and every kind of bad input.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/mesh/gstmeshdata.h>
#include <string.h>

/* Frames @size bytes, feeds the frames back, and checks the one message
 * that comes out. */
static void
round_trip (gsize size, gboolean text, gsize chunk)
{
  guint8 *data = g_malloc (size + 1);
  GstMeshDataAssembler *a = gst_mesh_data_assembler_new (0);
  GPtrArray *frames;
  GBytes *out = NULL;
  gsize expect_frames;
  guint i;

  for (gsize j = 0; j < size; j++)
    data[j] = text ? 'a' + j % 26 : (guint8) (j * 7 + j / 251);
  frames = gst_mesh_data_frame (data, size, text, chunk);
  if (chunk == 0)
    chunk = GST_MESH_DATA_CHUNK;
  if (text && size <= chunk)
    expect_frames = 1;
  else
    expect_frames = size == 0 ? 1 : (size + chunk - 2) / (chunk - 1);
  fail_unless_equals_int (frames->len, expect_frames);

  for (i = 0; i < frames->len; i++) {
    gsize n;
    const guint8 *f = g_bytes_get_data (frames->pdata[i], &n);
    GError *error = NULL;
    GstMeshDataResult r;
    gboolean is_text = FALSE;

    fail_unless (n <= chunk, "frame %u is %" G_GSIZE_FORMAT " bytes", i, n);
    if (text && expect_frames == 1 && size <= chunk) {
      r = gst_mesh_data_assembler_push_string (a, (const gchar *) f, n, &out,
          &error);
      is_text = TRUE;
    } else {
      r = gst_mesh_data_assembler_push (a, f, n, &out, &is_text, &error);
    }
    g_assert_no_error (error);
    if (i + 1 < frames->len) {
      fail_unless_equals_int (r, GST_MESH_DATA_MORE);
      fail_unless (out == NULL);
      fail_unless_equals_int (gst_mesh_data_assembler_pending (a),
          (i + 1) * (chunk - 1));
    } else {
      fail_unless_equals_int (r, GST_MESH_DATA_MESSAGE);
      fail_unless_equals_int (is_text, text);
    }
  }
  fail_unless (out != NULL);
  fail_unless_equals_int (g_bytes_get_size (out), size);
  fail_unless (size == 0 || memcmp (g_bytes_get_data (out, NULL), data,
          size) == 0);
  fail_unless_equals_int (gst_mesh_data_assembler_pending (a), 0);
  g_bytes_unref (out);
  g_ptr_array_unref (frames);
  gst_mesh_data_assembler_free (a);
  g_free (data);
}

GST_START_TEST (test_sizes_round_trip)
{
  static const gsize sizes[] = { 0, 1, 2, 100, GST_MESH_DATA_CHUNK - 2,
    GST_MESH_DATA_CHUNK - 1, GST_MESH_DATA_CHUNK, GST_MESH_DATA_CHUNK + 1,
    3 * (GST_MESH_DATA_CHUNK - 1), 3 * (GST_MESH_DATA_CHUNK - 1) + 1,
    1000 * 1000
  };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    round_trip (sizes[i], FALSE, 0);
    round_trip (sizes[i], TRUE, 0);
  }
  /* small chunks: many frames */
  round_trip (1000, FALSE, 2);
  round_trip (1000, TRUE, 7);
}

GST_END_TEST;

/* What a page sends: the wire bytes of docs/protocol.md, by hand. */
GST_START_TEST (test_wire_format)
{
  GstMeshDataAssembler *a = gst_mesh_data_assembler_new (0);
  GPtrArray *frames;
  const guint8 *f;
  GBytes *out;
  gboolean text;
  gsize n;
  static const guint8 one[] = { 0x01, 'h', 'i' };
  static const guint8 head[] = { 0x00, 'a', 'b' };
  static const guint8 last[] = { 0x01, 'c' };
  static const guint8 tfirst[] = { 0x02, 0xc3 };
  static const guint8 tlast[] = { 0x03, 0xa9, '!' };

  /* a short binary message: one frame, FINAL */
  frames = gst_mesh_data_frame ((const guint8 *) "hi", 2, FALSE, 0);
  fail_unless_equals_int (frames->len, 1);
  f = g_bytes_get_data (frames->pdata[0], &n);
  fail_unless_equals_int (n, 3);
  fail_unless (memcmp (f, one, 3) == 0);
  g_ptr_array_unref (frames);
  /* a short text: as it is */
  frames = gst_mesh_data_frame ((const guint8 *) "hi", 2, TRUE, 0);
  f = g_bytes_get_data (frames->pdata[0], &n);
  fail_unless_equals_int (n, 2);
  fail_unless (memcmp (f, "hi", 2) == 0);
  g_ptr_array_unref (frames);

  fail_unless_equals_int (gst_mesh_data_assembler_push (a, one, 3, &out,
          &text, NULL), GST_MESH_DATA_MESSAGE);
  fail_unless (!text);
  fail_unless (g_bytes_get_size (out) == 2);
  g_bytes_unref (out);
  fail_unless_equals_int (gst_mesh_data_assembler_push (a, head, 3, &out,
          &text, NULL), GST_MESH_DATA_MORE);
  fail_unless_equals_int (gst_mesh_data_assembler_push (a, last, 2, &out,
          &text, NULL), GST_MESH_DATA_MESSAGE);
  fail_unless (g_bytes_get_size (out) == 3);
  fail_unless (memcmp (g_bytes_get_data (out, NULL), "abc", 3) == 0);
  g_bytes_unref (out);
  /* a chunked text, a UTF-8 character cut between two chunks */
  fail_unless_equals_int (gst_mesh_data_assembler_push (a, tfirst, 2, &out,
          &text, NULL), GST_MESH_DATA_MORE);
  fail_unless_equals_int (gst_mesh_data_assembler_push (a, tlast, 3, &out,
          &text, NULL), GST_MESH_DATA_MESSAGE);
  fail_unless (text);
  fail_unless (memcmp (g_bytes_get_data (out, NULL), "\xc3\xa9!", 3) == 0);
  g_bytes_unref (out);
  gst_mesh_data_assembler_free (a);
}

GST_END_TEST;

static void
expect_failure (GstMeshDataAssembler * a, const guint8 * data, gsize size,
    gint code, const gchar * needle)
{
  GError *error = NULL;
  GBytes *out = NULL;
  gboolean text;

  fail_unless_equals_int (gst_mesh_data_assembler_push (a, data, size, &out,
          &text, &error), GST_MESH_DATA_FAILED);
  fail_unless (out == NULL);
  fail_unless (error != NULL);
  fail_unless_equals_int (error->code, code);
  fail_unless (strstr (error->message, needle) != NULL, "'%s' lacks '%s'",
      error->message, needle);
  g_error_free (error);
}

GST_START_TEST (test_bad_input)
{
  GstMeshDataAssembler *a = gst_mesh_data_assembler_new (100);
  static const guint8 unknown[] = { 0x81, 'x' };
  static const guint8 keepalive[] = { 0x04, 'k' };
  static const guint8 part[] = { 0x00, 'x', 'y' };
  static const guint8 tpart[] = { 0x02, 'x' };
  static const guint8 bad_utf8[] = { 0x03, 0xff, 0xfe };
  static const guint8 ok[] = { 0x01, 'o', 'k' };
  guint8 big[60];
  GBytes *out = NULL;
  GError *error = NULL;
  gboolean text;

  expect_failure (a, (const guint8 *) "", 0, GST_MESH_DATA_ERROR_EMPTY,
      "no flags byte");
  expect_failure (a, unknown, 2, GST_MESH_DATA_ERROR_FLAGS, "0x81");
  /* a keepalive is nothing, and leaves a message under way alone; one
   * with a payload is no keepalive */
  gst_mesh_data_assembler_push (a, part, 3, &out, &text, NULL);
  fail_unless_equals_int (gst_mesh_data_assembler_push (a, keepalive, 1,
          &out, &text, NULL), GST_MESH_DATA_MORE);
  fail_unless (out == NULL);
  fail_unless_equals_int (gst_mesh_data_assembler_pending (a), 2);
  expect_failure (a, keepalive, 2, GST_MESH_DATA_ERROR_FLAGS, "0x04");
  /* binary then text chunk: the message so far is dropped */
  gst_mesh_data_assembler_push (a, part, 3, &out, &text, NULL);
  fail_unless_equals_int (gst_mesh_data_assembler_pending (a), 2);
  expect_failure (a, tpart, 2, GST_MESH_DATA_ERROR_MIXED, "2 bytes dropped");
  fail_unless_equals_int (gst_mesh_data_assembler_pending (a), 0);
  expect_failure (a, bad_utf8, 3, GST_MESH_DATA_ERROR_UTF8, "not UTF-8");
  /* a string within a chunked message: that one dropped, the string kept */
  gst_mesh_data_assembler_push (a, part, 3, &out, &text, NULL);
  fail_unless_equals_int (gst_mesh_data_assembler_push_string (a, "chat", 4,
          &out, &error), GST_MESH_DATA_FAILED);
  fail_unless (error && error->code == GST_MESH_DATA_ERROR_MIXED);
  g_clear_error (&error);
  fail_unless (out && g_bytes_get_size (out) == 4);
  g_clear_pointer (&out, g_bytes_unref);
  fail_unless_equals_int (gst_mesh_data_assembler_push_string (a,
          "\xff", 1, &out, &error), GST_MESH_DATA_FAILED);
  fail_unless (error && error->code == GST_MESH_DATA_ERROR_UTF8);
  fail_unless (out == NULL);
  g_clear_error (&error);

  /* over the limit (100): dropped up to its FINAL chunk, then all well */
  memset (big, 'z', sizeof (big));
  big[0] = 0x00;
  fail_unless_equals_int (gst_mesh_data_assembler_push (a, big, 60, &out,
          &text, NULL), GST_MESH_DATA_MORE);
  expect_failure (a, big, 60, GST_MESH_DATA_ERROR_TOO_LARGE, "limit of 100");
  fail_unless_equals_int (gst_mesh_data_assembler_push (a, big, 60, &out,
          &text, NULL), GST_MESH_DATA_MORE);
  big[0] = 0x01;
  fail_unless_equals_int (gst_mesh_data_assembler_push (a, big, 60, &out,
          &text, NULL), GST_MESH_DATA_MORE);
  fail_unless (out == NULL);
  fail_unless_equals_int (gst_mesh_data_assembler_push (a, ok, 3, &out,
          &text, NULL), GST_MESH_DATA_MESSAGE);
  fail_unless (memcmp (g_bytes_get_data (out, NULL), "ok", 2) == 0);
  g_bytes_unref (out);
  gst_mesh_data_assembler_free (a);
}

GST_END_TEST;

static Suite *
data_suite (void)
{
  Suite *s = suite_create ("data");
  TCase *tc = tcase_create ("framing");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sizes_round_trip);
  tcase_add_test (tc, test_wire_format);
  tcase_add_test (tc, test_bad_input);
  return s;
}

GST_CHECK_MAIN (data);
