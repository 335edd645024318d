# SPDX-License-Identifier: Apache-2.0
"""File digests (MD5, SHA-1, SHA-256 of HTTP bodies and SMB2 files that pass whole) checked
against the files tshark exports from the same real captures:

  /usr/bin/python3 -m pytest tests/integration/test_file_hashes.py

The sensor runs with `--file-hashes md5,sha1,sha256`; tshark runs `--export-objects http,DIR`
(bodies de-chunked and, with http.decompress_body off, not decompressed: the sensor hashes the
bytes as sent) or `--export-objects smb,DIR`. Each digest the sensor gives must be that of a file
tshark exported, size included; every body or file the sensor saw whole must have one; and in a
capture where the sensor saw nothing incomplete, every file tshark exported must have been
hashed. tshark also exports pieces of bodies cut by the capture (a snaplen), which the sensor
must not hash: those are the only ones allowed to go unmatched.

Skips until the sensor has the --file-hashes option.
"""
import hashlib
import shutil
import subprocess

import pytest

import pcap_cases as pc

TSHARK = shutil.which("tshark")

pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed (scripts/setup test)")

ALL = "md5,sha1,sha256"

# (case, tshark export protocol)
CASES = [
    ("http-curl", "http"),
    ("http-fhir", "http"),
    ("ipv6", "http"),
    ("dicom-orthanc", "http"),
    ("smb-samba", "smb"),
]


@pytest.fixture(scope="module")
def sensor_has_option():
    out = subprocess.run([str(pc.iaso_bin()), "sensor", "--help"], capture_output=True,
                         text=True, timeout=60)
    if "--file-hashes" not in out.stdout + out.stderr:
        pytest.skip("iaso sensor has no --file-hashes option yet")


def digests(data):
    return (len(data), hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(),
            hashlib.sha256(data).hexdigest())


def tshark_objects(case, proto, tmp_path):
    """The digests of the files tshark exports, as a set of (size, md5, sha1, sha256)."""
    out = tmp_path / "objects"
    out.mkdir()
    cmd = [TSHARK, "-n", "-q", "-r", str(pc.case_input(case)),
           "-o", "http.decompress_body:FALSE", "--export-objects", "%s,%s" % (proto, out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, "%s: tshark failed:\n%s" % (case.name, proc.stderr[-2000:])
    return {digests(f.read_bytes()) for f in out.iterdir() if f.is_file() and f.stat().st_size}


def file_tuple(f):
    return (f["size"], f["md5"], f["sha1"], f["sha256"])


def sensor_files(case):
    """The files the sensor hashed, and the bodies/files it saw whole without a digest."""
    proc = pc.run_sensor(case, ["--file-hashes", ALL])
    assert proc.returncode == 0, "%s: sensor exit %d:\n%s" % (case.name, proc.returncode,
                                                              proc.stderr[-2000:])
    hashed, missing = [], []
    saw_incomplete = False
    for ev in pc.parse_eve(proc.stdout, case.name):
        if ev.get("event_type") == "http":
            h = ev["http"]
            whole = not h.get("anomalies")
            saw_incomplete |= not whole
            for key, length in (("file", "length"), ("request_file", "request_body_length")):
                if key in h:
                    assert h[key]["size"] == h[length], (case.name, h)
                    hashed.append(file_tuple(h[key]))
                elif whole and h.get(length, 0) > 0:
                    missing.append(h)
        elif ev.get("event_type") == "smb2" and "file" in ev["smb2"]:
            s = ev["smb2"]
            assert s["command"] == "SMB2_COMMAND_CLOSE" and s.get("filename"), s
            assert s["file"]["op"] in ("read", "write"), s
            hashed.append(file_tuple(s["file"]))
    return hashed, missing, saw_incomplete


@pytest.mark.parametrize("name,proto", CASES, ids=[c[0] for c in CASES])
def test_digests_match_tshark(name, proto, tmp_path, sensor_has_option):
    case = pc.PCAP_DIR / name
    if pc.case_input(case) is None:
        pytest.skip("tests/pcap/%s has no capture" % name)
    hashed, missing, saw_incomplete = sensor_files(case)
    assert not missing, "%s: bodies seen whole without a digest: %r" % (name, missing)
    exported = tshark_objects(case, proto, tmp_path)
    assert hashed, "%s: no digest at all (tshark exported %d files)" % (name, len(exported))
    for f in hashed:
        assert f in exported, "%s: the sensor's digest %r is of no file tshark exported" % (
            name, f)
    if not saw_incomplete:
        unmatched = exported - set(hashed)
        assert not unmatched, "%s: files tshark exported that the sensor did not hash: %r" % (
            name, unmatched)


def test_smb_upload_and_download(tmp_path, sensor_has_option):
    """smbclient put then get of the same file: both passes give the same digests."""
    case = pc.PCAP_DIR / "smb-samba"
    if pc.case_input(case) is None:
        pytest.skip("tests/pcap/smb-samba has no capture")
    proc = pc.run_sensor(case, ["--file-hashes", ALL])
    assert proc.returncode == 0, proc.stderr[-2000:]
    ops = {}
    for ev in pc.parse_eve(proc.stdout, case.name):
        s = ev.get("smb2", {})
        if ev.get("event_type") == "smb2" and "file" in s:
            ops.setdefault(s["file"]["op"], set()).add(file_tuple(s["file"]))
    assert set(ops) == {"read", "write"}, ops
    assert ops["read"] == ops["write"], ops


def test_digests_only_when_asked(sensor_has_option):
    """Without --file-hashes no event carries a digest; with one kind, only that kind."""
    case = pc.PCAP_DIR / "http-fhir"
    if pc.case_input(case) is None:
        pytest.skip("tests/pcap/http-fhir has no capture")
    proc = pc.run_sensor(case)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '"sha256"' not in proc.stdout and '"md5"' not in proc.stdout
    proc = pc.run_sensor(case, ["--file-hashes", "sha256"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    files = [ev["http"]["file"] for ev in pc.parse_eve(proc.stdout, case.name)
             if ev.get("event_type") == "http" and "file" in ev["http"]]
    assert files
    for f in files:
        assert set(f) == {"size", "sha256"}, f
