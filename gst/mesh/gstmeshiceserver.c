/* gst-mesh: ICE server URLs and TURN REST API credentials.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshiceserver.h"

#include <gio/gio.h>
#include <string.h>

/* Characters of a user name or password that are left as they are in the
 * userinfo: everything else (':' '@' '/' '+' '=' '%' ...) is escaped. */
#define USERINFO_KEEP "-._~"

static gboolean fail (GError ** error, const gchar * url,
    const gchar * format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError ** error, const gchar * url, const gchar * format, ...)
{
  va_list ap;
  gchar *what;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
      "ICE server '%s': %s", url, what);
  g_free (what);
  return FALSE;
}

/* Splits "[user[:pass]@]host[:port]" (host may be [IPv6]). */
static gboolean
split_authority (const gchar * url, const gchar * authority,
    gboolean userinfo_allowed, gchar ** user, gchar ** pass, gchar ** host,
    guint * port, GError ** error)
{
  const gchar *at = strrchr (authority, '@');
  const gchar *hostport = authority, *colon;
  gchar *port_text = NULL;

  if (at) {
    const gchar *sep;
    gchar *userinfo;

    if (!userinfo_allowed)
      return fail (error, url, "a user name goes in the username field, "
          "not in a URL of this form (or write turn://USER:PASS@HOST)");
    userinfo = g_strndup (authority, at - authority);
    sep = strchr (userinfo, ':');
    if (sep) {
      *user = g_uri_unescape_segment (userinfo, sep, NULL);
      *pass = g_uri_unescape_string (sep + 1, NULL);
    } else {
      *user = g_uri_unescape_string (userinfo, NULL);
    }
    g_free (userinfo);
    if (!*user || (sep && !*pass)) {
      g_clear_pointer (user, g_free);
      g_clear_pointer (pass, g_free);
      return fail (error, url, "the user name or password is badly escaped");
    }
    hostport = at + 1;
  }

  if (hostport[0] == '[') {
    const gchar *end = strchr (hostport, ']');
    GInetAddress *a;

    if (!end)
      return fail (error, url, "an IPv6 address without its ']'");
    *host = g_strndup (hostport + 1, end - hostport - 1);
    a = g_inet_address_new_from_string (*host);
    if (!a || g_inet_address_get_family (a) != G_SOCKET_FAMILY_IPV6) {
      g_clear_object (&a);
      return fail (error, url, "'[%s]' is not an IPv6 address", *host);
    }
    g_object_unref (a);
    colon = end[1] == ':' ? end + 1 : NULL;
    if (end[1] && !colon)
      return fail (error, url, "'%s' after the IPv6 address", end + 1);
  } else {
    colon = strchr (hostport, ':');
    *host = colon ? g_strndup (hostport, colon - hostport) :
        g_strdup (hostport);
    if (!**host)
      return fail (error, url, "no host");
    /* a host name (letters, digits, '-', '_', '.') or an IPv4 address */
    for (const gchar * c = *host; *c; c++) {
      if (!g_ascii_isalnum (*c) && *c != '-' && *c != '.' && *c != '_')
        return fail (error, url, "'%s' is not a host name or address",
            *host);
    }
  }

  if (colon) {
    guint64 p;

    port_text = g_strdup (colon + 1);
    if (!g_ascii_string_to_unsigned (port_text, 10, 1, 65535, &p, NULL)) {
      fail (error, url, "port '%s' is not a number from 1 to 65535",
          port_text);
      g_free (port_text);
      return FALSE;
    }
    *port = p;
    g_free (port_text);
  }
  return TRUE;
}

