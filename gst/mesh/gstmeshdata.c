/* gst-mesh: messages of any size over a WebRTC data channel.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshdata.h"

#include <string.h>

G_DEFINE_QUARK (gst-mesh-data-error-quark, gst_mesh_data_error);

struct _GstMeshDataAssembler
{
  GByteArray *buf;
  gboolean active;              /* a chunked message is under way */
  gboolean text;                /* ... and it is text */
  gboolean skipping;            /* dropping the rest of a message that
                                 * went over the limit */
  gsize max_message;
};

gboolean
gst_mesh_data_text_is_string (gsize size, gsize chunk)
{
  if (chunk == 0)
    chunk = GST_MESH_DATA_CHUNK;
  /* an empty string is sent as an SCTP message of its own (PPID 57) */
  return size <= chunk;
}

GPtrArray *
gst_mesh_data_frame (const guint8 * data, gsize size, gboolean text,
    gsize chunk)
{
  GPtrArray *frames = g_ptr_array_new_with_free_func (
      (GDestroyNotify) g_bytes_unref);
  guint8 base = text ? GST_MESH_DATA_FLAG_TEXT : 0;
  gsize off = 0, payload;

  if (chunk == 0)
    chunk = GST_MESH_DATA_CHUNK;
  g_return_val_if_fail (chunk >= 2, frames);
  g_return_val_if_fail (data != NULL || size == 0, frames);

  if (text && gst_mesh_data_text_is_string (size, chunk)) {
    g_ptr_array_add (frames, g_bytes_new (data, size));
    return frames;
  }
  payload = chunk - 1;
  do {
    gsize n = MIN (payload, size - off);
    guint8 *frame = g_malloc (n + 1);

    frame[0] = base | (off + n == size ? GST_MESH_DATA_FLAG_FINAL : 0);
    if (n)
      memcpy (frame + 1, data + off, n);
    g_ptr_array_add (frames, g_bytes_new_take (frame, n + 1));
    off += n;
  } while (off < size);
  return frames;
}

GstMeshDataAssembler *
gst_mesh_data_assembler_new (gsize max_message)
{
  GstMeshDataAssembler *a = g_new0 (GstMeshDataAssembler, 1);

  a->buf = g_byte_array_new ();
  a->max_message = max_message ? max_message : GST_MESH_DATA_MAX_MESSAGE;
  return a;
}

void
gst_mesh_data_assembler_free (GstMeshDataAssembler * a)
{
  if (!a)
    return;
  g_byte_array_unref (a->buf);
  g_free (a);
}

gsize
gst_mesh_data_assembler_pending (GstMeshDataAssembler * a)
{
  return a->active ? a->buf->len : 0;
}

static void
reset (GstMeshDataAssembler * a)
{
  /* a new array: a message near the limit leaves no such buffer behind */
  g_byte_array_unref (a->buf);
  a->buf = g_byte_array_new ();
  a->active = FALSE;
  a->text = FALSE;
  a->skipping = FALSE;
}

static gboolean
check_utf8 (const guint8 * data, gsize size, GError ** error)
{
  const gchar *end;

  if (g_utf8_validate ((const gchar *) data, size, &end))
    return TRUE;
  g_set_error (error, GST_MESH_DATA_ERROR, GST_MESH_DATA_ERROR_UTF8,
      "text message of %" G_GSIZE_FORMAT " bytes is not UTF-8 (at byte %"
      G_GSIZE_FORMAT ")", size, (gsize) (end - (const gchar *) data));
  return FALSE;
}

