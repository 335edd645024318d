#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# benign-baseline-mix: an ordinary hour on the hospital LAN of hospital.sh, compressed into
# seconds: the traffic a baseline learns before attack-dicom-sweep and attack-hl7-forged (same
# hosts, addresses, MACs, AE titles and HL7 applications), with real dcmtk and python3-hl7
# peers, seen from the switch's mirror port. ROGUE and LAPTOP stay silent.
#
#   CT01 10.77.40.10  --> PACS 10.77.40.2:104 (dcmqrscp, AE PACS; empty when the capture starts)
#   WS01 10.77.40.11  --> PACS; the PACS --> WS01's storescp (AE WS01, port 104) for C-MOVEs
#   HIS  10.77.40.20  --> RIS 10.77.40.21:2575 (mllp-ack.py)
#
# Captured (full snaplen), in this order:
#   CT01: echoscu (C-ECHO); storescu of the 10 fake studies (dicom-objects.py pacs, one image
#         each) in 3 associations: studies 1-4 (TEST^ALICE), 5-7 (TEST^BOB), 8-10 (TEST^CAROL)
#   WS01: findscu, study root, STUDY level: PatientID=PID-0001, then PatientID=PID-0002 (two
#         associations, one C-FIND each, exact keys, no wildcard)
#   WS01: movescu -aem WS01: studies 2.25.7731001 and 2.25.7731005 in one association (2
#         C-MOVE; the PACS opens one association to WS01 per C-MOVE and C-STOREs one image)
#   HIS:  mllp_send his1.hl7 (ADT^A01, ADT^A08) and his2.hl7 (ADT^A04, ADT^A03), two
#         connections, HIS^HOSPITAL -> RIS^RADIOLOGY, each message ACKed
# Fake patients only; every identifier is listed in tests/integration/test_phi.py.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
. "$(dirname "$0")/lan.sh"
. "$(dirname "$0")/hospital.sh"
cap_need_root
out=$(cap_outdir benign-baseline-mix)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_hospital baseline
CAP_HOSPITAL_NO_LOAD=1 cap_hospital_pacs
cap_hospital_adt "$tmp"
mkdir -p "$tmp/q"
for s in 01 05; do
    cap_dicom_query "$tmp/q/m-$s.dcm" "(0008,0052) CS [STUDY]" "(0020,000d) UI [2.25.77310$s]"
done

cap_bg "$ris" "$PY" "$(dirname "$0")/mllp-ack.py" "$ris_ip" 2575 4 2
receiver=$CAP_LAST
cap_wait_port "$ris" 2575

cap_start "$CAP_LAN_SENSOR" "$out/input.pcap" -i eth0 -s 0 -B 16384 tcp

o="$tmp/obj"
cap_in "$ct" echoscu -aet CT01 -aec PACS "$pacs_ip" 104
cap_in "$ct" storescu -aet CT01 -aec PACS "$pacs_ip" 104 "$o/obj1.dcm" "$o/obj2.dcm" \
    "$o/obj3.dcm" "$o/obj4.dcm"
cap_in "$ct" storescu -aet CT01 -aec PACS "$pacs_ip" 104 "$o/obj5.dcm" "$o/obj6.dcm" \
    "$o/obj7.dcm"
cap_in "$ct" storescu -aet CT01 -aec PACS "$pacs_ip" 104 "$o/obj8.dcm" "$o/obj9.dcm" \
    "$o/obj10.dcm"
for p in PID-0001 PID-0002; do
    cap_in "$ws" findscu -S -aet WS01 -aec PACS -k QueryRetrieveLevel=STUDY -k PatientID=$p \
        -k StudyInstanceUID -k StudyDate -k PatientName -k AccessionNumber "$pacs_ip" 104 \
        >/dev/null 2>&1
done
cap_in "$ws" movescu -S -aet WS01 -aec PACS -aem WS01 "$pacs_ip" 104 "$tmp/q/m-01.dcm" \
    "$tmp/q/m-05.dcm"
cap_in "$his" mllp_send --loose -f "$tmp/his1.hl7" -p 2575 "$ris_ip" >/dev/null
cap_in "$his" mllp_send --loose -f "$tmp/his2.hl7" -p 2575 "$ris_ip" >/dev/null
wait "$receiver"

n_ws=$(ls "$tmp/recv-WS01" | wc -l)
cap_stop
if [ "$n_ws" -ne 2 ]; then
    echo "$0: C-MOVE delivered $n_ws objects to WS01, 2 expected" >&2
    exit 1
fi
# HOW: how it was made and tshark's reference counts (how.py).
$PY "$(dirname "$0")/how.py" "$0" "$out" tcp,dicom,hl7 dcmtk python3-hl7
echo "$0: wrote $out/input.pcap and $out/HOW" >&2
