#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sll, sll2: real traffic captured with tcpdump -i any, which records Linux "cooked" headers
# instead of Ethernet: LINUX_SLL (v1, 16 bytes) for tests/pcap/sll and LINUX_SLL2 (v2, 20 bytes,
# carries the interface index) for tests/pcap/sll2. Each capture holds a curl to an http.server
# and two DNS-like UDP exchanges.
#
#   10.77.3.1 (ns iaso-cli-PID)  <-- veth -->  10.77.3.2 (ns iaso-srv-PID, captured with -i any)
#   sll:  TCP 40301 -> 8080, UDP 41301 -> 53     sll2: TCP 40302 -> 8080, UDP 41302 -> 53
. "$(dirname "$0")/lib.sh"
cap_need_root
cli=iaso-cli-$$
srv=iaso-srv-$$
peer="$(dirname "$0")/peer.py"
www=$(mktemp -d)
trap 'rm -rf "$www"; cap_cleanup' EXIT

cap_ns "$cli"
cap_ns "$srv"
cap_pair "$cli" eth0 02:77:03:00:00:01 "$srv" eth0 02:77:03:00:00:02
ip -n "$cli" addr add 10.77.3.1/24 dev eth0
ip -n "$srv" addr add 10.77.3.2/24 dev eth0
printf 'cooked capture\n' >"$www/index.txt"
cap_bg "$srv" sh -c "exec $PY -m http.server --protocol HTTP/1.1 -b 10.77.3.2 -d $www 8080 \
    >/dev/null 2>&1"
cap_wait_port "$srv" 8080

run() { # run CASE DLT N
    out=$(cap_outdir "$1")
    cap_bg "$srv" $PY "$peer" udp-serve 10.77.3.2 53 2
    cap_wait_port "$srv" 53 udp
    cap_start "$srv" "$out/input.pcap" -i any -y "$2" -s 512 'tcp port 8080 or udp port 53'
    ip netns exec "$cli" curl -sS --max-time 10 -A iaso-test/1 --local-port "4030$3" \
        http://10.77.3.2:8080/index.txt >/dev/null
    ip netns exec "$cli" $PY "$peer" udp-ask 10.77.3.2 53 "4130$3" pacs.hospital.example \
        his.hospital.example
    cap_stop
    wait "$CAP_LAST" 2>/dev/null || true
    echo "$0: wrote $out/input.pcap" >&2
}
run sll LINUX_SLL 1
run sll2 LINUX_SLL2 2
