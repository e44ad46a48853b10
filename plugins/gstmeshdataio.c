/* gst-mesh: meshsignal's data in and out.
 *
 * `data_sink`: each buffer is one message to every peer whose data channel
 * is open (or waits until one is); the pad blocks while any of them has
 * more than HIGH_WATER bytes queued, so a file is read as fast as the
 * slowest peer takes it, not into memory. `data_src`: an appsrc inside
 * the bin, fed with each binary message as one buffer, with a
 * GstMeshDataMeta (a GstCustomMeta whose structure has `peer-id`). Text
 * messages go to the data-received signal and the bus instead. The open
 * channels are kept here under data_lock, apart from the sessions' peers,
 * because they are used from streaming threads and webrtcbin's threads.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsignalprivate.h"

#include <gst/app/gstappsrc.h>
#include <string.h>

/* data_sink waits while a peer's channel holds more than this */
#define HIGH_WATER (1024 * 1024)
/* and looks again at least this often (µs), whatever wakes it */
#define WAIT_SLICE_US (100 * 1000)

static const gchar *meta_tags[] = { NULL };

void
gst_mesh_data_register_meta (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    gst_meta_register_custom (GST_MESH_DATA_META_NAME, meta_tags, NULL, NULL,
        NULL);
    g_once_init_leave (&done, 1);
  }
}

/* ------------------------------------------------------------------------ */
/* What the peers tell us (webrtcbin's threads)                            */

static void
post_channel_state (GstMeshSignal * self, const gchar * peer_id,
    gboolean open)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("mesh-data-channel",
              "peer-id", G_TYPE_STRING, peer_id,
              "state", G_TYPE_STRING, open ? "open" : "closed",
              "label", G_TYPE_STRING, GST_MESH_DATA_LABEL, NULL)));
}

static void
data_state_cb (GstMeshPeer * peer, gboolean open, gpointer user_data)
{
  GstMeshSignal *self = user_data;
  gchar *label = gst_mesh_peer_dup_label (peer);
  gboolean changed;

  g_mutex_lock (&self->data_lock);
  if (open) {
    changed = !g_ptr_array_find (self->data_peers, peer, NULL);
    if (changed)
      g_ptr_array_add (self->data_peers, gst_mesh_peer_ref (peer));
  } else {
    changed = g_ptr_array_remove (self->data_peers, peer);
  }
  g_cond_broadcast (&self->data_cond);
  g_mutex_unlock (&self->data_lock);
  if (changed) {
    GST_INFO_OBJECT (self, "data channel to %s %s", label,
        open ? "open" : "closed");
    post_channel_state (self, label, open);
  }
  g_free (label);
}

static void
data_drained_cb (GstMeshPeer * peer, gpointer user_data)
{
  GstMeshSignal *self = user_data;

  g_mutex_lock (&self->data_lock);
  g_cond_broadcast (&self->data_cond);
  g_mutex_unlock (&self->data_lock);
}

static void
data_received_cb (GstMeshPeer * peer, GBytes * message, gboolean text,
    gpointer user_data)
{
  GstMeshSignal *self = user_data;
  gchar *label = gst_mesh_peer_dup_label (peer);
  GstElement *appsrc = NULL;
  GVariant *v;

  if (text) {
    gsize n;
    const gchar *str = g_bytes_get_data (message, &n);
    gchar *copy = g_strndup (str, n);

    v = g_variant_new_take_string (copy);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("mesh-data-text", "peer-id", G_TYPE_STRING,
                label, "text", G_TYPE_STRING, copy, NULL)));
  } else {
    v = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, message, TRUE);
  }
  g_variant_ref_sink (v);
  gst_mesh_signal_data_received (self, label, v);
  g_variant_unref (v);

  if (!text) {
    g_mutex_lock (&self->data_lock);
    if (self->data_appsrc)
      appsrc = gst_object_ref (self->data_appsrc);
    g_mutex_unlock (&self->data_lock);
  }
  if (appsrc) {
    GstBuffer *buf = gst_buffer_new_wrapped_bytes (message);
    GstCustomMeta *meta = gst_buffer_add_custom_meta (buf,
        GST_MESH_DATA_META_NAME);

    gst_structure_set (gst_custom_meta_get_structure (meta),
        "peer-id", G_TYPE_STRING, label, NULL);
    /* never blocks: webrtcbin's thread must go on */
    if (gst_app_src_push_buffer (GST_APP_SRC (appsrc), buf) != GST_FLOW_OK)
      GST_DEBUG_OBJECT (self, "data_src is not running: message dropped");
    gst_object_unref (appsrc);
  }
  g_free (label);
}

