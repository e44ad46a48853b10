/* gst-mesh: meshsignal's ICE servers. What the properties name
 * (stun-server, turn-server, turn-servers) and what the signalling server
 * hands out in its "ice-servers" event (TURN REST credentials, refreshed
 * before they expire), made into each new peer connection's list; and
 * warnings when a server gives nothing.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsignalprivate.h"
#include "gst/mesh/gstmeshprivate.h"

#include <gio/gio.h>
#include <string.h>

/* Ask for fresh credentials when this share of their lifetime is gone
 * (and no later than a minute before they expire). */
#define REFRESH_SHARE 0.8
#define REFRESH_ACK_TIMEOUT_MS 10000

static void
warn_server (GstMeshSignal * self, const gchar * uri, const gchar * summary,
    const gchar * reason)
{
  gchar *server = uri ? gst_mesh_ice_server_describe (uri) : g_strdup ("");

  GST_ELEMENT_WARNING_WITH_DETAILS (self, RESOURCE, SETTINGS,
      ("%s %s", summary, server), ("%s", reason),
      ("server", G_TYPE_STRING, server, "error", G_TYPE_STRING, reason,
          NULL));
  g_free (server);
}

/* A property's URL, normalized; a bad one is warned about and skipped. */
static gchar *
normalize_property (GstMeshSignal * self, const gchar * property,
    const gchar * url, GstMeshIceServerKind want_stun)
{
  GError *error = NULL;
  GstMeshIceServerKind kind;
  gchar *uri;

  if (!url || !*url)
    return NULL;
  uri = gst_mesh_ice_server_normalize (url, NULL, NULL, &kind, &error);
  if (!uri) {
    GST_ELEMENT_WARNING_WITH_DETAILS (self, RESOURCE, SETTINGS,
        ("Not using %s: %s", property, error->message), (NULL),
        ("property", G_TYPE_STRING, property, "error", G_TYPE_STRING,
            error->message, NULL));
    g_error_free (error);
    return NULL;
  }
  if ((kind == GST_MESH_ICE_SERVER_STUN) != want_stun) {
    gchar *what = g_strdup_printf ("%s takes %s URLs", property,
        want_stun ? "stun:" : "turn: or turns:");
    warn_server (self, uri, "Not using the ICE server", what);
    g_free (what);
    g_free (uri);
    return NULL;
  }
  return uri;
}

/* NULL → READY: the properties' servers, checked once. */
void
gst_mesh_ice_prepare (GstMeshSignal * self)
{
  gchar *stun, *turn, **turns, *stun_uri;
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);
  gchar *uri;

  GST_OBJECT_LOCK (self);
  stun = g_strdup (self->stun_server);
  turn = g_strdup (self->turn_server);
  turns = g_strdupv (self->turn_servers);
  GST_OBJECT_UNLOCK (self);

  stun_uri = normalize_property (self, "stun-server", stun, TRUE);
  if ((uri = normalize_property (self, "turn-server", turn, FALSE)))
    g_ptr_array_add (list, uri);
  for (guint i = 0; turns && turns[i]; i++)
    if ((uri = normalize_property (self, "turn-servers", turns[i], FALSE)))
      g_ptr_array_add (list, uri);

  /* servers given anew are warned about anew */
  g_hash_table_remove_all (self->ice_warned);
  GST_OBJECT_LOCK (self);
  g_free (self->ice_stun);
  self->ice_stun = stun_uri;
  g_clear_pointer (&self->ice_turn, g_ptr_array_unref);
  self->ice_turn = list;
  GST_OBJECT_UNLOCK (self);
  g_free (stun);
  g_free (turn);
  g_strfreev (turns);
}

/* What a new peer connection uses: the properties' servers, then those
 * the signalling server gave. */
void
gst_mesh_ice_fill_config (GstMeshSignal * self, GstMeshPeerConfig * config)
{
  GStrvBuilder *b = g_strv_builder_new ();

  GST_OBJECT_LOCK (self);
  config->stun_server = g_strdup (self->ice_stun ? self->ice_stun :
      self->ice_provided_stun);
  for (guint i = 0; self->ice_turn && i < self->ice_turn->len; i++)
    g_strv_builder_add (b, g_ptr_array_index (self->ice_turn, i));
  for (guint i = 0; self->ice_provided && i < self->ice_provided->len; i++)
    g_strv_builder_add (b, g_ptr_array_index (self->ice_provided, i));
  config->relay_only = self->ice_transport_policy ==
      GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY;
  GST_OBJECT_UNLOCK (self);
  config->turn_servers = g_strv_builder_end (b);
  g_strv_builder_unref (b);
}

void
gst_mesh_ice_clear_config (GstMeshPeerConfig * config)
{
  g_clear_pointer (&config->stun_server, g_free);
  g_clear_pointer (&config->turn_servers, g_strfreev);
}

/* ------------------------------------------------------------------------ */
/* The signalling server's "ice-servers"                                    */

static void request_refresh (GstMeshSignal * self);

static gboolean
refresh_cb (gpointer user_data)
{
  GstMeshSignal *self = user_data;

  g_clear_pointer (&self->ice_refresh, g_source_unref);
  request_refresh (self);
  return G_SOURCE_REMOVE;
}