GstMeshDataResult
gst_mesh_data_assembler_push (GstMeshDataAssembler * a, const guint8 * data,
    gsize size, GBytes ** message, gboolean * text, GError ** error)
{
  guint8 flags;
  gboolean chunk_text;
  gsize had;

  *message = NULL;
  *text = FALSE;
  if (size == 0) {
    had = gst_mesh_data_assembler_pending (a);
    reset (a);
    g_set_error (error, GST_MESH_DATA_ERROR, GST_MESH_DATA_ERROR_EMPTY,
        "empty binary message (no flags byte)%s",
        had ? "; the chunked message under way is dropped" : "");
    return GST_MESH_DATA_FAILED;
  }
  flags = data[0];
  if (flags == GST_MESH_DATA_KEEPALIVE && size == 1)
    return GST_MESH_DATA_MORE;
  if (flags & ~(GST_MESH_DATA_FLAG_FINAL | GST_MESH_DATA_FLAG_TEXT)) {
    had = gst_mesh_data_assembler_pending (a);
    reset (a);
    g_set_error (error, GST_MESH_DATA_ERROR, GST_MESH_DATA_ERROR_FLAGS,
        "unknown flags 0x%02x in a binary message of %" G_GSIZE_FORMAT
        " bytes (this side speaks %s)%s", flags, size,
        GST_MESH_DATA_PROTOCOL,
        had ? "; the chunked message under way is dropped" : "");
    return GST_MESH_DATA_FAILED;
  }
  chunk_text = (flags & GST_MESH_DATA_FLAG_TEXT) != 0;
  if (a->skipping) {
    if (flags & GST_MESH_DATA_FLAG_FINAL)
      a->skipping = FALSE;
    return GST_MESH_DATA_MORE;
  }
  if (a->active && a->text != chunk_text) {
    had = a->buf->len;
    reset (a);
    g_set_error (error, GST_MESH_DATA_ERROR, GST_MESH_DATA_ERROR_MIXED,
        "a %s chunk within a %s message: %" G_GSIZE_FORMAT " bytes dropped",
        chunk_text ? "text" : "binary", chunk_text ? "binary" : "text", had);
    return GST_MESH_DATA_FAILED;
  }
  if (a->buf->len + (size - 1) > a->max_message) {
    had = a->buf->len + (size - 1);
    reset (a);
    /* the rest of this message is dropped too: up to its FINAL */
    a->skipping = !(flags & GST_MESH_DATA_FLAG_FINAL);
    g_set_error (error, GST_MESH_DATA_ERROR, GST_MESH_DATA_ERROR_TOO_LARGE,
        "message over the limit of %" G_GSIZE_FORMAT " bytes (%"
        G_GSIZE_FORMAT " so far): dropped", a->max_message, had);
    return GST_MESH_DATA_FAILED;
  }
  a->active = TRUE;
  a->text = chunk_text;
  g_byte_array_append (a->buf, data + 1, size - 1);
  if (!(flags & GST_MESH_DATA_FLAG_FINAL))
    return GST_MESH_DATA_MORE;

  if (chunk_text && !check_utf8 (a->buf->data, a->buf->len, error)) {
    reset (a);
    return GST_MESH_DATA_FAILED;
  }
  *message = g_byte_array_free_to_bytes (a->buf);
  *text = chunk_text;
  a->buf = g_byte_array_new ();
  a->active = FALSE;
  a->text = FALSE;
  return GST_MESH_DATA_MESSAGE;
}

GstMeshDataResult
gst_mesh_data_assembler_push_string (GstMeshDataAssembler * a,
    const gchar * data, gsize size, GBytes ** message, GError ** error)
{
  gsize had = gst_mesh_data_assembler_pending (a);

  *message = NULL;
  reset (a);
  if (!check_utf8 ((const guint8 *) data, size, error))
    return GST_MESH_DATA_FAILED;
  *message = g_bytes_new (data, size);
  if (had) {
    g_set_error (error, GST_MESH_DATA_ERROR, GST_MESH_DATA_ERROR_MIXED,
        "a string within a chunked message: %" G_GSIZE_FORMAT
        " bytes of it dropped", had);
    return GST_MESH_DATA_FAILED;
  }
  return GST_MESH_DATA_MESSAGE;
}
