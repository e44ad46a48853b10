/* gst-mesh: the receiving side of transport-wide congestion control.
 * Arrivals of packets that carry a transport-wide sequence number
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01) go in; the FCI of
 * transport-cc feedback (RTPFB, FMT 15) comes out, for the sender's
 * estimator. A packet that arrives after a feedback counted it missing
 * moves the next feedback back to it, so that the sender learns it came
 * (as libwebrtc's receivers do); reordering then reads as delay, not as
 * loss. Pure state: times are given, nothing is sent.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GstMeshTwccRecorder GstMeshTwccRecorder;

GstMeshTwccRecorder *gst_mesh_twcc_recorder_new (void);
void gst_mesh_twcc_recorder_free (GstMeshTwccRecorder * rec);

/* Packet @seq arrived at @arrival_us (a monotonic clock, µs). Duplicates
 * and packets over 1000 sequence numbers behind are ignored. */
void gst_mesh_twcc_recorder_add (GstMeshTwccRecorder * rec, guint16 seq,
    gint64 arrival_us);

/* The FCI of the next feedback (without the RTCP header and the two
 * SSRCs), a multiple of 4 bytes, or NULL when nothing arrived since the
 * last. One call reports at most @max_packets sequence numbers (and
 * stops early where a delta does not fit 16 bits); call again while it
 * gives something. */
GBytes *gst_mesh_twcc_recorder_feedback (GstMeshTwccRecorder * rec,
    guint max_packets);

/* Whether something arrived that no feedback has reported yet. */
gboolean gst_mesh_twcc_recorder_pending (GstMeshTwccRecorder * rec);

/* The transport-wide sequence number in an RTP or SRTP packet (@d, @len:
 * SRTP leaves the header clear) whose header carries extension @id
 * (one- or two-byte elements, RFC 8285), and its SSRC in @ssrc; -1 for
 * a packet without it, RTCP (RFC 5761), or anything malformed. */
gint gst_mesh_twcc_packet_seq (const guint8 * d, gsize len, guint id,
    guint32 * ssrc);

/* How many feedbacks were written, and how many arrivals came after a
 * feedback had counted them missing. */
guint64 gst_mesh_twcc_recorder_get_feedbacks (GstMeshTwccRecorder * rec);
guint64 gst_mesh_twcc_recorder_get_late (GstMeshTwccRecorder * rec);

G_END_DECLS
