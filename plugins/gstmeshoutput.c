/* gst-mesh: where the remote media of meshsignal comes out: a funnel for
 * one call, or a grid compositor / audio mixer for a room.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshoutput.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mesh_output_debug);
#define GST_CAT_DEFAULT mesh_output_debug

#define GRID_FRAMERATE_N 30
#define AUDIO_RATE 48000

struct _GstMeshOutput
{
  GstBin *bin;
  GstMeshMediaKind kind;
  gboolean grid;
  gint width, height;

  GstElement *mixer;            /* funnel, compositor or audiomixer */
  GstElement *background;       /* grid: live black picture or silence */
  GstElement *background_caps;
  GstElement *out_caps;         /* grid: the output format */
  GstPad *background_pad;       /* grid: the mixer's pad for it */
  gulong pad_added_id, pad_removed_id;
};

static void
ensure_debug (void)
{
  static gsize init = 0;

  if (g_once_init_enter (&init)) {
    GST_DEBUG_CATEGORY_INIT (mesh_output_debug, "meshoutput", 0,
        "meshsignal outputs: funnel, grid compositor, audio mixer");
    g_once_init_leave (&init, 1);
  }
}

static GstElement *
make (const gchar * factory)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e)
    GST_ERROR ("element %s is missing", factory);
  return e;
}

/* Pads are named sink_N with N growing with each request. */
static gint
compare_pads (gconstpointer a, gconstpointer b)
{
  const gchar *na = GST_OBJECT_NAME (a), *nb = GST_OBJECT_NAME (b);
  guint64 ia = g_ascii_strtoull (strchr (na, '_') ? strchr (na, '_') + 1 :
      na, NULL, 10);
  guint64 ib = g_ascii_strtoull (strchr (nb, '_') ? strchr (nb, '_') + 1 :
      nb, NULL, 10);

  return ia < ib ? -1 : ia > ib;
}

/* Cells of a grid of n pictures: as square as the count allows, filled row
 * by row (2: side by side, 3-4: 2x2, 5-6: 3x2, ...). */
static void
relayout (GstMeshOutput * out)
{
  GList *pads = NULL;
  GstIterator *it = gst_element_iterate_sink_pads (out->mixer);
  GValue v = G_VALUE_INIT;
  guint n, cols, rows, i = 0;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstPad *pad = g_value_get_object (&v);
    if (pad != out->background_pad)
      pads = g_list_prepend (pads, gst_object_ref (pad));
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  /* in joining order */
  pads = g_list_sort (pads, compare_pads);

  n = g_list_length (pads);
  for (cols = 1; cols * cols < n; cols++);
  rows = n ? (n + cols - 1) / cols : 1;
  GST_DEBUG ("%u peers: a %ux%u grid", n, cols, rows);
  for (GList * l = pads; l; l = l->next, i++) {
    gint cw = out->width / cols, ch = out->height / rows;
    g_object_set (l->data, "xpos", (gint) (i % cols) * cw,
        "ypos", (gint) (i / cols) * ch, "width", cw, "height", ch,
        "zorder", 1u, NULL);
  }
  g_list_free_full (pads, gst_object_unref);
}

static void
on_pad_added (GstElement * mixer, GstPad * pad, GstMeshOutput * out)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SINK || pad == out->background_pad)
    return;
  if (out->kind == GST_MESH_MEDIA_VIDEO) {
    /* a picture keeps its shape in its cell: black bars, not stretching */
    gst_util_set_object_arg (G_OBJECT (pad), "sizing-policy",
        "keep-aspect-ratio");
    relayout (out);
  }
}

static void
on_pad_removed (GstElement * mixer, GstPad * pad, GstMeshOutput * out)
{
  if (GST_PAD_DIRECTION (pad) == GST_PAD_SINK &&
      out->kind == GST_MESH_MEDIA_VIDEO)
    relayout (out);
}

/* The background is pushed at its timestamps, as any live test source,
 * which says a frame (33 ms) or a buffer of latency all the same: the
 * mixer took that as the latency upstream of it and held every picture
 * of the grid that much longer (tests/bench/glass.c in a room). */
