/* gst-mesh tests: shared fixtures.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "meshtest.h"

#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

struct _MeshTestServer
{
  GSubprocess *proc;
  gchar **argv;
  guint port;
  gboolean port_from_stdout;
};

const gchar *
mesh_test_dir (void)
{
  const gchar *dir = g_getenv ("MESH_TESTS_DIR");
  return dir ? dir : MESH_TESTS_SOURCE_DIR;
}

static gboolean
port_accepts (guint port)
{
  GSocketClient *client = g_socket_client_new ();
  GSocketConnection *conn;

  g_socket_client_set_timeout (client, 1);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL,
      NULL);
  g_object_unref (client);
  if (!conn)
    return FALSE;
  g_object_unref (conn);
  return TRUE;
}

/* A test that fails exits at once, without its teardown: make the kernel
 * kill our servers then, so the next test finds its port free. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
spawn (MeshTestServer * s)
{
  GSubprocessLauncher *l = g_subprocess_launcher_new (s->port_from_stdout ?
      G_SUBPROCESS_FLAGS_STDOUT_PIPE : G_SUBPROCESS_FLAGS_NONE);
  GError *error = NULL;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  g_subprocess_launcher_set_cwd (l, mesh_test_dir ());
  g_subprocess_launcher_set_child_setup (l, die_with_parent, NULL, NULL);
  /* a server of the previous test may still be going away */
  if (s->port)
    while (port_accepts (s->port) && g_get_monotonic_time () < deadline)
      g_usleep (50 * 1000);
  s->proc = g_subprocess_launcher_spawnv (l, (const gchar * const *) s->argv,
      &error);
  g_object_unref (l);
  fail_unless (s->proc != NULL, "cannot start %s: %s", s->argv[1],
      error ? error->message : "?");

  if (s->port_from_stdout) {
    GDataInputStream *in =
        g_data_input_stream_new (g_subprocess_get_stdout_pipe (s->proc));
    gchar *line = g_data_input_stream_read_line (in, NULL, NULL, NULL);
    fail_unless (line && g_str_has_prefix (line, "LISTENING "),
        "%s did not say LISTENING (got '%s')", s->argv[1], line);
    s->port = atoi (line + strlen ("LISTENING "));
    g_free (line);
    g_object_unref (in);
  }
  while (!port_accepts (s->port)) {
    fail_unless (g_get_monotonic_time () < deadline,
        "%s is not listening on port %u after 20 s", s->argv[1], s->port);
    /* the identifier goes once the process has ended */
    fail_if (g_subprocess_get_identifier (s->proc) == NULL, "%s exited",
        s->argv[1]);
    g_usleep (20 * 1000);
  }
}

static MeshTestServer *
server_start_argv (guint port, GPtrArray * argv)
{
  MeshTestServer *s = g_new0 (MeshTestServer, 1);

  g_ptr_array_add (argv, NULL);
  s->argv = (gchar **) g_ptr_array_free (argv, FALSE);
  s->port = port;
  s->port_from_stdout = port == 0;
  spawn (s);
  return s;
}

