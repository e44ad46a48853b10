/* gst-mesh: call-setup benchmark for meshsignal (gst <-> gst).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two pipelines in one process, each
 *
 *   meshsignal name=m server-url=URL role=... latency=...
 *     videotestsrc is-live=true ! video/x-raw,width=640,height=480,
 *       framerate=30/1 ! m.video_sink
 *     audiotestsrc is-live=true ! m.audio_sink
 *     m.video_src ! fakesink  m.audio_src ! fakesink
 *
 * are set to PLAYING one right after the other; t0 is taken just before
 * the first gst_element_set_state(). The setup time of a run is
 *
 *   max(first decoded video frame on A, on B) - t0
 *
 * where "first decoded video frame" is the `mesh-first-frame` element
 * message (media=video), timed by our own bus sync handler (it runs in the
 * thread that posts, i.e. right at the decoder's first output buffer). The
 * element's own `wallclock` field is kept as a cross-check.
 *
 * For the breakdown it also records, per side and relative to t0:
 *   sig      mesh-signalling state=connected (Socket.IO handshake done)
 *   offer    webrtcbin signaling-state have-local-offer (caller) /
 *            have-remote-offer (answerer): offer made / offer received
 *   answer   signaling-state stable (answer set locally or received)
 *   ice      webrtcbin ice-connection-state connected
 *   dtls     webrtcbin connection-state connected (ICE + DTLS done), the
 *            same moment meshsignal posts mesh-call state=connected
 *   rtp      first RTP buffer into the video rtpjitterbuffer
 *   jb       first buffer out of the video rtpjitterbuffer
 *   video    first decoded video frame (mesh-first-frame)
 *   audio    first decoded audio frame
 * (hooks on webrtcbin and rtpjitterbuffer are installed from the pipeline's
 * deep-element-added signal; nothing in the element is changed).
 *
 * Variants (--variants, comma separated, default the first three):
 *   call-wait      A role=call, B role=wait,  latency = the element's default
 *   call-call      A and B role=call,         latency = the default
 *   call-wait-200  A role=call, B role=wait,  latency=200 (webrtcbin's
 *                  default jitterbuffer latency)
 *   any latency: call-wait-N / call-call-N; experiments appended with '+'
 *   (set by this program on the elements meshsignal creates, to measure
 *   what a change in the element would gain):
 *     +taN     libnice stun-pacing-timer N ms (libnice's default is 20)
 *     +thrN    vp8enc threads=N (meshsignal sets 2)
 *     +notcp   GstWebRTCICE ice-tcp=false
 *     +noupnp  libnice upnp=false
 *   e.g. call-wait-0+ta5+thr1+notcp+noupnp
 * Every meshsignal gets peer-timeout=0 (see make_pipeline).
 * Each variant runs --runs times (default 10), variants one after the
 * other. The very first run of the process pays the DTLS certificate
 * generation (the element pre-warms it in a thread at NULL->READY, which
 * here is the same moment as the PLAYING request): it is flagged "cold" and
 * every summary gives run 1 separately and the median of runs 2..N.
 *
 * Usage: call-setup [--runs N] [--variants LIST] [--server-url URL]
 *                   [--gap MS] [--timeout MS] [--json] [--trace]
 *   Must run inside tools/netns-run with the seed server on port 4000.
 *   Without --json prints a table per variant and medians; with --json
 *   prints one JSON document on stdout (the tables go to stderr).
 *   Exit 0 if every run got video on both sides, 1 otherwise.
 *
 * Build by hand:
 *   gcc -O2 -Wall -o call-setup tests/bench/call-setup.c \
 *       $(pkg-config --cflags --libs gstreamer-1.0)
 */

#include <gst/gst.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WEBRTC 8
#define NONE G_MININT64

enum
{ K_VIDEO, K_AUDIO, N_KIND };

/* one webrtcbin (one call attempt) of a side */
typedef struct
{
  gpointer webrtc;              /* identity only, never dereferenced */
  gint64 local_offer, remote_offer, stable;
  gint64 gathering_done, ice_checking, ice_connected, pc_connected;
} WebrtcRec;

typedef struct
{
  const gchar *name;
  gint64 set_state_returned;
  gint64 sig_connected;
  gint64 call_calling, call_connecting, call_connected;
  guint n_ended;                /* ended/failed calls (collisions, retries) */
  gint64 jb_in[N_KIND], jb_out[N_KIND];
  gint64 first_frame[N_KIND];   /* our clock, in the bus sync handler */
  gint64 first_frame_wallclock[N_KIND];  /* the element's, minus t0 (real) */
  guint n_webrtc;
  WebrtcRec rec[MAX_WEBRTC];
  GstElement *pipeline;
} Side;

typedef struct
{
  const gchar *variant;
  gint index;                   /* 1-based, within its variant */
  gboolean cold;                /* first run of the process */
  gint64 t0_mono, t0_real;
  Side side[2];
  gboolean ok;
  gint64 setup;                 /* max(A video, B video), or NONE */
  gint64 teardown;              /* both set_state(NULL) + unref, µs */
  gchar *error;
} Run;

GST_DEBUG_CATEGORY_STATIC (bench_debug);
#define GST_CAT_DEFAULT bench_debug

static GMutex lock;
static GCond cond;
static Run *current;
/* experiments, set per variant with +suffixes (see parse_variant) */
typedef struct
{
  gint ta;                      /* libnice stun-pacing-timer ms, 0 = keep */
  gboolean no_tcp;              /* no ICE-TCP candidates */
  gboolean no_upnp;             /* libnice upnp off */
  gint enc_threads;             /* vp8enc threads, 0 = keep */
} Tweaks;
static Tweaks tweaks;

