/* gst-mesh: the plugin; it registers the elements, meshsignal and the
 * playout-delay header extension (and keeps OpenSSL from cleaning up
 * under running threads at exit: gstmeshmedia.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshmedia.h"
#include "gstmeshplayoutdelay.h"
#include "gstmeshsignal.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gst_mesh_media_init_openssl ();
  return GST_ELEMENT_REGISTER (meshsignal, plugin) &&
      GST_ELEMENT_REGISTER (rtphdrextplayoutdelay, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, mesh,
    "WebRTC mesh calls with Socket.IO signalling",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
