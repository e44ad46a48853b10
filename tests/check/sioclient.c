/* gst-mesh: tests for the Socket.IO client (gstmeshsioclient.c).
 *
 * Most tests talk to a real socket.io 4.x server from npm
 * (tests/node/sio-test-server.mjs), because the point is to speak the
 * protocol the way the reference server understands it, not the way our
 * own codec does. The malformed-input test uses a small raw WebSocket
 * server written here with SoupServer, since no well-behaved server sends
 * garbage.
 *
 * Every test runs its own GMainContext (pushed as thread default, so the
 * client and libsoup use it) and every wait has a deadline that fails the
 * test with a message instead of hanging.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/check/gstcheck.h>
#include <gst/mesh/gstmeshsioclient.h>
#include <gst/mesh/gstmeshpacket.h>
#include <libsoup/soup.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "meshtest.h"

/* Long enough for a loaded machine (or valgrind), short enough that a
 * broken test fails quickly. */
#define WAIT_MS 10000

/* ------------------------------------------------------------------------ */
/* Main context                                                             */
/* ------------------------------------------------------------------------ */

static GMainContext *test_context;

static void
context_setup (void)
{
  test_context = g_main_context_new ();
  g_main_context_push_thread_default (test_context);
}

static void
context_teardown (void)
{
  gint64 end = g_get_monotonic_time () + 100 * 1000;

  /* let cancelled connection attempts finish, so they drop their refs */
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (test_context, FALSE);
  g_main_context_pop_thread_default (test_context);
  g_main_context_unref (test_context);
  test_context = NULL;
}

typedef gboolean (*DoneFunc) (gpointer data);

static gboolean
wake_up (gpointer data)
{
  return G_SOURCE_REMOVE;
}

/* Iterates the test context until @done says so; FALSE at the deadline. */
static gboolean
iterate_until (DoneFunc done, gpointer data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!done || !done (data)) {
    gint64 left = deadline - g_get_monotonic_time ();
    GSource *wake;

    if (left <= 0)
      return FALSE;
    /* a timer so that an idle context still returns at the deadline */
    wake = g_timeout_source_new (left / 1000 + 1);
    g_source_set_callback (wake, wake_up, NULL, NULL);
    g_source_attach (wake, test_context);
    g_main_context_iteration (test_context, TRUE);
    g_source_destroy (wake);
    g_source_unref (wake);
  }
  return TRUE;
}

