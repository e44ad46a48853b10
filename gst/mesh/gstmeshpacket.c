/* gst-mesh: Engine.IO v4 and Socket.IO v5 packet codec.
 *
 * This file owns the bytes on the wire: Engine.IO packets and polling
 * payloads, Socket.IO packet headers, and the JSON inside them. It carries
 * its own strict JSON reader and a JSON.stringify()-compatible writer
 * rather than using JsonParser / JsonGenerator, because:
 *
 *  - JsonParser accepts things JSON.parse() rejects (`var x = ...;`
 *    assignments, and it recurses without a depth limit, which a fuzzer
 *    turns into a stack overflow);
 *  - JsonGenerator prints doubles with "%.17g" (0.1 → 0.10000000000000001)
 *    and does not order integer-like object keys the way JavaScript does.
 *
 * Behaviour follows the reference implementations engine.io-parser 5.x and
 * socket.io-parser 4.2.x; the few places where this codec is stricter are
 * marked "Stricter than socket.io-parser" below.
 *
 * Everything here is a pure function of its arguments: no I/O, no globals.
 * Inputs are (pointer, length) pairs that need not be NUL-terminated, and
 * nothing reads outside them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "gstmeshpacket.h"

#include <math.h>
#include <string.h>

/* socket.io-parser 4.2.7 defaults to 10; we are more generous but still
 * refuse a header that would make us wait for millions of frames. */
#define MAX_ATTACHMENTS 1000

/* Nesting limit of the JSON reader. Signalling messages are a few levels
 * deep; the limit only exists so that "[[[[..." cannot exhaust the stack
 * (reading, writing and freeing the tree are all recursive). */
#define MAX_JSON_DEPTH 512

/* Number.MAX_SAFE_INTEGER (2^53 - 1). Integral JSON numbers up to this
 * are stored as gint64 nodes, which is what callers expect to read back;
 * anything else as gdouble, i.e. rounded exactly as a JS Number is. */
#define MAX_SAFE_INTEGER 9007199254740991.0

G_DEFINE_QUARK (gst-mesh-packet-error-quark, gst_mesh_packet_error);

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Renders one input byte for an error message. Printable ASCII is shown as
 * itself, anything else as a hex escape, so messages stay readable and
 * valid UTF-8 whatever the input was. */
static const gchar *
describe_byte (guchar c, gchar buf[16])
{
  if (c >= 0x20 && c < 0x7f)
    g_snprintf (buf, 16, "'%c'", c);
  else
    g_snprintf (buf, 16, "byte 0x%02x", c);
  return buf;
}

/* All text we accept must be UTF-8: JsonNode strings, namespaces and
 * Engine.IO text are handed to callers as C strings. A NUL byte is refused
 * too, since a C string would silently end there. */
static gboolean
check_utf8 (const gchar * text, gsize len, const gchar * what,
    GError ** error)
{
  const gchar *end = NULL;
  gsize offset;

  if (g_utf8_validate_len (text, len, &end))
    return TRUE;

  offset = end - text;
  if (offset < len && text[offset] == '\0')
    g_set_error (error, GST_MESH_PACKET_ERROR, GST_MESH_PACKET_ERROR_UTF8,
        "%s contains a NUL byte at offset %" G_GSIZE_FORMAT, what, offset);
  else
    g_set_error (error, GST_MESH_PACKET_ERROR, GST_MESH_PACKET_ERROR_UTF8,
        "%s is not valid UTF-8 at offset %" G_GSIZE_FORMAT, what, offset);
  return FALSE;
}

/* A GBytes of @len bytes that is followed by a NUL in memory, so that
 * gst_mesh_eio_packet_get_text() can hand out a C string without copying.
 * Empty text is represented by %NULL, as the header documents. */
static GBytes *
text_bytes_new (const gchar * text, gsize len)
{
  gchar *copy;

  if (len == 0)
    return NULL;

  copy = g_malloc (len + 1);
  memcpy (copy, text, len);
  copy[len] = '\0';
  return g_bytes_new_take (copy, len);
}

