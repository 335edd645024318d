#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# hl7-mllp: HL7 v2 over MLLP from a real client (python3-hl7's mllp_send) to a receiver that
# ACKs every message (mllp-ack.py), in two private namespaces.
#
#   HIS 10.77.32.1 (ns iaso-cap-hl7-c-PID)  <-- veth -->  LIS/RIS 10.77.32.2:2575 (ns ...-s-PID)
#
# One connection, four messages, each answered by ACK (MSA|AA|control id):
#   ADT^A01 admit (TEST^ALICE), ADT^A08 update (TEST^ALICE), ADT^A40 merge (MRG: PID-0009 into
#   PID-0003, TEST^CAROL), ORU^R01 result (TEST^BOB, two OBX).
# Fake patients only; every identifier is listed in tests/integration/test_phi.py.
# Captured at full snaplen on the receiver's veth.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
cap_need_root
out=$(cap_outdir hl7-mllp)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_client_server hl7 32

# --loose: one message per MSH, newlines become segment separators (\r).
cat >"$tmp/messages.hl7" <<'HL7'
MSH|^~\&|ADTAPP|GENHOSP|LABAPP|GENLAB|20240115101500||ADT^A01^ADT_A01|MSG00001|P|2.5.1
EVN|A01|20240115101500
PID|1||PID-0001^^^GENHOSP^MR||TEST^ALICE^MARIE||19700101|F|||12 Test Lane^^Springfield^IL^62701||555-0101|||||ACCT-0001|999-00-1234
PV1|1|I|WARD1^101^A||||DOC1^REFERRING^DOC
MSH|^~\&|ADTAPP|GENHOSP|LABAPP|GENLAB|20240115101600||ADT^A08^ADT_A01|MSG00002|P|2.5.1
EVN|A08|20240115101600
PID|1||PID-0001^^^GENHOSP^MR||TEST^ALICE^MARIE||19700101|F|||12 Test Lane^^Springfield^IL^62701||555-0199|||||ACCT-0001|999-00-1234
PV1|1|I|WARD1^102^A||||DOC1^REFERRING^DOC
MSH|^~\&|ADTAPP|GENHOSP|LABAPP|GENLAB|20240115101700||ADT^A40^ADT_A39|MSG00003|P|2.5.1
EVN|A40|20240115101700
PID|1||PID-0003^^^GENHOSP^MR||TEST^CAROL||19650505|F|||56 Sample Street^^Ogdenville^IL^62702||555-0303
MRG|PID-0009^^^GENHOSP^MR
MSH|^~\&|LABAPP|GENLAB|EHRAPP|GENHOSP|20240115102000||ORU^R01^ORU_R01|MSG00004|P|2.5.1
PID|1||PID-0002^^^GENHOSP^MR||TEST^BOB||19800202|M|||34 Fake Road^^Shelbyville^IL^62565||555-0202
OBR|1|ORD-0001|FIL-0001|2345-7^GLUCOSE^LN|||20240115094500
OBX|1|NM|2345-7^GLUCOSE^LN||5.4|mmol/L|3.9-6.1|N|||F
OBX|2|NM|2951-2^SODIUM^LN||140|mmol/L|135-145|N|||F
HL7

cap_bg "$srv" "$PY" "$(dirname "$0")/mllp-ack.py" "$sip" 2575 4
receiver=$CAP_LAST
cap_wait_port "$srv" 2575

cap_start "$srv" "$out/input.pcap" -i eth0 -s 0 tcp port 2575

cap_in "$cli" mllp_send --loose -f "$tmp/messages.hl7" -p 2575 "$sip" >/dev/null
wait "$receiver"

cap_stop
echo "$0: wrote $out/input.pcap" >&2
