#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# rdp-x224: a real RDP client (xfreerdp, on a private Xvfb display) against a real xrdp server,
# in two private namespaces.
#
#   workstation 10.77.37.1 (ns iaso-cap-rdp-c-PID)  <-- veth -->  xrdp 10.77.37.2:3389
#
# xrdp runs in the foreground with a temporary xrdp.ini (security_layer=negotiate, a fresh
# self-signed certificate); its pid file and sockets go to a private tmpfs over /run/xrdp, in
# its own mount namespace. Two connections, user alice (/u:alice -> X.224 Connection Request
# cookie "mstshash=alice"), /cert:ignore:
#   1. +auth-only: X.224 negotiation, TLS, then xfreerdp stops (xrdp does not offer NLA)
#   2. a normal connection, cut after a few seconds (no session manager behind xrdp: the login
#      screen is as far as it goes)
# Captured at full snaplen on the server's veth.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
cap_need_root
out=$(cap_outdir rdp-x224)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_client_server rdp 37

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=ws01.hospital.test" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
sed -e "s|^port=3389|port=tcp://$sip:3389|" \
    -e "s|^certificate=.*|certificate=$tmp/cert.pem|" -e "s|^key_file=.*|key_file=$tmp/key.pem|" \
    -e "s|^fork=true|fork=false|" -e "s|^LogFile=.*|LogFile=$tmp/xrdp.log|" \
    -e "s|^EnableSyslog=.*|EnableSyslog=false|" /etc/xrdp/xrdp.ini >"$tmp/xrdp.ini"

mkdir -p /run/xrdp
cap_bg "$srv" unshare -m sh -c "mount -t tmpfs tmpfs /run/xrdp && mkdir /run/xrdp/sockdir &&
    exec xrdp --nodaemon --config $tmp/xrdp.ini >$tmp/xrdp.out 2>&1"
cap_wait_port "$srv" 3389

cap_start "$srv" "$out/input.pcap" -i eth0 -s 0 tcp port 3389

r="cap_in $cli timeout 8 xvfb-run -a xfreerdp /v:$sip /u:alice /p:Alice-Pw-7730 /cert:ignore \
    /log-level:OFF"
$r +auth-only >/dev/null 2>&1 || true
$r /size:640x480 >/dev/null 2>&1 || true

cap_stop
echo "$0: wrote $out/input.pcap" >&2
