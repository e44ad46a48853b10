/* gst-mesh tests: meshsignal's data channel.
 *
 * Files through data_sink / data_src byte for byte, messages through
 * send-data / data-received beside audio and video, a data-only call that
 * idles, a room where one member's messages reach all, and bad input from
 * a remote that speaks the channel by hand (a raw webrtcbin data channel,
 * as a page would): each bad message is a warning naming the peer and the
 * channel, and what comes after still arrives.
 *
 * Opens peer connections: runs inside tools/netns-run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/mesh/gstmesh.h>
#include <gst/webrtc/webrtc.h>
#include <glib/gstdio.h>
#include <string.h>

#include "meshtest.h"

#define TIMEOUT_MS 20000

typedef MeshTestCall Call;

static void
call_setup (Call * c)
{
  c->server = mesh_test_seed_server_start ();
  c->url = mesh_test_server_get_url (c->server);
}

static MeshTestPipeline *
data_peer (Call * c, const gchar * props, const gchar * rest)
{
  gchar *desc = g_strdup_printf ("meshsignal name=m server-url=%s %s %s",
      c->url, props, rest);
  MeshTestPipeline *p = mesh_test_pipeline_new (desc);

  g_free (desc);
  return p;
}

/* What data-received and data_src handed over, for one side. */
typedef struct
{
  GMutex lock;
  GPtrArray *texts;             /* "PEER: TEXT" */
  GPtrArray *binaries;          /* GBytes */
  GPtrArray *binary_peers;      /* gchar* */
  guint src_buffers, src_without_meta;
  gchar *src_peer;              /* peer-id of data_src's last buffer */
} Received;

static Received *
received_new (void)
{
  Received *r = g_new0 (Received, 1);

  g_mutex_init (&r->lock);
  r->texts = g_ptr_array_new_with_free_func (g_free);
  r->binaries = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  r->binary_peers = g_ptr_array_new_with_free_func (g_free);
  return r;
}

static void
received_free (Received * r)
{
  g_ptr_array_unref (r->texts);
  g_ptr_array_unref (r->binaries);
  g_ptr_array_unref (r->binary_peers);
  g_free (r->src_peer);
  g_mutex_clear (&r->lock);
  g_free (r);
}

static void
on_data_received (GstElement * mesh, const gchar * peer_id, GVariant * message,
    Received * r)
{
  g_mutex_lock (&r->lock);
  if (g_variant_is_of_type (message, G_VARIANT_TYPE_STRING)) {
    g_ptr_array_add (r->texts, g_strdup_printf ("%s: %s", peer_id,
            g_variant_get_string (message, NULL)));
  } else {
    fail_unless (g_variant_is_of_type (message, G_VARIANT_TYPE_BYTESTRING));
    g_ptr_array_add (r->binaries, g_variant_get_data_as_bytes (message));
    g_ptr_array_add (r->binary_peers, g_strdup (peer_id));
  }
  g_mutex_unlock (&r->lock);
}

static GstPadProbeReturn
data_src_probe (GstPad * pad, GstPadProbeInfo * info, Received * r)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buf, "GstMeshDataMeta");

  g_mutex_lock (&r->lock);
  r->src_buffers++;
  if (!meta) {
    r->src_without_meta++;
  } else {
    g_free (r->src_peer);
    r->src_peer = g_strdup (gst_structure_get_string
        (gst_custom_meta_get_structure (meta), "peer-id"));
  }
  g_mutex_unlock (&r->lock);
  return GST_PAD_PROBE_OK;
}

static Received *
watch (MeshTestPipeline * p)
{
  Received *r = received_new ();
  GstPad *src = gst_element_get_static_pad (p->mesh, "data_src");

  g_signal_connect (p->mesh, "data-received", G_CALLBACK (on_data_received),
      r);
  if (src) {
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER,
        (GstPadProbeCallback) data_src_probe, r, NULL);
    gst_object_unref (src);
  }
  return r;
}

static gboolean
wait_count (Received * r, GPtrArray * array, guint n, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * 1000;
  gboolean ok;

  do {
    g_mutex_lock (&r->lock);
    ok = array->len >= n;
    g_mutex_unlock (&r->lock);
    if (!ok)
      g_usleep (20000);
  } while (!ok && g_get_monotonic_time () < end);
  return ok;
}

static gboolean
send_text (MeshTestPipeline * p, const gchar * text, const gchar * to)
{
  gboolean ok = FALSE;

  g_signal_emit_by_name (p->mesh, "send-data", g_variant_new_string (text),
      to, &ok);
  return ok;
}

