/* gst-mesh: glass-to-glass latency of meshsignal, the way a viewer sees it.
 *
 * The sender writes the wall-clock time (ms, modulo 65536) into 16
 * black/white blocks (4x4) of every 640x480 frame as it leaves the camera
 * (videotestsrc), and starts a 20 ms tone burst at every multiple of 250 ms
 * of wall-clock time, its pitch (500, 1000, 1500, 2000 Hz) saying which of
 * four (so a delay up to 1 s is unambiguous). The receiver reads the blocks
 * of each frame when its sink renders it (fakesink sync=true: after the
 * clock wait, as a display would show it) and finds each burst's onset in
 * the samples as they are rendered. Delay = render wall time - time code.
 * Both sides use g_get_real_time(), the clock a browser's Date.now() reads,
 * so a page on the same machine can be either end (tests/bench/glass.mjs).
 *
 *   glass --pair [options]          two pipelines in this process, A calls B
 *   glass --role call|wait [...]    one pipeline (the other end is a page)
 *     --server URL      signalling server (http://127.0.0.1:4000)
 *     --seconds N       measure for N s after the first decoded frame (20)
 *     --props "K=V ..." extra meshsignal properties, e.g. "latency=0"
 *     --trace           (--pair) per video frame, when it passed each stage
 *     --deadline MS     the sinks' processing-deadline (GStreamer's default
 *                       is 20 ms, and every sink adds it to the latency)
 *
 * Prints JSON lines on stdout:
 *   {"p":"B","kind":"video","ms":41.2}     one rendered frame, its delay
 *   {"p":"B","kind":"audio","ms":38.0}     one burst
 *   {"p":"B","kind":"stages",...}          --trace: ms after capture of
 *        enc (encoder out), pay (first RTP packet out of the payloader),
 *        sent (last packet of the frame into nicesink), arr (last packet out
 *        of nicesrc on the other side), jb (first packet out of the jitter
 *        buffer), dec (decoder out), glass (rendered)
 *   {"p":"A","kind":"pipeline-latency","ms":40.0}  the pipeline's latency
 * and exits 0 when every pipeline rendered frames, 1 otherwise.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define W 640
#define H 480
#define RATE 48000
#define BURST_PERIOD_MS 250
#define BURST_MS 20
#define AMP 12000

typedef struct
{
  gint64 cap, enc, pay, sent, arr, jbin, jbout, jb, dec, glass;
} Stages;

typedef struct
{
  const gchar *name;
  GstElement *pipeline;
  /* sender: PTS of a captured frame -> its Stages (owned by frames) */
  GHashTable *tx_by_pts;
  /* receiver: PTS out of the video jitter buffer -> Stages */
  GHashTable *rx_by_pts;
  /* audio sender: the burst being written */
  gint burst_left, burst_freq;
  gdouble burst_phase;
  /* audio receiver: onset search */
  gboolean in_burst;
  gint64 onset_us;
  gint crossings, counted, quiet;
  gint16 last_sample;
  guint video_frames, bursts;
} Peer;

static gboolean trace;
static gboolean done;
static GMainLoop *loop;
/* (ssrc << 32 | rtp timestamp) -> Stages, shared by the two pipelines */
static GHashTable *frames;
static GMutex lock;

static gint64
now_us (void)
{
  return g_get_real_time ();
}

static Stages *
frame_for_key (guint64 key)
{
  Stages *s = g_hash_table_lookup (frames, &key);

  if (!s) {
    guint64 *k = g_new (guint64, 1);
    *k = key;
    s = g_new0 (Stages, 1);
    g_hash_table_insert (frames, k, s);
  }
  return s;
}

/* ------------------------------------------------------------------ */
/* video time code */

