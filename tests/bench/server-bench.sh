#!/bin/bash
# Signalling-server benchmark: gst-mesh-server against the seed's Node
# server (tests/seed/server.ts), in the same run, with the same load
# generator (tests/bench/sio-load.c). See server-bench.md.
#
#   tests/bench/server-bench.sh [--runs N] [--events E] [--window W]
#       [--payload BYTES] [--rss-counts "1000 5000"] [--held N] [--procs K]
#       [--no-node-held] [--out DIR]
#
# Env: BUILD_DIR (default build), OURS_PORT (default 4100), CC.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$here/build}
case $build in /*) ;; *) build=$here/$build ;; esac
ours_port=${OURS_PORT:-4100}
node_port=4000 # fixed in the seed's server.ts
runs=5
events=100000
window=100
payload=200
rss_counts="1000 5000"
held=10000
procs=8
node_held=1
out=

while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift ;;
    --events) events=$2; shift ;;
    --window) window=$2; shift ;;
    --payload) payload=$2; shift ;;
    --rss-counts) rss_counts=$2; shift ;;
    --held) held=$2; shift ;;
    --procs) procs=$2; shift ;;
    --no-node-held) node_held=0 ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

work=$(mktemp -d /tmp/server-bench.XXXXXX)
[ -n "$out" ] && mkdir -p "$out"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
  done
  sleep 0.5
  for p in "${pids[@]}"; do
    kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
  done
  if [ -n "$out" ]; then cp "$work"/*.log "$work"/*.txt "$out"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One socket per client on each side, plus the server's own.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((held + 100)) ]; then
  echo "ulimit -n is $(ulimit -n), below --held $held + 100; lowering --held" >&2
  held=$(($(ulimit -n) - 100))
fi

# --- the load generator: the meson-built one, or compiled here ------------
server_bin=$build/tools/gst-mesh-server
[ -x "$server_bin" ] || { echo "no $server_bin: run tools/build.sh" >&2; exit 1; }
load=$build/tests/bench/sio-load
if [ ! -x "$load" ] || [ "$here/tests/bench/sio-load.c" -nt "$load" ]; then
  load=$work/sio-load
  ${CC:-cc} -O2 -I"$here" "$here/tests/bench/sio-load.c" -o "$load" \
      -L"$build/gst/mesh" -lgstmesh-1.0 -Wl,-rpath,"$build/gst/mesh" \
      $(pkg-config --cflags --libs libsoup-3.0 json-glib-1.0 gio-2.0)
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in $ours_port $node_port; do
  port_free "$p" || { echo "port $p is in use" >&2; exit 1; }
done

# --- the servers, each in its own process group ------------------------------
# Both log one line per connection and per relayed event to a file, as they
# do on a console.
# No event rate limit: the relay benchmark floods on purpose.
setsid "$server_bin" --port "$ours_port" --max-event-rate 0 > "$work/ours.log" 2>&1 &
ours_pid=$!; pids+=("$ours_pid")
(cd "$here/tests" && exec setsid node --import tsx seed/server.ts) \
    > "$work/node.log" 2>&1 &
node_pid=$!; pids+=("$node_pid")

wait_ready() {
  local i
  for i in $(seq 1 60); do
    "$load" --port "$1" --clients 1 --hold 0 --timeout 2 -q > /dev/null 2>&1 \
        && return 0
    sleep 0.5
  done
  echo "server on port $1 did not come up" >&2; exit 1
}
wait_ready "$ours_port"
wait_ready "$node_port"
echo "servers: ours pid $ours_pid port $ours_port, node pid $node_pid port $node_port"
# Other work on the machine skews every figure: say how busy it was.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
n_fds() { ls "/proc/$1/fd" | wc -l; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
hz=$(getconf CLK_TCK)

# --- 1. relay throughput -------------------------------------------------------
# A 1:1 call: one sender, one receiver, `candidate` events, a closed window.
relay_once() { # name port pid -> appends "rate cpu_per_event_us" to $work/name.txt
  local t0 t1 line rate cpu
  t0=$(cpu_ticks "$3")
  line=$("$load" --port "$2" --events "$events" --window "$window" \
      --payload "$payload" --timeout 300 -q) || { echo "relay run failed: $line" >&2; exit 1; }
  t1=$(cpu_ticks "$3")
  rate=$(field rate <<< "$line")
  cpu=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v e="$events" 'BEGIN {printf "%.1f", d / hz / e * 1e6}')
  echo "$rate $cpu $(field p50_us <<< "$line") $(field p99_us <<< "$line") $(field load_cpu_s <<< "$line")" >> "$work/$1.txt"
  echo "  $1: $line server_cpu_us_per_event=$cpu"
}
echo "== relay throughput: $runs runs x $events events, window $window, payload ~$payload B"
# Warm-up (Node's JIT, both allocators), not counted.
"$load" --port "$ours_port" --events 20000 --window "$window" -q > /dev/null
"$load" --port "$node_port" --events 20000 --window "$window" -q > /dev/null
for i in $(seq 1 "$runs"); do
  relay_once ours "$ours_port" "$ours_pid"
  relay_once node "$node_port" "$node_pid"
done
for s in ours node; do
  eval "${s}_rate=$(cut -d' ' -f1 "$work/$s.txt" | median)"
  eval "${s}_cpu=$(cut -d' ' -f2 "$work/$s.txt" | median)"
  eval "${s}_p50=$(cut -d' ' -f3 "$work/$s.txt" | median)"
  eval "${s}_p99=$(cut -d' ' -f4 "$work/$s.txt" | median)"
done

# --- holding clients: K generator processes, each its own main loop -----------
hold_start() { # port n -> starts generators, waits for them; sets hold_got
  local port=$1 n=$2 k=$procs per i deadline v
  [ "$n" -lt $((k * 50)) ] && k=1
  per=$(((n + k - 1) / k))
  rm -f "$work"/ready.* "$work"/hold.*
  hold_pids=()
  for i in $(seq 1 "$k"); do
    [ $((per * i)) -gt "$n" ] && per=$((n - per * (i - 1)))
    # 8 x 64 handshakes in flight stay within the servers' listen backlog
    # (511): beyond it the kernel drops SYNs and clients retry seconds later.
    setsid "$load" --port "$port" --clients "$per" --hold 3600 --timeout 300 \
        --concurrency $((512 / k)) \
        --ready-file "$work/ready.$i" -q > "$work/hold.$i" 2>&1 &
    hold_pids+=("$!"); pids+=("$!")
  done
  deadline=$((SECONDS + 320))
  while [ "$(ls "$work"/ready.* 2>/dev/null | wc -l)" -lt "$k" ]; do
    [ $SECONDS -gt $deadline ] && break
    sleep 0.5
  done
  hold_got=0
  for i in $(seq 1 "$k"); do
    v=$(cat "$work/ready.$i" 2>/dev/null || true)
    hold_got=$((hold_got + ${v:-0}))
  done
}
hold_stop() { # server pid -> stops generators, waits until the server let go;
  # sets hold_still (clients still open when stopped)
  local p i v
  for p in "${hold_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${hold_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  hold_still=0
  for i in "$work"/hold.*; do
    v=$(field still_open < "$i" | tail -1 || true)
    hold_still=$((hold_still + ${v:-0}))
  done
  for i in $(seq 1 100); do
    [ "$(n_fds "$1")" -lt 50 ] && break
    sleep 0.2
  done
}

# --- 2. resident memory per client ---------------------------------------------
echo "== resident memory per connected client (VmRSS)"
rss_line=()
for s in ours node; do
  eval "port=\$${s}_port pid=\$${s}_pid"
  sleep 1
  rss0=$(rss_kb "$pid")
  line="$s: rss0=${rss0}kB"
  for n in $rss_counts; do
    hold_start "$port" "$n"; got=$hold_got
    sleep 3 # let handshake buffers go and Node's heap settle
    rss=$(rss_kb "$pid")
    per=$(awk -v a="$rss" -v b="$rss0" -v n="$got" 'BEGIN {printf "%.1f", n ? (a - b) / n : 0}')
    hold_stop "$pid"; still=$hold_still
    line="$line n=$got rss=${rss}kB per_client=${per}kB"
    eval "${s}_per_$n=$per ${s}_got_$n=$got"
    echo "  $s: $got/$n connected, $still still open at the end, RSS ${rss0} -> ${rss} kB: ${per} kB/client"
  done
  rss_line+=("$line")
done

# --- 3. many concurrent clients --------------------------------------------------
held_test() { # name port pid
  local got t0 c0 c1 rss fds still secs
  t0=$SECONDS
  hold_start "$2" "$held"; got=$hold_got
  secs=$((SECONDS - t0))
  rss=$(rss_kb "$3"); fds=$(n_fds "$3")
  # Idle cost of holding them: server CPU over 30 s (pings every 25 s).
  c0=$(cpu_ticks "$3"); sleep 30; c1=$(cpu_ticks "$3")
  hold_stop "$3"; still=$hold_still
  eval "${1}_held=$got ${1}_held_still=$still ${1}_held_rss=$rss ${1}_held_secs=$secs"
  eval "${1}_held_idle=$(awk -v d=$((c1 - c0)) -v hz="$hz" 'BEGIN {printf "%.1f", d / hz / 30 * 100}')"
  echo "  $1: $got/$held connected in ${secs}s, server fds $fds, RSS $rss kB, idle CPU $(eval echo \$${1}_held_idle)% over 30 s, $still still open after it"
}
echo "== $held concurrent WebSocket clients ($procs generator processes)"
held_test ours "$ours_port" "$ours_pid"
if [ "$node_held" = 1 ]; then
  held_test node "$node_port" "$node_pid"
else
  node_held=-; node_held_still=-; node_held_rss=-; node_held_idle=-; node_held_secs=-
fi
alive() { kill -0 "$1" 2>/dev/null && echo yes || echo "NO (crashed)"; }

# --- table ---------------------------------------------------------------------------
n_max=${rss_counts##* }
echo
echo "== results ($(nproc) cores, $(uname -r); load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
printf '%-38s %14s %14s %10s\n' "" "gst-mesh-server" "seed (Node)" "ratio"
printf '%-38s %14s %14s %10s\n' "relay events/s (median of $runs)" "$ours_rate" "$node_rate" \
    "$(awk -v a="$ours_rate" -v b="$node_rate" 'BEGIN {printf "%.2fx", a / b}')"
printf '%-38s %14s %14s %10s\n' "server CPU us per relayed event" "$ours_cpu" "$node_cpu" \
    "$(awk -v a="$ours_cpu" -v b="$node_cpu" 'BEGIN {printf "%.2fx", b / a}')"
printf '%-38s %14s %14s\n' "latency p50 / p99 us" "$ours_p50/$ours_p99" "$node_p50/$node_p99"
for n in $rss_counts; do
  eval "a=\$ours_per_$n b=\$node_per_$n"
  printf '%-38s %14s %14s %10s\n' "RSS kB per client at $n" "$a" "$b" \
      "$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2fx", (a > 0) ? b / a : 0}')"
done
printf '%-38s %14s %14s\n' "$held clients: connected" "$ours_held" "$node_held"
printf '%-38s %14s %14s\n' "  still open after 30 s" "$ours_held_still" "$node_held_still"
printf '%-38s %14s %14s\n' "  seconds to connect all" "$ours_held_secs" "$node_held_secs"
printf '%-38s %14s %14s\n' "  server RSS kB" "$ours_held_rss" "$node_held_rss"
printf '%-38s %14s %14s\n' "  server idle CPU %" "$ours_held_idle" "$node_held_idle"
printf '%-38s %14s %14s\n' "server alive at the end" "$(alive "$ours_pid")" "$(alive "$node_pid")"
echo
echo "targets:"
awk -v a="$ours_rate" -v b="$node_rate" 'BEGIN {printf "  throughput >= 5x Node:        %.2fx  %s\n", a / b, (a >= 5 * b) ? "MET" : "NOT MET"}'
eval "a=\$ours_per_$n_max b=\$node_per_$n_max"
awk -v a="$a" -v b="$b" -v n="$n_max" 'BEGIN {printf "  RSS/client <= 1/5 Node (n=%s): %.2fx  %s\n", n, (a > 0) ? b / a : 0, (a * 5 <= b) ? "MET" : "NOT MET"}'
printf '  %s clients held:           %s\n' "$held" \
    "$([ "$ours_held" -ge "$held" ] && [ "$ours_held_still" -ge "$held" ] && echo MET || echo "NOT MET ($ours_held connected, $ours_held_still still open)")"
