#!/bin/bash
# Set up the machine (tools/setup.sh) and build gst-mesh into ./build
# (or $BUILD_DIR). Safe to run again: each step skips what is done.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}

bash "$here/tools/setup.sh"
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$here" -Dtests=enabled
fi
ninja -C "$build"