static void
run_for (guint ms)
{
  iterate_until (NULL, NULL, ms);
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */
/* ------------------------------------------------------------------------ */

static JsonNode *
json_parse (const gchar * text)
{
  JsonNode *node = json_from_string (text, NULL);

  fail_unless (node != NULL, "bad JSON in the test: %s", text);
  return node;
}

/* The arguments of an event, given as the JSON text of an array. */
static JsonArray *
json_args (const gchar * text)
{
  JsonNode *node = json_parse (text);
  JsonArray *array = json_array_ref (json_node_get_array (node));

  json_node_unref (node);
  return array;
}

/* Deep comparison (object members in any order), with both texts in the
 * failure message. */
static void
assert_args_equal (JsonArray * got, const gchar * expected_text)
{
  JsonNode *expected = json_parse (expected_text);
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  gchar *got_text;

  fail_unless (got != NULL, "no arguments, expected %s", expected_text);
  json_node_set_array (node, got);
  got_text = gst_mesh_json_to_string (node);
  fail_unless (json_node_equal (node, expected), "got %s, expected %s",
      got_text, expected_text);
  g_free (got_text);
  json_node_unref (node);
  json_node_unref (expected);
}

/* ------------------------------------------------------------------------ */
/* A client with everything it reports recorded                             */
/* ------------------------------------------------------------------------ */

typedef struct
{
  GstMeshSioClientState state;
  gchar *detail;
  gint64 time;                  /* monotonic, µs */
} StateRecord;

typedef struct
{
  gchar *name;
  JsonArray *args;
  gint64 ack_id;
} EventRecord;

typedef struct
{
  GstMeshSioClient *client;
  GPtrArray *states;            /* StateRecord* */
  GPtrArray *events;            /* EventRecord* */
} TestClient;

static void
state_record_free (StateRecord * r)
{
  g_free (r->detail);
  g_free (r);
}

static void
event_record_free (EventRecord * r)
{
  g_free (r->name);
  json_array_unref (r->args);
  g_free (r);
}

static void
on_state_changed (GstMeshSioClient * client, GstMeshSioClientState state,
    const gchar * detail, TestClient * tc)
{
  StateRecord *r = g_new0 (StateRecord, 1);

  r->state = state;
  r->detail = g_strdup (detail);
  r->time = g_get_monotonic_time ();
  GST_INFO ("%p state %s: %s", client,
      gst_mesh_sio_client_state_to_string (state), detail);
  g_ptr_array_add (tc->states, r);
}

static void
on_event (GstMeshSioClient * client, const gchar * name, JsonArray * args,
    gint64 ack_id, TestClient * tc)
{
  EventRecord *r = g_new0 (EventRecord, 1);

  r->name = g_strdup (name);
  r->args = json_array_ref (args);
  r->ack_id = ack_id;
  g_ptr_array_add (tc->events, r);
}

/* A client for @url with the given properties, not connected yet. */
static TestClient *
test_client_new (const gchar * url, const gchar * first_property, ...)
{
  TestClient *tc = g_new0 (TestClient, 1);
  GError *error = NULL;
  va_list ap;

  tc->client = gst_mesh_sio_client_new (url, &error);
  fail_unless (tc->client != NULL, "cannot create a client for %s: %s", url,
      error ? error->message : "?");
  va_start (ap, first_property);
  if (first_property)
    g_object_set_valist (G_OBJECT (tc->client), first_property, ap);
  va_end (ap);
  tc->states = g_ptr_array_new_with_free_func ((GDestroyNotify)
      state_record_free);
  tc->events = g_ptr_array_new_with_free_func ((GDestroyNotify)
      event_record_free);
  g_signal_connect (tc->client, "state-changed",
      G_CALLBACK (on_state_changed), tc);
  g_signal_connect (tc->client, "event", G_CALLBACK (on_event), tc);
  return tc;
}

static void
test_client_free (TestClient * tc)
{
  gst_mesh_sio_client_disconnect (tc->client);
  g_signal_handlers_disconnect_by_data (tc->client, tc);
  g_object_unref (tc->client);
  g_ptr_array_unref (tc->states);
  g_ptr_array_unref (tc->events);
  g_free (tc);
}

typedef struct
{
  TestClient *tc;
  guint from;
  GstMeshSioClientState state;
  const gchar *event;
  gint found;
} Wanted;

static gboolean
state_seen (gpointer data)
{
  Wanted *w = data;

  for (guint i = w->from; i < w->tc->states->len; i++) {
    StateRecord *r = g_ptr_array_index (w->tc->states, i);
    if (r->state == w->state) {
      w->found = i;
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
event_seen (gpointer data)
{
  Wanted *w = data;

  for (guint i = w->from; i < w->tc->events->len; i++) {
    EventRecord *r = g_ptr_array_index (w->tc->events, i);
    if (!g_strcmp0 (r->name, w->event)) {
      w->found = i;
      return TRUE;
    }
  }
  return FALSE;
}

static const gchar *
last_detail (TestClient * tc)
{
  if (!tc->states->len)
    return "(no state change yet)";
  return ((StateRecord *) g_ptr_array_index (tc->states,
          tc->states->len - 1))->detail;
}

/* Waits for a state change to @state recorded at index @from or later;
 * returns its index. */
#define wait_state(tc, from, state, timeout_ms) \
    wait_state_full (tc, from, state, timeout_ms, __LINE__)
static guint
wait_state_full (TestClient * tc, guint from, GstMeshSioClientState state,
    guint timeout_ms, gint line)
{
  Wanted w = { tc, from, state, NULL, -1 };

  fail_unless (iterate_until (state_seen, &w, timeout_ms),
      "line %d: no '%s' state within %u ms (state '%s': %s)", line,
      gst_mesh_sio_client_state_to_string (state), timeout_ms,
      gst_mesh_sio_client_state_to_string (gst_mesh_sio_client_get_state
          (tc->client)), last_detail (tc));
  return w.found;
}

static StateRecord *
state_at (TestClient * tc, guint i)
{
  return g_ptr_array_index (tc->states, i);
}

/* Waits for an event named @name recorded at index @from or later. */
#define wait_event(tc, from, name, timeout_ms) \
    wait_event_full (tc, from, name, timeout_ms, __LINE__)
static EventRecord *
wait_event_full (TestClient * tc, guint from, const gchar * name,
    guint timeout_ms, gint line)
{
  Wanted w = { tc, from, 0, name, -1 };

  fail_unless (iterate_until (event_seen, &w, timeout_ms),
      "line %d: no '%s' event within %u ms (state '%s': %s)", line, name,
      timeout_ms,
      gst_mesh_sio_client_state_to_string (gst_mesh_sio_client_get_state
          (tc->client)), last_detail (tc));
  return g_ptr_array_index (tc->events, w.found);
}

/* Returns the index of the CONNECTED state change. */
static guint
connect_and_wait (TestClient * tc)
{
  gst_mesh_sio_client_connect (tc->client);
  return wait_state (tc, 0, GST_MESH_SIO_CLIENT_STATE_CONNECTED, WAIT_MS);
}

/* The delay out of "...; reconnecting in N ms (attempt K)". */
static guint
detail_delay (const gchar * detail)
{
  const gchar *p = detail ? strstr (detail, "reconnecting in ") : NULL;

  fail_unless (p != NULL, "no delay in '%s'", detail);
  return atoi (p + strlen ("reconnecting in "));
}

/* ------------------------------------------------------------------------ */
/* Acknowledgements                                                         */
/* ------------------------------------------------------------------------ */

typedef struct
{
  gboolean called;
  JsonArray *args;
  GError *error;
  gint64 time;
  gint notified;
} AckResult;

static void
on_ack (GstMeshSioClient * client, JsonArray * args, const GError * error,
    gpointer user_data)
{
  AckResult *r = user_data;

  fail_if (r->called, "ack callback called twice");
  r->called = TRUE;
  r->args = args ? json_array_ref (args) : NULL;
  r->error = error ? g_error_copy (error) : NULL;
  r->time = g_get_monotonic_time ();
}

static void
on_ack_notify (gpointer user_data)
{
  AckResult *r = user_data;

  r->notified++;
}

static gboolean
ack_called (gpointer data)
{
  return ((AckResult *) data)->called;
}

static void
ack_result_clear (AckResult * r)
{
  g_clear_pointer (&r->args, json_array_unref);
  g_clear_error (&r->error);
}

/* ------------------------------------------------------------------------ */
/* The Node server                                                          */
/* ------------------------------------------------------------------------ */

/* The explicit "0" is the port argument mesh_test_server_restart()
 * replaces; without it the restart would replace the script name. */
static MeshTestServer *
sio_server_start (void)
{
  return mesh_test_server_start (0, "node/sio-test-server.mjs", "0", NULL);
}

/* A server that pings every 200 ms and waits 200 ms for the pong. */
static MeshTestServer *
sio_server_start_fast_ping (void)
{
  MeshTestServer *server;

  g_setenv ("SIO_PING_INTERVAL", "200", TRUE);
  g_setenv ("SIO_PING_TIMEOUT", "200", TRUE);
  server = sio_server_start ();
  g_unsetenv ("SIO_PING_INTERVAL");
  g_unsetenv ("SIO_PING_TIMEOUT");
  return server;
}

/* The main namespace's "welcome" {id, auth} says who the server thinks we
 * are. */
static void
assert_welcome (TestClient * tc, EventRecord * welcome, const gchar * auth)
{
  JsonObject *obj;
  gchar *id = gst_mesh_sio_client_dup_id (tc->client);
  JsonNode *want_auth = json_parse (auth ? auth : "{}");

  fail_unless_equals_int (json_array_get_length (welcome->args), 1);
  obj = json_array_get_object_element (welcome->args, 0);
  fail_unless (obj != NULL, "welcome without an object");
  fail_unless (id != NULL, "connected without a Socket.IO id");
  fail_unless_equals_string (json_object_get_string_member (obj, "id"), id);
  fail_unless (json_node_equal (json_object_get_member (obj, "auth"),
          want_auth), "the server saw another auth payload than %s",
      auth ? auth : "{}");
  json_node_unref (want_auth);
  g_free (id);
}

/* ------------------------------------------------------------------------ */
/* URLs                                                                     */
/* ------------------------------------------------------------------------ */

static void
assert_refused (const gchar * url, const gchar * reason)
{
  GError *error = NULL;
  GstMeshSioClient *client = gst_mesh_sio_client_new (url, &error);

  fail_unless (client == NULL, "'%s' was accepted", url);
  fail_unless (error != NULL, "'%s' refused without an error", url);
  fail_unless (strstr (error->message, reason) != NULL,
      "refusing '%s' says '%s', not why ('%s')", url, error->message, reason);
  if (url && *url)
    fail_unless (strstr (error->message, url) != NULL,
        "refusing '%s' does not name it: '%s'", url, error->message);
  g_error_free (error);
}

GST_START_TEST (test_bad_urls_are_refused)
{
  assert_refused (NULL, "no signalling server URL");
  assert_refused ("", "no signalling server URL");
  assert_refused ("example.com:3000", "scheme must be http, https, ws or wss");
  assert_refused ("/socket.io/", "bad signalling server URL");
  assert_refused ("ftp://example.com/", "scheme must be http, https, ws or "
      "wss, not 'ftp'");
  assert_refused ("http://", "no host");
  assert_refused ("http:///path", "no host");
  assert_refused ("http://exa mple.com/", "bad signalling server URL");
}

GST_END_TEST;

static void
assert_websocket_url (const gchar * url, const gchar * path,
    const gchar * expected)
{
  GError *error = NULL;
  GstMeshSioClient *client = gst_mesh_sio_client_new (url, &error);
  gchar *ws;

  fail_unless (client != NULL, "'%s' refused: %s", url,
      error ? error->message : "?");
  if (path)
    g_object_set (client, "path", path, NULL);
  ws = gst_mesh_sio_client_get_websocket_url (client);
  fail_unless_equals_string (ws, expected);
  g_free (ws);
  g_object_unref (client);
}

GST_START_TEST (test_websocket_url_building)
{
  assert_websocket_url ("http://example.com:3000", NULL,
      "ws://example.com:3000/socket.io/?EIO=4&transport=websocket");
  assert_websocket_url ("https://example.com", NULL,
      "wss://example.com/socket.io/?EIO=4&transport=websocket");
  assert_websocket_url ("ws://127.0.0.1:8080/", NULL,
      "ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket");
  assert_websocket_url ("wss://example.com:8443", NULL,
      "wss://example.com:8443/socket.io/?EIO=4&transport=websocket");
  assert_websocket_url ("HTTPS://example.com", NULL,
      "wss://example.com/socket.io/?EIO=4&transport=websocket");
  /* socket.io-client's `path` option always ends with a slash */
  assert_websocket_url ("http://example.com", "/signal",
      "ws://example.com/signal/?EIO=4&transport=websocket");
  assert_websocket_url ("http://example.com", "my/io/",
      "ws://example.com/my/io/?EIO=4&transport=websocket");
  /* the user's query goes first, as socket.io-client keeps it */
  assert_websocket_url ("http://example.com/?room=a%20b&token=x", NULL,
      "ws://example.com/socket.io/?room=a%20b&token=x&EIO=4&transport="
      "websocket");
  assert_websocket_url ("http://[::1]:3000", NULL,
      "ws://[::1]:3000/socket.io/?EIO=4&transport=websocket");
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Against the Node socket.io server                                        */
/* ------------------------------------------------------------------------ */

GST_START_TEST (test_connect_gets_welcome_with_id_and_auth)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  const gchar *auth = "{\"name\":\"tester ✓\",\"n\":1,\"deep\":{\"a\":[1]}}";
  TestClient *tc = test_client_new (url, "auth", auth, NULL);
  EventRecord *welcome;

  fail_unless_equals_int (gst_mesh_sio_client_get_state (tc->client),
      GST_MESH_SIO_CLIENT_STATE_DISCONNECTED);
  connect_and_wait (tc);
  fail_unless (tc->states->len >= 2);
  fail_unless_equals_int (state_at (tc, 0)->state,
      GST_MESH_SIO_CLIENT_STATE_CONNECTING);
  fail_unless_equals_int (state_at (tc, 1)->state,
      GST_MESH_SIO_CLIENT_STATE_CONNECTED);
  fail_unless_equals_int (gst_mesh_sio_client_get_state (tc->client),
      GST_MESH_SIO_CLIENT_STATE_CONNECTED);

  welcome = wait_event (tc, 0, "welcome", WAIT_MS);
  assert_welcome (tc, welcome, auth);
  fail_unless_equals_int64 (welcome->ack_id, -1);

  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_disconnect_goes_to_disconnected)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, NULL);
  guint n;

  connect_and_wait (tc);
  n = tc->states->len;
  gst_mesh_sio_client_disconnect (tc->client);
  wait_state (tc, n, GST_MESH_SIO_CLIENT_STATE_DISCONNECTED, WAIT_MS);
  fail_unless (gst_mesh_sio_client_dup_id (tc->client) == NULL);
  /* and no reconnection behind our back */
  n = tc->states->len;
  run_for (300);
  fail_unless_equals_int (tc->states->len, n);

  /* connect() again works */
  gst_mesh_sio_client_connect (tc->client);
  wait_state (tc, n, GST_MESH_SIO_CLIENT_STATE_CONNECTED, WAIT_MS);

  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

/* Texts JSON.stringify() escapes differently from naive encoders, numbers
 * of each kind, and nesting. */
static const gchar *echo_args =
    "[\"héllo wörld ✓ 😀 日本\", \"quote \\\" backslash \\\\ slash / "
    "newline \\n tab \\t nul-ish \\u0001 ls \\u2028\", \"\", 0, -17, 3.25, "
    "-0.5, 9007199254740991, 1e300, true, false, null, "
    "{\"nested\":{\"a\":[1,2,{\"b\":\"c\"}],\"empty\":{},\"none\":null}, "
    "\"ключ\":\"значение\"}, [], [[], [1, [\"x\"]]]]";

GST_START_TEST (test_echo_round_trips_json_args)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, NULL);
  JsonArray *args = json_args (echo_args);
  EventRecord *echo;

  connect_and_wait (tc);
  gst_mesh_sio_client_emit (tc->client, "echo", args);
  echo = wait_event (tc, 0, "echo", WAIT_MS);
  assert_args_equal (echo->args, echo_args);

  /* no arguments at all is an event too */
  gst_mesh_sio_client_emit (tc->client, "echo", NULL);
  echo = wait_event (tc, tc->events->len, "echo", WAIT_MS);
  fail_unless_equals_int (json_array_get_length (echo->args), 0);

  json_array_unref (args);
  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_events_emitted_before_connect_are_sent)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, NULL);
  JsonArray *first = json_args ("[\"first\"]");
  JsonArray *second = json_args ("[\"second\"]");
  EventRecord *echo;
  guint i;

  gst_mesh_sio_client_emit (tc->client, "echo", first);
  gst_mesh_sio_client_emit (tc->client, "echo", second);
  connect_and_wait (tc);
  echo = wait_event (tc, 0, "echo", WAIT_MS);
  assert_args_equal (echo->args, "[\"first\"]");
  for (i = 0; i < tc->events->len; i++)
    if (g_ptr_array_index (tc->events, i) == echo)
      break;
  echo = wait_event (tc, i + 1, "echo", WAIT_MS);
  assert_args_equal (echo->args, "[\"second\"]");

  json_array_unref (first);
  json_array_unref (second);
  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

