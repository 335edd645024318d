# SPDX-License-Identifier: Apache-2.0
"""Shared indicators end to end: files in CSV, STIX 2.1 and MISP, loaded by the sensor, matched
against real-peer captures (tests/pcap), raised as EVE alerts with their evidence.

  /usr/bin/python3 -m pytest tests/integration/test_indicators.py

The values come from what the peers really sent (dig/dnsmasq, openssl s_client, curl, dcmtk,
mllp_send): each indicator type has a capture where it must match and a twin indicator that
must not (expired, not yet valid, a neighbouring value).
"""
import json
import os
import signal
import subprocess
import time

import pytest

import pcap_cases as pc

FIXTURES = pc.REPO / "tests" / "detect-fixtures"


def run(case, tmp_path, files, extra=()):
    args = []
    for f in files:
        args += ["--indicators", str(f)]
    res = pc.run_sensor(pc.PCAP_DIR / case, args + list(extra))
    assert res.returncode == 0, res.stderr
    return pc.parse_eve(res.stdout, case), res.stderr


def alerts(events, sid=None):
    return [e for e in events if e["event_type"] == "alert" and
            (sid is None or e["alert"]["signature_id"] == sid)]


def csv_file(tmp_path, rows, name="ioc.csv"):
    p = tmp_path / name
    p.write_text("type,value,id,source,tlp,confidence,valid_from,valid_until\n" +
                 "".join(",".join(r) + "\n" for r in rows))
    return p


# (case, csv rows that must match, rule sid, evidence field, value as reported)
MATCHES = [
    ("dns-resolver", [("domain", "missing.hospital.test")], 9100002, "dns.rrname",
     "missing.hospital.test"),
    ("dns-resolver", [("domain-suffix", "hospital.test")], 9100002, "dns.rrname",
     "hospital.test"),
    ("tls-openssl", [("domain", "PACS.hospital.test")], 9100002, "tls.sni",
     "pacs.hospital.test"),
    ("tls-openssl", [("ja3", "5a1edc7f170af1014fc65c994878e63c")], 9100004, "tls.ja3.hash",
     "5a1edc7f170af1014fc65c994878e63c"),
    ("tls-openssl", [("ja3s", "15af977ce25de452b96affa2addb1036")], 9100005, "tls.ja3s.hash",
     "15af977ce25de452b96affa2addb1036"),
    ("tls-openssl", [("ja4", "t13d3111h1_e8f1e7e78f70_1f22a2ca17c4")], 9100006, "tls.ja4",
     "t13d3111h1_e8f1e7e78f70_1f22a2ca17c4"),
    ("http-fhir", [("url", "http://fhir.hospital.test:8080/fhir/metadata")], 9100003,
     "http.url", "fhir.hospital.test:8080/fhir/metadata"),
    ("http-fhir", [("domain", "fhir.hospital.test")], 9100002, "http.hostname",
     "fhir.hospital.test"),
    ("dicom-dcmtk", [("dicom-ae", "FINDSCU")], 9100008, "dicom.calling_ae", "FINDSCU"),
    ("hl7-mllp", [("hl7-app", "LABAPP^GENLAB")], 9100009, "hl7.sending_application",
     "LABAPP^GENLAB"),
    ("dicom-dcmtk", [("ip", "10.77.30.2")], 9100001, "dest_ip", "10.77.30.2"),
    ("hl7-mllp", [("ip", "10.77.32.0/24")], 9100001, "dest_ip", "10.77.32.0/24"),
]


@pytest.mark.parametrize("case,rows,sid,field,value", MATCHES,
                         ids=["%s-%s" % (m[0], m[1][0][0]) for m in MATCHES])
def test_each_type_matches(tmp_path, case, rows, sid, field, value):
    f = csv_file(tmp_path, [(t, v, "ioc-1", "csirt-test", "amber", "90", "", "")
                            for t, v in rows])
    events, err = run(case, tmp_path, [f])
    got = alerts(events, sid)
    assert got, "no alert %d on %s; stderr:\n%s" % (sid, case, err)
    a = got[0]
    ev = a["evidence"]
    assert ev["field"] == field
    assert ev["indicator"]["value"] == value
    assert ev["indicator"]["id"] == "ioc-1"
    assert ev["indicator"]["source"] == "csirt-test"
    assert ev["indicator"]["tlp"] == "amber"
    assert ev["indicator"]["confidence"] == 90
    assert a["alert"]["metadata"]["mitre_technique_id"]
    assert a["alert"]["severity"] in (1, 2, 3)
    # the alert names its flow, and the flow is in the output
    assert any(e["event_type"] == "flow" and e["flow_id"] == a["flow_id"] for e in events)
    # one alert per source and indicator in the window, whatever the number of events and flows
    # that name it
    keys = [(x["src_ip"], x["evidence"]["indicator"]["value"]) for x in got]
    assert len(keys) == len(set(keys))
    # nothing else alerts
    assert not [x for x in alerts(events) if x["alert"]["signature_id"] != sid], \
        [x["alert"]["signature"] for x in alerts(events)]


