/* gst-mesh: libFuzzer target for the receive side of transport-wide
 * congestion control (gst/mesh/gstmeshtwcc.c): the header-extension
 * reader sees every packet off the network, and the feedback writer sees
 * whatever order and timing the network gives.
 *
 * The input is read as a packet (extension id from its last byte); then
 * as pairs of (sequence number, microseconds since the last), fed to a
 * recorder that writes feedback every few pairs with a size limit from
 * the input. Every feedback must be whole 32-bit words, hold at most the
 * limit, and its chunks must cover its count. Violations abort().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/mesh/gstmeshtwcc.h>

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void
check (GBytes * b, guint max)
{
  gsize len, pos = 8;
  const guint8 *d = g_bytes_get_data (b, &len);
  guint count, covered = 0;

  if (len < 8 || len % 4)
    abort ();
  count = d[2] << 8 | d[3];
  if (count == 0 || count > max)
    abort ();
  while (covered < count) {
    guint c;

    if (pos + 2 > len)
      abort ();
    c = d[pos] << 8 | d[pos + 1];
    pos += 2;
    if (!(c & 0x8000)) {
      if ((c & 0x1fff) == 0)
        abort ();
      covered += c & 0x1fff;
    } else {
      covered += (c & 0x4000) ? 7 : 14;
    }
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GstMeshTwccRecorder *rec;
  guint32 ssrc = 0;
  gint64 now = 1000000;
  guint max;
  gint seq;

  if (size == 0)
    return 0;
  seq = gst_mesh_twcc_packet_seq (data, size, data[size - 1] & 0xff, &ssrc);
  if (seq < -1 || seq > 0xffff)
    abort ();

  rec = gst_mesh_twcc_recorder_new ();
  max = 1 + data[0] % 200;
  for (size_t i = 1; i + 4 <= size; i += 4) {
    now += (data[i + 2] << 8 | data[i + 3]) * 64;
    gst_mesh_twcc_recorder_add (rec, data[i] << 8 | data[i + 1], now);
    if ((i / 4) % 5 == 4) {
      GBytes *b;
      while ((b = gst_mesh_twcc_recorder_feedback (rec, max))) {
        check (b, max);
        g_bytes_unref (b);
      }
    }
  }
  gst_mesh_twcc_recorder_free (rec);
  return 0;
}
