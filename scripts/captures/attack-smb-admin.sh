#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# attack-smb-admin: PsExec-style lateral movement over SMB: a burst of failed logons as
# "administrator", then a successful one, an executable copied into the ADMIN$ share, a look at
# C$, and the service control manager's named pipe (\PIPE\svcctl) opened on IPC$ to list and
# create a service. Real smbclient and net (Samba's client tools) against a real smbd (Samba),
# seen from the switch's mirror port.
#
#   WS12 10.77.44.10 (ns iaso-cap-sadmin-ws-PID)  <-- switch -->
#   SRV01 10.77.44.2:445 (ns ...-srv-PID), shares ADMIN$ and C$ (Samba takes any share name;
#   the trailing $ only hides them from share lists), users administrator and nurse7
#
# Captured (full snaplen), in this order, all from WS12:
#   15 x smbclient //SRV01/C$ -U administrator%<wrong password> -c ls: each a new connection,
#        NTLMSSP SESSION_SETUP answered STATUS_LOGON_FAILURE
#   smbclient //SRV01/ADMIN$ -U administrator: put PSEXESVC.exe (a small fake .exe: an MZ
#        header and padding, not a program)
#   smbclient //SRV01/C$ -U administrator: ls, cd Windows, ls
#   net rpc service list -S SRV01 -U administrator: tree connect to IPC$, CREATE of the named
#        pipe svcctl, DCE/RPC bind to the SVCCTL interface, OpenSCManagerW, EnumServicesStatusW
#   net rpc service create PSEXESVC ... : the same pipe again; Samba denies the OpenSCManagerW
#        that asks for create access (WERR_ACCESS_DENIED), so no CreateServiceW follows (the
#        attempt, not its success, is what is on the wire)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
. "$(dirname "$0")/lan.sh"
. "$(dirname "$0")/samba.sh"
cap_need_root
out=$(cap_outdir attack-smb-admin)
tmp=$(mktemp -d)
cap_samba_trap

cap_lan sadmin 44
srv=iaso-cap-sadmin-srv-$$
ws=iaso-cap-sadmin-ws-$$
srv_ip=10.77.44.2
cap_lan_host "$srv" 02 "$srv_ip/24"
cap_lan_host "$ws" 10 10.77.44.10/24
cap_lan_static
cap_lan_span

mkdir -p "$tmp/admin" "$tmp/c/Windows/Temp" "$tmp/c/Users"
chmod -R 0777 "$tmp/admin" "$tmp/c"
printf 'fake system file\n' >"$tmp/c/Windows/win.ini"
# PSEXESVC.exe: "MZ", a DOS stub message and zero padding to 4 KB; not a program.
$PY -c 'import sys; d = b"MZ" + b"\x90\x00" * 29 + b"This program cannot be run in DOS mode.\r\n$"
sys.stdout.buffer.write(d + b"\x00" * (4096 - len(d)))' >"$tmp/PSEXESVC.exe"

cap_samba "$srv" "$srv_ip" SRV01 "administrator:Adm1n-Pw-7730 nurse7:Nurse7-Pw-7730" "[ADMIN\$]
    path = $tmp/admin
    read only = no
    valid users = administrator
[C\$]
    path = $tmp/c
    read only = no
    valid users = administrator"
cap_samba_client WS12

cap_start "$CAP_LAN_SENSOR" "$out/input.pcap" -i eth0 -s 0 -B 16384 tcp

c="cap_in $ws smbclient -s $tmp/client.conf"
for pw in password Password1 admin 123456 Welcome1 Hospital1 Summer2024 Winter2024 \
    P@ssw0rd Admin123 letmein qwerty Passw0rd! Changeme1 Spring2024; do
    if $c "//$srv_ip/C\$" -U "administrator%$pw" -c ls >/dev/null 2>&1; then
        echo "$0: administrator logged on with $pw" >&2
        exit 1
    fi
done
$c "//$srv_ip/ADMIN\$" -U 'administrator%Adm1n-Pw-7730' -c "lcd $tmp; put PSEXESVC.exe" \
    >"$tmp/put.out" 2>&1
$c "//$srv_ip/C\$" -U 'administrator%Adm1n-Pw-7730' -c "ls; cd Windows; ls" >/dev/null
net="cap_in $ws net -s $tmp/client.conf rpc service -S $srv_ip -I $srv_ip \
    -U administrator%Adm1n-Pw-7730"
$net list >"$tmp/svc-list.out" 2>&1 || true
$net create PSEXESVC PSEXESVC '%SystemRoot%\PSEXESVC.exe' >"$tmp/svc-create.out" 2>&1 || true

cap_stop
if ! cmp -s "$tmp/PSEXESVC.exe" "$tmp/admin/PSEXESVC.exe"; then
    echo "$0: PSEXESVC.exe did not reach ADMIN\$:" >&2
    cat "$tmp/put.out" >&2
    exit 1
fi
echo "net rpc service list:" >&2
cat "$tmp/svc-list.out" >&2
echo "net rpc service create:" >&2
cat "$tmp/svc-create.out" >&2
# HOW: how it was made and tshark's reference counts (how.py).
$PY "$(dirname "$0")/how.py" "$0" "$out" tcp,smb samba smbclient
echo "$0: wrote $out/input.pcap and $out/HOW" >&2
