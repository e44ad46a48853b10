/* gst-mesh fuzz targets: a main() that runs the files it is given through
 * LLVMFuzzerTestOneInput once each, so every target's corpus (crashers
 * included) is a regression test without libFuzzer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    gchar *contents;
    gsize len;
    GError *error = NULL;
    uint8_t *copy;

    if (!g_file_get_contents (argv[i], &contents, &len, &error)) {
      fprintf (stderr, "%s\n", error->message);
      g_error_free (error);
      return 1;
    }
    /* an exact-size copy, so that ASan sees any read past the end */
    copy = g_memdup2 (contents, len);
    LLVMFuzzerTestOneInput (copy, len);
    g_free (copy);
    g_free (contents);
  }
  return 0;
}
