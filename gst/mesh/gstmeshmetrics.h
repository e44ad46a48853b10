/* gst-mesh: the signalling server's counters, and their Prometheus text.
 * Not installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "gstmesheioserver.h"

G_BEGIN_DECLS

/* Why an event, a join or a connection was not acted on. */
typedef enum
{
  GST_MESH_REFUSED_RATE_LIMIT,  /* over max-event-rate: dropped */
  GST_MESH_REFUSED_FLOOD,       /* far over it: disconnected */
  GST_MESH_REFUSED_NO_SUCH_PEER,        /* "to" names no member of the room */
  GST_MESH_REFUSED_BAD_TARGET,  /* "to" is not a string */
  GST_MESH_REFUSED_ROOM_FULL,   /* join over max-room-peers */
  GST_MESH_REFUSED_BAD_JOIN,    /* join with a bad room or uid */
  GST_MESH_REFUSED_AUTH,        /* CONNECT without a valid token */
  GST_MESH_REFUSED_ORIGIN,      /* request from an origin not allowed */
  GST_MESH_N_REFUSED
} GstMeshRefusal;

#define GST_MESH_N_RELAYED_EVENTS 4     /* offer, answer, candidate, hangup */

typedef struct
{
  guint64 relayed[GST_MESH_N_RELAYED_EVENTS];   /* events relayed, by name */
  guint64 deliveries;           /* copies of them sent to other clients */
  guint64 refused[GST_MESH_N_REFUSED];
  guint64 joins;
  guint64 bodies_refused;       /* request bodies to paths that take none */
} GstMeshSignalCounters;

gchar *gst_mesh_metrics_render (const GstMeshSignalCounters * counters,
    const gchar * const *event_names, const GstMeshEioStats * eio,
    guint rooms, guint members, gint64 start_time);

G_END_DECLS