static gpointer
emit_echo_thread (gpointer data)
{
  TestClient *tc = data;
  JsonArray *args = json_args ("[\"from a thread\"]");

  gst_mesh_sio_client_emit (tc->client, "echo", args);
  json_array_unref (args);
  return NULL;
}

GST_START_TEST (test_emit_from_another_thread)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, NULL);
  GThread *thread;
  EventRecord *echo;

  connect_and_wait (tc);
  thread = g_thread_new ("emitter", emit_echo_thread, tc);
  g_thread_join (thread);
  echo = wait_event (tc, 0, "echo", WAIT_MS);
  assert_args_equal (echo->args, "[\"from a thread\"]");

  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

static void
disconnect_on_welcome (GstMeshSioClient * client, const gchar * name,
    JsonArray * args, gint64 ack_id, gpointer user_data)
{
  gst_mesh_sio_client_disconnect (client);
}

GST_START_TEST (test_disconnect_from_an_event_handler)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, NULL);
  guint n;

  g_signal_connect (tc->client, "event::welcome",
      G_CALLBACK (disconnect_on_welcome), NULL);
  /* the welcome may come in the same read as the CONNECT answer */
  n = connect_and_wait (tc);
  wait_state (tc, n + 1, GST_MESH_SIO_CLIENT_STATE_DISCONNECTED, WAIT_MS);
  n = tc->states->len;
  run_for (300);
  fail_unless_equals_int (tc->states->len, n);

  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_emit_with_ack_gets_the_ack_args)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, NULL);
  const gchar *text = "[1, \"two\", {\"three\":[3]}, null]";
  JsonArray *args = json_args (text);
  AckResult r = { 0, };

  connect_and_wait (tc);
  gst_mesh_sio_client_emit_with_ack (tc->client, "ack-me", args, 5000, on_ack,
      &r, on_ack_notify);
  fail_unless (iterate_until (ack_called, &r, WAIT_MS), "no ack");
  fail_unless (r.error == NULL, "ack failed: %s", r.error ?
      r.error->message : "");
  assert_args_equal (r.args, text);
  fail_unless_equals_int (r.notified, 1);

  /* an ack with no arguments */
  ack_result_clear (&r);
  memset (&r, 0, sizeof (r));
  gst_mesh_sio_client_emit_with_ack (tc->client, "ack-me", NULL, 5000, on_ack,
      &r, NULL);
  fail_unless (iterate_until (ack_called, &r, WAIT_MS), "no ack");
  assert_args_equal (r.args, "[]");

  ack_result_clear (&r);
  json_array_unref (args);
  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_server_ack_request_is_answered)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, NULL);
  JsonArray *answer = json_args ("[\"yes ✓\", 42, {\"why\":[\"because\"]}]");
  EventRecord *question, *was;

  connect_and_wait (tc);
  gst_mesh_sio_client_emit (tc->client, "ask", NULL);
  question = wait_event (tc, 0, "question", WAIT_MS);
  assert_args_equal (question->args, "[{\"q\":42}]");
  fail_unless (question->ack_id >= 0, "the server's question has no ack id");

  gst_mesh_sio_client_ack (tc->client, question->ack_id, answer);
  was = wait_event (tc, 0, "answer-was", WAIT_MS);
  assert_args_equal (was->args,
      "[[\"yes ✓\", 42, {\"why\":[\"because\"]}]]");

  /* an empty acknowledgement */
  gst_mesh_sio_client_emit (tc->client, "ask", NULL);
  question = wait_event (tc, tc->events->len, "question", WAIT_MS);
  gst_mesh_sio_client_ack (tc->client, question->ack_id, NULL);
  was = wait_event (tc, tc->events->len, "answer-was", WAIT_MS);
  assert_args_equal (was->args, "[[]]");

  json_array_unref (answer);
  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_ack_times_out)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, NULL);
  AckResult r = { 0, };
  gint64 start;

  connect_and_wait (tc);
  start = g_get_monotonic_time ();
  /* "echo" answers with an event, never with an ack */
  gst_mesh_sio_client_emit_with_ack (tc->client, "echo", NULL, 300, on_ack,
      &r, on_ack_notify);
  fail_unless (iterate_until (ack_called, &r, WAIT_MS), "no ack callback");
  fail_unless (r.args == NULL);
  fail_unless (g_error_matches (r.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT),
      "expected a timeout, got %s", r.error ? r.error->message : "no error");
  fail_unless (r.time - start >= 290 * 1000, "timed out after %" G_GINT64_FORMAT
      " µs, before 300 ms", r.time - start);
  fail_unless_equals_int (r.notified, 1);
  /* the connection is fine */
  fail_unless_equals_int (gst_mesh_sio_client_get_state (tc->client),
      GST_MESH_SIO_CLIENT_STATE_CONNECTED);

  ack_result_clear (&r);
  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_custom_namespace_gets_welcome)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, "namespace", "/custom", NULL);
  JsonArray *args = json_args ("[\"in /custom\"]");
  EventRecord *echo;

  connect_and_wait (tc);
  assert_welcome (tc, wait_event (tc, 0, "welcome", WAIT_MS), NULL);
  gst_mesh_sio_client_emit (tc->client, "echo", args);
  echo = wait_event (tc, 0, "echo", WAIT_MS);
  assert_args_equal (echo->args, "[\"in /custom\"]");

  json_array_unref (args);
  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_private_namespace_refuses_without_auth)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, "namespace", "/private",
      "auth", "{\"token\":\"wrong\"}", "reconnect-delay", 50, NULL);
  guint i, n;

  gst_mesh_sio_client_connect (tc->client);
  i = wait_state (tc, 0, GST_MESH_SIO_CLIENT_STATE_FAILED, WAIT_MS);
  fail_unless (strstr (state_at (tc, i)->detail, "not authorized") != NULL,
      "the refusal does not give the server's reason: %s",
      state_at (tc, i)->detail);
  fail_unless (strstr (state_at (tc, i)->detail, "/private") != NULL,
      "the refusal does not name the namespace: %s", state_at (tc, i)->detail);

  /* refused is final: no reconnection loop */
  n = tc->states->len;
  run_for (500);
  fail_unless_equals_int (tc->states->len, n);
  fail_unless_equals_int (gst_mesh_sio_client_get_state (tc->client),
      GST_MESH_SIO_CLIENT_STATE_FAILED);
  for (i = 0; i < tc->states->len; i++)
    fail_if (state_at (tc, i)->state == GST_MESH_SIO_CLIENT_STATE_CONNECTED);

  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_private_namespace_accepts_auth)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, "namespace", "private",
      "auth", "{\"token\":\"secret\"}", NULL);

  connect_and_wait (tc);
  assert_welcome (tc, wait_event (tc, 0, "welcome", WAIT_MS),
      "{\"token\":\"secret\"}");

  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_broadcast_reaches_the_other_client)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *a = test_client_new (url, NULL);
  TestClient *b = test_client_new (url, NULL);
  JsonArray *args = json_args ("[\"from a\", {\"n\":1}]");
  EventRecord *got;

  connect_and_wait (a);
  connect_and_wait (b);
  gst_mesh_sio_client_emit (a->client, "broadcast", args);
  got = wait_event (b, 0, "broadcast", WAIT_MS);
  assert_args_equal (got->args, "[\"from a\", {\"n\":1}]");
  /* socket.broadcast skips the sender */
  run_for (200);
  for (guint i = 0; i < a->events->len; i++)
    fail_if (!g_strcmp0 (((EventRecord *) g_ptr_array_index (a->events,
                    i))->name, "broadcast"), "the sender got its broadcast");

  json_array_unref (args);
  test_client_free (a);
  test_client_free (b);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