MeshTestServer *
mesh_test_server_start (guint port, const gchar * first_arg, ...)
{
  GPtrArray *argv = g_ptr_array_new ();
  const gchar *arg;
  va_list ap;

  g_ptr_array_add (argv, g_strdup ("node"));
  va_start (ap, first_arg);
  for (arg = first_arg; arg; arg = va_arg (ap, const gchar *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  return server_start_argv (port, argv);
}

MeshTestServer *
mesh_test_seed_server_start (void)
{
  return mesh_test_server_start (4000, "--import", "tsx", "seed/server.ts",
      NULL);
}

const gchar *
mesh_test_build_dir (void)
{
  const gchar *dir = g_getenv ("MESH_BUILD_DIR");
  return dir ? dir : MESH_TESTS_BUILD_DIR;
}

MeshTestServer *
mesh_test_c_server_start (void)
{
  GPtrArray *argv = g_ptr_array_new ();

  g_ptr_array_add (argv, g_build_filename (mesh_test_build_dir (), "tools",
          "gst-mesh-server", NULL));
  g_ptr_array_add (argv, g_strdup ("--port"));
  g_ptr_array_add (argv, g_strdup ("4000"));
  return server_start_argv (4000, argv);
}

guint
mesh_test_server_get_port (MeshTestServer * s)
{
  return s->port;
}

gchar *
mesh_test_server_get_url (MeshTestServer * s)
{
  return g_strdup_printf ("http://127.0.0.1:%u", s->port);
}

static void
kill_proc (MeshTestServer * s)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  if (!s->proc)
    return;
  g_subprocess_send_signal (s->proc, SIGTERM);
  while (g_subprocess_get_identifier (s->proc) != NULL &&
      g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  if (g_subprocess_get_identifier (s->proc) != NULL)
    g_subprocess_force_exit (s->proc);
  g_subprocess_wait (s->proc, NULL, NULL);
  g_clear_object (&s->proc);
}

void
mesh_test_server_restart (MeshTestServer * s)
{
  kill_proc (s);
  /* the same port again, not the one a fresh "0" would give */
  if (s->port_from_stdout) {
    guint n = g_strv_length (s->argv);
    gchar *p = g_strdup_printf ("%u", s->port);
    g_free (s->argv[n - 1]);
    s->argv[n - 1] = p;
  }
  spawn (s);
}

void
mesh_test_server_stop (MeshTestServer * s)
{
  if (!s)
    return;
  kill_proc (s);
  g_strfreev (s->argv);
  g_free (s);
}

/* ------------------------------------------------------------------------ */

static GstBusSyncReply
bus_sync (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  MeshTestPipeline *p = user_data;
  GError *err = NULL;
  gchar *dbg = NULL;

  g_mutex_lock (&p->lock);
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      if (gst_message_get_structure (msg) &&
          g_str_has_prefix (gst_structure_get_name (gst_message_get_structure
                      (msg)), "mesh-"))
        g_ptr_array_add (p->messages,
            gst_structure_copy (gst_message_get_structure (msg)));
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &dbg);
      g_ptr_array_add (p->errors, g_strdup_printf ("%s (%s)", err->message,
              dbg));
      GST_WARNING ("pipeline error: %s (%s)", err->message, dbg);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &dbg);
      g_ptr_array_add (p->warnings, g_strdup_printf ("%s (%s)", err->message,
              dbg));
      break;
    default:
      break;
  }
  g_clear_error (&err);
  g_free (dbg);
  g_cond_broadcast (&p->cond);
  g_mutex_unlock (&p->lock);
  /* a sync handler that drops a message owns it: every message used to be
   * leaked here, and with them (they hold their source) whole pipelines */
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

MeshTestPipeline *
mesh_test_pipeline_new (const gchar * description)
{
  MeshTestPipeline *p = g_new0 (MeshTestPipeline, 1);
  GError *error = NULL;
  GstBus *bus;

  p->pipeline = gst_parse_launch (description, &error);
  fail_unless (p->pipeline != NULL, "bad pipeline '%s': %s", description,
      error ? error->message : "?");
  /* one element (a data-only meshsignal) comes back alone: put it in a
   * pipeline */
  if (!GST_IS_PIPELINE (p->pipeline)) {
    GstElement *pipeline = gst_pipeline_new (NULL);

    gst_bin_add (GST_BIN (pipeline), p->pipeline);
    p->pipeline = pipeline;
  }
  g_clear_error (&error);
  p->mesh = gst_bin_get_by_name (GST_BIN (p->pipeline), "m");
  g_mutex_init (&p->lock);
  g_cond_init (&p->cond);
  p->messages = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  p->errors = g_ptr_array_new_with_free_func (g_free);
  p->warnings = g_ptr_array_new_with_free_func (g_free);
  bus = gst_element_get_bus (p->pipeline);
  gst_bus_set_sync_handler (bus, bus_sync, p, NULL);
  gst_object_unref (bus);
  return p;
}

