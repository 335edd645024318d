#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# attack-smb-ransom: ransomware behaviour on a file share: one client reads every file of a
# share, writes an encrypted copy named *.locked, removes the original and leaves ransom notes,
# all within seconds in one SMB session. Real smbclient against a real smbd (Samba), seen from
# the switch's mirror port.
#
#   WS07 10.77.43.10 (ns iaso-cap-sransom-ws-PID)  <-- switch -->
#   FILESRV 10.77.43.2:445 (ns ...-srv-PID), share "shared" holding 30 small files (fake
#   documents, 1 KB each, no patient data), 20 at its root and 10 in archive/
#
# smbd as in smb-samba.sh (samba.sh: SMB2/3, smb encrypt = off, signing as negotiated), user
# nurse7 with the right password. The "encryption" is a keystream XOR (SHA-256 counter mode with
# a fixed key in this script): high-entropy content, the same bytes on every regeneration.
# One smbclient session, captured (full snaplen), in this order:
#   for each of the 20 files at the root: get NAME; put NAME.locked; del NAME
#   cd archive; for each of its 10 files: get NAME; rename NAME NAME.locked; put NAME.locked
#     (the encrypted bytes overwrite the renamed original)
#   put README_TO_DECRYPT.txt (root) and archive/HOW_TO_RECOVER_FILES.txt
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
. "$(dirname "$0")/lan.sh"
. "$(dirname "$0")/samba.sh"
cap_need_root
out=$(cap_outdir attack-smb-ransom)
tmp=$(mktemp -d)
cap_samba_trap

cap_lan sransom 43
srv=iaso-cap-sransom-srv-$$
ws=iaso-cap-sransom-ws-$$
srv_ip=10.77.43.2
cap_lan_host "$srv" 02 "$srv_ip/24"
cap_lan_host "$ws" 10 10.77.43.10/24
cap_lan_static
cap_lan_span

mkdir -p "$tmp/share/archive" "$tmp/work"
chmod -R 0777 "$tmp/share"
# The share's files and their "encrypted" copies; prints the names, root files first.
$PY - "$tmp/share" "$tmp/work" >"$tmp/names" <<'PY'
import hashlib, os, sys
share, work = sys.argv[1], sys.argv[2]
names = (["ward-report-%02d.docx" % i for i in range(1, 11)] +
         ["rota-2024-%02d.xlsx" % i for i in range(1, 6)] +
         ["scanned-form-%02d.pdf" % i for i in range(1, 6)] +
         ["archive/lab-export-%02d.csv" % i for i in range(1, 11)])
for n in names:
    line = ("fake document %s, test data only, no patient information\n" % n).encode()
    body = (line * (1024 // len(line) + 1))[:1024]
    with open(os.path.join(share, n), "wb") as f:
        f.write(body)
    os.chmod(os.path.join(share, n), 0o666)
    ks = b"".join(hashlib.sha256(b"iaso-test-ransom-key|%s|%d" % (n.encode(), i)).digest()
                  for i in range(len(body) // 32 + 1))
    with open(os.path.join(work, os.path.basename(n) + ".locked"), "wb") as f:
        f.write(bytes(a ^ b for a, b in zip(body, ks)))
    print(n)
PY
cat >"$tmp/work/note.txt" <<'NOTE'
YOUR FILES ARE ENCRYPTED (test capture, nothing was harmed)
All documents on this share were encrypted. To recover them, contact the test team.
NOTE

cap_samba "$srv" "$srv_ip" FILESRV "nurse7:Nurse7-Pw-7730" "[shared]
    path = $tmp/share
    read only = no"
cap_samba_client WS07

cmds="lcd $tmp/work"
for n in $(grep -v / "$tmp/names"); do
    cmds="$cmds; get $n; put $n.locked; del $n"
done
cmds="$cmds; cd archive"
for n in $(grep / "$tmp/names"); do
    n=${n#archive/}
    cmds="$cmds; get $n; rename $n $n.locked; put $n.locked"
done
cmds="$cmds; cd \\; put note.txt README_TO_DECRYPT.txt; put note.txt archive\\HOW_TO_RECOVER_FILES.txt"

cap_start "$CAP_LAN_SENSOR" "$out/input.pcap" -i eth0 -s 0 -B 16384 tcp

cap_in "$ws" smbclient -s "$tmp/client.conf" "//$srv_ip/shared" -U 'nurse7%Nurse7-Pw-7730' \
    -c "$cmds" >"$tmp/smbclient.out" 2>&1

cap_stop
left=$(find "$tmp/share" -type f ! -name '*.locked' ! -name '*_*.txt' | wc -l)
locked=$(find "$tmp/share" -type f -name '*.locked' | wc -l)
notes=$(find "$tmp/share" -type f -name '*_*.txt' | wc -l)
if [ "$left" -ne 0 ] || [ "$locked" -ne 30 ] || [ "$notes" -ne 2 ]; then
    echo "$0: share holds $left originals (0 expected), $locked .locked (30), $notes notes (2)" >&2
    cat "$tmp/smbclient.out" >&2
    exit 1
fi
# HOW: how it was made and tshark's reference counts (how.py).
$PY "$(dirname "$0")/how.py" "$0" "$out" tcp,smb samba smbclient
echo "$0: wrote $out/input.pcap and $out/HOW" >&2
