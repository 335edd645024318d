# SPDX-License-Identifier: Apache-2.0
"""The `iaso sensor` command line: errors a person meets, several files as one stream, worker
threads giving the same results as one, live capture, and the counters."""

import json
import os
import shutil
import signal
import struct
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IASO = os.environ.get("IASO_BIN", str(ROOT / "build/gcc/iaso"))
PCAP = ROOT / "tests/pcap"


def run(*args, **kw):
    return subprocess.run([IASO, *args], capture_output=True, text=True, timeout=120, **kw)


def flows(stdout, with_alerts=True):
    return sorted(json.dumps(e, sort_keys=True) for e in map(json.loads, filter(None,
                  stdout.splitlines())) if with_alerts or e.get("event_type") != "alert")


def alerts(stdout):
    return sorted((e["alert"]["signature_id"], e.get("src_ip"))
                  for e in map(json.loads, filter(None, stdout.splitlines()))
                  if e.get("event_type") == "alert")


def captures():
    out = []
    for d in sorted(PCAP.iterdir()):
        for name in ("input.pcap", "input.pcapng"):
            if (d / name).exists() and not (d / "exit").exists():
                out.append(d / name)
    return out


def test_missing_file():
    r = run("sensor", "--read", "/nonexistent/x.pcap")
    assert r.returncode == 1
    assert "/nonexistent/x.pcap: No such file or directory" in r.stderr


def test_not_a_capture(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("patient list\n")
    r = run("sensor", "--read", str(f))
    assert r.returncode == 1
    assert f"{f}: not a pcap or pcapng file (starts with 0x70617469" in r.stderr


def test_short_and_directory(tmp_path):
    f = tmp_path / "tiny"
    f.write_bytes(b"\xd4\xc3")
    r = run("sensor", "--read", str(f))
    assert r.returncode == 1 and "too short to be a capture file" in r.stderr
    r = run("sensor", "--read", str(tmp_path))
    assert r.returncode == 1 and "is a directory" in r.stderr


def test_usage_errors():
    r = run("sensor")
    assert r.returncode == 2 and "nothing to read" in r.stderr
    r = run("sensor", "--read", "a.pcap", "--interface", "lo")
    assert r.returncode == 2 and "not both" in r.stderr
    r = run("sensor", "--read", "a.pcap", "--workers", "0")
    assert r.returncode == 2 and "--workers 0: out of range (1 to 64)" in r.stderr
    r = run("sensor", "--read", "a.pcap", "--flow-memcap", "lots")
    assert r.returncode == 2 and "expected a size" in r.stderr
    r = run("sensor", "--bogus")
    assert r.returncode == 2 and "unknown option --bogus" in r.stderr
    r = run("sensor", "stray.pcap")
    assert r.returncode == 2 and "unexpected argument 'stray.pcap'" in r.stderr
    r = run("frobnicate")
    assert r.returncode == 2 and "unknown command" in r.stderr


def test_help():
    r = run("sensor", "--help")
    assert r.returncode == 0
    for opt in ("--read FILE", "--interface IF", "--eve PATH", "--stats", "--workers N",
                "--flow-max N", "--stream-memcap SIZE"):
        assert opt in r.stdout
    assert all(len(line) <= 80 for line in r.stdout.splitlines())
    assert run("help").returncode == 0
    assert run("version").stdout.startswith("iaso ")


def test_no_such_interface():
    r = run("sensor", "--interface", "nosuchif0")
    assert r.returncode == 1
    assert "nosuchif0: no such interface" in r.stderr


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to drop")
def test_interface_needs_privileges():
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", IASO, "sensor", "--interface", "lo"],
                       capture_output=True, text=True, timeout=30)
    if r.returncode == 126 or "Permission denied" in r.stderr and "capturing" not in r.stderr:
        pytest.skip("binary not executable by nobody here")
    assert r.returncode == 1
    assert "capturing needs privileges" in r.stderr


@pytest.mark.parametrize("cap", captures(), ids=lambda p: p.parent.name)
def test_workers_same_results(cap):
    one = run("sensor", "--read", str(cap), "--workers", "1")
    three = run("sensor", "--read", str(cap), "--workers", "3", "--queue-size", "1M")
    assert one.returncode == 0 and three.returncode == 0, one.stderr + three.stderr
    # Alerts of detectors that count across flows (scans, sweeps, bursts: the attack-*
    # captures) land on whichever flow crosses the threshold first, which depends on how the
    # worker threads interleave: compare them as (signature id, source), as test_golden does.
    a_one, a_three = alerts(one.stdout), alerts(three.stdout)
    assert a_one == a_three, "alerts (signature id, source) differ: %s vs %s" % (a_one, a_three)
    assert flows(one.stdout, with_alerts=False) == flows(three.stdout, with_alerts=False)
    assert flows(one.stdout), "no flows at all"


def read_pcap(path):
    data = path.read_bytes()
    header, body, recs = data[:24], data[24:], []
    while body:
        caplen = struct.unpack("<I", body[8:12])[0]
        recs.append(body[:16 + caplen])
        body = body[16 + caplen:]
    return header, recs


