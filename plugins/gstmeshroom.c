/* gst-mesh: meshsignal in a mesh room (docs/protocol.md §4): a peer
 * connection per member. The element joins with a random `uid` made once
 * per element and keeps a `Member` per other socket in the room: who it
 * is (`id`, `uid`), who offers (the newcomer: we offer to those in our
 * join ack, others offer to us), and our GstMeshPeer to it, if any.
 * Offers, answers and candidates are routed by `from`/`to`; candidates
 * before a member's offer wait in its own queue. `peer-left` ends that
 * member's connection at once; a connection that fails while the member
 * stays is offered again (0.5 s doubling to 8 s) by the side that offered
 * it. After a reconnection the element joins again, and a member back
 * under a new socket id with the same `uid` keeps its connection.
 * `max-peers` bounds the connections: a member past it is sent `hangup`
 * "busy".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshsignalprivate.h"
#include "gst/mesh/gstmeshprivate.h"

#include <string.h>

#define JOIN_TIMEOUT_MS 5000
/* a member we offer to whose connection failed: offered again after this
 * long, doubling up to the maximum, while it stays in the room */
#define REOFFER_DELAY_MS 500
#define REOFFER_DELAY_MAX_MS 8000

/* Someone else in our room. */
typedef struct
{
  gchar *id;                    /* its socket id now */
  gchar *uid;                   /* its stable identity, if it gave one */
  gboolean we_offer;            /* it was there before us: we offer */
  GstMeshPeer *peer;            /* our connection to it, if any */
  GQueue early_candidates;      /* before its offer */
  GSource *reoffer_source;
  guint reoffer_delay;
  gboolean refused;             /* max-peers turned it away: said once */
  gboolean hung_up;             /* it sent hangup: no more offers to it */
} Member;

static void
member_free (Member * m)
{
  g_free (m->id);
  g_free (m->uid);
  g_queue_clear_full (&m->early_candidates,
      (GDestroyNotify) gst_mesh_signal_message_free);
  g_free (m);
}

static guint
room_n_peers (GstMeshSignal * self)
{
  GHashTableIter it;
  Member *m;
  guint n = 0;

  g_hash_table_iter_init (&it, self->members);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m))
    n += m->peer != NULL;
  return n;
}

/* call-state for a room: how far the most advanced connection got. */
static void
room_update_call_state (GstMeshSignal * self)
{
  static const GstMeshCallState order[] = { GST_MESH_CALL_STATE_CONNECTED,
    GST_MESH_CALL_STATE_CONNECTING, GST_MESH_CALL_STATE_CALLING
  };
  GstMeshCallState best = GST_MESH_CALL_STATE_IDLE;
  GHashTableIter it;
  Member *m;

  for (guint i = 0; i < G_N_ELEMENTS (order) && best ==
      GST_MESH_CALL_STATE_IDLE; i++) {
    g_hash_table_iter_init (&it, self->members);
    while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m))
      if (m->peer && gst_mesh_peer_get_state (m->peer) == order[i])
        best = order[i];
  }
  if (g_atomic_int_get (&self->call_state) != (gint) best) {
    g_atomic_int_set (&self->call_state, best);
    g_object_notify (G_OBJECT (self), "call-state");
  }
}

static Member *
room_member_for_peer (GstMeshSignal * self, GstMeshPeer * peer)
{
  GHashTableIter it;
  Member *m;

  g_hash_table_iter_init (&it, self->members);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m))
    if (m->peer == peer)
      return m;
  return NULL;
}

static Member *
room_member_for_uid (GstMeshSignal * self, const gchar * uid)
{
  GHashTableIter it;
  Member *m;

  if (!uid)
    return NULL;
  g_hash_table_iter_init (&it, self->members);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m))
    if (!g_strcmp0 (m->uid, uid))
      return m;
  return NULL;
}

/* Closes @m's connection, first out of the bin, then said on the bus. */
static void
room_end_peer (GstMeshSignal * self, Member * m, const gchar * reason)
{
  GstMeshPeer *peer = m->peer;

  gst_mesh_clear_source (&m->reoffer_source);
  if (!peer)
    return;
  m->peer = NULL;
  gst_mesh_signal_close_peer (self, peer, GST_MESH_CALL_STATE_ENDED, reason);
  room_update_call_state (self);
}

