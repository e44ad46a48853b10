/* gst-mesh: the bandwidth estimator (gst/mesh/gstmeshbwe.c) on its own.
 *
 * A sender that sends what the estimator says (30 frames a second, each
 * frame a burst of packets of at most 1200 bytes) through a simulated
 * bottleneck: a FIFO drained at the link's rate behind a fixed one-way
 * delay, which drops what would wait over 150 ms (as `tc ... tbf latency
 * 150ms` does), and optional random loss. Every 100 ms the receiver's
 * transport-wide feedback (arrival time or lost, per packet) reaches the
 * estimator one delay later. Deterministic: a fixed random seed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/mesh/gstmeshbwe.h>

#define MTU 1200
#define DELAY_US 20000
#define QUEUE_MAX_US 150000
#define FEEDBACK_US 100000

typedef struct
{
  GstMeshBwe *bwe;
  GRand *rand;
  gint64 now;                   /* µs */
  gint64 link_free;             /* when the bottleneck is idle again */
  guint capacity_bps;
  gdouble random_loss;
  GArray *pending;              /* GstMeshBwePacket not yet reported */
  gint64 next_feedback, next_frame;
  /* a path that reorders: each packet up to this much later again, after
   * the bottleneck; the receiver says lost what is missing below the
   * highest number it has, and says it again when it comes (as
   * libwebrtc's receivers and gstmeshtwcc.c do), without its send time
   * (as rtpsession's parser gives it once a feedback went past it) */
  gint64 reorder_us;
  guint16 seq;
  GArray *late;                 /* said lost, still on the way */
  /* what happened in the current measurement window */
  guint64 sent, lost, bytes_delivered;
  gdouble max_queue_us;
  guint changes;
} Sim;

static Sim *
sim_new (guint min, guint start, guint max, guint capacity)
{
  Sim *s = g_new0 (Sim, 1);

  s->bwe = gst_mesh_bwe_new (min, start, max);
  s->rand = g_rand_new_with_seed (42);
  s->capacity_bps = capacity;
  s->pending = g_array_new (FALSE, FALSE, sizeof (GstMeshBwePacket));
  s->late = g_array_new (FALSE, FALSE, sizeof (GstMeshBwePacket));
  s->next_feedback = FEEDBACK_US;
  return s;
}

static void
sim_free (Sim * s)
{
  gst_mesh_bwe_free (s->bwe);
  g_rand_free (s->rand);
  g_array_unref (s->pending);
  g_array_unref (s->late);
  g_free (s);
}

static void
sim_reset_window (Sim * s)
{
  s->sent = s->lost = s->bytes_delivered = 0;
  s->max_queue_us = 0;
}

/* One packet through the bottleneck. */
static void
send_packet (Sim * s, guint size)
{
  GstMeshBwePacket p = { s->now, 0, size, FALSE, TRUE, s->seq++ };
  gint64 start = MAX (s->now, s->link_free);
  gint64 tx = (gint64) size * 8 * G_USEC_PER_SEC / s->capacity_bps;

  s->sent++;
  if (start - s->now > QUEUE_MAX_US ||
      (s->random_loss > 0 && g_rand_double (s->rand) < s->random_loss)) {
    p.lost = TRUE;
    s->lost++;
  } else {
    s->link_free = start + tx;
    p.arrival_us = s->link_free + DELAY_US;
    if (s->reorder_us)
      p.arrival_us += g_rand_int_range (s->rand, 0, s->reorder_us);
    s->bytes_delivered += size;
    s->max_queue_us = MAX (s->max_queue_us, start - s->now);
  }
  g_array_append_val (s->pending, p);
}

/* What the receiver knew a delay ago, reported to us now. */
static GArray *
report_fifo (Sim * s)
{
  GArray *report = g_array_new (FALSE, FALSE, sizeof (GstMeshBwePacket));
  guint i;

  for (i = 0; i < s->pending->len; i++) {
    GstMeshBwePacket *p = &g_array_index (s->pending, GstMeshBwePacket, i);
    if (!p->lost && p->arrival_us > s->now - DELAY_US)
      break;
    if (p->lost && p->send_us > s->now - 2 * DELAY_US)
      break;
    g_array_append_val (report, *p);
  }
  g_array_remove_range (s->pending, 0, i);
  return report;
}

/* A reordering path's receiver: late arrivals said again (without send
 * time), then everything up to the highest number arrived, what is
 * missing below it said lost. */
