/* gst-mesh: unit tests for ICE server URLs and TURN REST credentials.
 *
 * The expected REST passwords were computed apart from this code, with
 *   echo -n "1735689600:alice" | openssl dgst -sha1 -hmac north-secret -binary | base64
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/check/gstcheck.h>
#include <gio/gio.h>
#include <gst/mesh/gstmeshiceserver.h>

static void
assert_normalized (const gchar * url, const gchar * user, const gchar * pass,
    const gchar * expected, GstMeshIceServerKind expected_kind)
{
  GError *error = NULL;
  GstMeshIceServerKind kind = -1;
  gchar *uri = gst_mesh_ice_server_normalize (url, user, pass, &kind, &error);

  fail_unless (uri != NULL, "%s: %s", url, error ? error->message : "?");
  fail_unless_equals_string (uri, expected);
  fail_unless_equals_int (kind, expected_kind);
  g_free (uri);
}

/* Fails, and the message names @what. */
static void
assert_refused (const gchar * url, const gchar * user, const gchar * pass,
    const gchar * what)
{
  GError *error = NULL;
  gchar *uri = gst_mesh_ice_server_normalize (url, user, pass, NULL, &error);

  fail_unless (uri == NULL, "%s was taken as %s", url, uri);
  fail_unless (g_error_matches (error, G_IO_ERROR,
          G_IO_ERROR_INVALID_ARGUMENT));
  fail_unless (strstr (error->message, what) != NULL,
      "'%s' does not say '%s'", error->message, what);
  g_error_free (error);
}

GST_START_TEST (test_browser_forms)
{
  assert_normalized ("stun:stun.example.org", NULL, NULL,
      "stun://stun.example.org:3478", GST_MESH_ICE_SERVER_STUN);
  assert_normalized ("stun:203.0.113.1:19302", NULL, NULL,
      "stun://203.0.113.1:19302", GST_MESH_ICE_SERVER_STUN);
  assert_normalized ("turn:203.0.113.1", "u", "p",
      "turn://u:p@203.0.113.1:3478", GST_MESH_ICE_SERVER_TURN);
  assert_normalized ("turn:203.0.113.1:3478?transport=tcp", "u", "p",
      "turn://u:p@203.0.113.1:3478?transport=tcp", GST_MESH_ICE_SERVER_TURN);
  assert_normalized ("TURN:203.0.113.1?transport=UDP", "u", "p",
      "turn://u:p@203.0.113.1:3478?transport=udp", GST_MESH_ICE_SERVER_TURN);
  assert_normalized ("turns:turn.example.org", "u", "p",
      "turns://u:p@turn.example.org:5349", GST_MESH_ICE_SERVER_TURNS);
  assert_normalized ("turns:turn.example.org:443?transport=tcp", "u", "p",
      "turns://u:p@turn.example.org:443?transport=tcp",
      GST_MESH_ICE_SERVER_TURNS);
  assert_normalized ("turn:[2001:db8::1]:3478", "u", "p",
      "turn://u:p@[2001:db8::1]:3478", GST_MESH_ICE_SERVER_TURN);
}

GST_END_TEST;

GST_START_TEST (test_webrtcbin_forms)
{
  assert_normalized ("stun://203.0.113.1:3478", NULL, NULL,
      "stun://203.0.113.1:3478", GST_MESH_ICE_SERVER_STUN);
  assert_normalized ("turn://u:p@203.0.113.1:3478", NULL, NULL,
      "turn://u:p@203.0.113.1:3478", GST_MESH_ICE_SERVER_TURN);
  assert_normalized ("turns://u:p@203.0.113.1", NULL, NULL,
      "turns://u:p@203.0.113.1:5349", GST_MESH_ICE_SERVER_TURNS);
  /* escaped in the URL: kept escaped, and escaped the same way */
  assert_normalized ("turn://1735689600%3Aalice:a%2Bb%3D@host:3478", NULL,
      NULL, "turn://1735689600%3Aalice:a%2Bb%3D@host:3478",
      GST_MESH_ICE_SERVER_TURN);
  /* given apart, they replace those in the URL */
  assert_normalized ("turn://old:old@host", "new", "pw",
      "turn://new:pw@host:3478", GST_MESH_ICE_SERVER_TURN);
}

GST_END_TEST;

/* REST user names hold ':' and base64 passwords '+', '/' and '=':
 * webrtcbin splits the userinfo at its first ':' and unescapes both
 * halves, so they must be escaped. */
