/* gst-mesh: HTTP hygiene of a SoupServer, below any protocol.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _GstMeshHttpGuard GstMeshHttpGuard;

GstMeshHttpGuard *gst_mesh_http_guard_new (SoupServer * soup,
    GMainContext * context);
void gst_mesh_http_guard_free (GstMeshHttpGuard * guard);
void gst_mesh_http_guard_set_header_timeout (GstMeshHttpGuard * guard,
    guint ms);
gboolean gst_mesh_http_guard_set_trusted_proxies (GstMeshHttpGuard * guard,
    const gchar * const *proxies, GError ** error);
const gchar *gst_mesh_http_guard_client_address (GstMeshHttpGuard * guard,
    SoupServerMessage * msg);
guint64 gst_mesh_http_guard_get_header_timeouts (GstMeshHttpGuard * guard);
guint64 gst_mesh_http_guard_get_body_timeouts (GstMeshHttpGuard * guard);

G_END_DECLS