void
gst_mesh_data_fill_config (GstMeshSignal * self, GstMeshPeerConfig * config)
{
  GST_OBJECT_LOCK (self);
  config->data = self->data_channel;
  GST_OBJECT_UNLOCK (self);
  config->data_state = data_state_cb;
  config->data_received = data_received_cb;
  config->data_drained = data_drained_cb;
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                  */

/* The open channels' peers (refs), or NULL when @wait and the element is
 * flushing; with @wait, waits until there is one. */
static GPtrArray *
open_peers (GstMeshSignal * self, gboolean wait)
{
  GPtrArray *peers;

  g_mutex_lock (&self->data_lock);
  while (wait && !self->data_flushing && self->data_peers->len == 0)
    g_cond_wait_until (&self->data_cond, &self->data_lock,
        g_get_monotonic_time () + WAIT_SLICE_US);
  if (wait && self->data_flushing) {
    g_mutex_unlock (&self->data_lock);
    return NULL;
  }
  peers = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_mesh_peer_unref);
  for (guint i = 0; i < self->data_peers->len; i++)
    g_ptr_array_add (peers, gst_mesh_peer_ref (self->data_peers->pdata[i]));
  g_mutex_unlock (&self->data_lock);
  return peers;
}

static gboolean
send_to (GstMeshSignal * self, GstMeshPeer * peer, const guint8 * data,
    gsize size, gboolean text)
{
  GError *error = NULL;

  if (gst_mesh_peer_send_data (peer, data, size, text, &error))
    return TRUE;
  /* a channel that closed since: the peer is on its way out */
  GST_INFO_OBJECT (self, "not sent: %s", error->message);
  g_error_free (error);
  return FALSE;
}

/* Whether some open channel holds more than HIGH_WATER bytes. Call with
 * data_lock. */
static gboolean
some_channel_full (GstMeshSignal * self)
{
  for (guint i = 0; i < self->data_peers->len; i++)
    if (gst_mesh_peer_data_buffered (self->data_peers->pdata[i]) >
        HIGH_WATER)
      return TRUE;
  return FALSE;
}

static GstFlowReturn
data_sink_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstMeshSignal *self = GST_MESH_SIGNAL (parent);
  GPtrArray *peers = open_peers (self, TRUE);
  GstMapInfo map;
  gboolean flushing;

  if (!peers) {
    gst_buffer_unref (buf);
    return GST_FLOW_FLUSHING;
  }
  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    if (map.size > GST_MESH_DATA_MAX_MESSAGE)
      GST_ELEMENT_WARNING (self, STREAM, TOO_LAZY, ("A data_sink buffer of "
              "%" G_GSIZE_FORMAT " bytes is over the limit of %d: dropped",
              map.size, GST_MESH_DATA_MAX_MESSAGE), (NULL));
    else
      for (guint i = 0; i < peers->len; i++)
        send_to (self, peers->pdata[i], map.data, map.size, FALSE);
    gst_buffer_unmap (buf, &map);
  }
  gst_buffer_unref (buf);
  g_ptr_array_unref (peers);

  g_mutex_lock (&self->data_lock);
  while (!self->data_flushing && some_channel_full (self))
    g_cond_wait_until (&self->data_cond, &self->data_lock,
        g_get_monotonic_time () + WAIT_SLICE_US);
  flushing = self->data_flushing;
  g_mutex_unlock (&self->data_lock);
  return flushing ? GST_FLOW_FLUSHING : GST_FLOW_OK;
}

void
gst_mesh_data_set_flushing (GstMeshSignal * self, gboolean flushing)
{
  g_mutex_lock (&self->data_lock);
  self->data_flushing = flushing;
  g_cond_broadcast (&self->data_cond);
  g_mutex_unlock (&self->data_lock);
}

static gboolean
data_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstMeshSignal *self = GST_MESH_SIGNAL (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      gst_mesh_data_set_flushing (self, TRUE);
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_mesh_data_set_flushing (self, FALSE);
      break;
    case GST_EVENT_EOS:
      GST_INFO_OBJECT (self, "data_sink: end of stream");
      break;
    default:
      break;
  }
  /* nothing goes on from here: the default would push it out of the
   * element's source pads, into the remote media */
  gst_event_unref (event);
  return TRUE;
}

/* Deactivation (a state change to READY, a release) comes before the
 * stream lock is taken: a chain waiting for a peer lets go here. */
static gboolean
data_sink_activate_mode (GstPad * pad, GstObject * parent, GstPadMode mode,
    gboolean active)
{
  gst_mesh_data_set_flushing (GST_MESH_SIGNAL (parent), !active);
  return TRUE;
}

