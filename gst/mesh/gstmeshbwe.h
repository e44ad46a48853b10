/* gst-mesh: a send-side bandwidth estimator from transport-wide feedback.
 *
 * Google Congestion Control as draft-ietf-rmcat-gcc-02 describes it, with
 * the delay gradient taken from a trendline (a least-squares slope over
 * the last groups, as libwebrtc's TrendlineEstimator) instead of the
 * draft's Kalman filter: packets are grouped by send time, each group's
 * one-way delay variation feeds the slope, an adaptive threshold turns it
 * into overuse / normal / underuse, and an AIMD controller moves the rate.
 * Loss in the same feedback bounds it from above (the draft's loss-based
 * controller). docs/design.md says where each constant comes from.
 *
 * Pure state and arithmetic: no GStreamer, no clock of its own (times come
 * in), so recorded feedback replays exactly (tests/check/bwe.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GstMeshBwe GstMeshBwe;

/* One packet of a feedback report, in the order they were sent. Times in
 * µs: @send_us on the sender's clock, @arrival_us on the receiver's (any
 * base: only differences count). With @has_seq, @seq is its
 * transport-wide sequence number: a receiver that reports a late packet
 * again (as libwebrtc's do) then has it counted once, and a packet first
 * reported lost and then received is not lost. @send_us < 0: the sender no
 * longer knows when it sent it (it only takes back a loss). */
typedef struct
{
  gint64 send_us;
  gint64 arrival_us;            /* ignored when @lost */
  guint size;                   /* bytes */
  gboolean lost;
  gboolean has_seq;
  guint16 seq;
} GstMeshBwePacket;

typedef enum
{
  GST_MESH_BWE_NORMAL,
  GST_MESH_BWE_OVERUSE,
  GST_MESH_BWE_UNDERUSE,
} GstMeshBweUsage;

typedef struct
{
  guint target_bps;             /* what the sender should send */
  guint delay_bps;              /* the delay-based controller's rate */
  guint loss_bps;               /* the loss-based controller's bound */
  guint received_bps;           /* acknowledged over the last 500 ms */
  gdouble loss;                 /* fraction lost in the last loss window */
  gdouble trend;                /* modified trend (ms), and its threshold */
  gdouble threshold;
  GstMeshBweUsage usage;
  guint64 feedbacks;            /* reports fed */
} GstMeshBweStats;

GstMeshBwe *gst_mesh_bwe_new (guint min_bps, guint start_bps, guint max_bps);
void gst_mesh_bwe_free (GstMeshBwe * bwe);

/* Feeds the packets of one feedback report, received at @now_us (sender's
 * clock). Returns TRUE when the target moved by more than 1 %. */
gboolean gst_mesh_bwe_feedback (GstMeshBwe * bwe,
    const GstMeshBwePacket * packets, guint n, gint64 now_us);
/* The round-trip time, when the caller knows it (RTCP): the additive
 * increase is paced by it. 0 keeps the default (100 ms). */
void gst_mesh_bwe_set_rtt (GstMeshBwe * bwe, guint rtt_ms);
/* Bounds changed (min-bitrate, max-bitrate): the target is clamped. */
void gst_mesh_bwe_set_bounds (GstMeshBwe * bwe, guint min_bps, guint max_bps);

guint gst_mesh_bwe_get_target (GstMeshBwe * bwe);
void gst_mesh_bwe_get_stats (GstMeshBwe * bwe, GstMeshBweStats * stats);
const gchar *gst_mesh_bwe_usage_name (GstMeshBweUsage usage);

G_END_DECLS