static GArray *
report_reordered (Sim * s)
{
  GArray *report = g_array_new (FALSE, FALSE, sizeof (GstMeshBwePacket));
  gint hi = -1;

  for (guint i = 0; i < s->late->len; i++) {
    GstMeshBwePacket *p = &g_array_index (s->late, GstMeshBwePacket, i);
    if (p->arrival_us <= s->now) {
      GstMeshBwePacket again = *p;
      again.send_us = -1;
      g_array_append_val (report, again);
      g_array_remove_index (s->late, i--);
    }
  }
  for (guint i = 0; i < s->pending->len; i++) {
    GstMeshBwePacket *p = &g_array_index (s->pending, GstMeshBwePacket, i);
    if (!p->lost && p->arrival_us <= s->now)
      hi = i;
  }
  for (gint i = 0; i <= hi; i++) {
    GstMeshBwePacket p = g_array_index (s->pending, GstMeshBwePacket, i);
    if (!p.lost && p.arrival_us > s->now) {
      g_array_append_val (s->late, p);
      p.lost = TRUE;
    }
    g_array_append_val (report, p);
  }
  g_array_remove_range (s->pending, 0, hi + 1);
  return report;
}

/* Runs the world for @us; returns the mean target (bps) over it. */
static gdouble
sim_run (Sim * s, gint64 us)
{
  gint64 end = s->now + us;
  gdouble sum = 0;
  guint n = 0;

  while (s->now < end) {
    if (s->now >= s->next_frame) {
      guint bytes = gst_mesh_bwe_get_target (s->bwe) / 8 / 30;

      while (bytes > 0) {
        guint size = MIN (bytes, MTU);
        send_packet (s, size);
        bytes -= size;
      }
      s->next_frame += G_USEC_PER_SEC / 30;
    }
    if (s->now >= s->next_feedback) {
      GArray *report = s->reorder_us ? report_reordered (s) : report_fifo (s);

      if (gst_mesh_bwe_feedback (s->bwe, (GstMeshBwePacket *) report->data,
              report->len, s->now))
        s->changes++;
      g_array_unref (report);
      s->next_feedback += FEEDBACK_US;
      sum += gst_mesh_bwe_get_target (s->bwe);
      n++;
    }
    s->now += 1000;
  }
  return n ? sum / n : 0;
}

static gdouble
window_loss (Sim * s)
{
  return s->sent ? (gdouble) s->lost / s->sent : 0;
}

/* Starts above a 500 kbit/s link, as meshsignal's default 1000 kbit/s
 * does: it comes down within a few seconds and then uses most of the
 * link without filling the queue. */
GST_START_TEST (test_finds_a_narrow_link)
{
  Sim *s = sim_new (100000, 1000000, 2500000, 500000);
  gdouble mean;

  /* the queue fills at once (the delay gradient is flat at its 150 ms
   * limit): the loss it causes brings the rate down */
  while (gst_mesh_bwe_get_target (s->bwe) >= 500000 &&
      s->now < 3 * G_USEC_PER_SEC)
    sim_run (s, FEEDBACK_US);
  fail_unless (gst_mesh_bwe_get_target (s->bwe) < 500000,
      "still at %u bps after 3 s on a 500 kbit/s link",
      gst_mesh_bwe_get_target (s->bwe));
  sim_run (s, 2 * G_USEC_PER_SEC);
  sim_reset_window (s);
  mean = sim_run (s, 20 * G_USEC_PER_SEC);
  GST_INFO ("500 kbit/s: mean target %.0f, loss %.3f, delivered %.0f bps, "
      "max queue %.0f ms", mean, window_loss (s),
      s->bytes_delivered * 8 / 20.0, s->max_queue_us / 1000);
  fail_unless (mean > 0.6 * 500000 && mean < 1.05 * 500000,
      "mean target %.0f on a 500 kbit/s link", mean);
  fail_unless (window_loss (s) < 0.02, "%.1f %% lost", 100 * window_loss (s));
  fail_unless (s->bytes_delivered * 8 / 20.0 > 0.6 * 500000);
  sim_free (s);
}

GST_END_TEST;

GST_START_TEST (test_climbs_on_a_wide_link)
{
  Sim *s = sim_new (100000, 1000000, 2500000, 10000000);

  /* no probing: +8 %/s from 1 Mbit/s */
  sim_run (s, 12 * G_USEC_PER_SEC);
  fail_unless (gst_mesh_bwe_get_target (s->bwe) >= 2000000,
      "only %u bps after 12 s on a 10 Mbit/s link",
      gst_mesh_bwe_get_target (s->bwe));
  /* and never past max */
  sim_run (s, 20 * G_USEC_PER_SEC);
  fail_unless_equals_int (gst_mesh_bwe_get_target (s->bwe), 2500000);
  sim_free (s);
}

GST_END_TEST;

