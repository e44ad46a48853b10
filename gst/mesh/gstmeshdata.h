/* gst-mesh: messages of any size over a WebRTC data channel.
 *
 * A data channel carries SCTP messages up to the smaller of both sides'
 * max-message-size (webrtcbin refuses to send more; Chromium says 256 KiB,
 * Firefox 1 GiB, others 64 KiB). The gst-mesh data channel lifts that
 * limit with a framing of one byte, documented in docs/protocol.md:
 *
 *  - a text message up to GST_MESH_DATA_CHUNK bytes is sent as it is, as a
 *    string (so a page's `channel.send("hello")` is a message as well);
 *  - every binary SCTP message starts with a flags byte: FINAL (0x01) on
 *    the last chunk of a message, TEXT (0x02) when the chunks make a text
 *    message (one too long for a single string), other bits 0. The rest
 *    is the chunk. A binary message of at most GST_MESH_DATA_CHUNK - 1
 *    bytes is therefore one SCTP message: 0x01 and the bytes;
 *  - the one byte 0x04 (KEEPALIVE) alone is no message: a side that has
 *    sent nothing for a while sends it, so that the acknowledgements
 *    coming back prove the other side is still there. Receivers drop it.
 *
 * Chunks of one message are sent one after the other on an ordered,
 * reliable channel, so a receiver appends them until FINAL.
 *
 * Pure functions and state, no I/O (tests/check/data.c, fuzz_data).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* the channel's label and protocol (RTCDataChannel's label, protocol) */
#define GST_MESH_DATA_LABEL "gst-mesh-data"
#define GST_MESH_DATA_PROTOCOL "gst-mesh-data/1"
/* the largest SCTP message we send: below every implementation's
 * max-message-size, and small enough that SCTP interleaves other
 * streams' messages between chunks */
#define GST_MESH_DATA_CHUNK 16384
/* the largest message put together from chunks (64 MiB) */
#define GST_MESH_DATA_MAX_MESSAGE (64 * 1024 * 1024)

#define GST_MESH_DATA_FLAG_FINAL 0x01
#define GST_MESH_DATA_FLAG_TEXT 0x02
#define GST_MESH_DATA_KEEPALIVE 0x04

#define GST_MESH_DATA_ERROR (gst_mesh_data_error_quark ())
GQuark gst_mesh_data_error_quark (void);

typedef enum
{
  GST_MESH_DATA_ERROR_EMPTY,     /* a binary SCTP message without flags */
  GST_MESH_DATA_ERROR_FLAGS,     /* flags this version does not know */
  GST_MESH_DATA_ERROR_TOO_LARGE, /* over the size limit */
  GST_MESH_DATA_ERROR_MIXED,     /* text and binary chunks in one message,
                                  * or a string within a chunked message */
  GST_MESH_DATA_ERROR_UTF8,      /* a text message that is not UTF-8 */
  GST_MESH_DATA_ERROR_CLOSED,    /* sending: no open channel */
} GstMeshDataError;

/* The SCTP messages that carry one message: GBytes of binary frames,
 * except for a short text (GST_MESH_DATA_CHUNK bytes or fewer), which is
 * one GBytes to send as a string (its bytes, no terminator). @chunk: the
 * largest SCTP message (0: GST_MESH_DATA_CHUNK; at least 2). */
GPtrArray *gst_mesh_data_frame (const guint8 * data, gsize size,
    gboolean text, gsize chunk);
/* Whether gst_mesh_data_frame() sends @size bytes of text as a string. */
gboolean gst_mesh_data_text_is_string (gsize size, gsize chunk);

/* Puts messages together from what one channel received. */
typedef struct _GstMeshDataAssembler GstMeshDataAssembler;

typedef enum
{
  GST_MESH_DATA_MORE,            /* nothing whole yet: the message goes on */
  GST_MESH_DATA_MESSAGE,         /* a whole message is out */
  GST_MESH_DATA_FAILED,          /* @error says why; what was kept of the
                                  * message is dropped, the next SCTP
                                  * message starts afresh */
} GstMeshDataResult;

/* @max_message: the size limit (0: GST_MESH_DATA_MAX_MESSAGE). */
GstMeshDataAssembler *gst_mesh_data_assembler_new (gsize max_message);
void gst_mesh_data_assembler_free (GstMeshDataAssembler * a);
/* A binary SCTP message. On MESSAGE, *@message is the message (transfer
 * full) and *@text whether it is text (checked UTF-8). */
GstMeshDataResult gst_mesh_data_assembler_push (GstMeshDataAssembler * a,
    const guint8 * data, gsize size, GBytes ** message, gboolean * text,
    GError ** error);
/* A string SCTP message: a whole text message, unless a chunked message
 * was under way (then that one is dropped, with an error, and the string
 * still counts: *@message is set either way when it is UTF-8). */
GstMeshDataResult gst_mesh_data_assembler_push_string (GstMeshDataAssembler *
    a, const gchar * data, gsize size, GBytes ** message, GError ** error);
/* Bytes of an unfinished message (0 when none). */
gsize gst_mesh_data_assembler_pending (GstMeshDataAssembler * a);

G_END_DECLS
