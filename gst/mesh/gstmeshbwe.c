/* gst-mesh: a send-side bandwidth estimator (GCC) from transport-wide
 * feedback. The header says what it is; docs/design.md where its
 * constants come from.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshbwe.h"

#include <math.h>

/* Packets sent within 5 ms of a group's first are one group (a frame's
 * burst): draft-ietf-rmcat-gcc-02 §5.2. */
#define GROUP_US 5000
#define BURST_US 5000
#define BURST_MAX_US 100000
/* The trendline: 20 groups, smoothing 0.9, gain 4 (libwebrtc's
 * TrendlineEstimator defaults). */
#define TREND_WINDOW 20
#define TREND_SMOOTHING 0.9
#define TREND_GAIN 4.0
#define TREND_MAX_DELTAS 60
/* The adaptive threshold (gcc-02 §5.4): k_u, k_d, its start and bounds,
 * and an offset past which an outlier does not move it. */
#define K_UP 0.0087
#define K_DOWN 0.039
#define THRESHOLD_START 12.5
#define THRESHOLD_MIN 6.0
#define THRESHOLD_MAX 600.0
#define THRESHOLD_MAX_OFFSET 15.0
/* overuse must last 10 ms and two deltas (gcc-02 §5.5) */
#define OVERUSE_MS 10.0
/* AIMD (gcc-02 §5.5): +8 %/s far from the last capacity, additive near
 * it; down to 0.85 of what was received. */
#define INCREASE_PER_S 1.08
#define DECREASE_FACTOR 0.85
#define RECEIVED_WINDOW_US 500000
/* the loss-based bound (gcc-02 §6): down over 10 %, up under 2 % */
#define LOSS_HIGH 0.10
#define LOSS_LOW 0.02
#define LOSS_WINDOW_US 500000
#define LOSS_MIN_PACKETS 20
#define RING 4096
#define SEQ_RING 2048
#define SEQ_LOST (1u << 30)
#define SEQ_RECEIVED (1u << 31)
#define SEQ_MASK 0x1ffffu          /* the number + 1: up to 65536 */
#define LATE_GRACE_US 250000

typedef enum
{
  RC_HOLD,
  RC_INCREASE,
  RC_DECREASE,
} RateState;

typedef struct
{
  gint64 first_send, last_send, first_arrival, last_arrival;
} Group;

typedef struct
{
  gint64 arrival;
  guint size;
} Arrival;

struct _GstMeshBwe
{
  guint min_bps, max_bps;
  guint rtt_ms;
  gdouble delay_bps, loss_bps;
  guint target_bps, reported_bps;

  /* inter-group delay variation */
  gboolean have_group, have_prev;
  Group cur, prev;

  /* trendline */
  gdouble acc_delay, smoothed;
  gboolean have_first_arrival;
  gint64 first_arrival;
  gdouble win_x[TREND_WINDOW], win_y[TREND_WINDOW];
  guint win_len, win_pos;
  guint num_deltas;
  gdouble trend, prev_trend, modified, threshold;
  gdouble time_over;            /* ms, < 0: not over */
  guint overuse_count;
  gint64 threshold_updated;     /* arrival µs, 0: never */
  GstMeshBweUsage usage;

  /* AIMD */
  RateState rc;
  gint64 rate_updated, last_decrease;
  gboolean cap_known;
  gdouble cap_kbps, cap_var;

  /* received rate, by arrival time */
  Arrival ring[RING];
  guint ring_head, ring_len;
  guint64 ring_bytes;
  gint64 ring_newest;           /* the latest arrival in it (a late packet
                                 * is noted after later ones) */

  /* what each recent sequence number was counted as: SEQ_LOST or
   * SEQ_RECEIVED in the high bits, the number + 1 in SEQ_MASK */
  guint32 seq_state[SEQ_RING];
  /* and when it was sent, and its size, as the first report said: a
   * packet reported lost comes with them, but its report as received,
   * later, comes without once rtpsession has forgotten it */
  gint64 seq_send_us[SEQ_RING];
  guint seq_size[SEQ_RING];
  /* reported lost, judged LATE_GRACE_US later: a reordered packet is
   * said again, received, before that (oldest first, a ring) */
  struct
  {
    guint16 seq;
    gint64 at;
  } suspect[SEQ_RING];
  guint suspect_head, suspect_len;

