/* gst-mesh: libFuzzer target for the signalling message parser.
 *
 * The input is an event name, a newline, and the JSON text of the event's
 * argument array, e.g.
 *
 *   offer
 *   [{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n..."}]
 *
 * The arguments go through the Socket.IO codec's JSON parser (as an ACK
 * payload, which is a bare array: what the server hands the parser) and,
 * separately, through json-glib's, and each result to
 * gst_mesh_signal_message_parse(). Checked: a failure comes with a
 * GST_MESH_SIGNAL_ERROR in UTF-8 (it ends up in bus messages and logs); a
 * message that parses has the fields its kind promises, and the arguments
 * we would send for it (gst_mesh_signal_*_args()) parse back to the same
 * message. Violations abort(), so libFuzzer records them as crashes.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I . \
 *     $(pkg-config --cflags json-glib-1.0 gstreamer-sdp-1.0) \
 *     gst/mesh/gstmeshpacket.c gst/mesh/gstmeshsignalling.c \
 *     tests/fuzz/fuzz_signalling.c \
 *     $(pkg-config --libs json-glib-1.0 gstreamer-sdp-1.0) -lm
 *   ./a.out tests/fuzz/corpus/signalling
 *
 * The events "join" (standing for a join acknowledgement), "peer-joined"
 * and "peer-left" go to the room parsers instead, with their own checks.
 *
 * Linked with standalone.c instead of -fsanitize=fuzzer it gets a
 * main() that runs the files named on the command line once.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/mesh/gstmeshpacket.h>
#include <gst/mesh/gstmeshsignalling.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void G_GNUC_NORETURN
invariant_failed (const char *what, const char *a, const char *b)
{
  fprintf (stderr, "invariant failed: %s\n  first:  %s\n  second: %s\n",
      what, a ? a : "(null)", b ? b : "(null)");
  abort ();
}

static void
check_same_string (const char *what, const gchar * a, const gchar * b)
{
  if (g_strcmp0 (a, b) != 0)
    invariant_failed (what, a, b);
}

/* What we send for @msg must parse back to @msg. */
static void
check_resend (const gchar * event, const GstMeshSignalMessage * msg)
{
  GstMeshSignalMessage *again;
  GError *error = NULL;
  JsonArray *args;

  if (msg->kind == GST_MESH_SIGNAL_CANDIDATE)
    args = gst_mesh_signal_candidate_args (msg->candidate, msg->sdp_mid,
        msg->sdp_mline_index, msg->to);
  else if (msg->kind == GST_MESH_SIGNAL_HANGUP)
    args = gst_mesh_signal_hangup_args (msg->reason, msg->to);
  else
    args = gst_mesh_signal_description_args (msg->kind, msg->sdp, msg->to);

  again = gst_mesh_signal_message_parse (event, args, &error);
  json_array_unref (args);
  if (again == NULL)
    invariant_failed ("the arguments we build for a message do not parse",
        event, error ? error->message : NULL);
  if (again->kind != msg->kind)
    invariant_failed ("kind changed on re-sending", event, NULL);
  check_same_string ("sdp changed on re-sending", msg->sdp, again->sdp);
  check_same_string ("candidate changed on re-sending", msg->candidate,
      again->candidate);
  check_same_string ("sdpMid changed on re-sending", msg->sdp_mid,
      again->sdp_mid);
  check_same_string ("to changed on re-sending", msg->to, again->to);
  check_same_string ("reason changed on re-sending", msg->reason,
      again->reason);
  if (again->sdp_mline_index != msg->sdp_mline_index)
    invariant_failed ("sdpMLineIndex changed on re-sending", event, NULL);
  gst_mesh_signal_message_free (again);
}

static void
check_error (const gchar * what, const gchar * event, GError * error)
{
  if (error == NULL || error->domain != GST_MESH_SIGNAL_ERROR
      || error->message == NULL || error->message[0] == '\0')
    invariant_failed (what, event, NULL);
  if (!g_utf8_validate (error->message, -1, NULL))
    invariant_failed ("error message is not UTF-8", event, NULL);
}

/* Room messages: the event name "join" stands for a join acknowledgement
 * (acks have no name on the wire); "peer-joined" and "peer-left" are
 * themselves. */
static void
exercise_room (const gchar * event, JsonArray * args)
{
  GError *error = NULL;

  if (!strcmp (event, "join")) {
    GstMeshRoomInfo *info = gst_mesh_signal_room_info_parse (args, &error);

    if (!info) {
      check_error ("join ack failed without a proper error", event, error);
      g_error_free (error);
      return;
    }
    if (!info->id || !*info->id || !info->room || !*info->room ||
        !info->members)
      invariant_failed ("join ack without id, room or members", event, NULL);
    for (guint i = 0; i < info->members->len; i++) {
      GstMeshRoomMember *m = g_ptr_array_index (info->members, i);
      if (!m->id || !*m->id)
        invariant_failed ("member without id", event, NULL);
    }
    gst_mesh_signal_room_info_free (info);
  } else {
    GstMeshRoomMember *m = gst_mesh_signal_room_member_parse (event, args,
        &error);

    if (!m) {
      check_error ("peer event failed without a proper error", event, error);
      g_error_free (error);
      return;
    }
    if (!m->id || !*m->id)
      invariant_failed ("peer event without id", event, NULL);
    gst_mesh_room_member_free (m);
  }
}

