# SPDX-License-Identifier: Apache-2.0
# The hospital LAN shared by attack-dicom-sweep, attack-hl7-forged and benign-baseline-mix
# (sourced after lib.sh, pair.sh and lan.sh, not run), so that a baseline learnt on one capture
# applies to the others: the same hosts, addresses, MACs, AE titles and HL7 applications.
#
#   10.77.40.0/24, one switch (cap_lan), the sensor on its mirror port ($CAP_LAN_SENSOR, eth0)
#   PACS    10.77.40.2   dcmqrscp, AE PACS, port 104, holding 10 studies of 3 fake patients
#   CT01    10.77.40.10  modality, calling AE CT01 (stores the studies)
#   WS01    10.77.40.11  radiology workstation, calling AE WS01, storescp AE WS01 on port 104
#                        (the usual C-MOVE destination)
#   HIS     10.77.40.20  HL7 sender, MSH-3/4 HIS^HOSPITAL
#   RIS     10.77.40.21  HL7 MLLP receiver on port 2575, RIS^RADIOLOGY
#   ROGUE   10.77.40.66  a host that is not part of the workflow (attacks only); its storescp
#                        answers as AE NEWDEST on port 104
#   LAPTOP  10.77.40.67  another such host (HL7 forgery)
#
#   cap_hospital NAME     creates all of the above (namespaces $pacs $ct $ws $his $ris $rogue
#                         $laptop) and sets their addresses in $pacs_ip ... $laptop_ip
#   cap_hospital_pacs     starts dcmqrscp in $pacs and WS01's storescp, writes the 10 studies
#                         to $tmp/obj/obj1.dcm ... obj10.dcm and stores them from CT01 (call
#                         before cap_start: the loading is not captured), unless
#                         CAP_HOSPITAL_NO_LOAD=1 (the PACS stays empty)
#   cap_hospital_newdest  starts the NEWDEST storescp on ROGUE
# Every object received by a storescp lands in $tmp/recv-<AE>/ (the caller's $tmp).

cap_hospital() {
    cap_lan "$1" 40
    pacs=iaso-cap-$1-pacs-$$
    ct=iaso-cap-$1-ct-$$
    ws=iaso-cap-$1-ws-$$
    his=iaso-cap-$1-his-$$
    ris=iaso-cap-$1-ris-$$
    rogue=iaso-cap-$1-rogue-$$
    laptop=iaso-cap-$1-laptop-$$
    pacs_ip=10.77.40.2
    ct_ip=10.77.40.10
    ws_ip=10.77.40.11
    his_ip=10.77.40.20
    ris_ip=10.77.40.21
    rogue_ip=10.77.40.66
    laptop_ip=10.77.40.67
    cap_lan_host "$pacs" 02 "$pacs_ip/24"
    cap_lan_host "$ct" 10 "$ct_ip/24"
    cap_lan_host "$ws" 11 "$ws_ip/24"
    cap_lan_host "$his" 20 "$his_ip/24"
    cap_lan_host "$ris" 21 "$ris_ip/24"
    cap_lan_host "$rogue" 66 "$rogue_ip/24"
    cap_lan_host "$laptop" 67 "$laptop_ip/24"
    cap_lan_static
    cap_lan_span
}

