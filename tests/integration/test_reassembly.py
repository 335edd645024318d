# SPDX-License-Identifier: Apache-2.0
"""TCP reassembly end to end, on captures whose every byte is known: a transfer with segments
reordered, duplicated, lost and retransmitted, and overlapped with different bytes. The counters
must account for every byte: delivered once, no gap where the data was all there, one gap where
it never came, and each conflicting overlap counted."""

import os
import random
import subprocess
from pathlib import Path

from scapy.all import IP, TCP, Ether, wrpcap  # Debian python3-scapy

ROOT = Path(__file__).resolve().parents[2]
IASO = os.environ.get("IASO_BIN", str(ROOT / "build/gcc/iaso"))

CLIENT, SERVER = "10.77.50.1", "10.77.50.2"
T0 = 1777636800.0


def stats(path, *extra):
    r = subprocess.run([IASO, "sensor", "--read", str(path), "--eve", "/dev/null", "--stats",
                        *extra], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return {k: int(v) for k, v in (l.split(": ", 1) for l in r.stderr.splitlines()
                                   if ": " in l and not l.startswith(" ") and "." not in l)}


def transfer(segments, lose=(), extra=()):
    """A connection: handshake, then the server sends `segments` (seq offset, bytes) in the given
    order (minus `lose`), with `extra` segments injected, then FIN both ways. The client acks
    only what it has in order, as a real receiver would."""
    isn_c, isn_s = 1000, 50000
    t = [T0]

    def at(p):
        p.time = t[0]
        t[0] += 0.001
        return p

    c2s = Ether() / IP(src=CLIENT, dst=SERVER)
    s2c = Ether() / IP(src=SERVER, dst=CLIENT)
    pkts = [at(c2s / TCP(sport=40000, dport=11112, flags="S", seq=isn_c)),
            at(s2c / TCP(sport=11112, dport=40000, flags="SA", seq=isn_s, ack=isn_c + 1)),
            at(c2s / TCP(sport=40000, dport=11112, flags="A", seq=isn_c + 1, ack=isn_s + 1))]
    have = 0  # in-order bytes the client has
    got = {}
    for i, (off, data) in enumerate(list(segments) + list(extra)):
        if i in lose:
            continue
        pkts.append(at(s2c / TCP(sport=11112, dport=40000, flags="PA", seq=isn_s + 1 + off,
                                 ack=isn_c + 1) / data))
        got.setdefault(off, data)
        while have in got:
            have += len(got[have])
        pkts.append(at(c2s / TCP(sport=40000, dport=11112, flags="A", seq=isn_c + 1,
                                 ack=isn_s + 1 + have)))
    end = max(off + len(d) for off, d in segments)
    pkts.append(at(s2c / TCP(sport=11112, dport=40000, flags="FA", seq=isn_s + 1 + end,
                             ack=isn_c + 1)))
    pkts.append(at(c2s / TCP(sport=40000, dport=11112, flags="FA", seq=isn_c + 1,
                             ack=isn_s + 2 + end)))
    return pkts


def chunks(payload, size):
    return [(o, payload[o:o + size]) for o in range(0, len(payload), size)]


PAYLOAD = bytes(random.Random(7).getrandbits(8) for _ in range(30000))


def test_reordered_and_duplicated(tmp_path):
    segs = chunks(PAYLOAD, 1000)
    rng = random.Random(11)
    order = segs[:]
    for i in range(0, len(order) - 3, 4):  # swap within windows of four
        j = i + rng.randrange(4)
        order[i], order[j] = order[j], order[i]
    order += [segs[5], segs[17]]  # two retransmissions of data already delivered
    f = tmp_path / "reordered.pcap"
    wrpcap(str(f), transfer(order))
    s = stats(f)
    assert s["reasm_bytes_delivered"] == len(PAYLOAD)
    assert s["reasm_gaps"] == 0
    assert s["reasm_out_of_order"] > 0
    assert s["reasm_retransmissions"] >= 2
    assert s["reasm_overlap_diff"] == 0
    assert s["reasm_held_max"] > 0


def test_lost_then_retransmitted(tmp_path):
    segs = chunks(PAYLOAD, 1000)
    # Segment 3 is lost and sent again at the end: nothing is missing from the stream.
    f = tmp_path / "retrans.pcap"
    wrpcap(str(f), transfer(segs, lose={3}, extra=[segs[3]]))
    s = stats(f)
    assert s["reasm_bytes_delivered"] == len(PAYLOAD)
    assert s["reasm_gaps"] == 0


def test_lost_for_good_is_one_gap(tmp_path):
    segs = chunks(PAYLOAD, 1000)
    f = tmp_path / "lost.pcap"
    wrpcap(str(f), transfer(segs, lose={10}))
    s = stats(f)
    assert s["reasm_gaps"] == 1
    assert s["reasm_gap_bytes"] == 1000
    assert s["reasm_bytes_delivered"] == len(PAYLOAD) - 1000


def test_overlap_with_different_bytes(tmp_path):
    segs = chunks(PAYLOAD, 1000)
    # Segments 20 and 21 arrive late; first a forged segment covers 20.5-21.5 with other bytes.
    forged = bytes(b ^ 0xFF for b in PAYLOAD[20500:21500])
    order = segs[:20] + [(20500, forged)] + segs[20:]
    f = tmp_path / "overlap.pcap"
    wrpcap(str(f), transfer(order))
    s = stats(f)
    # First seen wins: the forged bytes stand, the real ones that overlap them are counted.
    assert s["reasm_overlap_diff"] >= 1
    assert s["reasm_gaps"] == 0
    assert s["reasm_bytes_delivered"] == len(PAYLOAD)


def test_direction_cap_forces_gap(tmp_path):
    segs = chunks(PAYLOAD, 1000)
    # The first segment is lost for good and nothing acknowledges past it: everything after it
    # is held until the per-direction cap (4 KiB) forces the hole to be declared a gap.
    f = tmp_path / "cap.pcap"
    pkts = [p for p in transfer(segs, lose={0})
            if not (p[IP].src == CLIENT and p[TCP].flags == "A" and p[TCP].ack > 50001)]
    wrpcap(str(f), pkts)
    s = stats(f, "--stream-dir-max", "4K")
    assert s["reasm_drops_dir_cap"] >= 1
    assert s["reasm_gap_bytes"] == 1000
    assert s["reasm_bytes_delivered"] == len(PAYLOAD) - 1000
    assert s["reasm_held_max"] <= 4096
