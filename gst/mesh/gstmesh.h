/* gst-mesh: the library's public headers in one.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <mesh/gstmeshpacket.h>
#include <mesh/gstmeshsioclient.h>
#include <mesh/gstmeshsignalling.h>
