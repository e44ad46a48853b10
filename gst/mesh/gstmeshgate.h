/* gst-mesh: a send branch's gate. Until a peer connection is up, its
 * branches pass events (caps reach webrtcbin) but no buffers; a video
 * gate meanwhile keeps the newest keyframe and the frames after it, to
 * send first when it opens, so the peer's picture need not wait for the
 * encoder's next frame. Works on any sink pad; a pad probe, no element.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _GstMeshGate GstMeshGate;

typedef enum
{
  GST_MESH_GATE_PASSES,         /* open; nothing was held (not video) */
  GST_MESH_GATE_SENT_HELD,      /* open; what it held went on first */
  GST_MESH_GATE_AWAITS_KEYFRAME,        /* open; held nothing: drops until
                                         * the next keyframe */
  GST_MESH_GATE_HELD_OLD        /* open; the keyframe it held was too old
                                 * and is dropped: so until the next one */
} GstMeshGateOpened;

/* The most buffers a video gate keeps: a keyframe and 15 after it. */
#define GST_MESH_GATE_HOLD_MAX 16
/* A held keyframe goes on if it was captured at most this long before the
 * gate opens, or one frame's duration if that is longer: a keyframe asked
 * for then would come a frame later. An older one would start the
 * receiver's jitter buffer that much behind the stream. */
#define GST_MESH_GATE_HOLD_AGE (50 * GST_MSECOND)

/* Shuts @pad (a sink pad: the entry of a branch, where an upstream
 * element's streaming thread pushes). @video: keep the newest keyframe
 * (a buffer without DELTA_UNIT) and what follows it. An @open gate lets
 * everything pass (video: from the next keyframe on). */
GstMeshGate *gst_mesh_gate_new (GstPad * pad, gboolean video, gboolean open);
/* Opens it, between two pushes through @pad: a fresh keyframe held goes on
 * first, with the frames after it. Its age is the running time now (the
 * pad's element's clock) less the keyframe's. */
GstMeshGateOpened gst_mesh_gate_open (GstMeshGate * gate);
/* Whether an open video gate still drops, waiting for a keyframe. */
gboolean gst_mesh_gate_awaits_keyframe (GstMeshGate * gate);
/* Drops what it holds (the stream it came from ends here). */
void gst_mesh_gate_forget (GstMeshGate * gate);
/* The owner's end: removes it from its pad (what it held is dropped) and
 * lets go of the owner's reference. */
void gst_mesh_gate_release (GstMeshGate * gate);
GstMeshGate *gst_mesh_gate_ref (GstMeshGate * gate);
void gst_mesh_gate_unref (GstMeshGate * gate);

G_END_DECLS
