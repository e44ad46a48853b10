#!/usr/bin/python3
"""A chat line and a file drop over meshsignal's data channel, in Python.

    /usr/bin/python3 examples/data-chat.py --server http://127.0.0.1:4000 --room mesh
    /usr/bin/python3 examples/data-chat.py ... --say "hello" --send-file photo.jpg --quit-after 10

Joins the room with a data-only meshsignal (no camera), prints every text
message (with who sent it) and saves every binary message that comes out
of data_src, appending per sender to received-<peer-id>.bin (its peer id
read from the buffer's GstMeshDataMeta). Lines typed on stdin go to
everyone (send-data); --say sends one once a channel is open, --send-file
sends a file the way the rooms page does (a "file" header, then its bytes),
so pages in the room show it with a download link.

Needs Debian's python3-gi and gir1.2-gstreamer-1.0 (/usr/bin/python3), and
GST_PLUGIN_PATH pointing at the build's plugins/ unless installed.
"""
import argparse
import json
import os
import sys
import threading
import uuid

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

PIECE = 64 * 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default="http://127.0.0.1:4000")
    ap.add_argument("--room", default="mesh")
    ap.add_argument("--say", help="a text message to send once a peer is there")
    ap.add_argument("--send-file", help="a file to send once a peer is there")
    ap.add_argument("--quit-after", type=float, default=0, help="seconds (0: run until Ctrl-C)")
    args = ap.parse_args()

    Gst.init(None)
    pipeline = Gst.parse_launch(
        f"meshsignal name=m server-url={args.server} room={args.room} "
        "m.data_src ! appsink name=out emit-signals=true sync=false"
    )
    mesh = pipeline.get_by_name("m")
    out = pipeline.get_by_name("out")
    loop = GLib.MainLoop()
    said = False
    # data-received and data_src's samples come from streaming threads, bus
    # messages from the main loop: one line at a time, whole
    out_lock = threading.Lock()

    def say(line):
        with out_lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def send(message, peer=None):
        return mesh.emit("send-data", message, peer)

    def on_text(_mesh, peer, message):
        # binary messages come out of data_src too (below)
        if message.get_type_string() == "s":
            say(f"{peer}: {message.get_string()}")

    def on_sample(sink):
        buf = sink.emit("pull-sample").get_buffer()
        meta = buf.get_custom_meta("GstMeshDataMeta")
        peer = meta.get_structure().get_string("peer-id") if meta else "unknown"
        ok, info = buf.map(Gst.MapFlags.READ)
        if ok:
            with open(f"received-{peer}.bin", "ab") as f:
                f.write(info.data)
            buf.unmap(info)
            say(f"({peer} sent {info.size} bytes)")
        return Gst.FlowReturn.OK

    def on_bus(_bus, msg):
        nonlocal said
        s = msg.get_structure()
        if msg.type == Gst.MessageType.ERROR:
            err, _ = msg.parse_error()
            print(f"error: {err.message}", file=sys.stderr)
            loop.quit()
        elif s and s.get_name() == "mesh-data-channel":
            say(f"[{s.get_string('peer-id')} {s.get_string('state')}]")
            if s.get_string("state") == "open" and not said:
                said = True
                if args.say:
                    send(GLib.Variant("s", args.say))
                if args.send_file:
                    send_file(args.send_file)
        return True

    def send_file(name):
        with open(name, "rb") as f:
            data = f.read()
        header = {"type": "file", "id": str(uuid.uuid4()), "name": os.path.basename(name),
                  "size": len(data), "mime": ""}
        send(GLib.Variant("s", json.dumps(header)))
        for off in range(0, len(data), PIECE):
            send(GLib.Variant("ay", data[off:off + PIECE]))

    def on_stdin(source, _cond):
        line = source.readline()
        if not line:
            return False
        if line.strip():
            send(GLib.Variant("s", line.rstrip("\n")))
        return True

    mesh.connect("data-received", on_text)
    out.connect("new-sample", on_sample)
    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_bus)
    if sys.stdin.isatty():
        GLib.io_add_watch(sys.stdin, GLib.IO_IN, on_stdin)
    if args.quit_after:
        GLib.timeout_add(int(args.quit_after * 1000), loop.quit)
    pipeline.set_state(Gst.State.PLAYING)
    try:
        loop.run()
    finally:
        pipeline.set_state(Gst.State.NULL)


if __name__ == "__main__":
    main()
