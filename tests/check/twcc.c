/* gst-mesh: transport-cc feedback (gst/mesh/gstmeshtwcc.c) on its own.
 * Exact bytes for small cases worked out by hand from the draft's §3.1,
 * and a reader written here from the draft (not from the writer) that
 * takes random arrivals back out of the feedback. The real readers,
 * rtpsession's and Chromium's, are met in the meshsignal and
 * browser-interop suites.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/mesh/gstmeshtwcc.h>

#define T0 (64000 * 10)         /* a reference time of 10 */

static void
assert_bytes (GBytes * b, const guint8 * want, gsize len)
{
  gsize n;
  const guint8 *got = g_bytes_get_data (b, &n);

  fail_unless_equals_int (n, len);
  for (gsize i = 0; i < len; i++)
    fail_unless (got[i] == want[i], "byte %" G_GSIZE_FORMAT ": %02x, not "
        "%02x", i, got[i], want[i]);
}

GST_START_TEST (test_three_in_order)
{
  GstMeshTwccRecorder *rec = gst_mesh_twcc_recorder_new ();
  GBytes *b;
  /* base 100, count 3, ref 10, fb 0; one-bit vector 111 (0xb800);
   * deltas 0, 4, 4 (1 ms = 4 x 250 µs); padded to 16 */
  const guint8 want[] = { 0, 100, 0, 3, 0, 0, 10, 0, 0xb8, 0x00, 0, 4, 4,
    0, 0, 0
  };

  gst_mesh_twcc_recorder_add (rec, 100, T0);
  gst_mesh_twcc_recorder_add (rec, 101, T0 + 1000);
  gst_mesh_twcc_recorder_add (rec, 102, T0 + 2000);
  b = gst_mesh_twcc_recorder_feedback (rec, 250);
  assert_bytes (b, want, sizeof (want));
  g_bytes_unref (b);
  fail_unless (gst_mesh_twcc_recorder_feedback (rec, 250) == NULL,
      "a feedback with nothing new");
  fail_unless_equals_int (gst_mesh_twcc_recorder_get_feedbacks (rec), 1);
  gst_mesh_twcc_recorder_free (rec);
}

GST_END_TEST;

/* 65534, 65535, (0 missing), 1: the count runs across the wrap. Then 0
 * comes: the next feedback starts again at 0 (0 and 1, both received;
 * 1 arrived before 0: a negative delta, two bytes, two-bit vector). */
GST_START_TEST (test_late_packet_is_reported_again)
{
  GstMeshTwccRecorder *rec = gst_mesh_twcc_recorder_new ();
  GBytes *b;
  /* 1101 in a one-bit vector: 0x8000 | 1<<13 | 1<<12 | 1<<10 = 0xb400;
   * deltas 0, 4, 8 */
  const guint8 want1[] = { 0xff, 0xfe, 0, 4, 0, 0, 10, 0, 0xb4, 0x00, 0, 4,
    8, 0, 0, 0
  };
  /* base 0, count 2, ref 10, fb 1. 0 arrived at +5 ms: 20 ticks after
   * the reference, one byte (symbol 1); 1 at +3 ms, 8 ticks before it: two
   * bytes 0xfff8 (symbol 2). A two-bit vector 1 2: 0xc000 | 1 << 12 |
   * 2 << 10 = 0xd800 */
  const guint8 want2[] = { 0, 0, 0, 2, 0, 0, 10, 1, 0xd8, 0x00, 20, 0xff,
    0xf8, 0, 0, 0
  };

  gst_mesh_twcc_recorder_add (rec, 65534, T0);
  gst_mesh_twcc_recorder_add (rec, 65535, T0 + 1000);
  gst_mesh_twcc_recorder_add (rec, 1, T0 + 3000);
  b = gst_mesh_twcc_recorder_feedback (rec, 250);
  assert_bytes (b, want1, sizeof (want1));
  g_bytes_unref (b);

  gst_mesh_twcc_recorder_add (rec, 0, T0 + 5000);
  fail_unless_equals_int (gst_mesh_twcc_recorder_get_late (rec), 1);
  b = gst_mesh_twcc_recorder_feedback (rec, 250);
  assert_bytes (b, want2, sizeof (want2));
  g_bytes_unref (b);
  gst_mesh_twcc_recorder_free (rec);
}

GST_END_TEST;

/* Twenty received one after another, then five lost, then one: a run
 * length chunk of 20 received-small (0x2014), and a one-bit vector for
 * the 00000 1. */
