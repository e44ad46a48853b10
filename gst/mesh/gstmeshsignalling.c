/* gst-mesh: the signalling messages of a call (offer, answer, candidate).
 *
 * Everything from the network is checked here, field by field, so that
 * the element only ever sees well-formed values; each error names what
 * was wrong.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstmeshsignalling.h"

#include <string.h>

/* An SDP of a few m-lines is a few kB; this bounds what one message may
 * make us parse. */
#define MAX_SDP_LENGTH (256 * 1024)
#define MAX_CANDIDATE_LENGTH 1024
#define MAX_ID_LENGTH 256
#define MAX_REASON_LENGTH 256

G_DEFINE_QUARK (gst-mesh-signal-error-quark, gst_mesh_signal_error);

/* The start of @s for an error message: whole characters only, so the
 * message stays valid UTF-8 (a byte cut can split one; found by the
 * signalling fuzzer). The codec has checked that @s is UTF-8. */
static gchar *
excerpt (const gchar * s, glong max_chars)
{
  if (!g_utf8_validate (s, -1, NULL))
    return g_strdup ("(not UTF-8)");
  return g_utf8_substring (s, 0, MIN (g_utf8_strlen (s, -1), max_chars));
}

const gchar *
gst_mesh_signal_kind_to_string (GstMeshSignalKind kind)
{
  switch (kind) {
    case GST_MESH_SIGNAL_OFFER:
      return "offer";
    case GST_MESH_SIGNAL_ANSWER:
      return "answer";
    case GST_MESH_SIGNAL_CANDIDATE:
      return "candidate";
    case GST_MESH_SIGNAL_HANGUP:
      return "hangup";
  }
  return "unknown";
}

static const gchar *
node_type_name (JsonNode * node)
{
  if (!node || JSON_NODE_HOLDS_NULL (node))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT (node))
    return "object";
  if (JSON_NODE_HOLDS_ARRAY (node))
    return "array";
  switch (json_node_get_value_type (node)) {
    case G_TYPE_STRING:
      return "string";
    case G_TYPE_BOOLEAN:
      return "boolean";
    default:
      return "number";
  }
}

static gboolean
node_is_string (JsonNode * node)
{
  return node && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
node_is_integer (JsonNode * node)
{
  return node && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_INT64;
}

/* Optional string member: absent or null is fine, anything else but a
 * string of sane length is an error. */
static gboolean
get_optional_string (JsonObject * obj, const gchar * event,
    const gchar * member, gsize max_len, gchar ** out, GError ** error)
{
  JsonNode *node = json_object_get_member (obj, member);

  *out = NULL;
  if (!node || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!node_is_string (node)) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "%s: \"%s\" must be a string, got %s", event, member,
        node_type_name (node));
    return FALSE;
  }
  if (strlen (json_node_get_string (node)) > max_len) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "%s: \"%s\" is longer than %" G_GSIZE_FORMAT " bytes", event, member,
        max_len);
    return FALSE;
  }
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

static gboolean
parse_description (GstMeshSignalMessage * msg, const gchar * event,
    JsonObject * obj, GError ** error)
{
  JsonNode *type = json_object_get_member (obj, "type");
  JsonNode *sdp = json_object_get_member (obj, "sdp");
  const gchar *sdp_text;
  GstSDPMessage *sdp_msg = NULL;

  if (!node_is_string (type)) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "%s: \"type\" must be the string \"%s\", got %s", event, event,
        node_type_name (type));
    return FALSE;
  }
  if (strcmp (json_node_get_string (type), event) != 0) {
    gchar *got = excerpt (json_node_get_string (type), 32);
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "%s: \"type\" is \"%s\", expected \"%s\"", event, got, event);
    g_free (got);
    return FALSE;
  }
  if (!node_is_string (sdp)) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "%s: \"sdp\" must be a string, got %s", event, node_type_name (sdp));
    return FALSE;
  }
  sdp_text = json_node_get_string (sdp);
  if (strlen (sdp_text) > MAX_SDP_LENGTH) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SDP,
        "%s: \"sdp\" is longer than %d bytes", event, MAX_SDP_LENGTH);
    return FALSE;
  }
  /* gst_sdp_message_parse_buffer() accepts almost anything; a description
   * we can use has a version line, an origin and at least one m-line. */
  if (!g_str_has_prefix (sdp_text, "v=0")) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SDP,
        "%s: \"sdp\" does not start with \"v=0\"", event);
    return FALSE;
  }
  gst_sdp_message_new (&sdp_msg);
  if (gst_sdp_message_parse_buffer ((const guint8 *) sdp_text,
          strlen (sdp_text), sdp_msg) != GST_SDP_OK ||
      gst_sdp_message_medias_len (sdp_msg) == 0 ||
      !gst_sdp_message_get_origin (sdp_msg)->sess_id) {
    gst_sdp_message_free (sdp_msg);
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SDP,
        "%s: \"sdp\" does not parse as a session description with an "
        "origin and media", event);
    return FALSE;
  }
  msg->sdp = g_strdup (sdp_text);
  msg->sdp_message = sdp_msg;
  return TRUE;
}