static gboolean trace;          /* --trace: print a timeline of each run */
static GPtrArray *trace_lines;  /* "   t ms side what", under the lock */

static gint64
now_rel (void)
{
  return g_get_monotonic_time () - current->t0_mono;
}

static void
set_once (gint64 * slot, gint64 v)
{
  if (*slot == NONE)
    *slot = v;
}

/* with the lock held */
static void
trace_event (gint side, const gchar * what)
{
  if (trace && current)
    g_ptr_array_add (trace_lines, g_strdup_printf ("%9.1f  %c  %s",
            now_rel () / 1000.0, 'A' + side, what));
}

static Side *
side_of (gpointer user_data)
{
  return &current->side[GPOINTER_TO_INT (user_data)];
}

/* ---- webrtcbin state hooks ---------------------------------------------- */

static WebrtcRec *
rec_for (Side * s, gpointer webrtc)
{
  WebrtcRec *r;

  for (guint i = 0; i < s->n_webrtc; i++)
    if (s->rec[i].webrtc == webrtc)
      return &s->rec[i];
  if (s->n_webrtc == MAX_WEBRTC)
    return NULL;
  r = &s->rec[s->n_webrtc++];
  r->webrtc = webrtc;
  r->local_offer = r->remote_offer = r->stable = NONE;
  r->gathering_done = r->ice_checking = r->ice_connected = NONE;
  r->pc_connected = NONE;
  return r;
}

static void
on_webrtc_notify (GObject * webrtc, GParamSpec * pspec, gpointer user_data)
{
  gint v = 0;
  const gchar *prop = g_param_spec_get_name (pspec);

  g_object_get (webrtc, prop, &v, NULL);
  g_mutex_lock (&lock);
  if (current) {
    gint64 t = now_rel ();
    WebrtcRec *r = rec_for (side_of (user_data), webrtc);
    if (trace) {
      GParamSpecEnum *pe = G_PARAM_SPEC_ENUM (pspec);
      GEnumValue *ev = g_enum_get_value (pe->enum_class, v);
      gchar *w = g_strdup_printf ("%s %s %s", GST_OBJECT_NAME (webrtc), prop,
          ev ? ev->value_nick : "?");
      trace_event (GPOINTER_TO_INT (user_data), w);
      g_free (w);
    }
    if (r) {
      if (!strcmp (prop, "signaling-state")) {
        if (v == 2)             /* have-local-offer */
          set_once (&r->local_offer, t);
        else if (v == 3)        /* have-remote-offer */
          set_once (&r->remote_offer, t);
        else if (v == 0)        /* stable */
          set_once (&r->stable, t);
      } else if (!strcmp (prop, "ice-gathering-state") && v == 2) {
        set_once (&r->gathering_done, t);
      } else if (!strcmp (prop, "ice-connection-state")) {
        if (v == 1)             /* checking */
          set_once (&r->ice_checking, t);
        else if (v == 2 || v == 3)      /* connected, completed */
          set_once (&r->ice_connected, t);
      } else if (!strcmp (prop, "connection-state") && v == 2) {
        set_once (&r->pc_connected, t);
      }
    }
  }
  g_mutex_unlock (&lock);
}

/* ---- first buffers through the jitterbuffers ---------------------------- */

/* The jitterbuffer's caps carry only the SSRC, so tell video from audio
 * by the RTP payload type: meshsignal sends Opus as 111 (and video as 96
 * VP8 / 102 H.264), the numbers Chrome uses. */
static gint
kind_of_rtp (GstBuffer * buf)
{
  guint8 h[2];

  if (!buf || gst_buffer_extract (buf, 0, h, 2) != 2 || (h[0] >> 6) != 2)
    return -1;
  return (h[1] & 0x7f) == 111 ? K_AUDIO : K_VIDEO;
}

static GstPadProbeReturn
jb_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  gint which = GPOINTER_TO_INT (user_data);     /* side*2 + (0 in, 1 out) */
  GstBuffer *buf = NULL;
  gint kind;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    buf = GST_PAD_PROBE_INFO_BUFFER (info);
  else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *l = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    if (gst_buffer_list_length (l))
      buf = gst_buffer_list_get (l, 0);
  }
  kind = kind_of_rtp (buf);
  if (kind < 0)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&lock);
  if (current) {
    Side *s = &current->side[which / 2];
    gint64 *slot = (which & 1) ? &s->jb_out[kind] : &s->jb_in[kind];
    if (*slot == NONE) {
      gchar *w = g_strdup_printf ("first %s RTP %s jitterbuffer",
          kind == K_VIDEO ? "video" : "audio", (which & 1) ? "out of" :
          "into");
      trace_event (which / 2, w);
      g_free (w);
    }
    set_once (slot, now_rel ());
  }
  g_mutex_unlock (&lock);
  return GST_PAD_PROBE_REMOVE;
}

/* --trace: buffers through a pad: the first one, and every keyframe
 * (buffer without DELTA_UNIT) for encoders */
typedef struct
{
  gint side;
  gchar *what;
  gboolean keyframes;
  gint seen;
} TraceProbe;

static void
trace_probe_free (gpointer p)
{
  TraceProbe *tp = p;
  g_free (tp->what);
  g_free (tp);
}

