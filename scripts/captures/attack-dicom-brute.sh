#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# attack-dicom-brute: nmap guesses the called AE title of a PACS that checks it (nmap's NSE
# scripts dicom-ping and dicom-brute), then a loop of dcmtk echoscu tries more titles. A real
# dcmqrscp (dcmtk) as the PACS, seen from the switch's mirror port.
#
#   SCANNER 10.77.41.66 (ns iaso-cap-dbrute-scan-PID)  <-- switch -->
#   PACS 10.77.41.2:104 (ns ...-pacs-PID), dcmqrscp whose only AE title is HOSPPACS: an
#   association whose called AE title is not HOSPPACS gets A-ASSOCIATE-RJ (result 1 rejected
#   permanent, source 1 service user, reason 7 called AE title not recognised)
#
# Captured, in this order (the sensor sits on the switch's mirror port, full snaplen):
#   nmap -n -Pn -sT -p 104 --script dicom-ping,dicom-brute with a wordlist of 30 AE titles
#     (aets below, the right one last): one TCP connect for the port scan; dicom-ping and
#     dicom-brute's check associate with called AE ANY-SCP (calling ECHOSCU); dicom-brute then
#     tries the 30 titles (5 threads, so their order on the wire varies; the set does not); the
#     right one is accepted (A-ASSOCIATE-AC) and nmap closes the connection without a release
#   echoscu -aet ECHOSCU -aec TITLE for 10 more wrong titles, then the right one (1 C-ECHO)
# (Orthanc with DicomCheckCalledAet rejects too, but it answers one association at a time and
# leaves the rejected connection open until the client gives up, about 6 s for nmap: 30 guesses
# took minutes and their order raced; dcmqrscp forks per association and closes at once.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
. "$(dirname "$0")/lan.sh"
cap_need_root
out=$(cap_outdir attack-dicom-brute)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_lan dbrute 41
pacs=iaso-cap-dbrute-pacs-$$
scan=iaso-cap-dbrute-scan-$$
pacs_ip=10.77.41.2
scan_ip=10.77.41.66
cap_lan_host "$pacs" 02 "$pacs_ip/24"
cap_lan_host "$scan" 66 "$scan_ip/24"
cap_lan_static
cap_lan_span

mkdir -p "$tmp/db"
cat >"$tmp/dcmqrscp.cfg" <<CFG
NetworkTCPPort  = 104
MaxPDUSize      = 16384
MaxAssociations = 16
HostTable BEGIN
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
HOSPPACS $tmp/db RW (10, 16mb) ANY
AETable END
CFG
# 29 titles that PACS and DICOM tools commonly use, then the right one.
cat >"$tmp/aets" <<'AETS'
ANY-SCP
ORTHANC
PACS
DCM4CHEE
DCM4CHEE-ARC
STORESCP
CONQUESTSRV1
OSIRIX
HOROS
CLEARCANVAS
ARCHIVE
SERVER
DICOM
AE_TITLE
PACS1
PACSSERVER
STORAGE
QRSCP
DCMQRSCP
MAIN
RADIOLOGY
CTSCP
MRSCP
IMPAX
SYNAPSE
CENTRICITY
AGFA
GEPACS
SIEMENS
HOSPPACS
AETS
# echoscu: 10 more wrong titles, then the right one.
wrong="CT01 MR01 US01 WORKLIST RIS PACSQR PACS2 ARCH01 VNA MODALITY"

cap_bg "$pacs" dcmqrscp -dhl -c "$tmp/dcmqrscp.cfg" 104
cap_wait_port "$pacs" 104

cap_start "$CAP_LAN_SENSOR" "$out/input.pcap" -i eth0 -s 0 -B 16384 tcp

cap_in "$scan" nmap -n -Pn -sT -p 104 --script dicom-ping,dicom-brute \
    --script-args "passdb=$tmp/aets" "$pacs_ip" >"$tmp/nmap.out" 2>&1
for t in $wrong; do
    if cap_in "$scan" echoscu -aet ECHOSCU -aec "$t" "$pacs_ip" 104 >/dev/null 2>&1; then
        echo "$0: the PACS accepted called AE $t" >&2
        exit 1
    fi
done
cap_in "$scan" echoscu -aet ECHOSCU -aec HOSPPACS "$pacs_ip" 104

cap_stop
if ! grep -q "HOSPPACS - Valid credentials" "$tmp/nmap.out"; then
    echo "$0: nmap dicom-brute did not find HOSPPACS:" >&2
    cat "$tmp/nmap.out" >&2
    exit 1
fi
cat "$tmp/nmap.out" >&2
# HOW: how it was made and tshark's reference counts (how.py).
$PY "$(dirname "$0")/how.py" "$0" "$out" tcp,dicom dcmtk nmap
echo "$0: wrote $out/input.pcap and $out/HOW" >&2
