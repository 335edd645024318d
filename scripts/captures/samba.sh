# SPDX-License-Identifier: Apache-2.0
# A real smbd for the SMB attack captures (sourced after lib.sh, not run), set up as
# smb-samba.sh does: a temporary smb.conf (SMB2/3, smb encrypt = off so the capture can be read,
# no NetBIOS, no printers) and a temporary passdb; the unix accounts smbd needs live in a private
# copy of /etc/passwd bind-mounted in the server's own mount namespace, so the host's accounts
# are never touched. Needs $tmp (the caller's temporary directory, removed on exit).
#
#   cap_samba NS ADDR NETBIOS "USER:PASSWORD ..." SHARES
#       starts smbd in NS listening on ADDR:445 only, with one unix + Samba account per
#       USER:PASSWORD (uids from 7730 up) and the share sections SHARES (smb.conf text) after
#       [global]; returns when port 445 listens. smbd's helpers (samba-dcerpcd, rpcd_*) are
#       ended with the namespace: call cap_samba_trap once, before, to install that.
#   cap_samba_client NETBIOS   writes $tmp/client.conf: the client's workgroup and NetBIOS name
#                              (it travels in NTLMSSP)

cap_samba_trap() {
    # shellcheck disable=SC2016 # expanded when the trap runs
    trap 'ip netns pids "$CAP_SAMBA_NS" 2>/dev/null | xargs -r kill 2>/dev/null; rm -rf "$tmp";
          cap_cleanup' EXIT
}

cap_samba() {
    CAP_SAMBA_NS=$1
    s_addr=$2
    s_name=$3
    s_users=$4
    s_shares=$5
    mkdir -p "$tmp/private" "$tmp/lock" "$tmp/state" "$tmp/cache" "$tmp/run" "$tmp/ncalrpc" \
        "$tmp/home"
    chmod 0711 "$tmp" # the users must reach the shares inside it
    cp /etc/passwd "$tmp/passwd"
    cp /etc/group "$tmp/group"
    s_uid=7730
    s_setpw=""
    for up in $s_users; do
        u=${up%%:*}
        pw=${up#*:}
        echo "$u:x:$s_uid:$s_uid:$u:$tmp/home:/usr/sbin/nologin" >>"$tmp/passwd"
        echo "$u:x:$s_uid:" >>"$tmp/group"
        s_setpw="$s_setpw printf '%s\\n%s\\n' '$pw' '$pw' | smbpasswd -c $tmp/smb.conf -s -a $u >/dev/null &&"
        s_uid=$((s_uid + 1))
    done
    cat >"$tmp/smb.conf" <<CONF
[global]
    workgroup = HOSPITAL
    netbios name = $s_name
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
    interfaces = $s_addr/24
    bind interfaces only = yes
    smb ports = 445
    disable netbios = yes
    smb encrypt = off
    load printers = no
    printing = bsd
    printcap name = /dev/null
    disable spoolss = yes
$s_shares
CONF
    cap_bg "$CAP_SAMBA_NS" unshare -m sh -c "
        mount --bind $tmp/passwd /etc/passwd && mount --bind $tmp/group /etc/group &&
        $s_setpw exec smbd --foreground -s $tmp/smb.conf"
    cap_wait_port "$CAP_SAMBA_NS" 445
}

cap_samba_client() {
    printf '[global]\n    workgroup = HOSPITAL\n    netbios name = %s\n' "$1" >"$tmp/client.conf"
}