static GstPadProbeReturn
background_latency_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  GstQuery *q = GST_PAD_PROBE_INFO_QUERY (info);
  gboolean live;
  GstClockTime max;

  if (GST_QUERY_TYPE (q) == GST_QUERY_LATENCY) {
    gst_query_parse_latency (q, &live, NULL, &max);
    gst_query_set_latency (q, live, 0, max);
  }
  return GST_PAD_PROBE_OK;
}

static gboolean
build_grid (GstMeshOutput * out, guint latency_ms)
{
  GstCaps *caps;
  GstPad *src;

  if (out->kind == GST_MESH_MEDIA_VIDEO) {
    out->mixer = make ("compositor");
    out->background = make ("videotestsrc");
    if (!out->mixer || !out->background)
      return FALSE;
    g_object_set (out->background, "is-live", TRUE, NULL);
    gst_util_set_object_arg (G_OBJECT (out->background), "pattern", "black");
    caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING,
        "I420", "width", G_TYPE_INT, out->width, "height", G_TYPE_INT,
        out->height, "framerate", GST_TYPE_FRACTION, GRID_FRAMERATE_N, 1,
        NULL);
  } else {
    out->mixer = make ("audiomixer");
    out->background = make ("audiotestsrc");
    if (!out->mixer || !out->background)
      return FALSE;
    /* 10 ms buffers, as Opus frames and the browsers' audio */
    g_object_set (out->background, "is-live", TRUE, "samplesperbuffer",
        AUDIO_RATE / 100, NULL);
    gst_util_set_object_arg (G_OBJECT (out->background), "wave", "silence");
    caps = gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING,
        "S16LE", "rate", G_TYPE_INT, AUDIO_RATE, "channels", G_TYPE_INT, 2,
        "layout", G_TYPE_STRING, "interleaved", NULL);
  }
  /* a peer whose media has not started yet holds nobody up; a late
   * buffer has this long to come */
  g_object_set (out->mixer, "latency", (guint64) latency_ms * GST_MSECOND,
      "ignore-inactive-pads", TRUE, NULL);
  gst_util_set_object_arg (G_OBJECT (out->mixer), "start-time-selection",
      "first");
  out->background_caps = make ("capsfilter");
  out->out_caps = make ("capsfilter");
  g_object_set (out->background_caps, "caps", caps, NULL);
  g_object_set (out->out_caps, "caps", caps, NULL);
  gst_caps_unref (caps);

  gst_bin_add_many (out->bin, gst_object_ref (out->background),
      gst_object_ref (out->background_caps), gst_object_ref (out->mixer),
      gst_object_ref (out->out_caps), NULL);
  gst_element_link (out->background, out->background_caps);
  out->background_pad = gst_element_request_pad_simple (out->mixer,
      "sink_%u");
  src = gst_element_get_static_pad (out->background_caps, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM |
      GST_PAD_PROBE_TYPE_PULL, background_latency_probe, NULL, NULL);
  gst_pad_link (src, out->background_pad);
  gst_object_unref (src);
  if (out->kind == GST_MESH_MEDIA_VIDEO)
    g_object_set (out->background_pad, "zorder", 0u, NULL);
  gst_element_link (out->mixer, out->out_caps);

  out->pad_added_id = g_signal_connect (out->mixer, "pad-added",
      G_CALLBACK (on_pad_added), out);
  out->pad_removed_id = g_signal_connect (out->mixer, "pad-removed",
      G_CALLBACK (on_pad_removed), out);
  return TRUE;
}

