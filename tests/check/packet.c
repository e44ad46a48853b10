/* gst-mesh: unit tests for the Engine.IO / Socket.IO packet codec.
 *
 * Expected texts come from the reference implementations (engine.io-parser
 * 5.2, socket.io-parser 4.2, JSON.stringify() in Node 20). Every decoder
 * input is copied into a heap buffer of exactly its length first, so that
 * AddressSanitizer catches any read past the end: the decoders must not
 * rely on a terminating NUL.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/check/gstcheck.h>
#include <gst/mesh/gstmeshpacket.h>

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static gchar *
dup_exact (const gchar * text, gsize len)
{
  return len ? g_memdup2 (text, len) : NULL;
}

static GstMeshEioPacket *
eio_decode_len (const gchar * text, gsize len, GError ** error)
{
  gchar *copy = dup_exact (text, len);
  GstMeshEioPacket *packet = gst_mesh_eio_packet_decode (copy, len, error);

  g_free (copy);
  return packet;
}

static GPtrArray *
eio_payload_decode_len (const gchar * text, gsize len, GError ** error)
{
  gchar *copy = dup_exact (text, len);
  GPtrArray *packets = gst_mesh_eio_payload_decode (copy, len, error);

  g_free (copy);
  return packets;
}

static GstMeshSioPacket *
sio_decode_len (const gchar * text, gsize len, GError ** error)
{
  gchar *copy = dup_exact (text, len);
  GstMeshSioPacket *packet = gst_mesh_sio_packet_decode (copy, len, error);

  g_free (copy);
  return packet;
}

static GstMeshSioPacket *
sio_decode (const gchar * text)
{
  GError *error = NULL;
  GstMeshSioPacket *packet = sio_decode_len (text, strlen (text), &error);

  fail_unless (packet != NULL, "decoding '%s' failed: %s", text,
      error ? error->message : "(no error set)");
  fail_unless (error == NULL);
  return packet;
}

/* Decodes @text, which must succeed, and checks that encoding the result
 * gives @expected back (socket.io-parser's encoder output). */
static void
check_sio_reencode (const gchar * text, const gchar * expected)
{
  GstMeshSioPacket *packet = sio_decode (text);
  gchar *encoded = gst_mesh_sio_packet_encode (packet);

  fail_unless_equals_string (encoded, expected);
  g_free (encoded);
  gst_mesh_sio_packet_free (packet);
}

static void
check_sio_roundtrip (const gchar * text)
{
  check_sio_reencode (text, text);
}

static void
check_error (GError * error, const gchar * input, gint code,
    const gchar * fragment)
{
  fail_unless (error != NULL, "'%s' was accepted", input);
  fail_unless (error->domain == GST_MESH_PACKET_ERROR,
      "'%s': wrong error domain for '%s'", input, error->message);
  fail_unless (error->code == code, "'%s': error code %d, expected %d (%s)",
      input, error->code, code, error->message);
  fail_unless (strstr (error->message, fragment) != NULL,
      "'%s': message \"%s\" does not mention \"%s\"", input, error->message,
      fragment);
}

static void
check_sio_error_len (const gchar * text, gsize len, gint code,
    const gchar * fragment)
{
  GError *error = NULL;
  GstMeshSioPacket *packet = sio_decode_len (text, len, &error);

  fail_unless (packet == NULL, "'%s' decoded", text);
  check_error (error, text, code, fragment);
  g_error_free (error);
}

static void
check_sio_error (const gchar * text, gint code, const gchar * fragment)
{
  check_sio_error_len (text, strlen (text), code, fragment);
}

static void
check_eio_error_len (const gchar * text, gsize len, gint code,
    const gchar * fragment)
{
  GError *error = NULL;
  GstMeshEioPacket *packet = eio_decode_len (text, len, &error);

  fail_unless (packet == NULL, "'%s' decoded", text);
  check_error (error, text, code, fragment);
  g_error_free (error);
}

static void
check_eio_error (const gchar * text, gint code, const gchar * fragment)
{
  check_eio_error_len (text, strlen (text), code, fragment);
}

static void
check_payload_error_len (const gchar * text, gsize len, gint code,
    const gchar * fragment)
{
  GError *error = NULL;
  GPtrArray *packets = eio_payload_decode_len (text, len, &error);

  fail_unless (packets == NULL, "payload '%s' decoded", text);
  check_error (error, text, code, fragment);
  g_error_free (error);
}

static void
check_payload_error (const gchar * text, gint code, const gchar * fragment)
{
  check_payload_error_len (text, strlen (text), code, fragment);
}

static gchar *
json_string (JsonNode * node)
{
  gchar *text = gst_mesh_json_to_string (node);

  json_node_unref (node);
  return text;
}

static void
check_json (JsonNode * node, const gchar * expected)
{
  gchar *text = json_string (node);

  fail_unless_equals_string (text, expected);
  g_free (text);
}

static JsonNode *
double_node (gdouble d)
{
  JsonNode *node = json_node_alloc ();

  return json_node_init_double (node, d);
}

static JsonNode *
int_node (gint64 i)
{
  JsonNode *node = json_node_alloc ();

  return json_node_init_int (node, i);
}

static JsonNode *
string_node (const gchar * s)
{
  JsonNode *node = json_node_alloc ();

  return json_node_init_string (node, s);
}

static void
check_bytes (GBytes * bytes, const guint8 * expected, gsize len)
{
  gsize size = 0;
  const guint8 *data;

  fail_unless (bytes != NULL);
  data = g_bytes_get_data (bytes, &size);
  fail_unless_equals_uint64 (size, len);
  fail_unless (memcmp (data, expected, len) == 0);
}

/* ------------------------------------------------------------------------ */
/* Engine.IO packets                                                        */
/* ------------------------------------------------------------------------ */

GST_START_TEST (test_eio_decode_each_type)
{
  static const struct
  {
    const gchar *wire;
    GstMeshEioType type;
    const gchar *text;
  } cases[] = {
    {"0{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"pingInterval\":25000}",
        GST_MESH_EIO_OPEN,
        "{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"pingInterval\":25000}"},
    {"1", GST_MESH_EIO_CLOSE, ""},
    {"2", GST_MESH_EIO_PING, ""},
    {"2probe", GST_MESH_EIO_PING, "probe"},
    {"3probe", GST_MESH_EIO_PONG, "probe"},
    {"4hello", GST_MESH_EIO_MESSAGE, "hello"},
    {"5", GST_MESH_EIO_UPGRADE, ""},
    {"6", GST_MESH_EIO_NOOP, ""},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GError *error = NULL;
    GstMeshEioPacket *packet = eio_decode_len (cases[i].wire,
        strlen (cases[i].wire), &error);
    gsize len = 99;
    const gchar *text;

    fail_unless (packet != NULL, "%s: %s", cases[i].wire,
        error ? error->message : "");
    fail_unless_equals_int (packet->type, cases[i].type);
    fail_if (packet->binary);
    text = gst_mesh_eio_packet_get_text (packet, &len);
    fail_unless_equals_string (text, cases[i].text);
    fail_unless_equals_uint64 (len, strlen (cases[i].text));
    /* An empty payload is no data at all, as the header documents. */
    fail_unless_equals_int (packet->data == NULL, cases[i].text[0] == '\0');
    gst_mesh_eio_packet_free (packet);
  }
}

GST_END_TEST;

