# SPDX-License-Identifier: Apache-2.0
"""The inventory end to end: from real DICOM (dcmtk, Orthanc) and HL7 (mllp_send) traffic, the
hosts get their roles, AE titles, applications, device facts and kinds; `iaso sensor inventory`
shows them; several workers build the same inventory."""

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IASO = os.environ.get("IASO_BIN", str(ROOT / "build/gcc/iaso"))
PCAP = ROOT / "tests/pcap"


def inventory(tmp_path, case, *extra):
    out = tmp_path / ("inv-%s.json" % case)
    r = subprocess.run([IASO, "sensor", "--read", str(PCAP / case / "input.pcap"),
                        "--eve", "/dev/null", "--inventory", str(out), *extra],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    return out, {h["ip"]: h for h in doc["hosts"]}


def roles(host):
    return {(r["role"], r.get("detail", "")) for r in host["roles"]}


def test_orthanc_is_a_pacs_and_the_sender_a_modality(tmp_path):
    _, hosts = inventory(tmp_path, "dicom-orthanc")
    pacs, ct = hosts["10.77.31.2"], hosts["10.77.31.1"]
    assert pacs["kind"] == "pacs"
    assert ("dicom_scp", "ORTHANC") in roles(pacs)
    assert ("http_server", "") in roles(pacs)
    assert 4242 in pacs["server_ports"] and 8042 in pacs["server_ports"]
    assert ct["kind"] == "modality"
    assert ("dicom_scu", "STORESCU") in roles(ct)
    assert ct["device"]["modality"] == "CT"
    assert ct["device"]["station_name"] == "CT01"
    assert ct["device"]["implementation_version"] == "OFFIS_DCMTK_367"
    assert ct["peers"] == ["10.77.31.2"] and pacs["peers"] == ["10.77.31.1"]
    assert ct["mac"] == "02:77:31:00:00:01"


def test_hl7_applications(tmp_path):
    _, hosts = inventory(tmp_path, "hl7-mllp")
    sender, receiver = hosts["10.77.32.1"], hosts["10.77.32.2"]
    assert ("hl7_sender", "ADTAPP^GENHOSP") in roles(sender)
    assert ("hl7_receiver", "LABAPP^GENLAB") in roles(receiver)
    assert sender["protocols"]["hl7"]["as_client"] >= 1
    assert receiver["protocols"]["hl7"]["as_server"] >= 1


def test_table_and_workers(tmp_path):
    path, one = inventory(tmp_path, "dicom-dcmtk")
    r = subprocess.run([IASO, "sensor", "inventory", str(path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "10.77.30.2" in r.stdout and "dicom_scp PACS" in r.stdout
    assert "2 hosts" in r.stdout
    # Two workers see the flows split between them; the merged inventory is the same.
    _, two = inventory(tmp_path, "dicom-dcmtk", "--workers", "2")
    assert {ip: (h["kind"], sorted(roles(h)), h["device"]) for ip, h in one.items()} == \
        {ip: (h["kind"], sorted(roles(h)), h["device"]) for ip, h in two.items()}


def test_inventory_errors(tmp_path):
    r = subprocess.run([IASO, "sensor", "inventory", str(tmp_path / "missing.json")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "missing.json" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"nothing": 1}')
    r = subprocess.run([IASO, "sensor", "inventory", str(bad)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1 and "not an inventory" in r.stderr
    r = subprocess.run([IASO, "sensor", "--read", str(PCAP / "icmp/input.pcap"), "--inventory",
                        str(tmp_path / "no/dir/inv.json")], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1 and "cannot write the inventory" in r.stderr