/* HTTP long-polling (transport=polling), as through a proxy that passes no
 * WebSockets: the same session as over a WebSocket, with the official
 * server; a WebSocket client and a polling one hear each other. */
GST_START_TEST (test_long_polling_transport)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  const gchar *auth = "{\"name\":\"poller\"}";
  TestClient *p = test_client_new (url, "auth", auth, "transport", "polling",
      NULL);
  TestClient *w = test_client_new (url, NULL);
  JsonArray *args = json_args (echo_args);
  JsonArray *hello = json_args ("[\"from ws\"]");
  JsonArray *back = json_args ("[\"from polling\"]");
  AckResult r = { 0, };
  EventRecord *got;
  gchar *transport;

  g_object_get (p->client, "transport", &transport, NULL);
  fail_unless_equals_string (transport, "polling");
  g_free (transport);
  connect_and_wait (p);
  fail_unless (strstr (state_at (p, 0)->detail, "transport=polling") != NULL,
      "connecting to %s", state_at (p, 0)->detail);
  got = wait_event (p, 0, "welcome", WAIT_MS);
  assert_welcome (p, got, auth);

  gst_mesh_sio_client_emit (p->client, "echo", args);
  got = wait_event (p, 0, "echo", WAIT_MS);
  assert_args_equal (got->args, echo_args);

  gst_mesh_sio_client_emit_with_ack (p->client, "ack-me", args, 5000, on_ack,
      &r, NULL);
  fail_unless (iterate_until (ack_called, &r, WAIT_MS), "no ack");
  fail_unless (r.error == NULL, "ack failed: %s", r.error ?
      r.error->message : "");
  assert_args_equal (r.args, echo_args);

  connect_and_wait (w);
  gst_mesh_sio_client_emit (w->client, "broadcast", hello);
  got = wait_event (p, 0, "broadcast", WAIT_MS);
  assert_args_equal (got->args, "[\"from ws\"]");
  gst_mesh_sio_client_emit (p->client, "broadcast", back);
  got = wait_event (w, 0, "broadcast", WAIT_MS);
  assert_args_equal (got->args, "[\"from polling\"]");

  ack_result_clear (&r);
  json_array_unref (args);
  json_array_unref (hello);
  json_array_unref (back);
  test_client_free (p);
  test_client_free (w);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_reconnects_after_server_restart)
{
  MeshTestServer *server = sio_server_start ();
  guint port = mesh_test_server_get_port (server);
  gchar *port_text = g_strdup_printf ("%u", port);
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, "reconnect-delay", 100,
      "reconnect-delay-max", 400, "randomization", 0.0, NULL);
  JsonArray *args = json_args ("[\"sent while offline\"]");
  EventRecord *welcome, *echo;
  gchar *old_id;
  guint lost, i, k, n_retries = 0, prev_delay = 0;

  connect_and_wait (tc);
  welcome = wait_event (tc, 0, "welcome", WAIT_MS);
  old_id = gst_mesh_sio_client_dup_id (tc->client);

  lost = tc->states->len;
  mesh_test_server_stop (server);
  i = wait_state (tc, lost, GST_MESH_SIO_CLIENT_STATE_RECONNECTING, WAIT_MS);
  fail_unless (strstr (state_at (tc, i)->detail, "closed") != NULL,
      "no reason in '%s'", state_at (tc, i)->detail);
  fail_unless_equals_int (detail_delay (state_at (tc, i)->detail), 100);

  /* buffered while offline, sent after the reconnection */
  gst_mesh_sio_client_emit (tc->client, "echo", args);

  /* the server stays down for a few attempts: 100, 200, 400, 400 ms */
  for (k = 0; k < 3; k++)
    i = wait_state (tc, i + 1, GST_MESH_SIO_CLIENT_STATE_RECONNECTING,
        WAIT_MS);
  for (k = lost; k < tc->states->len; k++) {
    StateRecord *r = state_at (tc, k);
    guint delay;

    if (r->state != GST_MESH_SIO_CLIENT_STATE_RECONNECTING)
      continue;
    delay = detail_delay (r->detail);
    fail_unless (delay <= 400, "delay %u over reconnect-delay-max", delay);
    fail_unless (delay == MIN (prev_delay * 2, 400) || !prev_delay,
        "delay %u after %u does not double: %s", delay, prev_delay, r->detail);
    if (prev_delay && delay < 400) {
      /* the previous attempt really waited that long */
      fail_unless (r->time - state_at (tc, k - 2)->time >= prev_delay * 900,
          "attempt came %" G_GINT64_FORMAT " µs after the %u ms delay",
          r->time - state_at (tc, k - 2)->time, prev_delay);
    }
    prev_delay = delay;
    n_retries++;
  }
  fail_unless (n_retries >= 4, "only %u reconnection attempts", n_retries);

  server = mesh_test_server_start (port, "node/sio-test-server.mjs",
      port_text, NULL);
  i = wait_state (tc, i, GST_MESH_SIO_CLIENT_STATE_CONNECTED, WAIT_MS);
  welcome = wait_event (tc, 1, "welcome", WAIT_MS);
  assert_welcome (tc, welcome, NULL);
  fail_if (!g_strcmp0 (json_object_get_string_member
          (json_array_get_object_element (welcome->args, 0), "id"), old_id),
      "same id after reconnecting");
  echo = wait_event (tc, 0, "echo", WAIT_MS);
  assert_args_equal (echo->args, "[\"sent while offline\"]");

  /* after a success the back-off starts again from the first delay */
  lost = tc->states->len;
  mesh_test_server_stop (server);
  i = wait_state (tc, lost, GST_MESH_SIO_CLIENT_STATE_RECONNECTING, WAIT_MS);
  fail_unless_equals_int (detail_delay (state_at (tc, i)->detail), 100);

  g_free (old_id);
  json_array_unref (args);
  test_client_free (tc);
  g_free (url);
  g_free (port_text);
}