static GstPadProbeReturn
stamp_video (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Peer *p = data;
  GstBuffer *buf = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GstMapInfo map;
  gint64 t = now_us ();
  guint code = (guint) ((t / 1000) & 0xffff);

  info->data = buf;
  if (!gst_buffer_map (buf, &map, GST_MAP_WRITE))
    return GST_PAD_PROBE_OK;
  /* I420: the luma plane comes first, W bytes a row */
  for (gint b = 0; b < 16; b++) {
    guint8 y = (code >> b) & 1 ? 235 : 16;
    gint x0 = (b % 4) * (W / 4), y0 = (b / 4) * (H / 4);
    for (gint row = y0; row < y0 + H / 4; row++)
      memset (map.data + row * W + x0, y, W / 4);
  }
  gst_buffer_unmap (buf, &map);
  if (trace) {
    Stages *s = g_new0 (Stages, 1);
    s->cap = t;
    g_mutex_lock (&lock);
    g_hash_table_insert (p->tx_by_pts,
        GSIZE_TO_POINTER (GST_BUFFER_PTS (buf) + 1), s);
    g_mutex_unlock (&lock);
  }
  return GST_PAD_PROBE_OK;
}

/* The code of a rendered frame, or -1 if a block is neither black nor
 * white (a frame in the middle of a change, or damaged). */
static gint
read_code (GstVideoFrame * f)
{
  gint w = GST_VIDEO_FRAME_WIDTH (f), h = GST_VIDEO_FRAME_HEIGHT (f);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (f, 0);
  const guint8 *y = GST_VIDEO_FRAME_PLANE_DATA (f, 0);
  guint code = 0;

  for (gint b = 0; b < 16; b++) {
    gint cx = ((b % 4) * 2 + 1) * w / 8, cy = ((b / 4) * 2 + 1) * h / 8;
    guint v = y[cy * stride + cx];
    if (v > 160)
      code |= 1u << b;
    else if (v > 90)
      return -1;
  }
  return code;
}

static void
on_video_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad,
    gpointer data)
{
  Peer *p = data;
  gint64 t = now_us ();
  GstVideoInfo vi;
  GstVideoFrame f;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  gint code;
  gdouble ms;

  if (!caps || !gst_video_info_from_caps (&vi, caps)) {
    gst_clear_caps (&caps);
    return;
  }
  gst_caps_unref (caps);
  if (!gst_video_frame_map (&f, &vi, buf, GST_MAP_READ))
    return;
  code = read_code (&f);
  gst_video_frame_unmap (&f);
  if (code < 0)
    return;
  ms = (gdouble) ((((t / 1000) & 0xffff) - code + 0x10000) & 0xffff) +
      (t % 1000) / 1000.0;
  p->video_frames++;
  g_print ("{\"p\":\"%s\",\"kind\":\"video\",\"ms\":%.1f}\n", p->name, ms);
  if (trace) {
    Stages *s;
    g_mutex_lock (&lock);
    s = g_hash_table_lookup (p->rx_by_pts,
        GSIZE_TO_POINTER (GST_BUFFER_PTS (buf) + 1));
    if (s && s->cap && !s->glass) {
      s->glass = t;
#define REL(x) (s->x ? (s->x - s->cap) / 1000.0 : -1.0)
      g_print ("{\"p\":\"%s\",\"kind\":\"stages\",\"enc\":%.1f,\"pay\":%.1f,"
          "\"sent\":%.1f,\"arr\":%.1f,\"jbin\":%.1f,\"jbout\":%.1f,\"jb\":%.1f,\"dec\":%.1f,"
          "\"glass\":%.1f}\n", p->name, REL (enc), REL (pay), REL (sent),
          REL (arr), REL (jbin), REL (jbout), REL (jb), REL (dec), REL (glass));
#undef REL
    }
    g_mutex_unlock (&lock);
  }
}

/* ------------------------------------------------------------------ */
/* audio bursts */

static const gint freqs[4] = { 500, 1000, 1500, 2000 };

