#!/bin/bash
# How a meshsignal call plays through packet loss and jitter: frames
# decoded per second, freezes, NACK/PLI/FIR counts, with and without an
# impaired network (tests/bench/netem.c says what is measured).
#
# Usage: tests/bench/netem.sh [--seed] [netem options...]
#   --seed   use the seed's Node server (tests/seed/server.ts) instead of
#            gst-mesh-server
#   netem options: --seconds S, --latencies 20,200,
#            --scenarios 0/0/0,5/0/0,0/50/20,5/50/20 (LOSS/DELAY/JITTER)
# Env: BUILD_DIR (meson build dir, default build; relative to the repo root).
#
# Re-runs itself inside tools/netns-run: the impairment (tests/faults/net.sh,
# netimp) changes that private namespace's lo only.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ "${GST_MESH_NETNS:-}" != 1 ]; then
  exec "$ROOT/tools/netns-run" "$HERE/netem.sh" "$@"
fi

BUILD=${BUILD_DIR:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
SERVER=c
if [ "${1:-}" = --seed ]; then
  SERVER=seed
  shift
fi

for f in "$BUILD/tests/bench/netem" "$BUILD/tests/faults/netimp" \
    "$BUILD/tools/gst-mesh-server" "$BUILD/plugins/libgstmesh.so"; do
  [ -e "$f" ] || { echo "netem.sh: $f missing: ninja -C $BUILD" >&2; exit 1; }
done

export GST_PLUGIN_PATH="$BUILD/plugins"
export GST_REGISTRY="$BUILD/tests/registry.bin"
export MESH_TESTS_DIR="$ROOT/tests" MESH_BUILD_DIR="$BUILD"

if [ "$SERVER" = seed ]; then
  (cd "$ROOT/tests" && exec node --import tsx seed/server.ts) >/dev/null 2>&1 &
else
  "$BUILD/tools/gst-mesh-server" --port 4000 >/dev/null 2>&1 &
fi
SERVER_PID=$!
cleanup() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  sh "$ROOT/tests/faults/net.sh" clear || true
}
trap cleanup EXIT
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/4000) 2>/dev/null && break
  sleep 0.1
done

echo "netem: $SERVER server, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
"$BUILD/tests/bench/netem" --server-url http://127.0.0.1:4000 "$@"
