#!/bin/bash
# Runs the official Engine.IO and Socket.IO protocol test suites, unmodified,
# RUNS times each against our conformance servers (tests/servers/) and, in
# the same run, against the Node reference servers with the same
# configuration, and prints the passes of each run and the tests that failed.
#
# Usage: tools/official-suites.sh ENGINE_IO_PROTOCOL_DIR SOCKET_IO_PROTOCOL_DIR [RUNS]
#   each DIR a checkout of socketio/engine.io-protocol or
#   socketio/socket.io-protocol; `npm ci` is run in its test-suite/ when it
#   has no node_modules. The suites use port 3000, so nothing else may.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}
eio_dir=$(cd "${1:?engine.io-protocol checkout}" && pwd)
sio_dir=$(cd "${2:?socket.io-protocol checkout}" && pwd)
runs=${3:-5}

for d in "$eio_dir" "$sio_dir"; do
  [ -d "$d/test-suite/node_modules" ] || (cd "$d/test-suite" && npm ci --no-audit --no-fund >/dev/null)
done

server_pid=
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
trap stop_server EXIT

# run_suite LABEL SUITE_DIR SERVER_CMD...
run_suite() {
  local label=$1 dir=$2 i out; shift 2
  for i in $(seq "$runs"); do
    PORT=3000 "$@" >/dev/null 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
      (exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null && break
      sleep 0.1
    done
    out=$(cd "$dir/test-suite" && npx mocha test-suite.js 2>&1 || true)
    stop_server
    printf '%-28s run %d: %s passing, %s failing\n' "$label" "$i" \
      "$(grep -oE '[0-9]+ passing' <<<"$out" | cut -d' ' -f1)" \
      "$(grep -oE '[0-9]+ failing' <<<"$out" | cut -d' ' -f1 || echo 0)"
    # the failed tests' titles: the line after "N) Suite" blocks that ends in ':'
    awk '/^  [0-9]+\) /{f=1; next} f && /:$/ {sub(/^ +/, ""); print "    - " $0; f=0}' <<<"$out"
  done
}

cd "$here/tests"
run_suite "Engine.IO, eio-echo-server" "$eio_dir" "$build/tests/servers/eio-echo-server"
run_suite "Engine.IO, Node reference" "$eio_dir" node servers/eio-echo-server.mjs
run_suite "Socket.IO, sio-test-server" "$sio_dir" "$build/tests/servers/sio-test-server"
run_suite "Socket.IO, Node reference" "$sio_dir" node servers/sio-test-server.mjs