static gboolean
send_bytes (MeshTestPipeline * p, const guint8 * data, gsize size,
    const gchar * to)
{
  gboolean ok = FALSE;

  g_signal_emit_by_name (p->mesh, "send-data",
      g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, size, 1), to,
      &ok);
  return ok;
}

static gchar *
peer_id_of (MeshTestPipeline * p, gint index)
{
  GstStructure *s = g_ptr_array_index (p->messages, index);

  return g_strdup (gst_structure_get_string (s, "peer-id"));
}

/* ------------------------------------------------------------------------ */

/* filesrc ! data_sink on one side, data_src ! filesink on the other: 3 MB
 * of random bytes (more than data_sink lets queue, so it waits on the
 * channel) arrive whole and in order, in a call with no media at all; each
 * buffer says who sent it. */
GST_START_TEST (test_file_copies_byte_for_byte)
{
  Call c = { 0, };
  gchar *dir = g_dir_make_tmp ("meshdata-XXXXXX", NULL);
  gchar *in = g_build_filename (dir, "in.bin", NULL);
  gchar *out = g_build_filename (dir, "out.bin", NULL);
  gsize size = 3 * 1000 * 1000 + 17, got = 0;
  guint8 *data = g_malloc (size);
  gchar *rest, *contents = NULL, *sender;
  GRand *rand = g_rand_new_with_seed (7);
  gint64 end;
  Received *r;
  gint idx;

  for (gsize i = 0; i < size; i++)
    data[i] = g_rand_int (rand) & 0xff;
  g_rand_free (rand);
  fail_unless (g_file_set_contents (in, (gchar *) data, size, NULL));

  call_setup (&c);
  rest = g_strdup_printf ("m.data_src ! filesink location=%s async=false buffer-mode=unbuffered",
      out);
  c.b = data_peer (&c, "", rest);
  g_free (rest);
  rest = g_strdup_printf ("filesrc location=%s blocksize=65536 ! m.data_sink",
      in);
  c.a = data_peer (&c, "role=call", rest);
  g_free (rest);
  r = watch (c.b);
  mesh_test_pipeline_play (c.b);
  mesh_test_pipeline_play (c.a);

  idx = mesh_test_pipeline_wait_message (c.b, 0, TIMEOUT_MS,
      "mesh-data-channel", "state", "open");
  fail_unless (idx >= 0, "B's data channel did not open");
  fail_unless (mesh_test_pipeline_wait_message (c.a, 0, TIMEOUT_MS,
          "mesh-data-channel", "state", "open") >= 0);
  end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end) {
    GStatBuf st;
    if (g_stat (out, &st) == 0 && (gsize) st.st_size >= size)
      break;
    g_usleep (100000);
  }
  /* the file is written as the buffers come: stop B to flush it */
  gst_element_set_state (c.b->pipeline, GST_STATE_NULL);
  fail_unless (g_file_get_contents (out, &contents, &got, NULL));
  fail_unless_equals_int (got, size);
  fail_unless (memcmp (contents, data, size) == 0, "the copy differs");
  /* one buffer per message (filesrc's 64 KiB blocks), each with its meta */
  fail_unless_equals_int (r->src_buffers, (size + 65535) / 65536);
  fail_unless_equals_int (r->src_without_meta, 0);
  sender = peer_id_of (c.b, idx);
  fail_unless_equals_string (r->src_peer, sender);
  g_free (sender);
  fail_unless_equals_int (mesh_test_pipeline_n_warnings (c.a), 0);
  fail_unless_equals_int (mesh_test_pipeline_n_warnings (c.b), 0);

  received_free (r);
  mesh_test_call_teardown (&c);
  g_unlink (in);
  g_unlink (out);
  g_rmdir (dir);
  g_free (contents);
  g_free (data);
  g_free (in);
  g_free (out);
  g_free (dir);
}

GST_END_TEST;

/* send-data / data-received beside audio and video: text both ways, a
 * 1 MB binary message (64 chunks), to one named peer, and the media goes
 * on. */
