#!/bin/sh
# gst-mesh tests: cut or impair the UDP media path inside the test network
# namespace (tools/netns-run), leaving TCP (the signalling) untouched.
#
# Usage: tests/faults/net.sh cut          drop every UDP packet
#        tests/faults/net.sh ipv4-only    drop IPv6 UDP only, so that ICE
#                                         picks the IPv4 pair
#        tests/faults/net.sh impair TUN   ipv4-only, and every IPv4 UDP
#                                         packet through the TUN device TUN,
#                                         which netimp (tests/faults/netimp.c)
#                                         serves
#        tests/faults/net.sh clear        back to a plain network
#        tests/faults/net.sh show         the rules in place, with counters
#
# Where media goes in the namespace: every peer has 10.213.0.1 on mesh0,
# so IPv4 between two pipelines goes over lo; but libnice also gathers the
# IPv6 link-local addresses of mesh0 and mesh1, and a pair between those
# crosses the veth (or lo). So a cut drops UDP leaving lo, mesh0 and mesh1,
# IPv4 and IPv6: tc u32 filters on their clsact egress that redirect
# (mirred) to a veth whose peer is down, where packets vanish. The
# impairment only handles IPv4 on lo: a link-local IPv6 packet written
# back into a TUN device would not be delivered (its address belongs to
# mesh0 or mesh1), so IPv6 UDP is dropped and ICE uses IPv4; apply
# ipv4-only before the call starts, then impair.
#
# Why not netem or nftables: this kernel has no sch_netem, no prio qdisc
# and no gact action, and nft/iptables are not installed; clsact, u32,
# mirred, veth and tun are there.
set -eu

if [ "${GST_MESH_NETNS:-}" != 1 ]; then
  echo "net.sh: refusing to change the network outside tools/netns-run" >&2
  exit 2
fi

DEVS="lo mesh0 mesh1"
BLACKHOLE=meshcut0

clear_rules() {
  for d in $DEVS; do
    tc qdisc del dev "$d" clsact 2>/dev/null || true
  done
}

add_clsact() {
  for d in $DEVS; do
    tc qdisc add dev "$d" clsact
  done
}

blackhole() {
  if ! ip link show "$BLACKHOLE" >/dev/null 2>&1; then
    ip link add "$BLACKHOLE" type veth peer name meshcut1
    # meshcut1 stays down: no carrier, whatever is sent is dropped
    ip link set "$BLACKHOLE" up
  fi
}

# redirect_udp DEV FAMILY(ip|ipv6) TARGET
redirect_udp() {
  if [ "$2" = ip ]; then
    prio=1 match="match ip protocol 17 0xff"
  else
    prio=2 match="match ip6 protocol 17 0xff"
  fi
  # shellcheck disable=SC2086
  tc filter add dev "$1" egress protocol "$2" prio $prio u32 $match \
    action mirred egress redirect dev "$3"
}

case "${1:-}" in
  cut)
    blackhole
    clear_rules
    add_clsact
    for d in $DEVS; do
      redirect_udp "$d" ip "$BLACKHOLE"
      redirect_udp "$d" ipv6 "$BLACKHOLE"
    done
    ;;
  ipv4-only)
    blackhole
    clear_rules
    add_clsact
    for d in $DEVS; do
      redirect_udp "$d" ipv6 "$BLACKHOLE"
    done
    ;;
  impair)
    dev=${2:?usage: net.sh impair TUN}
    blackhole
    ip link set "$dev" up
    # the packets come back in with our own address as their source
    sysctl -qw "net.ipv4.conf.$dev.accept_local=1"
    sysctl -qw "net.ipv4.conf.$dev.rp_filter=0"
    sysctl -qw net.ipv4.conf.all.rp_filter=0
    clear_rules
    add_clsact
    for d in $DEVS; do
      redirect_udp "$d" ipv6 "$BLACKHOLE"
    done
    redirect_udp lo ip "$dev"
    ;;
  clear)
    clear_rules
    ;;
  show)
    for d in $DEVS; do
      echo "== $d"
      tc -s filter show dev "$d" egress
    done
    ;;
  *)
    echo "usage: $0 cut | ipv4-only | impair TUN | clear | show" >&2
    exit 2
    ;;
esac
