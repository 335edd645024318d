# SPDX-License-Identifier: Apache-2.0
"""`iaso sensor baseline list|accept|remove` on a hand-written baseline file: what an operator
sees, the edits, the errors and exit statuses; then the sensor and the tool on one file."""

import json
import stat
import subprocess

import pytest

from pcap_cases import PCAP_DIR, iaso_bin

HEADER = "format\t1\nlearning\tdone\n"
PAIRS = [
    "learned\tdicom\t10.1.0.5\tCT01\t10.1.0.9\tPACS\tfirst=2026-11-23T10:00:00Z\t"
    "last=2026-11-24T08:12:00Z\tn=123",
    "pending\tdicom\t10.1.0.66\tSTORESCU\t10.1.0.9\tPACS\tn=1",
    "accepted\thl7\t10.2.0.4\tHIS\t-\t10.2.0.7\tLIS\tLAB\tnote=feeds the lab",
    "pending\trdp\t10.3.0.1\t10.3.0.2",
    "learned\tsmb\t10.3.0.1\t10.3.0.2\tIPC$",
]


def run(*args):
    return subprocess.run([str(iaso_bin()), "sensor", "baseline", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def baseline(tmp_path):
    path = tmp_path / "baseline.tsv"
    # Hand-written: out of order, with a comment and a blank line.
    path.write_text("# by hand\n" + HEADER + "\n" + "\n".join(reversed(PAIRS)) + "\n")
    return path


def pair_lines(stdout):
    return [l for l in stdout.splitlines() if l and not l.startswith("#")]


def test_list_sorted(baseline):
    r = run("list", baseline)
    assert r.returncode == 0, r.stderr
    assert pair_lines(r.stdout) == PAIRS
    assert r.stdout.splitlines()[-1] == "# 5 pairs (2 pending, 0 removed); learning done"
    r = run("list", baseline, "--pending")
    assert r.returncode == 0
    assert pair_lines(r.stdout) == [PAIRS[1], PAIRS[3]]


def test_accept_all_pending(baseline):
    r = run("accept", baseline, "--all-pending")
    assert r.returncode == 0, r.stderr
    assert "accepted 2 pending pairs" in r.stdout
    assert run("list", baseline, "--pending").stdout.startswith("# 5 pairs (0 pending")
    text = baseline.read_text()
    assert "accepted\tdicom\t10.1.0.66\tSTORESCU\t" in text
    assert "accepted\trdp\t10.3.0.1\t10.3.0.2\n" in text
    assert stat.S_IMODE(baseline.stat().st_mode) == 0o640


def test_accept_by_hand_and_remove(baseline):
    r = run("accept", baseline, "--note", "new CT in room 4", "dicom", "10.1.0.77", "CT02",
            "10.1.0.9", "PACS")
    assert r.returncode == 0, r.stderr
    assert "added dicom 10.1.0.77 CT02 10.1.0.9 PACS" in r.stdout
    lines = pair_lines(run("list", baseline).stdout)
    assert lines[2] == "accepted\tdicom\t10.1.0.77\tCT02\t10.1.0.9\tPACS\tnote=new CT in room 4"
    # A pair already there is accepted in place.
    r = run("accept", baseline, "smb", "10.3.0.1", "10.3.0.2", "ipc$")
    assert r.returncode == 0 and "accepted smb" in r.stdout
    assert "accepted\tsmb\t10.3.0.1\t10.3.0.2\tIPC$\n" in baseline.read_text()
    # Removing leaves a tombstone for a sensor that has not saved yet.
    r = run("remove", baseline, "rdp", "10.3.0.1", "10.3.0.2")
    assert r.returncode == 0, r.stderr
    assert "removed\trdp\t10.3.0.1\t10.3.0.2\n" in baseline.read_text()
    r = run("remove", baseline, "rdp", "10.3.0.1", "10.3.0.2")
    assert r.returncode == 1 and "no such pair" in r.stderr


def test_accept_creates_file(tmp_path):
    path = tmp_path / "new.tsv"
    r = run("accept", path, "hl7", "10.2.0.4", "HIS", "-", "10.2.0.7", "LIS", "-")
    assert r.returncode == 0, r.stderr
    text = path.read_text()
    # Learning is still to come: it starts with the sensor's first event.
    assert "format\t1\nlearning\tauto\naccepted\thl7\t10.2.0.4\tHIS\t-\t10.2.0.7\tLIS\t-\n" in text


@pytest.mark.parametrize("args,status,message", [
    ((), 2, "usage: iaso sensor baseline"),
    (("frob", "x"), 2, "unknown command 'frob'"),
    (("list",), 2, "list needs the baseline's PATH"),
    (("list", "{p}", "extra"), 2, "list takes only PATH"),
    (("list", "{p}", "--all-pending"), 2, "unknown option '--all-pending'"),
    (("accept", "{p}"), 2, "give KIND FIELDS..., or --all-pending"),
    (("accept", "{p}", "--all-pending", "rdp"), 2, "--all-pending takes no pair"),
    (("accept", "{p}", "ftp", "10.0.0.1"), 2, "'ftp' is not a kind"),
    (("accept", "{p}", "rdp", "10.0.0.1"), 2, "rdp takes 2 fields (CLIENT SERVER), not 1"),
    (("accept", "{p}", "rdp", "10.0.0.1", "pacs"), 2, "'pacs' is not an IPv4 or IPv6 address"),
    (("accept", "{p}", "--note"), 2, "--note needs a value"),
    (("remove", "{p}", "rdp", "10.0.0.1", "10.0.0.2"), 1, "no such pair"),
    (("list", "{missing}"), 1, "no such file"),
    (("remove", "{missing}", "rdp", "10.0.0.1", "10.0.0.2"), 1, "no such file"),
])
def test_errors(baseline, tmp_path, args, status, message):
    before = baseline.read_text()
    args = [a.format(p=baseline, missing=tmp_path / "missing.tsv") for a in args]
    r = run(*args)
    assert r.returncode == status, r.stderr
    assert message in r.stderr
    assert baseline.read_text() == before


def test_help():
    r = run("--help")
    assert r.returncode == 0 and "dicom-move  SERVER DESTINATION_AE" in r.stdout
    r = run("accept", "x", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage:")


def test_malformed_file(tmp_path):
    path = tmp_path / "broken.tsv"
    path.write_text(HEADER + PAIRS[0] + "\n" + "learned rdp 10.0.0.1 10.0.0.2\n")
    r = run("list", path)
    assert r.returncode == 1
    assert f"{path}: line 4: 'learned rdp 10.0.0.1 10.0.0.2' is not a state" in r.stderr
    r = run("accept", path, "--all-pending")
    assert r.returncode == 1 and "line 4" in r.stderr


def alerts(eve):
    out = []
    for line in eve.read_text().splitlines():
        e = json.loads(line)
        if e.get("event_type") == "alert":
            out.append((e["alert"]["metadata"]["iaso_rule"][0], e.get("evidence", {})))
    return out


def test_sensor_learns_then_alerts(tmp_path):
    """The sensor learns a capture, stays quiet on it after, and alerts on a pair removed."""
    pcap = PCAP_DIR / "dicom-dcmtk" / "input.pcap"
    if not pcap.exists():
        pytest.skip("no DICOM capture")
    path, eve = tmp_path / "baseline.tsv", tmp_path / "eve.json"

    def sensor(*extra):
        eve.write_text("")
        r = subprocess.run([str(iaso_bin()), "sensor", "-r", str(pcap), "--baseline", str(path),
                            "-e", str(eve), *extra], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return [a for a in alerts(eve) if a[0].startswith(("BASE_", "DICOM_MOVE_NEW"))]

    assert sensor("--learn") == []
    learned = pair_lines(run("list", path).stdout)
    assert learned and all(l.startswith("learned\t") for l in learned)
    assert sensor() == []  # an existing file: no automatic learning, and nothing new
    dicom = next(l for l in learned if l.startswith("learned\tdicom\t"))
    fields = dicom.split("\t")[1:6]
    assert run("remove", path, *fields).returncode == 0
    got = sensor()
    assert [a[0] for a in got] == ["BASE_DICOM_NEW"]
    assert got[0][1]["calling_ae"] == fields[2]
    assert "pending\t" + "\t".join(fields) + "\t" in path.read_text()