static gboolean
parse_candidate (GstMeshSignalMessage * msg, JsonObject * obj, GError ** error)
{
  JsonNode *cand = json_object_get_member (obj, "candidate");
  JsonNode *mline = json_object_get_member (obj, "sdpMLineIndex");
  const gchar *text;

  if (!node_is_string (cand)) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "candidate: \"candidate\" must be a string, got %s",
        node_type_name (cand));
    return FALSE;
  }
  text = json_node_get_string (cand);
  if (strlen (text) > MAX_CANDIDATE_LENGTH) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_CANDIDATE,
        "candidate: \"candidate\" is longer than %d bytes",
        MAX_CANDIDATE_LENGTH);
    return FALSE;
  }
  /* "" is the end-of-candidates marker some browsers send */
  if (*text && !g_str_has_prefix (text, "candidate:")) {
    gchar *got = excerpt (text, 40);
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_CANDIDATE,
        "candidate: \"candidate\" does not start with \"candidate:\": "
        "\"%s\"", got);
    g_free (got);
    return FALSE;
  }
  if (strchr (text, '\r') || strchr (text, '\n')) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_CANDIDATE,
        "candidate: \"candidate\" contains a line break");
    return FALSE;
  }
  if (!get_optional_string (obj, "candidate", "sdpMid", MAX_ID_LENGTH,
          &msg->sdp_mid, error))
    return FALSE;

  msg->sdp_mline_index = -1;
  if (mline && !JSON_NODE_HOLDS_NULL (mline)) {
    gint64 v;
    if (!node_is_integer (mline)) {
      g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
          "candidate: \"sdpMLineIndex\" must be an integer, got %s",
          node_type_name (mline));
      return FALSE;
    }
    v = json_node_get_int (mline);
    if (v < 0 || v > 1024) {
      g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
          "candidate: \"sdpMLineIndex\" %" G_GINT64_FORMAT " is out of range",
          v);
      return FALSE;
    }
    msg->sdp_mline_index = (gint) v;
  }
  if (msg->sdp_mline_index < 0 && !msg->sdp_mid && *text) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "candidate: neither \"sdpMid\" nor \"sdpMLineIndex\" is given");
    return FALSE;
  }
  msg->candidate = g_strdup (text);
  return TRUE;
}

GstMeshSignalMessage *
gst_mesh_signal_message_parse (const gchar * event, JsonArray * args,
    GError ** error)
{
  GstMeshSignalMessage *msg;
  JsonNode *payload;
  JsonObject *obj;
  gboolean ok;

  g_return_val_if_fail (event != NULL, NULL);

  msg = g_new0 (GstMeshSignalMessage, 1);
  msg->sdp_mline_index = -1;
  if (!strcmp (event, "offer"))
    msg->kind = GST_MESH_SIGNAL_OFFER;
  else if (!strcmp (event, "answer"))
    msg->kind = GST_MESH_SIGNAL_ANSWER;
  else if (!strcmp (event, "candidate"))
    msg->kind = GST_MESH_SIGNAL_CANDIDATE;
  else if (!strcmp (event, "hangup"))
    msg->kind = GST_MESH_SIGNAL_HANGUP;
  else {
    gchar *got = excerpt (event, 32);
    g_set_error (error, GST_MESH_SIGNAL_ERROR,
        GST_MESH_SIGNAL_ERROR_UNKNOWN_EVENT, "unknown signalling event "
        "\"%s\"", got);
    g_free (got);
    goto fail;
  }

  if (!args || json_array_get_length (args) < 1) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "%s: no payload", event);
    goto fail;
  }
  payload = json_array_get_element (args, 0);
  if (!JSON_NODE_HOLDS_OBJECT (payload)) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "%s: payload must be an object, got %s", event,
        node_type_name (payload));
    goto fail;
  }
  obj = json_node_get_object (payload);

  if (!get_optional_string (obj, event, "from", MAX_ID_LENGTH, &msg->from,
          error) ||
      !get_optional_string (obj, event, "to", MAX_ID_LENGTH, &msg->to, error))
    goto fail;

  if (msg->kind == GST_MESH_SIGNAL_CANDIDATE)
    ok = parse_candidate (msg, obj, error);
  else if (msg->kind == GST_MESH_SIGNAL_HANGUP)
    ok = get_optional_string (obj, event, "reason", MAX_REASON_LENGTH,
        &msg->reason, error);
  else
    ok = parse_description (msg, event, obj, error);
  if (!ok)
    goto fail;
  return msg;

