#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# attack-portscan: nmap connect scans from one host: a port scan of one server (ports 1-200)
# and a sweep of 30 addresses on the SMB and DICOM ports, seen from the switch's mirror port.
#
#   SCANNER 10.77.42.66 (ns iaso-cap-pscan-scan-PID)  <-- switch -->
#   SERVER  10.77.42.2  (ns ...-srv-PID): socat listeners on 22, 80, 104, 135, 139; every other
#           port closed (the kernel answers RST)
#   SUBNET  10.77.42.100 ... 10.77.42.129 (ns ...-net-PID, 30 addresses on one interface, as
#           if 30 hosts): 445 open on .100-.109, 104 open on .110-.114, the rest closed
#
# Captured, in this order (full snaplen):
#   nmap -n -Pn -sT -r --max-retries 0 --max-rate 100 -p 1-200 10.77.42.2
#   nmap -n -Pn -sT --max-retries 0 --max-rate 100 -p 104,445 10.77.42.100-129
# -Pn: no ping sweep first (every address answers here anyway); --max-retries 0: no probe is
# repeated, so every port is tried exactly once. The listeners accept and close at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
. "$(dirname "$0")/lan.sh"
cap_need_root
out=$(cap_outdir attack-portscan)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_lan pscan 42
scan=iaso-cap-pscan-scan-$$
srv=iaso-cap-pscan-srv-$$
net=iaso-cap-pscan-net-$$
cap_lan_host "$scan" 66 10.77.42.66/24
cap_lan_host "$srv" 02 10.77.42.2/24
cap_lan_host "$net" 64 10.77.42.100/24
i=101
while [ $i -le 129 ]; do
    cap_lan_addr "$net" "10.77.42.$i/24"
    i=$((i + 1))
done
cap_lan_static
cap_lan_span

for p in 22 80 104 135 139; do
    cap_bg "$srv" socat "TCP4-LISTEN:$p,bind=10.77.42.2,reuseaddr,fork" /dev/null
done
i=100
while [ $i -le 114 ]; do
    p=445
    [ $i -ge 110 ] && p=104
    cap_bg "$net" socat "TCP4-LISTEN:$p,bind=10.77.42.$i,reuseaddr,fork" /dev/null
    i=$((i + 1))
done
for p in 22 80 104 135 139; do
    cap_wait_port "$srv" $p
done
while [ "$(cap_in "$net" ss -ltn | grep -c LISTEN)" -lt 15 ]; do
    sleep 0.05
done

cap_start "$CAP_LAN_SENSOR" "$out/input.pcap" -i eth0 -s 0 -B 16384 tcp

n="cap_in $scan nmap -n -Pn -sT --max-retries 0 --max-rate 100"
$n -r -p 1-200 10.77.42.2 >"$tmp/nmap1" 2>&1 || true
$n -p 104,445 10.77.42.100-129 >"$tmp/nmap2" 2>&1 || true

cap_stop
open1=$(grep -c "/tcp *open" "$tmp/nmap1" || true)
open2=$(grep -c "/tcp *open" "$tmp/nmap2" || true)
if [ "$open1" -ne 5 ] || [ "$open2" -ne 15 ]; then
    echo "$0: nmap found $open1 open ports on the server (5 expected), $open2 in the sweep (15)" >&2
    exit 1
fi
# HOW: how it was made and tshark's reference counts (how.py).
$PY "$(dirname "$0")/how.py" "$0" "$out" tcp,scan nmap socat
echo "$0: wrote $out/input.pcap and $out/HOW" >&2
