# SPDX-License-Identifier: Apache-2.0
"""Cross-check of the sensor's flow counters against tshark, the reference decoder.

For every capture in tests/pcap with TCP or UDP conversations (except the cases in EXCLUDED),
the sensor's EVE flow events must agree with tshark on packets and bytes, per direction. Bytes
are wire lengths (pcap orig_len, tshark's frame.len) on both sides.

Two independent methods:
 1. tshark's own conversation tables (-z conv,tcp and -z conv,udp). They do not separate VLANs,
    so sensor flows that differ only in VLAN are summed before comparing. Frame counts are
    exact; tshark 4.0 prints bytes as "N bytes" below 10,000 and truncated "N kB" / "N MB"
    above, so a kB/MB value is checked to within its unit (v*unit <= ours < (v+1)*unit).
 2. tshark -T fields over every TCP/UDP packet, aggregated here per (VLAN stack, protocol,
    unordered address/port pair) and per sending endpoint; compared exactly, byte for byte,
    direction by direction (packets sent by the flow's src_ip:src_port must equal
    pkts_toserver/bytes_toserver, and the other way round).
Both also check that neither side has a conversation the other lacks.

  /usr/bin/python3 -m pytest tests/integration/test_tshark_conv.py
"""
import re
import subprocess
from collections import defaultdict

import pytest

import pcap_cases as pc

# Cases where tshark's counting legitimately differs from a flow sensor's:
EXCLUDED = {
    # tshark reassembles IP fragments and files the whole UDP datagram under the frame that
    # completes it; the other fragments carry no ports, so conv,udp does not count them (and a
    # duplicated fragment is not a UDP packet at all for tshark). The sensor counts fragments
    # into the flow by its own rules. The golden test pins the sensor's behaviour instead.
    "fragments": "IP fragments: tshark counts reassembled datagrams, not fragments",
    # tshark decodes as far as it can and still files several frames the sensor must drop as
    # invalid under a UDP conversation (IPv4 total length beyond the frame, UDP length field
    # 100 > payload or 4 < 8, IPv6 payload length beyond the frame), so its conversations
    # legitimately contain packets the sensor rejects. The golden test pins these instead.
    "malformed": "malformed frames: tshark is lenient where the sensor must reject",
}

CASES = [c for c in pc.cases() if c.name not in EXCLUDED]

