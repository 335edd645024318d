#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Captures real HTTP/1.1 traffic for the http parser's seeds and unit-test vectors: curl and a
# raw pipelining client against python3's http.server and a small FHIR-style API, in two
# network namespaces (10.77.22.0/24) joined by a veth pair. Writes make-http-seeds.pcap beside
# this script; make-http-seeds.py turns it into tests/fuzz/corpus/http/. Run as root:
#   sh tests/fuzz/corpus/make-http-seeds.sh && /usr/bin/python3 tests/fuzz/corpus/make-http-seeds.py
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRV=iaso-http-srv
CLI=iaso-http-cli
TMP=$(mktemp -d)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    ip netns del $SRV 2>/dev/null || true
    ip netns del $CLI 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ip netns add $SRV
ip netns add $CLI
ip link add iaso-http-a type veth peer name iaso-http-b
ip link set iaso-http-a netns $SRV
ip link set iaso-http-b netns $CLI
ip -n $SRV addr add 10.77.22.1/24 dev iaso-http-a
ip -n $CLI addr add 10.77.22.2/24 dev iaso-http-b
ip -n $SRV link set iaso-http-a up
ip -n $CLI link set iaso-http-b up
ip -n $SRV link set lo up
ip -n $CLI link set lo up

# The FHIR-style API: HTTP/1.1 keep-alive, JSON answers, chunked responses with a chunk
# extension and a trailer, 204, 304, 100-continue (BaseHTTPRequestHandler does it), and a
# legacy endpoint whose body runs until the connection closes.
cat >"$TMP/fhir.py" <<'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send_json(self, code, obj, ctype="application/fhir+json"):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_chunked(self, obj):
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Trailer", "X-Checksum")
        self.end_headers()
        half = len(body) // 2
        for i, part in enumerate((body[:half], body[half:])):
            self.wfile.write(b"%x;part=%d\r\n" % (len(part), i) + part + b"\r\n")
        self.wfile.write(b"0\r\nX-Checksum: abc\r\n\r\n")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_GET(self):
        p = self.path
        if p.startswith("/fhir/metadata"):
            self.send_json(200, {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"})
        elif p.startswith("/fhir/Patient/123/$everything"):
            self.send_chunked({"resourceType": "Bundle", "type": "searchset", "entry": []})
        elif p.startswith("/fhir/Patient/123"):
            if self.headers.get("If-None-Match") == 'W/"1"':
                self.send_response(304)
                self.send_header("ETag", 'W/"1"')
                self.end_headers()
                return
            self.send_json(200, {"resourceType": "Patient", "id": "123",
                                 "name": [{"family": "Doe", "given": ["John"]}],
                                 "birthDate": "1970-01-01"})
        elif p.startswith("/fhir/Patient?") or p.startswith("/fhir/Observation?"):
            self.send_chunked({"resourceType": "Bundle", "type": "searchset", "total": 1})
        elif p.startswith("/legacy"):
            self.protocol_version = "HTTP/1.0"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"legacy body without a length, ends at close\n")
            self.close_connection = True
        else:
            self.send_json(404, {"resourceType": "OperationOutcome"})

    do_HEAD = do_GET

    def do_POST(self):
        body = self.read_body()
        if self.path in ("/fhir", "/fhir/"):
            self.send_json(200, {"resourceType": "Bundle", "type": "transaction-response"})
        else:
            self.send_json(201, {"resourceType": "Patient", "id": "456", "len": len(body)})

    def do_PUT(self):
        self.read_body()
        self.send_json(200, {"resourceType": "Patient", "id": "123"})

    def do_DELETE(self):
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass

ThreadingHTTPServer(("10.77.22.1", 8042), H).serve_forever()
PY

cat >"$TMP/pipeline.py" <<'PY'
import socket, time
s = socket.create_connection(("10.77.22.1", 8042))
reqs = (b"GET /fhir/Patient/123 HTTP/1.1\r\nHost: 10.77.22.1:8042\r\nUser-Agent: pipeline/1\r\n\r\n"
        b"GET /fhir/Observation?patient=123&code=8867-4 HTTP/1.1\r\nHost: 10.77.22.1:8042\r\n\r\n"
        b"HEAD /fhir/metadata HTTP/1.1\r\nHost: 10.77.22.1:8042\r\n\r\n"
        b"DELETE /fhir/Patient/123 HTTP/1.1\r\nHost: 10.77.22.1:8042\r\nConnection: close\r\n\r\n")
s.sendall(reqs)
data = b""
s.settimeout(3)
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
except socket.timeout:
    pass
s.close()
PY

mkdir -p "$TMP/www"
echo "hello from python http.server" >"$TMP/www/index.txt"
ip netns exec $SRV tcpdump -i iaso-http-a -w "$HERE/make-http-seeds.pcap" -U -s 0 tcp 2>/dev/null &
PIDS="$PIDS $!"
(cd "$TMP/www" && exec ip netns exec $SRV python3 -m http.server --bind 10.77.22.1 8000 >/dev/null 2>&1) &
PIDS="$PIDS $!"
ip netns exec $SRV /usr/bin/python3 "$TMP/fhir.py" &
PIDS="$PIDS $!"
sleep 1.5

C="ip netns exec $CLI curl -s -o /dev/null"
B=http://10.77.22.1:8042
# python -m http.server (HTTP/1.0): a GET, a HEAD, a 404 and a directory listing.
$C http://10.77.22.1:8000/index.txt
$C -I http://10.77.22.1:8000/index.txt
$C http://10.77.22.1:8000/missing?name=x
$C http://10.77.22.1:8000/
# FHIR, keep-alive: read, search (chunked), capabilities, operation in one connection.
$C "$B/fhir/Patient/123" -o /dev/null "$B/fhir/Observation?patient=123&_count=10&_format=json" \
   -o /dev/null "$B/fhir/metadata" -o /dev/null "$B/fhir/Patient/123/\$everything"
# create with a body big enough for Expect: 100-continue
head -c 2000 /dev/zero | tr '\0' 'a' >"$TMP/big"
$C -X POST -H "Content-Type: application/fhir+json" --data-binary @"$TMP/big" "$B/fhir/Patient"
# the same with Expect: 100-continue (the server answers 100 Continue first)
$C -X POST -H "Content-Type: application/fhir+json" -H "Expect: 100-continue" \
   --data-binary @"$TMP/big" "$B/fhir/Observation"
# small create, update, conditional 304, delete (204)
$C -X POST -H "Content-Type: application/fhir+json" -d '{"resourceType":"Patient"}' "$B/fhir/Patient"
$C -X PUT -H "Content-Type: application/fhir+json" -d '{"resourceType":"Patient","id":"123"}' "$B/fhir/Patient/123"
$C -H 'If-None-Match: W/"1"' "$B/fhir/Patient/123"
$C -X DELETE "$B/fhir/Patient/123"
# batch/transaction to the base with a chunked request body
$C -X POST -H "Content-Type: application/fhir+json" -H "Transfer-Encoding: chunked" \
   -d '{"resourceType":"Bundle","type":"transaction"}' "$B/fhir"
# search with patient data in the query
$C "$B/fhir/Patient?name=smith&birthdate=1970-01-01"
# body until close
$C "$B/legacy?id=7"
# pipelining
ip netns exec $CLI /usr/bin/python3 "$TMP/pipeline.py"
sleep 1
