#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A tiny FHIR-style REST server (fake patients only), the server side of http-fhir.sh.

  fhir-server.py ADDR PORT

  GET  /fhir/metadata                     CapabilityStatement
  GET  /fhir/Patient/123                  Patient TEST^ALICE (Alice Test, PID-0001)
  GET  /fhir/Patient?...                  search Bundle, sent with Transfer-Encoding: chunked
  GET  /fhir/Observation?patient=123&...  Bundle with one glucose Observation
  POST /fhir/Patient                      201 Created, Location /fhir/Patient/124
HTTP/1.1 with keep-alive; fixed bodies and no Date header, so regenerated captures differ only
in what the kernel chooses.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

ALICE = {
    "resourceType": "Patient", "id": "123",
    "identifier": [{"system": "urn:oid:2.25.7730", "value": "PID-0001"}],
    "name": [{"family": "Test", "given": ["Alice"], "text": "Alice Test"}],
    "gender": "female", "birthDate": "1970-01-01",
    "telecom": [{"system": "phone", "value": "555-0101"}],
    "address": [{"line": ["12 Test Lane"], "city": "Springfield", "postalCode": "62701"}],
}
OBSERVATION = {
    "resourceType": "Bundle", "type": "searchset", "total": 1,
    "entry": [{"resource": {
        "resourceType": "Observation", "id": "obs-1", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7",
                             "display": "Glucose"}]},
        "subject": {"reference": "Patient/123", "display": "Alice Test"},
        "valueQuantity": {"value": 5.4, "unit": "mmol/L"}}}],
}
METADATA = {"resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
            "fhirVersion": "4.0.1", "format": ["json"]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "iaso-fhir-test/1"
    sys_version = ""

    def log_message(self, *args):
        pass

    def date_time_string(self, timestamp=None):
        return "Mon, 15 Jan 2024 10:15:00 GMT"

    def send_json(self, code, obj, extra=()):
        body = json.dumps(obj, indent=1).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/fhir/metadata":
            self.send_json(200, METADATA)
        elif path == "/fhir/Patient/123":
            self.send_json(200, ALICE)
        elif path == "/fhir/Observation" and "patient=123" in query:
            self.send_json(200, OBSERVATION)
        elif path == "/fhir/Patient" and query:
            body = json.dumps({"resourceType": "Bundle", "type": "searchset", "total": 1,
                               "entry": [{"resource": ALICE}]}, indent=1).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            # Three chunks, as a server streaming a search result would.
            step = len(body) // 3 + 1
            for i in range(0, len(body), step):
                part = body[i:i + step]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_json(404, {"resourceType": "OperationOutcome"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        self.send_json(201, {"resourceType": "Patient", "id": "124"},
                       [("Location", "/fhir/Patient/124/_history/1")])


def main():
    HTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()


if __name__ == "__main__":
    main()
