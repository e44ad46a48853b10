/* gst-mesh: generic NACK FCIs (see the header).
 *
 *    0                   1                   2                   3
 *   |            PID                |             BLP               |
 *
 * Bit i of BLP (i = 0 the least significant) asks for PID + i + 1.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshnack.h"

#include <string.h>

static gint
seq_cmp (gconstpointer a, gconstpointer b, gpointer user_data)
{
  /* distance from the first, so that 65535 sorts before 0 after a wrap */
  guint16 base = *(const guint16 *) user_data;
  guint16 da = (guint16) (*(const guint16 *) a - base);
  guint16 db = (guint16) (*(const guint16 *) b - base);

  return (gint) da - (gint) db;
}

GBytes *
gst_mesh_nack_fci (const guint16 * seqs, guint n)
{
  guint16 *sorted, base;
  GByteArray *out;
  guint i = 0;

  if (!n)
    return NULL;
  base = seqs[0];
  /* the lowest may be before the first given: base on it */
  for (guint k = 1; k < n; k++)
    if ((gint16) (seqs[k] - base) < 0)
      base = seqs[k];
  sorted = g_memdup2 (seqs, n * sizeof (guint16));
  g_qsort_with_data (sorted, n, sizeof (guint16), seq_cmp, &base);

  out = g_byte_array_sized_new (4 * n);
  while (i < n) {
    guint16 pid = sorted[i], blp = 0;
    guint8 word[4];

    /* the PID itself, and its repeats */
    while (i < n && sorted[i] == pid)
      i++;
    while (i < n) {
      guint16 d = (guint16) (sorted[i] - pid);
      if (d > 16)
        break;
      blp |= 1 << (d - 1);
      i++;
    }
    word[0] = pid >> 8;
    word[1] = pid & 0xff;
    word[2] = blp >> 8;
    word[3] = blp & 0xff;
    g_byte_array_append (out, word, 4);
  }
  g_free (sorted);
  return g_byte_array_free_to_bytes (out);
}

guint
gst_mesh_nack_fci_parse (const guint8 * fci, gsize len, guint16 * out,
    guint max)
{
  guint count = 0;

  for (gsize off = 0; off + 4 <= len; off += 4) {
    guint16 pid = (fci[off] << 8) | fci[off + 1];
    guint16 blp = (fci[off + 2] << 8) | fci[off + 3];

    if (count < max)
      out[count] = pid;
    count++;
    for (guint b = 0; b < 16; b++) {
      if (!(blp & (1 << b)))
        continue;
      if (count < max)
        out[count] = (guint16) (pid + b + 1);
      count++;
    }
  }
  return count;
}
