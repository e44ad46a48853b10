/* gst-mesh: transport-cc feedback from the arrivals of a transport. The
 * header says what it is; the layout is the draft's §3.1:
 *
 *   base sequence number (16) | packet status count (16)
 *   reference time (24, 64 ms units) | feedback packet count (8)
 *   packet chunks (16 bits each) ... | receive deltas ... | zero padding
 *
 * Chunks: run length (0 SS nnnnnnnnnnnnn), or a status vector of 14
 * one-bit (10 ...) or 7 two-bit symbols (11 ...); symbols 0 not
 * received, 1 received with a delta of one byte (0..255 x 250 µs), 2 a
 * delta of two signed bytes. Each delta is from the previous received
 * packet of the feedback (the first: from the reference time).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshtwcc.h"

#define RING 4096
#define BEHIND_MAX 1000
#define TICK_US 250
#define REF_US 64000
#define TICKS_PER_REF (REF_US / TICK_US)

typedef struct
{
  gint64 seq;                   /* unwrapped; -1: empty */
  gint64 arrival_us;
} Arrival;

struct _GstMeshTwccRecorder
{
  Arrival ring[RING];
  gint64 max_seq;               /* highest unwrapped seq, -1 before any */
  gint64 next_seq;              /* where the next feedback starts, or -1 */
  gint64 last_ref;              /* reference time of the last feedback */
  guint8 fb_count;
  guint64 feedbacks, late;
};

GstMeshTwccRecorder *
gst_mesh_twcc_recorder_new (void)
{
  GstMeshTwccRecorder *rec = g_new0 (GstMeshTwccRecorder, 1);

  for (guint i = 0; i < RING; i++)
    rec->ring[i].seq = -1;
  rec->max_seq = rec->next_seq = -1;
  return rec;
}

void
gst_mesh_twcc_recorder_free (GstMeshTwccRecorder * rec)
{
  g_free (rec);
}

void
gst_mesh_twcc_recorder_add (GstMeshTwccRecorder * rec, guint16 seq,
    gint64 arrival_us)
{
  gint64 u;
  Arrival *slot;

  /* unwrap around the highest seen; the first one starts a lap in so that
   * an earlier one can still come */
  if (rec->max_seq < 0)
    u = 0x10000 + seq;
  else
    u = rec->max_seq + (gint16) (guint16) (seq - (guint16) rec->max_seq);
  if (rec->max_seq >= 0 && u < rec->max_seq - BEHIND_MAX)
    return;
  slot = &rec->ring[u % RING];
  if (slot->seq == u)
    return;
  slot->seq = u;
  slot->arrival_us = MAX (arrival_us, 0);
  if (u > rec->max_seq)
    rec->max_seq = u;
  if (rec->next_seq < 0) {
    rec->next_seq = u;
  } else if (u < rec->next_seq) {
    /* a feedback already said this one was missing: say it again */
    rec->late++;
    rec->next_seq = u;
  }
}

static gboolean
received (GstMeshTwccRecorder * rec, gint64 u, gint64 * arrival_us)
{
  const Arrival *a = &rec->ring[u % RING];

  if (a->seq != u)
    return FALSE;
  *arrival_us = a->arrival_us;
  return TRUE;
}

static void
put16 (GByteArray * out, guint v)
{
  guint8 b[2] = { (v >> 8) & 0xff, v & 0xff };

  g_byte_array_append (out, b, 2);
}

/* The chunks for @n symbols: a run of more than a vector holds is a run
 * length chunk; the rest go in vectors, one-bit ones while no symbol is
 * 2. The last vector may hold symbols past the count (zeros), which
 * readers stop before. */
static void
put_chunks (GByteArray * out, const guint8 * sym, guint n)
{
  guint i = 0;

  while (i < n) {
    guint run = 1, take, v;
    gboolean two = FALSE;

    while (i + run < n && sym[i + run] == sym[i] && run < 0x1fff)
      run++;
    if (run > 14) {
      put16 (out, (sym[i] << 13) | run);
      i += run;
      continue;
    }
    take = MIN (14, n - i);
    for (guint k = 0; k < take; k++)
      two = two || sym[i + k] == 2;
    if (!two) {
      v = 0x8000;
      for (guint k = 0; k < take; k++)
        v |= (guint) sym[i + k] << (13 - k);
    } else {
      take = MIN (7, n - i);
      v = 0xc000;
      for (guint k = 0; k < take; k++)
        v |= (guint) sym[i + k] << (2 * (6 - k));
    }
    put16 (out, v);
    i += take;
  }
}