static GstPadProbeReturn
stamp_audio (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Peer *p = data;
  GstBuffer *buf = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GstMapInfo map;
  gint64 t = now_us ();
  gint n, start = 0;
  gint16 *s;

  info->data = buf;
  if (!gst_buffer_map (buf, &map, GST_MAP_WRITE))
    return GST_PAD_PROBE_OK;
  s = (gint16 *) map.data;
  n = map.size / 2;
  if (!p->burst_left) {
    /* the next multiple of the period, if it falls in this buffer */
    gint64 period = BURST_PERIOD_MS * 1000;
    gint64 next = (t + period - 1) / period * period;
    gint64 off = (next - t) * RATE / G_USEC_PER_SEC;
    if (off < n) {
      start = off;
      p->burst_left = RATE * BURST_MS / 1000;
      p->burst_freq = freqs[(next / period) % 4];
      p->burst_phase = 0;
    }
  }
  for (gint i = start; i < n && p->burst_left > 0; i++, p->burst_left--) {
    s[i] = (gint16) (AMP * sin (p->burst_phase));
    p->burst_phase += 2 * G_PI * p->burst_freq / RATE;
  }
  gst_buffer_unmap (buf, &map);
  return GST_PAD_PROBE_OK;
}

static void
on_audio_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad,
    gpointer data)
{
  Peer *p = data;
  gint64 t = now_us ();
  GstMapInfo map;
  const gint16 *s;
  gint n;
  /* zero crossings over the first 10 ms: 2 per period */
  const gint window = RATE / 100;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return;
  s = (const gint16 *) map.data;
  n = map.size / 2;
  for (gint i = 0; i < n; i++) {
    gint v = s[i];
    if (!p->in_burst) {
      if (ABS (v) > AMP / 3) {
        p->in_burst = TRUE;
        p->onset_us = t + (gint64) i * G_USEC_PER_SEC / RATE;
        p->crossings = 0;
        p->counted = 0;
        p->quiet = 0;
        p->last_sample = v;
      }
      continue;
    }
    if (p->counted < window) {
      if ((v >= 0) != (p->last_sample >= 0))
        p->crossings++;
      p->last_sample = v;
      if (++p->counted == window) {
        /* which of the four pitches, so which multiple of the period */
        gint k = CLAMP ((p->crossings + 5) / 10 - 1, 0, 3);
        gint64 period = BURST_PERIOD_MS * 1000;
        gint64 b = p->onset_us / period * period;
        while ((b / period) % 4 != k)
          b -= period;
        p->bursts++;
        g_print ("{\"p\":\"%s\",\"kind\":\"audio\",\"ms\":%.1f}\n", p->name,
            (p->onset_us - b) / 1000.0);
      }
    }
    /* the burst ends after 50 ms of near silence */
    if (ABS (v) < AMP / 10) {
      if (++p->quiet > RATE / 20)
        p->in_burst = FALSE;
    } else
      p->quiet = 0;
  }
  gst_buffer_unmap (buf, &map);
}

/* ------------------------------------------------------------------ */
/* stage probes on the elements meshsignal makes (--trace) */

static gboolean
rtp_header (const guint8 * d, gsize len, guint64 * key, gboolean * marker)
{
  if (len < 12 || (d[0] >> 6) != 2)
    return FALSE;
  /* RTCP (and SRTCP) packet types 200-204 share the second byte */
  if (d[1] >= 200 && d[1] <= 204)
    return FALSE;
  *marker = d[1] & 0x80;
  *key = ((guint64) GST_READ_UINT32_BE (d + 8) << 32) |
      GST_READ_UINT32_BE (d + 4);
  return TRUE;
}

typedef enum
{ AT_ENC, AT_PAY, AT_SENT, AT_ARR, AT_JBIN, AT_JBOUT, AT_JB, AT_DEC } At;

typedef struct
{
  Peer *peer;
  At at;
} ProbeData;

static void
note_packet (Peer * p, At at, GstBuffer * buf, gint64 t)
{
  GstMapInfo map;
  guint64 key;
  gboolean marker;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return;
  if (rtp_header (map.data, map.size, &key, &marker)) {
    Stages *s;
    g_mutex_lock (&lock);
    if (at == AT_PAY) {
      /* the payloader keeps the frame's PTS: the capture record joins the
       * frame's RTP timestamp here */
      Stages *c = g_hash_table_lookup (p->tx_by_pts,
          GSIZE_TO_POINTER (GST_BUFFER_PTS (buf) + 1));
      s = frame_for_key (key);
      if (c && !s->cap) {
        s->cap = c->cap;
        s->enc = c->enc;
      }
      if (!s->pay)
        s->pay = t;
    } else {
      s = g_hash_table_lookup (frames, &key);
      if (s && at == AT_SENT && marker)
        s->sent = t;
      else if (s && at == AT_ARR && marker)
        s->arr = t;
      else if (s && at == AT_JBIN && marker)
        s->jbin = t;
      else if (s && at == AT_JBOUT && marker)
        s->jbout = t;
      else if (s && at == AT_JB && !s->jb) {
        s->jb = t;
        g_hash_table_insert (p->rx_by_pts,
            GSIZE_TO_POINTER (GST_BUFFER_PTS (buf) + 1), s);
      }
    }
    g_mutex_unlock (&lock);
  }
  gst_buffer_unmap (buf, &map);
}

