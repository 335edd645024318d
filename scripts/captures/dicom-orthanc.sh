#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# dicom-orthanc: DICOM and REST against a real Orthanc PACS, in two private namespaces.
#
#   workstation 10.77.31.1 (ns iaso-cap-orth-c-PID)  <-- veth -->  Orthanc 10.77.31.2
#                                         DICOM 4242 (AE ORTHANC), HTTP 8042 (ns ...-s-PID)
#
# Orthanc runs in the foreground with a temporary JSON config (temporary storage, no plugins).
# From the workstation: echoscu; storescu of the 3 fake CT images (dicom-objects.py); findscu at
# STUDY level (PatientName=TEST*); one REST call, GET /patients, with curl. Remote HTTP access
# needs RemoteAccessAllowed, so it is on, guarded by HTTP basic authentication (a throwaway
# user, only inside these namespaces).
# Port 4242 is not DICOM's 104, so tshark needs decode-as (-d tcp.port==4242,dicom).
# Captured at full snaplen on Orthanc's veth.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
cap_need_root
out=$(cap_outdir dicom-orthanc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_client_server orth 31

mkdir -p "$tmp/obj" "$tmp/db"
$PY "$(dirname "$0")/dicom-objects.py" "$tmp/obj"
for f in "$tmp"/obj/*.dump; do
    dump2dcm +te --line 8192 "$f" "${f%.dump}.dcm"
done

cat >"$tmp/orthanc.json" <<JSON
{
  "Name": "IasoTestPACS",
  "StorageDirectory": "$tmp/db",
  "IndexDirectory": "$tmp/db",
  "Plugins": [],
  "DicomServerEnabled": true,
  "DicomAet": "ORTHANC",
  "DicomPort": 4242,
  "DicomCheckCalledAet": false,
  "DicomAlwaysAllowEcho": true,
  "DicomAlwaysAllowStore": true,
  "DicomAlwaysAllowFind": true,
  "HttpServerEnabled": true,
  "HttpPort": 8042,
  "RemoteAccessAllowed": true,
  "AuthenticationEnabled": true,
  "RegisteredUsers": { "iaso": "iaso-test" },
  "HttpCompressionEnabled": false,
  "StableAge": 1,
  "SaveJobs": false
}
JSON

cap_bg "$srv" sh -c "exec Orthanc $tmp/orthanc.json 2>$tmp/orthanc.log"
i=0
until cap_in "$srv" ss -ltn | grep -q ":4242 " && cap_in "$srv" ss -ltn | grep -q ":8042 "; do
    i=$((i + 1))
    if [ $i -gt 300 ]; then
        echo "$0: Orthanc did not start within 30 s" >&2
        exit 1
    fi
    sleep 0.1
done

cap_start "$srv" "$out/input.pcap" -i eth0 -s 0 tcp

d="cap_in $cli"
$d echoscu -aet ECHOSCU -aec ORTHANC "$sip" 4242
$d storescu -aet STORESCU -aec ORTHANC "$sip" 4242 "$tmp"/obj/obj1.dcm "$tmp"/obj/obj2.dcm \
    "$tmp"/obj/obj3.dcm
$d findscu -q -S -aet FINDSCU -aec ORTHANC -k QueryRetrieveLevel=STUDY -k "PatientName=TEST*" \
    -k PatientID -k StudyInstanceUID -k StudyDate "$sip" 4242
$d curl -sS --fail --max-time 10 -u iaso:iaso-test "http://$sip:8042/patients" >"$tmp/patients"
n=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/patients")

cap_stop
if [ "$n" -ne 2 ]; then
    echo "$0: Orthanc lists $n patients, 2 expected" >&2
    exit 1
fi
echo "$0: wrote $out/input.pcap" >&2
