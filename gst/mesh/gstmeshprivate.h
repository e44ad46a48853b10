/* gst-mesh: small helpers shared by the library and the plugin; not
 * installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_MESH_PRIVATE_H__
#define __GST_MESH_PRIVATE_H__

#include <glib.h>

G_BEGIN_DECLS

/* Destroys and drops the source in *@source, if any, and clears it. */
static inline void
gst_mesh_clear_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}

G_END_DECLS

#endif /* __GST_MESH_PRIVATE_H__ */