gchar *
gst_mesh_ice_server_normalize (const gchar * url, const gchar * username,
    const gchar * credential, GstMeshIceServerKind * kind, GError ** error)
{
  GstMeshIceServerKind k;
  const gchar *colon, *rest, *query;
  gchar *scheme = NULL, *authority = NULL, *transport = NULL;
  gchar *user = NULL, *pass = NULL, *host = NULL, *result = NULL;
  guint port = 0;
  gboolean slashes;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!url || !*url) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "ICE server: empty URL");
    return NULL;
  }
  /* it ends up in messages: not echoed when it is not text (json-glib lets
   * some escapes through that make no UTF-8) */
  if (!g_utf8_validate (url, -1, NULL)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "ICE server URL is not UTF-8");
    return NULL;
  }
  colon = strchr (url, ':');
  if (!colon) {
    fail (error, url, "no scheme (stun:, turn: or turns:)");
    return NULL;
  }
  scheme = g_ascii_strdown (url, colon - url);
  if (!strcmp (scheme, "stun"))
    k = GST_MESH_ICE_SERVER_STUN;
  else if (!strcmp (scheme, "turn"))
    k = GST_MESH_ICE_SERVER_TURN;
  else if (!strcmp (scheme, "turns"))
    k = GST_MESH_ICE_SERVER_TURNS;
  else {
    fail (error, url, "unknown scheme '%s' (stun, turn or turns)", scheme);
    goto out;
  }

  rest = colon + 1;
  slashes = g_str_has_prefix (rest, "//");
  if (slashes)
    rest += 2;
  query = strchr (rest, '?');
  authority = query ? g_strndup (rest, query - rest) : g_strdup (rest);
  if (g_str_has_suffix (authority, "/"))
    authority[strlen (authority) - 1] = '\0';
  if (!split_authority (url, authority, slashes, &user, &pass, &host, &port,
          error))
    goto out;

  if (query) {
    gchar **pairs = g_strsplit (query + 1, "&", -1);

    for (gchar ** p = pairs; *p; p++) {
      if (g_str_has_prefix (*p, "transport=")) {
        g_free (transport);
        transport = g_ascii_strdown (*p + strlen ("transport="), -1);
      } else if (**p) {
        fail (error, url, "unknown parameter '%s' (only transport=)", *p);
        g_strfreev (pairs);
        goto out;
      }
    }
    g_strfreev (pairs);
  }
  if (transport) {
    if (k == GST_MESH_ICE_SERVER_STUN) {
      fail (error, url, "a STUN server takes no transport");
      goto out;
    }
    if (strcmp (transport, "udp") && strcmp (transport, "tcp")) {
      fail (error, url, "unknown transport '%s' (udp or tcp)", transport);
      goto out;
    }
    if (k == GST_MESH_ICE_SERVER_TURNS && !strcmp (transport, "udp")) {
      fail (error, url, "turns: is TLS over TCP; transport=udp would "
          "need DTLS, which libnice does not do");
      goto out;
    }
  }

  if (username) {
    g_free (user);
    user = g_strdup (username);
  }
  if (credential) {
    g_free (pass);
    pass = g_strdup (credential);
  }
  if (port == 0)
    port = k == GST_MESH_ICE_SERVER_TURNS ? 5349 : 3478;

  if (k == GST_MESH_ICE_SERVER_STUN) {
    /* a STUN server needs no credentials: any given are not used */
    result = g_strdup_printf (strchr (host, ':') ? "stun://[%s]:%u" :
        "stun://%s:%u", host, port);
  } else {
    gchar *u, *p;

    if (!user || !*user || !pass || !*pass) {
      fail (error, url, "TURN needs a user name and a password (%s)",
          !user || !*user ? "no user name" : "no password");
      goto out;
    }
    u = g_uri_escape_string (user, USERINFO_KEEP, FALSE);
    p = g_uri_escape_string (pass, USERINFO_KEEP, FALSE);
    result = g_strdup_printf (strchr (host, ':') ? "%s://%s:%s@[%s]:%u%s%s" :
        "%s://%s:%s@%s:%u%s%s", k == GST_MESH_ICE_SERVER_TURNS ? "turns" :
        "turn", u, p, host, port, transport ? "?transport=" : "",
        transport ? transport : "");
    g_free (u);
    g_free (p);
  }
  if (kind)
    *kind = k;

out:
  g_free (scheme);
  g_free (authority);
  g_free (transport);
  g_free (user);
  if (pass)
    memset (pass, 0, strlen (pass));
  g_free (pass);
  g_free (host);
  return result;
}

gchar *
gst_mesh_ice_server_describe (const gchar * uri)
{
  const gchar *scheme_end, *at, *colon;

  g_return_val_if_fail (uri != NULL, NULL);
  scheme_end = strstr (uri, "://");
  at = scheme_end ? strchr (scheme_end + 3, '@') : NULL;
  if (!at)
    return g_strdup (uri);
  colon = memchr (scheme_end + 3, ':', at - scheme_end - 3);
  if (!colon)
    return g_strdup (uri);
  return g_strdup_printf ("%.*s:***%s", (int) (colon - uri), uri, at);
}

