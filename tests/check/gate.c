/* gst-mesh: a send branch's gate (gst/mesh/gstmeshgate.c) on its own, on
 * an identity element's sink pad in a GstHarness with a test clock: what
 * passes while it is shut and when it opens, which keyframe it keeps, and
 * when one is too old to start a peer's picture with. The gates in a real
 * call are met in the meshsignal, rooms and browser suites (every call
 * starts through them) and timed by tests/bench/run.sh.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>
#include <gst/mesh/gstmeshgate.h>

#define MS GST_MSECOND

typedef struct
{
  GstHarness *h;
  GstPad *pad;
  GstMeshGate *gate;
} Branch;

/* A branch with a gate (@video, made @open) on its entry. */
static void
branch_init (Branch * b, gboolean video, gboolean open)
{
  b->h = gst_harness_new ("identity");
  gst_harness_use_testclock (b->h);
  gst_harness_set_src_caps_str (b->h, "video/x-vp8");
  b->pad = gst_element_get_static_pad (b->h->element, "sink");
  b->gate = gst_mesh_gate_new (b->pad, video, open);
}

static void
branch_clear (Branch * b)
{
  gst_mesh_gate_release (b->gate);
  gst_object_unref (b->pad);
  gst_harness_teardown (b->h);
}

static void
expect_open (Branch * b, GstMeshGateOpened want)
{
  fail_unless_equals_int (gst_mesh_gate_open (b->gate), want);
}

/* A frame captured at @pts_ms, lasting @dur_ms, its size its name. */
static GstBuffer *
frame (guint pts_ms, guint dur_ms, gboolean key, gsize name)
{
  GstBuffer *buf = gst_buffer_new_and_alloc (name);

  GST_BUFFER_PTS (buf) = pts_ms * MS;
  GST_BUFFER_DURATION (buf) = dur_ms * MS;
  if (!key)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  return buf;
}

static void
push (Branch * b, guint pts_ms, guint dur_ms, gboolean key, gsize name)
{
  fail_unless_equals_int (gst_harness_push (b->h, frame (pts_ms, dur_ms, key,
              name)), GST_FLOW_OK);
}

static void
set_time_ms (Branch * b, guint ms)
{
  fail_unless (gst_harness_set_time (b->h, ms * MS));
}

/* What came out, by name, in order; then nothing more. */
static void
expect_out (Branch * b, const gsize * names, guint n)
{
  for (guint i = 0; i < n; i++) {
    GstBuffer *buf = gst_harness_try_pull (b->h);

    fail_unless (buf != NULL, "buffer %u of %u did not come out", i + 1, n);
    fail_unless_equals_int (gst_buffer_get_size (buf), names[i]);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (b->h), 0);
}

GST_START_TEST (test_audio_gate_drops_until_open)
{
  Branch b;
  const gsize after[] = { 4 };

  branch_init (&b, FALSE, FALSE);
  push (&b, 0, 10, TRUE, 1);
  push (&b, 10, 10, TRUE, 2);
  expect_out (&b, NULL, 0);
  expect_open (&b, GST_MESH_GATE_PASSES);
  expect_out (&b, NULL, 0);     /* nothing held back */
  push (&b, 20, 10, TRUE, 4);
  expect_out (&b, after, 1);
  /* opening twice changes nothing */
  expect_open (&b, GST_MESH_GATE_PASSES);
  branch_clear (&b);
}

GST_END_TEST;

/* The newest keyframe and what followed it go first, in order, once the
 * gate opens; then the stream passes. */
GST_START_TEST (test_video_sends_the_newest_keyframe_first)
{
  Branch b;
  const gsize held[] = { 20, 21, 22 }, after[] = { 23 };

  branch_init (&b, TRUE, FALSE);
  push (&b, 0, 33, FALSE, 9);   /* a delta before any keyframe */
  push (&b, 33, 33, TRUE, 10);
  push (&b, 66, 33, FALSE, 11);
  push (&b, 100, 33, TRUE, 20);
  push (&b, 133, 33, FALSE, 21);
  push (&b, 166, 33, FALSE, 22);
  expect_out (&b, NULL, 0);
  set_time_ms (&b, 140);        /* the keyframe is 40 ms old */
  expect_open (&b, GST_MESH_GATE_SENT_HELD);
  expect_out (&b, held, 3);
  push (&b, 200, 33, FALSE, 23);
  expect_out (&b, after, 1);
  branch_clear (&b);
}

GST_END_TEST;

/* How old a held keyframe may be: 50 ms at least, whatever the frame
 * rate; at 2 frames a second a keyframe asked for now comes up to 500 ms
 * later, so one held for 400 ms is the sooner picture. */
GST_START_TEST (test_video_held_keyframe_age)
{
  const struct
  {
    guint dur_ms, age_ms;
    GstMeshGateOpened want;
  } cases[] = {
    {16, 50, GST_MESH_GATE_SENT_HELD},
    {33, 51, GST_MESH_GATE_HELD_OLD},
    {500, 400, GST_MESH_GATE_SENT_HELD},
    {500, 501, GST_MESH_GATE_HELD_OLD},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    Branch b;
    const gsize held[] = { 1 };

    branch_init (&b, TRUE, FALSE);
    push (&b, 1000, cases[i].dur_ms, TRUE, 1);
    set_time_ms (&b, 1000 + cases[i].age_ms);
    expect_open (&b, cases[i].want);
    expect_out (&b, held, cases[i].want == GST_MESH_GATE_SENT_HELD);
    /* the owner asks for a keyframe while the gate still waits for one */
    fail_unless_equals_int (gst_mesh_gate_awaits_keyframe (b.gate),
        cases[i].want == GST_MESH_GATE_HELD_OLD);
    branch_clear (&b);
  }
}