static GstPadProbeReturn
trace_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  TraceProbe *tp = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gboolean key = buf && !GST_BUFFER_FLAG_IS_SET (buf,
      GST_BUFFER_FLAG_DELTA_UNIT);
  gint n = tp->seen++;

  if (n == 0 || (tp->keyframes && key && n < 2000)) {
    gchar *w = g_strdup_printf ("%s: %s #%d%s (%" G_GSIZE_FORMAT " bytes)",
        tp->what, n == 0 ? "first buffer" : "keyframe", n,
        tp->keyframes && key ? " key" : "", buf ? gst_buffer_get_size (buf) :
        0);
    g_mutex_lock (&lock);
    trace_event (tp->side, w);
    g_mutex_unlock (&lock);
    g_free (w);
  }
  return (tp->keyframes || n == 0) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_REMOVE;
}

static void
add_trace_probe (GstElement * e, const gchar * pad_name, gint side,
    gboolean keyframes)
{
  GstPad *pad = gst_element_get_static_pad (e, pad_name);
  TraceProbe *tp;

  if (!pad)
    return;
  tp = g_new0 (TraceProbe, 1);
  tp->side = side;
  tp->keyframes = keyframes;
  tp->what = g_strdup_printf ("%s.%s", GST_OBJECT_NAME (e), pad_name);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, trace_probe, tp,
      trace_probe_free);
  gst_object_unref (pad);
}

static void
on_deep_element_added (GstBin * bin, GstBin * sub_bin, GstElement * element,
    gpointer user_data)
{
  GstElementFactory *f = gst_element_get_factory (element);
  const gchar *fname = f ? GST_OBJECT_NAME (f) : "";

  if (!strcmp (fname, "vp8enc") && tweaks.enc_threads)
    g_object_set (element, "threads", tweaks.enc_threads, NULL);
  if (!strcmp (fname, "webrtcbin")
      && (tweaks.ta || tweaks.no_tcp || tweaks.no_upnp)) {
    GObject *ice = NULL, *agent = NULL;
    g_object_get (element, "ice-agent", &ice, NULL);
    if (ice && tweaks.no_tcp)
      g_object_set (ice, "ice-tcp", FALSE, NULL);
    if (ice && g_object_class_find_property (G_OBJECT_GET_CLASS (ice),
            "agent"))
      g_object_get (ice, "agent", &agent, NULL);
    if (agent && tweaks.ta)
      g_object_set (agent, "stun-pacing-timer", (guint) tweaks.ta, NULL);
    if (agent && tweaks.no_upnp)
      g_object_set (agent, "upnp", FALSE, NULL);
    if (agent)
      g_object_unref (agent);
    if (ice)
      g_object_unref (ice);
  }
  if (!strcmp (fname, "webrtcbin")) {
    const gchar *props[] = { "signaling-state", "ice-gathering-state",
      "ice-connection-state", "connection-state"
    };
    for (guint i = 0; i < G_N_ELEMENTS (props); i++) {
      gchar *sig = g_strconcat ("notify::", props[i], NULL);
      g_signal_connect (element, sig, G_CALLBACK (on_webrtc_notify),
          user_data);
      g_free (sig);
    }
  }
  if (trace) {
    gint side = GPOINTER_TO_INT (user_data);
    if (!strcmp (fname, "videotestsrc"))
      add_trace_probe (element, "src", side, FALSE);
    else if (!strcmp (fname, "vp8enc") || !strcmp (fname, "x264enc")
        || !strcmp (fname, "openh264enc"))
      add_trace_probe (element, "src", side, TRUE);
    else if (!strcmp (fname, "rtpvp8pay") || !strcmp (fname, "rtpvp8depay")
        || !strcmp (fname, "vp8dec") || !strcmp (fname, "rtpopusdepay")
        || !strcmp (fname, "opusdec") || !strcmp (fname, "nicesrc")
        || !strcmp (fname, "srtpdec") || !strcmp (fname, "rtpssrcdemux"))
      add_trace_probe (element, "src", side, FALSE);
    else if (!strcmp (fname, "nicesink") || !strcmp (fname, "srtpenc"))
      add_trace_probe (element, "sink", side, FALSE);
  }
  if (!strcmp (fname, "rtpjitterbuffer")) {
    gint side = GPOINTER_TO_INT (user_data);
    GstPad *sink = gst_element_get_static_pad (element, "sink");
    GstPad *src = gst_element_get_static_pad (element, "src");
    gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, jb_probe, GINT_TO_POINTER (side * 2),
        NULL);
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, jb_probe,
        GINT_TO_POINTER (side * 2 + 1), NULL);
    gst_object_unref (sink);
    gst_object_unref (src);
  }
}

/* ---- bus ---------------------------------------------------------------- */

