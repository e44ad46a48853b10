/* gst-mesh tests: signalling over TLS (https:// and wss://).
 *
 * Each test makes its own certificates with openssl in a temporary
 * directory: a test CA and a server certificate it signed (for localhost
 * and 127.0.0.1), a self-signed one, and a second CA that signed nothing
 * we serve. gst-mesh-server serves TLS with --cert/--key on port 4000;
 * meshsignal checks the certificate against ca-file, or accepts it
 * unchecked with tls-insecure. The calls open peer connections, so the
 * suite runs inside tools/netns-run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "meshtest.h"

#define CALL_TIMEOUT_MS 30000

typedef struct
{
  gchar *dir;
  gchar *ca;                    /* the test CA's certificate */
  gchar *server_cert, *server_key;      /* signed by it */
  gchar *self_cert, *self_key;  /* self-signed */
  gchar *other_ca;              /* a CA that signed nothing here */
} Certs;

static void
openssl (Certs * c, const gchar * first, ...)
{
  GPtrArray *argv = g_ptr_array_new ();
  const gchar *arg;
  gchar *err = NULL;
  gint status = 0;
  GError *error = NULL;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) "openssl");
  va_start (ap, first);
  for (arg = first; arg; arg = va_arg (ap, const gchar *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  fail_unless (g_spawn_sync (c->dir, (gchar **) argv->pdata, NULL,
          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
          &err, &status, &error), "cannot run openssl (install it): %s",
      error ? error->message : "?");
  fail_unless (g_spawn_check_wait_status (status, NULL), "openssl %s "
      "failed: %s", first, err);
  g_free (err);
  g_ptr_array_free (argv, TRUE);
}

/* P-256 keys: quick to make */
#define EC_KEY "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", \
    "-nodes"

static void
make_ca (Certs * c, const gchar * name, const gchar * cn)
{
  gchar *key = g_strdup_printf ("%s.key", name);
  gchar *pem = g_strdup_printf ("%s.pem", name);
  gchar *subj = g_strdup_printf ("/CN=%s", cn);

  openssl (c, "req", "-x509", EC_KEY, "-keyout", key, "-out", pem, "-days",
      "2", "-subj", subj, "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL);
  g_free (key);
  g_free (pem);
  g_free (subj);
}

static void
certs_make (Certs * c)
{
  GError *error = NULL;
  gchar *ext;

  c->dir = g_dir_make_tmp ("gst-mesh-tls-XXXXXX", &error);
  fail_unless (c->dir != NULL, "no temporary directory: %s",
      error ? error->message : "?");
  make_ca (c, "ca", "gst-mesh test CA");
  make_ca (c, "other-ca", "gst-mesh other CA");
  openssl (c, "req", EC_KEY, "-keyout", "server.key", "-out", "server.csr",
      "-subj", "/CN=localhost", NULL);
  ext = g_build_filename (c->dir, "server.ext", NULL);
  fail_unless (g_file_set_contents (ext,
          "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
          "basicConstraints=CA:FALSE\n"
          "extendedKeyUsage=serverAuth\n", -1, NULL));
  openssl (c, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
      "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2",
      "-extfile", "server.ext", NULL);
  openssl (c, "req", "-x509", EC_KEY, "-keyout", "self.key", "-out",
      "self.pem", "-days", "2", "-subj", "/CN=localhost", "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1", NULL);
  g_free (ext);
  c->ca = g_build_filename (c->dir, "ca.pem", NULL);
  c->other_ca = g_build_filename (c->dir, "other-ca.pem", NULL);
  c->server_cert = g_build_filename (c->dir, "server.pem", NULL);
  c->server_key = g_build_filename (c->dir, "server.key", NULL);
  c->self_cert = g_build_filename (c->dir, "self.pem", NULL);
  c->self_key = g_build_filename (c->dir, "self.key", NULL);
}

static void
certs_free (Certs * c)
{
  GDir *d = g_dir_open (c->dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    gchar *path = g_build_filename (c->dir, name, NULL);
    g_unlink (path);
    g_free (path);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (c->dir);
  g_free (c->dir);
  g_free (c->ca);
  g_free (c->other_ca);
  g_free (c->server_cert);
  g_free (c->server_key);
  g_free (c->self_cert);
  g_free (c->self_key);
}

static MeshTestPipeline *
peer (const gchar * url, const gchar * props)
{
  gchar *desc = mesh_test_peer_description (url, props);
  MeshTestPipeline *p = mesh_test_pipeline_new (desc);
  g_free (desc);
  return p;
}

/* A caller and a waiter, both with @props, reach the server at @url and
 * make a call that carries media both ways. */
static void
call_through (const gchar * url, const gchar * props)
{
  gchar *props_a = g_strdup_printf ("role=call %s", props);
  MeshTestPipeline *a = peer (url, props_a);
  MeshTestPipeline *b = peer (url, props);

  mesh_test_pipeline_play (b);
  mesh_test_pipeline_play (a);
  fail_unless (mesh_test_pipeline_wait_message (a, 0, CALL_TIMEOUT_MS,
          "mesh-signalling", "state", "connected") >= 0,
      "the caller did not connect to %s (%s)", url, a->errors->len ?
      (gchar *) g_ptr_array_index (a->errors, 0) : "no error");
  fail_unless (mesh_test_pipeline_wait_message (b, 0, CALL_TIMEOUT_MS,
          "mesh-signalling", "state", "connected") >= 0,
      "the waiter did not connect to %s (%s)", url, b->errors->len ?
      (gchar *) g_ptr_array_index (b->errors, 0) : "no error");
  mesh_test_assert_media (a, 0, CALL_TIMEOUT_MS, "caller");
  mesh_test_assert_media (b, 0, CALL_TIMEOUT_MS, "waiter");
  fail_unless (a->errors->len == 0 && b->errors->len == 0);
  mesh_test_pipeline_free (a);
  mesh_test_pipeline_free (b);
  g_free (props_a);
}

/* The first error of a pipeline that cannot reach @url with @props;
 * never a connection. */
static gchar *
connect_error (const gchar * url, const gchar * props)
{
  MeshTestPipeline *p = peer (url, props);
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  gchar *error = NULL;

  mesh_test_pipeline_play (p);
  while (!error && g_get_monotonic_time () < deadline) {
    g_mutex_lock (&p->lock);
    if (p->errors->len)
      error = g_strdup (g_ptr_array_index (p->errors, 0));
    g_mutex_unlock (&p->lock);
    g_usleep (10 * 1000);
  }
  fail_unless (error != NULL, "no error connecting to %s with '%s'", url,
      props);
  fail_unless (mesh_test_pipeline_wait_message (p, 0, 0, "mesh-signalling",
          "state", "connected") < 0, "connected to %s with '%s'", url, props);
  mesh_test_pipeline_free (p);
  return error;
}

static void
assert_contains (const gchar * text, const gchar * needle)
{
  gchar *low = g_ascii_strdown (text, -1);
  fail_unless (strstr (low, needle) != NULL, "'%s' does not say '%s'", text,
      needle);
  g_free (low);
}

static MeshTestServer *
tls_server (const gchar * cert, const gchar * key)
{
  return mesh_test_c_server_start_with ("--cert", cert, "--key", key, NULL);
}

/* https://, and wss:// with the name the certificate was made for */
GST_START_TEST (test_ca_file_makes_a_call)
{
  static const gchar *const urls[] = { "https://127.0.0.1:4000",
    "wss://localhost:4000"
  };
  Certs c = { 0, };
  MeshTestServer *s;
  gchar *props;

  certs_make (&c);
  s = tls_server (c.server_cert, c.server_key);
  props = g_strdup_printf ("ca-file=\"%s\"", c.ca);
  call_through (urls[__i__], props);
  g_free (props);
  mesh_test_server_stop (s);
  certs_free (&c);
}

GST_END_TEST;

/* The system's CAs do not know the test CA: an element error that says
 * the certificate was refused, and no connection. */
GST_START_TEST (test_unknown_ca_is_a_certificate_error)
{
  Certs c = { 0, };
  MeshTestServer *s;
  gchar *error, *props;

  certs_make (&c);
  s = tls_server (c.server_cert, c.server_key);
  error = connect_error ("https://127.0.0.1:4000", NULL);
  assert_contains (error, "certificate");
  assert_contains (error, "https://127.0.0.1:4000");
  g_free (error);
  /* nor does another CA */
  props = g_strdup_printf ("ca-file=\"%s\"", c.other_ca);
  error = connect_error ("wss://localhost:4000", props);
  assert_contains (error, "certificate");
  g_free (error);
  g_free (props);
  mesh_test_server_stop (s);
  certs_free (&c);
}

GST_END_TEST;

GST_START_TEST (test_self_signed_needs_tls_insecure)
{
  Certs c = { 0, };
  MeshTestServer *s;
  gchar *error;

  certs_make (&c);
  s = tls_server (c.self_cert, c.self_key);
  error = connect_error ("https://127.0.0.1:4000", NULL);
  assert_contains (error, "certificate");
  g_free (error);
  call_through ("https://127.0.0.1:4000", "tls-insecure=true");
  call_through ("wss://localhost:4000", "tls-insecure=true");
  mesh_test_server_stop (s);
  certs_free (&c);
}

GST_END_TEST;

/* A CA file that is not there is an error naming the file. */
GST_START_TEST (test_missing_ca_file_is_named)
{
  Certs c = { 0, };
  MeshTestServer *s;
  gchar *error, *missing, *props;

  certs_make (&c);
  s = tls_server (c.server_cert, c.server_key);
  missing = g_build_filename (c.dir, "no-such-ca.pem", NULL);
  props = g_strdup_printf ("ca-file=\"%s\"", missing);
  error = connect_error ("https://127.0.0.1:4000", props);
  assert_contains (error, "no-such-ca.pem");
  g_free (error);
  g_free (props);
  g_free (missing);
  mesh_test_server_stop (s);
  certs_free (&c);
}

GST_END_TEST;

/* ca-file=ca.pem, relative to the working directory, as a user types it
 * on a gst-launch-1.0 line. GLib's file database only takes absolute
 * paths (it warns on stderr and trusts nothing), so the element must make
 * the path absolute. */
GST_START_TEST (test_relative_ca_file_path_works)
{
  Certs c = { 0, };
  MeshTestServer *s;
  gchar *cwd = g_get_current_dir ();

  certs_make (&c);
  s = tls_server (c.server_cert, c.server_key);
  fail_unless (g_chdir (c.dir) == 0);
  call_through ("https://127.0.0.1:4000", "ca-file=ca.pem");
  fail_unless (g_chdir (cwd) == 0);
  g_free (cwd);
  mesh_test_server_stop (s);
  certs_free (&c);
}

GST_END_TEST;

static Suite *
tls_suite (void)
{
  Suite *s = suite_create ("tls");
  TCase *tc = tcase_create ("tls");

  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_ca_file_makes_a_call, 0, 2);
  tcase_add_test (tc, test_unknown_ca_is_a_certificate_error);
  tcase_add_test (tc, test_self_signed_needs_tls_insecure);
  tcase_add_test (tc, test_missing_ca_file_is_named);
  tcase_add_test (tc, test_relative_ca_file_path_works);
  return s;
}

GST_CHECK_MAIN (tls);