void
mesh_test_pipeline_play (MeshTestPipeline * p)
{
  fail_if (gst_element_set_state (p->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
}

void
mesh_test_pipeline_free (MeshTestPipeline * p)
{
  GstBus *bus;

  if (!p)
    return;
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  bus = gst_element_get_bus (p->pipeline);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  if (p->mesh)
    gst_object_unref (p->mesh);
  gst_object_unref (p->pipeline);
  g_ptr_array_unref (p->messages);
  g_ptr_array_unref (p->errors);
  g_ptr_array_unref (p->warnings);
  g_mutex_clear (&p->lock);
  g_cond_clear (&p->cond);
  g_free (p);
}

gint
mesh_test_pipeline_wait_message (MeshTestPipeline * p, guint from,
    guint timeout_ms, const gchar * name, const gchar * field,
    const gchar * value)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  gint found = -1;

  g_mutex_lock (&p->lock);
  while (found < 0) {
    for (guint i = from; i < p->messages->len; i++) {
      const GstStructure *s = g_ptr_array_index (p->messages, i);
      if (!gst_structure_has_name (s, name))
        continue;
      if (field && g_strcmp0 (gst_structure_get_string (s, field), value))
        continue;
      found = i;
      break;
    }
    if (found >= 0 || !g_cond_wait_until (&p->cond, &p->lock, deadline))
      break;
  }
  g_mutex_unlock (&p->lock);
  return found;
}

guint
mesh_test_pipeline_n_messages (MeshTestPipeline * p)
{
  guint n;
  g_mutex_lock (&p->lock);
  n = p->messages->len;
  g_mutex_unlock (&p->lock);
  return n;
}

guint
mesh_test_pipeline_n_warnings (MeshTestPipeline * p)
{
  guint n;
  g_mutex_lock (&p->lock);
  n = p->warnings->len;
  g_mutex_unlock (&p->lock);
  return n;
}

guint
mesh_test_pipeline_count_warnings (MeshTestPipeline * p, const gchar * needle)
{
  guint n = 0;

  g_mutex_lock (&p->lock);
  for (guint i = 0; i < p->warnings->len; i++)
    n += strstr (g_ptr_array_index (p->warnings, i), needle) != NULL;
  g_mutex_unlock (&p->lock);
  return n;
}

gboolean
mesh_test_pipeline_has_warning (MeshTestPipeline * p, const gchar * needle)
{
  return mesh_test_pipeline_count_warnings (p, needle) > 0;
}

static GstPadProbeReturn
count_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  MeshTestCounter *c = user_data;
  g_atomic_int_inc (&c->buffers);
  return GST_PAD_PROBE_OK;
}

MeshTestCounter *
mesh_test_count_buffers (MeshTestPipeline * p, const gchar * element)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (p->pipeline), element);
  MeshTestCounter *c = g_new0 (MeshTestCounter, 1);
  GstPad *pad;

  fail_unless (e != NULL, "no element %s", element);
  pad = gst_element_get_static_pad (e, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe, c, g_free);
  gst_object_unref (pad);
  gst_object_unref (e);
  return c;
}

gboolean
mesh_test_counter_wait (MeshTestCounter * c, gint n, guint timeout_ms)
{
  gint start = g_atomic_int_get (&c->buffers);
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (g_atomic_int_get (&c->buffers) - start < n) {
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_usleep (10 * 1000);
  }
  return TRUE;
}

gchar *
mesh_test_peer_description (const gchar * url, const gchar * props)
{
  return g_strdup_printf ("meshsignal name=m server-url=%s %s "
      "videotestsrc is-live=true ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! m.video_sink "
      "audiotestsrc is-live=true wave=ticks ! m.audio_sink "
      "m.video_src ! fakesink name=vout async=false "
      "m.audio_src ! fakesink name=aout async=false", url, props ? props : "");
}

/* ------------------------------------------------------------------------ */
/* Added for tests/check/sioclient.c (heartbeat tests freeze the server).   */

void
mesh_test_server_send_signal (MeshTestServer * s, gint signum)
{
  fail_unless (s->proc != NULL, "the server is not running");
  g_subprocess_send_signal (s->proc, signum);
}