GST_END_TEST;

/* A call fell silent and meshsignal asked the client to check its
 * connection: the client writes an Engine.IO noop. A connection the network
 * broke (a NAT that lost its mapping) answers it with a reset, and the
 * client comes back at once rather than after its back-off. A connection
 * lost without a probe backs off as socket.io-client does, so that the
 * clients of a server that restarts do not all return in one instant. */
GST_START_TEST (test_probe_finds_a_broken_path_and_reconnects_at_once)
{
  MeshTestServer *server = sio_server_start ();
  MeshTestRelay *relay =
      mesh_test_relay_new (mesh_test_server_get_port (server));
  gchar *url = g_strdup_printf ("http://127.0.0.1:%u",
      mesh_test_relay_get_port (relay));
  TestClient *tc = test_client_new (url, "reconnect-delay", 1000,
      "randomization", 0.0, NULL);
  JsonArray *args = json_args ("[\"still there\"]");
  guint lost, i, n_events;

  connect_and_wait (tc);
  wait_event (tc, 0, "welcome", WAIT_MS);

  /* lost without a probe: the first back-off */
  lost = tc->states->len;
  mesh_test_relay_reset_all (relay);
  i = wait_state (tc, lost, GST_MESH_SIO_CLIENT_STATE_RECONNECTING, WAIT_MS);
  fail_unless_equals_int (detail_delay (state_at (tc, i)->detail), 1000);
  i = wait_state (tc, i, GST_MESH_SIO_CLIENT_STATE_CONNECTED, WAIT_MS);

  /* a probe of a sound connection changes nothing, and the server takes
   * the noop in its stride */
  lost = tc->states->len;
  gst_mesh_sio_client_check_connection (tc->client);
  n_events = tc->events->len;
  gst_mesh_sio_client_emit (tc->client, "echo", args);
  wait_event (tc, n_events, "echo", WAIT_MS);
  fail_unless_equals_int (tc->states->len, lost);
  fail_unless_equals_int (mesh_test_relay_n_accepted (relay), 2);

  /* the path breaks; nothing says so until the client writes */
  mesh_test_relay_trap (relay);
  gst_mesh_sio_client_check_connection (tc->client);
  i = wait_state (tc, lost, GST_MESH_SIO_CLIENT_STATE_RECONNECTING, WAIT_MS);
  fail_unless_equals_int (detail_delay (state_at (tc, i)->detail), 0);
  wait_state (tc, i, GST_MESH_SIO_CLIENT_STATE_CONNECTED, WAIT_MS);
  fail_unless_equals_int (mesh_test_relay_n_accepted (relay), 3);
  n_events = tc->events->len;
  gst_mesh_sio_client_emit (tc->client, "echo", args);
  wait_event (tc, n_events, "echo", WAIT_MS);

  json_array_unref (args);
  test_client_free (tc);
  mesh_test_relay_free (relay);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_pending_acks_fail_when_connection_drops)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, "reconnect-delay", 100, NULL);
  AckResult r = { 0, };

  connect_and_wait (tc);
  /* the server never acks "echo", so the ack is pending when it dies */
  gst_mesh_sio_client_emit_with_ack (tc->client, "echo", NULL, 0, on_ack, &r,
      NULL);
  run_for (100);
  mesh_test_server_stop (server);
  fail_unless (iterate_until (ack_called, &r, WAIT_MS), "no ack callback");
  fail_unless (g_error_matches (r.error, G_IO_ERROR,
          G_IO_ERROR_CONNECTION_CLOSED), "expected connection-closed, got %s",
      r.error ? r.error->message : "no error");

  ack_result_clear (&r);
  test_client_free (tc);
  g_free (url);
}

