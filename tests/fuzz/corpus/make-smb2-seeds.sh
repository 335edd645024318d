#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Captures real SMB traffic between Samba's smbd and smbclient in two private network namespaces
# (10.77.25.0/24, names iaso-smb-*), then turns the captures into the fuzz seeds of fuzz-smb2
# with make-smb2-seeds.py. Needs root and the Debian packages samba, smbclient, tcpdump.
#   ./make-smb2-seeds.sh [workdir]      (the pcaps stay in workdir, default a temp dir)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${1:-$(mktemp -d /tmp/iaso-smb-XXXXXX)}
NS_S=iaso-smb-srv
NS_C=iaso-smb-cli
SRV=10.77.25.1
CLI=10.77.25.2
SMBD_PID=
TCPDUMP_PID=

cleanup() {
    echo "cleaning up" >&2
    [ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null || true
    [ -n "$SMBD_PID" ] && kill "$SMBD_PID" 2>/dev/null || true
    # smbd's helpers (samba-dcerpcd, rpcd_*) outlive it: end what runs in our namespace.
    ip netns pids "$NS_S" 2>/dev/null | xargs -r kill 2>/dev/null || true
    sleep 0.5
    ip netns del "$NS_S" 2>/dev/null || true
    ip netns del "$NS_C" 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$WORK/share" "$WORK/state" "$WORK/private" "$WORK/lock" "$WORK/cache" "$WORK/pid"
chmod 777 "$WORK/share"

ip netns add "$NS_S"
ip netns add "$NS_C"
ip link add iaso-smb-v0 type veth peer name iaso-smb-v1
ip link set iaso-smb-v0 netns "$NS_S"
ip link set iaso-smb-v1 netns "$NS_C"
ip -n "$NS_S" addr add "$SRV/24" dev iaso-smb-v0
ip -n "$NS_C" addr add "$CLI/24" dev iaso-smb-v1
ip -n "$NS_S" link set iaso-smb-v0 up
ip -n "$NS_C" link set iaso-smb-v1 up
ip -n "$NS_S" link set lo up
ip -n "$NS_C" link set lo up

# A minimal server: one share of a temp folder, one local user, no encryption (so the traffic
# is parseable: clients do not ask for it) except on the share "secret", which demands it.
cat >"$WORK/smb.conf" <<EOF
[global]
    workgroup = IASOTEST
    netbios name = IASOSRV
    interfaces = $SRV/24
    bind interfaces only = yes
    smb ports = 445 139
    server role = standalone server
    security = user
    map to guest = never
    passdb backend = tdbsam:$WORK/private/passdb.tdb
    private dir = $WORK/private
    state directory = $WORK/state
    lock directory = $WORK/lock
    cache directory = $WORK/cache
    pid directory = $WORK/pid
    ncalogin = no
    log file = $WORK/smbd.log
    log level = 1
    server smb encrypt = if_required
    server min protocol = NT1
    ntlm auth = yes
    disable spoolss = yes
    load printers = no
[data]
    path = $WORK/share
    read only = no
    force user = root
[secret]
    path = $WORK/share
    read only = no
    force user = root
    server smb encrypt = required
EOF
sed -i '/ncalogin/d' "$WORK/smb.conf"

id iasosmb >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin iasosmb
printf 'Passw0rd!\nPassw0rd!\n' |
    ip netns exec "$NS_S" smbpasswd -c "$WORK/smb.conf" -s -a iasosmb >/dev/null

setsid ip netns exec "$NS_S" smbd --foreground --no-process-group -s "$WORK/smb.conf" &
SMBD_PID=$!
ip netns exec "$NS_C" tcpdump -i iaso-smb-v1 -s 0 -U -w "$WORK/smb.pcap" tcp port 445 or tcp port 139 \
    2>/dev/null &
TCPDUMP_PID=$!
sleep 2

printf 'hello from iaso\n' >"$WORK/small.txt"
printf 'caf\xc3\xa9 \xe2\x98\x83\n' >"$WORK/naive.txt"
UNAME=$'caf\xc3\xa9-\xe2\x98\x83.txt'
C="ip netns exec $NS_C smbclient -s /dev/null"
# A successful session with file operations (default dialect: SMB 3.1.1).
$C "//$SRV/data" -U 'iasosmb%Passw0rd!' -c "ls; mkdir dossier; cd dossier; \
lcd $WORK; put small.txt; put naive.txt $UNAME; get small.txt /dev/null; \
rename small.txt renamed.txt; del renamed.txt; del $UNAME; ls; cd ..; rmdir dossier" || true
# A failed login.
$C "//$SRV/data" -U 'iasosmb%wrong' -c 'ls' || true
# SMB3.0 dialect, IPC$ with named pipes (share listing over srvsvc).
$C -m SMB3_00 -L "$SRV" -U 'iasosmb%Passw0rd!' || true
# SMB1 negotiation (the client may refuse NT1).
$C -m NT1 --option='client min protocol=NT1' "//$SRV/data" -U 'iasosmb%Passw0rd!' -c 'ls' || true
# Over port 139 (NetBIOS session request first).
$C -p 139 "//$SRV/data" -U 'iasosmb%Passw0rd!' -c 'ls' || true
# An encrypted session.
$C "//$SRV/secret" -U 'iasosmb%Passw0rd!' --client-protection=encrypt -c 'ls' || true
sleep 1

kill "$TCPDUMP_PID"
wait "$TCPDUMP_PID" 2>/dev/null || true
TCPDUMP_PID=
echo "capture: $WORK/smb.pcap" >&2
/usr/bin/python3 "$HERE/make-smb2-seeds.py" "$WORK/smb.pcap"