GST_END_TEST;

/* A keyframe older than 50 ms and its frame's duration is not sent: the
 * gate says so (its owner must ask for a new one: the one it asked for
 * ahead has come and gone; a call across a 20 ms path started without
 * video when it did not, tests/bench/capped-link.mjs), drops until the
 * next keyframe, which then passes with what follows. */
GST_START_TEST (test_video_old_keyframe_waits_for_the_next)
{
  Branch b;
  const gsize after[] = { 3, 4 };

  branch_init (&b, TRUE, FALSE);
  push (&b, 0, 33, TRUE, 1);
  set_time_ms (&b, 51);
  expect_open (&b, GST_MESH_GATE_HELD_OLD);
  expect_out (&b, NULL, 0);
  push (&b, 33, 33, FALSE, 2);
  expect_out (&b, NULL, 0);
  fail_unless (gst_mesh_gate_awaits_keyframe (b.gate));
  push (&b, 66, 33, TRUE, 3);
  push (&b, 100, 33, FALSE, 4);
  expect_out (&b, after, 2);
  fail_if (gst_mesh_gate_awaits_keyframe (b.gate));
  branch_clear (&b);
}

GST_END_TEST;

/* It keeps at most GST_MESH_GATE_HOLD_MAX buffers: past that the keyframe
 * is let go, and the gate opens with nothing to send. */
GST_START_TEST (test_video_hold_is_bounded)
{
  Branch b;

  branch_init (&b, TRUE, FALSE);
  push (&b, 0, 1, TRUE, 1);
  for (guint i = 1; i <= GST_MESH_GATE_HOLD_MAX; i++)
    push (&b, i, 1, FALSE, 1 + i);
  set_time_ms (&b, 20);
  expect_open (&b, GST_MESH_GATE_AWAITS_KEYFRAME);
  expect_out (&b, NULL, 0);
  branch_clear (&b);
}

GST_END_TEST;

/* What it held came from a stream that ends (the peer moves to another
 * encoding): forgotten, the gate waits for the new stream's keyframe. */
GST_START_TEST (test_video_forget)
{
  Branch b;
  const gsize after[] = { 3 };

  branch_init (&b, TRUE, FALSE);
  push (&b, 0, 33, TRUE, 1);
  gst_mesh_gate_forget (b.gate);
  push (&b, 10, 33, FALSE, 2);  /* the new stream's, before its keyframe */
  expect_open (&b, GST_MESH_GATE_AWAITS_KEYFRAME);
  push (&b, 20, 33, TRUE, 3);
  expect_out (&b, after, 1);
  branch_clear (&b);
}

GST_END_TEST;

/* A branch added to a call that is up: no wait, but the picture still
 * starts with a keyframe. */
static void
push_list (Branch * b, guint pts_ms, gsize name)
{
  GstBufferList *list = gst_buffer_list_new ();

  gst_buffer_list_add (list, frame (pts_ms, 33, FALSE, name));
  fail_unless_equals_int (gst_pad_push_list (b->h->srcpad, list),
      GST_FLOW_OK);
}

GST_START_TEST (test_video_gate_made_open)
{
  Branch b;
  const gsize after[] = { 2, 3, 5 };

  branch_init (&b, TRUE, TRUE);
  push (&b, 0, 33, FALSE, 1);
  push_list (&b, 10, 4);        /* a list before the keyframe: dropped */
  push (&b, 33, 33, TRUE, 2);
  push (&b, 66, 33, FALSE, 3);
  push_list (&b, 100, 5);       /* and after it: passes */
  expect_out (&b, after, 3);
  expect_open (&b, GST_MESH_GATE_PASSES);
  branch_clear (&b);
}

GST_END_TEST;

/* Let go of while shut: what it held is freed and the pad passes again
 * (the branch is being taken down; nothing of the gate is left on it). */
GST_START_TEST (test_release_while_shut)
{
  Branch b;
  const gsize after[] = { 3 };

  branch_init (&b, TRUE, FALSE);
  push (&b, 0, 33, TRUE, 1);
  push (&b, 33, 33, FALSE, 2);
  gst_mesh_gate_release (b.gate);
  b.gate = NULL;
  push (&b, 66, 33, FALSE, 3);
  expect_out (&b, after, 1);
  branch_clear (&b);
}

GST_END_TEST;

static Suite *
gate_suite (void)
{
  Suite *s = suite_create ("gate");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_audio_gate_drops_until_open);
  tcase_add_test (tc, test_video_sends_the_newest_keyframe_first);
  tcase_add_test (tc, test_video_held_keyframe_age);
  tcase_add_test (tc, test_video_old_keyframe_waits_for_the_next);
  tcase_add_test (tc, test_video_hold_is_bounded);
  tcase_add_test (tc, test_video_forget);
  tcase_add_test (tc, test_video_gate_made_open);
  tcase_add_test (tc, test_release_while_shut);
  return s;
}

GST_CHECK_MAIN (gate);
