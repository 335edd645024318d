#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# attack-dns-dga: malware looking for its command server with a domain generation algorithm: a
# host asks the site's resolver, a real dnsmasq, for 60 random-looking names that do not
# exist, after a few ordinary queries. Seen from the switch's mirror port.
#
#   WS22 10.77.47.10 (ns iaso-cap-ddga-ws-PID)  <-- switch -->
#   RESOLVER 10.77.47.2:53 (ns ...-dns-PID), dnsmasq: hospital.test from host records, and
#     local (--local: answered NXDOMAIN, never forwarded; dnsmasq has no upstream server) for
#     the top-level domains the generated names use: com net org info biz ru
#
# Captured (full snaplen), all with kdig (knot-dnsutils) over UDP, one query per invocation:
#   5 ordinary queries: pacs.hospital.test A, ris.hospital.test A, hospital.test MX,
#     pacs.hospital.test AAAA, mail.hospital.test A (all answered)
#   60 A queries for generated names, each answered NXDOMAIN: a second-level label of 10 to 18
#     letters a-z drawn by a linear congruential generator (a fixed seed, the same names on
#     every regeneration), under com, net, org, info, biz and ru in turn (10 each).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
. "$(dirname "$0")/lan.sh"
cap_need_root
out=$(cap_outdir attack-dns-dga)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_lan ddga 47
dns=iaso-cap-ddga-dns-$$
ws=iaso-cap-ddga-ws-$$
sip=10.77.47.2
cap_lan_host "$dns" 02 "$sip/24"
cap_lan_host "$ws" 10 10.77.47.10/24
cap_lan_static
cap_lan_span

cap_bg "$dns" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --pid-file= \
    --user=root --bind-interfaces --listen-address="$sip" --except-interface=lo \
    --local=/hospital.test/ --local=/com/net/org/info/biz/ru/ \
    --host-record=pacs.hospital.test,10.77.47.20,fd77:47::20 \
    --host-record=ris.hospital.test,10.77.47.21 \
    --host-record=mail.hospital.test,10.77.47.25 \
    --mx-host=hospital.test,mail.hospital.test,10 --log-facility=/dev/null
cap_wait_port "$dns" 53 udp

$PY - >"$tmp/names" <<'PY'
x = 0x1A50  # seed
def rnd():
    global x
    x = (x * 1103515245 + 12345) & 0x7FFFFFFF
    return x >> 8
tlds = ["com", "net", "org", "info", "biz", "ru"]
for i in range(60):
    n = 10 + rnd() % 9
    print("".join(chr(ord("a") + rnd() % 26) for _ in range(n)) + "." + tlds[i % 6])
PY

cap_start "$CAP_LAN_SENSOR" "$out/input.pcap" -i eth0 -s 0 -B 16384 port 53

q="cap_in $ws kdig +timeout=2 +retry=0 @$sip"
for nt in "pacs.hospital.test A" "ris.hospital.test A" "hospital.test MX" \
    "pacs.hospital.test AAAA" "mail.hospital.test A"; do
    # shellcheck disable=SC2086 # name and type
    $q $nt >/dev/null
done
while read -r name; do
    $q "$name" A >>"$tmp/answers"
done <"$tmp/names"

cap_stop
n=$(grep -c "status: NXDOMAIN" "$tmp/answers" || true)
if [ "$n" -ne 60 ]; then
    echo "$0: $n of the 60 generated names were answered NXDOMAIN" >&2
    exit 1
fi
# HOW: how it was made and tshark's reference counts (how.py).
$PY "$(dirname "$0")/how.py" "$0" "$out" tcp,dns dnsmasq-base knot-dnsutils
echo "$0: wrote $out/input.pcap and $out/HOW" >&2
