# SPDX-License-Identifier: Apache-2.0
"""Behaviour detectors and the baseline on attack captures made with real tools (dcmtk, nmap,
hydra, smbclient against samba, dig against dnsmasq, MLLP senders; scripts/captures/attack-*.sh):
each detector fires on the capture made for it, with the evidence the capture's HOW file counts
with tshark, and the benign captures raise no alert at all.

  /usr/bin/python3 -m pytest tests/integration/test_detect.py

The defaults are sized for real networks (a sweep of 50 queries a minute, 100 files a minute);
where a capture is smaller than that on purpose, the test lowers the threshold to the size of the
capture, and a second run just above it proves the threshold holds.
"""
import pytest

import pcap_cases as pc

# case: (thresholds, {rule: (count, source address)}, a threshold just above the attack's size
# that must silence the first rule, or None when the defaults fire)
ATTACKS = {
    "attack-dicom-sweep": ([], {"DICOM_QUERY_SWEEP": (1, "10.77.40.66")},
                           "dicom_find_queries=61"),
    "attack-dicom-brute": ([], {"DICOM_AE_GUESSING": (1, "10.77.41.66")}, "dicom_rejects=41"),
    "attack-portscan": (["scan_hosts=30"], {"SCAN_PORTS": (1, "10.77.42.66"),
                                            "SCAN_HOSTS": (1, "10.77.42.66")},
                        "scan_ports=202"),  # 200 ports on one host, and 445 on the others
    "attack-smb-ransom": (["smb_burst_files=30"],
                          {"SMB_RANSOM_BURST": (1, "10.77.43.10"),
                           "SMB_EXTENSION_CHANGE": (1, "10.77.43.10"),
                           "SMB_RANSOM_NOTE": (2, "10.77.43.10")},
                          "smb_burst_files=200"),
    "attack-smb-admin": ([], {"SMB_LOGON_FAILURES": (1, "10.77.44.10"),
                              "SMB_ADMIN_SHARE": (2, "10.77.44.10"),
                              "SMB_REMOTE_SERVICE": (3, "10.77.44.10")},
                         "smb_logon_failures=16"),
    "attack-rdp-brute": ([], {"RDP_BRUTE_FORCE": (1, "10.77.45.66")}, None),
    "attack-dns-tunnel": ([], {"DNS_TUNNEL": (1, "10.77.46.10")}, None),
    "attack-dns-dga": ([], {"DNS_NXDOMAIN": (1, "10.77.47.10")}, "dns_nxdomain=61"),
    "attack-dicom-external": ([], {"DICOM_EXTERNAL": (2, "10.77.48.10"),
                                   "HL7_EXTERNAL": (1, None)}, None),
}


def run(case, extra=()):
    res = pc.run_sensor(pc.PCAP_DIR / case, list(extra))
    assert res.returncode == 0, res.stderr
    return pc.parse_eve(res.stdout, case)


def alerts(events):
    return [e for e in events if e["event_type"] == "alert"]


def by_rule(events):
    out = {}
    for a in alerts(events):
        out.setdefault(a["alert"]["metadata"]["iaso_rule"][0], []).append(a)
    return out


def thresholds(names):
    args = []
    for n in names:
        args += ["--threshold", n]
    return args


def present(case):
    if not (pc.PCAP_DIR / case).is_dir():
        pytest.skip("capture %s not made" % case)


@pytest.mark.parametrize("case", sorted(ATTACKS))
def test_attack_fires(case):
    present(case)
    th, want, _ = ATTACKS[case]
    events = run(case, thresholds(th))
    got = by_rule(events)
    assert set(got) == set(want), {k: len(v) for k, v in got.items()}
    for rule, (count, src) in want.items():
        assert len(got[rule]) == count, (rule, len(got[rule]))
        for a in got[rule]:
            if src:
                assert a["src_ip"] == src, (rule, a["src_ip"])
            assert a["alert"]["metadata"]["mitre_technique_id"], rule
            assert a["evidence"], rule
            # no patient data in evidence: DICOM and HL7 values are never copied in
            assert "phi:" not in str(a["evidence"]), a["evidence"]


@pytest.mark.parametrize("case", sorted(c for c in ATTACKS if ATTACKS[c][2]))
def test_attack_threshold_holds(case):
    """Just above the attack's size, the first rule does not fire: the count is exact."""
    present(case)
    th, want, above = ATTACKS[case]
    rule = next(iter(want))
    events = run(case, thresholds([t for t in th if t.split("=")[0] != above.split("=")[0]] +
                                  [above]))
    assert rule not in by_rule(events)


