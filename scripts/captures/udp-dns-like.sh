#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# udp-dns-like: real UDP request/response exchanges shaped like DNS (peer.py on both sides; dig is
# not installed). Port 5353 is avoided on purpose; the server listens on 53.
#
#   10.77.5.1 (ns iaso-cli-PID)  <-- veth -->  10.77.5.2:53 (ns iaso-srv-PID)
#   client port 41001: 3 queries, each answered (one flow, 3+3 packets)
#   client port 41002: 2 queries, each answered (a second flow)
. "$(dirname "$0")/lib.sh"
cap_need_root
out=$(cap_outdir udp-dns-like)
cli=iaso-cli-$$
srv=iaso-srv-$$
peer="$(dirname "$0")/peer.py"

cap_ns "$cli"
cap_ns "$srv"
cap_pair "$cli" eth0 02:77:05:00:00:01 "$srv" eth0 02:77:05:00:00:02
ip -n "$cli" addr add 10.77.5.1/24 dev eth0
ip -n "$srv" addr add 10.77.5.2/24 dev eth0

cap_bg "$srv" $PY "$peer" udp-serve 10.77.5.2 53 5
cap_wait_port "$srv" 53 udp
cap_start "$srv" "$out/input.pcap" -i eth0 udp
ip netns exec "$cli" $PY "$peer" udp-ask 10.77.5.2 53 41001 pacs.hospital.example \
    his.hospital.example lab.hospital.example
ip netns exec "$cli" $PY "$peer" udp-ask 10.77.5.2 53 41002 fhir.hospital.example \
    ris.hospital.example
cap_stop
echo "$0: wrote $out/input.pcap" >&2
