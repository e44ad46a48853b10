#!/bin/bash
# Call-setup benchmark: meshsignal <-> meshsignal against the seed's own
# browser <-> browser, same seed server, same run, side by side.
#
# Usage: tests/bench/run.sh [--runs N] [--variants LIST] [--no-browser]
#                           [--b2b] [--out DIR]
#   --runs N        runs per gst variant and browser runs (default 10)
#   --variants L    call-setup variants (default call-wait,call-call,call-wait-200;
#                   see tests/bench/call-setup.c)
#   --no-browser    skip the browser <-> browser baseline
#   --b2b           baseline with tests/browser/browser-to-browser.mjs (its
#                   own seed server, one Chromium per run) instead of
#                   tests/bench/browser-setup.mjs (our server, one Chromium)
#   --out DIR       keep the JSON and logs there (default: a temp dir)
# Env: BUILD_DIR (meson build dir, default build; relative to the repo root),
#      CC (default cc), GST_DEBUG etc. pass through to call-setup.
#
# Needs: tools/setup.sh done (tests/node_modules, chromium) and the meson
# build (BUILD_DIR/plugins/libgstmesh.so). Re-runs itself inside
# tools/netns-run (a private network namespace; port 4000 is ours there).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ "${GST_MESH_NETNS:-}" != 1 ]; then
  exec "$ROOT/tools/netns-run" "$HERE/run.sh" "$@"
fi

RUNS=10
VARIANTS=call-wait,call-call,call-wait-200
BROWSER=bench
OUT=
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --no-browser) BROWSER=none; shift ;;
    --b2b) BROWSER=b2b; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
if [ ! -e "$BUILD_DIR/plugins/libgstmesh.so" ]; then
  echo "run.sh: no $BUILD_DIR/plugins/libgstmesh.so; build first (meson setup + ninja), or set BUILD_DIR" >&2
  exit 2
fi
export GST_PLUGIN_PATH="$BUILD_DIR/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

TMP=$(mktemp -d /tmp/gst-mesh-bench.XXXXXX)
[ -n "$OUT" ] || OUT=$TMP
mkdir -p "$OUT"
SEED_PID=

cleanup() {
  if [ -n "$SEED_PID" ] && kill -0 "$SEED_PID" 2>/dev/null; then
    kill -TERM -- "-$SEED_PID" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$SEED_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$SEED_PID" 2>/dev/null || true
  fi
  SEED_PID=
  [ "$OUT" = "$TMP" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the call-setup program: meson's if it was built, else compile it ----
CALL_SETUP="$BUILD_DIR/tests/bench/call-setup"
if [ ! -x "$CALL_SETUP" ] || [ "$HERE/call-setup.c" -nt "$CALL_SETUP" ]; then
  CALL_SETUP="$TMP/call-setup"
  # shellcheck disable=SC2046
  ${CC:-cc} -O2 -Wall -o "$CALL_SETUP" "$HERE/call-setup.c" \
    $(pkg-config --cflags --libs gstreamer-1.0)
fi

# ---- the seed's server (server.ts, fixed port 4000), own process group ----
start_seed() {
  : >"$OUT/seed-server.log"
  (cd "$ROOT/tests" && exec setsid node --import tsx seed/server.ts) \
    >>"$OUT/seed-server.log" 2>&1 &
  SEED_PID=$!
  for _ in $(seq 200); do
    grep -q "http://localhost:4000" "$OUT/seed-server.log" && return 0
    kill -0 "$SEED_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "run.sh: the seed server did not start:" >&2
  cat "$OUT/seed-server.log" >&2
  exit 1
}

# Every socket that connected has disconnected: the next part starts clean.
check_clean() {
  local c d
  c=$(grep -c "A user connected" "$OUT/seed-server.log" || true)
  d=$(grep -c "User disconnected" "$OUT/seed-server.log" || true)
  for _ in $(seq 50); do
    [ "$c" = "$d" ] && break
    sleep 0.1
    d=$(grep -c "User disconnected" "$OUT/seed-server.log" || true)
  done
  echo "seed server after $1: $c connections, $d disconnections" >&2
  [ "$c" = "$d" ] || echo "run.sh: WARNING: $((c - d)) sockets still connected" >&2
}

start_seed
echo "== gst <-> gst: $CALL_SETUP --runs $RUNS --variants $VARIANTS" >&2
nvar=$(echo "$VARIANTS" | tr ',' '\n' | wc -l)
gst_rc=0
timeout -s INT $((RUNS * nvar * 20 + 60)) \
  "$CALL_SETUP" --runs "$RUNS" --variants "$VARIANTS" --json \
  >"$OUT/gst.json" 2> >(tee "$OUT/gst.txt" >&2) || gst_rc=$?
check_clean "gst <-> gst"

: >"$OUT/browser.jsonl"
br_rc=0
case "$BROWSER" in
  bench)
    echo "== browser <-> browser: tests/bench/browser-setup.mjs --runs $RUNS (same seed server)" >&2
    timeout -s INT $((RUNS * 30 + 60)) \
      node "$HERE/browser-setup.mjs" --runs "$RUNS" \
      >"$OUT/browser.jsonl" || br_rc=$?
    cat "$OUT/browser.jsonl" >&2
    check_clean "browser <-> browser"
    ;;
  b2b)
    # browser-to-browser.mjs starts server.ts itself on port 4000
    cleanup_seed_only() { kill -TERM -- "-$SEED_PID" 2>/dev/null || true; wait "$SEED_PID" 2>/dev/null || true; SEED_PID=; }
    cleanup_seed_only
    echo "== browser <-> browser: tests/browser/browser-to-browser.mjs x $RUNS" >&2
    for i in $(seq "$RUNS"); do
      timeout -s INT 90 node "$ROOT/tests/browser/browser-to-browser.mjs" \
        2>>"$OUT/b2b.log" | sed "s/^{/{\"run\":$i,/" >>"$OUT/browser.jsonl" || br_rc=$?
    done
    cat "$OUT/browser.jsonl" >&2
    ;;
