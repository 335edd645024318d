#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Captures real DNS traffic for the dns parser's test vectors and fuzz seeds: dnsmasq serves a
# few local records in one network namespace, dig and a python socket client query it from
# another over UDP and TCP (A, AAAA, TXT, MX, SRV, CNAME, PTR, NXDOMAIN, a truncated answer),
# and tcpdump writes the pcap that make-dns-seeds.py turns into seed files.
# Usage (root; needs dnsmasq-base, bind9-dnsutils, tcpdump): make-dns-seeds.sh OUT.pcap
set -eu
out=${1:?usage: make-dns-seeds.sh OUT.pcap}
srv=iaso-dns-srv
cli=iaso-dns-cli
cleanup() {
    [ -n "${dpid:-}" ] && kill "$dpid" 2>/dev/null || true
    [ -n "${tpid:-}" ] && kill "$tpid" 2>/dev/null || true
    ip netns del $srv 2>/dev/null || true
    ip netns del $cli 2>/dev/null || true
}
trap cleanup EXIT INT TERM
ip netns add $srv
ip netns add $cli
ip link add iaso-dns-v0 netns $srv type veth peer name iaso-dns-v1 netns $cli
ip -n $srv addr add 10.77.23.1/24 dev iaso-dns-v0
ip -n $cli addr add 10.77.23.2/24 dev iaso-dns-v1
ip -n $srv link set iaso-dns-v0 up
ip -n $cli link set iaso-dns-v1 up
ip -n $srv link set lo up
ip -n $cli link set lo up

# A TXT record too big for a 512-byte UDP answer, so dig +noedns gets TC set.
big=$(python3 -c 'print(",".join(["x" * 200] * 4))')
ip netns exec $srv dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
    --listen-address=10.77.23.1 --port=53 --local=/hospital.test/ \
    --host-record=pacs.hospital.test,10.77.23.5,fd00:77:23::5 \
    --cname=images.hospital.test,pacs.hospital.test \
    --txt-record=hospital.test,"v=spf1 -all","iaso test" \
    --txt-record=big.hospital.test,"$big" \
    --mx-host=hospital.test,mail.hospital.test,10 \
    --host-record=mail.hospital.test,10.77.23.6 \
    --srv-host=_dicom._tcp.hospital.test,pacs.hospital.test,104,0,5 \
    --ptr-record=5.23.77.10.in-addr.arpa,pacs.hospital.test \
    --auth-server=ns.hospital.test,iaso-dns-v0 --auth-zone=hospital.test \
    --auth-soa=2026112301,hostmaster.hospital.test \
    2>/dev/null &
dpid=$!
ip netns exec $cli tcpdump -i iaso-dns-v1 -w "$out" -U 'port 53' 2>/dev/null &
tpid=$!
sleep 1.5
d() { ip netns exec $cli dig @10.77.23.1 +tries=1 +time=2 "$@" >/dev/null || true; }
d pacs.hospital.test A
d pacs.hospital.test AAAA
d hospital.test TXT
d hospital.test MX
d _dicom._tcp.hospital.test SRV
d images.hospital.test A
d -x 10.77.23.5
d nothere.hospital.test A
d hospital.test SOA
d +noedns big.hospital.test TXT +ignore
d +tcp pacs.hospital.test A
d +tcp big.hospital.test TXT
d +tcp hospital.test MX
d +tcp nothere.hospital.test AAAA
# A plain resolver-style client: one UDP query and one TCP query built with the socket module.
ip netns exec $cli python3 - <<'PY' || true
import socket, struct
def q(name, qtype, qid):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", qtype, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
u.sendto(q("pacs.hospital.test", 1, 0x1234), ("10.77.23.1", 53))
u.recv(4096)
t = socket.create_connection(("10.77.23.1", 53), timeout=2)
m1, m2 = q("hospital.test", 16, 0x2345), q("pacs.hospital.test", 28, 0x3456)
t.sendall(struct.pack(">H", len(m1)) + m1 + struct.pack(">H", len(m2)) + m2)
got = b""
while len(got) < 4:
    got += t.recv(4096)
t.close()
PY
sleep 1
