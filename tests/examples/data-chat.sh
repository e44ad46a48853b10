#!/bin/sh
# examples/data-chat.py, the Python example of the data channel, for real:
# two of them in one room of gst-mesh-server (in the test namespace); one
# says a line and sends a file, the other must print the line with the
# sender's id and save the file byte for byte (its name from the
# GstMeshDataMeta of data_src's buffers).
#   tools/netns-run sh tests/examples/data-chat.sh BUILD_DIR
set -eu
BUILD=${1:-$(dirname "$0")/../../build}
BUILD=$(cd "$BUILD" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
if ! $PY -c 'import gi; gi.require_version("Gst", "1.0")' 2>/dev/null; then
  echo "SKIP: $PY has no gi with Gst (python3-gi, gir1.2-gstreamer-1.0)"
  exit 77
fi
W=$(mktemp -d)
trap 'kill $S 2>/dev/null || true; rm -rf "$W"' EXIT
export GST_PLUGIN_PATH="$BUILD/plugins"
head -c 300000 /dev/urandom > "$W/file.bin"
mkdir "$W/a" "$W/b"
"$BUILD/tools/gst-mesh-server" --port 0 --address 127.0.0.1 > "$W/server.log" 2>&1 &
S=$!
for i in $(seq 50); do
  URL=$(sed -n 's/.*Listening on \(http:[^ ]*\).*/\1/p' "$W/server.log")
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { cat "$W/server.log"; echo "FAIL: no server"; exit 1; }
(cd "$W/b" && $PY "$SRC/examples/data-chat.py" --server "$URL" --room py --quit-after 12 > out.txt 2>&1) &
B=$!
sleep 1
(cd "$W/a" && $PY "$SRC/examples/data-chat.py" --server "$URL" --room py \
  --say "hello from python ✓" --send-file "$W/file.bin" --quit-after 8 > out.txt 2>&1)
wait $B
A_ID=$(sed -n 's/^\[\(.*\) open\]$/\1/p' "$W/b/out.txt" | head -1)
echo "--- a"; cat "$W/a/out.txt"; echo "--- b"; cat "$W/b/out.txt"
[ -n "$A_ID" ] || { echo "FAIL: b saw no channel open"; exit 1; }
grep -qx "$A_ID: hello from python ✓" "$W/b/out.txt" || { echo "FAIL: b did not print the line from $A_ID"; exit 1; }
cmp "$W/b/received-$A_ID.bin" "$W/file.bin" || { echo "FAIL: the file differs"; exit 1; }
echo "PASS: line and file ($(wc -c < "$W/file.bin") bytes) from $A_ID"