GST_START_TEST (test_eio_encode_each_type)
{
  static const struct
  {
    GstMeshEioType type;
    const gchar *text;
    const gchar *wire;
  } cases[] = {
    {GST_MESH_EIO_OPEN, "{\"sid\":\"x\"}", "0{\"sid\":\"x\"}"},
    {GST_MESH_EIO_CLOSE, NULL, "1"},
    {GST_MESH_EIO_PING, "", "2"},
    {GST_MESH_EIO_PING, "probe", "2probe"},
    {GST_MESH_EIO_PONG, "probe", "3probe"},
    {GST_MESH_EIO_MESSAGE, "2[\"hi\"]", "42[\"hi\"]"},
    {GST_MESH_EIO_UPGRADE, NULL, "5"},
    {GST_MESH_EIO_NOOP, NULL, "6"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstMeshEioPacket *packet = gst_mesh_eio_packet_new (cases[i].type,
        cases[i].text);
    gchar *wire = gst_mesh_eio_packet_encode (packet);

    fail_unless_equals_string (wire, cases[i].wire);
    g_free (wire);
    gst_mesh_eio_packet_free (packet);
  }
}

GST_END_TEST;

GST_START_TEST (test_eio_text_is_nul_terminated_within_length)
{
  /* Only the first three bytes belong to the packet. */
  static const gchar frame[] = "4hiXXXX";
  GstMeshEioPacket *packet = eio_decode_len (frame, 3, NULL);
  gsize len = 0;

  fail_unless (packet != NULL);
  fail_unless_equals_string (gst_mesh_eio_packet_get_text (packet, &len),
      "hi");
  fail_unless_equals_uint64 (len, 2);
  gst_mesh_eio_packet_free (packet);
}

GST_END_TEST;

/* What the server sends: text from a GBytes, which has no NUL after it. */
GST_START_TEST (test_eio_text_packet_from_counted_bytes)
{
  gchar *buffer = g_memdup2 ("helloXXX", 8);
  GstMeshEioPacket *packet;
  const gchar *text;
  gchar *wire;
  gsize len = 0;

  packet = gst_mesh_eio_packet_new_text (GST_MESH_EIO_MESSAGE, buffer, 5);
  g_free (buffer);
  fail_unless (!packet->binary);
  text = gst_mesh_eio_packet_get_text (packet, &len);
  fail_unless_equals_uint64 (len, 5);
  fail_unless (text[len] == '\0');
  fail_unless_equals_string (text, "hello");
  wire = gst_mesh_eio_packet_encode (packet);
  fail_unless_equals_string (wire, "4hello");
  g_free (wire);
  gst_mesh_eio_packet_free (packet);

  packet = gst_mesh_eio_packet_new_text (GST_MESH_EIO_MESSAGE, NULL, 0);
  fail_unless (packet->data == NULL);
  fail_unless_equals_string (gst_mesh_eio_packet_get_text (packet, &len), "");
  fail_unless_equals_uint64 (len, 0);
  gst_mesh_eio_packet_free (packet);
}

GST_END_TEST;

GST_START_TEST (test_eio_decode_binary_frame)
{
  static const guint8 raw[] = { 0x00, 0x01, 0xff, 0x34 };
  GBytes *bytes = g_bytes_new (raw, sizeof raw);
  GstMeshEioPacket *packet = gst_mesh_eio_packet_decode_binary (bytes);
  gchar *wire;
  gsize len = 99;

  g_bytes_unref (bytes);
  fail_unless (packet != NULL);
  fail_unless_equals_int (packet->type, GST_MESH_EIO_MESSAGE);
  fail_unless (packet->binary);
  check_bytes (packet->data, raw, sizeof raw);
  /* Binary messages have no text. */
  fail_unless (gst_mesh_eio_packet_get_text (packet, &len) == NULL);
  fail_unless_equals_uint64 (len, 0);
  /* Their only text form is the polling one. */
  wire = gst_mesh_eio_packet_encode (packet);
  fail_unless_equals_string (wire, "bAAH/NA==");
  g_free (wire);
  gst_mesh_eio_packet_free (packet);
}

GST_END_TEST;

GST_START_TEST (test_eio_decode_empty_binary_frame)
{
  GBytes *bytes = g_bytes_new (NULL, 0);
  GstMeshEioPacket *packet = gst_mesh_eio_packet_decode_binary (bytes);
  gchar *wire;

  g_bytes_unref (bytes);
  fail_unless (packet->binary);
  fail_unless (packet->data == NULL);
  wire = gst_mesh_eio_packet_encode (packet);
  fail_unless_equals_string (wire, "b");
  g_free (wire);
  gst_mesh_eio_packet_free (packet);
}

GST_END_TEST;

GST_START_TEST (test_eio_decode_base64_packet)
{
  static const guint8 one_two_three[] = { 1, 2, 3 };
  static const guint8 one[] = { 1 };
  GstMeshEioPacket *packet;

  /* engine.io-parser treats "b" as a binary message wherever it appears. */
  packet = eio_decode_len ("bAQID", 5, NULL);
  fail_unless (packet != NULL);
  fail_unless (packet->binary);
  fail_unless_equals_int (packet->type, GST_MESH_EIO_MESSAGE);
  check_bytes (packet->data, one_two_three, 3);
  gst_mesh_eio_packet_free (packet);

  /* Padding is optional, as with Node's Buffer.from (s, "base64"). */
  packet = eio_decode_len ("bAQ==", 5, NULL);
  fail_unless (packet != NULL);
  check_bytes (packet->data, one, 1);
  gst_mesh_eio_packet_free (packet);

  packet = eio_decode_len ("bAQ", 3, NULL);
  fail_unless (packet != NULL);
  check_bytes (packet->data, one, 1);
  gst_mesh_eio_packet_free (packet);

  packet = eio_decode_len ("b", 1, NULL);
  fail_unless (packet != NULL);
  fail_unless (packet->binary);
  fail_unless (packet->data == NULL);
  gst_mesh_eio_packet_free (packet);
}

GST_END_TEST;

GST_START_TEST (test_eio_decode_empty)
{
  check_eio_error_len ("", 0, GST_MESH_PACKET_ERROR_EMPTY,
      "empty Engine.IO packet");
}

GST_END_TEST;

GST_START_TEST (test_eio_decode_bad_type_digit)
{
  check_eio_error ("7", GST_MESH_PACKET_ERROR_TYPE,
      "invalid Engine.IO packet type '7'");
  check_eio_error ("9hello", GST_MESH_PACKET_ERROR_TYPE, "'9'");
  check_eio_error ("xyz", GST_MESH_PACKET_ERROR_TYPE, "'x'");
  check_eio_error ("\x1f", GST_MESH_PACKET_ERROR_TYPE, "byte 0x1f");
  check_eio_error ("\xc3\xa9", GST_MESH_PACKET_ERROR_TYPE, "byte 0xc3");
}

GST_END_TEST;

GST_START_TEST (test_eio_decode_bad_base64)
{
  check_eio_error ("bAQ!D", GST_MESH_PACKET_ERROR_BASE64,
      "invalid base64 character '!' at offset 3");
  check_eio_error ("bA QI", GST_MESH_PACKET_ERROR_BASE64, "' ' at offset 2");
  check_eio_error ("bA=Q=", GST_MESH_PACKET_ERROR_BASE64, "'=' at offset 2");
  check_eio_error ("bAQIDB=", GST_MESH_PACKET_ERROR_BASE64,
      "padded base64 at offset 1 has length 6, not a multiple of 4");
  check_eio_error ("b=AAA", GST_MESH_PACKET_ERROR_BASE64, "'=' at offset 1");
  check_eio_error ("bA===", GST_MESH_PACKET_ERROR_BASE64, "'=' at offset 2");
  check_eio_error ("bAQ-_", GST_MESH_PACKET_ERROR_BASE64, "'-'");
}

GST_END_TEST;

GST_START_TEST (test_eio_decode_truncated_base64)
{
  check_eio_error ("bA", GST_MESH_PACKET_ERROR_BASE64, "truncated");
  check_eio_error ("bAQIDBAUGB", GST_MESH_PACKET_ERROR_BASE64,
      "base64 at offset 1 is truncated");
}

GST_END_TEST;

GST_START_TEST (test_eio_decode_invalid_utf8)
{
  check_eio_error ("4\xff", GST_MESH_PACKET_ERROR_UTF8,
      "not valid UTF-8 at offset 1");
  /* A multi-byte sequence cut off by the end of the frame. */
  check_eio_error ("4ab\xc3", GST_MESH_PACKET_ERROR_UTF8, "offset 3");
  check_eio_error ("4\xed\xa0\x80", GST_MESH_PACKET_ERROR_UTF8, "offset 1");
  check_eio_error_len ("4a\0b", 4, GST_MESH_PACKET_ERROR_UTF8,
      "NUL byte at offset 2");
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Engine.IO polling payloads                                               */
/* ------------------------------------------------------------------------ */

GST_START_TEST (test_eio_payload_several_packets)
{
  static const gchar body[] = "2\x1e" "4hello\x1e" "42[\"a\",1]\x1e" "6";
  GError *error = NULL;
  GPtrArray *packets = eio_payload_decode_len (body, strlen (body), &error);
  GstMeshEioPacket *p;
  gchar *wire;

  fail_unless (packets != NULL, "%s", error ? error->message : "");
  fail_unless_equals_int (packets->len, 4);
  p = g_ptr_array_index (packets, 0);
  fail_unless_equals_int (p->type, GST_MESH_EIO_PING);
  fail_unless (p->data == NULL);
  p = g_ptr_array_index (packets, 1);
  fail_unless_equals_int (p->type, GST_MESH_EIO_MESSAGE);
  fail_unless_equals_string (gst_mesh_eio_packet_get_text (p, NULL), "hello");
  p = g_ptr_array_index (packets, 2);
  fail_unless_equals_string (gst_mesh_eio_packet_get_text (p, NULL),
      "2[\"a\",1]");
  p = g_ptr_array_index (packets, 3);
  fail_unless_equals_int (p->type, GST_MESH_EIO_NOOP);

  wire = gst_mesh_eio_payload_encode ((GstMeshEioPacket * const *)
      packets->pdata, packets->len);
  fail_unless_equals_string (wire, body);
  g_free (wire);
  g_ptr_array_unref (packets);
}

GST_END_TEST;

GST_START_TEST (test_eio_payload_single_packet)
{
  GPtrArray *packets = eio_payload_decode_len ("4hi", 3, NULL);

  fail_unless (packets != NULL);
  fail_unless_equals_int (packets->len, 1);
  fail_unless_equals_string (gst_mesh_eio_packet_get_text
      (g_ptr_array_index (packets, 0), NULL), "hi");
  g_ptr_array_unref (packets);
}

GST_END_TEST;

GST_START_TEST (test_eio_payload_with_binary_packet)
{
  static const gchar body[] = "451-[\"up\",{\"_placeholder\":true,\"num\":0}]"
      "\x1e" "bAQIDBA==";
  static const guint8 raw[] = { 1, 2, 3, 4 };
  GPtrArray *packets = eio_payload_decode_len (body, strlen (body), NULL);
  GstMeshEioPacket *p;
  gchar *wire;

  fail_unless (packets != NULL);
  fail_unless_equals_int (packets->len, 2);
  p = g_ptr_array_index (packets, 0);
  fail_if (p->binary);
  p = g_ptr_array_index (packets, 1);
  fail_unless (p->binary);
  fail_unless_equals_int (p->type, GST_MESH_EIO_MESSAGE);
  check_bytes (p->data, raw, sizeof raw);

  wire = gst_mesh_eio_payload_encode ((GstMeshEioPacket * const *)
      packets->pdata, packets->len);
  fail_unless_equals_string (wire, body);
  g_free (wire);
  g_ptr_array_unref (packets);
}

GST_END_TEST;

GST_START_TEST (test_eio_payload_encode_mixed)
{
  static const guint8 raw[] = { 0xde, 0xad, 0xbe, 0xef, 0x00 };
  GBytes *bytes = g_bytes_new (raw, sizeof raw);
  GstMeshEioPacket *packets[3];
  gchar *wire;

  packets[0] = gst_mesh_eio_packet_new (GST_MESH_EIO_MESSAGE, "2[\"x\"]");
  packets[1] = gst_mesh_eio_packet_new_binary (bytes);
  packets[2] = gst_mesh_eio_packet_new (GST_MESH_EIO_PONG, NULL);
  g_bytes_unref (bytes);

  wire = gst_mesh_eio_payload_encode (packets, 3);
  fail_unless_equals_string (wire, "42[\"x\"]\x1e" "b3q2+7wA=\x1e" "3");
  g_free (wire);

  wire = gst_mesh_eio_payload_encode (packets, 0);
  fail_unless_equals_string (wire, "");
  g_free (wire);

  gst_mesh_eio_packet_free (packets[0]);
  gst_mesh_eio_packet_free (packets[1]);
  gst_mesh_eio_packet_free (packets[2]);
}

GST_END_TEST;

GST_START_TEST (test_eio_payload_empty)
{
  check_payload_error_len ("", 0, GST_MESH_PACKET_ERROR_EMPTY,
      "empty polling payload");
}

GST_END_TEST;

GST_START_TEST (test_eio_payload_empty_record)
{
  check_payload_error ("4a\x1e\x1e" "4b", GST_MESH_PACKET_ERROR_EMPTY,
      "packet 1 of polling payload: empty Engine.IO packet at offset 3");
  check_payload_error ("\x1e" "4a", GST_MESH_PACKET_ERROR_EMPTY,
      "packet 0 of polling payload");
  check_payload_error ("4a\x1e", GST_MESH_PACKET_ERROR_EMPTY,
      "packet 1 of polling payload");
  check_payload_error ("\x1e", GST_MESH_PACKET_ERROR_EMPTY, "packet 0");
}

GST_END_TEST;

GST_START_TEST (test_eio_payload_bad_packet)
{
  check_payload_error ("4a\x1e" "9x", GST_MESH_PACKET_ERROR_TYPE,
      "packet 1 of polling payload: invalid Engine.IO packet type '9' "
      "at offset 3");
  check_payload_error ("4a\x1e" "4b\x1e" "b*", GST_MESH_PACKET_ERROR_BASE64,
      "packet 2 of polling payload: invalid base64 character '*' at offset 7");
}

GST_END_TEST;

GST_START_TEST (test_eio_payload_invalid_utf8)
{
  check_payload_error ("4a\x1e" "4\xfe", GST_MESH_PACKET_ERROR_UTF8,
      "polling payload is not valid UTF-8 at offset 4");
  check_payload_error_len ("4a\x1e" "4\0", 5, GST_MESH_PACKET_ERROR_UTF8,
      "NUL byte at offset 4");
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Socket.IO: the protocol document's examples, both ways                   */
/* ------------------------------------------------------------------------ */

GST_START_TEST (test_sio_connect)
{
  GstMeshSioPacket *packet = sio_decode ("0");

  fail_unless_equals_int (packet->type, GST_MESH_SIO_CONNECT);
  fail_unless_equals_string (packet->nsp, "/");
  fail_unless_equals_int64 (packet->id, GST_MESH_SIO_NO_ID);
  fail_unless (packet->data == NULL);
  fail_unless (gst_mesh_sio_packet_is_complete (packet));
  gst_mesh_sio_packet_free (packet);

  check_sio_roundtrip ("0");
}

GST_END_TEST;

GST_START_TEST (test_sio_connect_with_auth)
{
  GstMeshSioPacket *packet = sio_decode ("0{\"token\":\"x\"}");
  JsonObject *auth;

  fail_unless_equals_int (packet->type, GST_MESH_SIO_CONNECT);
  fail_unless (JSON_NODE_HOLDS_OBJECT (packet->data));
  auth = json_node_get_object (packet->data);
  fail_unless_equals_string (json_object_get_string_member (auth, "token"),
      "x");
  gst_mesh_sio_packet_free (packet);

  check_sio_roundtrip ("0{\"token\":\"x\"}");
}

GST_END_TEST;

GST_START_TEST (test_sio_connect_namespace)
{
  GstMeshSioPacket *packet = sio_decode ("0/admin,{\"sid\":\"abc\"}");

  fail_unless_equals_int (packet->type, GST_MESH_SIO_CONNECT);
  fail_unless_equals_string (packet->nsp, "/admin");
  fail_unless_equals_string (json_object_get_string_member
      (json_node_get_object (packet->data), "sid"), "abc");
  gst_mesh_sio_packet_free (packet);

  check_sio_roundtrip ("0/admin,{\"sid\":\"abc\"}");
}

GST_END_TEST;

GST_START_TEST (test_sio_event)
{
  GstMeshSioPacket *packet = sio_decode ("2[\"hello\",1]");
  JsonArray *args;

  fail_unless_equals_int (packet->type, GST_MESH_SIO_EVENT);
  fail_unless_equals_string (packet->nsp, "/");
  fail_unless_equals_int64 (packet->id, GST_MESH_SIO_NO_ID);
  fail_unless_equals_string (gst_mesh_sio_packet_get_event_name (packet),
      "hello");
  args = gst_mesh_sio_packet_dup_event_args (packet);
  fail_unless_equals_int (json_array_get_length (args), 1);
  fail_unless_equals_int64 (json_array_get_int_element (args, 0), 1);
  json_array_unref (args);
  gst_mesh_sio_packet_free (packet);

  check_sio_roundtrip ("2[\"hello\",1]");
}

GST_END_TEST;

GST_START_TEST (test_sio_event_namespace_and_ack_id)
{
  GstMeshSioPacket *packet = sio_decode ("2/chat,12[\"hi\"]");

  fail_unless_equals_int (packet->type, GST_MESH_SIO_EVENT);
  fail_unless_equals_string (packet->nsp, "/chat");
  fail_unless_equals_int64 (packet->id, 12);
  fail_unless_equals_string (gst_mesh_sio_packet_get_event_name (packet),
      "hi");
  gst_mesh_sio_packet_free (packet);

  check_sio_roundtrip ("2/chat,12[\"hi\"]");
}

GST_END_TEST;

GST_START_TEST (test_sio_ack)
{
  GstMeshSioPacket *packet = sio_decode ("312[]");
  JsonArray *args;

  fail_unless_equals_int (packet->type, GST_MESH_SIO_ACK);
  fail_unless_equals_int64 (packet->id, 12);
  fail_unless (JSON_NODE_HOLDS_ARRAY (packet->data));
  fail_unless_equals_int (json_array_get_length (json_node_get_array
          (packet->data)), 0);
  fail_unless (gst_mesh_sio_packet_get_event_name (packet) == NULL);
  args = gst_mesh_sio_packet_dup_event_args (packet);
  fail_unless_equals_int (json_array_get_length (args), 0);
  json_array_unref (args);
  gst_mesh_sio_packet_free (packet);

  check_sio_roundtrip ("312[]");
  check_sio_roundtrip ("3/chat,4[\"ok\",{\"n\":2}]");
}

GST_END_TEST;

GST_START_TEST (test_sio_binary_event_inside_eio_message)
{
  static const gchar frame[] =
      "451-[\"upload\",{\"_placeholder\":true,\"num\":0}]";
  static const guint8 raw[] = { 0xca, 0xfe };
  GstMeshEioPacket *message = eio_decode_len (frame, strlen (frame), NULL);
  GstMeshSioPacket *packet;
  GBytes *bytes;
  const gchar *text;
  gsize len;
  gchar *wire;

  fail_unless (message != NULL);
  fail_unless_equals_int (message->type, GST_MESH_EIO_MESSAGE);
  text = gst_mesh_eio_packet_get_text (message, &len);

  packet = sio_decode_len (text, len, NULL);
  fail_unless (packet != NULL);
  fail_unless_equals_int (packet->type, GST_MESH_SIO_BINARY_EVENT);
  fail_unless_equals_int (packet->n_attachments, 1);
  fail_unless_equals_string (gst_mesh_sio_packet_get_event_name (packet),
      "upload");
  fail_if (gst_mesh_sio_packet_is_complete (packet));

  bytes = g_bytes_new (raw, sizeof raw);
  fail_unless (gst_mesh_sio_packet_add_attachment (packet, bytes));
  g_bytes_unref (bytes);
  fail_unless (gst_mesh_sio_packet_is_complete (packet));
  fail_unless_equals_int (packet->attachments->len, 1);
  check_bytes (g_ptr_array_index (packet->attachments, 0), raw, sizeof raw);

  wire = gst_mesh_sio_packet_encode (packet);
  fail_unless_equals_string (wire, text);
  g_free (wire);

  gst_mesh_sio_packet_free (packet);
  gst_mesh_eio_packet_free (message);

  /* As a Socket.IO packet on its own it is a CONNECT_ERROR with an ack id
   * followed by garbage, which socket.io-parser rejects too. */
  check_sio_error (frame, GST_MESH_PACKET_ERROR_JSON,
      "CONNECT_ERROR packet: invalid JSON at offset 4");
}

GST_END_TEST;

GST_START_TEST (test_sio_connect_error)
{
  GstMeshSioPacket *packet = sio_decode ("4{\"message\":\"Not authorized\"}");

  fail_unless_equals_int (packet->type, GST_MESH_SIO_CONNECT_ERROR);
  fail_unless_equals_string (json_object_get_string_member
      (json_node_get_object (packet->data), "message"), "Not authorized");
  gst_mesh_sio_packet_free (packet);

  check_sio_roundtrip ("4{\"message\":\"Not authorized\"}");
  check_sio_roundtrip ("4\"Invalid namespace\"");
  check_sio_roundtrip ("4/admin,{\"message\":\"no\",\"data\":{\"a\":1}}");
}

GST_END_TEST;

GST_START_TEST (test_sio_disconnect)
{
  GstMeshSioPacket *packet = sio_decode ("1");

  fail_unless_equals_int (packet->type, GST_MESH_SIO_DISCONNECT);
  fail_unless_equals_string (packet->nsp, "/");
  fail_unless (packet->data == NULL);
  gst_mesh_sio_packet_free (packet);
  check_sio_roundtrip ("1");

  packet = sio_decode ("1/admin,");
  fail_unless_equals_int (packet->type, GST_MESH_SIO_DISCONNECT);
  fail_unless_equals_string (packet->nsp, "/admin");
  fail_unless (packet->data == NULL);
  gst_mesh_sio_packet_free (packet);
  check_sio_roundtrip ("1/admin,");
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Socket.IO: namespaces and ack ids                                        */
/* ------------------------------------------------------------------------ */

GST_START_TEST (test_sio_namespace_root_written_out)
{
  GstMeshSioPacket *packet = sio_decode ("0/,{}");

  fail_unless_equals_string (packet->nsp, "/");
  gst_mesh_sio_packet_free (packet);
  /* socket.io-parser never writes "/" out. */
  check_sio_reencode ("0/,{}", "0{}");
}

GST_END_TEST;

GST_START_TEST (test_sio_namespace_with_odd_characters)
{
  GstMeshSioPacket *packet = sio_decode ("2/a/b-é 1,[\"x\"]");

  fail_unless_equals_string (packet->nsp, "/a/b-é 1");
  fail_unless_equals_int64 (packet->id, GST_MESH_SIO_NO_ID);
  gst_mesh_sio_packet_free (packet);
  check_sio_roundtrip ("2/a/b-é 1,[\"x\"]");
  /* Digits after the comma are the ack id, not the namespace. */
  packet = sio_decode ("2/n1,23[\"x\"]");
  fail_unless_equals_string (packet->nsp, "/n1");
  fail_unless_equals_int64 (packet->id, 23);
  gst_mesh_sio_packet_free (packet);
}

GST_END_TEST;

/* socket.io-parser lets a namespace without its ',' run to the end of the
 * packet, and the official socket.io-protocol test suite sends "40/custom"
 * that way. Nothing can follow such a namespace: what looks like JSON or an
 * ack id is part of the name. */
GST_START_TEST (test_sio_namespace_without_comma_runs_to_the_end)
{
  GstMeshEioPacket *eio;
  GstMeshSioPacket *packet;
  const gchar *text;
  gsize len;

  packet = sio_decode ("0/admin");
  fail_unless_equals_int (packet->type, GST_MESH_SIO_CONNECT);
  fail_unless_equals_string (packet->nsp, "/admin");
  fail_unless_equals_int64 (packet->id, GST_MESH_SIO_NO_ID);
  fail_unless (packet->data == NULL);
  gst_mesh_sio_packet_free (packet);
  /* Our encoder, as socket.io-parser's, always writes the comma. */
  check_sio_reencode ("0/admin", "0/admin,");

  packet = sio_decode ("1/admin");
  fail_unless_equals_int (packet->type, GST_MESH_SIO_DISCONNECT);
  fail_unless_equals_string (packet->nsp, "/admin");
  gst_mesh_sio_packet_free (packet);

  /* "/" alone is the main namespace, written out by nobody. */
  check_sio_reencode ("0/", "0");

  /* In its Engine.IO framing, as the suite sends it. */
  eio = eio_decode_len ("40/custom", 9, NULL);
  fail_unless (eio != NULL);
  text = gst_mesh_eio_packet_get_text (eio, &len);
  packet = sio_decode_len (text, len, NULL);
  fail_unless (packet != NULL);
  fail_unless_equals_int (packet->type, GST_MESH_SIO_CONNECT);
  fail_unless_equals_string (packet->nsp, "/custom");
  fail_unless (packet->data == NULL);
  gst_mesh_sio_packet_free (packet);
  gst_mesh_eio_packet_free (eio);

  /* Digits and JSON without a comma before them are part of the name. */
  packet = sio_decode ("0/n12{}");
  fail_unless_equals_string (packet->nsp, "/n12{}");
  fail_unless_equals_int64 (packet->id, GST_MESH_SIO_NO_ID);
  fail_unless (packet->data == NULL);
  gst_mesh_sio_packet_free (packet);

  /* So an EVENT or a BINARY_EVENT written that way has no payload, which
   * those types cannot do without. */
  check_sio_error ("2/chat[\"hi\"]", GST_MESH_PACKET_ERROR_PAYLOAD,
      "EVENT");
  check_sio_error ("51-/chat", GST_MESH_PACKET_ERROR_PAYLOAD, "EVENT");
}

GST_END_TEST;

GST_START_TEST (test_sio_ack_id_largest)
{
  GstMeshSioPacket *packet = sio_decode ("39223372036854775807[]");

  fail_unless_equals_int64 (packet->id, G_MAXINT64);
  gst_mesh_sio_packet_free (packet);
  check_sio_roundtrip ("39223372036854775807[]");
  check_sio_roundtrip ("30[]");
}

GST_END_TEST;

GST_START_TEST (test_sio_ack_id_overflow)
{
  check_sio_error ("39223372036854775808[]", GST_MESH_PACKET_ERROR_FORMAT,
      "ack id at offset 1 too large");
  check_sio_error ("2/x,99999999999999999999999[\"a\"]",
      GST_MESH_PACKET_ERROR_FORMAT, "ack id at offset 4 too large");
}

GST_END_TEST;

GST_START_TEST (test_sio_ack_id_leading_zeros)
{
  GstMeshSioPacket *packet = sio_decode ("2007[\"a\"]");

  fail_unless_equals_int64 (packet->id, 7);
  gst_mesh_sio_packet_free (packet);
  /* What socket.io-parser prints after reading it. */
  check_sio_reencode ("2007[\"a\"]", "27[\"a\"]");
}

GST_END_TEST;

GST_START_TEST (test_sio_ack_without_payload)
{
  check_sio_error ("312", GST_MESH_PACKET_ERROR_PAYLOAD,
      "ACK packet has no payload");
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Socket.IO: building packets                                              */
/* ------------------------------------------------------------------------ */

GST_START_TEST (test_sio_new_event)
{
  JsonArray *args = json_array_new ();
  JsonObject *obj = json_object_new ();
  GstMeshSioPacket *packet;
  JsonArray *back;
  gchar *wire;

  json_array_add_int_element (args, 1);
  json_array_add_string_element (args, "two");
  json_object_set_null_member (obj, "a");
  json_array_add_object_element (args, obj);

  packet = gst_mesh_sio_packet_new_event ("/chat", 5, "msg", args);
  wire = gst_mesh_sio_packet_encode (packet);
  fail_unless_equals_string (wire, "2/chat,5[\"msg\",1,\"two\",{\"a\":null}]");
  g_free (wire);

  fail_unless_equals_string (gst_mesh_sio_packet_get_event_name (packet),
      "msg");
  back = gst_mesh_sio_packet_dup_event_args (packet);
  fail_unless_equals_int (json_array_get_length (back), 3);
  fail_unless_equals_int64 (json_array_get_int_element (back, 0), 1);
  fail_unless_equals_string (json_array_get_string_element (back, 1), "two");
  fail_unless (json_object_get_null_member (json_array_get_object_element
          (back, 2), "a"));
  json_array_unref (back);

  /* The packet copied the arguments: changing ours does not change it. */
  json_array_add_int_element (args, 4);
  wire = gst_mesh_sio_packet_encode (packet);
  fail_unless_equals_string (wire, "2/chat,5[\"msg\",1,\"two\",{\"a\":null}]");
  g_free (wire);

  json_array_unref (args);
  gst_mesh_sio_packet_free (packet);
}

GST_END_TEST;

GST_START_TEST (test_sio_new_event_defaults)
{
  GstMeshSioPacket *packet = gst_mesh_sio_packet_new_event (NULL,
      GST_MESH_SIO_NO_ID, "ping", NULL);
  JsonArray *args;
  gchar *wire;

  fail_unless_equals_string (packet->nsp, "/");
  wire = gst_mesh_sio_packet_encode (packet);
  fail_unless_equals_string (wire, "2[\"ping\"]");
  g_free (wire);
  args = gst_mesh_sio_packet_dup_event_args (packet);
  fail_unless_equals_int (json_array_get_length (args), 0);
  json_array_unref (args);
  gst_mesh_sio_packet_free (packet);
}

GST_END_TEST;

GST_START_TEST (test_sio_new_packet)
{
  JsonObject *auth = json_object_new ();
  JsonNode *data = json_node_new (JSON_NODE_OBJECT);
  GstMeshSioPacket *packet;
  gchar *wire;

  json_object_set_string_member (auth, "token", "s3cr/t");
  json_node_take_object (data, auth);
  packet = gst_mesh_sio_packet_new (GST_MESH_SIO_CONNECT, "/admin",
      GST_MESH_SIO_NO_ID, data);
  json_node_unref (data);
  wire = gst_mesh_sio_packet_encode (packet);
  fail_unless_equals_string (wire, "0/admin,{\"token\":\"s3cr/t\"}");
  g_free (wire);
  gst_mesh_sio_packet_free (packet);

  /* A JSON null payload is left out, like `null != obj.data` in JS. */
  data = json_node_new (JSON_NODE_NULL);
  packet = gst_mesh_sio_packet_new (GST_MESH_SIO_DISCONNECT, "",
      GST_MESH_SIO_NO_ID, data);
  json_node_unref (data);
  wire = gst_mesh_sio_packet_encode (packet);
  fail_unless_equals_string (wire, "1");
  g_free (wire);
  gst_mesh_sio_packet_free (packet);
}

GST_END_TEST;

GST_START_TEST (test_sio_event_numeric_name)
{
  GstMeshSioPacket *packet = sio_decode ("2[42,\"x\"]");
  JsonArray *args;

  fail_unless (gst_mesh_sio_packet_get_event_name (packet) == NULL);
  args = gst_mesh_sio_packet_dup_event_args (packet);
  fail_unless_equals_int (json_array_get_length (args), 1);
  fail_unless_equals_string (json_array_get_string_element (args, 0), "x");
  json_array_unref (args);
  gst_mesh_sio_packet_free (packet);
  check_sio_roundtrip ("2[42,\"x\"]");
  check_sio_roundtrip ("2[-1.5]");
}

GST_END_TEST;

GST_START_TEST (test_sio_event_args_of_non_event)
{
  GstMeshSioPacket *packet = sio_decode ("0{\"a\":1}");

  fail_unless (gst_mesh_sio_packet_get_event_name (packet) == NULL);
  fail_unless (gst_mesh_sio_packet_dup_event_args (packet) == NULL);
  gst_mesh_sio_packet_free (packet);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Socket.IO: binary packets                                                */
/* ------------------------------------------------------------------------ */

static JsonNode *
placeholder_args (void)
{
  JsonArray *array = json_array_new ();
  JsonObject *placeholder = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  json_object_set_boolean_member (placeholder, "_placeholder", TRUE);
  json_object_set_int_member (placeholder, "num", 0);
  json_array_add_string_element (array, "upload");
  json_array_add_object_element (array, placeholder);
  json_node_take_array (node, array);
  return node;
}

GST_START_TEST (test_sio_binary_event_encode)
{
  JsonNode *data = placeholder_args ();
  GstMeshSioPacket *packet = gst_mesh_sio_packet_new
      (GST_MESH_SIO_BINARY_EVENT, "/", GST_MESH_SIO_NO_ID, data);
  gchar *wire;

  json_node_unref (data);
  packet->n_attachments = 1;
  wire = gst_mesh_sio_packet_encode (packet);
  fail_unless_equals_string (wire,
      "51-[\"upload\",{\"_placeholder\":true,\"num\":0}]");
  g_free (wire);
  gst_mesh_sio_packet_free (packet);
}

GST_END_TEST;

GST_START_TEST (test_sio_binary_ack_with_namespace_and_id)
{
  GstMeshSioPacket *packet =
      sio_decode ("62-/chat,7[{\"_placeholder\":true,\"num\":1},"
      "{\"_placeholder\":true,\"num\":0}]");

  fail_unless_equals_int (packet->type, GST_MESH_SIO_BINARY_ACK);
  fail_unless_equals_int (packet->n_attachments, 2);
  fail_unless_equals_string (packet->nsp, "/chat");
  fail_unless_equals_int64 (packet->id, 7);
  gst_mesh_sio_packet_free (packet);
  check_sio_roundtrip ("62-/chat,7[{\"_placeholder\":true,\"num\":1},"
      "{\"_placeholder\":true,\"num\":0}]");
}

GST_END_TEST;

GST_START_TEST (test_sio_attachments_arrive_in_order)
{
  GstMeshSioPacket *packet =
      sio_decode ("52-[\"a\",{\"x\":[{\"_placeholder\":true,\"num\":1}]},"
      "{\"_placeholder\":true,\"num\":0}]");
  GBytes *att0 = g_bytes_new_static ("first", 5);
  GBytes *att1 = g_bytes_new_static ("second", 6);

  fail_unless_equals_int (packet->n_attachments, 2);
  fail_if (gst_mesh_sio_packet_is_complete (packet));
  fail_if (gst_mesh_sio_packet_add_attachment (packet, att0));
  fail_if (gst_mesh_sio_packet_is_complete (packet));
  fail_unless (gst_mesh_sio_packet_add_attachment (packet, att1));
  fail_unless (gst_mesh_sio_packet_is_complete (packet));
  fail_unless (g_ptr_array_index (packet->attachments, 0) == att0);
  fail_unless (g_ptr_array_index (packet->attachments, 1) == att1);
  g_bytes_unref (att0);
  g_bytes_unref (att1);
  gst_mesh_sio_packet_free (packet);
}

GST_END_TEST;

GST_START_TEST (test_sio_attachments_more_than_announced)
{
  GstMeshSioPacket *packet =
      sio_decode ("51-[\"a\",{\"_placeholder\":true,\"num\":0}]");
  GBytes *bytes = g_bytes_new_static ("x", 1);
  GError *error = NULL;

  fail_unless (gst_mesh_sio_packet_add_attachment (packet, bytes));
  /* A second one is refused and leaves the packet as it was. */
  fail_if (gst_mesh_sio_packet_add_attachment (packet, bytes));
  fail_unless_equals_int (packet->attachments->len, 1);
  fail_if (gst_mesh_sio_packet_add_attachment_full (packet, bytes, &error));
  check_error (error, "second attachment", GST_MESH_PACKET_ERROR_ATTACHMENTS,
      "announced 1");
  g_clear_error (&error);
  fail_unless_equals_int (packet->attachments->len, 1);
  g_bytes_unref (bytes);
  gst_mesh_sio_packet_free (packet);
}

GST_END_TEST;

GST_START_TEST (test_sio_attachment_for_non_binary_packet)
{
  GstMeshSioPacket *packet = sio_decode ("2[\"a\"]");
  GBytes *bytes = g_bytes_new_static ("x", 1);
  GError *error = NULL;

  fail_if (gst_mesh_sio_packet_add_attachment_full (packet, bytes, &error));
  check_error (error, "attachment to EVENT", GST_MESH_PACKET_ERROR_ATTACHMENTS,
      "EVENT packet takes no binary attachments");
  g_clear_error (&error);
  fail_if (gst_mesh_sio_packet_add_attachment (packet, bytes));
  fail_unless_equals_int (packet->attachments->len, 0);
  g_bytes_unref (bytes);
  gst_mesh_sio_packet_free (packet);
}

GST_END_TEST;

GST_START_TEST (test_sio_attachment_count_limit)
{
  GstMeshSioPacket *packet = sio_decode ("51000-[\"a\"]");

  fail_unless_equals_int (packet->n_attachments, 1000);
  gst_mesh_sio_packet_free (packet);

  check_sio_error ("51001-[\"a\"]", GST_MESH_PACKET_ERROR_ATTACHMENTS,
      "exceeds the limit of 1000");
  /* Far too many digits for any integer type: must not overflow. */
  check_sio_error ("6999999999999999999999999999999-[]",
      GST_MESH_PACKET_ERROR_ATTACHMENTS, "BINARY_ACK attachment count");
}

GST_END_TEST;

GST_START_TEST (test_sio_attachment_count_zero)
{
  check_sio_error ("50-[\"a\"]", GST_MESH_PACKET_ERROR_ATTACHMENTS,
      "announces 0 attachments");
}

GST_END_TEST;

GST_START_TEST (test_sio_attachment_count_malformed)
{
  check_sio_error ("51[\"a\"]", GST_MESH_PACKET_ERROR_FORMAT,
      "attachment count missing '-' at offset 2");
  check_sio_error ("51", GST_MESH_PACKET_ERROR_FORMAT, "missing '-'");
  check_sio_error ("5[\"a\"]", GST_MESH_PACKET_ERROR_FORMAT,
      "BINARY_EVENT attachment count missing at offset 1");
  check_sio_error ("5-[\"a\"]", GST_MESH_PACKET_ERROR_FORMAT,
      "attachment count missing");
  check_sio_error ("5", GST_MESH_PACKET_ERROR_FORMAT,
      "attachment count missing");
}

GST_END_TEST;

GST_START_TEST (test_sio_placeholder_out_of_range)
{
  check_sio_error ("51-[\"a\",{\"_placeholder\":true,\"num\":1}]",
      GST_MESH_PACKET_ERROR_ATTACHMENTS,
      "placeholder num 1 is out of range: the packet announces 1 attachment");
  check_sio_error ("52-[\"a\",{\"_placeholder\":true,\"num\":-1}]",
      GST_MESH_PACKET_ERROR_ATTACHMENTS, "num -1 is out of range");
  check_sio_error ("51-[\"a\",{\"_placeholder\":true,\"num\":\"0\"}]",
      GST_MESH_PACKET_ERROR_ATTACHMENTS, "must be an integer, got string");
  check_sio_error ("51-[\"a\",{\"_placeholder\":true}]",
      GST_MESH_PACKET_ERROR_ATTACHMENTS, "must be an integer, got nothing");
  check_sio_error ("51-[\"a\",[[{\"_placeholder\":true,\"num\":0.5}]]]",
      GST_MESH_PACKET_ERROR_ATTACHMENTS, "must be an integer, got number");
}

GST_END_TEST;

GST_START_TEST (test_sio_placeholder_lookalikes_are_data)
{
  /* Only `_placeholder: true` marks a placeholder, as in socket.io-parser. */
  check_sio_roundtrip ("51-[\"a\",{\"_placeholder\":false,\"num\":9},"
      "{\"_placeholder\":\"true\"},{\"_placeholder\":true,\"num\":0}]");
  /* Outside BINARY_* packets they are plain data. */
  check_sio_roundtrip ("2[\"a\",{\"_placeholder\":true,\"num\":5}]");
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Socket.IO: malformed packets                                             */
/* ------------------------------------------------------------------------ */

GST_START_TEST (test_sio_empty)
{
  check_sio_error_len ("", 0, GST_MESH_PACKET_ERROR_EMPTY,
      "empty Socket.IO packet");
}

GST_END_TEST;

GST_START_TEST (test_sio_bad_type)
{
  check_sio_error ("9[]", GST_MESH_PACKET_ERROR_TYPE,
      "invalid Socket.IO packet type '9'");
  check_sio_error ("7", GST_MESH_PACKET_ERROR_TYPE, "'7'");
  check_sio_error ("[\"a\"]", GST_MESH_PACKET_ERROR_TYPE, "'['");
  check_sio_error ("/chat,", GST_MESH_PACKET_ERROR_TYPE, "'/'");
  check_sio_error ("\x7f", GST_MESH_PACKET_ERROR_TYPE, "byte 0x7f");
}

GST_END_TEST;

GST_START_TEST (test_sio_bad_json)
{
  static const struct
  {
    const gchar *text;
    const gchar *fragment;
  } cases[] = {
    {"2[\"a\"", "offset 5: unexpected end of input, expected ',' or ']'"},
    {"2[a]", "offset 2: unexpected 'a', expected a value"},
    {"0{\"a\":}", "offset 6: unexpected '}', expected a value"},
    {"2[\"a\",]", "offset 6: unexpected ']'"},
    {"2['a']", "unexpected '''"},
    {"0{\"a\":1,}", "expected a string as object key"},
    {"0{a:1}", "expected a string as object key"},
    {"0{\"a\" 1}", "expected ':' after object key"},
    {"0{\"a\":1 \"b\":2}", "expected ',' or '}' in object"},
    {"2[01]", "unexpected '1', expected ',' or ']'"},
    {"2[1.]", "expected a digit after '.'"},
    {"2[.5]", "unexpected '.'"},
    {"2[1e]", "expected a digit in the exponent"},
    {"2[-]", "expected a digit"},
    {"2[+1]", "unexpected '+'"},
    {"2[\"\\x\"]", "invalid escape \\'x'"},
    {"2[\"\\u12\"]", "\\u must be followed by four hex digits"},
    {"2[\"\\u12g4\"]", "four hex digits"},
    {"2[\"a\tb\"]", "control character 0x09 must be escaped"},
    {"2[\"abc", "offset 2: unterminated string"},
    {"2[\"abc\\", "unterminated string"},
    {"2[NaN]", "unexpected 'N'"},
    {"2[Infinity]", "unexpected 'I'"},
    {"2[tru]", "unexpected 't'"},
    {"2[nul]", "unexpected 'n'"},
    {"2[1e999]", "number out of range"},
    {"2[-1e999]", "number out of range"},
    {"2[\"a\"]/*c*/", "after the JSON value"},
    {"2 ", "unexpected end of input, expected a value"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    check_sio_error (cases[i].text, GST_MESH_PACKET_ERROR_JSON,
        cases[i].fragment);
}

GST_END_TEST;

GST_START_TEST (test_sio_bad_json_names_the_packet_type)
{
  check_sio_error ("2[", GST_MESH_PACKET_ERROR_JSON,
      "EVENT packet: invalid JSON at offset 2");
  check_sio_error ("4{", GST_MESH_PACKET_ERROR_JSON,
      "CONNECT_ERROR packet: invalid JSON at offset 2");
}

GST_END_TEST;

GST_START_TEST (test_sio_garbage_after_json)
{
  check_sio_error ("2[\"a\"]x", GST_MESH_PACKET_ERROR_JSON,
      "offset 6: unexpected 'x', expected end of input after the JSON value");
  check_sio_error ("2[\"a\"][\"b\"]", GST_MESH_PACKET_ERROR_JSON,
      "after the JSON value");
  check_sio_error ("0{}}", GST_MESH_PACKET_ERROR_JSON,
      "after the JSON value");
  check_sio_error ("312[] 1", GST_MESH_PACKET_ERROR_JSON,
      "after the JSON value");
}

GST_END_TEST;

GST_START_TEST (test_sio_whitespace_after_json)
{
  /* JSON.parse() allows surrounding whitespace; the encoder drops it. */
  check_sio_reencode ("2[ \"a\" , 1 ]\r\n\t ", "2[\"a\",1]");
  check_sio_reencode ("0{ \"a\" : { } }", "0{\"a\":{}}");
}

GST_END_TEST;

GST_START_TEST (test_sio_payload_shapes)
{
  static const struct
  {
    const gchar *text;
    const gchar *message;
  } cases[] = {
    {"0[]", "CONNECT payload must be an object, got array"},
    {"0\"x\"", "CONNECT payload must be an object, got string"},
    {"0null", "CONNECT payload must be an object, got null"},
    {"1{}", "DISCONNECT packet must not carry a payload, got object"},
    {"1/admin,[]", "DISCONNECT packet must not carry a payload, got array"},
    {"4[]", "CONNECT_ERROR payload must be a string or an object, got array"},
    {"41", "CONNECT_ERROR packet has no payload"},
    {"4", "CONNECT_ERROR packet has no payload"},
    {"4true", "CONNECT_ERROR payload must be a string or an object, "
          "got boolean"},
    {"2{}", "EVENT payload must be a non-empty array, got object"},
    {"2\"hello\"", "EVENT payload must be a non-empty array, got string"},
    {"2[]", "EVENT payload must be a non-empty array, got an empty array"},
    {"2", "EVENT packet has no payload, expected a non-empty array"},
    {"2/chat,", "EVENT packet has no payload"},
    {"2null", "EVENT payload must be a non-empty array, got null"},
    {"2[null]", "EVENT name (first array element) must be a string or a "
          "number, got null"},
    {"2[{}]", "must be a string or a number, got object"},
    {"2[true,1]", "must be a string or a number, got boolean"},
    {"2[[\"a\"]]", "must be a string or a number, got array"},
    {"3{}", "ACK payload must be an array, got object"},
    {"312\"x\"", "ACK payload must be an array, got string"},
    {"51-{}", "BINARY_EVENT payload must be a non-empty array, got object"},
    {"51-[]", "BINARY_EVENT payload must be a non-empty array"},
    {"61-{}", "BINARY_ACK payload must be an array, got object"},
    {"61-", "BINARY_ACK packet has no payload"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    check_sio_error (cases[i].text, GST_MESH_PACKET_ERROR_PAYLOAD,
        cases[i].message);
}

GST_END_TEST;

GST_START_TEST (test_sio_reserved_event_names)
{
  static const gchar *const reserved[] = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener",
    "removeListener",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (reserved); i++) {
    gchar *event = g_strdup_printf ("2[\"%s\",1]", reserved[i]);
    gchar *binary = g_strdup_printf ("51-[\"%s\","
        "{\"_placeholder\":true,\"num\":0}]", reserved[i]);
    gchar *message = g_strdup_printf ("EVENT name \"%s\" is reserved",
        reserved[i]);

    check_sio_error (event, GST_MESH_PACKET_ERROR_PAYLOAD, message);
    check_sio_error (binary, GST_MESH_PACKET_ERROR_PAYLOAD, message);
    g_free (event);
    g_free (binary);
    g_free (message);
  }

  /* Only the exact names are reserved. */
  check_sio_roundtrip ("2[\"Connect\"]");
  check_sio_roundtrip ("2[\"connected\"]");
  check_sio_roundtrip ("2[\"message\"]");
  /* The escape spells a reserved name all the same. */
  check_sio_error ("2[\"\\u0063onnect\"]", GST_MESH_PACKET_ERROR_PAYLOAD,
      "is reserved");
}

GST_END_TEST;

GST_START_TEST (test_sio_invalid_utf8)
{
  check_sio_error ("2[\"\xff\"]", GST_MESH_PACKET_ERROR_UTF8,
      "Socket.IO packet is not valid UTF-8 at offset 3");
  check_sio_error ("0/\xc3,{}", GST_MESH_PACKET_ERROR_UTF8, "offset 2");
  check_sio_error_len ("2[\"a\0\"]", 7, GST_MESH_PACKET_ERROR_UTF8,
      "NUL byte at offset 4");
}

GST_END_TEST;

GST_START_TEST (test_sio_unicode)
{
  GstMeshSioPacket *packet = sio_decode ("2[\"h\\u00e9llo \\ud83d\\ude00\"]");
  JsonArray *array = json_node_get_array (packet->data);

  fail_unless_equals_string (json_array_get_string_element (array, 0),
      "h\xc3\xa9llo \xf0\x9f\x98\x80");
  gst_mesh_sio_packet_free (packet);

  /* JSON.stringify() writes non-ASCII as UTF-8, escapes decoded. */
  check_sio_reencode ("2[\"h\\u00e9llo \\ud83d\\ude00\"]",
      "2[\"h\xc3\xa9llo \xf0\x9f\x98\x80\"]");
  check_sio_roundtrip ("2[\"日本語\",\"\xe2\x80\xa8\"]");
  check_sio_reencode ("2[\"\\/\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u007f\"]",
      "2[\"/\\\"\\\\\\b\\f\\n\\r\\t\\u0001\x7f\"]");
}

GST_END_TEST;

GST_START_TEST (test_sio_lone_surrogates)
{
  check_sio_error ("2[\"\\ud800\"]", GST_MESH_PACKET_ERROR_JSON,
      "lone surrogate \\ud800");
  check_sio_error ("2[\"\\udc00x\"]", GST_MESH_PACKET_ERROR_JSON,
      "lone surrogate \\udc00");
  check_sio_error ("2[\"\\ud800\\u0041\"]", GST_MESH_PACKET_ERROR_JSON,
      "lone surrogate");
  check_sio_error ("2[\"\\ud800\\", GST_MESH_PACKET_ERROR_JSON,
      "lone surrogate");
}

GST_END_TEST;

GST_START_TEST (test_sio_nul_escape)
{
  check_sio_error ("2[\"a\\u0000b\"]", GST_MESH_PACKET_ERROR_JSON,
      "\\u0000 in string is not supported");
}

GST_END_TEST;

GST_START_TEST (test_sio_deep_nesting)
{
  GString *deep = g_string_new ("2[\"a\",");
  GString *ok = g_string_new ("2[\"a\",");
  guint i;
  gchar *wire;
  GstMeshSioPacket *packet;

  for (i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  check_sio_error (deep->str, GST_MESH_PACKET_ERROR_JSON,
      "nested deeper than 512 levels");

  for (i = 0; i < 250; i++)
    g_string_append (ok, "{\"k\":[");
  for (i = 0; i < 250; i++)
    g_string_append (ok, "]}");
  g_string_append_c (ok, ']');
  packet = sio_decode (ok->str);
  wire = gst_mesh_sio_packet_encode (packet);
  fail_unless_equals_string (wire, ok->str);
  g_free (wire);
  gst_mesh_sio_packet_free (packet);

  g_string_free (deep, TRUE);
  g_string_free (ok, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_sio_duplicate_keys)
{
  /* Like a JS object: the key keeps its first place, the last value wins. */
  check_sio_reencode ("0{\"a\":1,\"b\":2,\"a\":3}", "0{\"a\":3,\"b\":2}");
}

GST_END_TEST;

GST_START_TEST (test_sio_integer_like_keys_come_first)
{
  check_sio_reencode ("0{\"b\":1,\"2\":2,\"1\":3}",
      "0{\"1\":3,\"2\":2,\"b\":1}");
}

GST_END_TEST;

GST_START_TEST (test_sio_numbers)
{
  GstMeshSioPacket *packet = sio_decode ("2[\"n\",1.0,2.5,9007199254740993]");
  JsonArray *array = json_node_get_array (packet->data);

  /* Integral values are gint64 nodes, others doubles, like a JS Number. */
  fail_unless_equals_int64 (json_node_get_value_type
      (json_array_get_element (array, 1)), G_TYPE_INT64);
  fail_unless_equals_int64 (json_array_get_int_element (array, 1), 1);
  fail_unless_equals_float (json_array_get_double_element (array, 2), 2.5);
  /* Beyond 2^53 a JS Number has rounded it. */
  fail_unless_equals_int64 (json_node_get_value_type
      (json_array_get_element (array, 3)), G_TYPE_DOUBLE);
  gst_mesh_sio_packet_free (packet);

  /* What socket.io-parser prints for the same input (Node 20). */
  check_sio_reencode ("2[\"n\",1.5,0.1,-0,1e21,1E2,1e-7,"
      "12345678901234567890,9007199254740993,-0.0,1e-400]",
      "2[\"n\",1.5,0.1,0,1e+21,100,1e-7,12345678901234567000,"
      "9007199254740992,0,0]");
}

GST_END_TEST;

GST_START_TEST (test_sio_every_prefix_is_rejected)
{
  static const gchar full[] =
      "2/chat,12[\"hi\",{\"a\":[1,2.5,true,null,\"\\u00e9\"]}]";
  gsize len;

  for (len = 0; len < strlen (full); len++) {
    GError *error = NULL;
    GstMeshSioPacket *packet = sio_decode_len (full, len, &error);

    fail_unless (packet == NULL, "prefix of length %" G_GSIZE_FORMAT
        " decoded", len);
    fail_unless (error != NULL && error->domain == GST_MESH_PACKET_ERROR);
    g_error_free (error);
  }
  check_sio_reencode (full,
      "2/chat,12[\"hi\",{\"a\":[1,2.5,true,null,\"\xc3\xa9\"]}]");
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* gst_mesh_json_to_string () against JSON.stringify ()                      */
/* ------------------------------------------------------------------------ */

GST_START_TEST (test_json_string_escapes)
{
  /* JSON.stringify("a\"b\\c\n\r\t\b\f\x01\x1f\x7f/ é 😀 \u2028") */
  check_json (string_node ("a\"b\\c\n\r\t\b\f\x01\x1f\x7f/ é 😀 \xe2\x80\xa8"),
      "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f/ é 😀 \xe2\x80\xa8\"");
  check_json (string_node (""), "\"\"");
}

GST_END_TEST;

GST_START_TEST (test_json_slash_not_escaped)
{
  check_json (string_node ("</script>/a/b"), "\"</script>/a/b\"");
}

GST_END_TEST;

GST_START_TEST (test_json_invalid_utf8_replaced)
{
  /* A JS string is always well-formed; never emit broken UTF-8. */
  check_json (string_node ("a\xff" "b"), "\"a\xef\xbf\xbd" "b\"");
}

GST_END_TEST;

GST_START_TEST (test_json_integers)
{
  check_json (int_node (0), "0");
  check_json (int_node (-1), "-1");
  check_json (int_node (25000), "25000");
  check_json (int_node (G_MAXINT64), "9223372036854775807");
  check_json (int_node (G_MININT64), "-9223372036854775808");
}

GST_END_TEST;

GST_START_TEST (test_json_doubles)
{
  /* Expected values are JSON.stringify() output from Node 20. */
  check_json (double_node (1.5), "1.5");
  check_json (double_node (0.1), "0.1");
  check_json (double_node (0.1 + 0.2), "0.30000000000000004");
  check_json (double_node (100.0), "100");
  check_json (double_node (-2.5), "-2.5");
  check_json (double_node (-0.0), "0");
  check_json (double_node (1e21), "1e+21");
  check_json (double_node (1e20), "100000000000000000000");
  check_json (double_node (123e-20), "1.23e-18");
  check_json (double_node (1e-7), "1e-7");
  check_json (double_node (0.000001), "0.000001");
  check_json (double_node (5e-324), "5e-324");
  check_json (double_node (1.7976931348623157e308),
      "1.7976931348623157e+308");
  check_json (double_node (1152921504606846976.0), "1152921504606847000");
  check_json (double_node (1e23), "1e+23");
  check_json (double_node (NAN), "null");
  check_json (double_node (INFINITY), "null");
  check_json (double_node (-INFINITY), "null");
}

GST_END_TEST;

GST_START_TEST (test_json_nested)
{
  JsonBuilder *builder = json_builder_new ();
  JsonNode *root;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "z");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "a");
  json_builder_begin_array (builder);
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_add_null_value (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "m");
  json_builder_add_string_value (builder, "x");
  json_builder_end_object (builder);
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "m");
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  g_object_unref (builder);

  /* JSON.stringify({z:1,a:[true,false,null,{m:"x"},[]],m:{}}) */
  check_json (root, "{\"z\":1,\"a\":[true,false,null,{\"m\":\"x\"},[]],"
      "\"m\":{}}");
}

GST_END_TEST;

GST_START_TEST (test_json_key_order_preserved)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  const gchar *keys[] = { "zeta", "alpha", "mid", "beta", "omega", "a1" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (keys); i++)
    json_object_set_int_member (object, keys[i], i);
  json_node_take_object (node, object);
  check_json (node, "{\"zeta\":0,\"alpha\":1,\"mid\":2,\"beta\":3,"
      "\"omega\":4,\"a1\":5}");
}

GST_END_TEST;

GST_START_TEST (test_json_array_index_keys_first)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  /* JSON.stringify({"b":1,"4294967294":2,"4294967295":3,"1":4,"01":5,
   *                 "-1":6,"0":7}) */
  json_object_set_int_member (object, "b", 1);
  json_object_set_int_member (object, "4294967294", 2);
  json_object_set_int_member (object, "4294967295", 3);
  json_object_set_int_member (object, "1", 4);
  json_object_set_int_member (object, "01", 5);
  json_object_set_int_member (object, "-1", 6);
  json_object_set_int_member (object, "0", 7);
  json_node_take_object (node, object);
  check_json (node, "{\"0\":7,\"1\":4,\"4294967294\":2,\"b\":1,"
      "\"4294967295\":3,\"01\":5,\"-1\":6}");
}

GST_END_TEST;

GST_START_TEST (test_json_null)
{
  fail_unless (gst_mesh_json_to_string (NULL) == NULL);
  check_json (json_node_new (JSON_NODE_NULL), "null");
}

GST_END_TEST;

static Suite *
packet_suite (void)
{
  Suite *s = suite_create ("packet");
  TCase *eio = tcase_create ("engineio");
  TCase *payload = tcase_create ("polling");
  TCase *sio = tcase_create ("socketio");
  TCase *binary = tcase_create ("binary");
  TCase *malformed = tcase_create ("malformed");
  TCase *json = tcase_create ("json");

  suite_add_tcase (s, eio);
  tcase_add_test (eio, test_eio_decode_each_type);
  tcase_add_test (eio, test_eio_encode_each_type);
  tcase_add_test (eio, test_eio_text_is_nul_terminated_within_length);
  tcase_add_test (eio, test_eio_text_packet_from_counted_bytes);
  tcase_add_test (eio, test_eio_decode_binary_frame);
  tcase_add_test (eio, test_eio_decode_empty_binary_frame);
  tcase_add_test (eio, test_eio_decode_base64_packet);
  tcase_add_test (eio, test_eio_decode_empty);
  tcase_add_test (eio, test_eio_decode_bad_type_digit);
  tcase_add_test (eio, test_eio_decode_bad_base64);
  tcase_add_test (eio, test_eio_decode_truncated_base64);
  tcase_add_test (eio, test_eio_decode_invalid_utf8);

  suite_add_tcase (s, payload);
  tcase_add_test (payload, test_eio_payload_several_packets);
  tcase_add_test (payload, test_eio_payload_single_packet);
  tcase_add_test (payload, test_eio_payload_with_binary_packet);
  tcase_add_test (payload, test_eio_payload_encode_mixed);
  tcase_add_test (payload, test_eio_payload_empty);
  tcase_add_test (payload, test_eio_payload_empty_record);
  tcase_add_test (payload, test_eio_payload_bad_packet);
  tcase_add_test (payload, test_eio_payload_invalid_utf8);

  suite_add_tcase (s, sio);
  tcase_add_test (sio, test_sio_connect);
  tcase_add_test (sio, test_sio_connect_with_auth);
  tcase_add_test (sio, test_sio_connect_namespace);
  tcase_add_test (sio, test_sio_event);
  tcase_add_test (sio, test_sio_event_namespace_and_ack_id);
  tcase_add_test (sio, test_sio_ack);
  tcase_add_test (sio, test_sio_connect_error);
  tcase_add_test (sio, test_sio_disconnect);
  tcase_add_test (sio, test_sio_namespace_root_written_out);
  tcase_add_test (sio, test_sio_namespace_with_odd_characters);
  tcase_add_test (sio, test_sio_namespace_without_comma_runs_to_the_end);
  tcase_add_test (sio, test_sio_ack_id_largest);
  tcase_add_test (sio, test_sio_ack_id_leading_zeros);
  tcase_add_test (sio, test_sio_new_event);
  tcase_add_test (sio, test_sio_new_event_defaults);
  tcase_add_test (sio, test_sio_new_packet);
  tcase_add_test (sio, test_sio_event_numeric_name);
  tcase_add_test (sio, test_sio_event_args_of_non_event);
  tcase_add_test (sio, test_sio_unicode);
  tcase_add_test (sio, test_sio_whitespace_after_json);
  tcase_add_test (sio, test_sio_duplicate_keys);
  tcase_add_test (sio, test_sio_integer_like_keys_come_first);
  tcase_add_test (sio, test_sio_numbers);

  suite_add_tcase (s, binary);
  tcase_add_test (binary, test_sio_binary_event_inside_eio_message);
  tcase_add_test (binary, test_sio_binary_event_encode);
  tcase_add_test (binary, test_sio_binary_ack_with_namespace_and_id);
  tcase_add_test (binary, test_sio_attachments_arrive_in_order);
  tcase_add_test (binary, test_sio_attachments_more_than_announced);
  tcase_add_test (binary, test_sio_attachment_for_non_binary_packet);
  tcase_add_test (binary, test_sio_attachment_count_limit);
  tcase_add_test (binary, test_sio_attachment_count_zero);
  tcase_add_test (binary, test_sio_attachment_count_malformed);
  tcase_add_test (binary, test_sio_placeholder_out_of_range);
  tcase_add_test (binary, test_sio_placeholder_lookalikes_are_data);

  suite_add_tcase (s, malformed);
  tcase_add_test (malformed, test_sio_empty);
  tcase_add_test (malformed, test_sio_bad_type);
  tcase_add_test (malformed, test_sio_bad_json);
  tcase_add_test (malformed, test_sio_bad_json_names_the_packet_type);
  tcase_add_test (malformed, test_sio_garbage_after_json);
  tcase_add_test (malformed, test_sio_payload_shapes);
  tcase_add_test (malformed, test_sio_reserved_event_names);
  tcase_add_test (malformed, test_sio_ack_id_overflow);
  tcase_add_test (malformed, test_sio_ack_without_payload);
  tcase_add_test (malformed, test_sio_invalid_utf8);
  tcase_add_test (malformed, test_sio_lone_surrogates);
  tcase_add_test (malformed, test_sio_nul_escape);
  tcase_add_test (malformed, test_sio_deep_nesting);
  tcase_add_test (malformed, test_sio_every_prefix_is_rejected);

  suite_add_tcase (s, json);
  tcase_add_test (json, test_json_string_escapes);
  tcase_add_test (json, test_json_slash_not_escaped);
  tcase_add_test (json, test_json_invalid_utf8_replaced);
  tcase_add_test (json, test_json_integers);
  tcase_add_test (json, test_json_doubles);
  tcase_add_test (json, test_json_nested);
  tcase_add_test (json, test_json_key_order_preserved);
  tcase_add_test (json, test_json_array_index_keys_first);
  tcase_add_test (json, test_json_null);

  return s;
}

GST_CHECK_MAIN (packet);
