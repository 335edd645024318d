#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# smb-samba: real SMB2/3 between smbclient and smbd (Samba), in two private namespaces.
#
#   workstation 10.77.33.1 (ns iaso-cap-smb-c-PID)  <-- veth -->  FILESRV 10.77.33.2:445
#
# smbd runs with a temporary smb.conf (share "scans" of a temporary folder, smb encrypt = off,
# no NetBIOS) and a temporary passdb holding one user, alice. The unix account smbd needs for
# alice lives in a private copy of /etc/passwd bind-mounted inside the server's mount namespace
# (ip netns exec gives each command its own), so the host's accounts are never touched.
# Sessions, in this order:
#   1. alice with a wrong password: SESSION_SETUP fails (STATUS_LOGON_FAILURE)
#   2. smbclient -L: tree connect to IPC$, srvsvc share enumeration
#   3. \\FILESRV\scans: ls, put, get, rename, mkdir, del, ls
# Captured at full snaplen on the server's veth.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
cap_need_root
out=$(cap_outdir smb-samba)
tmp=$(mktemp -d)
# smbd starts helpers (samba-dcerpcd, rpcd_*) on demand that may outlive it: end whatever is
# left in the server namespace (only this run's processes live there) before it is deleted.
trap 'ip netns pids "$srv" 2>/dev/null | xargs -r kill 2>/dev/null; rm -rf "$tmp"; cap_cleanup' EXIT

cap_client_server smb 33

mkdir -p "$tmp/share" "$tmp/private" "$tmp/lock" "$tmp/state" "$tmp/cache" "$tmp/run" \
    "$tmp/ncalrpc" "$tmp/home"
chmod 0711 "$tmp" # alice must reach the share inside it
chmod 0777 "$tmp/share"
cp /etc/passwd "$tmp/passwd"
cp /etc/group "$tmp/group"
echo "alice:x:7730:7730:Alice:$tmp/home:/usr/sbin/nologin" >>"$tmp/passwd"
echo "alice:x:7730:" >>"$tmp/group"

cat >"$tmp/smb.conf" <<CONF
[global]
    workgroup = HOSPITAL
    netbios name = FILESRV
    server role = standalone server
    security = user
    map to guest = never
    passdb backend = tdbsam:$tmp/private/passdb.tdb
    private dir = $tmp/private
    lock directory = $tmp/lock
    state directory = $tmp/state
    cache directory = $tmp/cache
    pid directory = $tmp/run
    ncalrpc dir = $tmp/ncalrpc
    log file = $tmp/log.%m
    interfaces = $sip/24
    bind interfaces only = yes
    smb ports = 445
    disable netbios = yes
    smb encrypt = off
    load printers = no
    printing = bsd
    printcap name = /dev/null
    disable spoolss = yes
[scans]
    path = $tmp/share
    read only = no
CONF

# One shell in the server namespace: private passwd/group, alice's Samba password, then smbd.
cap_bg "$srv" unshare -m sh -c "
    mount --bind $tmp/passwd /etc/passwd && mount --bind $tmp/group /etc/group &&
    printf 'Alice-Pw-7730\nAlice-Pw-7730\n' | smbpasswd -c $tmp/smb.conf -s -a alice >/dev/null &&
    exec smbd --foreground -s $tmp/smb.conf"
cap_wait_port "$srv" 445

cap_start "$srv" "$out/input.pcap" -i eth0 -s 0 tcp port 445

printf 'fake scanner output, no patient data\n' >"$tmp/scan-0001.txt"
# The client has its own configuration: its NetBIOS name (WS01) travels in the NTLMSSP messages.
printf '[global]\n    workgroup = HOSPITAL\n    netbios name = WS01\n' >"$tmp/client.conf"
c="cap_in $cli smbclient -s $tmp/client.conf"
if $c "//$sip/scans" -U 'alice%wrong-password' -c ls >/dev/null 2>&1; then
    echo "$0: login with a wrong password succeeded" >&2
    exit 1
fi
$c -L "//$sip" -U 'alice%Alice-Pw-7730' >/dev/null
cmds="ls; put scan-0001.txt; get scan-0001.txt scan-copy.txt"
cmds="$cmds; rename scan-0001.txt scan-0001-old.txt; mkdir archive; del scan-0001-old.txt; ls"
(cd "$tmp" && $c "//$sip/scans" -U 'alice%Alice-Pw-7730' -c "$cmds" \
    | grep -E "NT_STATUS|^putting|^getting" >&2 || true)
cmp -s "$tmp/scan-0001.txt" "$tmp/scan-copy.txt" || {
    echo "$0: get did not return what put sent" >&2
    exit 1
}

cap_stop
echo "$0: wrote $out/input.pcap" >&2