  /* loss */
  guint win_packets, win_lost;
  gint64 loss_window_start, last_loss_decrease;
  gdouble loss;

  guint64 feedbacks;
};

GstMeshBwe *
gst_mesh_bwe_new (guint min_bps, guint start_bps, guint max_bps)
{
  GstMeshBwe *bwe = g_new0 (GstMeshBwe, 1);

  bwe->min_bps = MAX (min_bps, 10000);
  bwe->max_bps = MAX (max_bps, bwe->min_bps);
  bwe->delay_bps = CLAMP (start_bps, bwe->min_bps, bwe->max_bps);
  bwe->loss_bps = bwe->max_bps;
  bwe->target_bps = bwe->reported_bps = (guint) bwe->delay_bps;
  bwe->threshold = THRESHOLD_START;
  bwe->time_over = -1;
  bwe->rc = RC_INCREASE;
  bwe->cap_var = 0.4;
  bwe->loss_window_start = -1;
  return bwe;
}

void
gst_mesh_bwe_free (GstMeshBwe * bwe)
{
  g_free (bwe);
}

void
gst_mesh_bwe_set_rtt (GstMeshBwe * bwe, guint rtt_ms)
{
  bwe->rtt_ms = rtt_ms;
}

static void
update_target (GstMeshBwe * bwe)
{
  gdouble t = MIN (bwe->delay_bps, bwe->loss_bps);

  bwe->target_bps = (guint) CLAMP (t, bwe->min_bps, bwe->max_bps);
}

void
gst_mesh_bwe_set_bounds (GstMeshBwe * bwe, guint min_bps, guint max_bps)
{
  bwe->min_bps = MAX (min_bps, 10000);
  bwe->max_bps = MAX (max_bps, bwe->min_bps);
  bwe->delay_bps = CLAMP (bwe->delay_bps, bwe->min_bps, bwe->max_bps);
  bwe->loss_bps = CLAMP (bwe->loss_bps, bwe->min_bps, bwe->max_bps);
  update_target (bwe);
}

static guint
rtt_ms (GstMeshBwe * bwe)
{
  return bwe->rtt_ms ? bwe->rtt_ms : 100;
}

/* ---- received rate ----------------------------------------------------- */

static void
note_arrival (GstMeshBwe * bwe, gint64 arrival, guint size)
{
  Arrival *a;

  if (bwe->ring_len == RING) {
    bwe->ring_bytes -= bwe->ring[bwe->ring_head].size;
    bwe->ring_head = (bwe->ring_head + 1) % RING;
    bwe->ring_len--;
  }
  a = &bwe->ring[(bwe->ring_head + bwe->ring_len) % RING];
  a->arrival = arrival;
  a->size = size;
  if (!bwe->ring_len || arrival > bwe->ring_newest)
    bwe->ring_newest = arrival;
  bwe->ring_len++;
  bwe->ring_bytes += size;
  /* forget what arrived over a window before the latest */
  while (bwe->ring_len > 1 &&
      bwe->ring_newest - bwe->ring[bwe->ring_head].arrival >
      RECEIVED_WINDOW_US) {
    bwe->ring_bytes -= bwe->ring[bwe->ring_head].size;
    bwe->ring_head = (bwe->ring_head + 1) % RING;
    bwe->ring_len--;
  }
}

static gdouble
received_bps (GstMeshBwe * bwe)
{
  gint64 span;

  if (bwe->ring_len < 2)
    return 0;
  span = bwe->ring_newest - bwe->ring[bwe->ring_head].arrival;
  /* a short span overstates the rate: count at least 100 ms */
  span = MAX (span, 100000);
  return bwe->ring_bytes * 8.0 * G_USEC_PER_SEC / span;
}

/* ---- delay: trendline and overuse detector ------------------------------ */

