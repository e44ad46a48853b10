/* gst-mesh: libFuzzer target for the MessagePack codec
 * (gst/mesh/gstmeshmsgpack.c), which reads what other servers of a
 * cluster publish on Redis.
 *
 * The input is decoded; whatever decodes must encode, and that encoding
 * must decode to a value that encodes to the same bytes again (encoding is
 * canonical). Violations abort().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/mesh/gstmeshmsgpack.h>

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GError *error = NULL;
  JsonNode *node = gst_mesh_msgpack_decode (data, size, &error), *again;
  GBytes *a, *b;

  if (!node) {
    if (!error || !error->message[0])
      abort ();
    g_error_free (error);
    return 0;
  }
  a = gst_mesh_msgpack_encode_bytes (node);
  again = gst_mesh_msgpack_decode (g_bytes_get_data (a, NULL),
      g_bytes_get_size (a), NULL);
  if (!again)
    abort ();
  b = gst_mesh_msgpack_encode_bytes (again);
  if (!g_bytes_equal (a, b))
    abort ();
  g_bytes_unref (a);
  g_bytes_unref (b);
  json_node_unref (node);
  json_node_unref (again);
  return 0;
}
