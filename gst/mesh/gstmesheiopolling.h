/* gst-mesh: the client side of Engine.IO's HTTP long-polling transport.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>
#include "gstmeshpacket.h"

G_BEGIN_DECLS

typedef struct _GstMeshEioPolling GstMeshEioPolling;

/* Called with each packet the server sends, the open packet first. */
typedef void (*GstMeshEioPollingPacketFunc) (GstMeshEioPacket * packet,
    gpointer user_data);
/* Called once when the transport fails; it is dead then (free it). */
typedef void (*GstMeshEioPollingFailedFunc) (const gchar * why,
    gpointer user_data);

GstMeshEioPolling *gst_mesh_eio_polling_new (SoupSession * session,
    const gchar * url, gboolean tls_insecure,
    GstMeshEioPollingPacketFunc packet_func,
    GstMeshEioPollingFailedFunc failed_func, gpointer user_data);
void gst_mesh_eio_polling_send (GstMeshEioPolling * polling,
    const gchar * packet_text);
gboolean gst_mesh_eio_polling_is_open (GstMeshEioPolling * polling);
void gst_mesh_eio_polling_free (GstMeshEioPolling * polling);

G_END_DECLS