GST_START_TEST (test_runs_and_vectors)
{
  GstMeshTwccRecorder *rec = gst_mesh_twcc_recorder_new ();
  GBytes *b;
  gsize n;
  const guint8 *d;

  for (guint i = 0; i < 20; i++)
    gst_mesh_twcc_recorder_add (rec, 1000 + i, T0 + i * 250);
  gst_mesh_twcc_recorder_add (rec, 1025, T0 + 20 * 250);
  b = gst_mesh_twcc_recorder_feedback (rec, 250);
  d = g_bytes_get_data (b, &n);
  fail_unless_equals_int (d[2] << 8 | d[3], 26);
  fail_unless_equals_int (d[8] << 8 | d[9], 0x2014);
  /* 0 0 0 0 0 1: 0x8000 | 1 << (13 - 5) */
  fail_unless_equals_int (d[10] << 8 | d[11], 0x8100);
  /* deltas: 0, then 1 tick each (20 of them: 21 bytes), padded */
  fail_unless_equals_int (n, 12 + 21 + 3);
  fail_unless_equals_int (d[12], 0);
  for (guint i = 1; i < 21; i++)
    fail_unless_equals_int (d[12 + i], 1);
  g_bytes_unref (b);
  gst_mesh_twcc_recorder_free (rec);
}

GST_END_TEST;

/* The extension is found among others, in one- and two-byte headers,
 * after CSRCs; RTCP, a packet without extensions, and a truncated one
 * give -1. */
GST_START_TEST (test_reads_the_header_extension)
{
  /* V=2 X=1 CC=0, PT 96, seq 7, ts, SSRC 0xdeadbeef; 0xBEDE, 2 words:
   * id 1 len 1 (0xaa), id 3 len 2 (0x1234), padding */
  const guint8 one[] = { 0x90, 96, 0, 7, 0, 0, 4, 0xd2, 0xde, 0xad, 0xbe,
    0xef, 0xbe, 0xde, 0, 2, 0x10, 0xaa, 0x31, 0x12, 0x34, 0, 0, 0, 'p'
  };
  /* CC=1 (one CSRC), 0x1000 two-byte profile: id 5 len 2 (0xbeef) */
  const guint8 two[] = { 0x91, 96, 0, 8, 0, 0, 4, 0xd2, 0, 0, 0, 1, 9, 9,
    9, 9, 0x10, 0x00, 0, 1, 5, 2, 0xbe, 0xef
  };
  guint8 rtcp[G_N_ELEMENTS (one)];
  guint32 ssrc = 0;

  fail_unless_equals_int (gst_mesh_twcc_packet_seq (one, sizeof (one), 3,
          &ssrc), 0x1234);
  fail_unless_equals_int (ssrc, 0xdeadbeef);
  fail_unless_equals_int (gst_mesh_twcc_packet_seq (one, sizeof (one), 2,
          &ssrc), -1);
  fail_unless_equals_int (gst_mesh_twcc_packet_seq (two, sizeof (two), 5,
          &ssrc), 0xbeef);
  fail_unless_equals_int (ssrc, 1);
  memcpy (rtcp, one, sizeof (one));
  rtcp[1] = 200;                /* an SR */
  fail_unless_equals_int (gst_mesh_twcc_packet_seq (rtcp, sizeof (rtcp), 3,
          &ssrc), -1);
  memcpy (rtcp, one, sizeof (one));
  rtcp[0] = 0x80;               /* no extension */
  fail_unless_equals_int (gst_mesh_twcc_packet_seq (rtcp, sizeof (rtcp), 3,
          &ssrc), -1);
  for (gsize n = 0; n < 24; n++)
    fail_unless_equals_int (gst_mesh_twcc_packet_seq (one, n, 3, &ssrc), -1);
}

GST_END_TEST;

/* ---- a reader, from the draft ---------------------------------------- */

typedef struct
{
  guint16 seq;
  gboolean received;
  gint64 arrival_us;            /* from the reference times */
} Status;

static GArray *
read_fci (GBytes * b, guint16 * base, guint8 * fb)
{
  gsize len, pos = 8;
  const guint8 *d = g_bytes_get_data (b, &len);
  guint count;
  gint64 t;
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Status));
  GArray *sym = g_array_new (FALSE, FALSE, 1);

  fail_unless (len >= 8 && len % 4 == 0);
  *base = d[0] << 8 | d[1];
  count = d[2] << 8 | d[3];
  t = (gint64) (d[4] << 16 | d[5] << 8 | d[6]) * 64000;
  *fb = d[7];
  while (sym->len < count) {
    guint c;

    fail_unless (pos + 2 <= len);
    c = d[pos] << 8 | d[pos + 1];
    pos += 2;
    if (!(c & 0x8000)) {
      guint8 s = (c >> 13) & 3;
      for (guint i = 0; i < (c & 0x1fff); i++)
        g_array_append_val (sym, s);
    } else if (!(c & 0x4000)) {
      for (gint i = 13; i >= 0; i--) {
        guint8 s = (c >> i) & 1;
        g_array_append_val (sym, s);
      }
    } else {
      for (gint i = 6; i >= 0; i--) {
        guint8 s = (c >> (2 * i)) & 3;
        g_array_append_val (sym, s);
      }
    }
  }
  for (guint i = 0; i < count; i++) {
    Status st = { (guint16) (*base + i), FALSE, 0 };
    guint8 s = g_array_index (sym, guint8, i);

    if (s == 1) {
      fail_unless (pos + 1 <= len);
      t += d[pos++] * 250;
      st.received = TRUE;
    } else if (s == 2) {
      fail_unless (pos + 2 <= len);
      t += (gint16) (d[pos] << 8 | d[pos + 1]) * 250;
      pos += 2;
      st.received = TRUE;
    } else {
      fail_unless (s == 0, "symbol 3 is reserved");
    }
    st.arrival_us = t;
    g_array_append_val (out, st);
  }
  g_array_unref (sym);
  return out;
}

