/* gst-mesh: the library's public headers in one.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/mesh/gstmeshpacket.h>
#include <gst/mesh/gstmeshsioclient.h>
#include <gst/mesh/gstmesheioserver.h>
#include <gst/mesh/gstmeshsioserver.h>
#include <gst/mesh/gstmeshsignalserver.h>
#include <gst/mesh/gstmeshsignalling.h>
#include <gst/mesh/gstmeshiceserver.h>
#include <gst/mesh/gstmeshturnprobe.h>
#include <gst/mesh/gstmeshbwe.h>
#include <gst/mesh/gstmeshtwcc.h>
#include <gst/mesh/gstmeshnack.h>
#include <gst/mesh/gstmeshdata.h>
#include <gst/mesh/gstmeshmsgpack.h>
#include <gst/mesh/gstmeshgate.h>