static gboolean
note_in_list (GstBuffer ** buf, guint idx, gpointer data)
{
  ProbeData *d = data;
  note_packet (d->peer, d->at, *buf, now_us ());
  return TRUE;
}

static GstPadProbeReturn
stage_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  ProbeData *d = data;
  gint64 t = now_us ();

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    gst_buffer_list_foreach (GST_PAD_PROBE_INFO_BUFFER_LIST (info),
        note_in_list, d);
    return GST_PAD_PROBE_OK;
  }
  if (d->at == AT_ENC || d->at == AT_DEC) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    gpointer pts = GSIZE_TO_POINTER (GST_BUFFER_PTS (buf) + 1);
    Stages *s;
    g_mutex_lock (&lock);
    s = g_hash_table_lookup (d->at == AT_ENC ? d->peer->tx_by_pts :
        d->peer->rx_by_pts, pts);
    if (s && d->at == AT_ENC && !s->enc)
      s->enc = t;
    else if (s && d->at == AT_DEC && !s->dec)
      s->dec = t;
    g_mutex_unlock (&lock);
  } else
    note_packet (d->peer, d->at, GST_PAD_PROBE_INFO_BUFFER (info), t);
  return GST_PAD_PROBE_OK;
}

static void
probe_at (GstElement * e, const gchar * pad_name, Peer * p, At at)
{
  GstPad *pad = gst_element_get_static_pad (e, pad_name);
  ProbeData *d = g_new (ProbeData, 1);

  d->peer = p;
  d->at = at;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, stage_probe, d, g_free);
  gst_object_unref (pad);
}

static void
on_element (GstBin * bin, GstBin * sub, GstElement * e, gpointer data)
{
  Peer *p = data;
  GstElementFactory *f = gst_element_get_factory (e);
  const gchar *name = f ? GST_OBJECT_NAME (f) : "";

  /* a bin added with its children (meshsignal's encoder bins) signals
   * only itself */
  if (GST_IS_BIN (e)) {
    GstIterator *it = gst_bin_iterate_recurse (GST_BIN (e));
    GValue v = G_VALUE_INIT;
    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      on_element (bin, GST_BIN (e), g_value_get_object (&v), data);
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
    return;
  }

  if (!strcmp (name, "vp8enc") || !strcmp (name, "x264enc"))
    probe_at (e, "src", p, AT_ENC);
  else if (!strcmp (name, "rtpvp8pay") || !strcmp (name, "rtph264pay"))
    probe_at (e, "src", p, AT_PAY);
  else if (!strcmp (name, "nicesink"))
    probe_at (e, "sink", p, AT_SENT);
  else if (!strcmp (name, "nicesrc"))
    probe_at (e, "src", p, AT_ARR);
  else if (!strcmp (name, "rtpjitterbuffer")) {
    probe_at (e, "sink", p, AT_JBIN);
    probe_at (e, "src", p, AT_JBOUT);
  }
  else if (!strcmp (name, "rtpvp8depay") || !strcmp (name, "rtph264depay"))
    /* what enters the depayloader is what left the video jitter buffer */
    probe_at (e, "sink", p, AT_JB);
  else if (!strcmp (name, "vp8dec") || !strcmp (name, "avdec_h264") ||
      !strcmp (name, "openh264dec"))
    probe_at (e, "src", p, AT_DEC);
}

/* ------------------------------------------------------------------ */

static gchar *server = NULL, *props = NULL;
static gint seconds = 20;
static gint deadline_ms = -1;
static Peer peers[2];
static guint n_peers;