static void
exercise (const gchar * event, JsonArray * args)
{
  GstMeshSignalMessage *msg;
  GError *error = NULL;

  if (!strcmp (event, "join") || !strcmp (event, "peer-joined") ||
      !strcmp (event, "peer-left")) {
    exercise_room (event, args);
    return;
  }
  msg = gst_mesh_signal_message_parse (event, args, &error);
  if (msg == NULL) {
    if (error == NULL || error->domain != GST_MESH_SIGNAL_ERROR
        || error->message == NULL || error->message[0] == '\0')
      invariant_failed ("parse failed without a proper error", event, NULL);
    if (!g_utf8_validate (error->message, -1, NULL))
      invariant_failed ("error message is not UTF-8", event, NULL);
    g_error_free (error);
    return;
  }
  if (error != NULL)
    invariant_failed ("parse succeeded and set an error", event,
        error->message);

  switch (msg->kind) {
    case GST_MESH_SIGNAL_OFFER:
    case GST_MESH_SIGNAL_ANSWER:
      if (msg->sdp == NULL || msg->sdp_message == NULL)
        invariant_failed ("description without its SDP", event, NULL);
      if (strcmp (gst_mesh_signal_kind_to_string (msg->kind), event) != 0)
        invariant_failed ("description of the wrong kind", event,
            gst_mesh_signal_kind_to_string (msg->kind));
      gst_mesh_signal_session_id (msg->sdp_message);
      gst_mesh_signal_session_version (msg->sdp_message);
      break;
    case GST_MESH_SIGNAL_CANDIDATE:
      if (msg->candidate == NULL)
        invariant_failed ("candidate without its line", event, NULL);
      if (msg->sdp_mline_index < -1)
        invariant_failed ("negative sdpMLineIndex", event, NULL);
      break;
    case GST_MESH_SIGNAL_HANGUP:
      if (msg->sdp || msg->candidate)
        invariant_failed ("hangup with a description or candidate", event,
            NULL);
      break;
    default:
      invariant_failed ("unknown kind", event, NULL);
  }
  check_resend (event, msg);
  gst_mesh_signal_message_free (msg);
}

static guint
nesting_depth (const gchar * json, gsize len)
{
  guint depth = 0, max = 0;
  gsize i;

  for (i = 0; i < len; i++) {
    if (json[i] == '[' || json[i] == '{')
      max = MAX (max, ++depth);
    else if ((json[i] == ']' || json[i] == '}') && depth > 0)
      depth--;
  }
  return max;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const gchar *text = (const gchar *) data;
  const gchar *newline = memchr (text, '\n', size);
  gchar *event;
  gsize json_len;
  const gchar *json;

  if (newline == NULL)
    return 0;
  /* Event names come out of the codec's JSON parser: UTF-8, no NUL. */
  event = g_strndup (text, newline - text);
  if (strlen (event) != (gsize) (newline - text)
      || !g_utf8_validate (event, -1, NULL)) {
    g_free (event);
    return 0;
  }
  json = newline + 1;
  json_len = size - (json - text);

  /* The codec: an ACK packet's payload is a bare array. */
  if (json_len > 0) {
    gchar *ack = g_malloc (json_len + 1);
    GstMeshSioPacket *packet;

    ack[0] = '3';
    memcpy (ack + 1, json, json_len);
    packet = gst_mesh_sio_packet_decode (ack, json_len + 1, NULL);
    if (packet != NULL) {
      exercise (event, json_node_get_array (packet->data));
      gst_mesh_sio_packet_free (packet);
    }
    g_free (ack);
  }

  /* json-glib, the parser of JSON that does not come off the wire. It
   * recurses without a limit, so keep its nesting to what a message has
   * (the codec has its own limit, exercised above). */
  if (nesting_depth (json, json_len) <= 64) {
    JsonParser *parser = json_parser_new_immutable ();

    if (json_parser_load_from_data (parser, json, json_len, NULL)) {
      JsonNode *root = json_parser_get_root (parser);

      if (root && JSON_NODE_HOLDS_ARRAY (root))
        exercise (event, json_node_get_array (root));
    }
    g_object_unref (parser);
  }

  /* No arguments at all. */
  exercise (event, NULL);

  g_free (event);
  return 0;
}
