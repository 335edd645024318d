#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""malformed: broken frames among good ones, written with scapy and by hand (deterministic).

The sensor must count and skip each broken frame and never let it into a flow; the good
conversation around them must come out whole. Each broken frame uses its own source address
10.77.10.<n> (or fd77::10:<n>) so a flow that should not exist is easy to spot in the output.
Frame list (numbers are frame numbers in the file):

   1  good   UDP 10.77.10.1:43001 -> 10.77.10.2:53 request            (good flow A)
   2  bad    Ethernet frame cut to 10 bytes (no ethertype)
   3  good   TCP SYN 10.77.10.1:43002 -> 10.77.10.2:80                (good flow B)
   4  bad    IPv4 header cut after 12 bytes                            src .11 (not readable)
   5  bad    IPv4 IHL = 4 (header shorter than the minimum)            src .12
   6  bad    IPv4 IHL = 15 (60-byte header) but only 28 bytes of IP    src .13
   7  bad    IPv4 total length 1500, frame holds 48 bytes of IP and
             the wire length was the same (not a snaplen cut)          src .14
   8  bad    IPv4 total length 12 (< header length)                    src .15
   9  good   TCP SYN-ACK 10.77.10.2:80 -> 10.77.10.1:43002             (flow B)
  10  bad    TCP data offset 4 (< 5)                                   src .16
  11  bad    TCP data offset 15 (60 bytes) in a 20-byte segment        src .17
  12  bad    UDP length 100 but 12 bytes of UDP present                src .18
  13  bad    UDP length 4 (< 8)                                        src .19
  14  bad    IPv6 header cut after 20 bytes                            src fd77::10:20 (not readable)
  15  bad    IPv6 payload length 1000, 28 bytes present                src fd77::10:21
  16  bad    802.1Q tag then nothing (frame ends after the tag)
  17  bad    ethertype 0x0800 but IP version 6 in the header           src .22
  18  good   UDP 10.77.10.2:53 -> 10.77.10.1:43001 response            (flow A)
  19  good   TCP ACK 10.77.10.1:43002 -> 10.77.10.2:80                 (flow B)
  20  good   ICMP echo request 10.77.10.1 -> 10.77.10.2                (good flow C)
  21  good   ICMP echo reply                                            (flow C)
  22  good   snaplen cut: UDP 10.77.10.1:43003 -> 10.77.10.2:5000, 600 bytes on the wire, 64
             captured (caplen < orig_len is legitimate, not malformed)  (good flow D)
  23  good   snaplen cut, IPv6: UDP [fd77::10:1]:43004 -> [fd77::10:2]:5000, 600 bytes on the
             wire, 80 captured                                          (good flow E)