static gint
base64_value (guchar c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/* g_base64_decode() silently skips characters it does not know, so it
 * cannot tell garbage from base64. This decoder accepts the standard
 * alphabet, with or without "=" padding (Node's Buffer.from() accepts
 * both), and rejects everything else. Like Node it ignores non-zero bits
 * in the last, partial character. @offset is where @text starts in the
 * caller's input, for error messages. */
static gboolean
base64_decode_strict (const gchar * text, gsize len, gsize offset,
    GBytes ** out, GError ** error)
{
  gsize n_pad = 0, n_data, i, o = 0;
  guint32 acc = 0;
  guint bits = 0;
  guint8 *buf;

  while (n_pad < 2 && n_pad < len && text[len - 1 - n_pad] == '=')
    n_pad++;
  n_data = len - n_pad;

  /* Characters first: a stray byte is a better diagnosis than the length
   * it happens to leave. */
  for (i = 0; i < n_data; i++) {
    if (base64_value ((guchar) text[i]) < 0) {
      gchar desc[16];

      g_set_error (error, GST_MESH_PACKET_ERROR,
          GST_MESH_PACKET_ERROR_BASE64,
          "invalid base64 character %s at offset %" G_GSIZE_FORMAT,
          describe_byte ((guchar) text[i], desc), offset + i);
      return FALSE;
    }
  }
  if (n_pad > 0 && len % 4 != 0) {
    g_set_error (error, GST_MESH_PACKET_ERROR, GST_MESH_PACKET_ERROR_BASE64,
        "padded base64 at offset %" G_GSIZE_FORMAT " has length %"
        G_GSIZE_FORMAT ", not a multiple of 4", offset, len);
    return FALSE;
  }
  if (n_data % 4 == 1) {
    g_set_error (error, GST_MESH_PACKET_ERROR, GST_MESH_PACKET_ERROR_BASE64,
        "base64 at offset %" G_GSIZE_FORMAT " is truncated (%" G_GSIZE_FORMAT
        " characters cannot encode whole bytes)", offset, len);
    return FALSE;
  }

  buf = g_malloc (n_data / 4 * 3 + 3);
  for (i = 0; i < n_data; i++) {
    acc = (acc << 6) | (guint32) base64_value ((guchar) text[i]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      buf[o++] = (guint8) (acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }

  if (o == 0) {
    g_free (buf);
    *out = NULL;
  } else {
    *out = g_bytes_new_take (buf, o);
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Engine.IO v4                                                             */
/* ------------------------------------------------------------------------ */

/**
 * gst_mesh_eio_packet_new:
 * @type: the packet type
 * @text: (nullable): the payload text, copied; %NULL or "" for none
 */
GstMeshEioPacket *
gst_mesh_eio_packet_new (GstMeshEioType type, const gchar * text)
{
  GstMeshEioPacket *packet;

  g_return_val_if_fail (type >= GST_MESH_EIO_OPEN
      && type <= GST_MESH_EIO_NOOP, NULL);

  packet = g_new0 (GstMeshEioPacket, 1);
  packet->type = type;
  packet->binary = FALSE;
  packet->data = text ? text_bytes_new (text, strlen (text)) : NULL;
  return packet;
}

/**
 * gst_mesh_eio_packet_new_text:
 * @type: the packet type
 * @text: (nullable) (array length=len): the payload text, copied; it need
 *   not be NUL-terminated
 * @len: the length of @text in bytes; 0 for none
 *
 * A text packet from counted bytes (a GBytes, a slice of a buffer). The copy
 * is followed by a NUL, as gst_mesh_eio_packet_get_text() promises.
 */
GstMeshEioPacket *
gst_mesh_eio_packet_new_text (GstMeshEioType type, const gchar * text,
    gsize len)
{
  GstMeshEioPacket *packet;

  g_return_val_if_fail (type >= GST_MESH_EIO_OPEN
      && type <= GST_MESH_EIO_NOOP, NULL);
  g_return_val_if_fail (text != NULL || len == 0, NULL);

  packet = g_new0 (GstMeshEioPacket, 1);
  packet->type = type;
  packet->binary = FALSE;
  packet->data = text_bytes_new (text, len);
  return packet;
}

/**
 * gst_mesh_eio_packet_new_binary:
 * @data: (nullable) (transfer none): the message bytes; a reference is taken
 *
 * A binary message. Engine.IO only has binary *messages*, so the type is
 * always %GST_MESH_EIO_MESSAGE.
 */
GstMeshEioPacket *
gst_mesh_eio_packet_new_binary (GBytes * data)
{
  GstMeshEioPacket *packet = g_new0 (GstMeshEioPacket, 1);

  packet->type = GST_MESH_EIO_MESSAGE;
  packet->binary = TRUE;
  if (data != NULL && g_bytes_get_size (data) > 0)
    packet->data = g_bytes_ref (data);
  return packet;
}

void
gst_mesh_eio_packet_free (GstMeshEioPacket * packet)
{
  if (packet == NULL)
    return;
  g_clear_pointer (&packet->data, g_bytes_unref);
  g_free (packet);
}

/**
 * gst_mesh_eio_packet_get_text:
 *
 * Returns: the text of a text packet ("" when it has none), or %NULL for a
 * binary packet, whose bytes are not text (use @packet->data).
 */
const gchar *
gst_mesh_eio_packet_get_text (const GstMeshEioPacket * packet, gsize * len)
{
  gsize size = 0;
  const gchar *text = "";

  g_return_val_if_fail (packet != NULL, NULL);

  if (packet->binary) {
    text = NULL;
  } else if (packet->data != NULL) {
    text = g_bytes_get_data (packet->data, &size);
  }
  if (len != NULL)
    *len = size;
  return text;
}

/* Decodes one packet of already UTF-8-checked text. @offset is where
 * @text starts in the caller's input, so that errors inside a polling
 * payload point at the right byte. Like engine.io-parser's decodePacket(),
 * a "b" prefix means a base64 binary message wherever it appears. */
static GstMeshEioPacket *
eio_decode_one (const gchar * text, gsize len, gsize offset, GError ** error)
{
  GstMeshEioPacket *packet;
  guchar c;

  if (len == 0) {
    g_set_error (error, GST_MESH_PACKET_ERROR, GST_MESH_PACKET_ERROR_EMPTY,
        "empty Engine.IO packet at offset %" G_GSIZE_FORMAT, offset);
    return NULL;
  }

  c = (guchar) text[0];
  if (c == 'b') {
    GBytes *bytes = NULL;

    if (!base64_decode_strict (text + 1, len - 1, offset + 1, &bytes, error))
      return NULL;
    packet = g_new0 (GstMeshEioPacket, 1);
    packet->type = GST_MESH_EIO_MESSAGE;
    packet->binary = TRUE;
    packet->data = bytes;
    return packet;
  }

  if (c < '0' + GST_MESH_EIO_OPEN || c > '0' + GST_MESH_EIO_NOOP) {
    gchar desc[16];

    g_set_error (error, GST_MESH_PACKET_ERROR, GST_MESH_PACKET_ERROR_TYPE,
        "invalid Engine.IO packet type %s at offset %" G_GSIZE_FORMAT,
        describe_byte (c, desc), offset);
    return NULL;
  }

  packet = g_new0 (GstMeshEioPacket, 1);
  packet->type = (GstMeshEioType) (c - '0');
  packet->binary = FALSE;
  packet->data = text_bytes_new (text + 1, len - 1);
  return packet;
}

GstMeshEioPacket *
gst_mesh_eio_packet_decode (const gchar * text, gsize len, GError ** error)
{
  if (len == 0) {
    g_set_error_literal (error, GST_MESH_PACKET_ERROR,
        GST_MESH_PACKET_ERROR_EMPTY, "empty Engine.IO packet");
    return NULL;
  }
  g_return_val_if_fail (text != NULL, NULL);

  if (!check_utf8 (text, len, "Engine.IO packet", error))
    return NULL;

  return eio_decode_one (text, len, 0, error);
}

/**
 * gst_mesh_eio_packet_decode_binary:
 * @data: (nullable) (transfer none): the frame; a reference is taken
 *
 * Never fails: any bytes are a valid binary message.
 */
GstMeshEioPacket *
gst_mesh_eio_packet_decode_binary (GBytes * data)
{
  return gst_mesh_eio_packet_new_binary (data);
}

static void
eio_append (GString * out, const GstMeshEioPacket * packet)
{
  if (packet->binary) {
    /* The only text form a binary message has is the polling one. */
    g_string_append_c (out, 'b');
    if (packet->data != NULL) {
      gsize size;
      const guchar *bytes = g_bytes_get_data (packet->data, &size);
      gchar *b64 = g_base64_encode (bytes, size);

      g_string_append (out, b64);
      g_free (b64);
    }
    return;
  }

  g_string_append_c (out, (gchar) ('0' + packet->type));
  if (packet->data != NULL) {
    gsize size;
    const gchar *text = g_bytes_get_data (packet->data, &size);

    g_string_append_len (out, text, size);
  }
}

/**
 * gst_mesh_eio_packet_encode:
 *
 * Returns: "<digit><text>" for a text packet. For a binary packet this
 * returns its polling form "b<base64>"; over a WebSocket send the raw bytes
 * of @packet->data as a binary frame instead.
 */
gchar *
gst_mesh_eio_packet_encode (const GstMeshEioPacket * packet)
{
  GString *out;

  g_return_val_if_fail (packet != NULL, NULL);

  out = g_string_new (NULL);
  eio_append (out, packet);
  return g_string_free (out, FALSE);
}

GPtrArray *
gst_mesh_eio_payload_decode (const gchar * body, gsize len, GError ** error)
{
  GPtrArray *packets;
  gsize start = 0;
  guint index = 0;

  if (len == 0) {
    g_set_error_literal (error, GST_MESH_PACKET_ERROR,
        GST_MESH_PACKET_ERROR_EMPTY, "empty polling payload");
    return NULL;
  }
  g_return_val_if_fail (body != NULL, NULL);

  /* The separator is ASCII, so checking the whole body once is the same as
   * checking every record, and offsets stay relative to the body. */
  if (!check_utf8 (body, len, "polling payload", error))
    return NULL;

  packets = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_mesh_eio_packet_free);

  /* Like "".split() in engine.io-parser: N separators make N + 1 records,
   * and an empty record (leading, trailing or doubled separator) is an
   * error rather than something to skip. */
  for (;;) {
    const gchar *sep = memchr (body + start, GST_MESH_EIO_SEPARATOR,
        len - start);
    gsize end = sep ? (gsize) (sep - body) : len;
    GstMeshEioPacket *packet;

    packet = eio_decode_one (body + start, end - start, start, error);
    if (packet == NULL) {
      g_prefix_error (error, "packet %u of polling payload: ", index);
      g_ptr_array_unref (packets);
      return NULL;
    }
    g_ptr_array_add (packets, packet);
    index++;

    if (sep == NULL)
      break;
    start = end + 1;
  }

  return packets;
}

/**
 * gst_mesh_eio_payload_encode:
 *
 * Joins the packets with the record separator, binary ones as
 * "b<base64>" (engine.io-parser's encodePayload()). %NULL entries are
 * skipped.
 */
gchar *
gst_mesh_eio_payload_encode (GstMeshEioPacket * const *packets,
    guint n_packets)
{
  GString *out;
  gboolean first = TRUE;
  guint i;

  g_return_val_if_fail (packets != NULL || n_packets == 0, NULL);

  out = g_string_new (NULL);
  for (i = 0; i < n_packets; i++) {
    if (packets[i] == NULL)
      continue;
    if (!first)
      g_string_append_c (out, GST_MESH_EIO_SEPARATOR);
    first = FALSE;
    eio_append (out, packets[i]);
  }
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------------ */
/* JSON reader: JSON.parse() grammar (RFC 8259), building JsonNodes         */
/* ------------------------------------------------------------------------ */

/* Reads @text[pos..end). The text must already be valid UTF-8 without NUL
 * bytes: string contents are copied byte for byte. Offsets in errors are
 * relative to @text, i.e. to the start of the Socket.IO packet. */
typedef struct
{
  const gchar *text;
  gsize pos;
  gsize end;
  guint depth;
} WireJsonReader;

static JsonNode *json_read_value (WireJsonReader * r, GError ** error);

static void
json_skip_ws (WireJsonReader * r)
{
  while (r->pos < r->end) {
    gchar c = r->text[r->pos];

    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      break;
    r->pos++;
  }
}

static void G_GNUC_PRINTF (3, 4)
json_error (gsize offset, GError ** error, const gchar * format, ...)
{
  va_list args;
  gchar *what;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, GST_MESH_PACKET_ERROR, GST_MESH_PACKET_ERROR_JSON,
      "invalid JSON at offset %" G_GSIZE_FORMAT ": %s", offset, what);
  g_free (what);
}

/* "unexpected X, expected @expected" at the current position. */
static void
json_unexpected (WireJsonReader * r, GError ** error, const gchar * expected)
{
  gchar desc[16];

  if (r->pos >= r->end)
    json_error (r->pos, error, "unexpected end of input, expected %s",
        expected);
  else
    json_error (r->pos, error, "unexpected %s, expected %s",
        describe_byte ((guchar) r->text[r->pos], desc), expected);
}

static gint
hex_value (gchar c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Four hex digits at @pos, or -1. */
static gint
json_hex4 (WireJsonReader * r, gsize pos)
{
  gint value = 0, i;

  if (pos > r->end || r->end - pos < 4)
    return -1;
  for (i = 0; i < 4; i++) {
    gint v = hex_value (r->text[pos + i]);

    if (v < 0)
      return -1;
    value = (value << 4) | v;
  }
  return value;
}

/* A string starting at the opening quote at r->pos. */
static gchar *
json_read_string (WireJsonReader * r, GError ** error)
{
  gsize start = r->pos;
  GString *s = g_string_new (NULL);

  r->pos++;
  for (;;) {
    guchar c;
    gsize escape_at;
    gint cp;

    if (r->pos >= r->end) {
      json_error (start, error, "unterminated string");
      goto fail;
    }

    c = (guchar) r->text[r->pos];
    if (c == '"') {
      r->pos++;
      return g_string_free (s, FALSE);
    }
    if (c < 0x20) {
      json_error (r->pos, error,
          "control character 0x%02x must be escaped in a string", c);
      goto fail;
    }
    if (c != '\\') {
      /* Run of plain bytes up to the next quote, backslash or control. */
      gsize run = r->pos + 1;

      while (run < r->end) {
        guchar d = (guchar) r->text[run];

        if (d == '"' || d == '\\' || d < 0x20)
          break;
        run++;
      }
      g_string_append_len (s, r->text + r->pos, run - r->pos);
      r->pos = run;
      continue;
    }

    escape_at = r->pos;
    r->pos++;
    if (r->pos >= r->end) {
      json_error (start, error, "unterminated string");
      goto fail;
    }
    c = (guchar) r->text[r->pos++];
    switch (c) {
      case '"':
      case '\\':
      case '/':
        g_string_append_c (s, (gchar) c);
        continue;
      case 'b':
        g_string_append_c (s, '\b');
        continue;
      case 'f':
        g_string_append_c (s, '\f');
        continue;
      case 'n':
        g_string_append_c (s, '\n');
        continue;
      case 'r':
        g_string_append_c (s, '\r');
        continue;
      case 't':
        g_string_append_c (s, '\t');
        continue;
      case 'u':
        break;
      default:{
        gchar desc[16];

        json_error (escape_at, error, "invalid escape \\%s in string",
            describe_byte (c, desc));
        goto fail;
      }
    }

    cp = json_hex4 (r, r->pos);
    if (cp < 0) {
      json_error (escape_at, error, "\\u must be followed by four hex digits");
      goto fail;
    }
    r->pos += 4;

    if (cp >= 0xd800 && cp <= 0xdbff) {
      gint low = -1;

      if (r->end - r->pos >= 6 && r->text[r->pos] == '\\'
          && r->text[r->pos + 1] == 'u')
        low = json_hex4 (r, r->pos + 2);
      if (low < 0xdc00 || low > 0xdfff) {
        /* Stricter than JSON.parse(), which keeps lone surrogates: they
         * have no UTF-8 form, and JsonNode strings are UTF-8. */
        json_error (escape_at, error, "lone surrogate \\u%04x in string", cp);
        goto fail;
      }
      r->pos += 6;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
      json_error (escape_at, error, "lone surrogate \\u%04x in string", cp);
      goto fail;
    } else if (cp == 0) {
      /* Stricter than JSON.parse(): a C string would end there. */
      json_error (escape_at, error, "\\u0000 in string is not supported");
      goto fail;
    }
    g_string_append_unichar (s, (gunichar) cp);
  }

fail:
  g_string_free (s, TRUE);
  return NULL;
}

static gboolean
is_digit (WireJsonReader * r, gsize pos)
{
  return pos < r->end && r->text[pos] >= '0' && r->text[pos] <= '9';
}

static JsonNode *
json_read_number (WireJsonReader * r, GError ** error)
{
  gsize start = r->pos;
  gchar *copy;
  gdouble d;
  JsonNode *node;

  if (r->text[r->pos] == '-')
    r->pos++;
  if (!is_digit (r, r->pos)) {
    json_unexpected (r, error, "a digit");
    return NULL;
  }
  if (r->text[r->pos] == '0') {
    r->pos++;
  } else {
    while (is_digit (r, r->pos))
      r->pos++;
  }
  if (r->pos < r->end && r->text[r->pos] == '.') {
    r->pos++;
    if (!is_digit (r, r->pos)) {
      json_unexpected (r, error, "a digit after '.'");
      return NULL;
    }
    while (is_digit (r, r->pos))
      r->pos++;
  }
  if (r->pos < r->end && (r->text[r->pos] == 'e' || r->text[r->pos] == 'E')) {
    r->pos++;
    if (r->pos < r->end && (r->text[r->pos] == '+' || r->text[r->pos] == '-'))
      r->pos++;
    if (!is_digit (r, r->pos)) {
      json_unexpected (r, error, "a digit in the exponent");
      return NULL;
    }
    while (is_digit (r, r->pos))
      r->pos++;
  }

  /* The input is not NUL-terminated, and strtod() needs it to be. */
  copy = g_strndup (r->text + start, r->pos - start);
  d = g_ascii_strtod (copy, NULL);
  g_free (copy);

  if (!isfinite (d)) {
    /* Stricter than JSON.parse(), which yields Infinity; JSON.stringify()
     * would turn that into null, so the packet would not survive a round
     * trip (an event named 1e999 would become an invalid one). */
    json_error (start, error, "number out of range");
    return NULL;
  }

  node = json_node_alloc ();
  if (d == floor (d) && fabs (d) <= MAX_SAFE_INTEGER)
    json_node_init_int (node, (gint64) d);
  else
    json_node_init_double (node, d);
  return node;
}

static gboolean
json_read_literal (WireJsonReader * r, const gchar * word)
{
  gsize n = strlen (word);

  if (r->end - r->pos < n || memcmp (r->text + r->pos, word, n) != 0)
    return FALSE;
  r->pos += n;
  return TRUE;
}

static JsonNode *
json_read_array (WireJsonReader * r, GError ** error)
{
  JsonArray *array = json_array_new ();
  JsonNode *node;

  r->pos++;
  json_skip_ws (r);
  if (r->pos < r->end && r->text[r->pos] == ']') {
    r->pos++;
    goto done;
  }

  for (;;) {
    JsonNode *element = json_read_value (r, error);

    if (element == NULL) {
      json_array_unref (array);
      return NULL;
    }
    json_array_add_element (array, element);

    json_skip_ws (r);
    if (r->pos < r->end && r->text[r->pos] == ',') {
      r->pos++;
      continue;
    }
    if (r->pos < r->end && r->text[r->pos] == ']') {
      r->pos++;
      break;
    }
    json_unexpected (r, error, "',' or ']' in array");
    json_array_unref (array);
    return NULL;
  }

done:
  node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, array);
  return node;
}

static JsonNode *
json_read_object (WireJsonReader * r, GError ** error)
{
  JsonObject *object = json_object_new ();
  JsonNode *node;

  r->pos++;
  json_skip_ws (r);
  if (r->pos < r->end && r->text[r->pos] == '}') {
    r->pos++;
    goto done;
  }

  for (;;) {
    gchar *name;
    JsonNode *member;

    json_skip_ws (r);
    if (r->pos >= r->end || r->text[r->pos] != '"') {
      json_unexpected (r, error, "a string as object key");
      goto fail;
    }
    name = json_read_string (r, error);
    if (name == NULL)
      goto fail;

    json_skip_ws (r);
    if (r->pos >= r->end || r->text[r->pos] != ':') {
      json_unexpected (r, error, "':' after object key");
      g_free (name);
      goto fail;
    }
    r->pos++;

    member = json_read_value (r, error);
    if (member == NULL) {
      g_free (name);
      goto fail;
    }
    /* A repeated key keeps its first position and takes the last value,
     * as in a JavaScript object. */
    json_object_set_member (object, name, member);
    g_free (name);

    json_skip_ws (r);
    if (r->pos < r->end && r->text[r->pos] == ',') {
      r->pos++;
      continue;
    }
    if (r->pos < r->end && r->text[r->pos] == '}') {
      r->pos++;
      break;
    }
    json_unexpected (r, error, "',' or '}' in object");
    goto fail;
  }

done:
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, object);
  return node;

fail:
  json_object_unref (object);
  return NULL;
}

static JsonNode *
json_read_value (WireJsonReader * r, GError ** error)
{
  JsonNode *node;
  gchar c;

  json_skip_ws (r);
  if (r->pos >= r->end) {
    json_unexpected (r, error, "a value");
    return NULL;
  }

  c = r->text[r->pos];
  switch (c) {
    case '{':
    case '[':
      if (r->depth >= MAX_JSON_DEPTH) {
        json_error (r->pos, error, "nested deeper than %d levels",
            MAX_JSON_DEPTH);
        return NULL;
      }
      r->depth++;
      node = c == '{' ? json_read_object (r, error) : json_read_array (r,
          error);
      r->depth--;
      return node;
    case '"':{
      gchar *str = json_read_string (r, error);

      if (str == NULL)
        return NULL;
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (node, str);
      g_free (str);
      return node;
    }
    case 't':
    case 'f':
      if (json_read_literal (r, c == 't' ? "true" : "false")) {
        node = json_node_new (JSON_NODE_VALUE);
        json_node_set_boolean (node, c == 't');
        return node;
      }
      break;
    case 'n':
      if (json_read_literal (r, "null"))
        return json_node_new (JSON_NODE_NULL);
      break;
    default:
      if (c == '-' || (c >= '0' && c <= '9'))
        return json_read_number (r, error);
      break;
  }

  json_unexpected (r, error, "a value");
  return NULL;
}

/* Parses the whole of @text[start..end) as one JSON value, allowing JSON
 * whitespace around it, as JSON.parse() does. */
static JsonNode *
json_parse (const gchar * text, gsize start, gsize end, GError ** error)
{
  WireJsonReader r = { text, start, end, 0 };
  JsonNode *node = json_read_value (&r, error);

  if (node == NULL)
    return NULL;

  json_skip_ws (&r);
  if (r.pos < r.end) {
    json_unexpected (&r, error, "end of input after the JSON value");
    json_node_unref (node);
    return NULL;
  }
  return node;
}

/* ------------------------------------------------------------------------ */
/* JSON writer: byte-for-byte what JSON.stringify() prints                  */
/* ------------------------------------------------------------------------ */

static void
json_write_string (GString * out, const gchar * str)
{
  gchar *valid = NULL;
  const guchar *p;

  /* A JS string is always well-formed; a C string may not be. Replace bad
   * bytes with U+FFFD rather than emit invalid UTF-8. */
  if (!g_utf8_validate (str, -1, NULL))
    str = valid = g_utf8_make_valid (str, -1);

  g_string_append_c (out, '"');
  for (p = (const guchar *) str; *p != '\0'; p++) {
    switch (*p) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\b':
        g_string_append (out, "\\b");
        break;
      case '\f':
        g_string_append (out, "\\f");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      default:
        /* Other controls as lower-case \u00xx; "/", DEL, U+2028/9 and
         * all non-ASCII go through unchanged, as in JSON.stringify(). */
        if (*p < 0x20)
          g_string_append_printf (out, "\\u%04x", *p);
        else
          g_string_append_c (out, (gchar) * p);
        break;
    }
  }
  g_string_append_c (out, '"');
  g_free (valid);
}

/* Shortest decimal digits that read back as @d (> 0, finite): on return
 * @d == digits × 10^@exp10, digits without trailing zeros. This is the
 * digit string ECMAScript's Number::toString asks for: as few digits as
 * possible, and of those the closest to @d. The correctly rounded p-digit
 * value is the closest; its neighbours are tried too because near a power
 * of two the interval that reads back as @d is lopsided. */
static void
shortest_digits (gdouble d, gchar digits[24], gint * exp10)
{
  gint p;

  /* Not reached: 17 significant digits always read back. */
  g_strlcpy (digits, "0", 24);
  *exp10 = 0;

  for (p = 1; p <= 17; p++) {
    gchar fmt[16], buf[G_ASCII_DTOSTR_BUF_SIZE];
    guint64 mantissa = 0;
    const gchar *c;
    gint e, q, i;
    gint64 deltas[3] = { 0, -1, 1 };

    g_snprintf (fmt, sizeof fmt, "%%.%de", p - 1);
    g_ascii_formatd (buf, sizeof buf, fmt, d);

    /* buf is "D[.DDD]e±XX" */
    for (c = buf; *c != 'e' && *c != '\0'; c++) {
      if (*c >= '0' && *c <= '9')
        mantissa = mantissa * 10 + (guint64) (*c - '0');
    }
    e = *c == 'e' ? (gint) g_ascii_strtoll (c + 1, NULL, 10) : 0;
    q = e - (p - 1);

    for (i = 0; i < 3; i++) {
      guint64 m = mantissa + (guint64) deltas[i];
      gchar candidate[48];

      if (m == 0)
        continue;
      g_snprintf (candidate, sizeof candidate,
          "%" G_GUINT64_FORMAT "e%d", m, q);
      if (g_ascii_strtod (candidate, NULL) == d || p == 17) {
        while (m % 10 == 0) {
          m /= 10;
          q++;
        }
        g_snprintf (digits, 24, "%" G_GUINT64_FORMAT, m);
        *exp10 = q;
        return;
      }
    }
  }
}

/* ECMAScript Number::toString(10), which JSON.stringify() uses for finite
 * numbers; non-finite ones become null. 0.1 → "0.1", 1e21 → "1e+21",
 * 1e-7 → "1e-7", 2^60 → "1152921504606847000", -0 → "0". */
static void
json_write_double (GString * out, gdouble d)
{
  gchar digits[24];
  gint q, k, n;

  if (!isfinite (d)) {
    g_string_append (out, "null");
    return;
  }
  if (d == 0) {
    g_string_append_c (out, '0');
    return;
  }
  if (d < 0) {
    g_string_append_c (out, '-');
    d = -d;
  }

  shortest_digits (d, digits, &q);
  k = strlen (digits);
  n = k + q;                    /* d = 0.digits × 10^n */

  if (k <= n && n <= 21) {
    g_string_append (out, digits);
    for (; n > k; n--)
      g_string_append_c (out, '0');
  } else if (0 < n && n <= 21) {
    g_string_append_len (out, digits, n);
    g_string_append_c (out, '.');
    g_string_append (out, digits + n);
  } else if (-6 < n && n <= 0) {
    g_string_append (out, "0.");
    for (; n < 0; n++)
      g_string_append_c (out, '0');
    g_string_append (out, digits);
  } else {
    g_string_append_c (out, digits[0]);
    if (k > 1) {
      g_string_append_c (out, '.');
      g_string_append (out, digits + 1);
    }
    g_string_append_printf (out, "e%c%d", n - 1 < 0 ? '-' : '+',
        ABS (n - 1));
  }
}

static void json_write_node (GString * out, JsonNode * node);

/* ECMAScript "array index": canonical decimal below 2^32 - 1. */
static gboolean
is_array_index (const gchar * key, guint32 * index)
{
  guint64 value = 0;
  const gchar *p;

  if (key[0] == '\0' || (key[0] == '0' && key[1] != '\0'))
    return FALSE;
  for (p = key; *p != '\0'; p++) {
    if (*p < '0' || *p > '9')
      return FALSE;
    value = value * 10 + (guint64) (*p - '0');
    if (value >= G_MAXUINT32)
      return FALSE;
  }
  *index = (guint32) value;
  return TRUE;
}

typedef struct
{
  guint32 index;
  const gchar *name;
  JsonNode *node;
} IndexMember;

static gint
compare_index_members (gconstpointer a, gconstpointer b)
{
  guint32 ia = ((const IndexMember *) a)->index;
  guint32 ib = ((const IndexMember *) b)->index;

  return ia < ib ? -1 : ia > ib;
}

static void
json_write_member (GString * out, gboolean * first, const gchar * name,
    JsonNode * node)
{
  if (!*first)
    g_string_append_c (out, ',');
  *first = FALSE;
  json_write_string (out, name);
  g_string_append_c (out, ':');
  json_write_node (out, node);
}

/* Members in JavaScript property order: array-index keys ascending first,
 * then the others in insertion order (json_object_iter_init_ordered()). */
static void
json_write_object (GString * out, JsonObject * object)
{
  GArray *indices = g_array_new (FALSE, FALSE, sizeof (IndexMember));
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *member;
  gboolean first = TRUE;
  guint i;

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member)) {
    IndexMember im;

    if (is_array_index (name, &im.index)) {
      im.name = name;
      im.node = member;
      g_array_append_val (indices, im);
    }
  }
  g_array_sort (indices, compare_index_members);

  g_string_append_c (out, '{');
  for (i = 0; i < indices->len; i++) {
    IndexMember *im = &g_array_index (indices, IndexMember, i);

    json_write_member (out, &first, im->name, im->node);
  }
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member)) {
    guint32 index;

    if (!is_array_index (name, &index))
      json_write_member (out, &first, name, member);
  }
  g_string_append_c (out, '}');
  g_array_unref (indices);
}

