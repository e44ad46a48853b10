/* gst-mesh: asks a TURN server for an allocation, to say why it gave no
 * relay candidate (webrtcbin and libnice only report that there is none).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * GstMeshTurnProbeFunc:
 * @uri: the TURN server probed, as given
 * @code: 0 when an allocation was granted (and then released), the STUN
 *   ERROR-CODE the server answered with (401, 437, 438, 441, 486, 508, ...),
 *   or %GST_MESH_TURN_PROBE_NO_ANSWER
 * @reason: what happened, for people: the server's reason phrase, or why
 *   there was no answer
 * @user_data: user data
 */
typedef void (*GstMeshTurnProbeFunc) (const gchar * uri, guint code,
    const gchar * reason, gpointer user_data);

#define GST_MESH_TURN_PROBE_NO_ANSWER G_MAXUINT

/* Probes @uri (turn://USER:PASS@HOST:PORT[?transport=udp|tcp] or turns://,
 * as gst_mesh_ice_server_normalize() gives them; UDP unless the transport
 * says tcp, TLS for turns:) from the thread-default main context: an
 * Allocate without credentials (for the realm and nonce), then with them,
 * as RFC 5766 and libnice do; a granted allocation is released at once
 * (Refresh, lifetime 0). @func is called once, in that context, within
 * about @timeout_ms; or, when @cancellable is cancelled first, at once in
 * the thread that cancels it (with GST_MESH_TURN_PROBE_NO_ANSWER,
 * "cancelled"). */
void gst_mesh_turn_probe (const gchar * uri, guint timeout_ms,
    GCancellable * cancellable, GstMeshTurnProbeFunc func,
    gpointer user_data);

/* The STUN messages of the probe, for tests: an Allocate request for a
 * UDP relay (@username NULL: without credentials), and what an answer
 * says. Returns the message (free with g_bytes_unref). */
GBytes *gst_mesh_turn_allocate_request (const guint8 transaction[12],
    const gchar * username, const gchar * realm, const gchar * nonce,
    const gchar * password);

typedef struct
{
  gboolean success;
  guint code;                   /* ERROR-CODE, 0 when none */
  gchar *reason;
  gchar *realm;
  gchar *nonce;
} GstMeshTurnAnswer;

/* Parses an Allocate answer to @transaction; %FALSE when @data is not a
 * well-formed STUN answer to it. Fields of @answer are to be freed with
 * gst_mesh_turn_answer_clear(). */
gboolean gst_mesh_turn_answer_parse (const guint8 * data, gsize size,
    const guint8 transaction[12], GstMeshTurnAnswer * answer);
void gst_mesh_turn_answer_clear (GstMeshTurnAnswer * answer);

G_END_DECLS