static GstBusSyncReply
bus_sync (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  const GstStructure *st = gst_message_get_structure (msg);
  gint64 t;
  Side *s;

  g_mutex_lock (&lock);
  if (!current)
    goto out;
  t = now_rel ();
  s = side_of (user_data);

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      GError *e = NULL;
      gchar *dbg = NULL;
      gst_message_parse_error (msg, &e, &dbg);
      if (!current->error)
        current->error = g_strdup_printf ("%s: %s (%s)", s->name, e->message,
            dbg ? dbg : "");
      g_printerr ("  [%s] ERROR %s (%s)\n", s->name, e->message,
          dbg ? dbg : "");
      g_error_free (e);
      g_free (dbg);
      g_cond_broadcast (&cond);
      break;
    }
    case GST_MESSAGE_WARNING:{
      GError *e = NULL;
      gchar *dbg = NULL;
      gst_message_parse_warning (msg, &e, &dbg);
      g_printerr ("  [%s] warning %s (%s)\n", s->name, e->message,
          dbg ? dbg : "");
      g_error_free (e);
      g_free (dbg);
      break;
    }
    case GST_MESSAGE_ELEMENT:{
      const gchar *name = st ? gst_structure_get_name (st) : "";
      if (trace && g_str_has_prefix (name, "mesh-")) {
        gchar *w = gst_structure_to_string (st);
        trace_event (GPOINTER_TO_INT (user_data), w);
        g_free (w);
      }
      if (!strcmp (name, "mesh-signalling")) {
        if (!g_strcmp0 (gst_structure_get_string (st, "state"), "connected"))
          set_once (&s->sig_connected, t);
      } else if (!strcmp (name, "mesh-call")) {
        const gchar *state = gst_structure_get_string (st, "state");
        if (!g_strcmp0 (state, "calling"))
          set_once (&s->call_calling, t);
        else if (!g_strcmp0 (state, "connecting"))
          set_once (&s->call_connecting, t);
        else if (!g_strcmp0 (state, "connected"))
          set_once (&s->call_connected, t);
        else if (!g_strcmp0 (state, "ended") || !g_strcmp0 (state, "failed"))
          s->n_ended++;
      } else if (!strcmp (name, "mesh-first-frame")) {
        const gchar *media = gst_structure_get_string (st, "media");
        gint k = !g_strcmp0 (media, "audio") ? K_AUDIO : K_VIDEO;
        gint64 wall = 0;
        if (s->first_frame[k] == NONE) {
          GST_INFO ("side %s: first %s frame at %.1f ms", s->name,
              media, t / 1000.0);
          s->first_frame[k] = t;
          if (gst_structure_get_int64 (st, "wallclock", &wall))
            s->first_frame_wallclock[k] = wall - current->t0_real;
        }
        g_cond_broadcast (&cond);
      }
      break;
    }
    default:
      break;
  }
out:
  g_mutex_unlock (&lock);
  return GST_BUS_PASS;
}

/* ---- one run ------------------------------------------------------------ */

static GstElement *
make_pipeline (const gchar * url, const gchar * role, guint latency,
    gint side_index, GError ** error)
{
  /* peer-timeout=0: tearing down A stops B's media, and B's watchdog would
   * end B's call while B goes to NULL anyway; the watchdog plays no part
   * in setting a call up. */
  gchar *desc = g_strdup_printf ("meshsignal name=m server-url=%s role=%s "
      "latency=%u peer-timeout=0 "
      "videotestsrc is-live=true ! "
      "video/x-raw,width=640,height=480,framerate=30/1 ! m.video_sink "
      "audiotestsrc is-live=true ! m.audio_sink "
      "m.video_src ! fakesink "
      "m.audio_src ! fakesink", url, role, latency);
  GstElement *p = gst_parse_launch (desc, error);
  GstBus *bus;

  g_free (desc);
  if (!p)
    return NULL;
  g_signal_connect (p, "deep-element-added",
      G_CALLBACK (on_deep_element_added), GINT_TO_POINTER (side_index));
  {
    /* the elements made while parsing (meshsignal builds its encoders when
     * its sink pads are requested) */
    GstIterator *it = gst_bin_iterate_recurse (GST_BIN (p));
    GValue v = G_VALUE_INIT;
    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      on_deep_element_added (GST_BIN (p), NULL, g_value_get_object (&v),
          GINT_TO_POINTER (side_index));
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  }
  bus = gst_element_get_bus (p);
  gst_bus_set_sync_handler (bus, bus_sync, GINT_TO_POINTER (side_index),
      NULL);
  gst_object_unref (bus);
  return p;
}

/* Give meshsignal's request pads back while its children still exist:
 * left to dispose, GstElement releases them after GstBin has already
 * dropped the children, and meshsignal's release_pad then hits
 * g_critical()s on the stale element pointers (seen with 1.22). */
static void
release_request_pads (GstElement * pipeline)
{
  GstElement *m = gst_bin_get_by_name (GST_BIN (pipeline), "m");
  GList *pads = NULL;

  if (!m)
    return;
  GST_OBJECT_LOCK (m);
  for (GList * l = GST_ELEMENT_PADS (m); l; l = l->next) {
    GstPadTemplate *t = GST_PAD_PAD_TEMPLATE (l->data);
    if (t && GST_PAD_TEMPLATE_PRESENCE (t) == GST_PAD_REQUEST)
      pads = g_list_prepend (pads, gst_object_ref (l->data));
  }
  GST_OBJECT_UNLOCK (m);
  for (GList * l = pads; l; l = l->next)
    gst_element_release_request_pad (m, l->data);
  g_list_free_full (pads, gst_object_unref);
  gst_object_unref (m);
}

static void
side_init (Side * s, const gchar * name)
{
  memset (s, 0, sizeof *s);
  s->name = name;
  s->set_state_returned = s->sig_connected = NONE;
  s->call_calling = s->call_connecting = s->call_connected = NONE;
  for (gint k = 0; k < N_KIND; k++)
    s->jb_in[k] = s->jb_out[k] = s->first_frame[k] =
        s->first_frame_wallclock[k] = NONE;
}

static gboolean
run_done (Run * r)
{
  return r->error || (r->side[0].first_frame[K_VIDEO] != NONE
      && r->side[1].first_frame[K_VIDEO] != NONE
      && r->side[0].first_frame[K_AUDIO] != NONE
      && r->side[1].first_frame[K_AUDIO] != NONE);
}

