#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# dicom-dcmtk: real DICOM between dcmtk peers, in two private namespaces.
#
#   workstation 10.77.30.1 (ns iaso-cap-dicom-c-PID)  <-- veth -->  PACS 10.77.30.2 (ns ...-s-PID)
#     storescp, AE STORESCP, port 11113                       dcmqrscp, AE PACS, port 11112
#
# From the workstation, in this order (client AE titles name the tool):
#   echoscu   C-ECHO                                          (calling ECHOSCU)
#   storescu  C-STORE of 3 tiny fake CT images, 2 patients    (calling STORESCU)
#   findscu   C-FIND, patient root, PATIENT level, PatientName=TEST*   (calling FINDSCU)
#   findscu   C-FIND, study root, STUDY level, PatientID=PID-0001
#   movescu   C-MOVE of study 1 to STORESCP: the PACS opens a second association back to the
#             workstation's storescp and C-STOREs the 2 images there  (calling MOVESCU)
#   getscu    C-GET of study 2: the C-STORE comes back on the same association (calling GETSCU)
# Ports 11112/11113 are not DICOM's registered 104, so tshark needs decode-as (-d tcp.port==...).
# Captured at full snaplen on the PACS's veth. Patient data is fake (dicom-objects.py).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
cap_need_root
out=$(cap_outdir dicom-dcmtk)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_client_server dicom 30

mkdir -p "$tmp/obj" "$tmp/db" "$tmp/recv" "$tmp/get"
$PY "$(dirname "$0")/dicom-objects.py" "$tmp/obj"
for f in "$tmp"/obj/*.dump; do
    dump2dcm +te --line 8192 "$f" "${f%.dump}.dcm"
done

cat >"$tmp/dcmqrscp.cfg" <<CFG
NetworkTCPPort  = 11112
MaxPDUSize      = 16384
MaxAssociations = 16
HostTable BEGIN
STORESCP = (STORESCP, $cip, 11113)
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
PACS $tmp/db RW (20, 64mb) ANY
AETable END
CFG

cap_bg "$srv" dcmqrscp -c "$tmp/dcmqrscp.cfg" 11112
cap_bg "$cli" storescp -aet STORESCP -od "$tmp/recv" 11113
cap_wait_port "$srv" 11112
cap_wait_port "$cli" 11113

cap_start "$srv" "$out/input.pcap" -i eth0 -s 0 tcp

d="ip netns exec $cli"
$d echoscu -aet ECHOSCU -aec PACS "$sip" 11112
$d storescu -aet STORESCU -aec PACS "$sip" 11112 "$tmp"/obj/obj1.dcm "$tmp"/obj/obj2.dcm \
    "$tmp"/obj/obj3.dcm
$d findscu -q -P -aet FINDSCU -aec PACS -k QueryRetrieveLevel=PATIENT -k "PatientName=TEST*" \
    -k PatientID -k PatientBirthDate "$sip" 11112
$d findscu -q -S -aet FINDSCU -aec PACS -k QueryRetrieveLevel=STUDY -k PatientID=PID-0001 \
    -k StudyInstanceUID -k StudyDate -k PatientName "$sip" 11112
$d movescu -S -aet MOVESCU -aec PACS -aem STORESCP -k QueryRetrieveLevel=STUDY \
    -k StudyInstanceUID=2.25.7730001 "$sip" 11112
$d getscu -S -aet GETSCU -aec PACS -od "$tmp/get" -k QueryRetrieveLevel=STUDY \
    -k StudyInstanceUID=2.25.7730002 "$sip" 11112

n_recv=$(ls "$tmp/recv" | wc -l)
n_get=$(ls "$tmp/get" | wc -l)
cap_stop
if [ "$n_recv" -ne 2 ] || [ "$n_get" -ne 1 ]; then
    echo "$0: C-MOVE delivered $n_recv objects (2 expected), C-GET $n_get (1 expected)" >&2
    exit 1
fi
echo "$0: wrote $out/input.pcap" >&2
