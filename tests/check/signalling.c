/* gst-mesh: the room events of the signalling layer
 * (gst/mesh/gstmeshsignalling.c) on their own: peer-joined and peer-left
 * as a server sends them, with and without the "offer" a healed cluster
 * adds, and what is refused.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/mesh/gstmeshsignalling.h>
#include <string.h>

static GstMeshRoomMember *
parse (const gchar * event, const gchar * json, GError ** error)
{
  JsonNode *node = json_from_string (json, NULL);
  GstMeshRoomMember *m;

  fail_unless (node && JSON_NODE_HOLDS_ARRAY (node), "bad test JSON %s", json);
  m = gst_mesh_signal_room_member_parse (event, json_node_get_array (node),
      error);
  json_node_unref (node);
  return m;
}

GST_START_TEST (test_peer_joined_offer)
{
  GstMeshRoomMember *m;
  GError *error = NULL;

  m = parse ("peer-joined", "[{\"id\":\"A\",\"room\":\"r\"}]", NULL);
  fail_unless (m && !m->offer && !m->uid);
  fail_unless_equals_string (m->id, "A");
  gst_mesh_room_member_free (m);

  m = parse ("peer-joined", "[{\"id\":\"A\",\"room\":\"r\",\"uid\":\"u\","
      "\"offer\":true}]", NULL);
  fail_unless (m && m->offer);
  fail_unless_equals_string (m->uid, "u");
  gst_mesh_room_member_free (m);

  m = parse ("peer-joined", "[{\"id\":\"A\",\"offer\":false}]", NULL);
  fail_unless (m && !m->offer);
  gst_mesh_room_member_free (m);

  m = parse ("peer-joined", "[{\"id\":\"A\",\"offer\":\"yes\"}]", &error);
  fail_unless (m == NULL);
  fail_unless (strstr (error->message, "\"offer\" must be true or false"),
      "%s", error->message);
  g_clear_error (&error);

  m = parse ("peer-left", "[{\"room\":\"r\"}]", &error);
  fail_unless (m == NULL && error != NULL);
  g_clear_error (&error);
}

GST_END_TEST;

static Suite *
signalling_suite (void)
{
  Suite *s = suite_create ("signalling");
  TCase *tc = tcase_create ("rooms");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_peer_joined_offer);
  return s;
}

GST_CHECK_MAIN (signalling);
