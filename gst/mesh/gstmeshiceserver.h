/* gst-mesh: ICE server URLs as people write them, made into what
 * webrtcbin takes; and TURN REST API credentials (time-limited TURN
 * passwords from a secret shared with coturn).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum
{
  GST_MESH_ICE_SERVER_STUN,
  GST_MESH_ICE_SERVER_TURN,     /* UDP and TCP, or the one ?transport= names */
  GST_MESH_ICE_SERVER_TURNS,    /* TURN over TLS */
} GstMeshIceServerKind;

/* Turns one ICE server URL into webrtcbin's form. Takes
 *   - the browsers' (RTCIceServer urls): stun:HOST[:PORT],
 *     turn:HOST[:PORT][?transport=udp|tcp], turns:HOST[:PORT][?transport=tcp]
 *     with @username and @credential given apart;
 *   - webrtcbin's: stun://HOST[:PORT], turn(s)://USER:PASS@HOST[:PORT][?...]
 *     (USER and PASS percent-escaped, or not when they hold no ':' '@' '/').
 * Gives stun://HOST:PORT or turn(s)://USER:PASS@HOST:PORT[?transport=...]
 * with the user name and password percent-escaped, so that REST API
 * user names ("1735689600:alice") and base64 passwords ('+', '/', '=')
 * reach libnice intact. PORT defaults to 3478 (stun, turn) or 5349
 * (turns). @username/@credential, when given, replace those in the URL.
 *
 * Returns %NULL and sets @error (G_IO_ERROR_INVALID_ARGUMENT) naming what
 * is wrong: an unknown scheme, no host, a bad port, an unknown transport,
 * TURN without a user name or password. */
gchar *gst_mesh_ice_server_normalize (const gchar * url,
    const gchar * username, const gchar * credential,
    GstMeshIceServerKind * kind, GError ** error);

/* @uri (as from gst_mesh_ice_server_normalize) without its password, for
 * messages: turn://alice:***@host:3478?transport=tcp. */
gchar *gst_mesh_ice_server_describe (const gchar * uri);

/* TURN REST API credentials (draft-uberti-behave-turn-rest-00, what
 * coturn's use-auth-secret checks): user name "EXPIRY:ID" with EXPIRY
 * the Unix time when they stop working (@now + @ttl seconds), password
 * base64 (HMAC-SHA1 (@secret, user name)). @id may be empty (then the
 * user name is EXPIRY alone). */
void gst_mesh_turn_rest_credentials (const gchar * secret, const gchar * id,
    gint64 now, guint ttl, gchar ** username, gchar ** password);

/* The "ice-servers" message of the signalling server ({iceServers:
 * [RTCIceServer...], ttl}, docs/protocol.md): each URL of each entry
 * normalized with the entry's username and credential. Returns the URIs
 * (never %NULL; free with g_ptr_array_unref); an entry or URL that cannot
 * be used is skipped and its reason added to @errors (strings; may be
 * %NULL). @ttl: the seconds the credentials last (0 when not said). */
GPtrArray *gst_mesh_ice_servers_from_json (JsonNode * node, guint * ttl,
    GPtrArray * errors);

G_END_DECLS