def test_neighbours_and_validity_do_not_match(tmp_path):
    """Values next to the real ones, and the real ones outside their validity window."""
    rows = [
        ("domain", "hospital.test.evil", "a", "", "", "", "", ""),
        ("domain", "x.pacs.hospital.test", "b", "", "", "", "", ""),
        ("ip", "10.77.34.3", "c", "", "", "", "", ""),
        ("ip", "10.77.35.0/24", "d", "", "", "", "", ""),  # another case's network
        ("ja3", "5a1edc7f170af1014fc65c994878e63d", "e", "", "", "", "", ""),
        ("domain", "pacs.hospital.test", "f", "", "", "", "", "2020-01-01T00:00:00Z"),
        ("ja4", "t13d3111h1_e8f1e7e78f70_1f22a2ca17c4", "g", "", "", "", "2099-01-01", ""),
    ]
    f = csv_file(tmp_path, rows)
    events, err = run("tls-openssl", tmp_path, [f])
    assert not alerts(events), [a["evidence"] for a in alerts(events)]
    assert "1 expired" in err, err


def test_stix_bundle(tmp_path):
    bundle = {
        "type": "bundle", "id": "bundle--9a6a7d2b-8c1e-4f4f-9f57-5c4c0b0c2a11",
        "objects": [{
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--4f0a8c3e-2f7e-4f5e-8a55-0a9f3c2b1d01",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": "PACS lookalike", "pattern_type": "stix",
            "pattern": "[domain-name:value = 'pacs.hospital.test'] OR "
                       "[ipv4-addr:value = '10.77.34.0/24']",
            "valid_from": "2026-01-01T00:00:00Z",
            "object_marking_refs": [
                "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
        }, {
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--4f0a8c3e-2f7e-4f5e-8a55-0a9f3c2b1d02",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "pattern_type": "stix",
            "pattern": "[email-addr:value = 'x@hospital.test']",
            "valid_from": "2026-01-01T00:00:00Z",
        }],
    }
    f = tmp_path / "bundle.json"
    f.write_text(json.dumps(bundle))
    events, err = run("tls-openssl", tmp_path, [f])
    sids = {a["alert"]["signature_id"] for a in alerts(events)}
    assert sids == {9100001, 9100002}, err
    ind = alerts(events, 9100002)[0]["evidence"]["indicator"]
    assert ind["id"] == "indicator--4f0a8c3e-2f7e-4f5e-8a55-0a9f3c2b1d01"
    assert ind["name"] == "PACS lookalike"
    assert ind["tlp"] == "green"
    assert "1 unsupported" in err, err


def test_misp_event(tmp_path):
    event = {"Event": {
        "uuid": "5e2a7c1b-0d1e-4c4a-9a3e-1f2b3c4d5e6f", "info": "Test campaign",
        "Orgc": {"name": "CSIRT-TEST"},
        "Tag": [{"name": "tlp:amber"}],
        "Attribute": [
            {"uuid": "a1", "type": "hostname", "value": "dicom.hospital.test", "to_ids": True,
             "category": "Network activity"},
            {"uuid": "a2", "type": "domain", "value": "missing.hospital.test", "to_ids": False,
             "category": "Network activity"},
            {"uuid": "a3", "type": "email-src", "value": "x@hospital.test", "to_ids": True,
             "category": "Payload delivery"},
        ],
    }}
    f = tmp_path / "event.json"
    f.write_text(json.dumps(event))
    events, err = run("dns-resolver", tmp_path, [f])
    got = alerts(events, 9100002)
    assert {a["evidence"]["indicator"]["value"] for a in got} == {"dicom.hospital.test"}, err
    assert got[0]["evidence"]["indicator"]["source"] == "CSIRT-TEST"
    assert got[0]["evidence"]["indicator"]["tlp"] == "amber"


def test_bad_file_is_an_error(tmp_path):
    f = tmp_path / "broken.json"
    f.write_text('{"type": "bundle", "objects": [')
    res = pc.run_sensor(pc.PCAP_DIR / "dns-resolver", ["--indicators", str(f)])
    assert res.returncode == 1
    assert "broken.json" in res.stderr
    res = pc.run_sensor(pc.PCAP_DIR / "dns-resolver",
                        ["--indicators", str(tmp_path / "missing.csv")])
    assert res.returncode == 1
    assert "missing.csv" in res.stderr


def check(*args):
    return subprocess.run([str(pc.iaso_bin()), "indicators", "check"] + list(args),
                          capture_output=True, text=True, timeout=60)


def test_check_command(tmp_path):
    f = csv_file(tmp_path, [("ip", "192.0.2.1", "a", "", "red", "", "", ""),
                            ("domain-suffix", "evil.test", "b", "", "", "", "", ""),
                            ("ip", "not-an-ip", "c", "", "", "", "", ""),
                            ("email", "x@evil.test", "d", "", "", "", "", "")])
    res = check(str(f))
    assert res.returncode == 0, res.stderr
    assert "loaded       2 indicator values" in res.stdout, res.stdout
    assert "invalid      1" in res.stdout
    assert "unsupported  1" in res.stdout
    res = check("--strict", str(f))
    assert res.returncode == 1
    res = check("--list", str(f))
    assert "192.0.2.1" in res.stdout and "evil.test" in res.stdout and "red" in res.stdout
    res = check(str(tmp_path / "nope.csv"))
    assert res.returncode == 1 and "nope.csv" in res.stderr
    res = check()
    assert res.returncode == 2


def test_check_real_fixtures():
    """The OASIS and MISP examples load, and what cannot be loaded is counted, not dropped."""
    if not FIXTURES.is_dir():
        pytest.skip("no fixtures copied yet")
    for f in sorted(FIXTURES.rglob("*.json")):
        res = check(str(f))
        assert res.returncode == 0, (f, res.stderr)
        assert "records" in res.stdout


def test_reload_on_sighup(tmp_path):
    """A FIFO feeds the sensor a capture in two halves; between them the indicator file
    changes and SIGHUP is sent: only the second half's flow alerts."""
    src = pc.case_input(pc.PCAP_DIR / "dicom-dcmtk").read_bytes()
    if src[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"):
        pytest.skip("not a classic pcap")
    ioc = csv_file(tmp_path, [("ip", "192.0.2.99", "", "", "", "", "", "")])
    fifo = tmp_path / "in.pcap"
    os.mkfifo(fifo)
    proc = subprocess.Popen([str(pc.iaso_bin()), "sensor", "--read", str(fifo), "--eve", "-",
                             "--indicators", str(ioc)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    with open(fifo, "wb") as w:
        half = len(src) // 2
        # whole records only: walk the pcap record headers
        endian = "<" if src[:4] == b"\xd4\xc3\xb2\xa1" else ">"
        import struct
        off = 24
        cut = off
        while off + 16 <= len(src):
            incl = struct.unpack(endian + "I", src[off + 8:off + 12])[0]
            if off > half:
                break
            off += 16 + incl
            cut = off
        w.write(src[:cut])
        w.flush()
        time.sleep(0.5)
        csv_file(tmp_path, [("ip", "10.77.30.0/24", "new", "", "", "", "", "")])
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        w.write(src[cut:])
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    events = pc.parse_eve(out, "reload")
    got = alerts(events, 9100001)
    assert got, err
    assert all(a["evidence"]["indicator"]["id"] == "new" for a in got)


@pytest.mark.parametrize("case,proto", [("smb-samba", "smb2"), ("http-fhir", "http")])
def test_file_hash(tmp_path, case, proto):
    """A file digest on a list alerts; the sensor computes digests because the list holds
    some, without --file-hashes."""
    res = pc.run_sensor(pc.PCAP_DIR / case, ["--file-hashes", "sha256"])
    digests = set()
    for e in pc.parse_eve(res.stdout, case):
        for k in ("file", "request_file"):
            d = e.get(proto, {}).get(k, {}).get("sha256")
            if d:
                digests.add(d)
    assert digests, "no file passed whole in %s" % case
    d = sorted(digests)[0]
    f = csv_file(tmp_path, [("sha256", d.upper(), "h1", "", "", "", "", "")])
    events, err = run(case, tmp_path, [f])
    got = alerts(events, 9100007)
    assert got, err
    assert got[0]["evidence"]["indicator"]["value"] == d
    assert got[0]["evidence"]["field"].startswith(proto)
    # without the indicator, no digest is computed and none is written
    res = pc.run_sensor(pc.PCAP_DIR / case)
    assert '"sha256"' not in res.stdout
