/* gst-mesh: libFuzzer target for the Engine.IO / Socket.IO packet codec.
 *
 * Feeds the input to every decoder (Engine.IO packet, binary frame,
 * polling payload, Socket.IO packet), re-encodes whatever decoded, and
 * checks that the encoder's output decodes again to the same text: what we
 * send must be something we (and so, the reference parsers) accept.
 * Violations abort(), so libFuzzer records them as crashes.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I gst \
 *     $(pkg-config --cflags json-glib-1.0) gst/mesh/gstmeshpacket.c \
 *     tests/fuzz/fuzz_packet.c $(pkg-config --libs json-glib-1.0) -lm
 *   ./a.out tests/fuzz/corpus/packet
 *
 * Linked with standalone.c instead of -fsanitize=fuzzer it
 * gets a main() that runs the files named on the command line once, so the
 * corpus can serve as a regression test without libFuzzer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/mesh/gstmeshpacket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void G_GNUC_NORETURN
invariant_failed (const char *what, const char *a, const char *b)
{
  fprintf (stderr, "invariant failed: %s\n  first:  %s\n  second: %s\n",
      what, a ? a : "(null)", b ? b : "(null)");
  abort ();
}

/* Decodes @text again with a decoder of the same kind and checks the text
 * it encodes to is the same: encode (decode (x)) is a fixed point. */
static void
check_sio_stable (const gchar * encoded)
{
  GError *error = NULL;
  GstMeshSioPacket *again = gst_mesh_sio_packet_decode (encoded,
      strlen (encoded), &error);
  gchar *encoded2;

  if (again == NULL)
    invariant_failed ("Socket.IO encoder output does not decode", encoded,
        error ? error->message : NULL);
  encoded2 = gst_mesh_sio_packet_encode (again);
  if (strcmp (encoded, encoded2) != 0)
    invariant_failed ("Socket.IO re-encoding differs", encoded, encoded2);
  g_free (encoded2);
  gst_mesh_sio_packet_free (again);
}

static void
exercise_sio (const gchar * text, gsize len, const uint8_t * data,
    size_t size)
{
  GstMeshSioPacket *packet;
  GError *error = NULL;
  JsonArray *args;
  gchar *encoded, *json;
  guint i;

  packet = gst_mesh_sio_packet_decode (text, len, &error);
  if (packet == NULL) {
    if (error == NULL || error->domain != GST_MESH_PACKET_ERROR
        || error->message == NULL || error->message[0] == '\0')
      invariant_failed ("Socket.IO decode failed without a proper error",
          NULL, NULL);
    if (!g_utf8_validate (error->message, -1, NULL))
      invariant_failed ("error message is not UTF-8", NULL, NULL);
    g_error_free (error);
    return;
  }

  encoded = gst_mesh_sio_packet_encode (packet);
  check_sio_stable (encoded);

  gst_mesh_sio_packet_get_event_name (packet);
  args = gst_mesh_sio_packet_dup_event_args (packet);
  if (args != NULL)
    json_array_unref (args);
  json = gst_mesh_json_to_string (packet->data);
  g_free (json);

  /* Feed it slices of the input as attachments, one more than announced:
   * the extra one must be refused. */
  for (i = 0; i <= packet->n_attachments && i < 16; i++) {
    GBytes *bytes = g_bytes_new (data, MIN (size, i));
    gboolean was_complete = gst_mesh_sio_packet_is_complete (packet);
    gboolean taken = gst_mesh_sio_packet_add_attachment_full (packet, bytes,
        NULL);

    if (taken == was_complete)
      invariant_failed ("attachment accepted past completion or refused "
          "before it", encoded, NULL);
    g_bytes_unref (bytes);
  }

  g_free (encoded);
  gst_mesh_sio_packet_free (packet);
}

static void
check_eio_stable (const gchar * encoded)
{
  GstMeshEioPacket *again;
  GError *error = NULL;
  gchar *encoded2;

  again = gst_mesh_eio_packet_decode (encoded, strlen (encoded), &error);
  if (again == NULL)
    invariant_failed ("Engine.IO encoder output does not decode", encoded,
        error ? error->message : NULL);
  encoded2 = gst_mesh_eio_packet_encode (again);
  if (strcmp (encoded, encoded2) != 0)
    invariant_failed ("Engine.IO re-encoding differs", encoded, encoded2);
  g_free (encoded2);
  gst_mesh_eio_packet_free (again);
}

static void
exercise_eio_packet (GstMeshEioPacket * packet, const uint8_t * data,
    size_t size)
{
  gchar *encoded = gst_mesh_eio_packet_encode (packet);

  /* An empty binary message encodes as "b", which is fine; text packets
   * always have their digit. */
  check_eio_stable (encoded);
  g_free (encoded);

  if (!packet->binary && packet->type == GST_MESH_EIO_MESSAGE) {
    gsize len;
    const gchar *text = gst_mesh_eio_packet_get_text (packet, &len);

    if (text == NULL || text[len] != '\0')
      invariant_failed ("text packet without NUL-terminated text", NULL,
          NULL);
    exercise_sio (text, len, data, size);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const gchar *text = (const gchar *) data;
  GstMeshEioPacket *packet;
  GPtrArray *packets;
  GBytes *bytes;

  /* One WebSocket text frame. */
  packet = gst_mesh_eio_packet_decode (text, size, NULL);
  if (packet != NULL) {
    exercise_eio_packet (packet, data, size);
    gst_mesh_eio_packet_free (packet);
  }

  /* One WebSocket binary frame. */
  bytes = g_bytes_new (data, size);
  packet = gst_mesh_eio_packet_decode_binary (bytes);
  g_bytes_unref (bytes);
  exercise_eio_packet (packet, data, size);
  gst_mesh_eio_packet_free (packet);

  /* An HTTP long-polling body. */
  packets = gst_mesh_eio_payload_decode (text, size, NULL);
  if (packets != NULL) {
    gchar *encoded = gst_mesh_eio_payload_encode ((GstMeshEioPacket * const *)
        packets->pdata, packets->len);
    GPtrArray *again = gst_mesh_eio_payload_decode (encoded,
        strlen (encoded), NULL);
    gchar *encoded2;
    guint i;

    if (again == NULL || again->len != packets->len)
      invariant_failed ("polling payload does not decode again", encoded,
          NULL);
    encoded2 = gst_mesh_eio_payload_encode ((GstMeshEioPacket * const *)
        again->pdata, again->len);
    if (strcmp (encoded, encoded2) != 0)
      invariant_failed ("polling payload re-encoding differs", encoded,
          encoded2);
    for (i = 0; i < packets->len; i++)
      exercise_eio_packet (g_ptr_array_index (packets, i), data, size);
    g_free (encoded);
    g_free (encoded2);
    g_ptr_array_unref (again);
    g_ptr_array_unref (packets);
  }

  /* A Socket.IO packet on its own (what an Engine.IO message carries). */
  exercise_sio (text, size, data, size);

  return 0;
}
