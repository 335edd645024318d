# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the capture scripts (sourced, not run).
#
# Every script builds its own network namespaces joined by veth pairs, with private addresses
# (10.77.x.x, fd77::/64) that exist only inside those namespaces, so no packet ever leaves this
# machine. The namespaces are deleted by an EXIT trap even when the script fails half-way.
#
# Namespace names carry the script's PID so that two runs (or two cases run in parallel) never
# collide, and the cleanup removes exactly what this run created.

set -eu

CAP_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck disable=SC2034 # PY and CAP_LAST are used by the scripts that source this file
PY=/usr/bin/python3 # Debian's python with scapy, not a pyenv shim
CAP_NS=""           # namespaces created by this run, deleted on exit
CAP_PIDS=""         # background processes started by this run, killed on exit
CAP_FILES=""        # temporary files of this run, removed on exit

cap_cleanup() {
    for p in $CAP_PIDS; do
        kill "$p" 2>/dev/null || true
    done
    for p in $CAP_PIDS; do
        wait "$p" 2>/dev/null || true
    done
    for ns in $CAP_NS; do
        ip netns del "$ns" 2>/dev/null || true
    done
    for f in $CAP_FILES; do
        rm -f "$f"
    done
}
trap cap_cleanup EXIT
trap 'exit 130' INT TERM

cap_need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "$0: needs root (creates network namespaces)" >&2
        exit 1
    fi
}

# cap_ns NAME: create a namespace with loopback up; records it for cleanup.
cap_ns() {
    ip netns add "$1"
    CAP_NS="$CAP_NS $1"
    ip -n "$1" link set lo up
}

# cap_pair NS_A DEV_A MAC_A NS_B DEV_B MAC_B: a veth pair between two namespaces, fixed MACs so
# the captures' Ethernet headers do not change from one regeneration to the next.
cap_pair() {
    tmpa="cap$$a"
    tmpb="cap$$b"
    ip link add "$tmpa" type veth peer name "$tmpb"
    ip link set "$tmpa" netns "$1"
    ip link set "$tmpb" netns "$4"
    ip -n "$1" link set "$tmpa" name "$2"
    ip -n "$4" link set "$tmpb" name "$5"
    ip -n "$1" link set "$2" address "$3"
    ip -n "$4" link set "$5" address "$6"
    # No link-local IPv6 address: no duplicate address detection, router solicitations or MLD
    # reports popping up at timer-chosen moments in the captures.
    ip -n "$1" link set "$2" addrgenmode none
    ip -n "$4" link set "$5" addrgenmode none
    ip -n "$1" link set "$2" up
    ip -n "$4" link set "$5" up
}

# cap_no_gso NS DEV: no segmentation offload on DEV, so TCP leaves in MSS-sized segments as on a
# real wire (veth otherwise passes 64 KB super-segments straight to the capture).
cap_no_gso() {
    ip -n "$1" link set "$2" gso_max_size 1500
}

# cap_v6 NS DEV ADDR/PLEN: an IPv6 address usable at once (no duplicate address detection).
cap_v6() {
    ip -n "$1" -6 addr add "$3" dev "$2" nodad
}

# cap_start NS OUTFILE tcpdump-args...: start tcpdump in NS; returns when it is listening. It
# writes to a temporary file next to OUTFILE that cap_stop renames into place, so an
# interrupted run never leaves a half-written capture where the committed one was.
# --immediate-mode and -U hand each packet to the file at once (libpcap's TPACKET_V3 ring
# otherwise holds packets for up to a second, and they would be lost when we stop it); -Z root
# keeps the file writable (Debian's tcpdump otherwise drops privileges to the tcpdump user).
cap_start() {
    cap_ns_=$1
    CAP_FINAL=$2
    CAP_TMP="$2.tmp$$"
    CAP_LOG="$2.log$$"
    CAP_FILES="$CAP_FILES $CAP_TMP $CAP_LOG"
    shift 2
    ip netns exec "$cap_ns_" tcpdump -n -U --immediate-mode -Z root -w "$CAP_TMP" "$@" \
        2>"$CAP_LOG" &
    CAP_TCPDUMP=$!
    CAP_PIDS="$CAP_PIDS $CAP_TCPDUMP"
    i=0
    while ! grep -q "listening on" "$CAP_LOG" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "$0: tcpdump did not start:" >&2
            cat "$CAP_LOG" >&2
            exit 1
        fi
        sleep 0.05
    done
}

# cap_stop: stop the tcpdump started by cap_start, wait until the file is complete, and move it
# to the OUTFILE given to cap_start.
cap_stop() {
    sleep 0.3
    # TERM, not INT: a background job of a non-interactive shell ignores SIGINT.
    kill -TERM "$CAP_TCPDUMP"
    wait "$CAP_TCPDUMP" 2>/dev/null || true
    CAP_PIDS=$(echo "$CAP_PIDS" | tr ' ' '\n' | grep -vx "$CAP_TCPDUMP" | tr '\n' ' ' || true)
    grep -E "packets (captured|received|dropped)" "$CAP_LOG" >&2 || true
    # A packet the kernel dropped (tcpdump's ring full, on a busy machine) is missing from the
    # file although it crossed the wire: such a capture is not what it claims to be.
    if grep -qE "^[1-9][0-9]* packets dropped by kernel" "$CAP_LOG"; then
        echo "$0: tcpdump lost packets; run again (or give cap_start a bigger -B)" >&2
        exit 1
    fi
    rm -f "$CAP_LOG"
    mv "$CAP_TMP" "$CAP_FINAL"
}

# cap_bg NS command...: run a command in the background inside NS; killed on exit.
cap_bg() {
    cap_bgns_=$1
    shift
    ip netns exec "$cap_bgns_" "$@" &
    CAP_PIDS="$CAP_PIDS $!"
    # shellcheck disable=SC2034
    CAP_LAST=$!
}

# cap_wait_port NS PORT [tcp|udp]: wait until something listens on PORT inside NS.
cap_wait_port() {
    flag=-ltn
    [ "${3:-tcp}" = udp ] && flag=-lun
    i=0
    while ! ip netns exec "$1" ss $flag | grep -q "[:.]$2 "; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "$0: nothing listens on port $2 in $1" >&2
            exit 1
        fi
        sleep 0.05
    done
}

# cap_outdir CASE: the case's directory under tests/pcap (or under $IASO_PCAP_OUT, to try the
# scripts without touching the committed captures), created if missing.
cap_outdir() {
    d="${IASO_PCAP_OUT:-$CAP_ROOT/tests/pcap}/$1"
    mkdir -p "$d"
    echo "$d"
}