static void
json_write_node (GString * out, JsonNode * node)
{
  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:{
      JsonObject *object = json_node_get_object (node);

      if (object == NULL)
        g_string_append (out, "null");
      else
        json_write_object (out, object);
      break;
    }
    case JSON_NODE_ARRAY:{
      JsonArray *array = json_node_get_array (node);
      guint i, n;

      if (array == NULL) {
        g_string_append (out, "null");
        break;
      }
      n = json_array_get_length (array);
      g_string_append_c (out, '[');
      for (i = 0; i < n; i++) {
        if (i > 0)
          g_string_append_c (out, ',');
        json_write_node (out, json_array_get_element (array, i));
      }
      g_string_append_c (out, ']');
      break;
    }
    case JSON_NODE_VALUE:{
      GType type = json_node_get_value_type (node);

      if (type == G_TYPE_INT64) {
        /* Exact, even beyond 2^53 where a JS Number would round. */
        g_string_append_printf (out, "%" G_GINT64_FORMAT,
            json_node_get_int (node));
      } else if (type == G_TYPE_DOUBLE) {
        json_write_double (out, json_node_get_double (node));
      } else if (type == G_TYPE_BOOLEAN) {
        g_string_append (out, json_node_get_boolean (node) ? "true" :
            "false");
      } else if (type == G_TYPE_STRING && json_node_get_string (node)) {
        json_write_string (out, json_node_get_string (node));
      } else {
        g_string_append (out, "null");
      }
      break;
    }
    case JSON_NODE_NULL:
    default:
      g_string_append (out, "null");
      break;
  }
}