GST_END_TEST;

GST_START_TEST (test_acks_emitted_offline_survive_failed_attempts)
{
  MeshTestServer *server = sio_server_start ();
  guint port = mesh_test_server_get_port (server);
  gchar *port_text = g_strdup_printf ("%u", port);
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, "reconnect-delay", 100,
      "reconnect-delay-max", 200, "randomization", 0.0, NULL);
  JsonArray *args = json_args ("[\"queued\"]");
  AckResult r = { 0, };
  guint i;

  connect_and_wait (tc);
  mesh_test_server_stop (server);
  i = wait_state (tc, 0, GST_MESH_SIO_CLIENT_STATE_RECONNECTING, WAIT_MS);

  /* buffered, like the event itself: failed attempts must not fail it */
  gst_mesh_sio_client_emit_with_ack (tc->client, "ack-me", args, 0, on_ack,
      &r, NULL);
  i = wait_state (tc, i + 1, GST_MESH_SIO_CLIENT_STATE_RECONNECTING, WAIT_MS);
  i = wait_state (tc, i + 1, GST_MESH_SIO_CLIENT_STATE_RECONNECTING, WAIT_MS);
  fail_if (r.called, "a buffered ack failed: %s",
      r.error ? r.error->message : "");

  server = mesh_test_server_start (port, "node/sio-test-server.mjs",
      port_text, NULL);
  fail_unless (iterate_until (ack_called, &r, WAIT_MS), "no ack");
  fail_unless (r.error == NULL, "ack failed: %s", r.error ?
      r.error->message : "");
  assert_args_equal (r.args, "[\"queued\"]");

  ack_result_clear (&r);
  json_array_unref (args);
  test_client_free (tc);
  g_free (url);
  g_free (port_text);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_ping_timeout_detects_frozen_server)
{
  MeshTestServer *server = sio_server_start_fast_ping ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, "reconnect-delay", 100,
      "randomization", 0.0, NULL);
  gint64 frozen;
  guint i;

  connect_and_wait (tc);
  /* a ping or two went by */
  run_for (500);
  fail_unless_equals_int (gst_mesh_sio_client_get_state (tc->client),
      GST_MESH_SIO_CLIENT_STATE_CONNECTED);

  /* stopped, the server neither pings nor closes: TCP stays up */
  mesh_test_server_send_signal (server, SIGSTOP);
  frozen = g_get_monotonic_time ();
  i = wait_state (tc, 0, GST_MESH_SIO_CLIENT_STATE_RECONNECTING, 3000);
  /* pingInterval + pingTimeout after the last ping, which came before the
   * freeze; the rest is margin for a loaded machine */
  fail_unless (state_at (tc, i)->time - frozen < 1500 * 1000,
      "noticed after %" G_GINT64_FORMAT " ms", (state_at (tc, i)->time -
          frozen) / 1000);
  fail_unless (strstr (state_at (tc, i)->detail, "no ping") != NULL,
      "the reason is not the missing ping: %s", state_at (tc, i)->detail);

  mesh_test_server_send_signal (server, SIGCONT);
  wait_state (tc, i, GST_MESH_SIO_CLIENT_STATE_CONNECTED, WAIT_MS);

  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_connect_timeout_gives_up_on_silent_server)
{
  MeshTestServer *server = sio_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, "connect-timeout", 300,
      "reconnect-delay", 100, "randomization", 0.0, NULL);
  gint64 start;
  guint i;

  /* the kernel still accepts the TCP connection; nobody answers on it */
  mesh_test_server_send_signal (server, SIGSTOP);
  start = g_get_monotonic_time ();
  gst_mesh_sio_client_connect (tc->client);
  i = wait_state (tc, 0, GST_MESH_SIO_CLIENT_STATE_RECONNECTING, 3000);
  fail_unless (strstr (state_at (tc, i)->detail, "within 300 ms") != NULL,
      "the reason is not the handshake timeout: %s", state_at (tc, i)->detail);
  fail_unless (state_at (tc, i)->time - start >= 290 * 1000);

  mesh_test_server_send_signal (server, SIGCONT);
  wait_state (tc, i, GST_MESH_SIO_CLIENT_STATE_CONNECTED, WAIT_MS);

  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_client_answers_pings)
{
  MeshTestServer *server = sio_server_start_fast_ping ();
  gchar *url = mesh_test_server_get_url (server);
  TestClient *tc = test_client_new (url, NULL);
  JsonArray *args = json_args ("[\"still here\"]");
  EventRecord *echo;
  guint n;

  connect_and_wait (tc);
  n = tc->states->len;
  /* ten pings: the server drops a client that misses one pong */
  run_for (2000);
  fail_unless_equals_int (tc->states->len, n);
  fail_unless_equals_int (gst_mesh_sio_client_get_state (tc->client),
      GST_MESH_SIO_CLIENT_STATE_CONNECTED);
  gst_mesh_sio_client_emit (tc->client, "echo", args);
  echo = wait_event (tc, 0, "echo", WAIT_MS);
  assert_args_equal (echo->args, "[\"still here\"]");

  json_array_unref (args);
  test_client_free (tc);
  g_free (url);
  mesh_test_server_stop (server);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* A raw server that sends garbage                                          */
/* ------------------------------------------------------------------------ */

typedef struct
{
  SoupServer *server;
  SoupWebsocketConnection *conn;
  GPtrArray *received;          /* gchar*, text frames from the client */
  gboolean got_pong;
} RawServer;

static void
raw_send_garbage (RawServer * rs)
{
  static const gchar *const texts[] = {
    "",                         /* empty frame */
    "4",                        /* message without a Socket.IO packet */
    "42not json",
    "42[\"unterminated\"",
    "4{}",
    "42[]",                     /* an event needs a name */
    "42[{\"a\":1}]",            /* a name that is not a string */
    "42[1,2]",                  /* numeric event name: not for the signal */
    "42\"just a string\"",
    "9xyz",                     /* no such Engine.IO type */
    "4xyz",                     /* no such Socket.IO type */
    "43",                       /* ack without payload */
    "43[1]",                    /* ack without id */
    "4317[\"nobody waits\"]",   /* ack nobody waits for */
    "4399999999999999999999999999[1]",  /* ack id out of range */
    "4299999999999999999999999999[\"huge\"]",
    "42-1[\"negative\"]",
    "42/other,[\"other namespace\"]",
    "42/other",
    "44",                       /* connect error without payload: invalid */
    "45",                       /* binary event without header */
    "451-[\"bin\",{\"_placeholder\":true,\"num\":0}]",  /* waits... */
    "0{\"sid\":\"again\"}",     /* a second open packet */
    "0not json either",
    "6",                        /* noop */
    "3",                        /* a pong nobody asked for */
    "5",                        /* upgrade on a WebSocket session */
  };
  static const guint8 junk[] = { 0x00, 0xff, 0xfe, 0x13, 0x37, 0x80, 0x7f };

  /* binary junk with no binary packet waiting for it */
  soup_websocket_connection_send_binary (rs->conn, junk, sizeof (junk));
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    soup_websocket_connection_send_text (rs->conn, texts[i]);
  /* ...the binary event above takes this as its attachment */
  soup_websocket_connection_send_binary (rs->conn, junk, sizeof (junk));
  soup_websocket_connection_send_binary (rs->conn, junk, sizeof (junk));
  /* a ping, to see that the client still answers */
  soup_websocket_connection_send_text (rs->conn, "2");
}

static void
raw_on_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    RawServer * rs)
{
  gsize len;
  const gchar *data = g_bytes_get_data (message, &len);
  gchar *text = g_strndup (data, len);

  g_ptr_array_add (rs->received, text);
  if (!strcmp (text, "40")) {
    soup_websocket_connection_send_text (conn, "40{\"sid\":\"raw-sid\"}");
    raw_send_garbage (rs);
  } else if (!strcmp (text, "3") && !rs->got_pong) {
    rs->got_pong = TRUE;
    soup_websocket_connection_send_text (conn, "42[\"after\",1]");
  }
}