GST_START_TEST (test_messages_both_ways_beside_media)
{
  Call c = { 0, };
  Received *ra, *rb;
  gsize big = 1000 * 1000;
  guint8 *data = g_malloc (big);
  gchar *a_id, *b_id, *expect;
  gint ia, ib;
  GBytes *got;

  for (gsize i = 0; i < big; i++)
    data[i] = (guint8) (i * 31 + (i >> 12));
  call_setup (&c);
  c.b = mesh_test_call_peer (&c, "data-channel=true");
  c.a = mesh_test_call_peer (&c, "role=call data-channel=true");
  ra = watch (c.a);
  rb = watch (c.b);
  mesh_test_pipeline_play (c.b);
  mesh_test_pipeline_play (c.a);
  ia = mesh_test_pipeline_wait_message (c.a, 0, TIMEOUT_MS,
      "mesh-data-channel", "state", "open");
  ib = mesh_test_pipeline_wait_message (c.b, 0, TIMEOUT_MS,
      "mesh-data-channel", "state", "open");
  fail_unless (ia >= 0 && ib >= 0, "the data channel did not open");
  b_id = peer_id_of (c.a, ia);
  a_id = peer_id_of (c.b, ib);

  fail_unless (send_text (c.a, "hello from A", NULL));
  fail_unless (send_text (c.b, "to nobody", "nobody") == FALSE,
      "B sent to a peer id it does not know");
  fail_unless (send_text (c.b, "hello from B, ünïcode", a_id));
  fail_unless (send_bytes (c.a, data, big, b_id));
  fail_unless (wait_count (rb, rb->texts, 1, TIMEOUT_MS));
  fail_unless (wait_count (ra, ra->texts, 1, TIMEOUT_MS));
  expect = g_strdup_printf ("%s: hello from A", a_id);
  fail_unless_equals_string (g_ptr_array_index (rb->texts, 0), expect);
  g_free (expect);
  expect = g_strdup_printf ("%s: hello from B, ünïcode", b_id);
  fail_unless_equals_string (g_ptr_array_index (ra->texts, 0), expect);
  g_free (expect);
  /* the text is on the bus too */
  fail_unless (mesh_test_pipeline_wait_message (c.b, 0, TIMEOUT_MS,
          "mesh-data-text", "text", "hello from A") >= 0);

  fail_unless (wait_count (rb, rb->binaries, 1, TIMEOUT_MS),
      "the 1 MB message did not arrive");
  got = g_ptr_array_index (rb->binaries, 0);
  fail_unless_equals_int (g_bytes_get_size (got), big);
  fail_unless (memcmp (g_bytes_get_data (got, NULL), data, big) == 0);
  fail_unless_equals_string (g_ptr_array_index (rb->binary_peers, 0), a_id);

  /* media still flows both ways */
  mesh_test_assert_media (c.a, 0, TIMEOUT_MS, "side A");
  mesh_test_assert_media (c.b, 0, TIMEOUT_MS, "side B");
  fail_unless_equals_int (mesh_test_pipeline_n_warnings (c.b), 0);

  received_free (ra);
  received_free (rb);
  mesh_test_call_teardown (&c);
  g_free (a_id);
  g_free (b_id);
  g_free (data);
}

GST_END_TEST;

/* A data-only call carries no RTP, and its channel may idle: idle for
 * twice peer-timeout, it is still up and still carries messages (the
 * keepalives keep it). When one side vanishes without a word (the seed's
 * server says nothing), the other notices within peer-timeout, as in a
 * call with media. */
