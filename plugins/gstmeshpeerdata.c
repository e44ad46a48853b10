/* gst-mesh: a peer connection's data channel.
 *
 * One reliable, ordered channel per peer connection, labelled
 * GST_MESH_DATA_LABEL: the side that offers opens it (in-band, DCEP), so
 * that the offer has its m=application line; the other side takes it from
 * webrtcbin's on-data-channel. Messages of any size go over it in the
 * framing of gst/mesh/gstmeshdata.h. Channels with other labels are
 * someone else's: a warning names them, and they are left alone.
 *
 * webrtcbin calls every channel signal from its own thread (one per
 * webrtcbin), which is where the assembler lives; sending may come from
 * any thread and takes data_lock, which also keeps one message's chunks
 * together.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshpeerprivate.h"

#include <string.h>

/* the channel says it drained when its buffer falls below this */
#define LOW_WATER (256 * 1024)

static void
on_open (GstWebRTCDataChannel * channel, GstMeshPeer * peer)
{
  g_mutex_lock (&peer->data_lock);
  peer->data_open = TRUE;
  g_mutex_unlock (&peer->data_lock);
  GST_INFO ("%s: data channel open", peer->name);
  if (peer->config.data_state)
    peer->config.data_state (peer, TRUE, peer->config.user_data);
}

/* A message was under way when the channel went: say so, and drop it. */
static void
warn_cut_short (GstMeshPeer * peer, const gchar * how)
{
  gsize pending = gst_mesh_data_assembler_pending (peer->assembler);
  gchar *label;

  if (!pending)
    return;
  label = gst_mesh_peer_dup_label (peer);
  GST_ELEMENT_WARNING_WITH_DETAILS (peer->bin, RESOURCE, READ,
      ("A message from %s on data channel '%s' was cut short", label,
          GST_MESH_DATA_LABEL),
      ("%s with %" G_GSIZE_FORMAT " bytes of it", how, pending),
      ("peer", G_TYPE_STRING, label, "channel", G_TYPE_STRING,
          GST_MESH_DATA_LABEL, NULL));
  g_free (label);
  gst_mesh_data_assembler_free (peer->assembler);
  peer->assembler = gst_mesh_data_assembler_new (0);
}

static void
on_close (GstWebRTCDataChannel * channel, GstMeshPeer * peer)
{
  g_mutex_lock (&peer->data_lock);
  peer->data_open = FALSE;
  g_mutex_unlock (&peer->data_lock);
  GST_INFO ("%s: data channel closed", peer->name);
  warn_cut_short (peer, "the channel closed");
  if (peer->config.data_state)
    peer->config.data_state (peer, FALSE, peer->config.user_data);
}

static void
on_error (GstWebRTCDataChannel * channel, GError * error, GstMeshPeer * peer)
{
  gchar *label = gst_mesh_peer_dup_label (peer);

  GST_ELEMENT_WARNING_WITH_DETAILS (peer->bin, RESOURCE, FAILED,
      ("Data channel '%s' of %s failed", GST_MESH_DATA_LABEL, label),
      ("%s", error ? error->message : "no reason given"),
      ("peer", G_TYPE_STRING, label, "channel", G_TYPE_STRING,
          GST_MESH_DATA_LABEL, NULL));
  g_free (label);
}

static void
warn_bad_message (GstMeshPeer * peer, GError * error)
{
  gchar *label = gst_mesh_peer_dup_label (peer);

  GST_ELEMENT_WARNING_WITH_DETAILS (peer->bin, STREAM, DECODE,
      ("Dropped a bad message from %s on data channel '%s'", label,
          GST_MESH_DATA_LABEL), ("%s", error->message),
      ("peer", G_TYPE_STRING, label, "channel", G_TYPE_STRING,
          GST_MESH_DATA_LABEL, "error", G_TYPE_STRING, error->message, NULL));
  g_free (label);
}

static void
deliver (GstMeshPeer * peer, GBytes * message, gboolean text)
{
  GST_LOG ("%s: %s message of %" G_GSIZE_FORMAT " bytes", peer->name,
      text ? "text" : "binary", g_bytes_get_size (message));
  if (peer->config.data_received)
    peer->config.data_received (peer, message, text, peer->config.user_data);
  g_bytes_unref (message);
}

