#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Captures real HL7 v2 traffic in two private network namespaces (10.77.21.0/24, names
# iaso-hl7-*): python3-hl7's mllp_send (a real MLLP client) sends ADT A01/A08/A40, ORU R01,
# ORM O01, a message with '#' as component separator and a batch to a small MLLP listener that
# answers with ACKs (AA, or AE with ERR for the order); socat sends a batch and a message without
# MLLP (CRLF and LF line ends). Then make-hl7-seeds.py turns the capture into fuzz seeds (and,
# with --c, the unit-test vectors of tests/unit/proto/test-hl7.c). Needs root and the Debian
# packages python3-hl7, socat, tcpdump. Patients are fake ("TEST^PATIENT^ONE").
#   ./make-hl7-seeds.sh [workdir]      (the pcap stays in workdir, default a temp dir)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${1:-$(mktemp -d /tmp/iaso-hl7-XXXXXX)}
NS_S=iaso-hl7-srv
NS_C=iaso-hl7-cli
SRV=10.77.21.1
CLI=10.77.21.2
LISTEN_PID=
TCPDUMP_PID=

cleanup() {
    [ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null || true
    [ -n "$LISTEN_PID" ] && kill "$LISTEN_PID" 2>/dev/null || true
    sleep 0.3
    ip netns del "$NS_S" 2>/dev/null || true
    ip netns del "$NS_C" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$NS_S"
ip netns add "$NS_C"
ip link add iaso-hl7-v0 type veth peer name iaso-hl7-v1
ip link set iaso-hl7-v0 netns "$NS_S"
ip link set iaso-hl7-v1 netns "$NS_C"
ip -n "$NS_S" addr add "$SRV/24" dev iaso-hl7-v0
ip -n "$NS_C" addr add "$CLI/24" dev iaso-hl7-v1
ip -n "$NS_S" link set iaso-hl7-v0 up
ip -n "$NS_C" link set iaso-hl7-v1 up
ip -n "$NS_S" link set lo up
ip -n "$NS_C" link set lo up

# The receiving side: MLLP on 2575 answering each message with an ACK (AE + ERR for ORM), and a
# plain socket on 2576 that only reads (HL7 without MLLP has no acknowledgement framing).
cat >"$WORK/listener.py" <<'EOF'
import socket, threading
SB, EB = b"\x0b", b"\x1c\x0d"
def fields(msg):
    msh = msg.split(b"\r")[0]
    f = msh[3:4]
    return msh.split(f), f, msh[4:5]
def mllp(conn):
    buf = b""
    while True:
        d = conn.recv(65536)
        if not d:
            break
        buf += d
        while EB in buf:
            frame, buf = buf.split(EB, 1)
            msg = frame.lstrip(SB)
            parts, fs, cs = fields(msg)
            ctl = parts[9] if len(parts) > 9 else b""
            trig = parts[8].split(cs)[1] if len(parts) > 8 and cs in parts[8] else b""
            code, err = (b"AE", b"\rERR||ORC^1^1|207^Application internal error^HL70357|E") \
                if parts[8].startswith(b"ORM") else (b"AA", b"")
            ack = b"|".join([b"MSH", b"^~\\&", b"LIS", b"LAB", b"HIS", b"HOSP", b"20261123120500",
                             b"", b"ACK^" + trig + b"^ACK", b"ACK" + ctl, b"P", b"2.5"])
            ack += b"\rMSA|" + code + b"|" + ctl + err + b"\r"
            conn.sendall(SB + ack + EB)
    conn.close()
def sink(conn):
    while conn.recv(65536):
        pass
    conn.close()
def serve(port, fn):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.77.21.1", port))
    s.listen(8)
    while True:
        c, _ = s.accept()
        threading.Thread(target=fn, args=(c,), daemon=True).start()
threading.Thread(target=serve, args=(2576, sink), daemon=True).start()
serve(2575, mllp)
EOF

# Fake patients only. Segments end with CR; mllp_send reads messages separated by 0x1C.
m() { printf '%s\r' "$@"; }
{
    m 'MSH|^~\&|HIS|HOSP|LIS|LAB|20261123120000||ADT^A01^ADT_A01|MSG00001|P|2.5' \
      'EVN|A01|20261123120000' \
      'PID|1||123456^^^HOSP^MR~987654321^^^NAT^NI||TEST^PATIENT^ONE||19800101|M|||1 TEST STREET^^TESTTOWN^^12345||555-0100|555-0199|||||999-99-9999' \
      'PV1|1|I|WARD1^101^A'
    printf '\x1c'
    m 'MSH|^~\&|HIS^1.2.3.4^ISO|HOSP|LIS|LAB|20261123120100||ADT^A08^ADT_A01|MSG00002|P|2.5' \
      'EVN|A08|20261123120100' \
      'PID|1||123456^^^HOSP^MR||TEST^PATIENT^ONE||19800101|M|||2 TEST ROAD^^TESTTOWN^^12345||555-0101' \
      'PV1|1|I|WARD1^102^A'
    printf '\x1c'
    m 'MSH|^~\&|HIS|HOSP|LIS|LAB|20261123120200||ADT^A40^ADT_A39|MSG00003|P|2.5' \
      'EVN|A40|20261123120200' \
      'PID|1||123456^^^HOSP^MR||TEST^PATIENT^ONE||19800101|M' \
      'MRG|654321^^^HOSP^MR'
    printf '\x1c'
    m 'MSH|^~\&|LIS|LAB|HIS|HOSP|20261123120300||ORU^R01^ORU_R01|MSG00004|P|2.5.1' \
      'PID|1||123456^^^HOSP^MR||TEST^PATIENT^ONE||19800101|M' \
      'OBR|1|ORD1|FIL1|24331-1^Lipid panel^LN' \
      'OBX|1|NM|2093-3^Cholesterol^LN||180|mg/dL|<200|N|||F' \
      'OBX|2|NM|2571-8^Triglyceride^LN||120|mg/dL|<150|N|||F'
    printf '\x1c'
    m 'MSH|^~\&|HIS|HOSP|RIS|RAD|20261123120400||ORM^O01^ORM_O01|MSG00005|T|2.3' \
      'PID|1||123456^^^HOSP^MR||TEST^PATIENT^ONE' \
      'ORC|NW|ORD2' \
      'OBR|1|ORD2||71020^Chest X-ray^C4'
    printf '\x1c'
    m 'MSH|#~\&|RIS#1.2.3#ISO|RAD|HIS|HOSP|20261123120500||ADT#A08#ADT_A01|MSG00006|P|2.4' \
      'PID|1||123456###HOSP#MR||TEST#PATIENT#ONE||19800101|M'
    printf '\x1c'
} >"$WORK/mllp.hl7"
{
    m 'FHS|^~\&|HIS|HOSP|LIS|LAB|20261123121000||FILE001||F0001' \
      'BHS|^~\&|HIS|HOSP|LIS|LAB|20261123121000||BATCH001||B0001' \
      'MSH|^~\&|HIS|HOSP|LIS|LAB|20261123121000||ADT^A08^ADT_A01|MSG00101|P|2.5' \
      'PID|1||222222^^^HOSP^MR||TEST^PATIENT^TWO||19900202|F' \
      'MSH|^~\&|HIS|HOSP|LIS|LAB|20261123121001||ADT^A08^ADT_A01|MSG00102|P|2.5' \
      'PID|1||333333^^^HOSP^MR||TEST^PATIENT^THREE||19700303|M' \
      'BTS|2' 'FTS|1'
    printf '\x1c'
} >"$WORK/batch.hl7"
# Without MLLP: a batch with CRLF line ends, and a single message with LF line ends.
printf '%s\r\n' \
    'FHS|^~\&|HIS|HOSP|LIS|LAB|20261123122000||FILE002||F0002' \
    'BHS|^~\&|HIS|HOSP|LIS|LAB|20261123122000||BATCH002||B0002' \
    'MSH|^~\&|HIS|HOSP|LIS|LAB|20261123122000||ADT^A01^ADT_A01|MSG00201|P|2.5' \
    'PID|1||444444^^^HOSP^MR||TEST^PATIENT^FOUR||19600404|F' \
    'BTS|1' 'FTS|1' >"$WORK/raw-batch.hl7"
printf '%s\n' \
    'MSH|^~\&|HIS|HOSP|LIS|LAB|20261123123000||ADT^A08^ADT_A01|MSG00301|P|2.5' \
    'PID|1||123456^^^HOSP^MR||TEST^PATIENT^ONE||19800101|M' >"$WORK/raw-msg.hl7"

ip netns exec "$NS_S" tcpdump -i iaso-hl7-v0 -s 0 -U -w "$WORK/hl7.pcap" tcp &
TCPDUMP_PID=$!
ip netns exec "$NS_S" /usr/bin/python3 "$WORK/listener.py" &
LISTEN_PID=$!
sleep 1.5

ip netns exec "$NS_C" mllp_send -p 2575 -f "$WORK/mllp.hl7" "$SRV"
ip netns exec "$NS_C" mllp_send -p 2575 -f "$WORK/batch.hl7" "$SRV"
ip netns exec "$NS_C" socat -u "FILE:$WORK/raw-batch.hl7" "TCP:$SRV:2576"
ip netns exec "$NS_C" socat -u "FILE:$WORK/raw-msg.hl7" "TCP:$SRV:2576"
sleep 1

kill "$TCPDUMP_PID"
wait "$TCPDUMP_PID" 2>/dev/null || true
TCPDUMP_PID=
/usr/bin/python3 "$HERE/make-hl7-seeds.py" "$WORK/hl7.pcap" "$HERE/hl7"
echo "pcap: $WORK/hl7.pcap" >&2
