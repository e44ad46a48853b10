#!/bin/sh
# Builds the libFuzzer targets with clang and runs each for DURATION seconds
# (default 60) on a working copy of its seed corpus. New crashers are left
# in $OUT/<target>/ (default build-fuzz/fuzz-out); copy the ones worth
# keeping into tests/fuzz/corpus/<target>/, where the regression tests
# (meson test --suite fuzz) run them from then on.
#
#   tests/fuzz/run.sh 120              # all targets, 2 minutes each
#   tests/fuzz/run.sh 600 http         # one target
#
# Env: BUILD_DIR (build-fuzz), OUT, JOBS (parallel fuzz jobs per target, 1).
set -eu

DURATION=${1:-60}
shift || true
TARGETS=${*:-packet signalling http}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$SRC/build-fuzz}
OUT=${OUT:-$BUILD_DIR/fuzz-out}
JOBS=${JOBS:-1}

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  CC=clang meson setup "$BUILD_DIR" "$SRC" -Dfuzz=true -Dbuildtype=debug \
    -Db_lundef=false
fi
for t in $TARGETS; do
  ninja -C "$BUILD_DIR" "tests/fuzz/fuzz_$t"
done

status=0
for t in $TARGETS; do
  work="$OUT/$t"
  mkdir -p "$work/corpus"
  # libFuzzer's per-input leak check: on for the pure targets; off for
  # http, where libsoup 3.2 leaks a GSocket per connection it accepts
  # (tests/servers/valgrind.supp).
  leaks=1
  [ "$t" = http ] && leaks=0
  echo "== fuzz_$t for ${DURATION}s"
  ASAN_OPTIONS="detect_leaks=$leaks:${ASAN_OPTIONS:-}" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}" \
    "$BUILD_DIR/tests/fuzz/fuzz_$t" -max_total_time="$DURATION" \
      -max_len=16384 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      -jobs="$JOBS" -workers="$JOBS" -detect_leaks=$leaks \
      -artifact_prefix="$work/" "$work/corpus" "$SRC/tests/fuzz/corpus/$t" \
      > "$work/log" 2>&1 || status=1
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "$work/log" || true
  ls "$work" | grep -E '^(crash|leak|timeout|oom)-' | sed "s|^|  $work/|" || true
done
exit $status