static gboolean
room_has_space (GstMeshSignal * self, Member * m)
{
  guint max;

  GST_OBJECT_LOCK (self);
  max = self->max_peers;
  GST_OBJECT_UNLOCK (self);
  if (m->peer || room_n_peers (self) < max) {
    m->refused = FALSE;
    return TRUE;
  }
  /* one warning and one hangup per member turned away; a page that
   * missed the hangup (an older one) keeps offering, unanswered */
  if (!m->refused) {
    JsonArray *args = gst_mesh_signal_hangup_args ("busy", m->id);

    GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
        ("Not connecting to room member %s: max-peers (%u) reached", m->id,
            max), ("room '%s'; told it with hangup \"busy\"", self->room));
    gst_mesh_sio_client_emit (self->client, "hangup", args);
    json_array_unref (args);
  } else
    GST_DEBUG_OBJECT (self, "still no space for %s", m->id);
  m->refused = TRUE;
  return FALSE;
}

static void
room_offer (GstMeshSignal * self, Member * m)
{
  if (m->peer || m->hung_up || !room_has_space (self, m))
    return;
  m->peer = gst_mesh_signal_new_peer (self, m->id);
  GST_INFO_OBJECT (self, "call %u: offering to %s",
      gst_mesh_peer_get_id (m->peer), m->id);
  gst_mesh_peer_call (m->peer);
  room_update_call_state (self);
}

static gboolean
reoffer_cb (gpointer user_data)
{
  GstMeshSignal *self = user_data;
  GHashTableIter it;
  Member *m;

  /* find whose timer this is: members are few */
  g_hash_table_iter_init (&it, self->members);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m)) {
    if (m->reoffer_source && m->reoffer_source == g_main_current_source ()) {
      g_source_unref (m->reoffer_source);
      m->reoffer_source = NULL;
      if (self->local_id)
        room_offer (self, m);
      break;
    }
  }
  return G_SOURCE_REMOVE;
}

static void
room_peer_state (GstMeshSignal * self, GstMeshPeer * peer,
    GstMeshCallState state, const gchar * reason)
{
  Member *m = room_member_for_peer (self, peer);

  if (!m)
    return;
  GST_INFO_OBJECT (self, "call %u with %s: %s (%s)",
      gst_mesh_peer_get_id (peer), m->id,
      gst_mesh_signal_enum_nick (GST_TYPE_MESH_CALL_STATE, state), reason);
  if (state != GST_MESH_CALL_STATE_ENDED
      && state != GST_MESH_CALL_STATE_FAILED) {
    if (state == GST_MESH_CALL_STATE_CONNECTED)
      m->reoffer_delay = 0;
    gst_mesh_signal_post_call_state (self, peer, state, reason);
    room_update_call_state (self);
    return;
  }

  gst_mesh_clear_source (&m->reoffer_source);
  m->peer = NULL;
  gst_mesh_signal_close_peer (self, peer, state, reason);
  room_update_call_state (self);

  /* The member is still in the room (no peer-left came): whoever offered
   * to it offers again, after a pause that grows while it keeps failing.
   * The other side waits for that offer. */
  if (m->we_offer) {
    m->reoffer_delay = m->reoffer_delay ? MIN (m->reoffer_delay * 2,
        REOFFER_DELAY_MAX_MS) : REOFFER_DELAY_MS;
    GST_INFO_OBJECT (self, "offering to %s again in %u ms", m->id,
        m->reoffer_delay);
    m->reoffer_source = g_timeout_source_new (m->reoffer_delay);
    g_source_set_callback (m->reoffer_source, reoffer_cb, self, NULL);
    g_source_attach (m->reoffer_source, self->context);
  }
}

/* A member came back under a new socket id (the server restarted, or its
 * signalling reconnected): its connection, if any, carries on. */
static void
room_rekey (GstMeshSignal * self, Member * m, const gchar * new_id)
{
  GST_INFO_OBJECT (self, "member %s (uid %s) is now %s", m->id, m->uid,
      new_id);
  g_hash_table_steal (self->members, m->id);
  g_free (m->id);
  m->id = g_strdup (new_id);
  g_hash_table_insert (self->members, m->id, m);
  if (m->peer) {
    gst_mesh_peer_set_remote_id (m->peer, new_id);
    /* an offer it may have missed goes to the new id */
    gst_mesh_peer_resend_offer (m->peer);
  }
}

