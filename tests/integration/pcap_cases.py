# SPDX-License-Identifier: Apache-2.0
"""Shared by the pcap tests: where the cases are, how to run the sensor on one, how to read EVE.

A case is a folder tests/pcap/<case>/ holding:
  input.pcap or input.pcapng  the capture (made by scripts/captures/)
  expect.jsonl                the sensor's EVE output, normalised (see canonical())
  args      optional          extra command-line arguments, one line, shell-style quoting
  exit      optional          the expected exit status when it is not 0
  stderr    optional          regular expressions, one a line, that must all match stderr
"""
import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PCAP_DIR = REPO / "tests" / "pcap"


def iaso_bin():
    """The binary under test: $IASO_BIN, else build/gcc/iaso. A missing default binary skips
    (nothing built yet); a missing binary named in IASO_BIN is an error."""
    env = os.environ.get("IASO_BIN")
    path = Path(env) if env else REPO / "build" / "gcc" / "iaso"
    if not path.is_absolute():
        path = REPO / path
    if not path.exists():
        if env:
            pytest.fail("IASO_BIN=%s does not exist" % env)
        pytest.skip("%s not built (set IASO_BIN or build with ninja -C build/gcc)" % path)
    return path


def cases():
    """Every case folder that has an input capture, sorted by name."""
    out = []
    for d in sorted(PCAP_DIR.iterdir()) if PCAP_DIR.is_dir() else []:
        if d.is_dir() and case_input(d) is not None:
            out.append(d)
    return out


def case_input(case):
    for name in ("input.pcap", "input.pcapng"):
        if (case / name).exists():
            return case / name
    return None


def case_args(case):
    f = case / "args"
    return shlex.split(f.read_text().strip()) if f.exists() else []


def case_exit(case):
    f = case / "exit"
    return int(f.read_text().strip()) if f.exists() else 0


def run_sensor(case, extra=()):
    """Runs `iaso sensor --read INPUT --eve - [args]`; returns the CompletedProcess."""
    cmd = [str(iaso_bin()), "sensor", "--read", str(case_input(case)), "--eve", "-"]
    cmd += case_args(case) + list(extra)
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO)
    except subprocess.TimeoutExpired:
        pytest.fail("%s: sensor still running after 120 s: %s" % (case.name, shlex.join(cmd)))


def parse_eve(text, what):
    """One JSON object per non-empty line; anything else fails the test, naming the line."""
    events = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except json.JSONDecodeError as e:
            pytest.fail("%s: EVE line %d is not JSON (%s): %r" % (what, n, e, line[:200]))
        if not isinstance(ev, dict):
            pytest.fail("%s: EVE line %d is not a JSON object: %r" % (what, n, line[:200]))
        events.append(ev)
    return events


def canonical(events):
    """Order-independent normal form: each event as JSON with sorted keys, lines sorted.
    The sensor may emit flows in any order (timeouts, workers), so order is not compared."""
    return sorted(json.dumps(ev, sort_keys=True, separators=(",", ":")) for ev in events)


def flow_key(ev):
    """A readable identity for a flow event: vlan stack, proto, src, dest."""
    vlan = ",".join(str(v) for v in ev.get("vlan", [])) or "-"
    src = "%s:%s" % (ev.get("src_ip"), ev.get("src_port", "")) if "src_port" in ev \
        else str(ev.get("src_ip"))
    dst = "%s:%s" % (ev.get("dest_ip"), ev.get("dest_port", "")) if "dest_port" in ev \
        else str(ev.get("dest_ip"))
    return "%s vlan=%s %s -> %s" % (ev.get("proto"), vlan, src, dst)
