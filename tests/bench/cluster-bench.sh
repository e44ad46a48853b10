#!/bin/bash
# Cluster benchmark (issue 14): the relay of an event between two clients
# on the same server and on two servers of a Redis cluster, for
# gst-mesh-servers (C) and for Node servers with @socket.io/redis-adapter
# (examples/rooms-server --redis) in the same run, with the same load
# generator (tests/bench/sio-load.c); then clients held by a 3-node C
# cluster. Results in tests/bench/README.md ("A cluster on Redis").
#
#   tests/bench/cluster-bench.sh [--runs N] [--events E] [--window W]
#       [--held N] [--procs K]
#
# Env: BUILD_DIR (default build). Ports are free ones on 127.0.0.1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$here/build}
case $build in /*) ;; *) build=$here/$build ;; esac
runs=5
events=20000
window=100
held=9000
procs=6

while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift ;;
    --events) events=$2; shift ;;
    --window) window=$2; shift ;;
    --held) held=$2; shift ;;
    --procs) procs=$2; shift ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

load=$build/tests/bench/sio-load
server_bin=$build/tools/gst-mesh-server
for b in "$load" "$server_bin" /usr/bin/redis-server; do
  [ -x "$b" ] || { echo "no $b: run tools/setup.sh and tools/build.sh" >&2; exit 1; }
done

work=$(mktemp -d /tmp/cluster-bench.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

redis_port=$(free_port)
setsid /usr/bin/redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
    --appendonly no > "$work/redis.log" 2>&1 &
pids+=("$!"); redis_pid=$!
redis="redis://127.0.0.1:$redis_port"
sleep 0.5

# name kind [args...]: a server on a free port; sets ${name}_port, ${name}_pid
start() {
  local name=$1 kind=$2 port
  shift 2
  port=$(free_port)
  if [ "$kind" = c ]; then
    setsid "$server_bin" --port "$port" --address 127.0.0.1 --max-event-rate 0 "$@" \
        > "$work/$name.log" 2>&1 &
  else
    (cd "$here/tests" && exec setsid node "$here/examples/rooms-server/server.mjs" \
        "$port" --max-event-rate=0 "$@") > "$work/$name.log" 2>&1 &
  fi
  pids+=("$!")
  eval "${name}_port=$port ${name}_pid=$!"
  for i in $(seq 1 60); do
    "$load" --port "$port" --clients 1 --hold 0 --timeout 2 -q > /dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "$name did not come up:" >&2; cat "$work/$name.log" >&2; exit 1
}
start c1 c --redis "$redis"
start c2 c --redis "$redis"
start n1 node "--redis=$redis"
start n2 node "--redis=$redis"
start calone c
start nalone node
echo "redis $redis; C servers $c1_port $c2_port (alone: $calone_port); Node servers $n1_port $n2_port (alone: $nalone_port)"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 1. relay: one sender, one receiver, `candidate` events ---------------------
# name ports: one run, appended to $work/name.txt as "rate p50 p90 p99"
relay_once() {
  local line
  line=$("$load" --ports "$2" --events "$events" --window "$window" --timeout 300 -q) \
      || { echo "relay $1 failed: $line" >&2; exit 1; }
  echo "$(field rate <<< "$line") $(field p50_us <<< "$line") $(field p90_us <<< "$line") $(field p99_us <<< "$line")" >> "$work/$1.txt"
  echo "  $1: $line"
}
scenarios=(
  "C-alone:$calone_port"
  "C-same-server:$c1_port"
  "C-across-servers:$c1_port,$c2_port"
  "C-to-Node:$c1_port,$n1_port"
  "Node-to-C:$n1_port,$c1_port"
  "Node-across-servers:$n1_port,$n2_port"
  "Node-same-server:$n1_port"
  "Node-alone:$nalone_port"
)
echo "== relay: $runs runs x $events events, window $window"
for s in "${scenarios[@]}"; do # warm-up, not counted
  "$load" --ports "${s#*:}" --events 2000 --window "$window" -q > /dev/null
done
for i in $(seq 1 "$runs"); do
  for s in "${scenarios[@]}"; do relay_once "${s%%:*}" "${s#*:}"; done
done

# --- 2. clients held by a 3-node C cluster --------------------------------------
start c3 c --redis "$redis"
echo "== $held clients held by the 3-node C cluster (spread over its servers)"
rss0="$(rss_kb "$c1_pid") $(rss_kb "$c2_pid") $(rss_kb "$c3_pid")"
per=$(((held + procs - 1) / procs))
hold_pids=()
for i in $(seq 1 "$procs"); do
  setsid "$load" --ports "$c1_port,$c2_port,$c3_port" --clients "$per" --hold 3600 \
      --timeout 300 --concurrency $((512 / procs)) --ready-file "$work/ready.$i" -q \
      > "$work/hold.$i" 2>&1 &
  hold_pids+=("$!"); pids+=("$!")
done
deadline=$((SECONDS + 320))
while [ "$(ls "$work"/ready.* 2>/dev/null | wc -l)" -lt "$procs" ] && [ $SECONDS -lt $deadline ]; do
  sleep 0.5
done
got=0
for i in $(seq 1 "$procs"); do got=$((got + $(cat "$work/ready.$i" 2>/dev/null || echo 0))); done
sleep 3
# fan-out: the seed's relay sends each event to every client, so each of
# these goes to all the held clients too, over the three servers
fanout_events=1000
loaded=$("$load" --ports "$c1_port,$c2_port" --events "$fanout_events" --window "$window" --timeout 300 -q || true)
rss1="$(rss_kb "$c1_pid") $(rss_kb "$c2_pid") $(rss_kb "$c3_pid")"
for p in "${hold_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${hold_pids[@]}"; do wait "$p" 2>/dev/null || true; done

# --- table ------------------------------------------------------------------------
echo
echo "== results (medians of $runs runs; load average at start: $load_start)"
printf '| %-20s | %12s | %8s | %8s | %8s |\n' "relay" "events/s" "p50 us" "p90 us" "p99 us"
printf '|%s|%s|%s|%s|%s|\n' "----------------------" "--------------" "----------" "----------" "----------"
for s in "${scenarios[@]}"; do
  n=${s%%:*}
  printf '| %-20s | %12s | %8s | %8s | %8s |\n' "$n" \
      "$(cut -d' ' -f1 "$work/$n.txt" | median)" "$(cut -d' ' -f2 "$work/$n.txt" | median)" \
      "$(cut -d' ' -f3 "$work/$n.txt" | median)" "$(cut -d' ' -f4 "$work/$n.txt" | median)"
done
echo
echo "held: $got of $held clients connected to the 3-node C cluster"
echo "RSS kB per server before: $rss0; with the clients: $rss1"
rate=$(field rate <<< "$loaded")
echo "fan-out while they were held: $fanout_events events from a client of C1, each to the $got held clients and one more on C2: $rate events/s ($(awk -v r="$rate" -v n="$got" 'BEGIN {printf "%.0f", r * (n + 1)}') deliveries/s over the cluster); p50 $(field p50_us <<< "$loaded") us at the receiver on C2"
echo "  $loaded"
