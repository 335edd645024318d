#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# attack-rdp-brute: password guessing against RDP from one host: hydra's rdp module (built on
# FreeRDP) tries 20 passwords for "administrator" against a real xrdp, seen from the switch's
# mirror port.
#
#   ATTACKER 10.77.45.66 (ns iaso-cap-rbrute-att-PID)  <-- switch -->
#   RDPSRV 10.77.45.2:3389 (ns ...-srv-PID), xrdp as in rdp-x224.sh (temporary xrdp.ini,
#   security_layer=negotiate, a fresh self-signed certificate, no session manager behind it)
#
# Captured (full snaplen): 20 runs of hydra -t 1 -l administrator -p PASSWORD rdp://10.77.45.2,
# one per password of the list below, one after the other: each attempt is a new TCP
# connection with an X.224 Connection Request (cookie mstshash=administrator, FreeRDP's
# negotiation request for TLS or CredSSP), xrdp's Negotiate Response (TLS), the TLS handshake,
# then the client closes.
# Why one hydra run per password: hydra's rdp module checks a password with FreeRDP's
# authentication-only mode, which only means something with NLA (CredSSP); xrdp 0.9 has no NLA,
# so the first attempt "succeeds" and hydra would stop there. Each run still makes exactly the
# connection hydra makes for one guess against an RDP server, so 20 runs give the 20 attempts on
# the wire (hydra's verdict, always "valid", is meaningless here and ignored).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
. "$(dirname "$0")/lan.sh"
cap_need_root
out=$(cap_outdir attack-rdp-brute)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_lan rbrute 45
srv=iaso-cap-rbrute-srv-$$
att=iaso-cap-rbrute-att-$$
sip=10.77.45.2
cap_lan_host "$srv" 02 "$sip/24"
cap_lan_host "$att" 66 10.77.45.66/24
cap_lan_static
cap_lan_span

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=rdpsrv.hospital.test" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
sed -e "s|^port=3389|port=tcp://$sip:3389|" \
    -e "s|^certificate=.*|certificate=$tmp/cert.pem|" -e "s|^key_file=.*|key_file=$tmp/key.pem|" \
    -e "s|^fork=true|fork=false|" -e "s|^LogFile=.*|LogFile=$tmp/xrdp.log|" \
    -e "s|^EnableSyslog=.*|EnableSyslog=false|" /etc/xrdp/xrdp.ini >"$tmp/xrdp.ini"
mkdir -p /run/xrdp
cap_bg "$srv" unshare -m sh -c "mount -t tmpfs tmpfs /run/xrdp && mkdir /run/xrdp/sockdir &&
    exec xrdp --nodaemon --config $tmp/xrdp.ini >$tmp/xrdp.out 2>&1"
cap_wait_port "$srv" 3389

cat >"$tmp/passwords" <<'PW'
password
Password1
admin
123456
Welcome1
Hospital1
Summer2024
Winter2024
P@ssw0rd
Admin123
letmein
qwerty
Passw0rd!
Changeme1
Spring2024
administrator
Rdp2024!
Autumn2024
Qwerty123
Hospital2024
PW

cap_start "$CAP_LAN_SENSOR" "$out/input.pcap" -i eth0 -s 0 -B 16384 tcp

for pw in $(cat "$tmp/passwords"); do
    cap_in "$att" hydra -t 1 -l administrator -p "$pw" "rdp://$sip" >>"$tmp/hydra.out" 2>&1 ||
        true
done

cap_stop
n=$(grep -c "^\[DATA\] attacking rdp://" "$tmp/hydra.out" || true)
if [ "$n" -ne 20 ]; then
    cat "$tmp/hydra.out" >&2
    echo "$0: hydra ran $n attempts, 20 expected" >&2
    exit 1
fi
# HOW: how it was made and tshark's reference counts (how.py).
$PY "$(dirname "$0")/how.py" "$0" "$out" tcp,rdp hydra xrdp
echo "$0: wrote $out/input.pcap and $out/HOW" >&2