fail:
  gst_mesh_signal_message_free (msg);
  return NULL;
}

void
gst_mesh_signal_message_free (GstMeshSignalMessage * msg)
{
  if (!msg)
    return;
  g_free (msg->sdp);
  if (msg->sdp_message)
    gst_sdp_message_free (msg->sdp_message);
  g_free (msg->candidate);
  g_free (msg->sdp_mid);
  g_free (msg->reason);
  g_free (msg->from);
  g_free (msg->to);
  g_free (msg);
}

static JsonArray *
wrap_object (JsonObject * obj)
{
  JsonArray *args = json_array_new ();
  json_array_add_object_element (args, obj);
  return args;
}

JsonArray *
gst_mesh_signal_description_args (GstMeshSignalKind kind, const gchar * sdp,
    const gchar * to)
{
  JsonObject *obj = json_object_new ();

  g_return_val_if_fail (kind == GST_MESH_SIGNAL_OFFER ||
      kind == GST_MESH_SIGNAL_ANSWER, NULL);

  /* the member order of RTCSessionDescription.toJSON() */
  json_object_set_string_member (obj, "type",
      gst_mesh_signal_kind_to_string (kind));
  json_object_set_string_member (obj, "sdp", sdp);
  if (to)
    json_object_set_string_member (obj, "to", to);
  return wrap_object (obj);
}

JsonArray *
gst_mesh_signal_candidate_args (const gchar * candidate, const gchar * sdp_mid,
    gint sdp_mline_index, const gchar * to)
{
  JsonObject *obj = json_object_new ();

  /* the member order of RTCIceCandidate.toJSON() */
  json_object_set_string_member (obj, "candidate", candidate);
  if (sdp_mid)
    json_object_set_string_member (obj, "sdpMid", sdp_mid);
  else
    json_object_set_null_member (obj, "sdpMid");
  if (sdp_mline_index >= 0)
    json_object_set_int_member (obj, "sdpMLineIndex", sdp_mline_index);
  else
    json_object_set_null_member (obj, "sdpMLineIndex");
  if (to)
    json_object_set_string_member (obj, "to", to);
  return wrap_object (obj);
}

JsonArray *
gst_mesh_signal_hangup_args (const gchar * reason, const gchar * to)
{
  JsonObject *obj = json_object_new ();

  if (reason)
    json_object_set_string_member (obj, "reason", reason);
  if (to)
    json_object_set_string_member (obj, "to", to);
  return wrap_object (obj);
}

static guint64
parse_u64 (const gchar * s)
{
  guint64 v = 0;

  if (!s || !g_ascii_string_to_unsigned (s, 10, 0, G_MAXUINT64, &v, NULL))
    return 0;
  return v;
}

guint64
gst_mesh_signal_session_id (const GstSDPMessage * sdp)
{
  const GstSDPOrigin *o = gst_sdp_message_get_origin (sdp);
  return o ? parse_u64 (o->sess_id) : 0;
}

guint64
gst_mesh_signal_session_version (const GstSDPMessage * sdp)
{
  const GstSDPOrigin *o = gst_sdp_message_get_origin (sdp);
  return o ? parse_u64 (o->sess_version) : 0;
}

/* ------------------------------------------------------------------------ */
/* Rooms: join, its acknowledgement, peer-joined, peer-left                 */

JsonArray *
gst_mesh_signal_join_args (const gchar * room, const gchar * uid)
{
  JsonObject *obj = json_object_new ();

  g_return_val_if_fail (room != NULL, NULL);

  json_object_set_string_member (obj, "room", room);
  if (uid)
    json_object_set_string_member (obj, "uid", uid);
  return wrap_object (obj);
}

void
gst_mesh_room_member_free (GstMeshRoomMember * member)
{
  if (!member)
    return;
  g_free (member->id);
  g_free (member->uid);
  g_free (member);
}

void
gst_mesh_signal_room_info_free (GstMeshRoomInfo * info)
{
  if (!info)
    return;
  g_free (info->id);
  g_free (info->room);
  if (info->members)
    g_ptr_array_unref (info->members);
  g_free (info);
}

