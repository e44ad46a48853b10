/* gst-mesh: generic NACK FCIs (gst/mesh/gstmeshnack.c) on their own:
 * exact bytes worked out by hand from RFC 4585 §6.2.1, and random sets
 * of sequence numbers, across the wrap, taken back out by a reader. The
 * real readers, rtpsession's and Chromium's, are met in the faults and
 * net-nat suites.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/mesh/gstmeshnack.h>

static void
assert_fci (const guint16 * seqs, guint n, const guint8 * want, gsize len)
{
  GBytes *b = gst_mesh_nack_fci (seqs, n);
  gsize got_len;
  const guint8 *got = g_bytes_get_data (b, &got_len);

  fail_unless_equals_int (got_len, len);
  for (gsize i = 0; i < len; i++)
    fail_unless (got[i] == want[i], "byte %" G_GSIZE_FORMAT ": %02x, not "
        "%02x", i, got[i], want[i]);
  g_bytes_unref (b);
}

/* 100 with 101 (bit 0) and 103 (bit 2); 117 is 17 after: a pair of its
 * own, with 118 (bit 0). Given out of order. */
GST_START_TEST (test_pairs_and_bitmask)
{
  const guint16 seqs[] = { 103, 117, 100, 118, 101 };
  const guint8 want[] = { 0, 100, 0x00, 0x05, 0, 117, 0x00, 0x01 };

  assert_fci (seqs, G_N_ELEMENTS (seqs), want, sizeof (want));
}

GST_END_TEST;

/* 65535, 0, 1: one pair across the wrap, whichever comes first; 116 is
 * the 16th after 100 (the top bit). Repeats ask once. */
GST_START_TEST (test_wrap_top_bit_and_repeats)
{
  const guint16 wrap[] = { 1, 65535, 0 };
  const guint8 want_wrap[] = { 0xff, 0xff, 0x00, 0x03 };
  const guint16 top[] = { 100, 116, 116, 100 };
  const guint8 want_top[] = { 0, 100, 0x80, 0x00 };

  assert_fci (wrap, G_N_ELEMENTS (wrap), want_wrap, sizeof (want_wrap));
  assert_fci (top, G_N_ELEMENTS (top), want_top, sizeof (want_top));
  fail_unless (gst_mesh_nack_fci (top, 0) == NULL);
}

GST_END_TEST;

/* Random sets within 600 of a random base (so some cross 65535), given
 * shuffled with repeats: the reader gets each once, in order, and the
 * FCI has no more pairs than it needs (every PID is a requested number
 * more than 16 after the previous PID). */
GST_START_TEST (test_random_sets_come_back)
{
  GRand *rand = g_rand_new_with_seed (20261204);

  for (gint round = 0; round < 2000; round++) {
    guint16 base = g_rand_int_range (rand, 0, 65536);
    gboolean want[600] = { FALSE, };
    guint16 seqs[400], back[800];
    guint n = g_rand_int_range (rand, 1, 400), wanted = 0, got, k = 0;
    gint last_pid = -100;
    GBytes *b;
    gsize len;
    const guint8 *fci;

    for (guint i = 0; i < n; i++) {
      guint off = g_rand_int_range (rand, 0, 600);
      /* clusters, as losses come */
      if (i && g_rand_boolean (rand)) {
        guint step = g_rand_int_range (rand, 0, 3);
        off = MIN ((guint16) (seqs[i - 1] - base) + step, 599);
      }
      seqs[i] = (guint16) (base + off);
      want[off] = TRUE;
    }
    for (guint i = 0; i < 600; i++)
      wanted += want[i];
    b = gst_mesh_nack_fci (seqs, n);
    fci = g_bytes_get_data (b, &len);
    got = gst_mesh_nack_fci_parse (fci, len, back, G_N_ELEMENTS (back));
    fail_unless_equals_int (got, wanted);
    for (guint i = 0; i < 600; i++) {
      if (!want[i])
        continue;
      fail_unless_equals_int (back[k], (guint16) (base + i));
      k++;
    }
    for (gsize off = 0; off < len; off += 4) {
      gint pid = (guint16) (((fci[off] << 8) | fci[off + 1]) - base);
      fail_unless (pid > last_pid + 16, "round %d: a pair at %d, 16 or "
          "less after the one at %d", round, pid, last_pid);
      last_pid = pid;
    }
    g_bytes_unref (b);
  }
  g_rand_free (rand);
}

GST_END_TEST;

static Suite *
nack_suite (void)
{
  Suite *s = suite_create ("nack");
  TCase *tc = tcase_create ("fci");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_pairs_and_bitmask);
  tcase_add_test (tc, test_wrap_top_bit_and_repeats);
  tcase_add_test (tc, test_random_sets_come_back);
  return s;
}

GST_CHECK_MAIN (nack);
