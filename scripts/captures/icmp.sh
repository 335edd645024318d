#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# icmp: real IPv4 pings between two private namespaces (peer.py sends the echo requests through a
# raw socket, the server's kernel answers). The ARP exchange the first ping triggers is kept: the
# sensor must skip non-IP frames without counting them into any flow.
#
#   10.77.4.1 (ns iaso-cli-PID)  <-- veth -->  10.77.4.2 (ns iaso-srv-PID)
#   4 echo requests + 4 replies (id 0x1a50, seq 1..4, 48 bytes of payload), then 2 more to a
#   second server address 10.77.4.3 on the same host, i.e. a second ICMP flow.
. "$(dirname "$0")/lib.sh"
cap_need_root
out=$(cap_outdir icmp)
cli=iaso-cli-$$
srv=iaso-srv-$$

cap_ns "$cli"
cap_ns "$srv"
cap_pair "$cli" eth0 02:77:04:00:00:01 "$srv" eth0 02:77:04:00:00:02
ip -n "$cli" addr add 10.77.4.1/24 dev eth0
ip -n "$srv" addr add 10.77.4.2/24 dev eth0
ip -n "$srv" addr add 10.77.4.3/24 dev eth0

cap_start "$srv" "$out/input.pcap" -i eth0 icmp or arp
ip netns exec "$cli" $PY "$(dirname "$0")/peer.py" ping 10.77.4.2 4
ip netns exec "$cli" $PY "$(dirname "$0")/peer.py" ping 10.77.4.3 2
cap_stop
echo "$0: wrote $out/input.pcap" >&2