def test_evidence_counts_match_the_captures():
    """The evidence counts what tshark counts in the captures (see each case's HOW file)."""
    present("attack-dicom-sweep")
    sweep = by_rule(run("attack-dicom-sweep"))["DICOM_QUERY_SWEEP"][0]["evidence"]
    # it fires on the 50th of the 60 wildcard C-FINDs, and shows the shape of the queries
    assert sweep["count"] == 50 and sweep["threshold"] == 50
    assert "PATIENT PatientName:wildcard" in sweep["queries"]
    present("attack-dicom-brute")
    brute = by_rule(run("attack-dicom-brute"))["DICOM_AE_GUESSING"][0]["evidence"]
    assert brute["count"] == 10  # distinct calling/called pairs rejected, at the threshold
    assert all(p.startswith("ECHOSCU->") for p in brute["ae_pairs"]), brute
    present("attack-smb-admin")
    admin = by_rule(run("attack-smb-admin"))
    shares = sorted(a["evidence"]["share"] for a in admin["SMB_ADMIN_SHARE"])
    assert [s.rsplit("\\", 1)[-1].upper() for s in shares] == ["ADMIN$", "C$"], shares


@pytest.mark.parametrize("case", [c.name for c in pc.cases() if not c.name.startswith("attack-")])
def test_benign_raises_nothing(case):
    """The captures of ordinary traffic (every protocol, odd packets, real peers) raise no alert
    with the default thresholds."""
    proc = pc.run_sensor(pc.PCAP_DIR / case)
    events = pc.parse_eve(proc.stdout, case)
    assert not alerts(events), [a["alert"]["signature"] for a in alerts(events)]


def test_baseline_learns_then_alerts(tmp_path):
    """Learn on ordinary traffic of the same hospital, then: a rogue workstation sweeping the
    PACS and moving studies to a new AE title, and a laptop sending ADT updates and a merge."""
    present("benign-baseline-mix")
    base = tmp_path / "baseline.tsv"
    res = pc.run_sensor(pc.PCAP_DIR / "benign-baseline-mix",
                        ["--baseline", str(base), "--learn"])
    assert res.returncode == 0, res.stderr
    assert not alerts(pc.parse_eve(res.stdout, "learn"))
    text = base.read_text()
    assert "\tCT01\t" in text and "HIS" in text, text
    # The same traffic again, after learning: nothing is new.
    res = pc.run_sensor(pc.PCAP_DIR / "benign-baseline-mix", ["--baseline", str(base)])
    assert not alerts(pc.parse_eve(res.stdout, "rerun")), res.stdout
    # The attacks.
    got = by_rule(run("attack-dicom-sweep", ["--baseline", str(base)]))
    assert "BASE_DICOM_NEW" in got and "DICOM_MOVE_NEW_DEST" in got, sorted(got)
    dest = got["DICOM_MOVE_NEW_DEST"][0]["evidence"]
    assert "NEWDEST" in str(dest), dest
    got = by_rule(run("attack-hl7-forged", ["--baseline", str(base)]))
    assert "BASE_HL7_NEW_PATIENT_UPDATE" in got, sorted(got)
    upd = got["BASE_HL7_NEW_PATIENT_UPDATE"][0]
    assert upd["src_ip"] == "10.77.40.67", upd
    assert "HL7TOOL" in str(upd["evidence"]), upd["evidence"]
    # The pending pairs are in the file for an operator to review; accepting them silences
    # them.
    assert "pending\t" in base.read_text()
    import subprocess
    r = subprocess.run([str(pc.iaso_bin()), "sensor", "baseline", "accept", str(base),
                        "--all-pending"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = by_rule(run("attack-hl7-forged", ["--baseline", str(base)]))
    assert not [k for k in got if k.startswith("BASE_")], sorted(got)


def test_thresholds_from_a_config_file(tmp_path):
    """Thresholds (and any option) come from --config FILE; the command line wins over it."""
    present("attack-portscan")
    conf = tmp_path / "sensor.conf"
    conf.write_text("# site A\nthreshold = scan_hosts=30\nthreshold = scan_ports=500\n")
    got = by_rule(run("attack-portscan", ["--config", str(conf)]))
    assert set(got) == {"SCAN_HOSTS"}, sorted(got)
    # a later --threshold on the command line overrides the file's
    got = by_rule(run("attack-portscan", ["--config", str(conf), "--threshold", "scan_ports=200"]))
    assert set(got) == {"SCAN_HOSTS", "SCAN_PORTS"}, sorted(got)
    conf.write_text("threshold = scan_hosts=30\nno_such_option = 1\n")
    res = pc.run_sensor(pc.PCAP_DIR / "attack-portscan", ["--config", str(conf)])
    assert res.returncode == 2
    assert "line 2: unknown option 'no_such_option'" in res.stderr
