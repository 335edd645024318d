#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Captures real RDP connection setups for the rdp parser's test vectors and fuzz seeds: xrdp
# listens in one network namespace, xfreerdp (under Xvfb, it needs a display) connects from
# another with a cookie, with a load-balancing routing token, and with each security layer;
# a second xrdp that only allows TLS, and a third that only allows standard RDP security, refuse
# some of them with a Negotiation Failure. tcpdump writes the pcap; make-dns-seeds.py (same
# record format) turns it into seed files:
#   make-rdp-seeds.sh /tmp/rdp.pcap && make-dns-seeds.py /tmp/rdp.pcap corpus/rdp 3389 --c
# Usage (root; needs xrdp, freerdp2-x11, xvfb, tcpdump): make-rdp-seeds.sh OUT.pcap
set -eu
out=${1:?usage: make-rdp-seeds.sh OUT.pcap}
srv=iaso-rdp-srv
cli=iaso-rdp-cli
tmp=$(mktemp -d /tmp/iaso-rdp-XXXXXX)
cleanup() {
    [ -n "${xpid:-}" ] && kill "$xpid" 2>/dev/null || true
    [ -n "${tpid:-}" ] && kill "$tpid" 2>/dev/null || true
    ip netns del $srv 2>/dev/null || true
    ip netns del $cli 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
ip netns add $srv
ip netns add $cli
ip link add iaso-rdp-v0 netns $srv type veth peer name iaso-rdp-v1 netns $cli
ip -n $srv addr add 10.77.23.33/24 dev iaso-rdp-v0
ip -n $cli addr add 10.77.23.34/24 dev iaso-rdp-v1
ip -n $srv link set iaso-rdp-v0 up
ip -n $cli link set iaso-rdp-v1 up
ip -n $srv link set lo up
ip -n $cli link set lo up

for layer in negotiate tls rdp; do
    sed "s/^security_layer=.*/security_layer=$layer/" /etc/xrdp/xrdp.ini >"$tmp/xrdp-$layer.ini"
done
ip netns exec $cli tcpdump -i iaso-rdp-v1 -w "$out" -U 'tcp port 3389' 2>/dev/null &
tpid=$!

# xrdp with the given security layer, then each client command line against it.
serve() {
    ip netns exec $srv xrdp --nodaemon --port 3389 --config "$tmp/xrdp-$1.ini" \
        >/dev/null 2>&1 &
    xpid=$!
    sleep 1
}
stop() {
    kill "$xpid" 2>/dev/null || true
    wait "$xpid" 2>/dev/null || true
    xpid=
    sleep 0.5
}
connect() {
    ip netns exec $cli timeout 8 xvfb-run -a xfreerdp /v:10.77.23.33 /cert:ignore \
        /timeout:3000 "$@" >/dev/null 2>&1 || true
}
sleep 1
serve negotiate
connect /u:alice /p:secret +auth-only
connect /u:bob /p:secret /sec:rdp +auth-only
connect /u:carol /p:secret /sec:nla +auth-only
connect /u:alice /p:secret /sec:tls /load-balance-info:'Cookie: msts=3640205228.15629.0000'
stop
serve tls
connect /u:dave /p:secret /sec:rdp +auth-only
connect /u:frank /p:secret -sec-tls -sec-nla -sec-ext +auth-only
# xfreerdp never offers only standard RDP security inside a Negotiation Request, which is what
# makes a TLS-only server refuse: this Connection Request is built here, the refusal is xrdp's.
ip netns exec $cli python3 - <<'PY' || true
import socket, struct
cookie = b"Cookie: mstshash=grace\r\n"
neg = struct.pack("<BBHI", 1, 0, 8, 0)  # RDP_NEG_REQ, requestedProtocols = PROTOCOL_RDP
x224 = bytes([6 + len(cookie) + len(neg), 0xE0, 0, 0, 0, 0, 0]) + cookie + neg
s = socket.create_connection(("10.77.23.33", 3389), timeout=3)
s.sendall(struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224)
s.recv(100)
s.close()
PY
stop
serve rdp
connect /u:erin /p:secret /sec:tls +auth-only
stop
sleep 1