/* 3 Mbit/s, then 500 kbit/s, then 3 Mbit/s again (the step). */
GST_START_TEST (test_follows_a_step_down_and_up)
{
  Sim *s = sim_new (100000, 1000000, 2500000, 3000000);
  gint64 t0;
  guint target;

  sim_run (s, 30 * G_USEC_PER_SEC);
  fail_unless (gst_mesh_bwe_get_target (s->bwe) > 1800000,
      "%u bps on 3 Mbit/s", gst_mesh_bwe_get_target (s->bwe));
  s->capacity_bps = 500000;
  t0 = s->now;
  while ((target = gst_mesh_bwe_get_target (s->bwe)) > 500000 &&
      s->now - t0 < 10 * G_USEC_PER_SEC)
    sim_run (s, FEEDBACK_US);
  GST_INFO ("down to %u bps %" G_GINT64_FORMAT " ms after the step", target,
      (s->now - t0) / 1000);
  fail_unless (target <= 500000 && s->now - t0 <= 3 * G_USEC_PER_SEC,
      "%u bps %" G_GINT64_FORMAT " ms after the step down", target,
      (s->now - t0) / 1000);
  sim_reset_window (s);
  sim_run (s, 10 * G_USEC_PER_SEC);
  fail_unless (window_loss (s) < 0.03, "%.1f %% lost after settling",
      100 * window_loss (s));
  s->capacity_bps = 3000000;
  sim_run (s, 30 * G_USEC_PER_SEC);
  fail_unless (gst_mesh_bwe_get_target (s->bwe) > 1500000,
      "only %u bps 30 s after the link came back",
      gst_mesh_bwe_get_target (s->bwe));
  sim_free (s);
}

GST_END_TEST;

/* Loss without congestion: 2-10 % holds the rate (FEC and NACK's job),
 * over 10 % brings it down, by 1 - loss/2 every loss window (500 ms).
 * A loss is judged 250 ms after it is reported (a reordered packet may
 * still be said received): 6 s of 25 % loss, one window more than it
 * took before that wait. */
GST_START_TEST (test_loss_bounds_the_rate)
{
  Sim *s = sim_new (100000, 1000000, 2500000, 10000000);
  GstMeshBweStats st;

  s->random_loss = 0.05;
  sim_run (s, 10 * G_USEC_PER_SEC);
  fail_unless (gst_mesh_bwe_get_target (s->bwe) >= 1000000,
      "5 %% random loss brought it down to %u",
      gst_mesh_bwe_get_target (s->bwe));
  s->random_loss = 0.25;
  sim_run (s, 6 * G_USEC_PER_SEC);
  gst_mesh_bwe_get_stats (s->bwe, &st);
  fail_unless (st.loss > 0.15, "loss seen %.3f", st.loss);
  fail_unless (st.target_bps < 600000, "25 %% loss leaves %u bps",
      st.target_bps);
  sim_free (s);
}

GST_END_TEST;

/* A path that reorders (each packet 0-60 ms late at random, after a 2
 * Mbit/s bottleneck), feedback every 100 ms that says what is missing
 * lost and says it again when it comes: what came late is not loss, and
 * the estimate holds near the link's rate. With every loss counted as
 * reported (the estimator before), the loss seen here was 0.091. */
GST_START_TEST (test_reordering_is_not_loss)
{
  Sim *s = sim_new (100000, 500000, 2500000, 2000000);
  GstMeshBweStats st;
  gdouble mean;

  s->reorder_us = 60000;
  sim_run (s, 10 * G_USEC_PER_SEC);
  mean = sim_run (s, 10 * G_USEC_PER_SEC);
  gst_mesh_bwe_get_stats (s->bwe, &st);
  fail_unless (st.loss < 0.02, "loss seen %.3f on a lossless path", st.loss);
  fail_unless (mean > 1000000, "%.0f bps on a 2 Mbit/s path", mean);
  sim_free (s);
}

GST_END_TEST;

/* A packet reported lost and then received is not a loss, also where
 * the sequence numbers wrap (65535). */
GST_START_TEST (test_said_again_across_the_wrap)
{
  GstMeshBwe *bwe = gst_mesh_bwe_new (100000, 500000, 1000000);
  GstMeshBwePacket p[40];
  GstMeshBwePacket again = { -1, 160000, 1000, FALSE, TRUE, 65535 };
  GstMeshBweStats st;

  for (guint i = 0; i < 40; i++) {
    GstMeshBwePacket x = { i * 3000, i * 3000 + 20000, 1000, FALSE, TRUE,
      (guint16) (65506 + i)
    };
    p[i] = x;
  }
  p[29].lost = TRUE;            /* 65535 */
  gst_mesh_bwe_feedback (bwe, p, 40, 100000);
  gst_mesh_bwe_feedback (bwe, &again, 1, 150000);
  for (guint i = 0; i < 40; i++) {
    p[i].send_us += 600000;
    p[i].arrival_us += 600000;
    p[i].seq += 40;
    p[i].lost = FALSE;
  }
  gst_mesh_bwe_feedback (bwe, p, 40, 700000);
  gst_mesh_bwe_get_stats (bwe, &st);
  fail_unless (st.loss == 0, "loss %.3f", st.loss);
  gst_mesh_bwe_free (bwe);
}

