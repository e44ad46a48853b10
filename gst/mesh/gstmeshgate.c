/* gst-mesh: a send branch's gate (gstmeshgate.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshgate.h"

GST_DEBUG_CATEGORY_STATIC (mesh_gate_debug);
#define GST_CAT_DEFAULT mesh_gate_debug

/* an atomic rc box: the owner, the probe and an opener hold refs */
struct _GstMeshGate
{
  GMutex lock;
  GstPad *pad;
  gulong probe;
  gboolean video;
  gboolean open;
  gboolean passing;             /* open, and a keyframe went through */
  gboolean removed;             /* the probe is gone, or going */
  GQueue held;                  /* GstBuffer: a keyframe, what followed */
};

typedef GstMeshGate Gate;

static void
gate_clear (Gate * g)
{
  GstBuffer *buf;

  while ((buf = g_queue_pop_head (&g->held)))
    gst_buffer_unref (buf);
}

static void
gate_finalize (Gate * g)
{
  gate_clear (g);
  gst_object_unref (g->pad);
  g_mutex_clear (&g->lock);
}

GstMeshGate *
gst_mesh_gate_ref (GstMeshGate * gate)
{
  return g_atomic_rc_box_acquire (gate);
}

void
gst_mesh_gate_unref (GstMeshGate * gate)
{
  g_atomic_rc_box_release_full (gate, (GDestroyNotify) gate_finalize);
}

static GstPadProbeReturn
gate_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Gate *g = user_data;
  GstBuffer *buf;
  gboolean key;

  if (!(info->type & GST_PAD_PROBE_TYPE_BUFFER)) {
    /* a list (not what an encoder's tee pushes): passes once the gate
     * does, never held */
    gboolean passing;

    g_mutex_lock (&g->lock);
    passing = g->passing;
    g_mutex_unlock (&g->lock);
    return passing ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
  }
  buf = GST_PAD_PROBE_INFO_BUFFER (info);
  key = !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  g_mutex_lock (&g->lock);
  if (g->open) {
    /* a video gate opened without a keyframe to start with: what comes
     * before one is of no use to the peer. It stays until the owner lets
     * go (a probe that removed itself would race the owner's removal) */
    if (!key && !g->passing) {
      g_mutex_unlock (&g->lock);
      return GST_PAD_PROBE_DROP;
    }
    if (!g->passing)
      GST_DEBUG_OBJECT (pad, "passes from a keyframe on");
    g->passing = TRUE;
    g_mutex_unlock (&g->lock);
    return GST_PAD_PROBE_OK;
  }
  if (g->video) {
    if (key)
      gate_clear (g);
    if (key || !g_queue_is_empty (&g->held)) {
      if (g->held.length < GST_MESH_GATE_HOLD_MAX)
        g_queue_push_tail (&g->held, gst_buffer_ref (buf));
      else
        gate_clear (g);         /* too old by now: the next one, then */
    }
  }
  g_mutex_unlock (&g->lock);
  return GST_PAD_PROBE_DROP;
}

GstMeshGate *
gst_mesh_gate_new (GstPad * pad, gboolean video, gboolean open)
{
  static gsize debug_once = 0;
  Gate *g = g_atomic_rc_box_new0 (Gate);

  if (g_once_init_enter (&debug_once)) {
    GST_DEBUG_CATEGORY_INIT (mesh_gate_debug, "meshgate", 0,
        "gst-mesh send branch gates");
    g_once_init_leave (&debug_once, 1);
  }
  g_mutex_init (&g->lock);
  g->video = video;
  g->open = open;
  g->pad = gst_object_ref (pad);
  /* an open audio gate has nothing to do */
  if (!open || video)
    g->probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, gate_probe, gst_mesh_gate_ref (g),
        (GDestroyNotify) gst_mesh_gate_unref);
  else
    g->removed = TRUE;
  return g;
}

/* How long before now @buf, which came through @pad, was captured: the
 * running time now less its own. -1 when that is not known. */