/**
 * gst_mesh_json_to_string:
 * @node: (nullable): the value
 *
 * Returns: compact JSON exactly as JSON.stringify() would print the same
 * value, or %NULL for a %NULL node (JSON.stringify(undefined) is not a
 * string either). Numbers: gint64 values print exactly; doubles print with
 * the shortest digits that read back as the same double, in JavaScript's
 * notation (1.5, 0.1, 1e+21, 1e-7); NaN and infinities print as null.
 */
gchar *
gst_mesh_json_to_string (JsonNode * node)
{
  GString *out;

  if (node == NULL)
    return NULL;

  out = g_string_new (NULL);
  json_write_node (out, node);
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------------ */
/* Socket.IO v5                                                             */
/* ------------------------------------------------------------------------ */

static const gchar *const sio_type_names[] = {
  "CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT",
  "BINARY_ACK",
};

/* Names socket.io-parser refuses as events: they mean something to the
 * Socket.IO or Node.js EventEmitter machinery. */
static const gchar *const reserved_events[] = {
  "connect", "connect_error", "disconnect", "disconnecting", "newListener",
  "removeListener",
};

static gboolean
sio_is_binary (GstMeshSioType type)
{
  return type == GST_MESH_SIO_BINARY_EVENT || type == GST_MESH_SIO_BINARY_ACK;
}

static const gchar *
json_kind (JsonNode * node)
{
  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:
      return "object";
    case JSON_NODE_ARRAY:
      return "array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:{
      GType type = json_node_get_value_type (node);

      if (type == G_TYPE_INT64 || type == G_TYPE_DOUBLE)
        return "number";
      if (type == G_TYPE_BOOLEAN)
        return "boolean";
      if (type == G_TYPE_STRING)
        return "string";
      break;
    }
  }
  return "unknown";
}

