# SPDX-License-Identifier: Apache-2.0
"""No patient identifier leaves the sensor in clear unless --phi-clear is given.

  /usr/bin/python3 -m pytest tests/integration/test_phi.py

Every capture in tests/pcap goes through the sensor with its default options (plus the case's
args and --inventory); none of the fake patient identifiers planted in the captures by
scripts/captures (dicom-objects.py, hl7-mllp.sh, fhir-server.py, http-fhir.sh) may appear in the
EVE output, in the inventory file or on stderr. With --phi-clear, the same captures must show
some of them, which proves that the sensor did meet them (and that this test can fail).
Keep FAKE_PHI in step with the capture scripts when they change.
"""
import re

import pytest

import pcap_cases as pc

# Every fake patient identifier put in the captures, in the forms they travel in. Case-sensitive
# substrings; none is a plain word that could occur by chance ("alice" alone is the SMB and RDP
# user name, not a patient).
FAKE_PHI = [
    # names: DICOM/HL7 PN and XPN, FHIR HumanName.text, the C-FIND wildcard query
    "TEST^ALICE", "Alice Test", "TEST^BOB", "TEST^CAROL", "Dave Test", "TEST*",
    # patient ids (DICOM PatientID, HL7 PID-3 and MRG-1, FHIR identifier), account, SSN
    "PID-0001", "PID-0002", "PID-0003", "PID-0004", "PID-0009", "ACCT-0001", "999-00-1234",
    # a FHIR Patient logical id in a URL
    "Patient/123",
    # birth dates, DICOM/HL7 and FHIR forms
    "19700101", "1970-01-01", "19800202", "19650505", "1990-04-04",
    # addresses
    "12 Test Lane", "34 Fake Road", "56 Sample Street", "78 Example Avenue",
    # phone numbers
    "555-0101", "555-0199", "555-0202", "555-0303", "555-0404",
]

# Cases whose captures carry patient data, the parser that must see it, and identifiers that
# --phi-clear must show (at least one of them).
PHI_CASES = {
    "dicom-dcmtk": ("dicom", ["TEST^ALICE", "PID-0001", "19700101", "TEST^BOB", "PID-0002"]),
    "dicom-orthanc": ("dicom", ["TEST^ALICE", "PID-0001", "19700101", "TEST^BOB", "PID-0002"]),
    "hl7-mllp": ("hl7", ["TEST^ALICE", "PID-0001", "TEST^CAROL", "PID-0009", "999-00-1234",
                         "12 Test Lane", "555-0303"]),
    "http-fhir": ("http", ["Patient/123"]),
}

PSEUDONYM_RE = re.compile(r"phi:[0-9a-f]{32}")
PHI_PREFIX_RE = re.compile(r"phi:[^\"]*")

CASES = pc.cases()


def run(case, tmp_path, extra=()):
    inv = tmp_path / "inventory.json"
    proc = pc.run_sensor(case, ["--inventory", str(inv)] + list(extra))
    assert proc.returncode == pc.case_exit(case), "%s: exit %d:\n%s" % (
        case.name, proc.returncode, proc.stderr[-2000:])
    inventory = inv.read_text() if inv.exists() else ""
    return proc.stdout, inventory, proc.stderr


def leaks(text):
    return sorted({p for p in FAKE_PHI if p in text})


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_phi_by_default(case, tmp_path):
    eve, inventory, stderr = run(case, tmp_path)
    pc.parse_eve(eve, case.name)
    for what, text in (("EVE output", eve), ("inventory", inventory), ("stderr", stderr)):
        found = leaks(text)
        assert not found, "%s: patient identifiers in clear in the %s: %s\n%s" % (
            case.name, what, found, "\n".join(
                line[:300] for line in text.splitlines() if any(p in line for p in found))[:3000])
        # Every pseudonym has the documented form: "phi:" and 32 lowercase hex digits.
        bad = [m for m in PHI_PREFIX_RE.findall(text) if not PSEUDONYM_RE.fullmatch(m)]
        assert not bad, "%s: malformed pseudonyms in the %s: %s" % (case.name, what, bad[:5])


@pytest.mark.parametrize("name", sorted(PHI_CASES))
def test_phi_pseudonymised_then_clear(name, tmp_path):
    """The identifiers were met and hidden (pseudonyms by default), and --phi-clear shows them:
    so the default run's silence is not just a parser that never reached the patient data."""
    case = pc.PCAP_DIR / name
    if pc.case_input(case) is None:
        pytest.skip("tests/pcap/%s has no capture (scripts/captures/make-proto %s)" % (name, name))
    proto, expected = PHI_CASES[name]
    eve, _, _ = run(case, tmp_path)
    if not any(ev.get("event_type") == proto for ev in pc.parse_eve(eve, name)):
        pytest.skip("%s: no %s events: the %s parser (src/proto/%s.c) is not built in yet"
                    % (name, proto, proto, proto))
    assert PSEUDONYM_RE.search(eve), (
        "%s: no phi:<hex> pseudonym in the default output, yet the capture carries patient "
        "data (%s)" % (name, ", ".join(expected)))

    clear, inventory, _ = run(case, tmp_path, ["--phi-clear"])
    shown = [p for p in expected if p in clear]
    assert shown, "%s: with --phi-clear none of %s appears in the EVE output" % (name, expected)
    # --phi-clear is for local forensics; the inventory (it feeds the centre) never has PHI.
    assert not leaks(inventory), "%s: --phi-clear put patient identifiers in the inventory: %s" % (
        name, leaks(inventory))


def test_same_patient_same_pseudonym_across_protocols(tmp_path):
    """PID-0001 travels in DICOM (PatientID) and in HL7 (PID-3, with assigning authority and
    type); with one site key both must give the same pseudonym, or events cannot be joined."""
    ids = {}
    for name, proto, field in (("dicom-dcmtk", "dicom", "patient_id"),
                               ("hl7-mllp", "hl7", "patient_id")):
        case = pc.PCAP_DIR / name
        if pc.case_input(case) is None:
            pytest.skip("tests/pcap/%s has no capture" % name)
        one = ["--workers", "1"]  # the same event order in both runs
        clear = [ev for ev in pc.parse_eve(run(case, tmp_path, one + ["--phi-clear"])[0], name)
                 if ev.get("event_type") == proto]
        pseud = [ev for ev in pc.parse_eve(run(case, tmp_path, one)[0], name)
                 if ev.get("event_type") == proto]
        if not clear:
            pytest.skip("%s: no %s events: the %s parser is not built in yet" % (name, proto,
                                                                                 proto))
        assert len(clear) == len(pseud), "%s: --phi-clear changes the number of events" % name
        ids[name] = {p[proto].get(field) for c, p in zip(clear, pseud)
                     if c[proto].get(field) == "PID-0001"}
        assert ids[name], "%s: no %s event with %s PID-0001 under --phi-clear" % (name, proto,
                                                                                  field)
        assert all(PSEUDONYM_RE.fullmatch(v or "") for v in ids[name]), ids[name]
    assert len(ids["dicom-dcmtk"]) == 1 and ids["dicom-dcmtk"] == ids["hl7-mllp"], (
        "PID-0001 has different pseudonyms in DICOM and HL7: %s" % ids)
