/* gst-mesh: the signalling server's counters in the Prometheus text
 * exposition format (version 0.0.4), what GET /metrics answers.
 *
 * Names follow Prometheus' conventions: a gst_mesh_ prefix, _total on
 * counters, units in the name (_bytes, _seconds), one metric per thing
 * counted with labels for its kinds.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmeshmetrics.h"

static const gchar *const refusal_names[GST_MESH_N_REFUSED] = {
  "rate-limit", "flood", "no-such-peer", "bad-target", "room-full",
  "bad-join", "auth", "origin",
};

static void
head (GString * out, const gchar * name, const gchar * type,
    const gchar * help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
      name, type);
}

static void
single (GString * out, const gchar * name, const gchar * type,
    const gchar * help, guint64 value)
{
  head (out, name, type, help);
  g_string_append_printf (out, "%s %" G_GUINT64_FORMAT "\n", name, value);
}

/**
 * gst_mesh_metrics_render:
 * @event_names: the GST_MESH_N_RELAYED_EVENTS relayed events' names
 * @start_time: when the server started, g_get_real_time()
 *
 * Returns: (transfer full): the text of GET /metrics
 */
gchar *
gst_mesh_metrics_render (const GstMeshSignalCounters * c,
    const gchar * const *event_names, const GstMeshEioStats * eio,
    guint rooms, guint members, gint64 start_time)
{
  GString *out = g_string_sized_new (4096);
  guint i;

  head (out, "gst_mesh_clients", "gauge",
      "Engine.IO sessions open now, by transport.");
  g_string_append_printf (out,
      "gst_mesh_clients{transport=\"polling\"} %u\n"
      "gst_mesh_clients{transport=\"websocket\"} %u\n",
      eio->clients_polling, eio->clients_websocket);
  single (out, "gst_mesh_sessions_opened_total", "counter",
      "Engine.IO sessions opened.", eio->sessions_opened);
  single (out, "gst_mesh_rooms", "gauge", "Mesh rooms with members now.",
      rooms);
  single (out, "gst_mesh_room_members", "gauge",
      "Members of all mesh rooms now.", members);
  single (out, "gst_mesh_joins_total", "counter", "Room joins accepted.",
      c->joins);

  head (out, "gst_mesh_events_relayed_total", "counter",
      "Signalling events relayed, by event.");
  for (i = 0; i < GST_MESH_N_RELAYED_EVENTS; i++)
    g_string_append_printf (out,
        "gst_mesh_events_relayed_total{event=\"%s\"} %" G_GUINT64_FORMAT
        "\n", event_names[i], c->relayed[i]);
  single (out, "gst_mesh_event_deliveries_total", "counter",
      "Copies of relayed events sent to other clients.", c->deliveries);

  head (out, "gst_mesh_refused_total", "counter",
      "Events, joins, connections and requests refused, by reason.");
  for (i = 0; i < GST_MESH_N_REFUSED; i++)
    g_string_append_printf (out,
        "gst_mesh_refused_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
        refusal_names[i], c->refused[i]);

  head (out, "gst_mesh_handshake_errors_total", "counter",
      "Engine.IO requests refused, by error code.");
  for (i = 0; i < GST_MESH_EIO_N_ERRORS; i++)
    g_string_append_printf (out,
        "gst_mesh_handshake_errors_total{code=\"%u\",message=\"%s\"} %"
        G_GUINT64_FORMAT "\n", i, gst_mesh_eio_error_message (i),
        eio->handshake_errors[i]);

  head (out, "gst_mesh_http_cut_total", "counter",
      "HTTP requests refused or connections cut before a request was "
      "served, by reason.");
  g_string_append_printf (out,
      "gst_mesh_http_cut_total{reason=\"header-timeout\"} %" G_GUINT64_FORMAT
      "\n" "gst_mesh_http_cut_total{reason=\"payload-too-large\"} %"
      G_GUINT64_FORMAT "\n"
      "gst_mesh_http_cut_total{reason=\"body-not-allowed\"} %"
      G_GUINT64_FORMAT "\n"
      "gst_mesh_http_cut_total{reason=\"refused-body-timeout\"} %"
      G_GUINT64_FORMAT "\n", eio->header_timeouts, eio->payloads_too_large,
      c->bodies_refused, eio->body_timeouts);

  single (out, "gst_mesh_received_bytes_total", "counter",
      "Engine.IO bytes received (POST bodies, WebSocket frames).",
      eio->bytes_received);
  single (out, "gst_mesh_sent_bytes_total", "counter",
      "Engine.IO bytes sent (poll responses, WebSocket frames).",
      eio->bytes_sent);

  head (out, "gst_mesh_start_time_seconds", "gauge",
      "When the server started, in seconds since the epoch.");
  g_string_append_printf (out, "gst_mesh_start_time_seconds %.3f\n",
      start_time / 1e6);
  return g_string_free (out, FALSE);
}