static void
do_run (Run * r, const gchar * url, const gchar * role_b, guint latency,
    guint timeout_ms)
{
  GError *error = NULL;
  gint64 deadline;

  side_init (&r->side[0], "A");
  side_init (&r->side[1], "B");
  r->setup = NONE;
  r->side[0].pipeline = make_pipeline (url, "call", latency, 0, &error);
  if (r->side[0].pipeline)
    r->side[1].pipeline = make_pipeline (url, role_b, latency, 1, &error);
  if (error) {
    r->error = g_strdup (error->message);
    g_error_free (error);
    goto teardown;
  }

  g_mutex_lock (&lock);
  current = r;
  r->t0_real = g_get_real_time ();
  r->t0_mono = g_get_monotonic_time ();
  g_mutex_unlock (&lock);
  /* a landmark for GST_DEBUG logs (meshbench:4) */
  GST_INFO ("t0 of %s run %d", r->variant, r->index);

  for (gint i = 0; i < 2; i++) {
    GstStateChangeReturn ret =
        gst_element_set_state (r->side[i].pipeline, GST_STATE_PLAYING);
    g_mutex_lock (&lock);
    r->side[i].set_state_returned = now_rel ();
    if (ret == GST_STATE_CHANGE_FAILURE && !r->error)
      r->error = g_strdup_printf ("%s: cannot go to PLAYING",
          r->side[i].name);
    g_mutex_unlock (&lock);
  }

  deadline = r->t0_mono + (gint64) timeout_ms * 1000;
  g_mutex_lock (&lock);
  while (!run_done (r))
    if (!g_cond_wait_until (&cond, &lock, deadline))
      break;
  if (r->side[0].first_frame[K_VIDEO] != NONE
      && r->side[1].first_frame[K_VIDEO] != NONE) {
    r->ok = !r->error;
    r->setup = MAX (r->side[0].first_frame[K_VIDEO],
        r->side[1].first_frame[K_VIDEO]);
  } else if (!r->error) {
    r->error = g_strdup_printf ("no video on both sides after %u ms",
        timeout_ms);
  }
  g_mutex_unlock (&lock);

teardown:
  /* meshsignal can deadlock going to NULL while its no-media watchdog ends
   * the call (seen with a run whose media never came): give up loudly
   * rather than hang */
  alarm (30);
  r->teardown = g_get_monotonic_time ();
  for (gint i = 0; i < 2; i++) {
    if (r->side[i].pipeline) {
      gst_element_set_state (r->side[i].pipeline, GST_STATE_NULL);
      release_request_pads (r->side[i].pipeline);
    }
  }
  g_mutex_lock (&lock);
  current = NULL;
  g_mutex_unlock (&lock);
  for (gint i = 0; i < 2; i++) {
    if (r->side[i].pipeline) {
      GstBus *bus = gst_element_get_bus (r->side[i].pipeline);
      gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
      gst_object_unref (bus);
      gst_object_unref (r->side[i].pipeline);
      r->side[i].pipeline = NULL;
    }
  }
  alarm (0);
  r->teardown = g_get_monotonic_time () - r->teardown;
}

static void
on_alarm (int sig)
{
  static const char msg[] = "call-setup: tearing the pipelines down took "
      "more than 30 s (meshsignal deadlock?), aborting\n";
  (void) sig;
  if (write (2, msg, sizeof msg - 1) < 0) {
  }
  _exit (3);
}

/* ---- reporting ---------------------------------------------------------- */

/* the webrtcbin of @s that connected, else its last one */
static const WebrtcRec *
final_rec (const Side * s)
{
  static const WebrtcRec none = { NULL, NONE, NONE, NONE, NONE, NONE, NONE,
    NONE
  };
  for (guint i = 0; i < s->n_webrtc; i++)
    if (s->rec[i].pc_connected != NONE)
      return &s->rec[i];
  return s->n_webrtc ? &s->rec[s->n_webrtc - 1] : &none;
}

static gchar *
ms (gint64 us)
{
  return us == NONE ? g_strdup ("-") : g_strdup_printf ("%.1f", us / 1000.0);
}

/* offer time of a side: when it made (caller) or got (answerer) the offer
 * that led to the connection */
static gint64
offer_time (const WebrtcRec * w)
{
  return w->remote_offer != NONE ? w->remote_offer : w->local_offer;
}

static void
print_run_row (FILE * f, const Run * r)
{
  for (gint i = 0; i < 2; i++) {
    const Side *s = &r->side[i];
    const WebrtcRec *w = final_rec (s);
    gchar *v[] = { ms (s->sig_connected), ms (offer_time (w)),
      ms (w->stable), ms (w->ice_connected), ms (w->pc_connected),
      ms (s->jb_in[K_VIDEO]), ms (s->jb_out[K_VIDEO]),
      ms (s->first_frame[K_VIDEO]), ms (s->first_frame[K_AUDIO]),
      ms (i == 0 ? r->setup : NONE)
    };
    fprintf (f, "%3d%-5s %s %-4s %7s %7s %7s %7s %7s %7s %7s %7s %7s %2u  %s\n",
        i == 0 ? r->index : 0, i == 0 ? (r->cold ? " cold" : "") : "",
        s->name, w->remote_offer != NONE ? "ans" : (w->local_offer != NONE ?
            "off" : "?"), v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7],
        v[8], s->n_ended, i == 0 ? (r->ok ? v[9] : (r->error ? r->error :
                "FAILED")) : "");
    if (i == 1)
      fprintf (f, "         (teardown %.0f ms)\n", r->teardown / 1000.0);
    for (guint j = 0; j < G_N_ELEMENTS (v); j++)
      g_free (v[j]);
  }
}

static int
cmp_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