static void
take_servers (GstMeshSignal * self, JsonNode * node)
{
  GPtrArray *errors = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *turn = g_ptr_array_new_with_free_func (g_free);
  gchar *stun = NULL;
  GPtrArray *uris;
  guint ttl = 0;

  uris = gst_mesh_ice_servers_from_json (node, &ttl, errors);
  for (guint i = 0; i < errors->len; i++)
    gst_mesh_signal_warn_bad_message (self, "ice-servers",
        g_ptr_array_index (errors, i));
  for (guint i = 0; i < uris->len; i++) {
    gchar *uri = g_ptr_array_index (uris, i);

    if (g_str_has_prefix (uri, "stun://")) {
      if (!stun)
        stun = g_strdup (uri);
    } else {
      g_ptr_array_add (turn, g_strdup (uri));
    }
  }
  GST_INFO_OBJECT (self, "the signalling server gave %u ICE servers "
      "(credentials for %u s)", uris->len, ttl);
  g_ptr_array_unref (uris);
  g_ptr_array_unref (errors);

  GST_OBJECT_LOCK (self);
  g_free (self->ice_provided_stun);
  self->ice_provided_stun = stun;
  g_clear_pointer (&self->ice_provided, g_ptr_array_unref);
  self->ice_provided = turn;
  GST_OBJECT_UNLOCK (self);
  /* new credentials: a server that failed with the old ones may work */
  g_hash_table_remove_all (self->ice_warned);

  gst_mesh_clear_source (&self->ice_refresh);
  if (ttl > 0) {
    /* as the rooms page does: 80 % of the way, and no later than a fifth
     * of the lifetime (at most a minute) before the end */
    guint delay = MIN ((guint) (ttl * REFRESH_SHARE), ttl - MIN (ttl / 5, 60));

    self->ice_refresh = g_timeout_source_new_seconds (MAX (delay, 1));
    g_source_set_callback (self->ice_refresh, refresh_cb, self, NULL);
    g_source_attach (self->ice_refresh, self->context);
  }
}

static void
on_refresh_ack (GstMeshSioClient * client, JsonArray * args,
    const GError * error, gpointer user_data)
{
  GstMeshSignal *self = user_data;

  if (!args || json_array_get_length (args) < 1) {
    /* the connection went: the next connection brings new ones */
    GST_INFO_OBJECT (self, "no fresh ICE credentials: %s",
        error ? error->message : "empty answer");
    return;
  }
  take_servers (self, json_array_get_element (args, 0));
}

static void
request_refresh (GstMeshSignal * self)
{
  JsonArray *args = json_array_new ();

  GST_INFO_OBJECT (self, "asking the signalling server for fresh TURN "
      "credentials");
  gst_mesh_sio_client_emit_with_ack (self->client, "ice-servers", args,
      REFRESH_ACK_TIMEOUT_MS, on_refresh_ack, self, NULL);
  json_array_unref (args);
}

/* The server's "ice-servers" event; %TRUE when it was one. */
gboolean
gst_mesh_ice_event (GstMeshSignal * self, const gchar * name,
    JsonArray * args)
{
  if (strcmp (name, "ice-servers") != 0)
    return FALSE;
  if (json_array_get_length (args) < 1) {
    gst_mesh_signal_warn_bad_message (self, name, "no argument");
    return TRUE;
  }
  take_servers (self, json_array_get_element (args, 0));
  return TRUE;
}

/* The signalling connection or the element stops: the refresh with it. */
void
gst_mesh_ice_stop (GstMeshSignal * self)
{
  if (self->ice_probes) {
    g_cancellable_cancel (self->ice_probes);
    g_clear_object (&self->ice_probes);
  }
  gst_mesh_clear_source (&self->ice_refresh);
}

/* ------------------------------------------------------------------------ */
/* Servers that gave nothing                                                */

static gboolean
address_is_private (const gchar * address)
{
  GInetAddress *a = g_inet_address_new_from_string (address);
  gboolean private_ = TRUE;

  if (a) {
    private_ = g_inet_address_get_is_site_local (a) ||
        g_inet_address_get_is_link_local (a) ||
        g_inet_address_get_is_loopback (a);
    if (!private_ && g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV4) {
      const guint8 *b = g_inet_address_to_bytes (a);
      private_ = b[0] == 100 && (b[1] & 0xc0) == 64;    /* 100.64/10 */
    }
    g_object_unref (a);
  }
  return private_;
}

/* "candidate:F C PROTO PRIO ADDRESS PORT typ TYPE ..." → ADDRESS, TYPE */
static gboolean
parse_candidate (const gchar * line, gchar ** address, gchar ** type)
{
  gchar **f = g_strsplit (line, " ", 0);
  gboolean ok = g_strv_length (f) >= 8 && g_str_equal (f[6], "typ");

  if (ok) {
    *address = g_strdup (f[4]);
    *type = g_strdup (f[7]);
  }
  g_strfreev (f);
  return ok;
}

