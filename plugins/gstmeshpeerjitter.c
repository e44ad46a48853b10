/* gst-mesh: a peer's jitter buffers follow the network. They start at
 * config.latency (10 ms: a LAN); when packets come after their deadline
 * (rtpjitterbuffer's num-late: a bottleneck queue or a jittery link
 * delayed them, and they were counted lost), every jitter buffer of the
 * peer grows by half, at most once a second, up to config.max_latency;
 * and at once to the NACKs' round trip plus a quarter (at least 20 ms)
 * when that is more, so that retransmissions can come in time;
 * after 10 s without a late packet they shrink by a tenth every 2 s, back
 * towards config.latency, never below four times the measured jitter.
 * All of a peer's buffers move together: audio and video stay in sync.
 * Runs on the watchdog's ticks (the peer's context).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshpeerprivate.h"

#define GROW_INTERVAL_US (1 * G_USEC_PER_SEC)
#define CALM_BEFORE_SHRINK_US (10 * G_USEC_PER_SEC)
#define SHRINK_INTERVAL_US (2 * G_USEC_PER_SEC)

void
gst_mesh_peer_jitter_add (GstMeshPeer * peer, GstElement * jitterbuffer)
{
  g_mutex_lock (&peer->lock);
  g_ptr_array_add (peer->jitterbuffers, gst_object_ref (jitterbuffer));
  if (peer->jitter_latency)
    g_object_set (jitterbuffer, "latency", peer->jitter_latency, NULL);
  g_mutex_unlock (&peer->lock);
}

static void
set_latency (GstMeshPeer * peer, GPtrArray * jbs, guint ms, const gchar * why)
{
  GST_INFO ("%s: jitter buffers %u -> %u ms (%s)", peer->name,
      peer->jitter_latency, ms, why);
  g_atomic_int_set (&peer->jitter_latency, ms);
  for (guint i = 0; i < jbs->len; i++)
    g_object_set (g_ptr_array_index (jbs, i), "latency", ms, NULL);
}

/* The jitter buffers' latency now (ms); read from any thread. */
guint
gst_mesh_peer_get_jitter_latency (GstMeshPeer * peer)
{
  guint ms = (guint) g_atomic_int_get (&peer->jitter_latency);

  return ms ? ms : peer->config.latency;
}

void
gst_mesh_peer_jitter_tick (GstMeshPeer * peer, gint64 now)
{
  GPtrArray *jbs;
  guint64 late = 0, max_jitter = 0;
  guint base = peer->config.latency;
  guint top = MAX (peer->config.max_latency, base);
  guint cur;

  if (top <= base)
    return;                     /* adaptation off */
  jbs = g_ptr_array_new_with_free_func (gst_object_unref);
  g_mutex_lock (&peer->lock);
  for (guint i = 0; i < peer->jitterbuffers->len; i++)
    g_ptr_array_add (jbs,
        gst_object_ref (g_ptr_array_index (peer->jitterbuffers, i)));
  g_mutex_unlock (&peer->lock);
  if (!jbs->len) {
    g_ptr_array_unref (jbs);
    return;
  }

  for (guint i = 0; i < jbs->len; i++) {
    GstStructure *s = NULL;
    guint64 n = 0, jitter = 0;

    g_object_get (g_ptr_array_index (jbs, i), "stats", &s, NULL);
    if (!s)
      continue;
    gst_structure_get_uint64 (s, "num-late", &n);
    gst_structure_get_uint64 (s, "avg-jitter", &jitter);
    late += n;
    max_jitter = MAX (max_jitter, jitter);
    gst_structure_free (s);
  }

  if (!peer->jitter_latency)
    g_atomic_int_set (&peer->jitter_latency, base);
  cur = peer->jitter_latency;
  if (late > peer->jitter_late) {
    peer->jitter_calm_since = now;
    if (cur < top && now - peer->jitter_changed >= GROW_INTERVAL_US) {
      gchar *why = g_strdup_printf ("%" G_GUINT64_FORMAT " packets late",
          late - peer->jitter_late);
      guint next = MAX (cur + cur / 2, cur + 20);
      guint rtt = gst_mesh_peer_get_nack_rtt (peer);

      /* a lost packet comes back a NACK's round trip later: a buffer
       * shorter than that counts every retransmission late, so it goes
       * there at once rather than by halves */
      if (rtt)
        next = MAX (next, rtt + MAX (rtt / 4, 20));
      set_latency (peer, jbs, MIN (top, next), why);
      peer->jitter_changed = now;
      g_free (why);
    }
  } else if (cur > base && now - peer->jitter_calm_since >=
      CALM_BEFORE_SHRINK_US
      && now - peer->jitter_changed >= SHRINK_INTERVAL_US) {
    guint floor = MAX (base, (guint) (4 * max_jitter / GST_MSECOND));
    guint next = MAX (floor, cur - MAX (cur / 10, 1));

    if (next < cur)
      set_latency (peer, jbs, next, "no late packets for 10 s");
    peer->jitter_changed = now;
  }
  if (!peer->jitter_calm_since)
    peer->jitter_calm_since = now;
  peer->jitter_late = late;
  g_ptr_array_unref (jbs);
}
