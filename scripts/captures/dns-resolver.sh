#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# dns-resolver: real DNS between kdig (knot-dnsutils) and dnsmasq, in two private namespaces.
#
#   client 10.77.35.1 / fd77:35::1 (ns iaso-cap-dns-c-PID)  <-- veth -->
#   dnsmasq 10.77.35.2 / fd77:35::2 port 53 (ns iaso-cap-dns-s-PID), authoritative-ish for
#   hospital.test (--local: names it does not know there are NXDOMAIN, nothing is forwarded)
#
# Queries over UDP: pacs A, pacs AAAA, hospital.test TXT, hospital.test MX, dicom CNAME (-> pacs),
# missing.hospital.test A (NXDOMAIN), and pacs A over IPv6. Over TCP: pacs A and
# hospital.test MX (two queries on one connection with +keepopen).
# Captured at full snaplen on dnsmasq's veth.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
cap_need_root
out=$(cap_outdir dns-resolver)

cap_client_server dns 35

cap_bg "$srv" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --pid-file= \
    --user=root --bind-interfaces --listen-address="$sip" --listen-address="$sip6" \
    --except-interface=lo --local=/hospital.test/ \
    --host-record=pacs.hospital.test,10.77.35.10,fd77:35::10 \
    --host-record=mail.hospital.test,10.77.35.11 \
    --cname=dicom.hospital.test,pacs.hospital.test \
    --mx-host=hospital.test,mail.hospital.test,10 \
    --txt-record=hospital.test,"v=spf1 -all" --log-facility=/dev/null
cap_wait_port "$srv" 53 udp
cap_wait_port "$srv" 53

cap_start "$srv" "$out/input.pcap" -i eth0 -s 0 port 53

q="cap_in $cli kdig +short +timeout=2 +retry=0"
$q @"$sip" pacs.hospital.test A >/dev/null
$q @"$sip" pacs.hospital.test AAAA >/dev/null
$q @"$sip" hospital.test TXT >/dev/null
$q @"$sip" hospital.test MX >/dev/null
$q @"$sip" dicom.hospital.test CNAME >/dev/null
$q @"$sip" missing.hospital.test A >/dev/null
$q @"$sip6" pacs.hospital.test A >/dev/null
$q +tcp @"$sip" pacs.hospital.test A >/dev/null
$q +tcp +keepopen @"$sip" hospital.test MX @"$sip" pacs.hospital.test AAAA >/dev/null

cap_stop
echo "$0: wrote $out/input.pcap" >&2