def test_several_files_merged_by_time(tmp_path):
    """One capture split into two files (alternate packets) reads back as the original."""
    src = PCAP / "http-curl/input.pcap"
    header, recs = read_pcap(src)
    assert header[:4] == b"\xd4\xc3\xb2\xa1"
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    a.write_bytes(header + b"".join(recs[0::2]))
    b.write_bytes(header + b"".join(recs[1::2]))
    whole = run("sensor", "--read", str(src))
    split = run("sensor", "--read", str(b), "--read", str(a))
    assert split.returncode == 0, split.stderr
    assert flows(split.stdout) == flows(whole.stdout)


def test_eve_file_and_stats(tmp_path):
    out = tmp_path / "eve.json"
    cap = PCAP / "vlan/input.pcap"
    r = run("sensor", "--read", str(cap), "--eve", str(out), "--stats")
    assert r.returncode == 0
    assert r.stdout == ""
    stats = dict(l.split(": ", 1) for l in r.stderr.splitlines() if ": " in l and not l.startswith(" "))
    lines = [l for l in out.read_text().splitlines() if '"event_type":"flow"' in l]
    assert int(stats["flows_created"]) == len(lines) > 0
    assert int(stats["packets"]) == sum(
        e["flow"]["pkts_toserver"] + e["flow"]["pkts_toclient"] for e in map(json.loads, lines))
    assert int(stats["flow_bytes_each"]) <= 256
    # Appends, never truncates.
    n_all = len(out.read_text().splitlines())
    run("sensor", "--read", str(cap), "--eve", str(out))
    assert len(out.read_text().splitlines()) == 2 * n_all
    r = run("sensor", "--read", str(cap), "--eve", str(tmp_path / "no/such/dir/eve.json"))
    assert r.returncode == 1 and "cannot open for writing" in r.stderr


def test_flow_cap_evicts(tmp_path):
    """A flood of one-packet flows with a small table: evictions are counted, nothing is lost."""
    from scapy.all import IP, UDP, Ether, wrpcap  # noqa: E402  (Debian python3-scapy)
    pkts = []
    for i in range(3000):
        p = Ether() / IP(src="10.9.%d.%d" % (i // 250, i % 250 + 1), dst="10.9.255.1") / UDP(
            sport=1024 + i, dport=53) / b"x"
        p.time = 1700000000 + i * 0.001
        pkts.append(p)
    f = tmp_path / "flood.pcap"
    wrpcap(str(f), pkts)
    r = run("sensor", "--read", str(f), "--flow-max", "100", "--stats")
    assert r.returncode == 0, r.stderr
    events = [json.loads(l) for l in r.stdout.splitlines()]
    assert len(events) == 3000
    assert sum(e["flow"]["reason"] == "forced" for e in events) == 2900
    assert "flows_evicted: 2900" in r.stderr
    assert "flows_active_max: 100" in r.stderr


def netns(name):
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("ip"), reason="needs root and iproute2")
def test_live_capture(tmp_path):
    """Live capture on the loopback of a network namespace of our own, stopped by SIGINT."""
    ns = "iaso-live-%d" % os.getpid()
    netns(ns)
    try:
        out = tmp_path / "eve.json"
        sensor = subprocess.Popen(["ip", "netns", "exec", ns, IASO, "sensor", "--interface", "lo",
                                   "--eve", str(out), "--stats"],
                                  stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        code = ("import socket\n"
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "for i in range(3): s.sendto(b'ping', ('127.0.0.1', 9999))\n")
        subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", code], check=True)
        time.sleep(0.5)
        sensor.send_signal(signal.SIGINT)
        _, err = sensor.communicate(timeout=20)
        assert sensor.returncode == 0, err
        assert "kernel_dropped: 0" in err
        events = [json.loads(l) for l in out.read_text().splitlines()]
        udp = [e for e in events if e["proto"] == "UDP" and e["dest_port"] == 9999]
        assert len(udp) == 1
        assert udp[0]["flow"]["pkts_toserver"] == 3
    finally:
        subprocess.run(["ip", "netns", "del", ns])


def test_parser_memory_is_capped():
    """Parser state and everything parsers allocate count against --app-memcap: past it a
    parser gives up on its flow (counted), the flow is still tracked, and nothing crashes."""
    cap = PCAP / "dicom-dcmtk/input.pcap"

    def stats(*extra):
        r = run("sensor", "--read", str(cap), "--eve", "/dev/null", "--stats", *extra)
        assert r.returncode == 0, r.stderr
        return {k: v for k, v in (l.split(": ", 1) for l in r.stderr.splitlines()
                                  if ": " in l and not l.startswith(" "))}

    free = stats()
    assert int(free["app_memory_refused"]) == 0
    assert int(free["app_dicom_events"]) > 0
    tight = stats("--app-memcap", "64K")
    assert 0 < int(tight["app_memory_max"]) <= 65536
    assert int(tight["app_memory_refused"]) > 0
    assert int(tight["app_dicom_gave_up"]) > 0
    assert tight["flows_created"] == free["flows_created"]
    assert tight["packets"] == free["packets"]