GST_END_TEST;

/* What came late still came. A receiver reports the packets it has not
 * got yet lost, and again when they come; rtpsession gives the second
 * report without the send time or size (it forgot the packet when the
 * first feedback went past it). The rate that got through, to which a
 * decrease goes, left them out: on a path that reorders (40 +- 30 ms of
 * jitter, a 1 Mbit/s cap) it said 144-391 kbit/s while 591 got through (and, noted
 * after later ones, they must not shorten the span it is taken over). */
static guint
received_after (gboolean reorder)
{
  GstMeshBwe *bwe = gst_mesh_bwe_new (100000, 500000, 2000000);
  GstMeshBwePacket p[40];
  GstMeshBweStats st;

  for (guint i = 0; i < 40; i++) {
    GstMeshBwePacket x = { i * 5000, i * 5000 + 20000, 1000, FALSE, TRUE,
      (guint16) i
    };
    p[i] = x;
  }
  if (!reorder) {
    gst_mesh_bwe_feedback (bwe, p, 40, 250000);
  } else {
    GstMeshBwePacket again[10];
    /* 20-29 first said lost, then received with nothing but their
     * arrival */
    for (guint i = 20; i < 30; i++) {
      again[i - 20] = p[i];
      again[i - 20].send_us = -1;
      again[i - 20].size = 0;
      p[i].lost = TRUE;
    }
    gst_mesh_bwe_feedback (bwe, p, 40, 230000);
    gst_mesh_bwe_feedback (bwe, again, 10, 250000);
  }
  gst_mesh_bwe_get_stats (bwe, &st);
  gst_mesh_bwe_free (bwe);
  return st.received_bps;
}

GST_START_TEST (test_late_packets_count_as_received)
{
  guint in_order = received_after (FALSE), late = received_after (TRUE);

  GST_INFO ("received %u bps in order, %u with a quarter late", in_order,
      late);
  fail_unless (in_order > 0);
  fail_unless_equals_int (late, in_order);
}

GST_END_TEST;

/* Nonsense in: no crash, the target stays within its bounds. */
GST_START_TEST (test_odd_feedback)
{
  GstMeshBwe *bwe = gst_mesh_bwe_new (100000, 500000, 1000000);
  GstMeshBwePacket p[64];

  fail_if (gst_mesh_bwe_feedback (bwe, NULL, 0, 0));
  for (guint round = 0; round < 200; round++) {
    for (guint i = 0; i < G_N_ELEMENTS (p); i++) {
      p[i].send_us = g_random_int_range (-1000000, 1000000);
      p[i].arrival_us = g_random_int_range (-1000000, 1000000);
      p[i].size = g_random_int_range (0, 70000);
      p[i].lost = g_random_boolean ();
    }
    gst_mesh_bwe_feedback (bwe, p, G_N_ELEMENTS (p), round * 100000);
    fail_unless (gst_mesh_bwe_get_target (bwe) >= 100000 &&
        gst_mesh_bwe_get_target (bwe) <= 1000000);
  }
  gst_mesh_bwe_set_bounds (bwe, 200000, 300000);
  fail_unless (gst_mesh_bwe_get_target (bwe) >= 200000 &&
      gst_mesh_bwe_get_target (bwe) <= 300000);
  gst_mesh_bwe_free (bwe);
}

GST_END_TEST;

static Suite *
bwe_suite (void)
{
  Suite *s = suite_create ("bwe");
  TCase *tc = tcase_create ("gcc");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_finds_a_narrow_link);
  tcase_add_test (tc, test_climbs_on_a_wide_link);
  tcase_add_test (tc, test_follows_a_step_down_and_up);
  tcase_add_test (tc, test_loss_bounds_the_rate);
  tcase_add_test (tc, test_reordering_is_not_loss);
  tcase_add_test (tc, test_said_again_across_the_wrap);
  tcase_add_test (tc, test_late_packets_count_as_received);
  tcase_add_test (tc, test_odd_feedback);
  return s;
}

GST_CHECK_MAIN (bwe);
