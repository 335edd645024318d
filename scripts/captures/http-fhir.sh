#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# http-fhir: real curl against a small FHIR-style REST server (fhir-server.py), in two private
# namespaces.
#
#   client 10.77.36.1 (ns iaso-cap-http-c-PID)  <-- veth -->  fhir.hospital.test 10.77.36.2:8080
#
# Connection 1 (client port 41001, keep-alive, four requests): GET /fhir/metadata,
#   GET /fhir/Patient/123, GET /fhir/Observation?patient=123&code=2345-7,
#   GET /fhir/Patient?family=Test&given=Alice&birthdate=1970-01-01 (chunked response).
# Connection 2 (client port 41002): POST /fhir/Patient with a new fake patient (TEST^DAVE).
# Fake patients only; every identifier is listed in tests/integration/test_phi.py.
# Captured at full snaplen on the server's veth.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
cap_need_root
out=$(cap_outdir http-fhir)

cap_client_server http 36

cap_bg "$srv" "$PY" "$(dirname "$0")/fhir-server.py" "$sip" 8080
cap_wait_port "$srv" 8080

cap_start "$srv" "$out/input.pcap" -i eth0 -s 0 tcp port 8080

b=http://fhir.hospital.test:8080/fhir
c="cap_in $cli curl -sS --fail --max-time 10 -A iaso-test/1 --resolve fhir.hospital.test:8080:$sip"
$c --local-port 41001 -H "Accept: application/fhir+json" "$b/metadata" "$b/Patient/123" \
    "$b/Observation?patient=123&code=2345-7" \
    "$b/Patient?family=Test&given=Alice&birthdate=1970-01-01" >/dev/null
$c --local-port 41002 -H "Content-Type: application/fhir+json" --data-binary @- "$b/Patient" \
    >/dev/null <<'JSON'
{"resourceType":"Patient","identifier":[{"value":"PID-0004"}],"name":[{"family":"Test","given":["Dave"],"text":"Dave Test"}],"gender":"male","birthDate":"1990-04-04","telecom":[{"system":"phone","value":"555-0404"}],"address":[{"line":["78 Example Avenue"],"city":"Capital City"}]}
JSON

cap_stop
echo "$0: wrote $out/input.pcap" >&2
