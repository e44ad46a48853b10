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
/* Whether some warning text contains @needle; how many do. */
gboolean mesh_test_pipeline_has_warning (MeshTestPipeline * p,
    const gchar * needle);
guint mesh_test_pipeline_count_warnings (MeshTestPipeline * p,
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

/* A 1:1 call between two pipelines of this process through @server, for
 * tests/check/meshsignal.c and faults.c. */
typedef struct
{
  MeshTestServer *server;
  gchar *url;
  MeshTestPipeline *a, *b;
} MeshTestCall;

/* A new (not yet playing) peer of @call with extra meshsignal @props. */
MeshTestPipeline *mesh_test_call_peer (MeshTestCall * call,
    const gchar * props);
/* Frees both peers and stops the server. */
void mesh_test_call_teardown (MeshTestCall * call);
/* @p decoded video and audio (a mesh-first-frame of each from message
 * @from on, within @timeout_ms) and keeps decoding both: 30 buffers of each
 * within 10 s. @side names @p in the failure messages. */
void mesh_test_assert_media (MeshTestPipeline * p, guint from,
    guint timeout_ms, const gchar * side);

/* Added for tests/check/sioclient.c: SIGSTOP / SIGCONT the server, so that
 * it neither pings nor closes, for heartbeat tests. */
void mesh_test_server_send_signal (MeshTestServer * server, gint signum);

/* ------------------------------------------------------------------------ */
/* Added for tests/check/faults.c and tests/check/tls.c.                    */

/* Our server on port 4000 with extra command-line arguments (e.g.
 * "--cert", FILE, "--key", FILE). */
MeshTestServer *mesh_test_c_server_start_with (const gchar * first_arg,
    ...) G_GNUC_NULL_TERMINATED;
/* Sends @signum (SIGTERM, SIGKILL...) and waits until the server exited
 * (SIGKILL after 5 s); it stays down until mesh_test_server_respawn(). */
void mesh_test_server_kill (MeshTestServer * server, gint signum);
/* Starts a killed server again: same arguments, same port. */
void mesh_test_server_respawn (MeshTestServer * server);

/* A pipeline in a process of its own (gst-launch-1.0 with the test's
 * environment), so that a test can kill it as a crash would. The kernel
 * kills it if the test process dies. */
typedef struct _MeshTestProcess MeshTestProcess;
MeshTestProcess *mesh_test_process_launch (const gchar * description);
/* Sends @signum and waits until the process exited (SIGKILL after 5 s). */
void mesh_test_process_kill (MeshTestProcess * proc, gint signum);
/* Ends it (SIGTERM) if it runs, and frees it. */
void mesh_test_process_free (MeshTestProcess * proc);

/* The webrtcbins inside the meshsignal bin of @p: how many, and the first
 * one (a new reference, or NULL). */
guint mesh_test_pipeline_n_webrtcbins (MeshTestPipeline * p);
GstElement *mesh_test_pipeline_get_webrtcbin (MeshTestPipeline * p);
/* webrtcbin's "get-stats" answer (free it), NULL if it gave none. */
GstStructure *mesh_test_webrtc_stats (GstElement * webrtcbin);
guint mesh_test_peer_jitter_latency (MeshTestPipeline * p);
guint mesh_test_peer_stat_uint (MeshTestPipeline * p, const gchar * field);
guint64 mesh_test_peer_stat_uint64 (MeshTestPipeline * p,
    const gchar * field);
/* A copy of the structure @field of the first peer's stats, or NULL. */
GstStructure *mesh_test_peer_stat_structure (MeshTestPipeline * p,
    const gchar * field);
/* Sum of the unsigned integer @field over the statistics of @type
 * ("inbound-rtp", "outbound-rtp", ...) in a get-stats answer. */
guint64 mesh_test_stats_sum (const GstStructure * stats, const gchar * type,
    const gchar * field);

/* Faults on the UDP media path, inside the test namespace only
 * (tests/faults/net.sh; TCP, so the signalling, is untouched). */
/* Drops every UDP packet until mesh_test_net_clear(). */
void mesh_test_net_cut (void);
/* Drops IPv6 UDP only: libnice also pairs the namespace's link-local
 * IPv6 addresses, which the impairment below cannot handle; call it before
 * a call that is to be impaired, so that ICE picks IPv4. */
void mesh_test_net_ipv4_only (void);
/* Removes whatever cut or impairment is in place. */
void mesh_test_net_clear (void);
/* Loss in percent and a delay of @delay_ms ± @jitter_ms on every IPv4
 * UDP packet (tests/faults/netimp.c), IPv6 UDP dropped, until
 * mesh_test_netem_stop(). _ramp: no loss, and a delay that grows from 0
 * to @delay_ms over @ramp_ms, as a queue fills before a bottleneck. */
typedef struct _MeshTestNetem MeshTestNetem;
MeshTestNetem *mesh_test_netem_start (gdouble loss, guint delay_ms,
    guint jitter_ms);
MeshTestNetem *mesh_test_netem_start_ramp (guint delay_ms, guint ramp_ms);
/* Removes the impairment; the number of packets it saw and dropped. */
void mesh_test_netem_stop (MeshTestNetem * netem, guint64 * packets,
    guint64 * dropped);

/* ------------------------------------------------------------------------ */
/* Added for tests/check/sioclient.c: a TCP relay that breaks connections */
/* as a NAT that lost its mapping does.                                   */

typedef struct _MeshTestRelay MeshTestRelay;
/* Listens on 127.0.0.1 (a free port) and relays every connection to
 * 127.0.0.1:@upstream_port, one thread per connection. */
MeshTestRelay *mesh_test_relay_new (guint upstream_port);
guint mesh_test_relay_get_port (MeshTestRelay * relay);
/* The next bytes a client sends on a connection open now are not passed
 * on: that connection is reset (RST) instead, once. Until then it goes on
 * as if nothing happened, as after a NAT rebinding. */
void mesh_test_relay_trap (MeshTestRelay * relay);
/* Resets every connection open now. */
void mesh_test_relay_reset_all (MeshTestRelay * relay);
/* Connections accepted so far. */
guint mesh_test_relay_n_accepted (MeshTestRelay * relay);
void mesh_test_relay_free (MeshTestRelay * relay);

G_END_DECLS
