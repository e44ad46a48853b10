#!/bin/bash
# Install everything gst-mesh needs on a fresh Debian 12, as root.
# Idempotent: apt is skipped when every package is already installed (so a
# re-run is fast and works offline), npm when node_modules matches the lock.
#
# Usage: tools/setup.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODE_DIR="$ROOT/tests"          # tests/package.json: seed server, page, helpers

say() { echo "setup: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: must run as root (apt-get install)" >&2
  exit 1
fi

PKGS=(
  # build
  meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  # libraries
  libglib2.0-dev libjson-glib-dev libsoup-3.0-dev libssl-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libhiredis-dev    # gst-mesh-server --redis: the cluster's Redis client
  # runtime
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  gstreamer1.0-nice
  # tests
  iproute2 util-linux valgrind chromium ca-certificates procps curl
  nginx-light       # reverse-proxy tests: started by them, on test ports
  redis-server      # cluster tests: started by them, on test ports
  coturn nftables conntrack  # simulated Internet (tests/net): STUN/TURN, NAT routers
  libnss3-tools     # certutil: Chromium trusts the test TURN server's certificate
  python3-gi gir1.2-gstreamer-1.0  # examples/data-chat.py and its test
)

# Keep a Node that is already there (e.g. NodeSource's 20.x): Debian's npm
# package would drag in Debian's nodejs 18 and fight with it.
node_ok() {
  command -v node >/dev/null && command -v npm >/dev/null || return 1
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || return 1
  [ "$major" -ge 18 ]
}
if node_ok; then
  say "node $(node --version) and npm $(npm --version 2>/dev/null) already on PATH, not installing Debian's"
else
  PKGS+=(nodejs npm)
fi

missing=()
for p in "${PKGS[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  say "apt: all ${#PKGS[@]} packages already installed"
else
  say "apt: installing ${#missing[@]} missing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # Servers (nginx, coturn) are started by the tests that need them, on test ports:
  # keep their packages from starting a system instance on install.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm: reinstall only when package.json or the lock changed since the last
# successful install (a stamp with their hashes sits inside node_modules).
cd "$NODE_DIR"
stamp=node_modules/.gst-mesh-setup-stamp
want=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  say "npm: ${NODE_DIR#"$ROOT"/}/node_modules up to date"
else
  if [ -f package-lock.json ]; then
    say "npm: npm ci in ${NODE_DIR#"$ROOT"/}"
    npm ci --no-audit --no-fund
  else
    say "npm: npm install in ${NODE_DIR#"$ROOT"/} (no lock yet)"
    npm install --no-audit --no-fund
    want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
  fi
  echo "$want" > "$stamp"
fi

say "done"
