// gst-mesh tests: one knob for slow machines. GST_MESH_TEST_SCALE
// (default 1) multiplies every timeout of the browser and network tests.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

export const SCALE = Number(process.env.GST_MESH_TEST_SCALE ?? 1) || 1;

/** @n milliseconds, scaled. */
export const ms = (n) => Math.round(n * SCALE);