MeshTestPipeline *
mesh_test_call_peer (MeshTestCall * c, const gchar * props)
{
  gchar *desc = mesh_test_peer_description (c->url, props);
  MeshTestPipeline *p = mesh_test_pipeline_new (desc);

  g_free (desc);
  return p;
}

void
mesh_test_call_teardown (MeshTestCall * c)
{
  mesh_test_pipeline_free (c->a);
  mesh_test_pipeline_free (c->b);
  mesh_test_server_stop (c->server);
  g_free (c->url);
}

void
mesh_test_assert_media (MeshTestPipeline * p, guint from, guint timeout_ms,
    const gchar * side)
{
  MeshTestCounter *v, *a;

  fail_unless (mesh_test_pipeline_wait_message (p, from, timeout_ms,
          "mesh-first-frame", "media", "video") >= 0,
      "%s decoded no video", side);
  fail_unless (mesh_test_pipeline_wait_message (p, from, timeout_ms,
          "mesh-first-frame", "media", "audio") >= 0,
      "%s decoded no audio", side);
  v = mesh_test_count_buffers (p, "vout");
  a = mesh_test_count_buffers (p, "aout");
  /* a second of a 30 fps stream; audio comes in 10-20 ms buffers */
  fail_unless (mesh_test_counter_wait (v, 30, 10000), "%s: video stopped",
      side);
  fail_unless (mesh_test_counter_wait (a, 30, 10000), "%s: audio stopped",
      side);
}

/* ------------------------------------------------------------------------ */
/* Added for tests/check/faults.c and tests/check/tls.c.                    */

MeshTestServer *
mesh_test_c_server_start_with (const gchar * first_arg, ...)
{
  GPtrArray *argv = g_ptr_array_new ();
  const gchar *arg;
  va_list ap;

  g_ptr_array_add (argv, g_build_filename (mesh_test_build_dir (), "tools",
          "gst-mesh-server", NULL));
  g_ptr_array_add (argv, g_strdup ("--port"));
  g_ptr_array_add (argv, g_strdup ("4000"));
  va_start (ap, first_arg);
  for (arg = first_arg; arg; arg = va_arg (ap, const gchar *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  return server_start_argv (4000, argv);
}

/* @signum, then SIGKILL if the process is still there after 5 s */
static void
signal_and_wait (GSubprocess * proc, gint signum)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_subprocess_send_signal (proc, signum);
  while (g_subprocess_get_identifier (proc) != NULL &&
      g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  if (g_subprocess_get_identifier (proc) != NULL)
    g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
}

void
mesh_test_server_kill (MeshTestServer * s, gint signum)
{
  fail_unless (s->proc != NULL, "the server is not running");
  signal_and_wait (s->proc, signum);
  g_clear_object (&s->proc);
}

void
mesh_test_server_respawn (MeshTestServer * s)
{
  fail_unless (s->proc == NULL, "the server still runs");
  if (s->port_from_stdout) {
    guint n = g_strv_length (s->argv);
    g_free (s->argv[n - 1]);
    s->argv[n - 1] = g_strdup_printf ("%u", s->port);
  }
  spawn (s);
}

struct _MeshTestProcess
{
  GSubprocess *proc;
};

MeshTestProcess *
mesh_test_process_launch (const gchar * description)
{
  GSubprocessLauncher *l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  MeshTestProcess *p = g_new0 (MeshTestProcess, 1);
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  gchar **words = NULL;
  GError *error = NULL;

  /* gst-launch-1.0 takes each argument as one word of the description */
  fail_unless (g_shell_parse_argv (description, NULL, &words, &error),
      "bad description '%s': %s", description, error ? error->message : "?");
  g_ptr_array_add (argv, g_strdup ("gst-launch-1.0"));
  for (guint i = 0; words[i]; i++)
    g_ptr_array_add (argv, g_strdup (words[i]));
  g_ptr_array_add (argv, NULL);
  g_strfreev (words);
  g_subprocess_launcher_set_child_setup (l, die_with_parent, NULL, NULL);
  p->proc = g_subprocess_launcher_spawnv (l,
      (const gchar * const *) argv->pdata, &error);
  g_ptr_array_unref (argv);
  g_object_unref (l);
  fail_unless (p->proc != NULL, "cannot start gst-launch-1.0: %s",
      error ? error->message : "?");
  return p;
}

void
mesh_test_process_kill (MeshTestProcess * p, gint signum)
{
  fail_unless (p->proc != NULL, "the process was killed already");
  fail_if (g_subprocess_get_identifier (p->proc) == NULL,
      "the process had exited before it was killed");
  signal_and_wait (p->proc, signum);
  g_clear_object (&p->proc);
}

void
mesh_test_process_free (MeshTestProcess * p)
{
  if (!p)
    return;
  if (p->proc)
    signal_and_wait (p->proc, SIGTERM);
  g_clear_object (&p->proc);
  g_free (p);
}

static gboolean
is_webrtcbin (GstElement * e)
{
  GstElementFactory *f = gst_element_get_factory (e);
  return f && !g_strcmp0 (GST_OBJECT_NAME (f), "webrtcbin");
}

static GstElement *
find_webrtcbin (MeshTestPipeline * p, guint * n)
{
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (p->mesh));
  GValue item = G_VALUE_INIT;
  GstElement *first = NULL;

  *n = 0;
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);
    if (is_webrtcbin (e)) {
      if (!first)
        first = gst_object_ref (e);
      (*n)++;
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return first;
}

guint
mesh_test_pipeline_n_webrtcbins (MeshTestPipeline * p)
{
  guint n;
  GstElement *e = find_webrtcbin (p, &n);

  if (e)
    gst_object_unref (e);
  return n;
}

GstElement *
mesh_test_pipeline_get_webrtcbin (MeshTestPipeline * p)
{
  guint n;
  return find_webrtcbin (p, &n);
}

GstStructure *
mesh_test_webrtc_stats (GstElement * webrtc)
{
  GstPromise *promise = gst_promise_new ();
  GstStructure *stats = NULL;

  g_signal_emit_by_name (webrtc, "get-stats", NULL, promise);
  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED &&
      gst_promise_get_reply (promise))
    stats = gst_structure_copy (gst_promise_get_reply (promise));
  gst_promise_unref (promise);
  return stats;
}

