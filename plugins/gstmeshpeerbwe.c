/* gst-mesh: a peer's congestion control. What we send carries
 * transport-wide sequence numbers (an rtphdrexttwcc on each payloader,
 * under the id the SDP gives; rtpsession numbers the packets across the
 * bundle); the remote's transport-cc feedback comes back as rtpsession
 * parses it, an RTPTWCCPackets event sent upstream through webrtcbin to
 * each of our branches; the estimator of gst/mesh/gstmeshbwe.c turns it
 * into a target, which goes to the element (config.bitrate_changed).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshpeerprivate.h"

#include <gst/rtp/rtp.h>
#include <stdlib.h>
#include <string.h>

guint
gst_mesh_peer_twcc_id (const GstCaps * caps)
{
  const GstStructure *s;

  if (!caps || gst_caps_get_size (caps) == 0)
    return 0;
  s = gst_caps_get_structure (caps, 0);
  for (gint i = 0; i < gst_structure_n_fields (s); i++) {
    const gchar *name = gst_structure_nth_field_name (s, i);
    const GValue *v;

    if (!g_str_has_prefix (name, "extmap-"))
      continue;
    v = gst_structure_get_value (s, name);
    /* extmap-N is a string, or (direction, uri, attributes) */
    if (G_VALUE_HOLDS_STRING (v) &&
        g_strcmp0 (g_value_get_string (v), GST_MESH_TWCC_URI) == 0)
      return (guint) atoi (name + strlen ("extmap-"));
    if (GST_VALUE_HOLDS_ARRAY (v) && gst_value_array_get_size (v) >= 2) {
      const GValue *uri = gst_value_array_get_value (v, 1);
      if (G_VALUE_HOLDS_STRING (uri) &&
          g_strcmp0 (g_value_get_string (uri), GST_MESH_TWCC_URI) == 0)
        return (guint) atoi (name + strlen ("extmap-"));
    }
  }
  return 0;
}

guint
gst_mesh_peer_twcc_id_in_media (const GstSDPMedia * media)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    gchar *end = NULL;
    guint64 id;

    if (g_strcmp0 (a->key, "extmap") != 0 || !a->value)
      continue;
    /* "ID[/direction] URI [attributes]" */
    id = g_ascii_strtoull (a->value, &end, 10);
    if (end == a->value || id < 1 || id > 14)
      continue;
    while (*end && *end != ' ')
      end++;
    while (*end == ' ')
      end++;
    if (g_str_has_prefix (end, GST_MESH_TWCC_URI) &&
        (end[strlen (GST_MESH_TWCC_URI)] == '\0' ||
            end[strlen (GST_MESH_TWCC_URI)] == ' '))
      return (guint) id;
  }
  return 0;
}

void
gst_mesh_peer_caps_add_twcc (GstCaps * caps, guint id)
{
  gchar *field = g_strdup_printf ("extmap-%u", id);

  gst_caps_set_simple (caps, field, G_TYPE_STRING, GST_MESH_TWCC_URI, NULL);
  g_free (field);
}

static void
report_bitrate (GstMeshPeer * peer, gpointer data)
{
  guint bps;

  g_mutex_lock (&peer->lock);
  bps = peer->bwe ? gst_mesh_bwe_get_target (peer->bwe) : 0;
  g_mutex_unlock (&peer->lock);
  if (bps && !peer->closed && peer->config.bitrate_changed)
    peer->config.bitrate_changed (peer, bps, peer->config.user_data);
}

/* One packet of an RTPTWCCPackets event; FALSE for one that is not ours
 * to judge (no send time). */
static gboolean
parse_packet (const GstStructure * s, GstMeshBwePacket * p)
{
  guint64 local = GST_CLOCK_TIME_NONE, remote = GST_CLOCK_TIME_NONE;
  guint size = 0;
  gboolean lost = FALSE;

  if (!gst_structure_get_uint64 (s, "local-ts", &local) ||
      !GST_CLOCK_TIME_IS_VALID (local))
    return FALSE;
  gst_structure_get_uint64 (s, "remote-ts", &remote);
  gst_structure_get_uint (s, "size", &size);
  gst_structure_get_boolean (s, "lost", &lost);
  p->send_us = (gint64) (local / GST_USECOND);
  p->lost = lost || !GST_CLOCK_TIME_IS_VALID (remote);
  p->arrival_us = p->lost ? 0 : (gint64) (remote / GST_USECOND);
  p->size = size;
  return TRUE;
}

/* The packets of an RTPTWCCPackets structure, whichever container holds
 * them (a GValueArray in 1.22). */