GstMeshOutput *
gst_mesh_output_new (GstBin * bin, GstMeshMediaKind kind, gboolean grid,
    gint width, gint height, guint latency_ms)
{
  GstMeshOutput *out = g_new0 (GstMeshOutput, 1);

  ensure_debug ();
  out->bin = bin;
  out->kind = kind;
  out->grid = grid;
  out->width = width;
  out->height = height;
  if (grid) {
    if (!build_grid (out, latency_ms)) {
      g_clear_object (&out->mixer);
      g_clear_object (&out->background);
      g_free (out);
      return NULL;
    }
    GST_INFO ("%s grid output %dx%d", gst_mesh_media_kind_name (kind), width,
        height);
  } else {
    out->mixer = make ("funnel");
    if (!out->mixer) {
      g_free (out);
      return NULL;
    }
    gst_bin_add (bin, gst_object_ref (out->mixer));
  }
  return out;
}

gboolean
gst_mesh_output_is_grid (GstMeshOutput * out)
{
  return out->grid;
}

GstElement *
gst_mesh_output_get_mixer (GstMeshOutput * out)
{
  return out->mixer;
}

GstPad *
gst_mesh_output_get_src_pad (GstMeshOutput * out)
{
  return gst_element_get_static_pad (out->grid ? out->out_caps : out->mixer,
      "src");
}

void
gst_mesh_output_sync_state (GstMeshOutput * out)
{
  /* downstream first, so nothing pushes into an element still in NULL */
  if (out->out_caps)
    gst_element_sync_state_with_parent (out->out_caps);
  gst_element_sync_state_with_parent (out->mixer);
  if (out->background_caps)
    gst_element_sync_state_with_parent (out->background_caps);
  if (out->background)
    gst_element_sync_state_with_parent (out->background);
}

/* Out of the bin, unless the bin is being disposed and dropped it. */
static void
remove (GstMeshOutput * out, GstElement * e)
{
  if (!e)
    return;
  if (GST_OBJECT_PARENT (e) == GST_OBJECT (out->bin)) {
    gst_element_set_locked_state (e, TRUE);
    gst_element_set_state (e, GST_STATE_NULL);
    gst_bin_remove (out->bin, e);
  }
  gst_object_unref (e);
}

void
gst_mesh_output_free (GstMeshOutput * out)
{
  if (!out)
    return;
  if (out->pad_added_id) {
    g_signal_handler_disconnect (out->mixer, out->pad_added_id);
    g_signal_handler_disconnect (out->mixer, out->pad_removed_id);
  }
  remove (out, out->background);
  remove (out, out->background_caps);
  if (out->background_pad) {
    gst_element_release_request_pad (out->mixer, out->background_pad);
    gst_object_unref (out->background_pad);
  }
  remove (out, out->mixer);
  remove (out, out->out_caps);
  g_free (out);
}

/* ---- the jitter buffers' wait within the sink's processing deadline -----
 *
 * A live pipeline renders a buffer at its running time plus the pipeline
 * latency: here the jitter buffers' (10 ms at the defaults) plus the
 * sink's processing-deadline (GStreamer's default 20 ms), whose use is to
 * cover the processing between the last latency-reporting element and the
 * sink. Decoding happens inside the element, and takes 1-2 ms for a
 * 640x480 VP8 frame here (tests/bench/README.md, glass --trace), so most
 * of those 30 ms were spent waiting: a pipeline showed the picture 8-10
 * ms later than Chromium did. The two waits may overlap: a packet the
 * jitter buffer waits for until its deadline still leaves the sink's
 * deadline less the overlap for decoding. So each media src pad of the
 * element runs OVERLAP_MAX early (a negative pad offset), as long as the
 * sink's share of the latency (what the LATENCY event gives, less what
 * the pad answered to the latency query) keeps DEADLINE_KEPT beyond it;
 * a sink with a smaller processing-deadline gets less, down to none. The
 * latency reported is unchanged, and all media pads take the smallest
 * overlap any of them allows: audio and video stay in sync. */
#define OVERLAP_MAX (10 * GST_MSECOND)
#define DEADLINE_KEPT (10 * GST_MSECOND)

static GQuark
reported_quark (void)
{
  static GQuark q;

  if (!q)
    q = g_quark_from_static_string ("gst-mesh-reported-latency");
  return q;
}