/* Finds or makes the member for (@id, @uid). */
static Member *
room_member (GstMeshSignal * self, const gchar * id, const gchar * uid,
    gboolean we_offer, gboolean * is_new)
{
  Member *m = g_hash_table_lookup (self->members, id);

  *is_new = FALSE;
  if (m)
    return m;
  if ((m = room_member_for_uid (self, uid))) {
    room_rekey (self, m, id);
    return m;
  }
  m = g_new0 (Member, 1);
  m->id = g_strdup (id);
  m->uid = g_strdup (uid);
  m->we_offer = we_offer;
  g_queue_init (&m->early_candidates);
  g_hash_table_insert (self->members, m->id, m);
  *is_new = TRUE;
  return m;
}

static void
room_remove_member (GstMeshSignal * self, Member * m, const gchar * reason)
{
  gchar *id = g_strdup (m->id), *uid = g_strdup (m->uid);

  room_end_peer (self, m, reason);
  g_hash_table_remove (self->members, id);
  gst_mesh_signal_post_peer (self, "left", id, uid);
  g_free (id);
  g_free (uid);
}

/* Our network changed under the signalling and this connection: offer
 * the member a new one now (docs/protocol.md §4). */
static void
room_path_lost (GstMeshSignal * self, GstMeshPeer * peer)
{
  Member *m = room_member_for_peer (self, peer);

  if (!m)
    return;
  room_end_peer (self, m, "the network changed: calling again");
  room_offer (self, m);
}

static void
on_join_ack (GstMeshSioClient * client, JsonArray * args,
    const GError * ack_error, gpointer user_data)
{
  GstMeshSignal *self = user_data;
  GstMeshRoomInfo *info;
  GError *error = NULL;

  if (!args) {
    /* lost the connection before the ack: joining again on reconnection */
    GST_INFO_OBJECT (self, "no answer to join: %s", ack_error ?
        ack_error->message : "?");
    return;
  }
  if (!(info = gst_mesh_signal_room_info_parse (args, &error))) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        ("Cannot join room '%s'", self->room), ("%s", error->message));
    g_error_free (error);
    return;
  }
  g_free (self->local_id);
  self->local_id = g_strdup (info->id);
  GST_INFO_OBJECT (self, "joined room '%s' as %s, %u already there",
      info->room, info->id, info->members->len);

  /* The newcomer offers to everyone there (docs/protocol.md §4), except
   * to those it is still connected to from before a reconnection. */
  for (guint i = 0; i < info->members->len; i++) {
    GstMeshRoomMember *rm = g_ptr_array_index (info->members, i);
    gboolean is_new;
    Member *m = room_member (self, rm->id, rm->uid, TRUE, &is_new);

    if (is_new)
      gst_mesh_signal_post_peer (self, "joined", m->id, m->uid);
    if (m->peer && gst_mesh_peer_is_quiet (m->peer))
      /* we had to join again while its media stopped */
      room_path_lost (self, m->peer);
    else if (!m->peer && !m->reoffer_source)
      room_offer (self, m);
  }
  gst_mesh_signal_room_info_free (info);
}

static void
room_join (GstMeshSignal * self)
{
  JsonArray *args = gst_mesh_signal_join_args (self->room, self->uid);

  GST_INFO_OBJECT (self, "joining room '%s' (uid %s)", self->room,
      self->uid);
  gst_mesh_sio_client_emit_with_ack (self->client, "join", args,
      JOIN_TIMEOUT_MS, on_join_ack, self, NULL);
  json_array_unref (args);
}

