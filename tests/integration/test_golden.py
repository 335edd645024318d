# SPDX-License-Identifier: Apache-2.0
"""Golden tests: each capture in tests/pcap/<case>/ through the real sensor, compared with
the EVE output recorded in expect.jsonl.

  /usr/bin/python3 -m pytest tests/integration/test_golden.py
  IASO_BIN=build/asan/iaso /usr/bin/python3 -m pytest tests/integration/test_golden.py
  IASO_UPDATE_GOLDEN=1 /usr/bin/python3 -m pytest tests/integration/test_golden.py   (rewrite)

Both sides are normalised (pcap_cases.canonical: keys sorted, lines sorted) before comparing.
Updating is never silent: each rewritten expect.jsonl is reported as a warning in pytest's
summary; review the change with `git diff tests/pcap` before it is committed.
"""
import difflib
import json
import os
import re
import struct
import subprocess
import sys
import warnings

import pytest

import pcap_cases as pc

CASES = pc.cases()
UPDATE = os.environ.get("IASO_UPDATE_GOLDEN") == "1"
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000$")


def flatten(obj, prefix=""):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(flatten(v, "%s%s." % (prefix, k)))
        return out
    return {prefix[:-1]: obj}


def explain(expected, actual):
    """A diff a person can read: flows missing, flows extra, and field by field changes for
    flows present on both sides; then the raw line diff."""
    exp = {}
    act = {}
    for line in expected:
        exp.setdefault(pc.flow_key(json.loads(line)), []).append(json.loads(line))
    for line in actual:
        act.setdefault(pc.flow_key(json.loads(line)), []).append(json.loads(line))
    msg = []
    for k in sorted(set(exp) - set(act)):
        msg.append("  missing flow   %s (%d event(s))" % (k, len(exp[k])))
    for k in sorted(set(act) - set(exp)):
        msg.append("  unexpected     %s (%d event(s))" % (k, len(act[k])))
    for k in sorted(set(exp) & set(act)):
        if len(exp[k]) != len(act[k]):
            msg.append("  %s: %d event(s) expected, %d produced" % (k, len(exp[k]), len(act[k])))
            continue
        for e, a in zip(exp[k], act[k]):
            fe, fa = flatten(e), flatten(a)
            for f in sorted(set(fe) | set(fa)):
                if fe.get(f, "<absent>") != fa.get(f, "<absent>"):
                    msg.append("  %s: %s expected %s, got %s" % (
                        k, f, json.dumps(fe.get(f, "<absent>")), json.dumps(fa.get(f, "<absent>"))))
    raw = list(difflib.unified_diff(expected, actual, "expect.jsonl", "sensor output",
                                    lineterm="", n=0))
    return "\n".join(msg + ["", "line diff (normalised):"] + raw[:80])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case):
    proc = pc.run_sensor(case)
    want_exit = pc.case_exit(case)
    assert proc.returncode == want_exit, (
        "%s: exit status %d, expected %d\nstderr:\n%s"
        % (case.name, proc.returncode, want_exit, proc.stderr[-3000:]))
    if want_exit != 0:
        # A failing run must name the file as given (where it stopped: see the case's stderr
        # file of regular expressions).
        name = str(pc.case_input(case))
        assert name in proc.stderr, "%s: stderr does not name %s:\n%s" % (
            case.name, name, proc.stderr)
    stderr_res = case / "stderr"
    if stderr_res.exists():
        for rx in stderr_res.read_text().splitlines():
            if rx.strip() and not rx.startswith("#"):
                assert re.search(rx, proc.stderr), "%s: stderr does not match /%s/:\n%s" % (
                    case.name, rx, proc.stderr)

    actual = pc.canonical(pc.parse_eve(proc.stdout, case.name))
    golden = case / "expect.jsonl"
    if UPDATE:
        old = golden.read_text().splitlines() if golden.exists() else None
        golden.write_text("".join(line + "\n" for line in actual))
        if old != actual:
            warnings.warn("IASO_UPDATE_GOLDEN: rewrote %s (%d events, was %s)" % (
                golden.relative_to(pc.REPO), len(actual),
                "absent" if old is None else "%d events" % len(old)))
        return
    if not golden.exists():
        pytest.fail("%s: no expect.jsonl; create it on purpose with IASO_UPDATE_GOLDEN=1 and "
                    "review it" % case.name)
    expected = pc.canonical(pc.parse_eve(golden.read_text(), str(golden)))
    if expected != actual:
        pytest.fail("%s: EVE output differs from expect.jsonl (%d expected, %d produced):\n%s"
                    % (case.name, len(expected), len(actual), explain(expected, actual)),
                    pytrace=False)


