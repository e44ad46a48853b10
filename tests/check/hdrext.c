/* gst-mesh: the playout-delay RTP header extension (rtphdrextplayoutdelay,
 * plugins/gstmeshplayoutdelay.c) on its own: the three bytes it writes for
 * a least and a most delay, what it reads back, a direction without send,
 * and on a payloader, given directly or made by the payloader from an
 * extmap in its caps. That Chromium obeys it is met in the browser suite
 * (interop.test.mjs: frames shown at once) and in net-nat (a jittery
 * path).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/rtp/rtp.h>

#define URI "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

static GstRTPHeaderExtension *
make_ext (guint id, guint min, guint max)
{
  GstElement *e = gst_element_factory_make ("rtphdrextplayoutdelay", NULL);

  fail_unless (e != NULL, "rtphdrextplayoutdelay not found (GST_PLUGIN_PATH)");
  gst_object_ref_sink (e);
  gst_rtp_header_extension_set_id (GST_RTP_HEADER_EXTENSION (e), id);
  g_object_set (e, "min-delay", min, "max-delay", max, NULL);
  return GST_RTP_HEADER_EXTENSION (e);
}

/* What @ext writes into a fresh RTP packet: its size, into @data. */
static gssize
write_once (GstRTPHeaderExtension * ext, guint8 data[8])
{
  GstBuffer *in = gst_buffer_new ();
  GstBuffer *out = gst_rtp_buffer_new_allocate (0, 0, 0);
  gssize n;

  memset (data, 0xee, 8);
  n = gst_rtp_header_extension_write (ext, in, GST_RTP_HEADER_EXTENSION_ONE_BYTE,
      out, data, 8);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  return n;
}

GST_START_TEST (test_writes_twelve_bit_tens_of_ms)
{
  GstRTPHeaderExtension *ext = make_ext (5, 0, 0);
  GstBuffer *any = gst_buffer_new ();
  guint8 d[8];

  fail_unless (gst_rtp_header_extension_get_uri (ext) != NULL);
  fail_unless_equals_string (gst_rtp_header_extension_get_uri (ext), URI);
  fail_unless_equals_int (gst_rtp_header_extension_get_max_size (ext, any), 3);
  gst_buffer_unref (any);

  /* 0/0: show at once */
  fail_unless_equals_int (write_once (ext, d), 3);
  fail_unless (d[0] == 0 && d[1] == 0 && d[2] == 0);

  /* 100/1000 ms: 10 and 100 units, min in the first 12 bits */
  g_object_set (ext, "min-delay", 100, "max-delay", 1000, NULL);
  fail_unless_equals_int (write_once (ext, d), 3);
  fail_unless_equals_int (d[0], 0x00);
  fail_unless_equals_int (d[1], 0xa0);
  fail_unless_equals_int (d[2], 0x64);

  /* the most the fields hold, and a most under the least */
  g_object_set (ext, "min-delay", 40950, "max-delay", 40950, NULL);
  fail_unless_equals_int (write_once (ext, d), 3);
  fail_unless (d[0] == 0xff && d[1] == 0xff && d[2] == 0xff);
  g_object_set (ext, "min-delay", 200, "max-delay", 50, NULL);
  fail_unless_equals_int (write_once (ext, d), 3);
  fail_unless (d[0] == 0x01 && d[1] == 0x40 && d[2] == 0x14);

  gst_object_unref (ext);
}

GST_END_TEST;

GST_START_TEST (test_reads_what_the_sender_asks)
{
  GstRTPHeaderExtension *ext = make_ext (5, 0, 0);
  const guint8 asks[3] = { 0x00, 0xa0, 0x64 };
  GstBuffer *buf = gst_buffer_new ();
  guint min, max;

  fail_unless (gst_rtp_header_extension_read (ext,
          GST_RTP_HEADER_EXTENSION_ONE_BYTE, asks, 3, buf));
  g_object_get (ext, "min-delay", &min, "max-delay", &max, NULL);
  fail_unless_equals_int (min, 100);
  fail_unless_equals_int (max, 1000);

  /* two bytes are not a playout delay: refused, nothing changed */
  fail_if (gst_rtp_header_extension_read (ext,
          GST_RTP_HEADER_EXTENSION_ONE_BYTE, asks, 2, buf));
  g_object_get (ext, "min-delay", &min, "max-delay", &max, NULL);
  fail_unless_equals_int (min, 100);
  fail_unless_equals_int (max, 1000);

  gst_buffer_unref (buf);
  gst_object_unref (ext);
}

