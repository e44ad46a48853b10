/* gst-mesh: what meshsignal asks of a call policy.
 *
 * The element owns the pads, the thread, the Socket.IO client and the
 * peers' plumbing; a session decides who is called, who answers and what
 * a message means. Two implement it: the seed's 1:1 call
 * (gstmeshcall.c) and mesh rooms (gstmeshroom.c). Every function runs in
 * the element's signalling thread.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/mesh/gstmesh.h>
#include "gstmeshsignal.h"
#include "gstmeshpeer.h"

G_BEGIN_DECLS

typedef struct
{
  const gchar *name;
  /* the element starts: before the first connection */
  void (*start) (GstMeshSignal * self);
  /* the signalling server is connected (again) */
  void (*connected) (GstMeshSignal * self);
  /* the connection to it was lost; calls go on */
  void (*disconnected) (GstMeshSignal * self);
  /* an event other than offer/answer/candidate/hangup: %TRUE if taken */
  gboolean (*event) (GstMeshSignal * self, const gchar * name,
      JsonArray * args);
  /* an offer, answer, candidate or hangup for us; takes @msg */
  void (*message) (GstMeshSignal * self, GstMeshSignalMessage * msg);
  /* one of our peer connections changed state */
  void (*peer_state) (GstMeshSignal * self, GstMeshPeer * peer,
      GstMeshCallState state, const gchar * reason);
  /* @peer's path went with the network: it fell silent around a
   * reconnection of the signalling (a new NAT mapping, a new address).
   * Call it again now rather than after peer-timeout. */
  void (*path_lost) (GstMeshSignal * self, GstMeshPeer * peer);
  /* the element stops: every call ends, quietly */
  void (*stop) (GstMeshSignal * self);
  /* each peer's figures appended to @peers (a GST_TYPE_ARRAY), and the
   * session's own fields set in @stats */
  void (*stats) (GstMeshSignal * self, GstStructure * stats, GValue * peers);
} GstMeshSession;

extern const GstMeshSession gst_mesh_call_session;
extern const GstMeshSession gst_mesh_room_session;

G_END_DECLS