typedef struct
{
  const gchar *type;
  const gchar *field;
  guint64 sum;
} StatsSum;

static gboolean
stats_sum_one (GQuark id, const GValue * value, gpointer user_data)
{
  StatsSum *sum = user_data;
  const GstStructure *s;
  const GValue *type, *v;
  GEnumValue *nick;

  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  s = gst_value_get_structure (value);
  type = gst_structure_get_value (s, "type");
  if (!type || !G_VALUE_HOLDS_ENUM (type))
    return TRUE;
  nick = g_enum_get_value (g_type_class_peek (G_VALUE_TYPE (type)),
      g_value_get_enum (type));
  if (!nick || g_strcmp0 (nick->value_nick, sum->type))
    return TRUE;
  v = gst_structure_get_value (s, sum->field);
  if (!v)
    return TRUE;
  if (G_VALUE_HOLDS_UINT (v))
    sum->sum += g_value_get_uint (v);
  else if (G_VALUE_HOLDS_UINT64 (v))
    sum->sum += g_value_get_uint64 (v);
  else if (G_VALUE_HOLDS_INT (v) && g_value_get_int (v) > 0)
    sum->sum += g_value_get_int (v);
  else if (G_VALUE_HOLDS_INT64 (v) && g_value_get_int64 (v) > 0)
    sum->sum += g_value_get_int64 (v);
  return TRUE;
}

guint64
mesh_test_stats_sum (const GstStructure * stats, const gchar * type,
    const gchar * field)
{
  StatsSum sum = { type, field, 0 };

  gst_structure_foreach (stats, stats_sum_one, &sum);
  return sum.sum;
}

