#!/bin/bash
# How fast each software video encoder installed here runs at a call's
# settings: frames per second encoding 300 frames of a moving test
# picture as fast as it can, median of RUNS runs (default 3), at 320x240
# and 640x480. Over 30 fps with room to spare is real time for a call;
# the figure includes starting gst-launch-1.0, so it is a lower bound.
#
# Usage: tests/bench/encoder-speed.sh [RUNS]
set -euo pipefail
runs=${1:-3}
encoders=(
  "vp8enc deadline=1 cpu-used=8 threads=1 lag-in-frames=0"
  "vp9enc deadline=1 cpu-used=8 threads=1 lag-in-frames=0"
  "av1enc usage-profile=realtime cpu-used=10 threads=1"
  "x264enc tune=zerolatency speed-preset=ultrafast"
  "openh264enc"
)
printf '%-60s %9s %9s\n' encoder "320x240" "640x480"
for enc in "${encoders[@]}"; do
  gst-inspect-1.0 --exists "${enc%% *}" || { printf '%-60s not installed\n' "$enc"; continue; }
  line=$(printf '%-60s' "$enc")
  for size in "width=320,height=240" "width=640,height=480"; do
    fps=()
    for ((i = 0; i < runs; i++)); do
      s=$(date +%s%N)
      gst-launch-1.0 -q videotestsrc num-buffers=300 pattern=ball ! \
        "video/x-raw,$size,framerate=30/1" ! $enc ! fakesink >/dev/null 2>&1
      e=$(date +%s%N)
      fps+=("$(echo "300 * 1000000000 / ($e - $s)" | bc)")
    done
    median=$(printf '%s\n' "${fps[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    line+=$(printf ' %9s' "$median")
  done
  echo "$line"
done