UNITS = {"bytes": 1, "kB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3}
ROW_RE = re.compile(
    r"^(?P<a>\S+)\s+<->\s+(?P<b>\S+)\s+"
    r"(?P<ba_f>\d+)\s+(?P<ba_b>\d+)\s+(?P<ba_u>bytes|kB|MB|GB)\s+"
    r"(?P<ab_f>\d+)\s+(?P<ab_b>\d+)\s+(?P<ab_u>bytes|kB|MB|GB)\s+"
    r"(?P<t_f>\d+)\s+(?P<t_b>\d+)\s+(?P<t_u>bytes|kB|MB|GB)\s+"
    r"(?P<start>[\d.]+)\s+(?P<dur>[\d.]+)\s*$")


def tshark(args, path):
    cmd = ["tshark", "-n", "-r", str(path)] + args
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    # A capture cut short makes tshark exit 2 after printing everything it read; that is the
    # truncated-file case and fine here. Anything else is an error.
    if proc.returncode not in (0, 2) or (proc.returncode == 2 and
                                         "cut short" not in proc.stderr):
        pytest.fail("%s failed (%d): %s" % (" ".join(cmd), proc.returncode, proc.stderr))
    return proc.stdout


def endpoint(s):
    """'10.0.0.1:80' or 'fd77::1:80' -> ('10.0.0.1', 80)."""
    addr, port = s.rsplit(":", 1)
    return addr.strip("[]"), int(port)


def conv_table(path):
    """{(proto, frozenset{A, B}): row} from tshark -z conv,tcp -z conv,udp."""
    out = tshark(["-q", "-z", "conv,tcp", "-z", "conv,udp"], path)
    convs = {}
    proto = None
    for line in out.splitlines():
        if line.startswith("TCP Conversations"):
            proto = "TCP"
        elif line.startswith("UDP Conversations"):
            proto = "UDP"
        m = ROW_RE.match(line)
        if not m:
            assert "<->" not in line, "unparsed tshark conversation row: %r" % line
            continue
        a, b = endpoint(m["a"]), endpoint(m["b"])
        row = {
            "a": a, "b": b,
            "ab_pkts": int(m["ab_f"]), "ab_bytes": (int(m["ab_b"]), UNITS[m["ab_u"]]),
            "ba_pkts": int(m["ba_f"]), "ba_bytes": (int(m["ba_b"]), UNITS[m["ba_u"]]),
            "pkts": int(m["t_f"]), "bytes": (int(m["t_b"]), UNITS[m["t_u"]]),
        }
        key = (proto, frozenset((a, b)))
        assert key not in convs, "tshark lists %s twice" % (key,)
        convs[key] = row
    return convs


FIELDS = ["frame.number", "frame.len", "ieee8021ad.id", "vlan.id", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport"]


def packet_table(path):
    """{(vlans, proto, frozenset{A, B}): {sender endpoint: [pkts, bytes]}} from every
    TCP/UDP packet, using the outermost IP and L4 header."""
    # Every occurrence of each field (tshark applies one occurrence setting to all fields):
    # vlan.id needs them all for stacked tags; for the others the first one is the outermost.
    # tshark files an 802.1ad (0x88a8) tag under ieee8021ad.id, not vlan.id; an S-tag is the
    # outer one, so the stack is the 802.1ad ids followed by the 802.1Q ids.
    agg = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    args = ["-Y", "(tcp or udp) and not icmp and not icmpv6", "-T", "fields",
            "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        args += ["-e", f]
    for line in tshark(args, path).splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        first = {k: (x.split(",")[0] if x else "") for k, x in v.items()}
        vlans = tuple(int(x) for f in ("ieee8021ad.id", "vlan.id") for x in v[f].split(",")
                      if x)
        src = first["ip.src"] or first["ipv6.src"]
        dst = first["ip.dst"] or first["ipv6.dst"]
        if first["tcp.srcport"]:
            proto, sp, dp = "TCP", first["tcp.srcport"], first["tcp.dstport"]
        else:
            proto, sp, dp = "UDP", first["udp.srcport"], first["udp.dstport"]
        a, b = (src, int(sp)), (dst, int(dp))
        cell = agg[(vlans, proto, frozenset((a, b)))][a]
        cell[0] += 1
        cell[1] += int(first["frame.len"])
    return agg


def eve_flows(case):
    proc = pc.run_sensor(case)
    assert proc.returncode == pc.case_exit(case), "%s: exit %d:\n%s" % (
        case.name, proc.returncode, proc.stderr[-2000:])
    flows = [ev for ev in pc.parse_eve(proc.stdout, case.name)
             if ev.get("event_type") == "flow" and ev.get("proto") in ("TCP", "UDP")]
    assert flows or not conv_table(pc.case_input(case)), "%s: no TCP/UDP flow events" % case.name
    return flows


def ends(ev):
    return (ev["src_ip"], int(ev["src_port"])), (ev["dest_ip"], int(ev["dest_port"]))


def bytes_match(ours, shown):
    value, unit = shown
    return ours == value if unit == 1 else value * unit <= ours < (value + 1) * unit


def compare_conv(flows, convs):
    """Method 1. Returns a list of disagreements (empty when all agree)."""
    # Sum the sensor's flows per (proto, unordered pair), oriented to tshark's A later.
    ours = defaultdict(list)
    for ev in flows:
        ours[(ev["proto"], frozenset(ends(ev)))].append(ev)
    errs = []
    for key in sorted(set(convs) - set(ours), key=str):
        r = convs[key]
        errs.append("tshark has %s %s:%d <-> %s:%d (%d packets), the sensor has no flow" % (
            key[0], *r["a"], *r["b"], r["pkts"]))
    for key in sorted(set(ours) - set(convs), key=str):
        errs.append("the sensor has %s flow(s) %s that tshark does not list" % (
            key[0], [pc.flow_key(e) for e in ours[key]]))
    for key in sorted(set(ours) & set(convs), key=str):
        r = convs[key]
        ab_p = ab_b = ba_p = ba_b = 0
        for ev in ours[key]:
            f = ev["flow"]
            src, _ = ends(ev)
            if src == r["a"]:
                ab_p += f["pkts_toserver"]; ab_b += f["bytes_toserver"]
                ba_p += f["pkts_toclient"]; ba_b += f["bytes_toclient"]
            else:
                ab_p += f["pkts_toclient"]; ab_b += f["bytes_toclient"]
                ba_p += f["pkts_toserver"]; ba_b += f["bytes_toserver"]
        name = "%s %s:%d <-> %s:%d" % (key[0], *r["a"], *r["b"])
        checks = [
            ("packets A->B", ab_p, r["ab_pkts"], ab_p == r["ab_pkts"]),
            ("packets B->A", ba_p, r["ba_pkts"], ba_p == r["ba_pkts"]),
            ("packets total", ab_p + ba_p, r["pkts"], ab_p + ba_p == r["pkts"]),
            ("bytes A->B", ab_b, r["ab_bytes"], bytes_match(ab_b, r["ab_bytes"])),
            ("bytes B->A", ba_b, r["ba_bytes"], bytes_match(ba_b, r["ba_bytes"])),
            ("bytes total", ab_b + ba_b, r["bytes"], bytes_match(ab_b + ba_b, r["bytes"])),
        ]
        for what, mine, theirs, ok in checks:
            if not ok:
                if isinstance(theirs, tuple):
                    theirs = "%d %s" % (theirs[0], {1: "bytes", 1000: "kB", 10 ** 6: "MB",
                                                    10 ** 9: "GB"}[theirs[1]])
                errs.append("%s: %s: sensor %d, tshark %s" % (name, what, mine, theirs))
    return errs


def compare_packets(flows, agg):
    """Method 2. Returns a list of disagreements (empty when all agree)."""
    ours = defaultdict(list)
    for ev in flows:
        ours[(tuple(ev.get("vlan", [])), ev["proto"], frozenset(ends(ev)))].append(ev)
    errs = []

    def label(key):
        vl = ",".join(map(str, key[0])) or "-"
        eps = sorted(key[2])
        return "%s vlan=%s %s" % (key[1], vl, " <-> ".join("%s:%d" % e for e in eps))

    for key in sorted(set(agg) - set(ours), key=str):
        n = sum(c[0] for c in agg[key].values())
        errs.append("tshark sees %s (%d packets), the sensor has no flow" % (label(key), n))
    for key in sorted(set(ours) - set(agg), key=str):
        errs.append("the sensor has %s, tshark sees no such packets" % label(key))
    for key in sorted(set(ours) & set(agg), key=str):
        evs = ours[key]
        if len(evs) != 1:
            # One conversation split into several flows (timeouts) is not expected in these
            # short captures; say so rather than guess how to add them up.
            errs.append("%s: the sensor emitted %d flows for one conversation: %s" % (
                label(key), len(evs), [e["flow"] for e in evs]))
            continue
        ev = evs[0]
        src, dst = ends(ev)
        f = ev["flow"]
        got = agg[key]
        for what, ep, pk, by in (("toserver", src, f["pkts_toserver"], f["bytes_toserver"]),
                                 ("toclient", dst, f["pkts_toclient"], f["bytes_toclient"])):
            tp, tb = got.get(ep, [0, 0])
            if (pk, by) != (tp, tb):
                errs.append("%s: %s (sent by %s:%d): sensor %d packets / %d bytes, "
                            "tshark %d packets / %d bytes" % (label(key), what, ep[0], ep[1],
                                                               pk, by, tp, tb))
    return errs


def needs_flows(case):
    if not conv_table(pc.case_input(case)):
        pytest.skip("%s: no TCP or UDP conversations" % case.name)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_conv_table(case):
    needs_flows(case)
    errs = compare_conv(eve_flows(case), conv_table(pc.case_input(case)))
    assert not errs, "%s: sensor and tshark -z conv disagree:\n  %s" % (
        case.name, "\n  ".join(errs))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_per_packet(case):
    needs_flows(case)
    errs = compare_packets(eve_flows(case), packet_table(pc.case_input(case)))
    assert not errs, "%s: sensor and tshark per-packet totals disagree:\n  %s" % (
        case.name, "\n  ".join(errs))


def test_comparators_can_fail():
    """The two comparisons above must catch a wrong count: feed them a doctored flow."""
    vlan = pc.PCAP_DIR / "vlan" / "input.pcap"
    if not vlan.exists():
        pytest.skip("tests/pcap/vlan missing")
    agg = packet_table(vlan)
    convs = conv_table(vlan)
    # Build the flows tshark implies, as a correct sensor would report them.
    flows = []
    for (vlans, proto, pair), by_src in agg.items():
        a, b = sorted(pair)
        ev = {"event_type": "flow", "proto": proto, "src_ip": a[0], "src_port": a[1],
              "dest_ip": b[0], "dest_port": b[1],
              "flow": {"pkts_toserver": by_src.get(a, [0, 0])[0],
                       "bytes_toserver": by_src.get(a, [0, 0])[1],
                       "pkts_toclient": by_src.get(b, [0, 0])[0],
                       "bytes_toclient": by_src.get(b, [0, 0])[1]}}
        if vlans:
            ev["vlan"] = list(vlans)
        flows.append(ev)
    assert compare_packets(flows, agg) == []
    assert compare_conv(flows, convs) == []
    flows[0]["flow"]["bytes_toclient"] += 1
    assert compare_packets(flows, agg), "a one-byte error went unnoticed (per packet)"
    assert compare_conv(flows, convs), "a one-byte error went unnoticed (conv table)"
    flows[0]["flow"]["bytes_toclient"] -= 1
    flows[0]["flow"]["pkts_toserver"] += 1
    assert compare_packets(flows, agg) and compare_conv(flows, convs)
    flows[0]["flow"]["pkts_toserver"] -= 1
    flows[0]["vlan"] = [999]
    assert compare_packets(flows, agg), "a wrong VLAN went unnoticed"