/* A required, non-empty string member of at most @max_len bytes. */
static gboolean
get_required_string (JsonObject * obj, const gchar * event,
    const gchar * member, gsize max_len, gchar ** out, GError ** error)
{
  if (!get_optional_string (obj, event, member, max_len, out, error))
    return FALSE;
  if (!*out || !**out) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "%s: \"%s\" is missing or empty", event, member);
    g_clear_pointer (out, g_free);
    return FALSE;
  }
  return TRUE;
}

static JsonObject *
first_object (const gchar * event, JsonArray * args, GError ** error)
{
  JsonNode *payload;

  if (!args || json_array_get_length (args) < 1) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "%s: no payload", event);
    return NULL;
  }
  payload = json_array_get_element (args, 0);
  if (!JSON_NODE_HOLDS_OBJECT (payload)) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "%s: payload must be an object, got %s", event,
        node_type_name (payload));
    return NULL;
  }
  return json_node_get_object (payload);
}

GstMeshRoomInfo *
gst_mesh_signal_room_info_parse (JsonArray * args, GError ** error)
{
  GstMeshRoomInfo *info;
  JsonObject *obj, *uids = NULL;
  JsonNode *node;
  JsonArray *peers;
  gchar *text = NULL;

  if (!(obj = first_object ("join", args, error)))
    return NULL;

  /* the server said no: pass its words on */
  if ((node = json_object_get_member (obj, "error"))) {
    if (node_is_string (node))
      text = excerpt (json_node_get_string (node), 200);
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "join refused: %s", text ? text : "(no reason given)");
    g_free (text);
    return NULL;
  }

  info = g_new0 (GstMeshRoomInfo, 1);
  info->members = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_mesh_room_member_free);
  if (!get_required_string (obj, "join", "id", MAX_ID_LENGTH, &info->id,
          error) ||
      !get_required_string (obj, "join", "room", MAX_ID_LENGTH, &info->room,
          error))
    goto fail;

  node = json_object_get_member (obj, "peers");
  if (!node || !JSON_NODE_HOLDS_ARRAY (node)) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "join: \"peers\" must be an array, got %s", node_type_name (node));
    goto fail;
  }
  peers = json_node_get_array (node);

  node = json_object_get_member (obj, "uids");
  if (node && JSON_NODE_HOLDS_OBJECT (node))
    uids = json_node_get_object (node);
  else if (node && !JSON_NODE_HOLDS_NULL (node)) {
    g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
        "join: \"uids\" must be an object, got %s", node_type_name (node));
    goto fail;
  }

  for (guint i = 0; i < json_array_get_length (peers); i++) {
    JsonNode *p = json_array_get_element (peers, i);
    GstMeshRoomMember *m;
    const gchar *id;

    if (!node_is_string (p) || !*(id = json_node_get_string (p)) ||
        strlen (id) > MAX_ID_LENGTH) {
      g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
          "join: \"peers\"[%u] must be a socket id (a string of 1 to %d "
          "bytes), got %s", i, MAX_ID_LENGTH, node_type_name (p));
      goto fail;
    }
    m = g_new0 (GstMeshRoomMember, 1);
    m->id = g_strdup (id);
    if (uids && !get_optional_string (uids, "join", id, MAX_ID_LENGTH,
            &m->uid, error)) {
      gst_mesh_room_member_free (m);
      goto fail;
    }
    g_ptr_array_add (info->members, m);
  }
  return info;

fail:
  gst_mesh_signal_room_info_free (info);
  return NULL;
}

GstMeshRoomMember *
gst_mesh_signal_room_member_parse (const gchar * event, JsonArray * args,
    GError ** error)
{
  GstMeshRoomMember *m;
  JsonObject *obj;

  g_return_val_if_fail (event != NULL, NULL);

  if (!(obj = first_object (event, args, error)))
    return NULL;
  m = g_new0 (GstMeshRoomMember, 1);
  if (!get_required_string (obj, event, "id", MAX_ID_LENGTH, &m->id, error) ||
      !get_optional_string (obj, event, "uid", MAX_ID_LENGTH, &m->uid,
          error)) {
    gst_mesh_room_member_free (m);
    return NULL;
  }
  if (json_object_has_member (obj, "offer")) {
    JsonNode *node = json_object_get_member (obj, "offer");

    if (!JSON_NODE_HOLDS_VALUE (node) ||
        json_node_get_value_type (node) != G_TYPE_BOOLEAN) {
      g_set_error (error, GST_MESH_SIGNAL_ERROR, GST_MESH_SIGNAL_ERROR_SHAPE,
          "%s: \"offer\" must be true or false, got %s", event,
          node_type_name (node));
      gst_mesh_room_member_free (m);
      return NULL;
    }
    m->offer = json_node_get_boolean (node);
  }
  return m;
}