def split_alerts(events):
    """Every event but the alerts in canonical form, and the alerts as sorted (signature id,
    source address) pairs."""
    rest = [e for e in events if e.get("event_type") != "alert"]
    alerts = sorted((e["alert"]["signature_id"], e.get("src_ip")) for e in events
                    if e.get("event_type") == "alert")
    return pc.canonical(rest), alerts


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_two_workers(case):
    """The events do not depend on the number of workers (flows are hashed symmetrically to
    workers; each flow is still seen whole by one of them)."""
    golden = case / "expect.jsonl"
    if UPDATE or not golden.exists():
        pytest.skip("no golden to compare with")
    proc = pc.run_sensor(case, ["--workers", "2"])
    assert proc.returncode == pc.case_exit(case), proc.stderr[-2000:]
    actual, actual_alerts = split_alerts(pc.parse_eve(proc.stdout, case.name))
    expected, expected_alerts = split_alerts(pc.parse_eve(golden.read_text(), str(golden)))
    # Detectors that count across flows (scans, sweeps, bursts) share their counts between
    # workers; which flow crosses the threshold first depends on how the threads interleave.
    # The same alerts must be raised by the same sources, on whichever flow.
    assert expected_alerts == actual_alerts, (
        "%s --workers 2: alerts (signature id, source) differ:\nexpected %s\ngot      %s"
        % (case.name, expected_alerts, actual_alerts))
    if expected != actual:
        pytest.fail("%s --workers 2: EVE output differs from expect.jsonl:\n%s"
                    % (case.name, explain(expected, actual)), pytrace=False)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_deterministic(case):
    """Two runs over the same file give the same events (golden files depend on it)."""
    a = pc.canonical(pc.parse_eve(pc.run_sensor(case).stdout, case.name))
    b = pc.canonical(pc.parse_eve(pc.run_sensor(case).stdout, case.name))
    assert a == b, "%s: two runs differ:\n%s" % (
        case.name, "\n".join(difflib.unified_diff(a, b, lineterm="", n=0)))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_flow_event_shape(case):
    """Every flow event carries the EVE fields our consumers rely on, with sane values."""
    events = pc.parse_eve(pc.run_sensor(case).stdout, case.name)
    for ev in events:
        if ev.get("event_type") != "flow":
            continue
        k = pc.flow_key(ev)
        for f in ("timestamp", "flow_id", "src_ip", "dest_ip", "proto", "flow"):
            assert f in ev, "%s: %s: no %s" % (case.name, k, f)
        assert TS_RE.match(ev["timestamp"]), "%s: %s: timestamp %r" % (case.name, k,
                                                                       ev["timestamp"])
        fl = ev["flow"]
        for f in ("pkts_toserver", "pkts_toclient", "bytes_toserver", "bytes_toclient",
                  "start", "end"):
            assert f in fl, "%s: %s: no flow.%s" % (case.name, k, f)
        assert TS_RE.match(fl["start"]) and TS_RE.match(fl["end"]), (case.name, k, fl)
        assert fl["start"] <= fl["end"], "%s: %s: flow ends before it starts" % (case.name, k)
        assert fl["pkts_toserver"] + fl["pkts_toclient"] > 0, "%s: %s: empty flow" % (
            case.name, k)
        if ev["proto"] in ("TCP", "UDP"):
            assert "src_port" in ev and "dest_port" in ev, "%s: %s: no ports" % (case.name, k)
        if ev["proto"] in ("ICMP", "IPv6-ICMP"):
            assert "src_port" not in ev and "dest_port" not in ev, (
                "%s: %s: ports on an ICMP flow" % (case.name, k))
        if "vlan" in ev:
            assert ev["vlan"] and all(isinstance(v, int) and 0 <= v < 4096 for v in ev["vlan"])


def has_snapped_records(path):
    """True if a classic pcap holds a record with caplen < orig_len."""
    data = path.read_bytes()
    if data[:4] != b"\xd4\xc3\xb2\xa1":
        return False  # only little-endian microsecond pcap is checked here
    off = 24
    while off + 16 <= len(data):
        _, _, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        if incl < orig:
            return True
        off += 16 + incl
    return False


SNAPPED = [c for c in CASES if pc.case_input(c).suffix == ".pcap" and
           has_snapped_records(pc.case_input(c))]


@pytest.mark.parametrize("case", SNAPPED, ids=[c.name for c in SNAPPED])
def test_snaplen_invariance(case, tmp_path):
    """Flow events count packets and wire lengths, so they must not change when every record
    cut by the snaplen is padded back to its wire length (scripts/captures/pad-snaplen.py).
    A difference means the decoder treats a snaplen cut (caplen < orig_len) as a malformed
    packet."""
    padded = tmp_path / "padded.pcap"
    subprocess.run([sys.executable, str(pc.REPO / "scripts" / "captures" / "pad-snaplen.py"),
                    str(pc.case_input(case)), str(padded)], check=True, capture_output=True)
    bin_ = str(pc.iaso_bin())
    cut = subprocess.run([bin_, "sensor", "--read", str(pc.case_input(case)), "--eve", "-"] +
                         pc.case_args(case), capture_output=True, text=True, timeout=120)
    full = subprocess.run([bin_, "sensor", "--read", str(padded), "--eve", "-"] +
                          pc.case_args(case), capture_output=True, text=True, timeout=120)
    # Flow events only: protocol parsers rightly see the cut bytes as gaps in the cut copy
    # and as (zero) data in the padded one.
    a = pc.canonical([e for e in pc.parse_eve(full.stdout, case.name + " (padded)")
                      if e.get("event_type") == "flow"])
    b = pc.canonical([e for e in pc.parse_eve(cut.stdout, case.name)
                      if e.get("event_type") == "flow"])
    if a != b:
        pytest.fail("%s: the sensor's flows change when snaplen-cut records are padded to "
                    "their wire length (expected = padded copy):\n%s"
                    % (case.name, explain(a, b)), pytrace=False)
