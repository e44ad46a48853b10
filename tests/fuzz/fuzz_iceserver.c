/* gst-mesh: libFuzzer target for ICE server URLs and the "ice-servers"
 * message (gstmeshiceserver.c), which come from the network (a signalling
 * server's ice-servers event) and from users (properties).
 *
 * The input is JSON: it goes to gst_mesh_ice_servers_from_json() as the
 * event's argument, and the whole text also goes to
 * gst_mesh_ice_server_normalize() as a URL, with and without credentials.
 * Checked: every URI that comes out normalizes again to itself (what we
 * give webrtcbin is a fixed point), is a stun://, turn:// or turns:// URI
 * with a port, is UTF-8 when the input was, and its described form hides
 * the password; every error is UTF-8 and names the ICE server. The bytes
 * also go to the TURN probe's answer parser (gstmeshturnprobe.c) as a STUN
 * message to the transaction they name: what it gives is UTF-8, and an
 * error answer has a code from 300 to 699. Violations abort().
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I . \
 *     $(pkg-config --cflags json-glib-1.0 gio-2.0 gstreamer-1.0) \
 *     gst/mesh/gstmeshiceserver.c gst/mesh/gstmeshturnprobe.c \
 *     tests/fuzz/fuzz_iceserver.c \
 *     $(pkg-config --libs json-glib-1.0 gio-2.0 gstreamer-1.0)
 *   ./a.out tests/fuzz/corpus/iceserver
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/mesh/gstmeshiceserver.h>
#include <gst/mesh/gstmeshturnprobe.h>
#include <gio/gio.h>

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
check_uri (const gchar * uri, gboolean utf8_input)
{
  GError *error = NULL;
  gchar *again, *described;

  if (!g_str_has_prefix (uri, "stun://") && !g_str_has_prefix (uri,
          "turn://") && !g_str_has_prefix (uri, "turns://"))
    invariant_failed ("normalized URI has another scheme", uri, NULL);
  if (utf8_input && !g_utf8_validate (uri, -1, NULL))
    invariant_failed ("normalized URI is not UTF-8", uri, NULL);
  again = gst_mesh_ice_server_normalize (uri, NULL, NULL, NULL, &error);
  if (!again)
    invariant_failed ("normalized URI does not normalize", uri,
        error->message);
  if (strcmp (again, uri) != 0)
    invariant_failed ("normalizing is not idempotent", uri, again);
  described = gst_mesh_ice_server_describe (uri);
  if (!g_str_has_prefix (uri, "stun://") && !strstr (described, ":***@"))
    invariant_failed ("description shows the password", uri, described);
  g_free (described);
  g_free (again);
}

static void
check_error (const GError * error)
{
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
    invariant_failed ("unexpected error domain", error->message, NULL);
  if (!g_utf8_validate (error->message, -1, NULL))
    invariant_failed ("error message is not UTF-8", error->message, NULL);
  if (!g_str_has_prefix (error->message, "ICE server"))
    invariant_failed ("error names no ICE server", error->message, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  gchar *text = g_strndup ((const gchar *) data, size);
  gboolean utf8 = g_utf8_validate (text, -1, NULL);
  JsonParser *parser = json_parser_new ();
  const gchar *creds[][2] = { {NULL, NULL}, {"1735689600:al:ice", "a+b/c="} };

  if (utf8 && json_parser_load_from_data (parser, text, -1, NULL)) {
    GPtrArray *errors = g_ptr_array_new_with_free_func (g_free);
    guint ttl = 0;
    GPtrArray *uris = gst_mesh_ice_servers_from_json (json_parser_get_root
        (parser), &ttl, errors);

    for (guint i = 0; i < uris->len; i++)
      check_uri (g_ptr_array_index (uris, i), TRUE);
    for (guint i = 0; i < errors->len; i++)
      if (!g_utf8_validate (g_ptr_array_index (errors, i), -1, NULL))
        invariant_failed ("ice-servers error is not UTF-8",
            g_ptr_array_index (errors, i), NULL);
    g_ptr_array_unref (uris);
    g_ptr_array_unref (errors);
  }
  g_object_unref (parser);

  /* the URL parser gets UTF-8 (properties and JSON strings are) */
  if (utf8 && !memchr (data, '\0', size)) {
    for (guint i = 0; i < G_N_ELEMENTS (creds); i++) {
      GError *error = NULL;
      gchar *uri = gst_mesh_ice_server_normalize (text, creds[i][0],
          creds[i][1], NULL, &error);

      if (uri)
        check_uri (uri, TRUE);
      else
        check_error (error);
      g_clear_error (&error);
      g_free (uri);
    }
  }
  if (size >= 20) {
    GstMeshTurnAnswer a;

    if (gst_mesh_turn_answer_parse (data, size, data + 8, &a)) {
      if (!a.success && (a.code < 300 || a.code > 699))
        invariant_failed ("error answer with a code out of range", a.reason,
            NULL);
      if ((a.reason && !g_utf8_validate (a.reason, -1, NULL))
          || (a.realm && !g_utf8_validate (a.realm, -1, NULL))
          || (a.nonce && !g_utf8_validate (a.nonce, -1, NULL)))
        invariant_failed ("answer text is not UTF-8", a.reason, a.realm);
      gst_mesh_turn_answer_clear (&a);
    }
  }
  g_free (text);
  return 0;
}