static gdouble
window_slope (GstMeshBwe * bwe)
{
  gdouble sx = 0, sy = 0, num = 0, den = 0;
  guint n = bwe->win_len;

  for (guint i = 0; i < n; i++) {
    sx += bwe->win_x[i];
    sy += bwe->win_y[i];
  }
  sx /= n;
  sy /= n;
  for (guint i = 0; i < n; i++) {
    num += (bwe->win_x[i] - sx) * (bwe->win_y[i] - sy);
    den += (bwe->win_x[i] - sx) * (bwe->win_x[i] - sx);
  }
  return den > 0 ? num / den : bwe->trend;
}

static void
update_threshold (GstMeshBwe * bwe, gdouble modified, gint64 arrival)
{
  gdouble abs_mod = fabs (modified), k, dt_ms;

  if (!bwe->threshold_updated)
    bwe->threshold_updated = arrival;
  /* an outlier (a delay spike) does not drag the threshold along */
  if (abs_mod > bwe->threshold + THRESHOLD_MAX_OFFSET) {
    bwe->threshold_updated = arrival;
    return;
  }
  k = abs_mod < bwe->threshold ? K_DOWN : K_UP;
  dt_ms = MIN ((arrival - bwe->threshold_updated) / 1000.0, 100.0);
  bwe->threshold += k * (abs_mod - bwe->threshold) * MAX (dt_ms, 0);
  bwe->threshold = CLAMP (bwe->threshold, THRESHOLD_MIN, THRESHOLD_MAX);
  bwe->threshold_updated = arrival;
}

static void
detect (GstMeshBwe * bwe, gdouble send_delta_ms, gint64 arrival)
{
  gdouble modified;

  if (bwe->num_deltas < 2) {
    bwe->usage = GST_MESH_BWE_NORMAL;
    return;
  }
  modified = MIN (bwe->num_deltas, TREND_MAX_DELTAS) * bwe->trend *
      TREND_GAIN;
  bwe->modified = modified;
  if (modified > bwe->threshold) {
    if (bwe->time_over < 0)
      bwe->time_over = send_delta_ms / 2;
    else
      bwe->time_over += send_delta_ms;
    bwe->overuse_count++;
    if (bwe->time_over > OVERUSE_MS && bwe->overuse_count > 1 &&
        bwe->trend >= bwe->prev_trend) {
      bwe->time_over = 0;
      bwe->overuse_count = 0;
      bwe->usage = GST_MESH_BWE_OVERUSE;
    }
  } else if (modified < -bwe->threshold) {
    bwe->time_over = -1;
    bwe->overuse_count = 0;
    bwe->usage = GST_MESH_BWE_UNDERUSE;
  } else {
    bwe->time_over = -1;
    bwe->overuse_count = 0;
    bwe->usage = GST_MESH_BWE_NORMAL;
  }
  bwe->prev_trend = bwe->trend;
  update_threshold (bwe, modified, arrival);
}

/* One group's delay variation @d_ms against the one before. */
static void
trendline (GstMeshBwe * bwe, gdouble d_ms, gdouble send_delta_ms,
    gint64 arrival)
{
  if (!bwe->have_first_arrival) {
    bwe->first_arrival = arrival;
    bwe->have_first_arrival = TRUE;
  }
  bwe->num_deltas = MIN (bwe->num_deltas + 1, 1000);
  bwe->acc_delay += d_ms;
  bwe->smoothed = TREND_SMOOTHING * bwe->smoothed +
      (1 - TREND_SMOOTHING) * bwe->acc_delay;
  bwe->win_x[bwe->win_pos] = (arrival - bwe->first_arrival) / 1000.0;
  bwe->win_y[bwe->win_pos] = bwe->smoothed;
  bwe->win_pos = (bwe->win_pos + 1) % TREND_WINDOW;
  bwe->win_len = MIN (bwe->win_len + 1, TREND_WINDOW);
  if (bwe->win_len == TREND_WINDOW)
    bwe->trend = window_slope (bwe);
  detect (bwe, send_delta_ms, arrival);
}