static GstClockTimeDiff
buffer_age (GstPad * pad, GstBuffer * buf)
{
  GstElement *e = gst_pad_get_parent_element (pad);
  GstClock *clock = e ? gst_element_get_clock (e) : NULL;
  GstEvent *ev = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  GstClockTimeDiff age = -1;

  if (clock && ev && GST_BUFFER_PTS_IS_VALID (buf)) {
    const GstSegment *segment;
    GstClockTime rt, now;

    gst_event_parse_segment (ev, &segment);
    rt = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
        GST_BUFFER_PTS (buf));
    now = gst_clock_get_time (clock) - gst_element_get_base_time (e);
    if (GST_CLOCK_TIME_IS_VALID (rt))
      age = GST_CLOCK_DIFF (rt, now);
  }
  gst_clear_event (&ev);
  gst_clear_object (&clock);
  gst_clear_object (&e);
  return age;
}

/* Once, from open or release, whichever threads they run in. The pad
 * calls probes without its object lock, which gst_pad_remove_probe()
 * takes: no lock order against the probe's. */
static void
remove_probe (Gate * g)
{
  g_mutex_lock (&g->lock);
  if (!g->removed)
    gst_pad_remove_probe (g->pad, g->probe);
  g->removed = TRUE;
  g_mutex_unlock (&g->lock);
}

GstMeshGateOpened
gst_mesh_gate_open (GstMeshGate * g)
{
  GQueue held = G_QUEUE_INIT;
  GstMeshGateOpened opened = GST_MESH_GATE_PASSES;
  GstBuffer *buf;

  /* the upstream thread holds the pad's stream lock for each push: with
   * it, nothing passes between what was held and the gate's opening */
  GST_PAD_STREAM_LOCK (g->pad);
  g_mutex_lock (&g->lock);
  if (g->open) {
    g_mutex_unlock (&g->lock);
    GST_PAD_STREAM_UNLOCK (g->pad);
    return GST_MESH_GATE_PASSES;
  }
  g->open = TRUE;
  held = g->held;
  g_queue_init (&g->held);
  g_mutex_unlock (&g->lock);

  if (g->video) {
    opened = GST_MESH_GATE_AWAITS_KEYFRAME;
    if (!g_queue_is_empty (&held)) {
      GstBuffer *key = g_queue_peek_head (&held);
      GstClockTimeDiff age = buffer_age (g->pad, key);
      GstClockTime limit = GST_MESH_GATE_HOLD_AGE;

      if (GST_BUFFER_DURATION_IS_VALID (key))
        limit = MAX (limit, GST_BUFFER_DURATION (key));
      GST_DEBUG_OBJECT (g->pad, "holds %u buffers from a keyframe "
          "captured %" GST_STIME_FORMAT " ago", held.length,
          GST_STIME_ARGS (age));
      opened = age >= 0 && (GstClockTime) age <= limit ?
          GST_MESH_GATE_SENT_HELD : GST_MESH_GATE_HELD_OLD;
    }
  }
  if (opened == GST_MESH_GATE_PASSES || opened == GST_MESH_GATE_SENT_HELD)
    remove_probe (g);
  while ((buf = g_queue_pop_head (&held))) {
    if (opened == GST_MESH_GATE_SENT_HELD)
      gst_pad_chain (g->pad, buf);
    else
      gst_buffer_unref (buf);
  }
  GST_PAD_STREAM_UNLOCK (g->pad);
  return opened;
}

gboolean
gst_mesh_gate_awaits_keyframe (GstMeshGate * g)
{
  gboolean awaits;

  g_mutex_lock (&g->lock);
  awaits = g->open && g->video && !g->removed && !g->passing;
  g_mutex_unlock (&g->lock);
  return awaits;
}

void
gst_mesh_gate_forget (GstMeshGate * g)
{
  g_mutex_lock (&g->lock);
  gate_clear (g);
  g_mutex_unlock (&g->lock);
}

void
gst_mesh_gate_release (GstMeshGate * g)
{
  if (!g)
    return;
  remove_probe (g);
  gst_mesh_gate_forget (g);
  gst_mesh_gate_unref (g);
}