GST_START_TEST (test_idle_data_only_call_stays_up)
{
  Call c = { 0, };
  Received *rb;

  call_setup (&c);
  c.b = data_peer (&c, "data-channel=true peer-timeout=1500", "");
  c.a = data_peer (&c, "role=call data-channel=true peer-timeout=1500", "");
  rb = watch (c.b);
  mesh_test_pipeline_play (c.b);
  mesh_test_pipeline_play (c.a);
  fail_unless (mesh_test_pipeline_wait_message (c.a, 0, TIMEOUT_MS,
          "mesh-data-channel", "state", "open") >= 0);
  fail_unless (mesh_test_pipeline_wait_message (c.a, 0, TIMEOUT_MS,
          "mesh-call", "state", "connected") >= 0);
  g_usleep (3500 * 1000);
  fail_unless (mesh_test_pipeline_wait_message (c.a, 0, 0, "mesh-call",
          "state", "ended") < 0, "the idle data-only call was ended");
  fail_unless (send_text (c.a, "still here", NULL));
  fail_unless (wait_count (rb, rb->texts, 1, TIMEOUT_MS));

  gst_element_set_state (c.a->pipeline, GST_STATE_NULL);
  fail_unless (mesh_test_pipeline_wait_message (c.b, 0, 10000, "mesh-call",
          "state", "ended") >= 0, "B did not notice A was gone");
  fail_unless (mesh_test_pipeline_wait_message (c.b, 0, 0,
          "mesh-data-channel", "state", "closed") >= 0);

  received_free (rb);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* The remote speaks the channel by hand (as a page could): a raw
 * gst-mesh-data channel opened from A's webrtcbin behind meshsignal's
 * back, and a channel of another label. Each bad message is a warning
 * that names the peer and the channel; the good ones around it arrive. */
typedef struct
{
  GstWebRTCDataChannel *raw;
  GstWebRTCDataChannel *other;
} Raw;

static void
on_peer_added_raw (GstElement * mesh, const gchar * peer_id,
    GstElement * webrtc, Raw * raw)
{
  GstStructure *opts = gst_structure_new ("o", "protocol", G_TYPE_STRING,
      "gst-mesh-data/1", NULL);

  /* webrtcbin makes channels from READY on; it is still in NULL here */
  gst_element_sync_state_with_parent (webrtc);
  g_signal_emit_by_name (webrtc, "create-data-channel", "gst-mesh-data", opts,
      &raw->raw);
  gst_structure_free (opts);
  g_signal_emit_by_name (webrtc, "create-data-channel", "somebody-elses",
      NULL, &raw->other);
}

static void
send_raw (GstWebRTCDataChannel * ch, const guint8 * data, gsize size)
{
  GBytes *b = g_bytes_new (data, size);

  fail_unless (gst_webrtc_data_channel_send_data_full (ch, b, NULL));
  g_bytes_unref (b);
}

GST_START_TEST (test_bad_messages_are_warnings_and_the_rest_arrives)
{
  Call c = { 0, };
  Raw raw = { NULL, NULL };
  Received *rb;
  static const guint8 good1[] = { 0x01, 'o', 'n', 'e' };
  static const guint8 bad_flags[] = { 0x40, 'x' };
  static const guint8 bad_utf8[] = { 0x03, 0xff };
  static const guint8 part[] = { 0x00, 'h', 'a', 'l', 'f' };
  static const guint8 good2[] = { 0x01, 't', 'w', 'o' };
  GstWebRTCDataChannelState state = 0;
  gint64 end;

  call_setup (&c);
  /* video from A: B hears at once (RTCP BYE) when A goes */
  c.b = data_peer (&c, "", "m.data_src ! fakesink async=false "
      "m.video_src ! fakesink async=false");
  c.a = data_peer (&c, "role=call", "videotestsrc is-live=true ! "
      "video/x-raw,width=160,height=120 ! m.video_sink");
  g_signal_connect (c.a->mesh, "peer-added", G_CALLBACK (on_peer_added_raw),
      &raw);
  rb = watch (c.b);
  mesh_test_pipeline_play (c.b);
  mesh_test_pipeline_play (c.a);
  fail_unless (mesh_test_pipeline_wait_message (c.b, 0, TIMEOUT_MS,
          "mesh-data-channel", "state", "open") >= 0);
  fail_unless (raw.raw != NULL);
  end = g_get_monotonic_time () + TIMEOUT_MS * 1000;
  do {
    g_object_get (raw.raw, "ready-state", &state, NULL);
    if (state != GST_WEBRTC_DATA_CHANNEL_STATE_OPEN)
      g_usleep (20000);
  } while (state != GST_WEBRTC_DATA_CHANNEL_STATE_OPEN &&
      g_get_monotonic_time () < end);
  fail_unless_equals_int (state, GST_WEBRTC_DATA_CHANNEL_STATE_OPEN);

  send_raw (raw.raw, good1, sizeof (good1));
  send_raw (raw.raw, bad_flags, sizeof (bad_flags));
  send_raw (raw.raw, bad_utf8, sizeof (bad_utf8));
  send_raw (raw.raw, part, sizeof (part));
  /* a string in the middle of that chunked message: it drops the chunk,
   * and still counts */
  fail_unless (gst_webrtc_data_channel_send_string_full (raw.raw, "chat",
          NULL));
  send_raw (raw.raw, good2, sizeof (good2));
  fail_unless (wait_count (rb, rb->binaries, 2, TIMEOUT_MS));
  fail_unless (wait_count (rb, rb->texts, 1, TIMEOUT_MS));
  fail_unless (g_bytes_get_size (g_ptr_array_index (rb->binaries, 0)) == 3);
  fail_unless (memcmp (g_bytes_get_data (g_ptr_array_index (rb->binaries, 1),
              NULL), "two", 3) == 0);
  fail_unless_equals_int (rb->binaries->len, 2);
  fail_unless_equals_int (rb->src_buffers, 2);

  fail_unless (mesh_test_pipeline_has_warning (c.b,
          "Ignoring data channel 'somebody-elses'"), "no warning for the "
      "channel of another label");
  fail_unless_equals_int (mesh_test_pipeline_count_warnings (c.b,
          "Dropped a bad message from"), 3);
  fail_unless (mesh_test_pipeline_has_warning (c.b, "unknown flags 0x40"));
  fail_unless (mesh_test_pipeline_has_warning (c.b, "not UTF-8"));
  fail_unless (mesh_test_pipeline_has_warning (c.b,
          "a string within a chunked message"));

  /* a message under way when the caller goes: cut short, said once */
  send_raw (raw.raw, part, sizeof (part));
  g_usleep (300 * 1000);
  gst_element_set_state (c.a->pipeline, GST_STATE_NULL);
  end = g_get_monotonic_time () + TIMEOUT_MS * 1000;
  while (!mesh_test_pipeline_has_warning (c.b, "was cut short") &&
      g_get_monotonic_time () < end)
    g_usleep (50000);
  fail_unless_equals_int (mesh_test_pipeline_count_warnings (c.b,
          "was cut short"), 1);
  fail_unless (mesh_test_pipeline_has_warning (c.b, "4 bytes of it"));
  /* B is still there for the next call */
  fail_unless_equals_int (c.b->errors->len, 0);

  g_clear_object (&raw.raw);
  g_clear_object (&raw.other);
  received_free (rb);
  mesh_test_call_teardown (&c);
}

GST_END_TEST;

/* In a room every member opens a channel to every other: what one sends
 * reaches all, each knowing who sent it; data_sink waits for them. */
GST_START_TEST (test_room_messages_reach_every_member)
{
  MeshTestServer *server = mesh_test_c_server_start ();
  gchar *url = mesh_test_server_get_url (server);
  MeshTestPipeline *p[3];
  Received *r[3];
  const gchar *props = "room=datahall data-channel=true";

  for (gint i = 0; i < 3; i++) {
    gchar *desc = g_strdup_printf ("meshsignal name=m server-url=%s %s",
        url, props);
    p[i] = mesh_test_pipeline_new (desc);
    g_free (desc);
    r[i] = watch (p[i]);
    mesh_test_pipeline_play (p[i]);
  }
  /* each has two open channels */
  for (gint i = 0; i < 3; i++) {
    gint first = mesh_test_pipeline_wait_message (p[i], 0, TIMEOUT_MS,
        "mesh-data-channel", "state", "open");
    fail_unless (first >= 0, "member %d: no channel", i);
    fail_unless (mesh_test_pipeline_wait_message (p[i], first + 1,
            TIMEOUT_MS, "mesh-data-channel", "state", "open") >= 0,
        "member %d: one channel only", i);
  }
  fail_unless (send_text (p[0], "to all", NULL));
  for (gint i = 1; i < 3; i++) {
    fail_unless (wait_count (r[i], r[i]->texts, 1, TIMEOUT_MS),
        "member %d got nothing", i);
    fail_unless (g_str_has_suffix (g_ptr_array_index (r[i]->texts, 0),
            ": to all"));
  }
  /* the two got it from the same sender */
  {
    const gchar *t1 = g_ptr_array_index (r[1]->texts, 0);
    const gchar *t2 = g_ptr_array_index (r[2]->texts, 0);
    fail_unless_equals_string (t1, t2);
  }
  fail_unless_equals_int (r[0]->texts->len, 0);

  for (gint i = 0; i < 3; i++) {
    mesh_test_pipeline_free (p[i]);
    received_free (r[i]);
  }
  mesh_test_server_stop (server);
  g_free (url);
}

GST_END_TEST;

static Suite *
datachannel_suite (void)
{
  Suite *s = suite_create ("datachannel");
  TCase *tc = tcase_create ("data");

  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_file_copies_byte_for_byte);
  tcase_add_test (tc, test_messages_both_ways_beside_media);
  tcase_add_test (tc, test_idle_data_only_call_stays_up);
  tcase_add_test (tc, test_bad_messages_are_warnings_and_the_rest_arrives);
  tcase_add_test (tc, test_room_messages_reach_every_member);
  return s;
}

GST_CHECK_MAIN (datachannel);