static GArray *
parse_feedback (const GstStructure * s)
{
  const GValue *v = gst_structure_get_value (s, "packets");
  GArray *out = g_array_new (FALSE, FALSE, sizeof (GstMeshBwePacket));
  guint n = 0;

  if (!v)
    return out;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
  if (G_VALUE_HOLDS (v, g_value_array_get_type ())) {
    GValueArray *a = g_value_get_boxed (v);
    n = a ? a->n_values : 0;
    for (guint i = 0; i < n; i++) {
      const GValue *e = g_value_array_get_nth (a, i);
      GstMeshBwePacket p;
      if (GST_VALUE_HOLDS_STRUCTURE (e) &&
          parse_packet (gst_value_get_structure (e), &p))
        g_array_append_val (out, p);
    }
  } else if (GST_VALUE_HOLDS_LIST (v) || GST_VALUE_HOLDS_ARRAY (v)) {
    gboolean list = GST_VALUE_HOLDS_LIST (v);
    n = list ? gst_value_list_get_size (v) : gst_value_array_get_size (v);
    for (guint i = 0; i < n; i++) {
      const GValue *e = list ? gst_value_list_get_value (v, i) :
          gst_value_array_get_value (v, i);
      GstMeshBwePacket p;
      if (GST_VALUE_HOLDS_STRUCTURE (e) &&
          parse_packet (gst_value_get_structure (e), &p))
        g_array_append_val (out, p);
    }
  }
  G_GNUC_END_IGNORE_DEPRECATIONS;
  return out;
}

/* rtpsession's thread. The funnel ahead of rtpbin sends the one event up
 * every branch: its seqnum tells a second sight. */
static GstPadProbeReturn
feedback_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstMeshPeer *peer = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  const GstStructure *s;
  GArray *packets;
  gboolean changed = FALSE;
  guint32 seqnum;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CUSTOM_UPSTREAM)
    return GST_PAD_PROBE_OK;
  s = gst_event_get_structure (event);
  if (!s || !gst_structure_has_name (s, "RTPTWCCPackets"))
    return GST_PAD_PROBE_OK;

  seqnum = gst_event_get_seqnum (event);
  g_mutex_lock (&peer->lock);
  if (peer->bwe && seqnum != peer->bwe_event_seqnum) {
    peer->bwe_event_seqnum = seqnum;
    packets = parse_feedback (s);
    if (packets->len)
      changed = gst_mesh_bwe_feedback (peer->bwe,
          (GstMeshBwePacket *) packets->data, packets->len,
          g_get_monotonic_time ());
    GST_LOG ("%s: feedback on %u packets, target %u bps", peer->name,
        packets->len, gst_mesh_bwe_get_target (peer->bwe));
    g_array_unref (packets);
  }
  g_mutex_unlock (&peer->lock);
  if (changed)
    gst_mesh_peer_defer (peer, report_bitrate, NULL, NULL);
  /* ours: the payloader and the encoder have nothing to do with it */
  return GST_PAD_PROBE_DROP;
}

void
gst_mesh_peer_bwe_setup_branch (GstMeshPeer * peer, GstElement * pay,
    GstPad * pad, guint twcc_id)
{
  GstRTPHeaderExtension *ext;

  if (!peer->config.congestion_control || !twcc_id)
    return;
  ext = gst_rtp_header_extension_create_from_uri (GST_MESH_TWCC_URI);
  if (!ext) {
    GST_WARNING ("%s: no rtphdrexttwcc: sending without congestion control",
        peer->name);
    return;
  }
  gst_rtp_header_extension_set_id (ext, twcc_id);
  g_signal_emit_by_name (pay, "add-extension", ext);
  gst_object_unref (ext);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, feedback_probe,
      peer, NULL);
  if (!peer->bwe)
    peer->bwe = gst_mesh_bwe_new (peer->config.min_bitrate,
        peer->config.start_bitrate, peer->config.max_bitrate);
  GST_INFO ("%s: congestion control on, transport-cc as extension %u, "
      "%u-%u bps from %u", peer->name, twcc_id, peer->config.min_bitrate,
      peer->config.max_bitrate, peer->config.start_bitrate);
}

gboolean
gst_mesh_peer_get_bwe_stats (GstMeshPeer * peer, GstMeshBweStats * stats)
{
  gboolean have;

  g_mutex_lock (&peer->lock);
  have = peer->bwe != NULL;
  if (have)
    gst_mesh_bwe_get_stats (peer->bwe, stats);
  g_mutex_unlock (&peer->lock);
  return have;
}