static gboolean
json_is_number (JsonNode * node)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

static gboolean
json_is_string (JsonNode * node)
{
  return JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING;
}

static GstMeshSioPacket *
sio_packet_alloc (GstMeshSioType type)
{
  GstMeshSioPacket *packet = g_new0 (GstMeshSioPacket, 1);

  packet->type = type;
  packet->id = GST_MESH_SIO_NO_ID;
  packet->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  return packet;
}

/**
 * gst_mesh_sio_packet_new:
 * @nsp: (nullable): the namespace; %NULL or "" mean "/"
 * @id: the ack id, or %GST_MESH_SIO_NO_ID (any negative value)
 * @data: (nullable) (transfer none): the payload; a reference is taken
 *
 * For BINARY_* packets set @n_attachments and add the attachments before
 * encoding.
 */
GstMeshSioPacket *
gst_mesh_sio_packet_new (GstMeshSioType type, const gchar * nsp, gint64 id,
    JsonNode * data)
{
  GstMeshSioPacket *packet;

  g_return_val_if_fail (type >= GST_MESH_SIO_CONNECT
      && type <= GST_MESH_SIO_BINARY_ACK, NULL);

  packet = sio_packet_alloc (type);
  packet->nsp = g_strdup (nsp != NULL && nsp[0] != '\0' ? nsp : "/");
  packet->id = id < 0 ? GST_MESH_SIO_NO_ID : id;
  packet->data = data ? json_node_ref (data) : NULL;
  return packet;
}

