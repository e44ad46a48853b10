#!/bin/bash
# The main job: a real call on a machine with no camera and no display.
#
# Sets the machine up and builds (tools/build.sh), then, inside a private
# network namespace, starts a signalling server and two gst-mesh-call
# processes, alice (calls) and bob (waits), and prints their status lines:
# signalling, call state, setup time, frames per second each way. Ends
# after DURATION seconds (default 20) or on Ctrl-C.
#
# Usage: tools/demo.sh [DURATION]
#   SERVER=c     (default) our server, build/tools/gst-mesh-server: no Node.js
#   SERVER=seed  the seed's own Node server, tests/seed/server.ts, unchanged
#   BUILD_DIR    build directory (default ./build)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
if [ "${GST_MESH_NETNS:-}" != 1 ]; then
  bash "$here/tools/build.sh"
  exec "$here/tools/netns-run" "$0" "$@"
fi
duration=${1:-20}
server=${SERVER:-c}
export GST_PLUGIN_PATH="$build/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$server" = seed ]; then
  echo "== the seed's signalling server (Node, tests/seed/server.ts) on port 4000"
  (cd "$here/tests" && exec node --import tsx seed/server.ts) \
    > >(sed -u 's/^/[server] /') 2>&1 &
else
  echo "== gst-mesh-server (C, no Node.js) on port 4000"
  "$build/tools/gst-mesh-server" --port 4000 --verbose \
    > >(sed -u 's/^/[server] /') 2>&1 &
fi
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/4000) 2>/dev/null && break
  sleep 0.1
done

echo "== alice calls, bob waits; both send test video (640x480, 30 fps) and audio for ${duration}s"
"$build/tools/gst-mesh-call" --name bob --role wait --pattern 18 \
  --duration "$duration" &
pids+=($!)
"$build/tools/gst-mesh-call" --name alice --role call \
  --duration "$duration" &
pids+=($!)
status=0
wait "${pids[2]}" || status=$?
wait "${pids[1]}" || status=$?
exit $status