/* Random loss, reordering within 80 sequence numbers, delays of up to
 * 10 s between packets: every arrival the recorder took comes back out
 * of its feedbacks to the 250 µs tick, every feedback is well-formed and
 * within its size, and the feedback count counts up. */
GST_START_TEST (test_random_arrivals_read_back)
{
  GRand *r = g_rand_new_with_seed (1717);

  for (guint round = 0; round < 20; round++) {
    GstMeshTwccRecorder *rec = gst_mesh_twcc_recorder_new ();
    GHashTable *truth = g_hash_table_new (NULL, NULL);
    GHashTable *seen = g_hash_table_new (NULL, NULL);
    gint64 now = g_rand_int_range (r, 0, 1 << 30);
    guint16 next = g_rand_int_range (r, 0, 65536);
    guint8 expect_fb = 0;
    GArray *held = g_array_new (FALSE, FALSE, sizeof (guint16));

    for (guint i = 0; i < 3000; i++) {
      guint16 s = next++;

      now += g_rand_int_range (r, 0, 100) < 2 ?
          g_rand_int_range (r, 0, 10000000) : g_rand_int_range (r, 0, 3000);
      if (g_rand_double (r) < 0.1)
        continue;               /* lost */
      if (g_rand_double (r) < 0.1) {
        g_array_append_val (held, s);   /* comes later */
        continue;
      }
      gst_mesh_twcc_recorder_add (rec, s, now);
      g_hash_table_insert (truth, GUINT_TO_POINTER (s),
          GINT_TO_POINTER ((gint) (now / 250)));
      if (held->len && (g_rand_double (r) < 0.2 || held->len > 5)) {
        guint16 late = g_array_index (held, guint16, 0);
        g_array_remove_index (held, 0);
        gst_mesh_twcc_recorder_add (rec, late, now);
        g_hash_table_insert (truth, GUINT_TO_POINTER (late),
            GINT_TO_POINTER ((gint) (now / 250)));
      }
      if (g_rand_double (r) < 0.1) {
        GBytes *b;
        while ((b = gst_mesh_twcc_recorder_feedback (rec, 100))) {
          guint16 base;
          guint8 fb;
          GArray *st = read_fci (b, &base, &fb);

          fail_unless_equals_int (fb, expect_fb);
          expect_fb++;
          fail_unless (st->len > 0 && st->len <= 100);
          for (guint k = 0; k < st->len; k++) {
            Status *x = &g_array_index (st, Status, k);
            gpointer want;
            if (!x->received)
              continue;
            fail_unless (g_hash_table_lookup_extended (truth,
                    GUINT_TO_POINTER (x->seq), NULL, &want),
                "%u reported received, never was", x->seq);
            /* the sum of the deltas from the reference time gives back
             * the arrival, to the tick */
            fail_unless (x->arrival_us / 250 == GPOINTER_TO_INT (want),
                "%u: %" G_GINT64_FORMAT " ticks, not %d", x->seq,
                x->arrival_us / 250, GPOINTER_TO_INT (want));
            g_hash_table_add (seen, GUINT_TO_POINTER (x->seq));
          }
          g_array_unref (st);
          g_bytes_unref (b);
        }
      }
    }
    /* what is still to say, then: everything received was said */
    {
      GBytes *b;
      GHashTableIter it;
      gpointer k;

      while ((b = gst_mesh_twcc_recorder_feedback (rec, 100))) {
        guint16 base;
        guint8 fb;
        GArray *st = read_fci (b, &base, &fb);
        for (guint j = 0; j < st->len; j++)
          if (g_array_index (st, Status, j).received)
            g_hash_table_add (seen,
                GUINT_TO_POINTER (g_array_index (st, Status, j).seq));
        g_array_unref (st);
        g_bytes_unref (b);
      }
      g_hash_table_iter_init (&it, truth);
      while (g_hash_table_iter_next (&it, &k, NULL))
        fail_unless (g_hash_table_contains (seen, k), "%u never reported",
            GPOINTER_TO_UINT (k));
    }
    g_array_unref (held);
    g_hash_table_unref (truth);
    g_hash_table_unref (seen);
    gst_mesh_twcc_recorder_free (rec);
  }
  g_rand_free (r);
}

GST_END_TEST;

static Suite *
twcc_suite (void)
{
  Suite *s = suite_create ("twcc");
  TCase *tc = tcase_create ("feedback");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_three_in_order);
  tcase_add_test (tc, test_late_packet_is_reported_again);
  tcase_add_test (tc, test_runs_and_vectors);
  tcase_add_test (tc, test_random_arrivals_read_back);
  tcase_add_test (tc, test_reads_the_header_extension);
  return s;
}

GST_CHECK_MAIN (twcc);