typedef struct
{
  gint n;
  gint64 median, min, max;
} Stat;

static Stat
stat_of (gint64 * v, gint n)
{
  Stat s = { 0, NONE, NONE, NONE };
  gint64 *c = g_new (gint64, n ? n : 1);
  gint m = 0;

  for (gint i = 0; i < n; i++)
    if (v[i] != NONE)
      c[m++] = v[i];
  s.n = m;
  if (m) {
    qsort (c, m, sizeof *c, cmp_i64);
    s.min = c[0];
    s.max = c[m - 1];
    s.median = m % 2 ? c[m / 2] : (c[m / 2 - 1] + c[m / 2]) / 2;
  }
  g_free (c);
  return s;
}

/* the phases of a run, in µs; all from the later side unless noted */
enum
{
  PH_SETUP,                     /* t0 -> both first video frames */
  PH_SIG,                       /* t0 -> both signalling connected */
  PH_OFFER,                     /* t0 -> answerer has the offer */
  PH_ANSWER,                    /* t0 -> caller has the answer (stable) */
  PH_ICE,                       /* t0 -> both ICE connected */
  PH_DTLS,                      /* t0 -> both connected (ICE+DTLS) */
  PH_RTP,                       /* t0 -> both first video RTP in jitterbuf */
  PH_JB,                        /* t0 -> both first video out of jitterbuf */
  PH_AUDIO,                     /* t0 -> both first decoded audio */
  PH_FROMCALL,                  /* A's mesh-call calling -> setup end: the
                                 * browser's "Call click -> first frames" */
  N_PH
};
static const gchar *ph_names[N_PH] = { "setup", "sig", "offer", "answer",
  "ice", "dtls", "rtp", "jb", "audio", "fromCall"
};

static gint64
max2 (gint64 a, gint64 b)
{
  return (a == NONE || b == NONE) ? NONE : MAX (a, b);
}

static void
phases (const Run * r, gint64 out[N_PH])
{
  const Side *a = &r->side[0], *b = &r->side[1];
  const WebrtcRec *wa = final_rec (a), *wb = final_rec (b);
  /* who answered: the side whose final webrtcbin got a remote offer */
  const WebrtcRec *ans = wb->remote_offer != NONE ? wb : wa;
  const WebrtcRec *off = ans == wb ? wa : wb;

  out[PH_SETUP] = r->ok ? r->setup : NONE;
  out[PH_SIG] = max2 (a->sig_connected, b->sig_connected);
  out[PH_OFFER] = ans->remote_offer;
  out[PH_ANSWER] = off->stable;
  out[PH_ICE] = max2 (wa->ice_connected, wb->ice_connected);
  out[PH_DTLS] = max2 (wa->pc_connected, wb->pc_connected);
  out[PH_RTP] = max2 (a->jb_in[K_VIDEO], b->jb_in[K_VIDEO]);
  out[PH_JB] = max2 (a->jb_out[K_VIDEO], b->jb_out[K_VIDEO]);
  out[PH_AUDIO] = max2 (a->first_frame[K_AUDIO], b->first_frame[K_AUDIO]);
  out[PH_FROMCALL] = (r->ok && a->call_calling != NONE) ?
      r->setup - a->call_calling : NONE;
}

static void
print_summary (FILE * f, const gchar * variant, Run * runs, gint n)
{
  gint64 *v = g_new (gint64, n);

  fprintf (f, "\n%s: medians over runs 2..%d (run 1 separately; ms from t0, "
      "later of the two sides)\n", variant, n);
  fprintf (f, "  %-7s %8s %8s %8s %8s %6s\n", "phase", "run1", "median",
      "min", "max", "n");
  for (gint p = 0; p < N_PH; p++) {
    gint64 first[N_PH];
    Stat s;
    gchar *c[4];

    for (gint i = 0; i < n; i++) {
      gint64 ph[N_PH];
      phases (&runs[i], ph);
      v[i] = ph[p];
      if (i == 0)
        memcpy (first, ph, sizeof first);
    }
    s = stat_of (v + 1, n - 1);
    c[0] = ms (n ? first[p] : NONE);
    c[1] = ms (s.median);
    c[2] = ms (s.min);
    c[3] = ms (s.max);
    fprintf (f, "  %-7s %8s %8s %8s %8s %6d\n", ph_names[p], c[0], c[1], c[2],
        c[3], s.n);
    for (gint j = 0; j < 4; j++)
      g_free (c[j]);
  }
  g_free (v);
}

static void
json_ms (GString * j, const gchar * key, gint64 us, gboolean comma)
{
  if (us == NONE)
    g_string_append_printf (j, "\"%s\":null", key);
  else
    g_string_append_printf (j, "\"%s\":%.3f", key, us / 1000.0);
  if (comma)
    g_string_append_c (j, ',');
}

static void
json_stat (GString * j, const gchar * key, Stat s, gboolean comma)
{
  g_string_append_printf (j, "\"%s\":{\"n\":%d,", key, s.n);
  json_ms (j, "median", s.median, TRUE);
  json_ms (j, "min", s.min, TRUE);
  json_ms (j, "max", s.max, FALSE);
  g_string_append_c (j, '}');
  if (comma)
    g_string_append_c (j, ',');
}

