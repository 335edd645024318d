#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tls-openssl: real TLS handshakes between openssl s_server and openssl s_client / curl, in two
# private namespaces.
#
#   client 10.77.34.1 (ns iaso-cap-tls-c-PID)  <-- veth -->  server 10.77.34.2 (ns ...-s-PID)
#
#   port 443: s_server -www, TLS 1.2 only (certificate visible in the clear)
#   port 8443: s_server -www, TLS 1.3 only (certificate encrypted)
# Clients, each with SNI pacs.hospital.test: s_client -alpn http/1.1 to both ports; curl -k over
# TLS 1.2 and TLS 1.3 (ALPN http/1.1, an HTTP GET inside). Self-signed certificate
# CN=pacs.hospital.test, made fresh each run (EC P-256, so the capture stays small).
# Captured at full snaplen on the server's veth.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
cap_need_root
out=$(cap_outdir tls-openssl)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_client_server tls 34
echo "$sip pacs.hospital.test" >"$tmp/hosts"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/O=Test General Hospital/CN=pacs.hospital.test" \
    -addext "subjectAltName=DNS:pacs.hospital.test" \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

cap_bg "$srv" openssl s_server -quiet -www -accept "$sip:443" -tls1_2 -alpn http/1.1 \
    -cert "$tmp/cert.pem" -key "$tmp/key.pem"
cap_bg "$srv" openssl s_server -quiet -www -accept "$sip:8443" -tls1_3 -alpn http/1.1 \
    -cert "$tmp/cert.pem" -key "$tmp/key.pem"
cap_wait_port "$srv" 443
cap_wait_port "$srv" 8443

cap_start "$srv" "$out/input.pcap" -i eth0 -s 0 tcp

for port in 443 8443; do
    # "Q" on stdin: s_client ends the session after the handshake.
    echo Q | cap_in "$cli" timeout 10 openssl s_client -connect "$sip:$port" \
        -servername pacs.hospital.test -alpn http/1.1 -brief >/dev/null 2>&1 || true
    sleep 0.1
done
# The exit status of s_client says little (Q closes without a clean shutdown); curl's does.
cap_in "$cli" curl -sS -k --max-time 10 --tlsv1.2 --tls-max 1.2 \
    --resolve pacs.hospital.test:443:"$sip" https://pacs.hospital.test/ >/dev/null
cap_in "$cli" curl -sS -k --max-time 10 --tlsv1.3 \
    --resolve pacs.hospital.test:8443:"$sip" https://pacs.hospital.test:8443/ >/dev/null

cap_stop
echo "$0: wrote $out/input.pcap" >&2
