/* gst-mesh: a peer's jitter buffers follow the network. They start at
 * config.latency (10 ms: a LAN). Every tick (WATCHDOG_PERIOD_MS) reads
 * rtpjitterbuffer's stats, and:
 *   - packets that came after their deadline (num-late: a jittery link
 *     or a bottleneck queue delayed them, or a retransmission came too
 *     late) set the buffers to four times the interarrival jitter
 *     (avg-jitter) when that is more than they have, and otherwise grow
 *     them by half (at least 20 ms), at most once a second;
 *   - video packets given up for lost (num-lost of the buffers that send
 *     NACKs), once a retransmission has come back in time (rtx-rtt), set
 *     them to that round trip plus twice the jitter if that is more: what
 *     a NACK needs to bring a packet back. Loss alone never steps them,
 *     so a retransmission lost too cannot ratchet them to the top, and
 *     audio's losses (not asked for again) do not count. (1.22's RTCP
 *     gave no other round trip: its report blocks here carry
 *     rb-round-trip 0.)
 * Always within config.latency .. config.max_latency. After 10 s
 * without a late or lost packet they shrink by a tenth every 2 s, back
 * towards config.latency, never below four times the jitter.
 *
 * Growing by half once a second from 10 ms took a path with 40 +- 30 ms
 * of jitter several seconds of lost frames (tests/bench/netem.sh: 19-20
 * fps in 2 of 3 runs; 28.5 with the jump to four times the jitter).
 * Stepping every 250 ms instead of once a second was tried too: on a
 * 1 Mbit/s bottleneck the buffers then grew with the queue and their
 * retransmissions overflowed it (capped-link.mjs: 67-98 % of frames and
 * up to 94 packets dropped, against 97-100 % and at most 12).
 *
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
  guint64 late = 0, lost = 0, max_jitter = 0, rtt = 0;
  guint base = peer->config.latency;
  guint top = MAX (peer->config.max_latency, base);
  guint cur, jitter_ms;

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
    guint64 n = 0, l = 0, jitter = 0, r = 0;
    gboolean nacks = FALSE;

    g_object_get (g_ptr_array_index (jbs, i), "stats", &s, NULL);
    if (!s)
      continue;
    g_object_get (g_ptr_array_index (jbs, i), "do-retransmission", &nacks,
        NULL);
    gst_structure_get_uint64 (s, "num-late", &n);
    /* audio is not asked for again: its losses say nothing of the time a
     * retransmission needs (on a LAN with 5 % loss they took the buffers
     * to 321 ms) */
    if (nacks)
      gst_structure_get_uint64 (s, "num-lost", &l);
    gst_structure_get_uint64 (s, "avg-jitter", &jitter);
    gst_structure_get_uint64 (s, "rtx-rtt", &r);
    GST_LOG ("%s: %" GST_PTR_FORMAT, peer->name, s);
    late += n;
    lost += l;
    max_jitter = MAX (max_jitter, jitter);
    rtt = MAX (rtt, r);
    gst_structure_free (s);
  }
  jitter_ms = (guint) (max_jitter / GST_MSECOND);

  if (!peer->jitter_latency)
    g_atomic_int_set (&peer->jitter_latency, base);
  cur = peer->jitter_latency;
  if (late > peer->jitter_late || lost > peer->jitter_lost) {
    gboolean late_up = late > peer->jitter_late;
    gboolean lost_up = lost > peer->jitter_lost;
    guint need = late_up ? 4 * jitter_ms : 0, next = cur;

    if (lost_up && rtt)
      need = MAX (need, (guint) (rtt / GST_MSECOND) + 2 * jitter_ms);
    need = MIN (need, top);
    if (need > cur)
      next = need;
    else if (late_up && cur < top &&
        now - peer->jitter_changed >= GROW_INTERVAL_US)
      next = MIN (top, MAX (cur + cur / 2, cur + 20));
    if (next > cur) {
      gchar *why = g_strdup_printf ("%" G_GUINT64_FORMAT " packets late, %"
          G_GUINT64_FORMAT " lost; jitter %u ms, retransmission round trip "
          "%" G_GUINT64_FORMAT " ms", late - peer->jitter_late,
          lost - peer->jitter_lost, jitter_ms, rtt / GST_MSECOND);
      set_latency (peer, jbs, next, why);
      peer->jitter_changed = now;
      g_free (why);
    }
    peer->jitter_calm_since = now;
  } else if (cur > base && now - peer->jitter_calm_since >=
      CALM_BEFORE_SHRINK_US
      && now - peer->jitter_changed >= SHRINK_INTERVAL_US) {
    guint floor = MAX (base, 4 * jitter_ms);
    guint next = MAX (floor, cur - MAX (cur / 10, 1));

    if (next < cur)
      set_latency (peer, jbs, next, "no late or lost packets for 10 s");
    peer->jitter_changed = now;
  }
  if (!peer->jitter_calm_since)
    peer->jitter_calm_since = now;
  peer->jitter_late = late;
  peer->jitter_lost = lost;
  g_ptr_array_unref (jbs);
}
