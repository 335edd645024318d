#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes dcmtk text dumps of tiny fake CT images, for dump2dcm (dicom-dcmtk.sh, dicom-orthanc.sh).

  dicom-objects.py OUTDIR        writes OUTDIR/obj1.dump ... obj3.dump
  dicom-objects.py OUTDIR pacs   writes OUTDIR/obj1.dump ... obj10.dump: a PACS's worth, one
                                 image in each of 10 studies of 3 patients (the attack-* and
                                 benign-baseline-mix cases), studies 2.25.7731001 ... 7731010

Fake patients only (the list in tests/integration/test_phi.py must name every identifier put
here). Fixed UIDs under the 2.25 root, 32x32 16-bit pixels (2 KB), so the objects and the
captures stay small and the same from one run to the next.
"""
import os
import sys

PATIENTS = {
    "alice": {"name": "TEST^ALICE", "id": "PID-0001", "birth": "19700101", "sex": "F",
              "address": "12 Test Lane^^Springfield", "phone": "555-0101"},
    "bob": {"name": "TEST^BOB", "id": "PID-0002", "birth": "19800202", "sex": "M",
            "address": "34 Fake Road^^Shelbyville", "phone": "555-0202"},
    "carol": {"name": "TEST^CAROL", "id": "PID-0003", "birth": "19650505", "sex": "F",
              "address": "56 Sample Street^^Ogdenville", "phone": "555-0303"},
}

# (patient, study, series, instance)
OBJECTS = [("alice", 1, 1, 1), ("alice", 1, 1, 2), ("bob", 2, 1, 1)]
# The "pacs" set: study n (1..10) of alice (1-4), bob (5-7) or carol (8-10), one image each.
PACS_PATIENTS = ["alice"] * 4 + ["bob"] * 3 + ["carol"] * 3


def pacs_ids(study):
    """UIDs, date and accession of study n of the "pacs" set (prefixes keep the UIDs apart)."""
    return {"study": "2.25.7731%03d" % study, "series": "2.25.7732%03d1" % study,
            "sop": "2.25.7733%03d11" % study, "date": "202401%02d" % study,
            "accession": "ACC-1%03d" % study}


def dump(patient, study, series, inst, ids=None):
    p = PATIENTS[patient]
    ids = ids or {"study": "2.25.773000%d" % study, "series": "2.25.773000%d%d" % (study, series),
                  "sop": "2.25.773000%d%d%d" % (study, series, inst),
                  "date": "2024011%d" % study, "accession": "ACC-000%d" % study}
    px = "\\".join("%04x" % ((i * 37 + inst) & 0x0FFF) for i in range(32 * 32))
    return "\n".join([
        "(0008,0005) CS [ISO_IR 100]",
        "(0008,0008) CS [ORIGINAL\\PRIMARY\\AXIAL]",
        "(0008,0016) UI =CTImageStorage",
        "(0008,0018) UI [%s]" % ids["sop"],
        "(0008,0020) DA [%s]" % ids["date"],
        "(0008,0030) TM [101500]",
        "(0008,0050) SH [%s]" % ids["accession"],
        "(0008,0060) CS [CT]",
        "(0008,0070) LO [IasoTest Medical]",
        "(0008,0080) LO [Test General Hospital]",
        "(0008,0090) PN [DOC^REFERRING]",
        "(0008,1010) SH [CT01]",
        "(0008,1090) LO [SimCT 9000]",
        "(0010,0010) PN [%s]" % p["name"],
        "(0010,0020) LO [%s]" % p["id"],
        "(0010,0030) DA [%s]" % p["birth"],
        "(0010,0040) CS [%s]" % p["sex"],
        "(0010,1040) LO [%s]" % p["address"],
        "(0010,2154) SH [%s]" % p["phone"],
        "(0018,1000) LO [SN-CT-0001]",
        "(0018,1020) LO [4.2.1]",
        "(0020,000d) UI [%s]" % ids["study"],
        "(0020,000e) UI [%s]" % ids["series"],
        "(0020,0010) SH [STUDY%d]" % study,
        "(0020,0011) IS [%d]" % series,
        "(0020,0013) IS [%d]" % inst,
        "(0028,0002) US 1",
        "(0028,0004) CS [MONOCHROME2]",
        "(0028,0010) US 32",
        "(0028,0011) US 32",
        "(0028,0100) US 16",
        "(0028,0101) US 12",
        "(0028,0102) US 11",
        "(0028,0103) US 0",
        "(7fe0,0010) OW " + px,
    ]) + "\n"


def main():
    out = sys.argv[1]
    if sys.argv[2:] == ["pacs"]:
        objs = [(p, n, 1, 1, pacs_ids(n)) for n, p in enumerate(PACS_PATIENTS, 1)]
    elif len(sys.argv) == 2:
        objs = OBJECTS
    else:
        sys.exit("usage: dicom-objects.py OUTDIR [pacs]")
    for n, o in enumerate(objs, 1):
        with open(os.path.join(out, "obj%d.dump" % n), "w") as f:
            f.write(dump(*o))


if __name__ == "__main__":
    main()