void
gst_mesh_turn_rest_credentials (const gchar * secret, const gchar * id,
    gint64 now, guint ttl, gchar ** username, gchar ** password)
{
  GHmac *hmac;
  guint8 digest[20];
  gsize len = sizeof (digest);

  g_return_if_fail (secret != NULL && username != NULL && password != NULL);

  *username = id && *id ?
      g_strdup_printf ("%" G_GINT64_FORMAT ":%s", now + ttl, id) :
      g_strdup_printf ("%" G_GINT64_FORMAT, now + ttl);
  hmac = g_hmac_new (G_CHECKSUM_SHA1, (const guchar *) secret,
      strlen (secret));
  g_hmac_update (hmac, (const guchar *) *username, -1);
  g_hmac_get_digest (hmac, digest, &len);
  g_hmac_unref (hmac);
  *password = g_base64_encode (digest, len);
}

static void
add_url (GPtrArray * uris, const gchar * url, const gchar * username,
    const gchar * credential, GPtrArray * errors)
{
  GError *error = NULL;
  gchar *uri = gst_mesh_ice_server_normalize (url, username, credential,
      NULL, &error);

  if (uri)
    g_ptr_array_add (uris, uri);
  else {
    if (errors)
      g_ptr_array_add (errors, g_strdup (error->message));
    g_error_free (error);
  }
}

static void
add_entry (GPtrArray * uris, JsonNode * entry, guint index,
    GPtrArray * errors)
{
  JsonObject *o;
  JsonNode *urls;
  const gchar *username = NULL, *credential = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (entry)) {
    if (errors)
      g_ptr_array_add (errors, g_strdup_printf ("iceServers[%u] is not an "
              "object", index));
    return;
  }
  o = json_node_get_object (entry);
  if (json_object_has_member (o, "username"))
    username = json_node_get_string (json_object_get_member (o, "username"));
  if (json_object_has_member (o, "credential"))
    credential = json_node_get_string (json_object_get_member (o,
            "credential"));
  urls = json_object_get_member (o, "urls");
  if (urls && JSON_NODE_HOLDS_VALUE (urls)
      && json_node_get_value_type (urls) == G_TYPE_STRING) {
    add_url (uris, json_node_get_string (urls), username, credential, errors);
  } else if (urls && JSON_NODE_HOLDS_ARRAY (urls)) {
    JsonArray *a = json_node_get_array (urls);

    for (guint i = 0; i < json_array_get_length (a); i++) {
      JsonNode *u = json_array_get_element (a, i);

      if (JSON_NODE_HOLDS_VALUE (u)
          && json_node_get_value_type (u) == G_TYPE_STRING)
        add_url (uris, json_node_get_string (u), username, credential,
            errors);
      else if (errors)
        g_ptr_array_add (errors, g_strdup_printf ("iceServers[%u].urls[%u] "
                "is not a string", index, i));
    }
  } else if (errors) {
    g_ptr_array_add (errors, g_strdup_printf ("iceServers[%u] has no urls "
            "(a string or an array of strings)", index));
  }
}

GPtrArray *
gst_mesh_ice_servers_from_json (JsonNode * node, guint * ttl,
    GPtrArray * errors)
{
  GPtrArray *uris = g_ptr_array_new_with_free_func (g_free);
  JsonObject *o;
  JsonNode *servers;

  if (ttl)
    *ttl = 0;
  if (!node || !JSON_NODE_HOLDS_OBJECT (node)) {
    if (errors)
      g_ptr_array_add (errors, g_strdup ("not an object with iceServers"));
    return uris;
  }
  o = json_node_get_object (node);
  servers = json_object_get_member (o, "iceServers");
  if (!servers || !JSON_NODE_HOLDS_ARRAY (servers)) {
    if (errors)
      g_ptr_array_add (errors, g_strdup ("no iceServers array"));
    return uris;
  }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (servers));
      i++)
    add_entry (uris, json_array_get_element (json_node_get_array (servers),
            i), i, errors);
  if (ttl && json_object_has_member (o, "ttl")) {
    JsonNode *t = json_object_get_member (o, "ttl");

    if (JSON_NODE_HOLDS_VALUE (t) && json_node_get_value_type (t) ==
        G_TYPE_INT64 && json_node_get_int (t) > 0)
      *ttl = MIN (json_node_get_int (t), G_MAXINT);
  }
  return uris;
}