static void
raw_on_websocket (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, SoupWebsocketConnection * conn, gpointer user_data)
{
  RawServer *rs = user_data;

  fail_unless (rs->conn == NULL, "the client connected twice");
  rs->conn = g_object_ref (conn);
  g_signal_connect (conn, "message", G_CALLBACK (raw_on_message), rs);
  soup_websocket_connection_send_text (conn, "0{\"sid\":\"raw\","
      "\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,"
      "\"maxPayload\":1000000}");
}

static RawServer *
raw_server_start (gchar ** url)
{
  RawServer *rs = g_new0 (RawServer, 1);
  GError *error = NULL;
  GSList *uris;

  rs->server = soup_server_new (NULL, NULL);
  rs->received = g_ptr_array_new_with_free_func (g_free);
  soup_server_add_websocket_handler (rs->server, "/socket.io", NULL, NULL,
      raw_on_websocket, rs, NULL);
  fail_unless (soup_server_listen_local (rs->server, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, &error), "cannot listen: %s",
      error ? error->message : "?");
  uris = soup_server_get_uris (rs->server);
  *url = g_strdup_printf ("http://127.0.0.1:%d",
      g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return rs;
}

static gboolean
raw_conn_closed (gpointer data)
{
  return soup_websocket_connection_get_state (data) ==
      SOUP_WEBSOCKET_STATE_CLOSED;
}

static void
raw_server_free (RawServer * rs)
{
  if (rs->conn) {
    g_signal_handlers_disconnect_by_data (rs->conn, rs);
    if (soup_websocket_connection_get_state (rs->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (rs->conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
    /* the client closed first; let libsoup finish the closing handshake
     * so that it lets go of the socket */
    iterate_until (raw_conn_closed, rs->conn, 2000);
    g_object_unref (rs->conn);
  }
  soup_server_disconnect (rs->server);
  g_object_unref (rs->server);
  g_ptr_array_unref (rs->received);
  g_free (rs);
}

GST_START_TEST (test_malformed_packets_are_survived)
{
  gchar *url = NULL;
  RawServer *rs = raw_server_start (&url);
  TestClient *tc = test_client_new (url, NULL);
  EventRecord *after;
  guint n;

  connect_and_wait (tc);
  n = tc->states->len;
  after = wait_event (tc, 0, "after", WAIT_MS);
  assert_args_equal (after->args, "[1]");
  fail_unless (rs->got_pong, "the ping after the garbage was not answered");
  fail_unless_equals_int (tc->states->len, n);
  fail_unless_equals_int (gst_mesh_sio_client_get_state (tc->client),
      GST_MESH_SIO_CLIENT_STATE_CONNECTED);
  /* garbage is no event, except what was valid in it */
  for (guint i = 0; i < tc->events->len; i++) {
    const gchar *name = ((EventRecord *) g_ptr_array_index (tc->events,
            i))->name;
    fail_unless (!strcmp (name, "after") || !strcmp (name, "bin") ||
        !strcmp (name, "huge"), "event '%s' out of garbage", name);
  }
  /* a second open packet is no reason to handshake again */
  for (guint i = 0; i < rs->received->len; i++)
    fail_if (i > 0 && !strcmp (g_ptr_array_index (rs->received, i), "40"),
        "the client sent a second namespace CONNECT");

  test_client_free (tc);
  raw_server_free (rs);
  g_free (url);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */

static Suite *
sioclient_suite (void)
{
  Suite *s = suite_create ("sioclient");
  TCase *urls = tcase_create ("urls");
  TCase *node = tcase_create ("node");
  TCase *heartbeat = tcase_create ("heartbeat");
  TCase *malformed = tcase_create ("malformed");

  suite_add_tcase (s, urls);
  tcase_add_test (urls, test_bad_urls_are_refused);
  tcase_add_test (urls, test_websocket_url_building);

  suite_add_tcase (s, node);
  tcase_add_checked_fixture (node, context_setup, context_teardown);
  tcase_set_timeout (node, 60);
  tcase_add_test (node, test_connect_gets_welcome_with_id_and_auth);
  tcase_add_test (node, test_disconnect_goes_to_disconnected);
  tcase_add_test (node, test_echo_round_trips_json_args);
  tcase_add_test (node, test_emit_from_another_thread);
  tcase_add_test (node, test_disconnect_from_an_event_handler);
  tcase_add_test (node, test_events_emitted_before_connect_are_sent);
  tcase_add_test (node, test_emit_with_ack_gets_the_ack_args);
  tcase_add_test (node, test_server_ack_request_is_answered);
  tcase_add_test (node, test_ack_times_out);
  tcase_add_test (node, test_custom_namespace_gets_welcome);
  tcase_add_test (node, test_private_namespace_refuses_without_auth);
  tcase_add_test (node, test_private_namespace_accepts_auth);
  tcase_add_test (node, test_broadcast_reaches_the_other_client);
  tcase_add_test (node, test_long_polling_transport);
  tcase_add_test (node, test_reconnects_after_server_restart);
  tcase_add_test (node, test_probe_finds_a_broken_path_and_reconnects_at_once);
  tcase_add_test (node, test_pending_acks_fail_when_connection_drops);
  tcase_add_test (node, test_acks_emitted_offline_survive_failed_attempts);

  suite_add_tcase (s, heartbeat);
  tcase_add_checked_fixture (heartbeat, context_setup, context_teardown);
  tcase_set_timeout (heartbeat, 60);
  tcase_add_test (heartbeat, test_ping_timeout_detects_frozen_server);
  tcase_add_test (heartbeat, test_client_answers_pings);
  tcase_add_test (heartbeat, test_connect_timeout_gives_up_on_silent_server);

  suite_add_tcase (s, malformed);
  tcase_add_checked_fixture (malformed, context_setup, context_teardown);
  tcase_set_timeout (malformed, 60);
  tcase_add_test (malformed, test_malformed_packets_are_survived);

  return s;
}

GST_CHECK_MAIN (sioclient);