static void
on_message_data (GstWebRTCDataChannel * channel, GBytes * data,
    GstMeshPeer * peer)
{
  const guint8 *bytes = NULL;
  gsize size = 0;
  GBytes *message = NULL;
  gboolean text = FALSE;
  GError *error = NULL;

  if (data)
    bytes = g_bytes_get_data (data, &size);
  switch (gst_mesh_data_assembler_push (peer->assembler, bytes, size,
          &message, &text, &error)) {
    case GST_MESH_DATA_MESSAGE:
      deliver (peer, message, text);
      break;
    case GST_MESH_DATA_FAILED:
      warn_bad_message (peer, error);
      g_error_free (error);
      break;
    case GST_MESH_DATA_MORE:
      break;
  }
}

static void
on_message_string (GstWebRTCDataChannel * channel, const gchar * str,
    GstMeshPeer * peer)
{
  GBytes *message = NULL;
  GError *error = NULL;

  if (gst_mesh_data_assembler_push_string (peer->assembler, str ? str : "",
          str ? strlen (str) : 0, &message, &error) == GST_MESH_DATA_FAILED) {
    warn_bad_message (peer, error);
    g_error_free (error);
  }
  if (message)
    deliver (peer, message, TRUE);
}

static void
on_buffered_amount_low (GstWebRTCDataChannel * channel, GstMeshPeer * peer)
{
  if (peer->config.data_drained)
    peer->config.data_drained (peer, peer->config.user_data);
}

/* Takes @channel (a new reference) as the peer's data channel. */
static void
take_channel (GstMeshPeer * peer, GstWebRTCDataChannel * channel)
{
  GstWebRTCDataChannelState state;

  g_object_set (channel, "buffered-amount-low-threshold",
      (guint64) LOW_WATER, NULL);
  g_signal_connect (channel, "on-open", G_CALLBACK (on_open), peer);
  g_signal_connect (channel, "on-close", G_CALLBACK (on_close), peer);
  g_signal_connect (channel, "on-error", G_CALLBACK (on_error), peer);
  g_signal_connect (channel, "on-message-data",
      G_CALLBACK (on_message_data), peer);
  g_signal_connect (channel, "on-message-string",
      G_CALLBACK (on_message_string), peer);
  g_signal_connect (channel, "on-buffered-amount-low",
      G_CALLBACK (on_buffered_amount_low), peer);
  g_mutex_lock (&peer->data_lock);
  peer->data_channel = channel;
  g_mutex_unlock (&peer->data_lock);
  /* a channel the remote opened may be open before we see it */
  g_object_get (channel, "ready-state", &state, NULL);
  if (state == GST_WEBRTC_DATA_CHANNEL_STATE_OPEN)
    on_open (channel, peer);
}

void
gst_mesh_peer_data_create (GstMeshPeer * peer)
{
  GstWebRTCDataChannel *channel = NULL;
  GstStructure *options;

  if (!peer->config.data || peer->data_channel)
    return;
  options = gst_structure_new ("options", "ordered", G_TYPE_BOOLEAN, TRUE,
      "protocol", G_TYPE_STRING, GST_MESH_DATA_PROTOCOL, NULL);
  g_signal_emit_by_name (peer->webrtc, "create-data-channel",
      GST_MESH_DATA_LABEL, options, &channel);
  gst_structure_free (options);
  if (!channel) {
    gchar *label = gst_mesh_peer_dup_label (peer);

    GST_ELEMENT_WARNING (peer->bin, RESOURCE, FAILED,
        ("Cannot open data channel '%s' to %s", GST_MESH_DATA_LABEL, label),
        ("webrtcbin's create-data-channel gave none"));
    g_free (label);
    return;
  }
  GST_INFO ("%s: data channel '%s' made for the offer", peer->name,
      GST_MESH_DATA_LABEL);
  take_channel (peer, channel);
}

void
gst_mesh_peer_data_on_channel (GstElement * webrtc,
    GstWebRTCDataChannel * channel, GstMeshPeer * peer)
{
  gchar *label = NULL, *protocol = NULL;

  g_object_get (channel, "label", &label, "protocol", &protocol, NULL);
  if (g_strcmp0 (label, GST_MESH_DATA_LABEL) != 0 || peer->data_channel) {
    gchar *who = gst_mesh_peer_dup_label (peer);

    GST_ELEMENT_WARNING_WITH_DETAILS (peer->bin, STREAM, WRONG_TYPE,
        ("Ignoring data channel '%s' that %s opened", label ? label : "",
            who),
        ("%s", peer->data_channel ? "a second channel of that label" :
            "this element reads only '" GST_MESH_DATA_LABEL "'"),
        ("peer", G_TYPE_STRING, who, "channel", G_TYPE_STRING,
            label ? label : "", NULL));
    g_free (who);
  } else {
    if (g_strcmp0 (protocol, GST_MESH_DATA_PROTOCOL) != 0)
      GST_INFO ("%s: data channel protocol '%s', not '%s': taken anyway",
          peer->name, protocol ? protocol : "", GST_MESH_DATA_PROTOCOL);
    GST_INFO ("%s: the remote opened data channel '%s'", peer->name, label);
    take_channel (peer, g_object_ref (channel));
  }
  g_free (label);
  g_free (protocol);
}