static GQuark
overlap_quark (void)
{
  static GQuark q;

  if (!q)
    q = g_quark_from_static_string ("gst-mesh-overlap");
  return q;
}

static gboolean
is_media_pad (GstPad * pad)
{
  const gchar *name = GST_PAD_NAME (pad);

  return GST_PAD_IS_SRC (pad) && (g_str_has_prefix (name, "video_src") ||
      g_str_has_prefix (name, "audio_src") ||
      g_str_has_prefix (name, "peer_video_") ||
      g_str_has_prefix (name, "peer_audio_"));
}

/* The smallest overlap a media pad of @element allows (what the last
 * LATENCY event let it), applied to all of them. */
static void
apply_overlap (GstElement * element)
{
  GstIterator *it = gst_element_iterate_src_pads (element);
  GValue v = G_VALUE_INIT;
  GPtrArray *pads = g_ptr_array_new_with_free_func (gst_object_unref);
  GstClockTime overlap = OVERLAP_MAX;
  gboolean known = FALSE;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstPad *pad = g_value_get_object (&v);
    const GstClockTime *o = g_object_get_qdata (G_OBJECT (pad),
        overlap_quark ());

    if (is_media_pad (pad)) {
      g_ptr_array_add (pads, gst_object_ref (pad));
      if (o) {
        overlap = MIN (overlap, *o);
        known = TRUE;
      }
    }
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  if (!known)
    overlap = 0;
  for (guint i = 0; i < pads->len; i++) {
    GstPad *pad = g_ptr_array_index (pads, i);

    if (gst_pad_get_offset (pad) != -(gint64) overlap) {
      GST_INFO_OBJECT (pad, "running %" GST_TIME_FORMAT " early, within the "
          "sink's processing deadline", GST_TIME_ARGS (overlap));
      gst_pad_set_offset (pad, -(gint64) overlap);
    }
  }
  g_ptr_array_unref (pads);
}

static GstPadProbeReturn
latency_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstElement *element = user_data;

  if ((info->type & GST_PAD_PROBE_TYPE_QUERY_UPSTREAM) &&
      (info->type & GST_PAD_PROBE_TYPE_PULL)) {
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
    gboolean live;
    GstClockTime min;

    if (GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
      return GST_PAD_PROBE_OK;
    gst_query_parse_latency (query, &live, &min, NULL);
    if (live) {
      GstClockTime *m = g_new (GstClockTime, 1);
      *m = min;
      g_object_set_qdata_full (G_OBJECT (pad), reported_quark (), m, g_free);
    }
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_UPSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    const GstClockTime *min = g_object_get_qdata (G_OBJECT (pad),
        reported_quark ());
    GstClockTime total, budget, *overlap;

    if (GST_EVENT_TYPE (event) != GST_EVENT_LATENCY || !min)
      return GST_PAD_PROBE_OK;
    gst_event_parse_latency (event, &total);
    budget = total > *min ? total - *min : 0;
    overlap = g_new (GstClockTime, 1);
    *overlap = budget > DEADLINE_KEPT ?
        MIN (OVERLAP_MAX, budget - DEADLINE_KEPT) : 0;
    GST_DEBUG_OBJECT (pad, "latency %" GST_TIME_FORMAT ", ours %"
        GST_TIME_FORMAT ": overlap %" GST_TIME_FORMAT, GST_TIME_ARGS (total),
        GST_TIME_ARGS (*min), GST_TIME_ARGS (*overlap));
    g_object_set_qdata_full (G_OBJECT (pad), overlap_quark (), overlap,
        g_free);
    apply_overlap (element);
  }
  return GST_PAD_PROBE_OK;
}

static void
on_element_pad_added (GstElement * element, GstPad * pad, gpointer data)
{
  if (!is_media_pad (pad))
    return;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM |
      GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, latency_probe, element, NULL);
  apply_overlap (element);
}

void
gst_mesh_output_overlap_deadline (GstElement * element)
{
  ensure_debug ();
  g_signal_connect (element, "pad-added", G_CALLBACK (on_element_pad_added),
      NULL);
}