static void
json_variant (GString * j, const gchar * variant, const gchar * role_b,
    guint latency, Run * runs, gint n)
{
  gint64 *v = g_new (gint64, n);

  g_string_append_printf (j, "{\"variant\":\"%s\",\"roles\":[\"call\",\"%s\"],"
      "\"latency\":%u,\"runs\":[", variant, role_b, latency);
  for (gint i = 0; i < n; i++) {
    Run *r = &runs[i];
    gint64 ph[N_PH];

    phases (r, ph);
    g_string_append_printf (j, "%s{\"run\":%d,\"cold\":%s,\"ok\":%s,",
        i ? "," : "", r->index, r->cold ? "true" : "false",
        r->ok ? "true" : "false");
    json_ms (j, "teardown", r->teardown, TRUE);
    if (r->error) {
      gchar *e = g_strescape (r->error, NULL);
      g_string_append_printf (j, "\"error\":\"%s\",", e);
      g_free (e);
    }
    for (gint p = 0; p < N_PH; p++)
      json_ms (j, ph_names[p], ph[p], TRUE);
    g_string_append (j, "\"sides\":[");
    for (gint k = 0; k < 2; k++) {
      const Side *s = &r->side[k];
      const WebrtcRec *w = final_rec (s);
      g_string_append_printf (j, "%s{\"name\":\"%s\",\"answered\":%s,"
          "\"endedCalls\":%u,\"webrtcbins\":%u,", k ? "," : "", s->name,
          w->remote_offer != NONE ? "true" : "false", s->n_ended,
          s->n_webrtc);
      json_ms (j, "playing", s->set_state_returned, TRUE);
      json_ms (j, "sig", s->sig_connected, TRUE);
      json_ms (j, "calling", s->call_calling, TRUE);
      json_ms (j, "localOffer", w->local_offer, TRUE);
      json_ms (j, "remoteOffer", w->remote_offer, TRUE);
      json_ms (j, "stable", w->stable, TRUE);
      json_ms (j, "gatheringDone", w->gathering_done, TRUE);
      json_ms (j, "iceChecking", w->ice_checking, TRUE);
      json_ms (j, "iceConnected", w->ice_connected, TRUE);
      json_ms (j, "connected", w->pc_connected, TRUE);
      json_ms (j, "callConnected", s->call_connected, TRUE);
      json_ms (j, "rtpIn", s->jb_in[K_VIDEO], TRUE);
      json_ms (j, "jbOut", s->jb_out[K_VIDEO], TRUE);
      json_ms (j, "video", s->first_frame[K_VIDEO], TRUE);
      json_ms (j, "videoWallclock", s->first_frame_wallclock[K_VIDEO], TRUE);
      json_ms (j, "audio", s->first_frame[K_AUDIO], FALSE);
      g_string_append_c (j, '}');
    }
    g_string_append (j, "]}");
  }
  g_string_append (j, "],");
  if (n > 0) {
    gint64 ph[N_PH];
    phases (&runs[0], ph);
    json_ms (j, "run1SetupMs", ph[PH_SETUP], TRUE);
    g_string_append_printf (j, "\"run1Cold\":%s,", runs[0].cold ? "true" :
        "false");
  }
  g_string_append (j, "\"runs2toN\":{");
  for (gint p = 0; p < N_PH; p++) {
    for (gint i = 0; i < n; i++) {
      gint64 ph[N_PH];
      phases (&runs[i], ph);
      v[i] = ph[p];
    }
    json_stat (j, ph_names[p], stat_of (v + 1, n - 1), p + 1 < N_PH);
  }
  g_string_append (j, "},\"allRuns\":{");
  for (gint i = 0; i < n; i++) {
    gint64 ph[N_PH];
    phases (&runs[i], ph);
    v[i] = ph[PH_SETUP];
  }
  json_stat (j, "setup", stat_of (v, n), FALSE);
  g_string_append (j, "}}");
  g_free (v);
}

/* ---- main --------------------------------------------------------------- */

typedef struct
{
  gchar *name;
  const gchar *role_b;
  guint latency;
  Tweaks tweaks;
} Variant;

/* call-wait | call-call, then optionally -LATENCY (ms, default 50), then
 * any of +taN (libnice pacing timer N ms), +notcp (no ICE-TCP), +noupnp,
 * +thrN (vp8enc threads=N); e.g. call-wait-200, call-call+ta5+thr1 */
/* The element's own default, so the plain variants measure what a user
 * gets without setting anything. */
static guint
default_latency (void)
{
  GstElementFactory *f = gst_element_factory_find ("meshsignal");
  guint latency = 50;

  /* the type exists once the plugin is loaded: before that the first
   * variant parsed got the fallback */
  if (f) {
    GstPluginFeature *loaded = gst_plugin_feature_load (GST_PLUGIN_FEATURE (f));
    gst_object_unref (f);
    f = loaded ? GST_ELEMENT_FACTORY (loaded) : NULL;
  }
  if (f) {
    GstElementClass *k = g_type_class_ref (gst_element_factory_get_element_type
        (f));
    GParamSpec *ps = g_object_class_find_property (G_OBJECT_CLASS (k),
        "latency");
    if (ps)
      latency = G_PARAM_SPEC_UINT (ps)->default_value;
    g_type_class_unref (k);
    gst_object_unref (f);
  }
  return latency;
}

