# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the scapy-written captures (vlan.py, fragments.py, malformed.py,
truncated-file.py). Everything is deterministic: fixed addresses, ports, sequence numbers,
IP ids, payloads and timestamps, so regenerating gives byte-identical files.
"""
import os
import struct

from scapy.all import IP, TCP, UDP, Raw  # noqa: F401

# 2026-05-01T12:00:00Z, the example time in the EVE format description.
T0 = 1777636800

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def outdir(case):
    """tests/pcap/<case>, or $IASO_PCAP_OUT/<case> to try without touching committed files."""
    d = os.path.join(os.environ.get("IASO_PCAP_OUT") or os.path.join(ROOT, "tests", "pcap"), case)
    os.makedirs(d, exist_ok=True)
    return d


class Clock:
    """Hands out timestamps a fixed step apart (microsecond resolution, as in a pcap)."""

    def __init__(self, start, step=0.001):
        self.us = int(round(start * 1e6))
        self.step_us = int(round(step * 1e6))

    def next(self, gap=None):
        self.us += self.step_us if gap is None else int(round(gap * 1e6))
        return self.us / 1e6


def stamp(pkt, t):
    pkt.time = t
    return pkt


def tcp_session(l2, cli, srv, sport, dport, clock, request, response, iss_c=1000, iss_s=5000):
    """A complete TCP conversation: handshake, one request, one response, FIN from both sides.

    l2(ip_packet, to_server) wraps an IP packet in its link layer (Ethernet, VLAN tags...).
    Returns the list of packets (10 of them: 3 handshake, request, ACK, response, ACK, FIN,
    FIN-ACK, last ACK) with timestamps from clock.
    """
    c, s = iss_c, iss_s
    out = []

    def seg(to_server, flags, seq, ack, data=b""):
        ipk = IP(src=cli, dst=srv, id=len(out) + 1) if to_server else \
            IP(src=srv, dst=cli, id=len(out) + 1)
        t = TCP(sport=sport, dport=dport) if to_server else TCP(sport=dport, dport=sport)
        t.flags, t.seq, t.ack, t.window = flags, seq, ack, 64240
        p = ipk / t
        if data:
            p = p / Raw(data)
        out.append(stamp(l2(p, to_server), clock.next()))

    seg(True, "S", c, 0)
    seg(False, "SA", s, c + 1)
    seg(True, "A", c + 1, s + 1)
    seg(True, "PA", c + 1, s + 1, request)
    seg(False, "A", s + 1, c + 1 + len(request))
    seg(False, "PA", s + 1, c + 1 + len(request), response)
    seg(True, "A", c + 1 + len(request), s + 1 + len(response))
    seg(True, "FA", c + 1 + len(request), s + 1 + len(response))
    seg(False, "FA", s + 1 + len(response), c + 2 + len(request))
    seg(True, "A", c + 2 + len(request), s + 2 + len(response))
    return out


def udp_exchange(l2, cli, srv, sport, dport, clock, queries, answers):
    """Request/response pairs over UDP; returns the packets."""
    out = []
    for i, (q, a) in enumerate(zip(queries, answers)):
        p = IP(src=cli, dst=srv, id=100 + 2 * i) / UDP(sport=sport, dport=dport) / Raw(q)
        out.append(stamp(l2(p, True), clock.next()))
        p = IP(src=srv, dst=cli, id=101 + 2 * i) / UDP(sport=dport, dport=sport) / Raw(a)
        out.append(stamp(l2(p, False), clock.next()))
    return out


def write_pcap(path, pkts, linktype=1, snaplen=65535):
    """A classic little-endian microsecond pcap, written by hand so every byte is ours: scapy's
    writer is fine too, but this way raw bytes (deliberately broken frames) and orig_len are
    exactly as given. Each item is (time, frame_bytes) or (time, frame_bytes, orig_len)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for item in pkts:
            t, data = item[0], bytes(item[1])
            orig = item[2] if len(item) > 2 else len(data)
            us = int(round(t * 1e6))
            f.write(struct.pack("<IIII", us // 1000000, us % 1000000, len(data), orig))
            f.write(data)


def frames(pkts):
    """scapy packets -> (time, bytes) items for write_pcap."""
    return [(float(p.time), bytes(p)) for p in pkts]