/* A packet that came within BURST_US of the group's last, and sooner
 * after it than it was sent after it, was held up together with it (a
 * queue let both go at once): the same group, up to BURST_MAX_US
 * (libwebrtc's InterArrival::BelongsToBurst). */
static gboolean
in_burst (const Group * g, const GstMeshBwePacket * p)
{
  gint64 arrival_delta = p->arrival_us - g->last_arrival;
  gint64 send_delta = p->send_us - g->last_send;

  if (send_delta == 0)
    return TRUE;
  return arrival_delta - send_delta < 0 && arrival_delta <= BURST_US &&
      p->arrival_us - g->first_arrival < BURST_MAX_US;
}

static void
on_received (GstMeshBwe * bwe, const GstMeshBwePacket * p)
{
  Group *cur = &bwe->cur;

  note_arrival (bwe, p->arrival_us, p->size);
  if (!bwe->have_group) {
    cur->first_send = cur->last_send = p->send_us;
    cur->first_arrival = cur->last_arrival = p->arrival_us;
    bwe->have_group = TRUE;
    return;
  }
  if (p->send_us < cur->first_send)
    return;                     /* sent before this group: reordered */
  if (p->send_us - cur->first_send <= GROUP_US || in_burst (cur, p)) {
    cur->last_send = MAX (cur->last_send, p->send_us);
    cur->last_arrival = MAX (cur->last_arrival, p->arrival_us);
    return;
  }
  if (bwe->have_prev) {
    gint64 send_delta = cur->last_send - bwe->prev.last_send;
    gint64 arrival_delta = cur->last_arrival - bwe->prev.last_arrival;

    /* a group that arrived before the one sent ahead of it tells nothing
     * about queues */
    if (send_delta > 0 && arrival_delta >= 0)
      trendline (bwe, (arrival_delta - send_delta) / 1000.0,
          send_delta / 1000.0, cur->last_arrival);
  }
  bwe->prev = *cur;
  bwe->have_prev = TRUE;
  cur->first_send = cur->last_send = p->send_us;
  cur->first_arrival = cur->last_arrival = p->arrival_us;
}

/* ---- AIMD --------------------------------------------------------------- */

static void
update_capacity (GstMeshBwe * bwe, gdouble kbps)
{
  const gdouble alpha = 0.05;
  gdouble norm;

  if (!bwe->cap_known) {
    bwe->cap_kbps = kbps;
    bwe->cap_known = TRUE;
    return;
  }
  bwe->cap_kbps = (1 - alpha) * bwe->cap_kbps + alpha * kbps;
  norm = MAX (bwe->cap_kbps, 1.0);
  bwe->cap_var = (1 - alpha) * bwe->cap_var +
      alpha * (bwe->cap_kbps - kbps) * (bwe->cap_kbps - kbps) / norm;
  bwe->cap_var = CLAMP (bwe->cap_var, 0.4, 2.5);
}

/* Additive increase near the last capacity: about one packet per
 * response time (gcc-02 §5.5; libwebrtc's near-max increase). */
static gdouble
additive_bps_per_s (GstMeshBwe * bwe)
{
  gdouble frame_bits = bwe->delay_bps / 30.0;
  gdouble packets = MAX (ceil (frame_bits / (1200 * 8)), 1);
  gdouble response_s = (rtt_ms (bwe) + 100) / 1000.0;

  return MAX (4000.0, frame_bits / packets / response_s);
}

