#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# ipv6: real curl over IPv6 to a python http.server, plus pings, between two private namespaces.
# Addresses are added with nodad so they work at once.
#
#   fd77::1 (ns iaso-cli-PID)  <-- veth -->  [fd77::2]:8080 (ns iaso-srv-PID)
#   client port 40601: two GETs on one keep-alive connection
#   3 ICMPv6 echo requests + replies (peer.py, raw socket; the kernel answers)
# Neighbour discovery for fd77:: is kept (ICMPv6 types 135/136); router solicitations and MLD
# reports do not happen: the veths have no link-local address (see cap_pair).
. "$(dirname "$0")/lib.sh"
cap_need_root
out=$(cap_outdir ipv6)
cli=iaso-cli-$$
srv=iaso-srv-$$
www=$(mktemp -d)
trap 'rm -rf "$www"; cap_cleanup' EXIT

cap_ns "$cli"
cap_ns "$srv"
cap_pair "$cli" eth0 02:77:06:00:00:01 "$srv" eth0 02:77:06:00:00:02
cap_v6 "$cli" eth0 fd77::1/64
cap_v6 "$srv" eth0 fd77::2/64
printf 'hello over IPv6\n' >"$www/index.txt"
printf '{"resourceType":"Observation","id":"v6"}\n' >"$www/obs.json"

cap_bg "$srv" sh -c "exec $PY -m http.server --protocol HTTP/1.1 -b fd77::2 -d $www 8080 \
    >/dev/null 2>&1"
cap_wait_port "$srv" 8080

cap_start "$srv" "$out/input.pcap" -i eth0 -s 512 \
    'ip6 and (tcp or (icmp6 and (ip6[40] == 128 or ip6[40] == 129 or ip6[40] == 135 or ip6[40] == 136)))'
ip netns exec "$cli" curl -sS --max-time 10 -A iaso-test/1 --local-port 40601 \
    'http://[fd77::2]:8080/index.txt' 'http://[fd77::2]:8080/obs.json' >/dev/null
ip netns exec "$cli" $PY "$(dirname "$0")/peer.py" ping fd77::2 3
cap_stop
echo "$0: wrote $out/input.pcap" >&2