gboolean
gst_mesh_twcc_recorder_pending (GstMeshTwccRecorder * rec)
{
  return rec->next_seq >= 0 && rec->next_seq <= rec->max_seq;
}

GBytes *
gst_mesh_twcc_recorder_feedback (GstMeshTwccRecorder * rec,
    guint max_packets)
{
  gint64 start = rec->next_seq, end, ref = rec->last_ref, prev_ticks = 0;
  gint64 first_arrival = -1, arrival;
  GByteArray *out, *deltas;
  guint8 *sym;
  guint n = 0;

  if (start < 0 || start > rec->max_seq || max_packets == 0)
    return NULL;
  end = MIN (rec->max_seq, start + (gint64) max_packets - 1);

  for (gint64 u = start; u <= end && first_arrival < 0; u++)
    if (received (rec, u, &arrival))
      first_arrival = arrival;
  if (first_arrival >= 0)
    ref = first_arrival / REF_US;
  prev_ticks = ref * TICKS_PER_REF;

  sym = g_new0 (guint8, end - start + 1);
  deltas = g_byte_array_new ();
  for (gint64 u = start; u <= end; u++, n++) {
    gint64 d;

    if (!received (rec, u, &arrival)) {
      sym[n] = 0;
      continue;
    }
    d = arrival / TICK_US - prev_ticks;
    if (d >= 0 && d <= 255) {
      guint8 b = (guint8) d;
      sym[n] = 1;
      g_byte_array_append (deltas, &b, 1);
    } else if (d >= G_MININT16 && d <= G_MAXINT16) {
      sym[n] = 2;
      put16 (deltas, (guint16) (gint16) d);
    } else {
      /* too far from the previous one: the next feedback starts here */
      end = u - 1;
      break;
    }
    prev_ticks = arrival / TICK_US;
  }

  out = g_byte_array_new ();
  put16 (out, (guint16) start);
  put16 (out, n);
  {
    guint8 b[4] = { (ref >> 16) & 0xff, (ref >> 8) & 0xff, ref & 0xff,
      rec->fb_count++
    };
    g_byte_array_append (out, b, 4);
  }
  put_chunks (out, sym, n);
  g_byte_array_append (out, deltas->data, deltas->len);
  while (out->len % 4) {
    guint8 z = 0;
    g_byte_array_append (out, &z, 1);
  }
  g_byte_array_unref (deltas);
  g_free (sym);

  rec->last_ref = ref;
  rec->next_seq = end + 1;
  rec->feedbacks++;
  return g_byte_array_free_to_bytes (out);
}

gint
gst_mesh_twcc_packet_seq (const guint8 * d, gsize len, guint id,
    guint32 * ssrc)
{
  gsize pos, end;
  guint profile;

  if (len < 12 || (d[0] >> 6) != 2 || !(d[0] & 0x10))
    return -1;
  if ((d[1] & 0x7f) >= 64 && (d[1] & 0x7f) <= 95)
    return -1;                  /* RTCP */
  pos = 12 + 4 * (d[0] & 0x0f);
  if (pos + 4 > len)
    return -1;
  profile = d[pos] << 8 | d[pos + 1];
  end = pos + 4 + 4 * (gsize) (d[pos + 2] << 8 | d[pos + 3]);
  if (end > len)
    return -1;
  *ssrc = (guint32) d[8] << 24 | d[9] << 16 | d[10] << 8 | d[11];
  pos += 4;
  while (pos < end) {
    guint eid, elen;

    if (profile == 0xbede) {    /* one-byte elements (RFC 8285 4.2) */
      if (d[pos] == 0) {
        pos++;                  /* padding */
        continue;
      }
      eid = d[pos] >> 4;
      elen = (d[pos] & 0x0f) + 1;
      if (eid == 15)
        return -1;
      pos++;
    } else if ((profile & 0xfff0) == 0x1000) {  /* two-byte (4.3) */
      if (d[pos] == 0) {
        pos++;
        continue;
      }
      if (pos + 2 > end)
        return -1;
      eid = d[pos];
      elen = d[pos + 1];
      pos += 2;
    } else {
      return -1;
    }
    if (pos + elen > end)
      return -1;
    if (eid == id && elen >= 2)
      return d[pos] << 8 | d[pos + 1];
    pos += elen;
  }
  return -1;
}

guint64
gst_mesh_twcc_recorder_get_feedbacks (GstMeshTwccRecorder * rec)
{
  return rec->feedbacks;
}

guint64
gst_mesh_twcc_recorder_get_late (GstMeshTwccRecorder * rec)
{
  return rec->late;
}
