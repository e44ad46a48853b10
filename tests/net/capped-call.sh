#!/bin/bash
# gst-mesh: one call across a capped link, for a look by hand (issue 17).
#
#   tests/net/capped-call.sh KBIT [PROPS] [SECONDS]          (as root)
#
# In the simulated Internet (tests/net/internet, two homes without NAT),
# gst-mesh-call on h1 waits and on h2 calls, through the seed's server;
# what reaches h1 is capped at KBIT kbit/s (tbf, 150 ms queue, `internet
# rate`). PROPS go to both meshsignals. Prints what h1 decoded each
# second, the encoder rates h2 chose (with congestion-control=gcc), and
# the bottleneck's counters (sent, dropped). Logs: /tmp/capped-h{1,2}.log.
# IMPAIR="LOSS DELAY JITTER" (%, ms, ms) adds netimp on the way to h1
# (`internet impair`), e.g. IMPAIR="5 150 0".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "${MESH_NET:-}" != 1 ]; then
  exec "$here/internet" run --homes 2 --nat none -- "$0" "$@"
fi
kbit=$1 props=${2:-} secs=${3:-20}
build=${GST_MESH_BUILD_DIR:-$here/../../build}
cd "$here/.."
node --import tsx seed/server.ts > /tmp/capped-seed.log 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
for _ in $(seq 50); do ss -lnt | grep -q ":4000 " && break; sleep 0.2; done
"$MESH_NET_TOOL" rate h1 "$kbit"
if [ -n "${IMPAIR:-}" ]; then
  # shellcheck disable=SC2086
  "$MESH_NET_TOOL" impair h1 $IMPAIR
fi
export GST_PLUGIN_PATH=$build/plugins GST_DEBUG=${GST_DEBUG:-meshsignal:4,meshpeer:4}
"$MESH_NET_TOOL" exec h1 "$build/tools/gst-mesh-call" -s "http://$MESH_NET_PUBLIC:4000" \
  -r wait -n h1 -d "$secs" -p "$props" > /tmp/capped-h1.log 2>&1 &
a=$!
sleep 0.5
"$MESH_NET_TOOL" exec h2 "$build/tools/gst-mesh-call" -s "http://$MESH_NET_PUBLIC:4000" \
  -r call -n h2 -d "$secs" -p "$props" > /tmp/capped-h2.log 2>&1 || true
wait $a || true
echo "h1 received (video fps per second):"
grep -o 'received *[0-9]* fps' /tmp/capped-h1.log | awk '{printf "%s ", $2} END {print ""}'
echo "h2's video encoder (kbit/s, as congestion control set it):"
grep -o 'video encoder: [0-9]*' /tmp/capped-h2.log | awk '{printf "%s ", $3} END {print ""}'
echo "the bottleneck towards h1:"
ip netns exec r1 tc -s qdisc show dev lan
