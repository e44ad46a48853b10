/* gst-mesh tests: shared fixtures.
 *
 * Starting the Node servers the tests talk to (the seed's server, the
 * socket.io test server), waiting for bus messages, and running pipelines
 * that contain meshsignal. Every test that opens a peer connection runs
 * inside tools/netns-run (the meson test setup does it).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _MeshTestServer MeshTestServer;

/* Runs `node ARGS...` from the tests/ directory (where node_modules is),
 * and waits until something accepts TCP connections on 127.0.0.1:@port
 * (when @port > 0) or until the first stdout line "LISTENING <port>"
 * (when @port is 0). Fails the test after 20 s. */
MeshTestServer *mesh_test_server_start (guint port, const gchar * first_arg,
    ...) G_GNUC_NULL_TERMINATED;
/* The seed's server (tests/seed/server.ts, unchanged; port 4000). */
MeshTestServer *mesh_test_seed_server_start (void);
/* Our server, build/tools/gst-mesh-server, on port 4000. */
MeshTestServer *mesh_test_c_server_start (void);
/* The build directory (MESH_BUILD_DIR, else the compile-time one). */
const gchar *mesh_test_build_dir (void);
guint mesh_test_server_get_port (MeshTestServer * server);
/* http://127.0.0.1:PORT */
gchar *mesh_test_server_get_url (MeshTestServer * server);
/* SIGTERM, wait; SIGKILL after 5 s. */
void mesh_test_server_stop (MeshTestServer * server);
/* Stop and start again on the same port, for reconnection tests. */
void mesh_test_server_restart (MeshTestServer * server);

/* Directory of the source tree's tests/ (from the MESH_TESTS_DIR env var
 * that meson sets, else the compile-time path). */
const gchar *mesh_test_dir (void);

/* A pipeline made from a gst-launch description, with a watch that records
 * meshsignal's element messages. */
typedef struct
{
  GstElement *pipeline;
  GstElement *mesh;             /* the element named "m" */
  GMutex lock;
  GCond cond;
  GPtrArray *messages;          /* GstStructure* copies, in order */
  GPtrArray *errors;            /* gchar* error texts */
  GPtrArray *warnings;          /* gchar* warning texts */
} MeshTestPipeline;

MeshTestPipeline *mesh_test_pipeline_new (const gchar * description);
void mesh_test_pipeline_play (MeshTestPipeline * p);
void mesh_test_pipeline_free (MeshTestPipeline * p);

/* Waits until a recorded element message named @name has every field=value
 * pair given (string values), counting from message index @from; returns
 * its index, or -1 after @timeout_ms. */
gint mesh_test_pipeline_wait_message (MeshTestPipeline * p, guint from,
    guint timeout_ms, const gchar * name, const gchar * field,
    const gchar * value);
/* Number of recorded messages / warnings so far. */
guint mesh_test_pipeline_n_messages (MeshTestPipeline * p);
guint mesh_test_pipeline_n_warnings (MeshTestPipeline * p);
/* Whether some warning text contains @needle. */
gboolean mesh_test_pipeline_has_warning (MeshTestPipeline * p,
    const gchar * needle);

/* Counts buffers that pass the src pad of the element named @element. */
typedef struct
{
  gint buffers;
} MeshTestCounter;
MeshTestCounter *mesh_test_count_buffers (MeshTestPipeline * p,
    const gchar * element);
/* Waits until @counter grows by @n; FALSE after @timeout_ms. */
gboolean mesh_test_counter_wait (MeshTestCounter * counter, gint n,
    guint timeout_ms);

/* A description of a full two-way peer: test sources in, fakesinks named
 * vout/aout on the outputs. @props are extra meshsignal properties. */
gchar *mesh_test_peer_description (const gchar * url, const gchar * props);

/* Added for tests/check/sioclient.c: SIGSTOP / SIGCONT the server, so that
 * it neither pings nor closes, for heartbeat tests. */
void mesh_test_server_send_signal (MeshTestServer * server, gint signum);

G_END_DECLS