static void
rate_control (GstMeshBwe * bwe, gint64 now)
{
  gdouble received = received_bps (bwe);
  gdouble dt_s = bwe->rate_updated ?
      CLAMP ((now - bwe->rate_updated) / 1e6, 0, 1.0) : 0;

  switch (bwe->usage) {
    case GST_MESH_BWE_OVERUSE:
      if (bwe->rc != RC_DECREASE)
        bwe->rc = RC_DECREASE;
      break;
    case GST_MESH_BWE_UNDERUSE:
      bwe->rc = RC_HOLD;
      break;
    case GST_MESH_BWE_NORMAL:
      if (bwe->rc == RC_HOLD)
        bwe->rc = RC_INCREASE;
      break;
  }

  switch (bwe->rc) {
    case RC_INCREASE:{
      gdouble next;

      if (bwe->cap_known) {
        gdouble std = sqrt (bwe->cap_var * bwe->cap_kbps) * 1000;
        /* far above where the link gave out before: it changed */
        if (bwe->delay_bps > bwe->cap_kbps * 1000 + 3 * std)
          bwe->cap_known = FALSE;
      }
      if (bwe->cap_known)
        next = bwe->delay_bps + additive_bps_per_s (bwe) * dt_s;
      else
        next = bwe->delay_bps * pow (INCREASE_PER_S, dt_s);
      /* never far above what actually gets through */
      if (received > 0)
        next = MIN (next, MAX (bwe->delay_bps, 1.5 * received + 10000));
      bwe->delay_bps = next;
      break;
    }
    case RC_DECREASE:{
      guint interval_ms = CLAMP (rtt_ms (bwe), 10, 200);

      if (bwe->last_decrease &&
          now - bwe->last_decrease < (gint64) interval_ms * 1000)
        break;                  /* once per round trip */
      if (received > 0) {
        bwe->delay_bps = MIN (bwe->delay_bps, DECREASE_FACTOR * received);
        update_capacity (bwe, received / 1000);
      } else {
        bwe->delay_bps *= DECREASE_FACTOR;
      }
      bwe->last_decrease = now;
      bwe->rc = RC_HOLD;
      break;
    }
    case RC_HOLD:
      break;
  }
  bwe->delay_bps = CLAMP (bwe->delay_bps, bwe->min_bps, bwe->max_bps);
  bwe->rate_updated = now;
}

/* ---- loss --------------------------------------------------------------- */

static void
loss_control (GstMeshBwe * bwe, gint64 now)
{
  if (bwe->loss_window_start < 0)
    bwe->loss_window_start = now;
  if (bwe->win_packets < LOSS_MIN_PACKETS ||
      now - bwe->loss_window_start < LOSS_WINDOW_US)
    return;
  bwe->loss = (gdouble) bwe->win_lost / bwe->win_packets;
  if (bwe->loss > LOSS_HIGH) {
    if (!bwe->last_loss_decrease ||
        now - bwe->last_loss_decrease >= (300 + rtt_ms (bwe)) * 1000) {
      bwe->loss_bps = bwe->target_bps * (1 - 0.5 * bwe->loss);
      bwe->last_loss_decrease = now;
    }
  } else if (bwe->loss < LOSS_LOW) {
    bwe->loss_bps = MIN (bwe->loss_bps * 1.05, (gdouble) bwe->max_bps);
  }
  bwe->loss_bps = CLAMP (bwe->loss_bps, bwe->min_bps, bwe->max_bps);
  bwe->win_packets = bwe->win_lost = 0;
  bwe->loss_window_start = now;
}

/* Packets reported lost up to @until: lost if nothing said otherwise
 * since. */
static void
judge_suspects (GstMeshBwe * bwe, gint64 until)
{
  while (bwe->suspect_len &&
      bwe->suspect[bwe->suspect_head].at <= until) {
    guint16 seq = bwe->suspect[bwe->suspect_head].seq;
    guint32 st = bwe->seq_state[seq % SEQ_RING];

    bwe->win_packets++;
    if ((st & SEQ_MASK) != (guint32) seq + 1u || !(st & SEQ_RECEIVED))
      bwe->win_lost++;
    bwe->suspect_head = (bwe->suspect_head + 1) % SEQ_RING;
    bwe->suspect_len--;
  }
}

static gint
by_arrival (gconstpointer a, gconstpointer b, gpointer unused)
{
  const GstMeshBwePacket *x = a, *y = b;

  if (x->arrival_us != y->arrival_us)
    return x->arrival_us < y->arrival_us ? -1 : 1;
  return x->send_us < y->send_us ? -1 : x->send_us > y->send_us;
}