/* tests/faults/net.sh @verb [@arg]; fails the test if it fails */
static void
net_sh (const gchar * verb, const gchar * arg)
{
  gchar *script = g_build_filename (mesh_test_dir (), "faults", "net.sh",
      NULL);
  const gchar *argv[] = { "sh", script, verb, arg, NULL };
  gchar *err = NULL;
  gint status = 0;
  GError *error = NULL;

  fail_unless (g_strcmp0 (g_getenv ("GST_MESH_NETNS"), "1") == 0,
      "network faults need the private namespace: run under tools/netns-run");
  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH,
          NULL, NULL, NULL, &err, &status, &error), "cannot run %s: %s",
      script, error ? error->message : "?");
  fail_unless (g_spawn_check_wait_status (status, NULL), "net.sh %s "
      "failed: %s", verb, err);
  g_free (err);
  g_free (script);
}

void
mesh_test_net_cut (void)
{
  net_sh ("cut", NULL);
}

void
mesh_test_net_ipv4_only (void)
{
  net_sh ("ipv4-only", NULL);
}

void
mesh_test_net_clear (void)
{
  net_sh ("clear", NULL);
}

#define NETIMP_DEV "meshimp0"

struct _MeshTestNetem
{
  GSubprocess *proc;
  GDataInputStream *out;
};

static MeshTestNetem *
netem_start (gdouble loss, guint delay_ms, guint jitter_ms, guint ramp_ms)
{
  GSubprocessLauncher *l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  MeshTestNetem *n = g_new0 (MeshTestNetem, 1);
  gchar *prog = g_build_filename (mesh_test_build_dir (), "tests", "faults",
      "netimp", NULL);
  gchar loss_s[G_ASCII_DTOSTR_BUF_SIZE];
  gchar *delay_s = g_strdup_printf ("%u", delay_ms);
  gchar *jitter_s = g_strdup_printf ("%u", jitter_ms);
  gchar *ramp_s = g_strdup_printf ("%u", ramp_ms);
  const gchar *argv[] = { prog, "--dev", NETIMP_DEV, "--loss",
    g_ascii_dtostr (loss_s, sizeof loss_s, loss), "--delay", delay_s,
    "--jitter", jitter_s, "--ramp", ramp_s, NULL
  };
  GError *error = NULL;
  gchar *line;

  fail_unless (g_strcmp0 (g_getenv ("GST_MESH_NETNS"), "1") == 0,
      "network faults need the private namespace: run under tools/netns-run");
  g_subprocess_launcher_set_child_setup (l, die_with_parent, NULL, NULL);
  n->proc = g_subprocess_launcher_spawnv (l, argv, &error);
  g_object_unref (l);
  fail_unless (n->proc != NULL, "cannot start %s: %s", prog,
      error ? error->message : "?");
  n->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (n->proc));
  /* its first line says that it holds the TUN device */
  line = g_data_input_stream_read_line (n->out, NULL, NULL, NULL);
  fail_unless (line && g_str_has_prefix (line, "netimp: " NETIMP_DEV),
      "netimp did not start (said '%s')", line);
  g_free (line);
  net_sh ("impair", NETIMP_DEV);
  g_free (prog);
  g_free (delay_s);
  g_free (jitter_s);
  g_free (ramp_s);
  return n;
}

MeshTestNetem *
mesh_test_netem_start (gdouble loss, guint delay_ms, guint jitter_ms)
{
  return netem_start (loss, delay_ms, jitter_ms, 0);
}

MeshTestNetem *
mesh_test_netem_start_ramp (guint delay_ms, guint ramp_ms)
{
  return netem_start (0, delay_ms, 0, ramp_ms);
}

void
mesh_test_netem_stop (MeshTestNetem * n, guint64 * packets, guint64 * dropped)
{
  gchar *line;
  guint64 in = 0, lost = 0, out = 0;

  mesh_test_net_clear ();
  g_subprocess_send_signal (n->proc, SIGTERM);
  line = g_data_input_stream_read_line (n->out, NULL, NULL, NULL);
  fail_unless (line && sscanf (line, "netimp: in %" G_GUINT64_FORMAT
          " dropped %" G_GUINT64_FORMAT " out %" G_GUINT64_FORMAT, &in, &lost,
          &out) == 3, "netimp said '%s' at the end", line);
  g_free (line);
  g_subprocess_wait (n->proc, NULL, NULL);
  g_object_unref (n->out);
  g_object_unref (n->proc);
  g_free (n);
  if (packets)
    *packets = in;
  if (dropped)
    *dropped = lost;
}

