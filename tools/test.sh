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
echo "== meson test: unit, calls, browser, server and fuzz-regression suites"
log=$(mktemp)
meson test -C "$build" --print-errorlogs --num-processes 1 "$@" | tee "$log" || status=1
# the closing line CI reads: suites passed and failed
ok=$(awk '/^Ok:/{print $2}' "$log"); fail=$(awk '/^Fail:/{print $2}' "$log")
timeout=$(awk '/^Timeout:/{print $2}' "$log")
rm -f "$log"

if [ $status -eq 0 ]; then echo "== all tests passed"; else echo "== SOME TESTS FAILED"; fi
echo "${ok:-0} passed, $(( ${fail:-0} + ${timeout:-0} )) failed"
exit $status