static gboolean
parse_variant (const gchar * spec, Variant * v)
{
  gchar **parts = g_strsplit (spec, "+", -1);
  const gchar *base = parts[0];
  gboolean ok = TRUE;

  memset (v, 0, sizeof *v);
  v->name = g_strdup (spec);
  v->latency = default_latency ();
  if (g_str_has_prefix (base, "call-wait"))
    v->role_b = "wait";
  else if (g_str_has_prefix (base, "call-call"))
    v->role_b = "call";
  else
    ok = FALSE;
  if (ok && base[9] == '-')
    v->latency = (guint) g_ascii_strtoull (base + 10, NULL, 10);
  else if (ok && base[9])
    ok = FALSE;
  for (gint i = 1; ok && parts[i]; i++) {
    if (g_str_has_prefix (parts[i], "ta"))
      v->tweaks.ta = atoi (parts[i] + 2);
    else if (!strcmp (parts[i], "notcp"))
      v->tweaks.no_tcp = TRUE;
    else if (!strcmp (parts[i], "noupnp"))
      v->tweaks.no_upnp = TRUE;
    else if (g_str_has_prefix (parts[i], "thr"))
      v->tweaks.enc_threads = atoi (parts[i] + 3);
    else
      ok = FALSE;
  }
  g_strfreev (parts);
  return ok;
}

int
main (int argc, char **argv)
{
  gint runs = 10, gap = 500, timeout = 10000;
  gchar *url = NULL, *variants = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    {"runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Runs per variant (10)", "N"},
    {"variants", 0, 0, G_OPTION_ARG_STRING, &variants,
        "Comma-separated, default call-wait,call-call,call-wait-200; "
        "syntax call-wait|call-call[-LATENCY][+taN][+notcp][+noupnp][+thrN]",
        "LIST"},
    {"server-url", 0, 0, G_OPTION_ARG_STRING, &url,
        "Signalling server (http://127.0.0.1:4000)", "URL"},
    {"gap", 0, 0, G_OPTION_ARG_INT, &gap,
        "Pause between runs so the server drops the old sockets (500)", "MS"},
    {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
        "Give up on a run after this long (10000)", "MS"},
    {"trace", 0, 0, G_OPTION_ARG_NONE, &trace,
        "Print a timeline of each run (first buffers, keyframes, states)",
        NULL},
    {"json", 0, 0, G_OPTION_ARG_NONE, &json,
        "Print JSON on stdout, tables on stderr", NULL},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- meshsignal call-setup time");
  GError *error = NULL;
  gchar **names;
  FILE *tf;
  GString *j = g_string_new ("{\"benchmark\":\"call-setup\",");
  gboolean all_ok = TRUE, first_of_process = TRUE;
  guint nv = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);
  GST_DEBUG_CATEGORY_INIT (bench_debug, "meshbench", 0, "call-setup bench");
  trace_lines = g_ptr_array_new_with_free_func (g_free);
  signal (SIGALRM, on_alarm);
  if (runs < 1)
    runs = 1;
  if (!url)
    url = g_strdup ("http://127.0.0.1:4000");
  if (!variants)
    variants = g_strdup ("call-wait,call-call,call-wait-200");
  if (!gst_element_factory_find ("meshsignal")) {
    g_printerr ("no meshsignal element: set GST_PLUGIN_PATH to the build's "
        "plugins directory\n");
    return 2;
  }
  if (g_strcmp0 (g_getenv ("GST_MESH_NETNS"), "1"))
    g_printerr ("warning: not inside tools/netns-run (GST_MESH_NETNS!=1)\n");

  tf = json ? stderr : stdout;
  g_string_append_printf (j, "\"server\":\"%s\",\"runsPerVariant\":%d,"
      "\"gapMs\":%d,\"note\":\"times in ms from t0 (just before the two "
      "set_state(PLAYING)); run 1 of the first variant is the process's "
      "first call (cold: DTLS certificate generated then); runs2toN are "
      "the warm medians\",\"variants\":[", url, runs, gap);

  names = g_strsplit (variants, ",", -1);
  for (gchar ** name = names; *name; name++) {
    Variant vv, *var = &vv;
    Run *rs;

    if (!parse_variant (*name, var)) {
      g_printerr ("bad variant %s (call-wait|call-call[-LATENCY][+taN]"
          "[+notcp][+noupnp][+thrN])\n", *name);
      return 2;
    }
    tweaks = var->tweaks;
    rs = g_new0 (Run, runs);
    fprintf (tf, "\n== %s: A role=call, B role=%s, latency=%u, %d runs ==\n",
        var->name, var->role_b, var->latency, runs);
    fprintf (tf, "(ms from t0; off/ans = made / answered the offer that "
        "connected; end = calls ended first, e.g. offer collisions)\n");
    fprintf (tf, "run      side     sig   offer  stable     ice    dtls  "
        "rtp-in  jb-out   video   audio end  setup\n");
    for (gint i = 0; i < runs; i++) {
      rs[i].variant = var->name;
      rs[i].index = i + 1;
      rs[i].cold = first_of_process;
      first_of_process = FALSE;
      do_run (&rs[i], url, var->role_b, var->latency, timeout);
      if (!rs[i].ok)
        all_ok = FALSE;
      print_run_row (tf, &rs[i]);
      if (trace) {
        for (guint l = 0; l < trace_lines->len; l++)
          fprintf (tf, "      %s\n", (gchar *) g_ptr_array_index (trace_lines,
                  l));
        g_ptr_array_set_size (trace_lines, 0);
      }
      fflush (tf);
      g_usleep ((gulong) gap * 1000);
    }
    print_summary (tf, var->name, rs, runs);
    if (nv++)
      g_string_append_c (j, ',');
    json_variant (j, var->name, var->role_b, var->latency, rs, runs);
    for (gint i = 0; i < runs; i++)
      g_free (rs[i].error);
    g_free (rs);
    g_free (vv.name);
  }
  g_strfreev (names);
  g_string_append (j, "]}");
  if (json)
    printf ("%s\n", j->str);
  g_string_free (j, TRUE);
  g_free (url);
  g_free (variants);
  return all_ok ? 0 : 1;
}