static void
room_handle_member_event (GstMeshSignal * self, const gchar * name,
    JsonArray * args)
{
  GstMeshRoomMember *rm;
  GError *error = NULL;
  Member *m;

  if (!(rm = gst_mesh_signal_room_member_parse (name, args, &error))) {
    gst_mesh_signal_warn_bad_message (self, name, error->message);
    g_error_free (error);
    return;
  }
  if (!strcmp (name, "peer-joined")) {
    gboolean is_new;

    /* it offers to us; unless it is one we know, back under a new id, or
     * the server asks us to (a member found when a cluster healed) */
    m = room_member (self, rm->id, rm->uid, rm->offer, &is_new);
    if (is_new)
      gst_mesh_signal_post_peer (self, "joined", m->id, m->uid);
    if (rm->offer && is_new && !m->peer && !m->reoffer_source) {
      GST_INFO_OBJECT (self, "the server asks us to offer to %s", m->id);
      room_offer (self, m);
    }
  } else if ((m = g_hash_table_lookup (self->members, rm->id))) {
    room_remove_member (self, m, "left the room");
  } else {
    GST_DEBUG_OBJECT (self, "peer-left for %s, who we do not know (any "
        "more)", rm->id);
  }
  gst_mesh_room_member_free (rm);
}

static void
room_handle_offer (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  GError *error = NULL;
  GstMeshSignalMessage *c;
  gboolean is_new;
  Member *m;
  guint64 rid = gst_mesh_signal_session_id (msg->sdp_message);

  m = room_member (self, msg->from, NULL, FALSE, &is_new);
  if (is_new)
    gst_mesh_signal_post_peer (self, "joined", m->id, m->uid);

  if (m->peer && !gst_mesh_peer_is_offerer (m->peer) &&
      gst_mesh_peer_get_remote_session_id (m->peer) == rid &&
      gst_mesh_peer_get_remote_session_version (m->peer) ==
      gst_mesh_signal_session_version (msg->sdp_message)) {
    gst_mesh_peer_resend_answer (m->peer);
    return;
  }
  if (m->peer && gst_mesh_peer_awaits_answer (m->peer) &&
      gst_mesh_peer_get_local_session_id (m->peer) > rid) {
    /* both offered (each took the other for the newcomer, e.g. after a
     * reconnection): the larger session id wins on both sides */
    GST_INFO_OBJECT (self, "offer collision with %s: keeping ours", m->id);
    return;
  }
  if (m->peer)
    room_end_peer (self, m, "replaced by a new offer");
  if (!room_has_space (self, m))
    return;
  /* it offered: if this connection fails, it offers again */
  m->we_offer = FALSE;
  m->hung_up = FALSE;
  m->peer = gst_mesh_signal_new_peer (self, m->id);
  GST_INFO_OBJECT (self, "call %u: answering %s",
      gst_mesh_peer_get_id (m->peer), m->id);
  if (!gst_mesh_peer_answer (m->peer, msg, &error)) {
    gst_mesh_signal_warn_bad_message (self, "offer", error->message);
    g_error_free (error);
    room_end_peer (self, m, "the offer could not be answered");
    return;
  }
  while ((c = g_queue_pop_head (&m->early_candidates))) {
    gst_mesh_peer_add_candidate (m->peer, c);
    gst_mesh_signal_message_free (c);
  }
  room_update_call_state (self);
}

static void
room_handle_answer (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  Member *m = g_hash_table_lookup (self->members, msg->from);
  GError *error = NULL;

  if (!m || !m->peer || !gst_mesh_peer_awaits_answer (m->peer)) {
    GST_DEBUG_OBJECT (self, "ignoring an answer from %s nobody waits for",
        msg->from);
    return;
  }
  /* One encoder serves the whole room: no codec switch for one member. */
  if (gst_mesh_peer_refused_video_codec (m->peer, msg) != GST_MESH_CODEC_NONE)
    GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
        ("Room member %s does not accept our video codec", m->id),
        ("call %u: it gets our audio only", gst_mesh_peer_get_id (m->peer)));
  if (!gst_mesh_peer_set_answer (m->peer, msg, &error)) {
    gst_mesh_signal_warn_bad_message (self, "answer", error->message);
    g_error_free (error);
  }
}

static void
room_handle_candidate (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  Member *m = g_hash_table_lookup (self->members, msg->from);

  if (m && m->peer) {
    gst_mesh_peer_add_candidate (m->peer, msg);
    gst_mesh_signal_message_free (msg);
  } else if (m) {
    g_queue_push_tail (&m->early_candidates, msg);
    while (m->early_candidates.length > MAX_EARLY_CANDIDATES)
      gst_mesh_signal_message_free (g_queue_pop_head (&m->early_candidates));
  } else {
    GST_DEBUG_OBJECT (self, "candidate from %s, not in our room", msg->from);
    gst_mesh_signal_message_free (msg);
  }
}

