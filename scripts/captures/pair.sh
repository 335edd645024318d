# SPDX-License-Identifier: Apache-2.0
# For the application-protocol capture scripts (sourced after lib.sh, not run): one client and
# one server namespace joined by a veth pair, no segmentation offload, IPv4 (and IPv6) addresses.
#
#   cap_client_server CASE N   client ns iaso-cap-CASE-c-PID at 10.77.N.1 / fd77:N::1,
#                              server ns iaso-cap-CASE-s-PID at 10.77.N.2 / fd77:N::2 (N in 30..39)
#
# Sets $cli, $srv (namespace names), $cip, $sip, $cip6, $sip6. The namespaces are deleted by
# lib.sh's cleanup. Fixed MACs 02:77:N:00:00:01 and :02 keep Ethernet headers the same on every
# regeneration.

cap_client_server() {
    case "$2" in
    3[0-9]) ;;
    *)
        echo "$0: cap_client_server: network $2 outside 10.77.30-39" >&2
        exit 1
        ;;
    esac
    cli=iaso-cap-$1-c-$$
    srv=iaso-cap-$1-s-$$
    cip=10.77.$2.1
    sip=10.77.$2.2
    cip6=fd77:$2::1
    sip6=fd77:$2::2
    cap_ns "$cli"
    cap_ns "$srv"
    cap_pair "$cli" eth0 "02:77:$2:00:00:01" "$srv" eth0 "02:77:$2:00:00:02"
    cap_no_gso "$cli" eth0
    cap_no_gso "$srv" eth0
    ip -n "$cli" addr add "$cip/24" dev eth0
    ip -n "$srv" addr add "$sip/24" dev eth0
    cap_v6 "$cli" eth0 "$cip6/64"
    cap_v6 "$srv" eth0 "$sip6/64"
}

# cap_in NS command...: run a command inside NS in the foreground.
cap_in() {
    cap_inns_=$1
    shift
    ip netns exec "$cap_inns_" "$@"
}