cap_hospital_pacs() {
    mkdir -p "$tmp/obj" "$tmp/db" "$tmp/recv-WS01"
    $PY "$(dirname "$0")/dicom-objects.py" "$tmp/obj" pacs
    for f in "$tmp"/obj/*.dump; do
        dump2dcm +te --line 8192 "$f" "${f%.dump}.dcm"
    done
    cat >"$tmp/dcmqrscp.cfg" <<CFG
NetworkTCPPort  = 104
MaxPDUSize      = 16384
MaxAssociations = 16
HostTable BEGIN
WS01    = (WS01, $ws_ip, 104)
NEWDEST = (NEWDEST, $rogue_ip, 104)
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
PACS $tmp/db RW (50, 64mb) ANY
AETable END
CFG
    # Association profiles: the PACS accepts verification, query/retrieve and CT storage, and
    # for the C-STOREs of a C-MOVE proposes only the storage classes a small CT/MR/CR PACS holds
    # (dcmqrscp otherwise proposes every storage class it knows: 13 KB per A-ASSOCIATE-RQ).
    cat >"$tmp/assoc.cfg" <<'CFG'
[[TransferSyntaxes]]
[Uncompressed]
TransferSyntax1 = LocalEndianExplicit
TransferSyntax2 = LittleEndianImplicit
[[PresentationContexts]]
[PacsIn]
PresentationContext1 = VerificationSOPClass\Uncompressed
PresentationContext2 = FINDPatientRootQueryRetrieveInformationModel\Uncompressed
PresentationContext3 = MOVEPatientRootQueryRetrieveInformationModel\Uncompressed
PresentationContext4 = GETPatientRootQueryRetrieveInformationModel\Uncompressed
PresentationContext5 = FINDStudyRootQueryRetrieveInformationModel\Uncompressed
PresentationContext6 = MOVEStudyRootQueryRetrieveInformationModel\Uncompressed
PresentationContext7 = GETStudyRootQueryRetrieveInformationModel\Uncompressed
PresentationContext8 = CTImageStorage\Uncompressed
PresentationContext9 = MRImageStorage\Uncompressed
PresentationContext10 = ComputedRadiographyImageStorage\Uncompressed
[PacsOut]
PresentationContext1 = CTImageStorage\Uncompressed
PresentationContext2 = MRImageStorage\Uncompressed
PresentationContext3 = ComputedRadiographyImageStorage\Uncompressed
[[Profiles]]
[In]
PresentationContexts = PacsIn
[Out]
PresentationContexts = PacsOut
CFG
    cap_bg "$pacs" dcmqrscp -dhl -c "$tmp/dcmqrscp.cfg" -xf "$tmp/assoc.cfg" In Out 104
    cap_bg "$ws" storescp -dhl -aet WS01 -od "$tmp/recv-WS01" 104
    cap_wait_port "$pacs" 104
    cap_wait_port "$ws" 104
    [ "${CAP_HOSPITAL_NO_LOAD:-0}" = 1 ] && return 0
    # shellcheck disable=SC2046 # the file names have no spaces
    cap_in "$ct" storescu -aet CT01 -aec PACS "$pacs_ip" 104 $(ls "$tmp"/obj/*.dcm | sort -V)
}

cap_hospital_newdest() {
    mkdir -p "$tmp/recv-NEWDEST"
    cap_bg "$rogue" storescp -dhl -aet NEWDEST -od "$tmp/recv-NEWDEST" 104
    cap_wait_port "$rogue" 104
}

# cap_dicom_query FILE LINE...: a C-FIND or C-MOVE identifier as a DICOM file for findscu or
# movescu, from dcmtk dump lines given as "(gggg,eeee) VR [value]".
cap_dicom_query() {
    q_out=$1
    shift
    printf '%s\n' "$@" >"$q_out.dump"
    dump2dcm -q +te "$q_out.dump" "$q_out"
}

# cap_hospital_adt DIR: the HIS's usual HL7 traffic, in two files for mllp_send --loose (one
# connection each): DIR/his1.hl7 ADT^A01 admit (TEST^ALICE) and ADT^A08 update (TEST^ALICE);
# DIR/his2.hl7 ADT^A04 registration (TEST^BOB) and ADT^A03 discharge (TEST^ALICE). All from
# HIS^HOSPITAL to RIS^RADIOLOGY. Fake patients only (tests/integration/test_phi.py lists them).
cap_hospital_adt() {
    cat >"$1/his1.hl7" <<'HL7'
MSH|^~\&|HIS|HOSPITAL|RIS|RADIOLOGY|20240115101500||ADT^A01^ADT_A01|HIS00001|P|2.5.1
EVN|A01|20240115101500
PID|1||PID-0001^^^HOSPITAL^MR||TEST^ALICE^MARIE||19700101|F|||12 Test Lane^^Springfield^IL^62701||555-0101
PV1|1|I|WARD1^101^A||||DOC1^REFERRING^DOC
MSH|^~\&|HIS|HOSPITAL|RIS|RADIOLOGY|20240115101600||ADT^A08^ADT_A01|HIS00002|P|2.5.1
EVN|A08|20240115101600
PID|1||PID-0001^^^HOSPITAL^MR||TEST^ALICE^MARIE||19700101|F|||12 Test Lane^^Springfield^IL^62701||555-0199
PV1|1|I|WARD1^102^A||||DOC1^REFERRING^DOC
HL7
    cat >"$1/his2.hl7" <<'HL7'
MSH|^~\&|HIS|HOSPITAL|RIS|RADIOLOGY|20240115110000||ADT^A04^ADT_A01|HIS00003|P|2.5.1
EVN|A04|20240115110000
PID|1||PID-0002^^^HOSPITAL^MR||TEST^BOB||19800202|M|||34 Fake Road^^Shelbyville^IL^62565||555-0202
PV1|1|O|RAD^XR1^1||||DOC2^ORDERING^DOC
MSH|^~\&|HIS|HOSPITAL|RIS|RADIOLOGY|20240115113000||ADT^A03^ADT_A03|HIS00004|P|2.5.1
EVN|A03|20240115113000
PID|1||PID-0001^^^HOSPITAL^MR||TEST^ALICE^MARIE||19700101|F|||12 Test Lane^^Springfield^IL^62701||555-0199
PV1|1|I|WARD1^102^A||||DOC1^REFERRING^DOC
HL7
}