/**
 * gst_mesh_sio_packet_new_event:
 * @args: (nullable) (transfer none): the arguments; the elements are copied
 *
 * An EVENT packet whose data is [@event, ...@args].
 */
GstMeshSioPacket *
gst_mesh_sio_packet_new_event (const gchar * nsp, gint64 id,
    const gchar * event, JsonArray * args)
{
  GstMeshSioPacket *packet;
  JsonArray *array;
  guint i, n;

  g_return_val_if_fail (event != NULL, NULL);

  array = json_array_new ();
  json_array_add_string_element (array, event);
  n = args ? json_array_get_length (args) : 0;
  for (i = 0; i < n; i++)
    json_array_add_element (array,
        json_node_copy (json_array_get_element (args, i)));

  packet = gst_mesh_sio_packet_new (GST_MESH_SIO_EVENT, nsp, id, NULL);
  packet->data = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (packet->data, array);
  return packet;
}

void
gst_mesh_sio_packet_free (GstMeshSioPacket * packet)
{
  if (packet == NULL)
    return;
  g_free (packet->nsp);
  g_clear_pointer (&packet->data, json_node_unref);
  g_clear_pointer (&packet->attachments, g_ptr_array_unref);
  g_free (packet);
}

/* socket.io-parser's isPayloadValid(), with messages saying what was
 * wrong. Stricter than socket.io-parser: it only checks a payload that is
 * there, so it lets "2" (an EVENT without data) through; we require the
 * payload the packet type is meaningless without (EVENT, ACK,
 * CONNECT_ERROR). The reference encoders never omit it. */