gboolean
gst_mesh_bwe_feedback (GstMeshBwe * bwe, const GstMeshBwePacket * packets,
    guint n, gint64 now_us)
{
  GstMeshBwePacket *rx = g_new (GstMeshBwePacket, MAX (n, 1));
  guint n_rx = 0;
  gdouble change;

  for (guint i = 0; i < n; i++) {
    GstMeshBwePacket q = packets[i];
    const GstMeshBwePacket *p = &q;
    guint slot = p->seq % SEQ_RING;
    guint32 *st = p->has_seq ? &bwe->seq_state[slot] : NULL;
    guint32 was = st && (*st & SEQ_MASK) == (guint32) p->seq + 1u ?
        *st & (SEQ_LOST | SEQ_RECEIVED) : 0;

    if (was == SEQ_RECEIVED || (was == SEQ_LOST && p->lost))
      continue;                 /* said again: counted already */
    if (was == SEQ_LOST) {
      /* reported lost, then received after all (reordered): its suspect
       * entry will count it received, and it counts in the rate that got
       * through, with what the first report said of it (on a path that
       * reorders that rate was about half of what came, and each decrease
       * went to 0.85 of it) */
      if (q.send_us < 0) {
        q.send_us = bwe->seq_send_us[slot];
        q.size = bwe->seq_size[slot];
      }
    } else if (p->send_us < 0) {
      continue;                 /* nothing to learn from it */
    } else if (p->lost && st) {
      if (bwe->suspect_len == SEQ_RING)
        judge_suspects (bwe, G_MAXINT64);
      bwe->suspect[(bwe->suspect_head + bwe->suspect_len++) % SEQ_RING].seq =
          p->seq;
      bwe->suspect[(bwe->suspect_head + bwe->suspect_len - 1) % SEQ_RING].at =
          now_us;
    } else {
      bwe->win_packets++;
      if (p->lost)
        bwe->win_lost++;
    }
    if (st) {
      *st = ((guint32) p->seq + 1u) | (p->lost ? SEQ_LOST : SEQ_RECEIVED);
      bwe->seq_send_us[slot] = p->send_us;
      bwe->seq_size[slot] = p->size;
    }
    if (!p->lost && p->send_us >= 0)
      rx[n_rx++] = *p;
  }
  /* in the order they arrived: one sent before another but come after it
   * is reordering, not queueing, and the groups leave it out */
  g_qsort_with_data (rx, n_rx, sizeof (GstMeshBwePacket), by_arrival, NULL);
  for (guint i = 0; i < n_rx; i++)
    on_received (bwe, &rx[i]);
  g_free (rx);
  judge_suspects (bwe, now_us - LATE_GRACE_US);
  bwe->feedbacks++;
  rate_control (bwe, now_us);
  loss_control (bwe, now_us);
  update_target (bwe);

  change = fabs ((gdouble) bwe->target_bps - bwe->reported_bps) /
      MAX (bwe->reported_bps, 1);
  if (change <= 0.01)
    return FALSE;
  bwe->reported_bps = bwe->target_bps;
  return TRUE;
}

guint
gst_mesh_bwe_get_target (GstMeshBwe * bwe)
{
  return bwe->target_bps;
}

void
gst_mesh_bwe_get_stats (GstMeshBwe * bwe, GstMeshBweStats * stats)
{
  stats->target_bps = bwe->target_bps;
  stats->delay_bps = (guint) bwe->delay_bps;
  stats->loss_bps = (guint) bwe->loss_bps;
  stats->received_bps = (guint) received_bps (bwe);
  stats->loss = bwe->loss;
  stats->trend = bwe->modified;
  stats->threshold = bwe->threshold;
  stats->usage = bwe->usage;
  stats->feedbacks = bwe->feedbacks;
}

const gchar *
gst_mesh_bwe_usage_name (GstMeshBweUsage usage)
{
  switch (usage) {
    case GST_MESH_BWE_OVERUSE:
      return "overuse";
    case GST_MESH_BWE_UNDERUSE:
      return "underuse";
    default:
      return "normal";
  }
}