Every frame's wire length equals its captured length except frames 22 and 23.
"""
import struct

from scapy.all import DNS, DNSQR, ICMP, IP, TCP, UDP, Ether, IPv6, Raw

import synth

MAC_C, MAC_S = "02:77:0a:00:00:01", "02:77:0a:00:00:02"
C, S = "10.77.10.1", "10.77.10.2"


def eth(payload, etype=0x0800, to_server=True):
    src, dst = (MAC_C, MAC_S) if to_server else (MAC_S, MAC_C)
    return bytes(Ether(src=src, dst=dst, type=etype)) + bytes(payload)


def ipv4_bytes(src, l4, **kw):
    return bytearray(bytes(IP(src=src, dst=S, id=0x0a00, **kw) / l4))


def set_cksum(ip):
    """Recompute the IPv4 header checksum over IHL*4 bytes (or what exists)."""
    ihl = (ip[0] & 0x0F) * 4
    hdr = bytearray(ip[:max(20, min(ihl, len(ip)))])
    hdr[10:12] = b"\0\0"
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), bytes(hdr[:len(hdr) // 2 * 2])))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    ip[10:12] = struct.pack("!H", ~s & 0xFFFF)
    return ip


def main():
    clock = synth.Clock(synth.T0)
    out = []

    def add(frame, orig=None):
        t = clock.next()
        out.append((t, frame) if orig is None else (t, frame, orig))

    udp_req = IP(src=C, dst=S, id=1) / UDP(sport=43001, dport=53) / DNS(id=1, rd=1, qd=DNSQR(qname="pacs.example"))
    udp_resp = IP(src=S, dst=C, id=2) / UDP(sport=53, dport=43001) / DNS(id=1, qr=1, rd=1, rcode=3, qd=DNSQR(qname="pacs.example"))
    syn = IP(src=C, dst=S, id=3) / TCP(sport=43002, dport=80, flags="S", seq=100)
    synack = IP(src=S, dst=C, id=4) / TCP(sport=80, dport=43002, flags="SA", seq=900, ack=101)
    ack = IP(src=C, dst=S, id=5) / TCP(sport=43002, dport=80, flags="A", seq=101, ack=901)

    add(eth(udp_req))                                                    # 1
    add(eth(b"")[:10])                                                   # 2
    add(eth(syn))                                                        # 3
    add(eth(ipv4_bytes("10.77.10.11", UDP(sport=1, dport=2))[:12]))      # 4
    ip = ipv4_bytes("10.77.10.12", UDP(sport=1, dport=2) / Raw(b"x" * 8))
    ip[0] = 0x44
    add(eth(set_cksum(ip)))                                              # 5
    ip = ipv4_bytes("10.77.10.13", Raw(b"y" * 8), proto=17)
    ip[0] = 0x4F
    add(eth(set_cksum(ip)))                                              # 6
    ip = ipv4_bytes("10.77.10.14", UDP(sport=1, dport=2) / Raw(b"z" * 20))
    ip[2:4] = struct.pack("!H", 1500)
    add(eth(set_cksum(ip)))                                              # 7
    ip = ipv4_bytes("10.77.10.15", UDP(sport=1, dport=2))
    ip[2:4] = struct.pack("!H", 12)
    add(eth(set_cksum(ip)))                                              # 8
    add(eth(synack, to_server=False))                                    # 9
    seg = bytearray(bytes(TCP(sport=1, dport=2, flags="S")))
    seg[12] = 0x40
    add(eth(set_cksum(ipv4_bytes("10.77.10.16", Raw(bytes(seg)), proto=6))))      # 10
    seg[12] = 0xF0
    add(eth(set_cksum(ipv4_bytes("10.77.10.17", Raw(bytes(seg)), proto=6))))      # 11
    dgram = bytearray(bytes(UDP(sport=1, dport=2) / Raw(b"abcd")))
    dgram[4:6] = struct.pack("!H", 100)
    add(eth(set_cksum(ipv4_bytes("10.77.10.18", Raw(bytes(dgram)), proto=17))))   # 12
    dgram[4:6] = struct.pack("!H", 4)
    add(eth(set_cksum(ipv4_bytes("10.77.10.19", Raw(bytes(dgram)), proto=17))))   # 13
    v6 = bytes(IPv6(src="fd77::10:20", dst="fd77::10:2") / UDP(sport=1, dport=2))
    add(eth(v6[:20], etype=0x86DD))                                      # 14
    v6 = bytearray(bytes(IPv6(src="fd77::10:21", dst="fd77::10:2") / UDP(sport=1, dport=2) /
                         Raw(b"q" * 20)))
    v6[4:6] = struct.pack("!H", 1000)
    add(eth(v6, etype=0x86DD))                                           # 15
    add(eth(b"\x00\x0a\x08\x00", etype=0x8100))                          # 16
    ip = ipv4_bytes("10.77.10.22", UDP(sport=1, dport=2))
    ip[0] = 0x65
    add(eth(set_cksum(ip)))                                              # 17
    add(eth(udp_resp, to_server=False))                                  # 18
    add(eth(ack))                                                        # 19
    add(eth(IP(src=C, dst=S, id=6) / ICMP(type=8, id=7, seq=1) / Raw(b"ping")))      # 20
    add(eth(IP(src=S, dst=C, id=7) / ICMP(type=0, id=7, seq=1) / Raw(b"ping"), to_server=False))
    big = eth(IP(src=C, dst=S, id=8) / UDP(sport=43003, dport=5000) / Raw(b"L" * 558))
    assert len(big) == 600
    add(big[:64], 600)                                                   # 22
    big6 = eth(IPv6(src="fd77::10:1", dst="fd77::10:2") / UDP(sport=43004, dport=5000) /
               Raw(b"S" * 538), etype=0x86DD)
    assert len(big6) == 600
    add(big6[:80], 600)                                                  # 23

    path = synth.outdir("malformed") + "/input.pcap"
    synth.write_pcap(path, out)
    print("malformed.py: wrote %s (%d frames)" % (path, len(out)))


if __name__ == "__main__":
    main()
