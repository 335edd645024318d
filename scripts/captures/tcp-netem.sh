#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tcp-netem: one real TCP transfer (200,000 bytes, server to client, MSS-sized segments) whose
# capture holds retransmissions, out-of-order segments and duplicates.
#
#   10.77.2.1:40201 (ns iaso-cli-PID, captured here)  <-- veth -->  10.77.2.2:9000 (ns iaso-srv-PID)
#
# Preferred: tc netem on the server's egress (loss, duplicate, reorder), so the kernel's own TCP
# retransmits and the capture on the receiving side is real end to end.
# Fallback, when this kernel has no sch_netem (CONFIG_NET_SCH_NETEM unset, or no module to load):
# capture the same transfer clean, then tcp-netem-mangle.py reorders, duplicates and "loses"
# (moves later, as a retransmission) data segments at fixed positions. The script prints which
# one it did, and writes it to tests/pcap/tcp-netem/HOW.
# Snaplen 96: headers plus 30 bytes of payload, so caplen < orig_len on every data segment.
. "$(dirname "$0")/lib.sh"
cap_need_root
out=$(cap_outdir tcp-netem)
cli=iaso-cli-$$
srv=iaso-srv-$$
peer="$(dirname "$0")/peer.py"

cap_ns "$cli"
cap_ns "$srv"
cap_pair "$cli" eth0 02:77:02:00:00:01 "$srv" eth0 02:77:02:00:00:02
cap_no_gso "$cli" eth0
cap_no_gso "$srv" eth0
ip -n "$cli" addr add 10.77.2.1/24 dev eth0
ip -n "$srv" addr add 10.77.2.2/24 dev eth0

how=netem
if ! ip netns exec "$srv" tc qdisc add dev eth0 root netem delay 2ms loss 4% duplicate 3% \
    reorder 10% 50% 2>/dev/null; then
    how=mangle
fi

raw="$out/input.pcap"
if [ $how = mangle ]; then
    raw=$(mktemp --suffix=.pcap)
    CAP_FILES="$CAP_FILES $raw"
fi
cap_bg "$srv" $PY "$peer" tcp-serve 10.77.2.2 9000 200000
cap_wait_port "$srv" 9000
cap_start "$cli" "$raw" -i eth0 -s 96 tcp port 9000
ip netns exec "$cli" $PY "$peer" tcp-get 10.77.2.2 9000 40201
cap_stop

if [ $how = netem ]; then
    echo "real netem: delay 2ms loss 4% duplicate 3% reorder 10% 50% on the server's egress" \
        >"$out/HOW"
else
    $PY "$(dirname "$0")/tcp-netem-mangle.py" "$raw" "$out/input.pcap"
    rm -f "$raw"
    echo "no sch_netem in this kernel: clean real capture rewritten by tcp-netem-mangle.py" \
        >"$out/HOW"
fi
echo "$0: $(cat "$out/HOW")" >&2
echo "$0: wrote $out/input.pcap" >&2