/* The member will not take our call (its max-peers is reached): we stop
 * offering to it until it offers to us. */
static void
room_handle_hangup (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  Member *m = g_hash_table_lookup (self->members, msg->from);
  const gchar *why = msg->reason ? msg->reason : "no reason given";
  gchar *reason;

  if (!m || m->hung_up)
    return;
  reason = g_strdup_printf ("hung up: %s", why);
  GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
      ("Room member %s does not take our call (%s)", m->id, why),
      ("room '%s'; we stop offering to it", self->room));
  m->hung_up = TRUE;
  room_end_peer (self, m, reason);
  g_free (reason);
}

/* Takes @msg. */
static void
room_handle_message (GstMeshSignal * self, GstMeshSignalMessage * msg)
{
  if (!msg->from) {
    /* a 1:1 peer's broadcast (the seed's page): not for a room */
    GST_DEBUG_OBJECT (self, "ignoring a %s without \"from\" in a room",
        gst_mesh_signal_kind_to_string (msg->kind));
    gst_mesh_signal_message_free (msg);
    return;
  }
  if (self->local_id && !g_strcmp0 (msg->from, self->local_id)) {
    gst_mesh_signal_message_free (msg);
    return;
  }
  switch (msg->kind) {
    case GST_MESH_SIGNAL_OFFER:
      room_handle_offer (self, msg);
      break;
    case GST_MESH_SIGNAL_ANSWER:
      room_handle_answer (self, msg);
      break;
    case GST_MESH_SIGNAL_CANDIDATE:
      room_handle_candidate (self, msg);
      return;
    case GST_MESH_SIGNAL_HANGUP:
      room_handle_hangup (self, msg);
      break;
  }
  gst_mesh_signal_message_free (msg);
}

static void
room_leave_all (GstMeshSignal * self)
{
  GHashTableIter it;
  Member *m;

  if (!self->members)
    return;
  g_hash_table_iter_init (&it, self->members);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m)) {
    room_end_peer (self, m, "stopped");
    g_hash_table_iter_remove (&it);
  }
  g_clear_pointer (&self->local_id, g_free);
}

/* ------------------------------------------------------------------------ */
/* The session                                                              */

static void
room_start (GstMeshSignal * self)
{
  if (!self->members)
    self->members = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
        (GDestroyNotify) member_free);
}

static void
room_connected (GstMeshSignal * self)
{
  room_join (self);
}

static void
room_disconnected (GstMeshSignal * self)
{
  /* the connections go on; we join again under a new id */
  g_clear_pointer (&self->local_id, g_free);
}

static gboolean
room_event (GstMeshSignal * self, const gchar * name, JsonArray * args)
{
  if (!strcmp (name, "peer-joined") || !strcmp (name, "peer-left")) {
    room_handle_member_event (self, name, args);
    return TRUE;
  }
  if (!strcmp (name, "error")) {
    gchar *text = json_to_string (args && json_array_get_length (args) ?
        json_array_get_element (args, 0) : NULL, FALSE);
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("The signalling server refused a message"), ("%s", text));
    g_free (text);
    return TRUE;
  }
  return FALSE;
}

static void
room_stop (GstMeshSignal * self)
{
  room_leave_all (self);
  g_clear_pointer (&self->members, g_hash_table_unref);
}

static void
room_stats (GstMeshSignal * self, GstStructure * stats, GValue * peers)
{
  GValue v = G_VALUE_INIT;
  GHashTableIter it;
  Member *m;

  g_value_init (&v, GST_TYPE_STRUCTURE);
  g_hash_table_iter_init (&it, self->members);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & m)) {
    if (!m->peer)
      continue;
    g_value_take_boxed (&v, gst_mesh_stats_peer (m->peer, m->uid));
    gst_value_array_append_value (peers, &v);
  }
  g_value_unset (&v);
  gst_structure_set (stats, "members", G_TYPE_UINT,
      g_hash_table_size (self->members), NULL);
}

const GstMeshSession gst_mesh_room_session = {
  "room",
  room_start,
  room_connected,
  room_disconnected,
  room_event,
  room_handle_message,
  room_peer_state,
  room_path_lost,
  room_stop,
  room_stats,
};