esac

# ---- side by side ----
node - "$OUT/gst.json" "$OUT/browser.jsonl" "$RUNS" <<'EOF'
const fs = require("fs");
const [gstFile, brFile, runs] = process.argv.slice(2);
const f = (x) => (x == null ? "-" : Number(x).toFixed(0));
const stat = (v) => {
  const s = v.filter((x) => typeof x === "number").sort((a, b) => a - b);
  if (!s.length) return { n: 0 };
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { n: s.length, median: m, min: s[0], max: s[s.length - 1] };
};
const rows = [];
let gst = null;
try { gst = JSON.parse(fs.readFileSync(gstFile, "utf8")); } catch {}
for (const v of gst?.variants ?? []) {
  const setups = v.runs.map((r) => (r.ok ? r.setup : null));
  const fromCall = v.runs.map((r) => (r.ok ? r.fromCall : null));
  rows.push([`gst<->gst ${v.variant} (PLAYING->frames)`, v.run1SetupMs, v.run1Cold ? "cold" : "warm",
    stat(setups.slice(1)), stat(setups)]);
  rows.push([`gst<->gst ${v.variant} (call start->frames)`, fromCall[0], v.run1Cold ? "cold" : "warm",
    stat(fromCall.slice(1)), stat(fromCall)]);
}
const br = fs.readFileSync(brFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
  .filter((r) => !r.summary);
if (br.length) {
  const setups = br.map((r) => (r.ok ? r.setupMs : null));
  rows.push(["browser<->browser seed page (Call click->frames)", setups[0], "", stat(setups.slice(1)), stat(setups)]);
}
console.log("\ncall-setup time, ms (first decoded/presented video frame on both sides)");
console.log(`${"".padEnd(52)} ${"run1".padStart(6)}      ${"median".padStart(7)} ${"min".padStart(6)} ${"max".padStart(6)}  n   | all runs median`);
console.log(`${"".padEnd(52)} ${"".padStart(6)}      ${"--- runs 2..N ---".padStart(22)}`);
for (const [name, r1, tag, s, all] of rows)
  console.log(`${name.padEnd(52)} ${f(r1).padStart(6)} ${tag.padEnd(4)} ${f(s.median).padStart(7)} ${f(s.min).padStart(6)} ${f(s.max).padStart(6)} ${String(s.n).padStart(2)}   | ${f(all.median)}`);
console.log("\ncold = first call of the call-setup process (pays DTLS certificate generation).");
console.log("Phase medians per variant: see the call-setup tables above (ms from PLAYING).");
EOF
echo "JSON and logs: $OUT" >&2
[ "$gst_rc" = 0 ] && [ "$br_rc" = 0 ]
