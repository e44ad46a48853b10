/* gst-mesh: libFuzzer target for the data channel's framing
 * (gst/mesh/gstmeshdata.c).
 *
 * The input is a sequence of SCTP messages as a channel would deliver
 * them: a type byte (even: string, odd: binary), a 16-bit big-endian
 * length, the bytes. Each goes to the assembler, whose limit is small
 * (4 KiB) so that the over-limit path is reached; a message that comes
 * out must be UTF-8 when it says it is text, and within the limit; and
 * every message that comes out, framed again and fed to a second
 * assembler, must come out the same. Violations abort().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/mesh/gstmeshdata.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 4096

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void
check_round_trip (GBytes * message, gboolean text)
{
  gsize n;
  const guint8 *m = g_bytes_get_data (message, &n);
  GPtrArray *frames = gst_mesh_data_frame (m, n, text, 64);
  GstMeshDataAssembler *b = gst_mesh_data_assembler_new (LIMIT);
  GBytes *again = NULL;

  for (guint i = 0; i < frames->len; i++) {
    gsize fn;
    const guint8 *f = g_bytes_get_data (frames->pdata[i], &fn);
    gboolean t = FALSE;
    GstMeshDataResult r;

    if (text && frames->len == 1 && gst_mesh_data_text_is_string (n, 64)) {
      r = gst_mesh_data_assembler_push_string (b, (const gchar *) f, fn,
          &again, NULL);
      t = TRUE;
    } else {
      r = gst_mesh_data_assembler_push (b, f, fn, &again, &t, NULL);
    }
    if (r == GST_MESH_DATA_FAILED || (r == GST_MESH_DATA_MESSAGE) !=
        (i + 1 == frames->len) || (again && t != text))
      abort ();
  }
  if (!again || !g_bytes_equal (again, message))
    abort ();
  g_bytes_unref (again);
  g_ptr_array_unref (frames);
  gst_mesh_data_assembler_free (b);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GstMeshDataAssembler *a = gst_mesh_data_assembler_new (LIMIT);
  size_t off = 0;

  while (off + 3 <= size) {
    gboolean binary = data[off] & 1;
    size_t len = ((size_t) data[off + 1] << 8) | data[off + 2];
    GBytes *message = NULL;
    gboolean text = TRUE;
    GError *error = NULL;

    off += 3;
    if (len > size - off)
      len = size - off;
    if (binary)
      gst_mesh_data_assembler_push (a, data + off, len, &message, &text,
          &error);
    else
      gst_mesh_data_assembler_push_string (a, (const gchar *) data + off, len,
          &message, &error);
    g_clear_error (&error);
    off += len;
    if (message) {
      gsize n;
      const gchar *m = g_bytes_get_data (message, &n);
      if (n > LIMIT || (text && !g_utf8_validate (m, n, NULL)))
        abort ();
      check_round_trip (message, text);
      g_bytes_unref (message);
    }
    if (gst_mesh_data_assembler_pending (a) > LIMIT)
      abort ();
  }
  gst_mesh_data_assembler_free (a);
  return 0;
}
