/* gst-mesh: the FCI of a generic NACK (RFC 4585 §6.2.1): which RTP
 * packets of one SSRC to send again, as (PID, BLP) pairs of 16 bits
 * each. Pure: sequence numbers in, bytes out.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The FCI that asks for @seqs (@n of them, any order, repeats allowed,
 * across the 16-bit wrap as long as they lie within 32768 of the first),
 * a multiple of 4 bytes: each PID is the lowest sequence number not yet
 * covered and its BLP the next 16 after it. NULL for @n 0. */
GBytes *gst_mesh_nack_fci (const guint16 * seqs, guint n);

/* The sequence numbers @fci asks for, in order, into @out (up to @max);
 * returns how many it holds (possibly more than @max). */
guint gst_mesh_nack_fci_parse (const guint8 * fci, gsize len, guint16 * out,
    guint max);

G_END_DECLS
