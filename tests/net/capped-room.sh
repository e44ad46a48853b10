#!/bin/bash
# gst-mesh: a room of three where one member's link is capped, for a look
# by hand (issue 17: peers of different speed).
#
#   tests/net/capped-room.sh KBIT [PROPS] [SECONDS]          (as root)
#
# In the simulated Internet (tests/net/internet, three homes without NAT),
# gst-mesh-server on the public address and gst-mesh-call in room "cap" on
# h1, h2 and h3; what reaches h1 is capped at KBIT kbit/s (`internet
# rate`). PROPS go to every meshsignal. Prints each member's status lines
# (per peer: frames decoded each second, and "(sent low)" for a peer sent
# the low encoding) and the bottleneck's counters. Logs: /tmp/caproom-h*.log.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "${MESH_NET:-}" != 1 ]; then
  exec "$here/internet" run --homes 3 --nat none -- "$0" "$@"
fi
kbit=$1 props=${2:-} secs=${3:-30}
build=${GST_MESH_BUILD_DIR:-$here/../../build}
"$build/tools/gst-mesh-server" --address "$MESH_NET_PUBLIC" --port 4000 \
  > /tmp/caproom-server.log 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
for _ in $(seq 50); do ss -lnt | grep -q ":4000 " && break; sleep 0.2; done
"$MESH_NET_TOOL" rate h1 "$kbit"
# what each member sends towards h1, counted in h1's router
ip netns exec r1 nft -f - <<NFT
table inet caproom {
  chain count {
    type filter hook forward priority 0;
    oifname "lan" ip saddr 192.168.2.2 counter
    oifname "lan" ip saddr 192.168.3.2 counter
  }
}
NFT
(
  prev2=0 prev3=0
  while sleep 1; do
    read -r b2 b3 < <(ip netns exec r1 nft list chain inet caproom count |
      awk '/counter/ {for (i=1;i<=NF;i++) if ($i=="bytes") printf "%s ", $(i+1)} END {print ""}')
    echo "towards h1, kbit/s: from h2 $(( (b2-prev2)*8/1000 )), from h3 $(( (b3-prev3)*8/1000 ))"
    prev2=$b2 prev3=$b3
  done
) > /tmp/caproom-rates.log 2>&1 &
acct=$!
export GST_PLUGIN_PATH=$build/plugins GST_DEBUG=${GST_DEBUG:-meshsignal:4}
pids=()
for h in h2 h3 h1; do
  "$MESH_NET_TOOL" exec $h "$build/tools/gst-mesh-call" -s "http://$MESH_NET_PUBLIC:4000" \
    --room cap -n $h -d "$secs" --horizontal-speed 4 -p "$props" > /tmp/caproom-$h.log 2>&1 &
  pids+=($!)
  sleep 0.3
done
wait "${pids[@]}" || true
kill $acct 2>/dev/null || true
echo "== what reached h1's router for h1, each second"
tr '\n' ';' < /tmp/caproom-rates.log | sed 's/towards h1, kbit\/s: //g'; echo
for h in h1 h2 h3; do
  echo "== $h"
  grep -E '\] video sent' /tmp/caproom-$h.log | sed 's/^\[[^]]*\] //' | tail -n 8
done
echo "the bottleneck towards h1:"
ip netns exec r1 tc -s qdisc show dev lan
