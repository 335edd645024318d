#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# pcapng: real traffic written as pcapng. tcpdump cannot write pcapng, so tcpdump records a
# nanosecond-resolution pcap and editcap converts it: the result has a section header block, an
# interface description block with if_tsresol = 9 (nanoseconds), and enhanced packet blocks.
#
#   10.77.7.1 (ns iaso-cli-PID)  <-- veth -->  10.77.7.2:8080 (ns iaso-srv-PID)
#   one curl (client port 40701, two requests on one connection) and one UDP exchange (41701 -> 53)
. "$(dirname "$0")/lib.sh"
cap_need_root
out=$(cap_outdir pcapng)
cli=iaso-cli-$$
srv=iaso-srv-$$
peer="$(dirname "$0")/peer.py"
www=$(mktemp -d)
raw=$(mktemp --suffix=.pcap)
trap 'rm -rf "$www" "$raw"; cap_cleanup' EXIT

cap_ns "$cli"
cap_ns "$srv"
cap_pair "$cli" eth0 02:77:07:00:00:01 "$srv" eth0 02:77:07:00:00:02
ip -n "$cli" addr add 10.77.7.1/24 dev eth0
ip -n "$srv" addr add 10.77.7.2/24 dev eth0
printf 'pcapng\n' >"$www/a.txt"
printf 'next generation\n' >"$www/b.txt"
cap_bg "$srv" sh -c "exec $PY -m http.server --protocol HTTP/1.1 -b 10.77.7.2 -d $www 8080 \
    >/dev/null 2>&1"
cap_bg "$srv" $PY "$peer" udp-serve 10.77.7.2 53 1
cap_wait_port "$srv" 8080
cap_wait_port "$srv" 53 udp

cap_start "$srv" "$raw" -i eth0 -s 512 --time-stamp-precision=nano 'tcp port 8080 or udp port 53'
ip netns exec "$cli" curl -sS --max-time 10 -A iaso-test/1 --local-port 40701 \
    http://10.77.7.2:8080/a.txt http://10.77.7.2:8080/b.txt >/dev/null
ip netns exec "$cli" $PY "$peer" udp-ask 10.77.7.2 53 41701 pacs.hospital.example
cap_stop
rm -f "$out/input.pcapng"
editcap -F pcapng "$raw" "$out/input.pcapng"
echo "$0: wrote $out/input.pcapng" >&2