gboolean
gst_mesh_peer_send_data (GstMeshPeer * peer, const guint8 * data, gsize size,
    gboolean text, GError ** error)
{
  GPtrArray *frames;
  gboolean ok = TRUE;

  if (size > GST_MESH_DATA_MAX_MESSAGE) {
    g_set_error (error, GST_MESH_DATA_ERROR, GST_MESH_DATA_ERROR_TOO_LARGE,
        "a message of %" G_GSIZE_FORMAT " bytes is over the limit of %d",
        size, GST_MESH_DATA_MAX_MESSAGE);
    return FALSE;
  }
  frames = gst_mesh_data_frame (data, size, text, 0);
  g_mutex_lock (&peer->data_lock);
  if (!peer->data_channel || !peer->data_open) {
    gchar *label = gst_mesh_peer_dup_label (peer);

    g_set_error (error, GST_MESH_DATA_ERROR, GST_MESH_DATA_ERROR_CLOSED,
        "the data channel to %s is not open", label);
    g_free (label);
    ok = FALSE;
  } else if (text && gst_mesh_data_text_is_string (size, 0)) {
    gchar *str = g_strndup ((const gchar *) data, size);

    ok = gst_webrtc_data_channel_send_string_full (peer->data_channel, str,
        error);
    g_free (str);
  } else {
    for (guint i = 0; ok && i < frames->len; i++)
      ok = gst_webrtc_data_channel_send_data_full (peer->data_channel,
          frames->pdata[i], error);
  }
  if (ok)
    peer->data_sent = g_get_monotonic_time ();
  g_mutex_unlock (&peer->data_lock);
  g_ptr_array_unref (frames);
  return ok;
}

#define KEEPALIVE_US G_USEC_PER_SEC

void
gst_mesh_peer_data_keepalive (GstMeshPeer * peer, gint64 now)
{
  static const guint8 keepalive[] = { GST_MESH_DATA_KEEPALIVE };

  g_mutex_lock (&peer->data_lock);
  if (peer->data_channel && peer->data_open &&
      now - peer->data_sent >= KEEPALIVE_US) {
    GBytes *b = g_bytes_new_static (keepalive, sizeof (keepalive));

    if (gst_webrtc_data_channel_send_data_full (peer->data_channel, b, NULL))
      GST_LOG ("%s: data channel keepalive", peer->name);
    peer->data_sent = now;
    g_bytes_unref (b);
  }
  g_mutex_unlock (&peer->data_lock);
}

gboolean
gst_mesh_peer_data_is_open (GstMeshPeer * peer)
{
  gboolean open;

  g_mutex_lock (&peer->data_lock);
  open = peer->data_channel && peer->data_open;
  g_mutex_unlock (&peer->data_lock);
  return open;
}

guint64
gst_mesh_peer_data_buffered (GstMeshPeer * peer)
{
  guint64 amount = 0;
  GstWebRTCDataChannel *channel;

  g_mutex_lock (&peer->data_lock);
  channel = peer->data_channel ? g_object_ref (peer->data_channel) : NULL;
  g_mutex_unlock (&peer->data_lock);
  if (channel) {
    g_object_get (channel, "buffered-amount", &amount, NULL);
    g_object_unref (channel);
  }
  return amount;
}

void
gst_mesh_peer_data_close (GstMeshPeer * peer)
{
  GstWebRTCDataChannel *channel;
  gboolean was_open;

  g_mutex_lock (&peer->data_lock);
  channel = peer->data_channel;
  was_open = peer->data_open;
  peer->data_channel = NULL;
  peer->data_open = FALSE;
  g_mutex_unlock (&peer->data_lock);
  if (!channel)
    return;
  /* webrtcbin is stopped: none of its handlers runs any more */
  g_signal_handlers_disconnect_by_data (channel, peer);
  warn_cut_short (peer, "the call ended");
  if (was_open && peer->config.data_state)
    peer->config.data_state (peer, FALSE, peer->config.user_data);
  g_object_unref (channel);
}