/* ------------------------------------------------------------------------ */
/* A TCP relay that breaks connections                                      */

struct _MeshTestRelay
{
  gint listen_fd;
  guint port, upstream_port;
  GThread *acceptor;
  GPtrArray *threads;           /* GThread*, one per connection */
  GMutex lock;
  gint stop;
  gint trap_epoch;              /* connections older than this are trapped */
  gint reset_epoch;             /* connections older than this are reset */
  gint epoch;                   /* incremented for each connection */
  gint accepted;
};

typedef struct
{
  MeshTestRelay *relay;
  gint client, upstream;
  gint epoch;
} RelayPair;

/* An abortive close: the peer gets a reset, not a FIN. */
static void
relay_abort (gint fd)
{
  struct linger l = { 1, 0 };

  setsockopt (fd, SOL_SOCKET, SO_LINGER, &l, sizeof (l));
  close (fd);
}

static gboolean
relay_write_all (gint fd, const gchar * buf, gssize n)
{
  while (n > 0) {
    gssize w = write (fd, buf, n);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return FALSE;
    buf += w;
    n -= w;
  }
  return TRUE;
}

static gpointer
relay_pair_thread (gpointer data)
{
  RelayPair *p = data;
  MeshTestRelay *r = p->relay;
  gchar buf[16384];

  while (!g_atomic_int_get (&r->stop)) {
    struct pollfd fds[2] = { {p->client, POLLIN, 0}, {p->upstream, POLLIN, 0} };
    gint n;
    gssize got;

    if (p->epoch < g_atomic_int_get (&r->reset_epoch)) {
      relay_abort (p->client);
      p->client = -1;
      break;
    }
    n = poll (fds, 2, 20);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    if (fds[0].revents) {
      got = read (p->client, buf, sizeof (buf));
      if (got <= 0)
        break;
      if (p->epoch < g_atomic_int_get (&r->trap_epoch)) {
        /* once: the trap is spent on the first connection it catches */
        g_atomic_int_set (&r->trap_epoch, 0);
        relay_abort (p->client);
        p->client = -1;
        break;
      }
      if (!relay_write_all (p->upstream, buf, got))
        break;
    }
    if (fds[1].revents) {
      got = read (p->upstream, buf, sizeof (buf));
      if (got <= 0 || !relay_write_all (p->client, buf, got))
        break;
    }
  }
  if (p->client >= 0)
    close (p->client);
  close (p->upstream);
  g_free (p);
  return NULL;
}

static gpointer
relay_accept_thread (gpointer data)
{
  MeshTestRelay *r = data;

  while (!g_atomic_int_get (&r->stop)) {
    struct pollfd pfd = { r->listen_fd, POLLIN, 0 };
    struct sockaddr_in up = { 0, };
    RelayPair *p;
    gint c, u;

    if (poll (&pfd, 1, 20) <= 0)
      continue;
    if ((c = accept (r->listen_fd, NULL, NULL)) < 0)
      continue;
    u = socket (AF_INET, SOCK_STREAM, 0);
    up.sin_family = AF_INET;
    up.sin_port = htons (r->upstream_port);
    up.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (u, (struct sockaddr *) &up, sizeof (up)) < 0) {
      close (u);
      close (c);
      continue;
    }
    p = g_new0 (RelayPair, 1);
    p->relay = r;
    p->client = c;
    p->upstream = u;
    p->epoch = g_atomic_int_add (&r->epoch, 1) + 1;
    g_atomic_int_inc (&r->accepted);
    g_mutex_lock (&r->lock);
    g_ptr_array_add (r->threads, g_thread_new ("relay", relay_pair_thread, p));
    g_mutex_unlock (&r->lock);
  }
  return NULL;
}