GST_START_TEST (test_credentials_escaped)
{
  assert_normalized ("turn:203.0.113.1", "1735689600:alice",
      "/Hgk2wzS1yMKgEQRSzOmdlh6bg0=",
      "turn://1735689600%3Aalice:%2FHgk2wzS1yMKgEQRSzOmdlh6bg0%3D@"
      "203.0.113.1:3478", GST_MESH_ICE_SERVER_TURN);
  assert_normalized ("turn:h", "a@b", "c:d/e%f",
      "turn://a%40b:c%3Ad%2Fe%25f@h:3478", GST_MESH_ICE_SERVER_TURN);
}

GST_END_TEST;

GST_START_TEST (test_bad_urls)
{
  assert_refused (NULL, NULL, NULL, "empty URL");
  assert_refused ("", NULL, NULL, "empty URL");
  assert_refused ("203.0.113.1:3478", NULL, NULL, "unknown scheme '203.0.113.1'");
  assert_refused ("localhost", NULL, NULL, "no scheme");
  assert_refused ("http://203.0.113.1:3478", NULL, NULL,
      "unknown scheme 'http'");
  assert_refused ("stun:", NULL, NULL, "no host");
  assert_refused ("turn://u:p@:3478", NULL, NULL, "no host");
  assert_refused ("stun:host:0", NULL, NULL, "port '0'");
  assert_refused ("stun:host:65536", NULL, NULL, "port '65536'");
  assert_refused ("stun:host:34x", NULL, NULL, "port '34x'");
  assert_refused ("stun:host?transport=udp", NULL, NULL, "no transport");
  assert_refused ("turn:host?transport=sctp", "u", "p",
      "unknown transport 'sctp'");
  assert_refused ("turns:host?transport=udp", "u", "p", "DTLS");
  assert_refused ("turn:host?foo=bar", "u", "p", "unknown parameter 'foo=bar'");
  assert_refused ("turn:host", NULL, NULL, "no user name");
  assert_refused ("turn:host", "u", NULL, "no password");
  assert_refused ("turn://u@host", NULL, NULL, "no password");
  assert_refused ("turn:u:p@host", NULL, NULL, "username field");
  assert_refused ("turn:[2001:db8::1", "u", "p", "']'");
  assert_refused ("stun:my host", NULL, NULL, "not a host name");
  assert_refused ("turn:[[]?", "u", "p", "'[[]' is not an IPv6 address");
  assert_refused ("turn:[203.0.113.1]", "u", "p", "not an IPv6 address");
  assert_refused ("turn:h\xc3", "u", "p", "not UTF-8");
}

GST_END_TEST;

GST_START_TEST (test_describe_hides_password)
{
  gchar *d = gst_mesh_ice_server_describe ("turn://u:secret@h:3478");

  fail_unless_equals_string (d, "turn://u:***@h:3478");
  g_free (d);
  d = gst_mesh_ice_server_describe ("stun://h:3478");
  fail_unless_equals_string (d, "stun://h:3478");
  g_free (d);
}

GST_END_TEST;

GST_START_TEST (test_rest_credentials)
{
  gchar *user, *pass;

  gst_mesh_turn_rest_credentials ("north-secret", "alice", 1735686000, 3600,
      &user, &pass);
  fail_unless_equals_string (user, "1735689600:alice");
  fail_unless_equals_string (pass, "/Hgk2wzS1yMKgEQRSzOmdlh6bg0=");
  g_free (user);
  g_free (pass);

  gst_mesh_turn_rest_credentials ("north-secret", NULL, 1735689000, 600,
      &user, &pass);
  fail_unless_equals_string (user, "1735689600");
  fail_unless_equals_string (pass, "QZOAJyTYFtIzWU9gWle0XjTfbaU=");
  g_free (user);
  g_free (pass);
}

GST_END_TEST;

static Suite *
iceserver_suite (void)
{
  Suite *s = suite_create ("iceserver");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_browser_forms);
  tcase_add_test (tc, test_webrtcbin_forms);
  tcase_add_test (tc, test_credentials_escaped);
  tcase_add_test (tc, test_bad_urls);
  tcase_add_test (tc, test_describe_hides_password);
  tcase_add_test (tc, test_rest_credentials);
  return s;
}

GST_CHECK_MAIN (iceserver);