static gboolean
stop_all (gpointer unused)
{
  done = TRUE;
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_bus (GstBus * bus, GstMessage * m, gpointer data)
{
  Peer *p = data;
  static gboolean started;

  switch (GST_MESSAGE_TYPE (m)) {
    case GST_MESSAGE_ERROR:{
      GError *e;
      gchar *dbg;
      gst_message_parse_error (m, &e, &dbg);
      g_printerr ("%s: error: %s (%s)\n", p->name, e->message, dbg);
      g_error_free (e);
      g_free (dbg);
      g_main_loop_quit (loop);
      break;
    }
    case GST_MESSAGE_LATENCY:
      /* the jitter buffers grew or shrank: as gst-launch-1.0 does, and as
       * README asks of an application (without it, the sinks kept the
       * first latency, and audio, waiting in a grown buffer for packets
       * that never come back, was counted late against its video) */
      gst_bin_recalculate_latency (GST_BIN (p->pipeline));
      break;
    case GST_MESSAGE_ELEMENT:
      if (gst_message_has_name (m, "mesh-first-frame") && !started) {
        const gchar *media =
            gst_structure_get_string (gst_message_get_structure (m), "media");
        if (!g_strcmp0 (media, "video")) {
          started = TRUE;
          g_timeout_add_seconds (seconds, stop_all, NULL);
        }
      }
      break;
    default:
      break;
  }
  return TRUE;
}

static gboolean
start_peer (Peer * p, const gchar * role)
{
  GError *err = NULL;
  gchar *desc = g_strdup_printf ("meshsignal name=m server-url=%s role=%s %s "
      "videotestsrc is-live=true pattern=black ! "
      "video/x-raw,format=I420,width=%d,height=%d,framerate=30/1 ! "
      "identity name=vstamp ! m.video_sink "
      "audiotestsrc is-live=true wave=silence samplesperbuffer=480 ! "
      "audio/x-raw,format=S16LE,rate=%d,channels=1,layout=interleaved ! "
      "identity name=astamp ! m.audio_sink "
      "m.video_src ! videoconvert ! video/x-raw,format=I420 ! "
      "fakesink name=vglass sync=true signal-handoffs=true "
      "m.audio_src ! audioconvert ! audioresample ! "
      "audio/x-raw,format=S16LE,rate=%d,channels=1 ! "
      "fakesink name=aglass sync=true signal-handoffs=true",
      server, role, props ? props : "", W, H, RATE, RATE);
  GstElement *e;
  GstPad *pad;

  p->pipeline = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!p->pipeline) {
    g_printerr ("%s: %s\n", p->name, err->message);
    g_error_free (err);
    return FALSE;
  }
  p->tx_by_pts = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  p->rx_by_pts = g_hash_table_new (NULL, NULL);
  e = gst_bin_get_by_name (GST_BIN (p->pipeline), "vstamp");
  pad = gst_element_get_static_pad (e, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, stamp_video, p, NULL);
  gst_object_unref (pad);
  gst_object_unref (e);
  e = gst_bin_get_by_name (GST_BIN (p->pipeline), "astamp");
  pad = gst_element_get_static_pad (e, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, stamp_audio, p, NULL);
  gst_object_unref (pad);
  gst_object_unref (e);
  e = gst_bin_get_by_name (GST_BIN (p->pipeline), "vglass");
  g_signal_connect (e, "handoff", G_CALLBACK (on_video_handoff), p);
  if (deadline_ms >= 0)
    g_object_set (e, "processing-deadline",
        (guint64) deadline_ms * GST_MSECOND, NULL);
  gst_object_unref (e);
  e = gst_bin_get_by_name (GST_BIN (p->pipeline), "aglass");
  g_signal_connect (e, "handoff", G_CALLBACK (on_audio_handoff), p);
  if (deadline_ms >= 0)
    g_object_set (e, "processing-deadline",
        (guint64) deadline_ms * GST_MSECOND, NULL);
  gst_object_unref (e);
  if (trace) {
    /* meshsignal built its input chains when gst_parse_launch() linked
     * its sink pads: those are here already */
    on_element (GST_BIN (p->pipeline), NULL, p->pipeline, p);
    g_signal_connect (p->pipeline, "deep-element-added",
        G_CALLBACK (on_element), p);
  }
  gst_bus_add_watch (GST_ELEMENT_BUS (p->pipeline), on_bus, p);
  return gst_element_set_state (p->pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE;
}

/* What each sink's upstream says it needs: the pipeline takes the
 * largest of the live ones for all of them. */
static void
print_sink_latencies (Peer * p)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (p->pipeline));
  GValue v = G_VALUE_INIT;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    GstPad *pad;
    GstQuery *q;
    gboolean live;
    GstClockTime min;

    g_value_reset (&v);
    if (!GST_OBJECT_FLAG_IS_SET (e, GST_ELEMENT_FLAG_SINK) || GST_IS_BIN (e))
      continue;
    pad = gst_element_get_static_pad (e, "sink");
    q = gst_query_new_latency ();
    if (pad && gst_pad_peer_query (pad, q)) {
      gboolean sync = FALSE;
      gst_query_parse_latency (q, &live, &min, NULL);
      if (g_object_class_find_property (G_OBJECT_GET_CLASS (e), "sync"))
        g_object_get (e, "sync", &sync, NULL);
      g_print ("{\"p\":\"%s\",\"kind\":\"sink-latency\",\"sink\":\"%s\","
          "\"sync\":%s,\"live\":%s,\"ms\":%.1f}\n", p->name,
          GST_OBJECT_NAME (e), sync ? "true" : "false",
          live ? "true" : "false", min / 1e6);
    }
    gst_query_unref (q);
    gst_clear_object (&pad);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
}