static gboolean
sio_check_payload (const GstMeshSioPacket * packet, GError ** error)
{
  const gchar *type_name = sio_type_names[packet->type];
  JsonNode *data = packet->data;

  switch (packet->type) {
    case GST_MESH_SIO_CONNECT:
      if (data != NULL && !JSON_NODE_HOLDS_OBJECT (data)) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_PAYLOAD,
            "CONNECT payload must be an object, got %s", json_kind (data));
        return FALSE;
      }
      return TRUE;

    case GST_MESH_SIO_DISCONNECT:
      if (data != NULL) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_PAYLOAD,
            "DISCONNECT packet must not carry a payload, got %s",
            json_kind (data));
        return FALSE;
      }
      return TRUE;

    case GST_MESH_SIO_CONNECT_ERROR:
      if (data == NULL) {
        g_set_error_literal (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_PAYLOAD,
            "CONNECT_ERROR packet has no payload, expected a string or an "
            "object");
        return FALSE;
      }
      if (!JSON_NODE_HOLDS_OBJECT (data) && !json_is_string (data)) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_PAYLOAD,
            "CONNECT_ERROR payload must be a string or an object, got %s",
            json_kind (data));
        return FALSE;
      }
      return TRUE;

    case GST_MESH_SIO_EVENT:
    case GST_MESH_SIO_BINARY_EVENT:{
      JsonArray *array;
      JsonNode *first;
      guint i;

      if (data == NULL) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_PAYLOAD,
            "%s packet has no payload, expected a non-empty array",
            type_name);
        return FALSE;
      }
      if (!JSON_NODE_HOLDS_ARRAY (data)) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_PAYLOAD,
            "%s payload must be a non-empty array, got %s", type_name,
            json_kind (data));
        return FALSE;
      }
      array = json_node_get_array (data);
      if (array == NULL || json_array_get_length (array) == 0) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_PAYLOAD,
            "%s payload must be a non-empty array, got an empty array",
            type_name);
        return FALSE;
      }
      first = json_array_get_element (array, 0);
      if (json_is_number (first))
        return TRUE;
      if (!json_is_string (first)) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_PAYLOAD,
            "%s name (first array element) must be a string or a number, "
            "got %s", type_name, json_kind (first));
        return FALSE;
      }
      for (i = 0; i < G_N_ELEMENTS (reserved_events); i++) {
        if (g_strcmp0 (json_node_get_string (first), reserved_events[i]) == 0) {
          g_set_error (error, GST_MESH_PACKET_ERROR,
              GST_MESH_PACKET_ERROR_PAYLOAD,
              "%s name \"%s\" is reserved", type_name, reserved_events[i]);
          return FALSE;
        }
      }
      return TRUE;
    }

    case GST_MESH_SIO_ACK:
    case GST_MESH_SIO_BINARY_ACK:
      if (data == NULL) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_PAYLOAD,
            "%s packet has no payload, expected an array", type_name);
        return FALSE;
      }
      if (!JSON_NODE_HOLDS_ARRAY (data)) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_PAYLOAD,
            "%s payload must be an array, got %s", type_name,
            json_kind (data));
        return FALSE;
      }
      return TRUE;
  }

  return FALSE;
}

/* socket.io-parser's reconstructPacket() fails on a placeholder whose num
 * is not an index into the attachments; checking at decode time, against
 * the announced count, fails the same packets but before we wait for the
 * attachments. Stricter than socket.io-parser: num must be an integer. */
static gboolean
sio_check_placeholders (JsonNode * node, guint n_attachments,
    GError ** error)
{
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *array = json_node_get_array (node);
    guint i, n = array ? json_array_get_length (array) : 0;

    for (i = 0; i < n; i++) {
      if (!sio_check_placeholders (json_array_get_element (array, i),
              n_attachments, error))
        return FALSE;
    }
    return TRUE;
  }

  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *object = json_node_get_object (node);
    JsonNode *flag, *num;
    JsonObjectIter iter;
    const gchar *name;
    JsonNode *member;

    if (object == NULL)
      return TRUE;

    flag = json_object_get_member (object, "_placeholder");
    if (flag != NULL && JSON_NODE_HOLDS_VALUE (flag)
        && json_node_get_value_type (flag) == G_TYPE_BOOLEAN
        && json_node_get_boolean (flag)) {
      num = json_object_get_member (object, "num");
      if (num == NULL || !JSON_NODE_HOLDS_VALUE (num)
          || json_node_get_value_type (num) != G_TYPE_INT64) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_ATTACHMENTS,
            "binary placeholder \"num\" must be an integer, got %s",
            num ? json_kind (num) : "nothing");
        return FALSE;
      }
      if (json_node_get_int (num) < 0
          || json_node_get_int (num) >= (gint64) n_attachments) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_ATTACHMENTS,
            "binary placeholder num %" G_GINT64_FORMAT " is out of range: "
            "the packet announces %u attachment%s", json_node_get_int (num),
            n_attachments, n_attachments == 1 ? "" : "s");
        return FALSE;
      }
      return TRUE;
    }

    json_object_iter_init_ordered (&iter, object);
    while (json_object_iter_next_ordered (&iter, &name, &member)) {
      if (!sio_check_placeholders (member, n_attachments, error))
        return FALSE;
    }
  }

  return TRUE;
}

GstMeshSioPacket *
gst_mesh_sio_packet_decode (const gchar * text, gsize len, GError ** error)
{
  g_autoptr (GstMeshSioPacket) packet = NULL;
  gchar desc[16];
  const gchar *type_name;
  gsize pos;
  guchar c;

  if (len == 0) {
    g_set_error_literal (error, GST_MESH_PACKET_ERROR,
        GST_MESH_PACKET_ERROR_EMPTY, "empty Socket.IO packet");
    return NULL;
  }
  g_return_val_if_fail (text != NULL, NULL);

  if (!check_utf8 (text, len, "Socket.IO packet", error))
    return NULL;

  /* <type> */
  c = (guchar) text[0];
  if (c < '0' + GST_MESH_SIO_CONNECT || c > '0' + GST_MESH_SIO_BINARY_ACK) {
    g_set_error (error, GST_MESH_PACKET_ERROR, GST_MESH_PACKET_ERROR_TYPE,
        "invalid Socket.IO packet type %s", describe_byte (c, desc));
    return NULL;
  }
  packet = sio_packet_alloc ((GstMeshSioType) (c - '0'));
  type_name = sio_type_names[packet->type];
  pos = 1;

  /* [<attachments>-] */
  if (sio_is_binary (packet->type)) {
    gsize start = pos;
    guint n = 0;

    while (pos < len && g_ascii_isdigit (text[pos])) {
      n = n * 10 + (guint) (text[pos] - '0');
      if (n > MAX_ATTACHMENTS) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_ATTACHMENTS,
            "%s attachment count at offset %" G_GSIZE_FORMAT
            " exceeds the limit of %d", type_name, start, MAX_ATTACHMENTS);
        return NULL;
      }
      pos++;
    }
    if (pos == start) {
      g_set_error (error, GST_MESH_PACKET_ERROR, GST_MESH_PACKET_ERROR_FORMAT,
          "%s attachment count missing at offset %" G_GSIZE_FORMAT,
          type_name, start);
      return NULL;
    }
    if (pos >= len || text[pos] != '-') {
      g_set_error (error, GST_MESH_PACKET_ERROR, GST_MESH_PACKET_ERROR_FORMAT,
          "%s attachment count missing '-' at offset %" G_GSIZE_FORMAT,
          type_name, pos);
      return NULL;
    }
    if (n == 0) {
      /* As socket.io-parser 4.2.7: a binary packet without binary. */
      g_set_error (error, GST_MESH_PACKET_ERROR,
          GST_MESH_PACKET_ERROR_ATTACHMENTS,
          "%s announces 0 attachments, expected at least 1", type_name);
      return NULL;
    }
    packet->n_attachments = n;
    pos++;
  }

  /* [<nsp>,] As socket.io-parser: the namespace runs to the first ',' or,
   * without one, to the end of the packet ("40/admin", which the official
   * protocol test suite sends); then nothing follows it. */
  if (pos < len && text[pos] == '/') {
    const gchar *comma = memchr (text + pos, ',', len - pos);
    gsize end = comma ? (gsize) (comma - text) : len;

    packet->nsp = g_strndup (text + pos, end - pos);
    pos = comma ? end + 1 : len;
  } else {
    packet->nsp = g_strdup ("/");
  }

  /* [<ack id>] */
  if (pos < len && g_ascii_isdigit (text[pos])) {
    gsize start = pos;
    gint64 id = 0;

    while (pos < len && g_ascii_isdigit (text[pos])) {
      gint digit = text[pos] - '0';

      if (id > (G_MAXINT64 - digit) / 10) {
        g_set_error (error, GST_MESH_PACKET_ERROR,
            GST_MESH_PACKET_ERROR_FORMAT,
            "ack id at offset %" G_GSIZE_FORMAT " too large (more than %"
            G_GINT64_FORMAT ")", start, G_MAXINT64);
        return NULL;
      }
      id = id * 10 + digit;
      pos++;
    }
    packet->id = id;
  }

  /* [<JSON>] */
  if (pos < len) {
    packet->data = json_parse (text, pos, len, error);
    if (packet->data == NULL) {
      g_prefix_error (error, "%s packet: ", type_name);
      return NULL;
    }
  }

  if (!sio_check_payload (packet, error))
    return NULL;

  if (sio_is_binary (packet->type)
      && !sio_check_placeholders (packet->data, packet->n_attachments, error))
    return NULL;

  return g_steal_pointer (&packet);
}