gboolean
gst_mesh_data_send (GstMeshSignal * self, GVariant * message,
    const gchar * peer_id)
{
  GPtrArray *peers;
  const guint8 *data;
  gsize size;
  gboolean text, sent = FALSE;

  if (!message) {
    g_warning ("meshsignal send-data: no message");
    return FALSE;
  }
  if (g_variant_is_of_type (message, G_VARIANT_TYPE_STRING)) {
    data = (const guint8 *) g_variant_get_string (message, &size);
    text = TRUE;
  } else if (g_variant_is_of_type (message, G_VARIANT_TYPE_BYTESTRING)) {
    data = g_variant_get_fixed_array (message, &size, 1);
    text = FALSE;
  } else {
    g_warning ("meshsignal send-data: a message is a string (s) or bytes "
        "(ay), not '%s'", g_variant_get_type_string (message));
    return FALSE;
  }
  if (size > GST_MESH_DATA_MAX_MESSAGE) {
    GST_WARNING_OBJECT (self, "send-data: %" G_GSIZE_FORMAT " bytes is over "
        "the limit of %d", size, GST_MESH_DATA_MAX_MESSAGE);
    return FALSE;
  }
  peers = open_peers (self, FALSE);
  for (guint i = 0; i < peers->len; i++) {
    GstMeshPeer *peer = peers->pdata[i];
    gchar *label = peer_id ? gst_mesh_peer_dup_label (peer) : NULL;

    if (!peer_id || !g_strcmp0 (label, peer_id))
      sent |= send_to (self, peer, data, size, text);
    g_free (label);
  }
  g_ptr_array_unref (peers);
  if (!sent)
    GST_INFO_OBJECT (self, "send-data: no open data channel%s%s",
        peer_id ? " to " : "", peer_id ? peer_id : "");
  return sent;
}

/* ------------------------------------------------------------------------ */
/* Pads                                                                     */

static void
enable_channel (GstMeshSignal * self)
{
  GST_OBJECT_LOCK (self);
  self->data_channel = TRUE;
  GST_OBJECT_UNLOCK (self);
}

GstPad *
gst_mesh_data_new_sink (GstMeshSignal * self, GstPadTemplate * templ)
{
  GstPad *pad;

  if (self->data_sink) {
    GST_WARNING_OBJECT (self, "data_sink already requested");
    return NULL;
  }
  pad = gst_pad_new_from_template (templ, "data_sink");
  gst_pad_set_chain_function (pad, GST_DEBUG_FUNCPTR (data_sink_chain));
  gst_pad_set_event_function (pad, GST_DEBUG_FUNCPTR (data_sink_event));
  gst_pad_set_activatemode_function (pad,
      GST_DEBUG_FUNCPTR (data_sink_activate_mode));
  self->data_sink = pad;
  enable_channel (self);
  gst_element_add_pad (GST_ELEMENT (self), pad);
  return pad;
}

GstPad *
gst_mesh_data_new_src (GstMeshSignal * self, GstPadTemplate * templ)
{
  GstElement *appsrc;
  GstPad *target, *ghost;
  GstCaps *caps;

  if (self->data_src) {
    GST_WARNING_OBJECT (self, "data_src already requested");
    return NULL;
  }
  appsrc = gst_element_factory_make ("appsrc", "data_src_appsrc");
  if (!appsrc) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Cannot make data_src"), ("needs appsrc (gst-plugins-base)"));
    return NULL;
  }
  caps = gst_pad_template_get_caps (templ);
  /* live, stamped with the running time of arrival; never blocks its
   * caller (webrtcbin's thread): a reader that stops holds the messages */
  g_object_set (appsrc, "is-live", TRUE, "do-timestamp", TRUE,
      "format", GST_FORMAT_TIME, "caps", caps, "block", FALSE,
      "max-bytes", (guint64) 0, NULL);
  gst_caps_unref (caps);
  gst_bin_add (GST_BIN (self), appsrc);
  target = gst_element_get_static_pad (appsrc, "src");
  ghost = gst_ghost_pad_new_from_template ("data_src", target, templ);
  gst_object_unref (target);
  g_mutex_lock (&self->data_lock);
  self->data_appsrc = gst_object_ref (appsrc);
  g_mutex_unlock (&self->data_lock);
  self->data_src = ghost;
  enable_channel (self);
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (GST_ELEMENT (self), ghost);
  gst_element_sync_state_with_parent (appsrc);
  return ghost;
}

gboolean
gst_mesh_data_release_pad (GstMeshSignal * self, GstPad * pad)
{
  if (pad == self->data_sink) {
    gst_mesh_data_set_flushing (self, TRUE);
    self->data_sink = NULL;
    gst_element_remove_pad (GST_ELEMENT (self), pad);
    return TRUE;
  }
  if (pad == self->data_src) {
    GstElement *appsrc;

    g_mutex_lock (&self->data_lock);
    appsrc = self->data_appsrc;
    self->data_appsrc = NULL;
    g_mutex_unlock (&self->data_lock);
    self->data_src = NULL;
    gst_element_remove_pad (GST_ELEMENT (self), pad);
    gst_mesh_signal_remove_child (self, appsrc);
    return TRUE;
  }
  return FALSE;
}

void
gst_mesh_data_init (GstMeshSignal * self)
{
  g_mutex_init (&self->data_lock);
  g_cond_init (&self->data_cond);
  self->data_peers = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_mesh_peer_unref);
}

void
gst_mesh_data_finalize (GstMeshSignal * self)
{
  g_ptr_array_unref (self->data_peers);
  g_clear_object (&self->data_appsrc);
  g_mutex_clear (&self->data_lock);
  g_cond_clear (&self->data_cond);
}
