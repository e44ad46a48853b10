#!/bin/bash
# LeakSanitizer over the tests that make calls: builds gst-mesh with
# AddressSanitizer into build-asan (or $ASAN_BUILD_DIR), runs the gst-check
# suites (meshsignal, rooms, faults, tls, sioclient) and the server suites
# inside a private network namespace, and fails if any process of ours
# (the test programs, gst-mesh-server) reports a leak or a memory error.
#
# Usage: tools/leak-check.sh [meson test args...]
#        (default: --suite calls --suite server; e.g. "rooms" runs one)
#
# About 10 minutes on 2 cores; not part of tools/test.sh for that reason.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ASAN_BUILD_DIR:-$here/build-asan}

if [ "${GST_MESH_NETNS:-}" != 1 ]; then
  bash "$here/tools/setup.sh"
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$here" -Dtests=enabled -Db_sanitize=address \
      -Db_lundef=false
  fi
  ninja -C "$build"
  exec "$here/tools/netns-run" "$0" "$@"
fi

logs=$(mktemp -d /tmp/gst-mesh-lsan.XXXXXX)
# - libproxy (loaded by GIO to resolve proxies) throws C++ exceptions;
#   ASan's __cxa_throw wrapper needs libstdc++ loaded before it is used.
# - fast_unwind_on_malloc=0: Debian's GLib has no frame pointers, and the
#   suppressions in tests/lsan.supp match frames below it.
# - intercept_tls_get_addr=0: gcc 12's LeakSanitizer crashes ("Tracer
#   caught signal 11") reading the dynamic TLS of threads that used
#   GnuTLS, which GIO loads with dlopen. Without it, dynamic TLS is not
#   searched for pointers: a block held only there would be reported as
#   lost, never the other way round.
export LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libstdc++.so.6
export ASAN_OPTIONS="detect_leaks=1:verify_asan_link_order=0:fast_unwind_on_malloc=0:malloc_context_size=40:intercept_tls_get_addr=0:log_exe_name=1:log_path=$logs/asan"
export LSAN_OPTIONS="suppressions=$here/tests/lsan.supp:print_suppressions=0"

status=0
[ $# -eq 0 ] && set -- --suite calls --suite server
# the browser suites drive Chromium and Node, which carry no ASan
meson test -C "$build" --print-errorlogs --num-processes 1 \
  --no-suite browser "$@" || status=1

reports=$(grep -l "ERROR: \(Leak\|Address\)Sanitizer\|Sanitizer has encountered" \
  "$logs"/asan.* 2>/dev/null || true)
if [ -n "$reports" ]; then
  status=1
  for f in $reports; do
    echo "== $f"
    cat "$f"
  done
  echo "== LEAKS OR MEMORY ERRORS"
else
  echo "== no leak and no memory error reported"
fi
exit $status
