# SPDX-License-Identifier: Apache-2.0
# For the capture scripts with more than two hosts (sourced after lib.sh, not run): a switch
# namespace holding a Linux bridge, and host namespaces plugged into it, all in one private
# network 10.77.N.0/24 (N in 40..49: the attack cases) that exists only inside these namespaces.
#
#   cap_lan NAME N                  switch ns iaso-cap-NAME-sw-PID with bridge br0 (no STP, no
#                                   IPv6 link-local, unknown-unicast flooding off)
#   cap_lan_host NS IDX ADDR...     host ns NS (created) with eth0 plugged into the switch,
#                                   MAC 02:77:N:00:00:IDX (IDX two hex digits), the given
#                                   addresses (ADDR/PLEN) on eth0
#   cap_lan_static                  every host gets a permanent neighbour entry for every other
#                                   host's addresses and the bridge a static entry for every
#                                   MAC, so no ARP and no flooded frame ever shows in a capture
#
# The namespaces are deleted by lib.sh's cleanup. Fixed MACs keep Ethernet headers the same on
# every regeneration.

CAP_LAN_SW=""
CAP_LAN_N=""
CAP_LAN_HOSTS="" # "ns|mac|port|addr addr ..." records, one a line

cap_lan() {
    case "$2" in
    4[0-9]) ;;
    *)
        echo "$0: cap_lan: network $2 outside 10.77.40-49" >&2
        exit 1
        ;;
    esac
    CAP_LAN_SW=iaso-cap-$1-sw-$$
    CAP_LAN_N=$2
    cap_ns "$CAP_LAN_SW"
    ip -n "$CAP_LAN_SW" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
    ip -n "$CAP_LAN_SW" link set br0 addrgenmode none
    ip -n "$CAP_LAN_SW" link set br0 up
}

# cap_lan_host NS IDX ADDR/PLEN...
cap_lan_host() {
    h_ns=$1
    h_idx=$2
    shift 2
    h_mac=02:77:$CAP_LAN_N:00:00:$h_idx
    cap_ns "$h_ns"
    cap_pair "$h_ns" eth0 "$h_mac" "$CAP_LAN_SW" "p$h_idx" "02:77:$CAP_LAN_N:00:ff:$h_idx"
    cap_no_gso "$h_ns" eth0
    ip -n "$CAP_LAN_SW" link set "p$h_idx" master br0
    bridge -n "$CAP_LAN_SW" link set dev "p$h_idx" flood off mcast_flood off learning off
    h_addrs=""
    for a in "$@"; do
        case "$a" in
        *:*) cap_v6 "$h_ns" eth0 "$a" ;;
        *) ip -n "$h_ns" addr add "$a" dev eth0 ;;
        esac
        h_addrs="$h_addrs ${a%/*}"
    done
    CAP_LAN_HOSTS="$CAP_LAN_HOSTS
$h_ns|$h_mac|p$h_idx|$h_addrs"
}

# cap_lan_addr NS ADDR/PLEN: one more address on a host already plugged in (before
# cap_lan_static).
cap_lan_addr() {
    case "$2" in
    *:*) cap_v6 "$1" eth0 "$2" ;;
    *) ip -n "$1" addr add "$2" dev eth0 ;;
    esac
    CAP_LAN_HOSTS=$(echo "$CAP_LAN_HOSTS" | sed "s#^\($1|.*\)\$#\1 ${2%/*}#")
}

cap_lan_static() {
    echo "$CAP_LAN_HOSTS" | while IFS='|' read -r ns mac port addrs; do
        [ -n "$ns" ] || continue
        bridge -n "$CAP_LAN_SW" fdb replace "$mac" dev "$port" master static
        echo "$CAP_LAN_HOSTS" | while IFS='|' read -r ons _omac _oport _oaddrs; do
            [ -n "$ons" ] && [ "$ons" != "$ns" ] || continue
            for a in $addrs; do
                ip -n "$ons" neigh replace "$a" lladdr "$mac" dev eth0 nud permanent
            done
        done
    done
}

# cap_lan_route NS VIA: default route of host NS through the router address VIA on the LAN.
cap_lan_route() {
    ip -n "$1" route add default via "$2" dev eth0
}

# cap_lan_span: a SPAN (mirror) port on the switch: every frame that enters the bridge from any
# host port is copied to the veth span0, whose other end is eth0 of the sensor namespace
# $CAP_LAN_SENSOR (no address, sends nothing), where cap_start captures it
# (cap_start "$CAP_LAN_SENSOR" OUT -i eth0 ...): a sensor on a switch's mirror port sees the
# LAN, each frame once, whoever sends it to whom. Call after the last cap_lan_host.
cap_lan_span() {
    CAP_LAN_SENSOR=${CAP_LAN_SW%-sw-*}-span-$$
    cap_ns "$CAP_LAN_SENSOR"
    cap_pair "$CAP_LAN_SW" span0 "02:77:$CAP_LAN_N:00:fe:fe" "$CAP_LAN_SENSOR" eth0 \
        "02:77:$CAP_LAN_N:00:fe:ff"
    for p in $(echo "$CAP_LAN_HOSTS" | cut -d'|' -f3); do
        tc -n "$CAP_LAN_SW" qdisc add dev "$p" handle ffff: ingress
        # u32 matching everything (this kernel has no matchall classifier)
        tc -n "$CAP_LAN_SW" filter add dev "$p" parent ffff: protocol all u32 match u32 0 0 \
            action mirred egress mirror dev span0
    done
}