GST_END_TEST;

GST_START_TEST (test_no_send_direction_writes_nothing)
{
  GstRTPHeaderExtension *ext = make_ext (5, 0, 0);
  guint8 d[8];

  gst_rtp_header_extension_set_direction (ext,
      GST_RTP_HEADER_EXTENSION_DIRECTION_INACTIVE);
  fail_unless_equals_int (write_once (ext, d), 0);
  gst_rtp_header_extension_set_direction (ext,
      GST_RTP_HEADER_EXTENSION_DIRECTION_RECVONLY);
  fail_unless_equals_int (write_once (ext, d), 0);
  gst_rtp_header_extension_set_direction (ext,
      GST_RTP_HEADER_EXTENSION_DIRECTION_SENDONLY);
  fail_unless_equals_int (write_once (ext, d), 3);
  gst_object_unref (ext);
}

GST_END_TEST;

/* One packet out of rtpL16pay: the playout delay under @id, or NULL. */
static gboolean
payload_one (GstHarness * h, guint id, guint8 out[3])
{
  GstBuffer *b;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gpointer data;
  guint size;
  gboolean found;

  gst_harness_push (h, gst_buffer_new_allocate (NULL, 320, NULL));
  b = gst_harness_pull (h);
  fail_unless (b != NULL);
  fail_unless (gst_rtp_buffer_map (b, GST_MAP_READ, &rtp));
  found = gst_rtp_buffer_get_extension_onebyte_header (&rtp, id, 0, &data,
      &size);
  if (found) {
    fail_unless_equals_int (size, 3);
    memcpy (out, data, 3);
  }
  gst_rtp_buffer_unmap (&rtp);
  gst_buffer_unref (b);
  return found;
}

GST_START_TEST (test_on_a_payloader)
{
  GstHarness *h = gst_harness_new ("rtpL16pay");
  GstRTPHeaderExtension *ext = make_ext (4, 0, 0);
  guint8 d[3];

  gst_harness_set_src_caps_str (h,
      "audio/x-raw,format=S16BE,rate=8000,channels=1,layout=interleaved");
  g_signal_emit_by_name (h->element, "add-extension", ext);
  fail_unless (payload_one (h, 4, d));
  fail_unless (d[0] == 0 && d[1] == 0 && d[2] == 0);

  /* changed while it runs: the next packet says so */
  g_object_set (ext, "max-delay", 40950, NULL);
  fail_unless (payload_one (h, 4, d));
  fail_unless (d[0] == 0 && d[1] == 0x0f && d[2] == 0xff);

  gst_object_unref (ext);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_made_from_the_caps_extmap)
{
  GstHarness *h = gst_harness_new ("rtpL16pay");
  guint8 d[3];

  gst_harness_set_sink_caps_str (h, "application/x-rtp,media=audio,"
      "encoding-name=L16,clock-rate=8000,payload=96,extmap-7=" URI);
  gst_harness_set_src_caps_str (h,
      "audio/x-raw,format=S16BE,rate=8000,channels=1,layout=interleaved");
  fail_unless (payload_one (h, 7, d), "no playout delay under the caps' id");
  fail_unless (d[0] == 0 && d[1] == 0 && d[2] == 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
hdrext_suite (void)
{
  Suite *s = suite_create ("hdrext");
  TCase *tc = tcase_create ("playout-delay");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_writes_twelve_bit_tens_of_ms);
  tcase_add_test (tc, test_reads_what_the_sender_asks);
  tcase_add_test (tc, test_no_send_direction_writes_nothing);
  tcase_add_test (tc, test_on_a_payloader);
  tcase_add_test (tc, test_made_from_the_caps_extmap);
  return s;
}

GST_CHECK_MAIN (hdrext);
