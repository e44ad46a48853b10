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
#include <gst/mesh/gstmeshturnprobe.h>

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

static const guint8 TID[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

/* Finds attribute @type in STUN message @m; returns its value, or NULL. */
static const guint8 *
find_attr (const guint8 * m, gsize size, guint16 type, guint16 * len)
{
  for (gsize pos = 20; pos + 4 <= size;) {
    guint16 t = (m[pos] << 8) | m[pos + 1], l = (m[pos + 2] << 8) | m[pos + 3];
    if (t == type) {
      *len = l;
      return m + pos + 4;
    }
    pos += 4 + l + (4 - l % 4) % 4;
  }
  return NULL;
}

GST_START_TEST (test_turn_allocate_request)
{
  GBytes *b = gst_mesh_turn_allocate_request (TID, NULL, NULL, NULL, NULL);
  gsize size;
  const guint8 *m = g_bytes_get_data (b, &size);
  guint16 len;
  const guint8 *v;

  /* Allocate, length, magic cookie, our transaction */
  fail_unless_equals_int ((m[0] << 8) | m[1], 0x0003);
  fail_unless_equals_int ((m[2] << 8) | m[3], size - 20);
  fail_unless (m[4] == 0x21 && m[5] == 0x12 && m[6] == 0xA4 && m[7] == 0x42);
  fail_unless (memcmp (m + 8, TID, 12) == 0);
  v = find_attr (m, size, 0x0019, &len);
  fail_unless (v && len == 4 && v[0] == 17, "no REQUESTED-TRANSPORT UDP");
  fail_unless (find_attr (m, size, 0x0008, &len) == NULL);
  g_bytes_unref (b);

  /* with credentials: MESSAGE-INTEGRITY is HMAC-SHA1 with key
   * MD5 ("u:test:p") over the message before it, its length counting it */
  b = gst_mesh_turn_allocate_request (TID, "u", "test", "n0nce", "p");
  m = g_bytes_get_data (b, &size);
  v = find_attr (m, size, 0x0008, &len);
  fail_unless (v != NULL && len == 20);
  fail_unless_equals_int (v + 20 - m, size);
  {
    GChecksum *md5 = g_checksum_new (G_CHECKSUM_MD5);
    guint8 key[16], mac[20], *copy;
    gsize klen = 16, mlen = 20, before = v - 4 - m;
    GHmac *h;

    g_checksum_update (md5, (const guchar *) "u:test:p", -1);
    g_checksum_get_digest (md5, key, &klen);
    g_checksum_free (md5);
    copy = g_memdup2 (m, before);
    copy[2] = (before - 20 + 24) >> 8;
    copy[3] = (before - 20 + 24) & 0xff;
    h = g_hmac_new (G_CHECKSUM_SHA1, key, 16);
    g_hmac_update (h, copy, before);
    g_hmac_get_digest (h, mac, &mlen);
    g_hmac_unref (h);
    fail_unless (memcmp (mac, v, 20) == 0, "MESSAGE-INTEGRITY is wrong");
    g_free (copy);
  }
  v = find_attr (m, size, 0x0006, &len);
  fail_unless (v && len == 1 && v[0] == 'u');
  v = find_attr (m, size, 0x0015, &len);
  fail_unless (v && len == 5 && memcmp (v, "n0nce", 5) == 0);
  g_bytes_unref (b);
}

GST_END_TEST;

/* An error answer: 401 with REALM and NONCE, as coturn sends first. */
static GByteArray *
error_answer (const guint8 * tid, guint code, const gchar * reason)
{
  GByteArray *m = g_byte_array_new ();
  guint8 head[20] = { 0x01, 0x13, 0, 0, 0x21, 0x12, 0xA4, 0x42 };
  guint8 ec[4] = { 0, 0, code / 100, code % 100 };
  const gchar *attrs[][2] = { {"\x00\x14", "test"}, {"\x00\x15", "abcdef"} };
  gsize rlen = strlen (reason);
  guint8 hdr[4];
  static const guint8 zero[4];

  memcpy (head + 8, tid, 12);
  g_byte_array_append (m, head, 20);
  hdr[0] = 0x00;
  hdr[1] = 0x09;
  hdr[2] = 0;
  hdr[3] = 4 + rlen;
  g_byte_array_append (m, hdr, 4);
  g_byte_array_append (m, ec, 4);
  g_byte_array_append (m, (const guint8 *) reason, rlen);
  g_byte_array_append (m, zero, (4 - (4 + rlen) % 4) % 4);
  for (guint i = 0; i < G_N_ELEMENTS (attrs); i++) {
    gsize l = strlen (attrs[i][1]);
    hdr[0] = attrs[i][0][0];
    hdr[1] = attrs[i][0][1];
    hdr[2] = 0;
    hdr[3] = l;
    g_byte_array_append (m, hdr, 4);
    g_byte_array_append (m, (const guint8 *) attrs[i][1], l);
    g_byte_array_append (m, zero, (4 - l % 4) % 4);
  }
  m->data[2] = (m->len - 20) >> 8;
  m->data[3] = (m->len - 20) & 0xff;
  return m;
}

GST_START_TEST (test_turn_answer_parse)
{
  GstMeshTurnAnswer a;
  GByteArray *m = error_answer (TID, 401, "Unauthorized");
  guint8 other[12] = { 0, };

  fail_unless (gst_mesh_turn_answer_parse (m->data, m->len, TID, &a));
  fail_if (a.success);
  fail_unless_equals_int (a.code, 401);
  fail_unless_equals_string (a.reason, "Unauthorized");
  fail_unless_equals_string (a.realm, "test");
  fail_unless_equals_string (a.nonce, "abcdef");
  gst_mesh_turn_answer_clear (&a);

  /* not ours, cut short, an attribute past the end, a bad cookie */
  fail_if (gst_mesh_turn_answer_parse (m->data, m->len, other, &a));
  fail_if (gst_mesh_turn_answer_parse (m->data, m->len - 4, TID, &a));
  fail_if (gst_mesh_turn_answer_parse (m->data, 19, TID, &a));
  m->data[20 + 3] = 200;
  fail_if (gst_mesh_turn_answer_parse (m->data, m->len, TID, &a));
  m->data[20 + 3] = 4 + 12;
  m->data[4] = 0;
  fail_if (gst_mesh_turn_answer_parse (m->data, m->len, TID, &a));
  g_byte_array_unref (m);

  /* a reason that is not UTF-8 comes out as text */
  m = error_answer (TID, 438, "Stale\xff");
  fail_unless (gst_mesh_turn_answer_parse (m->data, m->len, TID, &a));
  fail_unless_equals_int (a.code, 438);
  fail_unless (g_utf8_validate (a.reason, -1, NULL));
  gst_mesh_turn_answer_clear (&a);
  g_byte_array_unref (m);
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
  tcase_add_test (tc, test_turn_allocate_request);
  tcase_add_test (tc, test_turn_answer_parse);
  return s;
}

GST_CHECK_MAIN (iceserver);
