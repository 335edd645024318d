#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# http-curl: real curl against a real python http.server, IPv4, in two private namespaces.
#
#   client 10.77.1.1 (ns iaso-cli-PID)  <-- veth -->  server 10.77.1.2:8080 (ns iaso-srv-PID)
#
# Three TCP connections, client ports pinned with --local-port so regenerations line up:
#   40001: one curl with three URLs -> three requests on one keep-alive connection (HTTP/1.1)
#   40002: a request for a missing file (404), then the connection closes
#   40003: a HEAD request with HTTP/1.0 (the server closes after one response)
# Captured on the server's veth with snaplen 512 (headers complete, big bodies cut, so caplen <
# orig_len on some packets). veth keeps TSO on, so report.txt leaves as super-segments bigger
# than the MTU (4410 bytes on the wire record), as on any host capture with offloads.
. "$(dirname "$0")/lib.sh"
cap_need_root
out=$(cap_outdir http-curl)
cli=iaso-cli-$$
srv=iaso-srv-$$
www=$(mktemp -d)
trap 'rm -rf "$www"; cap_cleanup' EXIT

cap_ns "$cli"
cap_ns "$srv"
cap_pair "$cli" eth0 02:77:01:00:00:01 "$srv" eth0 02:77:01:00:00:02
ip -n "$cli" addr add 10.77.1.1/24 dev eth0
ip -n "$srv" addr add 10.77.1.2/24 dev eth0

# Small fixed files; one bigger than a segment so a response spans several packets.
printf 'hello from iaso\n' >"$www/index.txt"
printf '{"resourceType":"Patient","id":"example"}\n' >"$www/patient.json"
$PY -c 'import sys; sys.stdout.write("".join("line %04d of a small report\n" % i for i in range(200)))' \
    >"$www/report.txt"

cap_bg "$srv" sh -c "exec $PY -m http.server --protocol HTTP/1.1 -b 10.77.1.2 -d $www 8080 >/dev/null 2>&1"
cap_wait_port "$srv" 8080

cap_start "$srv" "$out/input.pcap" -i eth0 -s 512 tcp port 8080

c="ip netns exec $cli curl -sS --max-time 10 -A iaso-test/1"
$c --local-port 40001 http://10.77.1.2:8080/index.txt http://10.77.1.2:8080/patient.json \
    http://10.77.1.2:8080/report.txt >/dev/null
$c --local-port 40002 http://10.77.1.2:8080/missing.html >/dev/null
$c --local-port 40003 --http1.0 -I http://10.77.1.2:8080/index.txt >/dev/null

cap_stop
echo "$0: wrote $out/input.pcap" >&2
