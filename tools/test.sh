#!/bin/bash
# Set up, build, and run the whole test suite: the unit tests, then every
# test that opens a peer connection, inside a private network namespace
# (tools/netns-run). Exits non-zero when any test fails.
#
# Usage: tools/test.sh [meson test args...]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}

if [ "${GST_MESH_NETNS:-}" != 1 ]; then
  bash "$here/tools/build.sh"
  exec "$here/tools/netns-run" "$0" "$@"
fi

status=0
echo "== meson test: unit, calls, server suites"
meson test -C "$build" --print-errorlogs --num-processes 1 "$@" || status=1

if [ $status -eq 0 ]; then echo "== all tests passed"; else echo "== SOME TESTS FAILED"; fi
exit $status
