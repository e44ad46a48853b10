/* gst-mesh: rtphdrextplayoutdelay, the playout-delay RTP header extension.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/rtp/rtp.h>

G_BEGIN_DECLS

#define GST_MESH_PLAYOUT_DELAY_URI \
  "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

#define GST_TYPE_MESH_HDREXT_PLAYOUT_DELAY \
  (gst_mesh_hdrext_playout_delay_get_type ())
G_DECLARE_FINAL_TYPE (GstMeshHdrExtPlayoutDelay, gst_mesh_hdrext_playout_delay,
    GST, MESH_HDREXT_PLAYOUT_DELAY, GstRTPHeaderExtension)

GST_ELEMENT_REGISTER_DECLARE (rtphdrextplayoutdelay);

/* Whether @ext (NULL: none) writes into packets: its direction includes
 * sending. */
gboolean gst_mesh_hdrext_playout_delay_sends (GstRTPHeaderExtension * ext);

G_END_DECLS