gchar *
gst_mesh_sio_packet_encode (const GstMeshSioPacket * packet)
{
  GString *out;

  g_return_val_if_fail (packet != NULL, NULL);

  /* socket.io-parser's encodeAsString(). */
  out = g_string_new (NULL);
  g_string_append_c (out, (gchar) ('0' + packet->type));
  if (sio_is_binary (packet->type))
    g_string_append_printf (out, "%u-", packet->n_attachments);
  if (packet->nsp != NULL && packet->nsp[0] != '\0'
      && strcmp (packet->nsp, "/") != 0) {
    g_string_append (out, packet->nsp);
    g_string_append_c (out, ',');
  }
  if (packet->id >= 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, packet->id);
  /* `null != obj.data`: a JSON null is left out like a missing payload. */
  if (packet->data != NULL && !JSON_NODE_HOLDS_NULL (packet->data))
    json_write_node (out, packet->data);
  return g_string_free (out, FALSE);
}

/**
 * gst_mesh_sio_packet_add_attachment_full:
 * @data: (nullable) (transfer none): the attachment; a reference is taken
 *
 * Returns: %TRUE if @data was taken; %FALSE with
 * %GST_MESH_PACKET_ERROR_ATTACHMENTS if @packet is not a BINARY_* packet or
 * already has all the attachments it announced.
 */
gboolean
gst_mesh_sio_packet_add_attachment_full (GstMeshSioPacket * packet,
    GBytes * data, GError ** error)
{
  g_return_val_if_fail (packet != NULL, FALSE);

  if (!sio_is_binary (packet->type)) {
    g_set_error (error, GST_MESH_PACKET_ERROR,
        GST_MESH_PACKET_ERROR_ATTACHMENTS,
        "%s packet takes no binary attachments",
        sio_type_names[packet->type]);
    return FALSE;
  }
  if (packet->attachments->len >= packet->n_attachments) {
    g_set_error (error, GST_MESH_PACKET_ERROR,
        GST_MESH_PACKET_ERROR_ATTACHMENTS,
        "unexpected binary attachment: the %s packet announced %u and has "
        "them all", sio_type_names[packet->type], packet->n_attachments);
    return FALSE;
  }

  g_ptr_array_add (packet->attachments,
      data ? g_bytes_ref (data) : g_bytes_new (NULL, 0));
  return TRUE;
}

/**
 * gst_mesh_sio_packet_add_attachment:
 * @data: (nullable) (transfer none): the attachment; a reference is taken
 *
 * Returns: %TRUE if @data was taken and completed the packet. An attachment
 * the packet did not announce is not taken and %FALSE is returned; use
 * gst_mesh_sio_packet_add_attachment_full() to tell that case apart.
 */
gboolean
gst_mesh_sio_packet_add_attachment (GstMeshSioPacket * packet,
    GBytes * data)
{
  if (!gst_mesh_sio_packet_add_attachment_full (packet, data, NULL))
    return FALSE;
  return gst_mesh_sio_packet_is_complete (packet);
}

gboolean
gst_mesh_sio_packet_is_complete (const GstMeshSioPacket * packet)
{
  g_return_val_if_fail (packet != NULL, FALSE);

  if (!sio_is_binary (packet->type))
    return TRUE;
  return packet->attachments->len >= packet->n_attachments;
}

static JsonArray *
sio_event_array (const GstMeshSioPacket * packet)
{
  if (packet->data == NULL || !JSON_NODE_HOLDS_ARRAY (packet->data))
    return NULL;
  return json_node_get_array (packet->data);
}

const gchar *
gst_mesh_sio_packet_get_event_name (const GstMeshSioPacket * packet)
{
  JsonArray *array;
  JsonNode *first;

  g_return_val_if_fail (packet != NULL, NULL);

  if (packet->type != GST_MESH_SIO_EVENT
      && packet->type != GST_MESH_SIO_BINARY_EVENT)
    return NULL;
  array = sio_event_array (packet);
  if (array == NULL || json_array_get_length (array) == 0)
    return NULL;
  first = json_array_get_element (array, 0);
  return json_is_string (first) ? json_node_get_string (first) : NULL;
}

/**
 * gst_mesh_sio_packet_dup_event_args:
 *
 * Returns: (transfer full) (nullable): for EVENT / BINARY_EVENT the
 * elements after the event name; for ACK / BINARY_ACK all elements (an
 * ack's data is its argument list); %NULL for other packets. The elements
 * are json_node_copy()s, so nested objects and arrays are shared.
 */
JsonArray *
gst_mesh_sio_packet_dup_event_args (const GstMeshSioPacket * packet)
{
  JsonArray *array, *args;
  guint i, first, n;

  g_return_val_if_fail (packet != NULL, NULL);

  switch (packet->type) {
    case GST_MESH_SIO_EVENT:
    case GST_MESH_SIO_BINARY_EVENT:
      first = 1;
      break;
    case GST_MESH_SIO_ACK:
    case GST_MESH_SIO_BINARY_ACK:
      first = 0;
      break;
    default:
      return NULL;
  }

  array = sio_event_array (packet);
  if (array == NULL)
    return NULL;

  n = json_array_get_length (array);
  args = json_array_sized_new (n > first ? n - first : 0);
  for (i = first; i < n; i++)
    json_array_add_element (args,
        json_node_copy (json_array_get_element (array, i)));
  return args;
}
