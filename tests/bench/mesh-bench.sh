#!/bin/bash
# Mesh benchmark (issue 5): CPU and memory of one node as its room grows
# from 1 to 4 remote peers, a meshsignal pipeline beside the rooms page in
# Chromium, in the same run. See tests/bench/README.md, "Mesh rooms: cost
# per remote peer".
#
#   tests/bench/mesh-bench.sh [--runs R] [--max-peers N] [--window S]
#       [--settle S] [--video WxH@FPS] [--grid WxH] [--no-browser] [--no-gst]
#       [--threads] [--perf DIR] [--json FILE]
#
# Prints progress on stderr and the table on stdout. Runs inside
# tools/netns-run (re-runs itself there). Env: BUILD_DIR (default build;
# gst-mesh-server and plugins/ come from it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$here/build}
case $build in /*) ;; *) build=$here/$build ;; esac

case ${1:-} in -h|--help) sed -n 2,13p "$0"; exit 0 ;; esac

for f in "$build/tools/gst-mesh-server" "$build/plugins"; do
  if [ ! -e "$f" ]; then
    echo "$f not found: build first (meson setup $build && ninja -C $build) or set BUILD_DIR" >&2
    exit 2
  fi
done
command -v gst-launch-1.0 >/dev/null || { echo "gst-launch-1.0 not found" >&2; exit 2; }

export GST_MESH_BUILD_DIR=$build
export GST_PLUGIN_PATH=$build/plugins
export GST_REGISTRY=${GST_REGISTRY:-$build/tests/registry-bench.bin}
exec "$here/tools/netns-run" node "$here/tests/bench/mesh-bench.mjs" "$@"
