/* gst-mesh: where the remote media of meshsignal comes out.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include "gstmeshmedia.h"

G_BEGIN_DECLS

typedef struct _GstMeshOutput GstMeshOutput;

/* One output of the element (video_src or audio_src), in @bin.
 *
 * With @grid FALSE (the seed's 1:1 calls) it is a funnel: the one call's
 * decoded media passes as it is, and nothing comes before a call.
 *
 * With @grid TRUE (rooms) it is a compositor or an audiomixer fed from
 * the start by a live black picture or silence, so the pipeline runs
 * before anyone joins: each peer's decoded video takes a cell of a grid
 * of @width x @height that re-lays itself as peers come and go, and
 * every peer's audio is mixed. @latency_ms is the time the mixer waits
 * for late input.
 *
 * Peers request "sink_%u" pads of gst_mesh_output_get_mixer() and release
 * them when they go. */
GstMeshOutput *gst_mesh_output_new (GstBin * bin, GstMeshMediaKind kind,
    gboolean grid, gint width, gint height, guint latency_ms);
gboolean gst_mesh_output_is_grid (GstMeshOutput * out);
/* (transfer none): the element peers link their decoders to */
GstElement *gst_mesh_output_get_mixer (GstMeshOutput * out);
/* (transfer full): the pad the element's ghost pad targets */
GstPad *gst_mesh_output_get_src_pad (GstMeshOutput * out);
/* Brings every element of @out to the bin's state. */
void gst_mesh_output_sync_state (GstMeshOutput * out);
/* Removes the elements from the bin and frees @out. */
void gst_mesh_output_free (GstMeshOutput * out);

/* The media src pads of @element (meshsignal) run early by as much of
 * their sinks' processing deadline as decoding does not need, at most
 * 10 ms: the jitter buffers' wait and the deadline overlap. */
void gst_mesh_output_overlap_deadline (GstElement * element);

G_END_DECLS