int
main (int argc, char **argv)
{
  gboolean pair = FALSE;
  gchar *role = NULL;
  GOptionEntry entries[] = {
    {"pair", 0, 0, G_OPTION_ARG_NONE, &pair, "two pipelines, A calls B", NULL},
    {"role", 0, 0, G_OPTION_ARG_STRING, &role, "call or wait", "ROLE"},
    {"server", 0, 0, G_OPTION_ARG_STRING, &server, "signalling server", "URL"},
    {"seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "measuring time", "N"},
    {"props", 0, 0, G_OPTION_ARG_STRING, &props, "meshsignal properties",
        "\"K=V ...\""},
    {"trace", 0, 0, G_OPTION_ARG_NONE, &trace, "stage times (--pair)", NULL},
    {"deadline", 0, 0, G_OPTION_ARG_INT, &deadline_ms,
        "the sinks' processing-deadline (default: GStreamer's, 20)", "MS"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- glass-to-glass delay");
  GError *err = NULL;
  gint ret = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (!server)
    server = g_strdup ("http://127.0.0.1:4000");
  if (!pair && !role) {
    g_printerr ("give --pair or --role call|wait\n");
    return 2;
  }
  trace = trace && pair;
  frames = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
      g_free);
  loop = g_main_loop_new (NULL, FALSE);

  peers[0].name = pair ? "A" : "G";
  n_peers = pair ? 2 : 1;
  if (pair) {
    peers[1].name = "B";
    if (!start_peer (&peers[1], "wait"))
      return 1;
  }
  if (!start_peer (&peers[0], pair ? "call" : role))
    return 1;
  g_timeout_add_seconds (seconds + 60, stop_all, NULL);
  g_main_loop_run (loop);

  for (guint i = 0; i < n_peers; i++) {
    Peer *p = &peers[i];
    GstQuery *q = gst_query_new_latency ();
    if (gst_element_query (p->pipeline, q)) {
      GstClockTime min;
      gst_query_parse_latency (q, NULL, &min, NULL);
      g_print ("{\"p\":\"%s\",\"kind\":\"pipeline-latency\",\"ms\":%.1f}\n",
          p->name, min / 1e6);
    }
    gst_query_unref (q);
    print_sink_latencies (p);
    g_printerr ("%s: %u video frames and %u bursts read\n", p->name,
        p->video_frames, p->bursts);
    if (!p->video_frames)
      ret = 1;
    gst_element_set_state (p->pipeline, GST_STATE_NULL);
    gst_object_unref (p->pipeline);
  }
  return done ? ret : 1;
}
