#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""fragments: fragmented UDP over IPv4 and IPv6, written with scapy (deterministic).

Fragments are cut by hand (not with scapy's fragment()) so each one is exactly as listed.
Every datagram carries 2,400 bytes of UDP payload (2,408 with the UDP header), cut into
fragments of 1,000 + 1,000 + 408 bytes of IP payload. Each request gets a small unfragmented
UDP answer, so each flow has both directions.

IPv4, 10.77.9.1 -> 10.77.9.2, UDP 42001 -> 5000 (one flow, all three datagrams):
  id 0x1001  fragments in order            (offsets 0, 1000, 2000)
  id 0x1002  fragments out of order        (2000, 0, 1000)
  id 0x1003  middle fragment duplicated    (0, 1000, 1000, 2000)
IPv6, fd77::9:1 -> fd77::9:2, UDP 42002 -> 5000 (one flow, both datagrams):
  id 0x2001  Hop-by-Hop (PadN) then Fragment header, in order
  id 0x2002  Hop-by-Hop, Destination Options, then Fragment header, last fragment first
Finally one unfragmented IPv4 datagram on a third flow (42003 -> 5000) as a control.
"""
from scapy.all import (IP, UDP, Ether, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, PadN, Raw)

import synth

MAC_C, MAC_S = "02:77:09:00:00:01", "02:77:09:00:00:02"
CUTS = [(0, 1000), (1000, 2000), (2000, 2408)]


def payload(tag):
    line = b"fragmented datagram %s " % tag
    return (line * (2400 // len(line) + 1))[:2400]


def v4_fragments(ident, sport, data):
    """The UDP datagram (header with the real checksum + data) cut at CUTS."""
    whole = IP(src="10.77.9.1", dst="10.77.9.2") / UDP(sport=sport, dport=5000) / Raw(data)
    udp_bytes = bytes(whole)[20:]
    frags = []
    for start, end in CUTS:
        more = end < len(udp_bytes)
        ip = IP(src="10.77.9.1", dst="10.77.9.2", id=ident, proto=17, flags="MF" if more else 0,
                frag=start // 8)
        frags.append(Ether(src=MAC_C, dst=MAC_S) / ip / Raw(udp_bytes[start:end]))
    return frags


def v6_fragments(ident, sport, data, with_dest_opts):
    whole = IPv6(src="fd77::9:1", dst="fd77::9:2") / UDP(sport=sport, dport=5000) / Raw(data)
    udp_bytes = bytes(whole)[40:]
    frags = []
    for start, end in CUTS:
        more = end < len(udp_bytes)
        p = IPv6(src="fd77::9:1", dst="fd77::9:2") / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)])
        if with_dest_opts:
            p = p / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)])
        p = p / IPv6ExtHdrFragment(nh=17, offset=start // 8, m=int(more), id=ident)
        frags.append(Ether(src=MAC_C, dst=MAC_S) / p / Raw(udp_bytes[start:end]))
    return frags


def answer_v4(sport, text):
    return Ether(src=MAC_S, dst=MAC_C) / IP(src="10.77.9.2", dst="10.77.9.1", id=0x3000) / \
        UDP(sport=5000, dport=sport) / Raw(text)


def answer_v6(sport, text):
    return Ether(src=MAC_S, dst=MAC_C) / IPv6(src="fd77::9:2", dst="fd77::9:1") / \
        UDP(sport=5000, dport=sport) / Raw(text)


def main():
    clock = synth.Clock(synth.T0)
    seq = []
    f = v4_fragments(0x1001, 42001, payload(b"v4-in-order"))
    seq += f + [answer_v4(42001, b"ok 0x1001")]
    f = v4_fragments(0x1002, 42001, payload(b"v4-out-of-order"))
    seq += [f[2], f[0], f[1], answer_v4(42001, b"ok 0x1002")]
    f = v4_fragments(0x1003, 42001, payload(b"v4-duplicate"))
    seq += [f[0], f[1], f[1].copy(), f[2], answer_v4(42001, b"ok 0x1003")]
    f = v6_fragments(0x2001, 42002, payload(b"v6-hbh"), False)
    seq += f + [answer_v6(42002, b"ok 0x2001")]
    f = v6_fragments(0x2002, 42002, payload(b"v6-hbh-dstopt"), True)
    seq += [f[2], f[0], f[1], answer_v6(42002, b"ok 0x2002")]
    seq += [Ether(src=MAC_C, dst=MAC_S) / IP(src="10.77.9.1", dst="10.77.9.2", id=0x1004) /
            UDP(sport=42003, dport=5000) / Raw(b"not fragmented"),
            answer_v4(42003, b"ok 0x1004")]
    for p in seq:
        synth.stamp(p, clock.next())
    path = synth.outdir("fragments") + "/input.pcap"
    synth.write_pcap(path, synth.frames(seq))
    print("fragments.py: wrote %s (%d packets)" % (path, len(seq)))


if __name__ == "__main__":
    main()