static void
warn_once (GstMeshSignal * self, const gchar * uri, const gchar * summary,
    const gchar * reason)
{
  if (g_hash_table_contains (self->ice_warned, uri))
    return;
  g_hash_table_add (self->ice_warned, g_strdup (uri));
  warn_server (self, uri, summary, reason);
}

/* generous: the signalling thread also runs the calls (an ASan build took
 * over 5 s to read the answers) */
#define TURN_PROBE_TIMEOUT_MS 10000

typedef struct
{
  GstMeshSignal *self;
  gboolean relay_seen;          /* the gathering had a relay candidate */
} TurnProbe;

/* What a TURN server says when asked directly: nothing to say when it
 * grants an allocation and the gathering had relays. */
static void
on_turn_probe (const gchar * uri, guint code, const gchar * reason,
    gpointer user_data)
{
  TurnProbe *tp = user_data;
  GstMeshSignal *self = tp->self;
  gboolean relay_seen = tp->relay_seen;
  gchar *server = gst_mesh_ice_server_describe (uri);
  gchar *why;

  g_free (tp);

  if ((code == GST_MESH_TURN_PROBE_NO_ANSWER && !g_strcmp0 (reason,
              "cancelled")) || (code == 0 && relay_seen)) {
    GST_INFO_OBJECT (self, "TURN server %s: %s", server, reason);
    g_free (server);
    gst_object_unref (self);
    return;
  }
  if (code == GST_MESH_TURN_PROBE_NO_ANSWER)
    why = g_strdup_printf ("it does not answer (%s): unreachable, a wrong "
        "port or transport, or blocked on the way. The call goes on with "
        "the other candidates.", reason);
  else if (code == 401)
    why = g_strdup_printf ("it answered %s: wrong or expired credentials. "
        "The call goes on with the other candidates.", reason);
  else if (code == 0)
    why = g_strdup ("yet it grants an allocation when asked directly: "
        "the relay was lost for another reason (libnice's allocation "
        "timed out?). The call goes on with the other candidates.");
  else
    why = g_strdup_printf ("it answered %s. The call goes on with the "
        "other candidates.", reason);
  GST_ELEMENT_WARNING_WITH_DETAILS (self, RESOURCE, SETTINGS,
      ("No relay from the TURN server %s", server), ("%s", why),
      ("server", G_TYPE_STRING, server, "error", G_TYPE_STRING, why,
          "code", G_TYPE_UINT, code == GST_MESH_TURN_PROBE_NO_ANSWER ? 0 :
          code, NULL));
  g_free (why);
  g_free (server);
  gst_object_unref (self);
}

/* A peer connection's gathering is over: a STUN server that gave no
 * server-reflexive candidate although every host address is private, and
 * TURN servers that refuse an allocation or do not answer, are warned about
 * (once each until the servers change); each TURN server is asked for an
 * allocation once, so that a warning says what it answered (401 for wrong
 * or expired credentials) or that it did not. The call goes on with what
 * was gathered. */
void
gst_mesh_ice_gathered (GstMeshSignal * self, const GstMeshPeerConfig * config,
    const gchar * const *candidates)
{
  gboolean srflx = FALSE, relay = FALSE, public_host = FALSE, host = FALSE;

  for (guint i = 0; candidates && candidates[i]; i++) {
    gchar *address = NULL, *type = NULL;

    if (!parse_candidate (candidates[i], &address, &type))
      continue;
    if (g_str_equal (type, "host")) {
      host = TRUE;
      public_host |= !address_is_private (address);
    }
    srflx |= g_str_equal (type, "srflx");
    relay |= g_str_equal (type, "relay");
    g_free (address);
    g_free (type);
  }
  GST_DEBUG_OBJECT (self, "gathered %u candidates: host %d (public %d), "
      "srflx %d, relay %d", candidates ? g_strv_length ((gchar **)
          candidates) : 0, host, public_host, srflx, relay);

  /* a host with a public address gets no srflx candidate: libnice drops
   * one equal to a host candidate */
  if (config->stun_server && !config->relay_only && host && !public_host
      && !srflx)
    warn_once (self, config->stun_server, "No answer from the STUN server",
        "it gave no server-reflexive candidate: unreachable, not a STUN "
        "server, or refusing the RFC 3489-style binding requests libnice "
        "sends (coturn's no-stun-backward-compatibility). The call goes on "
        "with the other candidates.");
  /* Every TURN server is asked directly once (a relay candidate does not
   * say which server gave it): one that refuses is warned about with its
   * error code, even when another one works. */
  for (guint i = 0; config->turn_servers && config->turn_servers[i]; i++) {
    const gchar *uri = config->turn_servers[i];
    TurnProbe *tp;

    if (g_hash_table_contains (self->ice_warned, uri))
      continue;
    g_hash_table_add (self->ice_warned, g_strdup (uri));
    if (!self->ice_probes)
      self->ice_probes = g_cancellable_new ();
    tp = g_new0 (TurnProbe, 1);
    tp->self = gst_object_ref (self);
    tp->relay_seen = relay;
    gst_mesh_turn_probe (uri, TURN_PROBE_TIMEOUT_MS, self->ice_probes,
        on_turn_probe, tp);
  }
}