MeshTestRelay *
mesh_test_relay_new (guint upstream_port)
{
  MeshTestRelay *r = g_new0 (MeshTestRelay, 1);
  struct sockaddr_in a = { 0, };
  socklen_t len = sizeof (a);

  r->upstream_port = upstream_port;
  r->listen_fd = socket (AF_INET, SOCK_STREAM, 0);
  fail_unless (r->listen_fd >= 0);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fail_unless (bind (r->listen_fd, (struct sockaddr *) &a, sizeof (a)) == 0);
  fail_unless (listen (r->listen_fd, 16) == 0);
  fail_unless (getsockname (r->listen_fd, (struct sockaddr *) &a, &len) == 0);
  r->port = ntohs (a.sin_port);
  g_mutex_init (&r->lock);
  r->threads = g_ptr_array_new ();
  r->acceptor = g_thread_new ("relay-accept", relay_accept_thread, r);
  return r;
}

guint
mesh_test_relay_get_port (MeshTestRelay * relay)
{
  return relay->port;
}

void
mesh_test_relay_trap (MeshTestRelay * relay)
{
  g_atomic_int_set (&relay->trap_epoch, g_atomic_int_get (&relay->epoch) + 1);
}

void
mesh_test_relay_reset_all (MeshTestRelay * relay)
{
  g_atomic_int_set (&relay->reset_epoch,
      g_atomic_int_get (&relay->epoch) + 1);
}

guint
mesh_test_relay_n_accepted (MeshTestRelay * relay)
{
  return g_atomic_int_get (&relay->accepted);
}

void
mesh_test_relay_free (MeshTestRelay * relay)
{
  g_atomic_int_set (&relay->stop, 1);
  g_thread_join (relay->acceptor);
  for (guint i = 0; i < relay->threads->len; i++)
    g_thread_join (g_ptr_array_index (relay->threads, i));
  g_ptr_array_unref (relay->threads);
  close (relay->listen_fd);
  g_mutex_clear (&relay->lock);
  g_free (relay);
}

/* The first peer's stats (free them). */
static GstStructure *
first_peer_stats (MeshTestPipeline * p)
{
  GstStructure *s = NULL, *peer;
  const GValue *peers;

  g_object_get (p->mesh, "stats", &s, NULL);
  fail_unless (s != NULL);
  peers = gst_structure_get_value (s, "peers");
  fail_unless (peers && gst_value_array_get_size (peers) > 0);
  peer = gst_structure_copy (gst_value_get_structure
      (gst_value_array_get_value (peers, 0)));
  gst_structure_free (s);
  return peer;
}

/* The first peer's `jitter-latency` (ms) in stats. */
guint
mesh_test_peer_jitter_latency (MeshTestPipeline * p)
{
  return mesh_test_peer_stat_uint (p, "jitter-latency");
}

/* A guint @field of the first peer's stats (jitter-latency, nack-rtt). */
guint
mesh_test_peer_stat_uint (MeshTestPipeline * p, const gchar * field)
{
  GstStructure *peer = first_peer_stats (p);
  guint n = 0;

  fail_unless (gst_structure_get_uint (peer, field, &n), "no %s in the "
      "peer's stats", field);
  gst_structure_free (peer);
  return n;
}

/* A guint64 @field of the first peer's stats (nacks-sent, rtx-refused). */
guint64
mesh_test_peer_stat_uint64 (MeshTestPipeline * p, const gchar * field)
{
  GstStructure *peer = first_peer_stats (p);
  guint64 n = 0;

  fail_unless (gst_structure_get_uint64 (peer, field, &n), "no %s in the "
      "peer's stats", field);
  gst_structure_free (peer);
  return n;
}

GstStructure *
mesh_test_peer_stat_structure (MeshTestPipeline * p, const gchar * field)
{
  GstStructure *peer = first_peer_stats (p);
  const GValue *v = gst_structure_get_value (peer, field);
  GstStructure *s = v && GST_VALUE_HOLDS_STRUCTURE (v) ?
      gst_structure_copy (gst_value_get_structure (v)) : NULL;

  gst_structure_free (peer);
  return s;
}
