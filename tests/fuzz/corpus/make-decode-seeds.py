#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Writes the seed corpus for tests/fuzz/fuzz-decode.c into tests/fuzz/corpus/decode/.
# Each file is one byte picking the link type (index into the target's `links` table; adding
# k * 9 also moves the packet clock k * 50 ms), then the packet. Run from anywhere:
#   /usr/bin/python3 tests/fuzz/corpus/make-decode-seeds.py
import os
import struct

from scapy.all import (AH, ESP, ICMP, IP, TCP, UDP, CookedLinux, CookedLinuxV2, Dot1AD,
                       Dot1Q, Ether, ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw,
                       fragment)

ETH, RAW, IPV4, IPV6, SLL, SLL2, NULL, DLT12, DLT14 = range(9)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "decode")

MAC = dict(src="66:77:88:99:aa:bb", dst="00:11:22:33:44:55")
V4 = dict(src="10.0.0.1", dst="10.0.0.2")
V6 = dict(src="fd00::1", dst="fd00::2")


def write(name, link, pkt):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([link]) + bytes(pkt))


def main():
    os.makedirs(OUT, exist_ok=True)
    tcp_syn = TCP(sport=40000, dport=104, flags="S", seq=1000,
                  options=[("MSS", 1460), ("NOP", None), ("WScale", 7), ("SAckOK", b"")])
    write("eth-ipv4-tcp-syn", ETH, Ether(**MAC) / IP(**V4) / tcp_syn)
    write("eth-ipv4-tcp-data-padded", ETH,
          Ether(**MAC) / IP(**V4) / TCP(sport=104, dport=40000, flags="PA") / Raw(b"MSH|")
          / Raw(b"\0" * 6))
    write("eth-vlan-ipv4-udp", ETH,
          Ether(**MAC) / Dot1Q(vlan=100) / IP(**V4) / UDP(sport=5353, dport=53) / Raw(b"abcd"))
    write("eth-qinq-ipv4-udp", ETH,
          Ether(**MAC) / Dot1AD(vlan=200) / Dot1Q(vlan=300) / IP(**V4) / UDP() / Raw(b"x"))
    write("eth-three-tags", ETH,
          Ether(**MAC) / Dot1AD(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / IP(**V4) / UDP())
    old = Ether(**MAC, type=0x9100) / Dot1Q(vlan=7) / IP(**V4) / ICMP()
    write("eth-9100-ipv4-icmp", ETH, old)
    write("eth-ipv6-tcp", ETH,
          Ether(**MAC) / IPv6(**V6) / TCP(sport=443, dport=50000, flags="A") / Raw(b"hello"))
    write("eth-ipv6-ext-chain", ETH,
          Ether(**MAC) / IPv6(**V6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting()
          / IPv6ExtHdrDestOpt() / UDP(sport=1, dport=2) / Raw(b"data"))
    write("ipv6-ah-udp", IPV6,
          IPv6(**V6) / AH(nh=17, payloadlen=4, spi=1, seq=1, icv=b"\0" * 12) / UDP())
    write("ipv6-esp", IPV6, IPv6(**V6) / ESP(spi=1, seq=1, data=b"opaque"))
    write("ipv6-atomic-fragment", RAW,
          IPv6(**V6) / IPv6ExtHdrFragment(offset=0, m=0, id=5) / UDP() / Raw(b"atomic"))
    # Two IPv6 fragments of one UDP datagram, destination options before the Fragment header.
    body = bytes(UDP(sport=1000, dport=2000) / Raw(b"A" * 40))
    for i, (off, more, chunk) in enumerate([(0, 1, body[:24]), (3, 0, body[24:])]):
        write("ipv6-frag-%d" % i, RAW,
              IPv6(**V6) / IPv6ExtHdrDestOpt() / IPv6ExtHdrFragment(offset=off, m=more, id=77,
                                                                     nh=17) / Raw(chunk))
    # Three IPv4 fragments of one UDP datagram.
    for i, frag in enumerate(fragment(IP(id=4242, **V4) / UDP(sport=7, dport=9)
                                      / Raw(b"B" * 40), fragsize=16)):
        write("ipv4-frag-%d" % i, IPV4, frag)
    write("ipv4-options-udp", RAW,
          IP(**V4, options=b"\x94\x04\x00\x00") / UDP(sport=67, dport=68) / Raw(b"dhcp"))
    write("sll-ipv4-udp", SLL,
          CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=b"\x66\x77\x88\x99\xaa\xbb",
                      proto=0x0800) / IP(**V4) / UDP(sport=2575, dport=2575) / Raw(b"\x0bMSH"))
    write("sll2-ipv6-icmpv6", SLL2,
          CookedLinuxV2(proto=0x86dd, ifindex=3, pkttype=4, lladdrlen=6,
                        src=b"\x66\x77\x88\x99\xaa\xbb\x00\x00") / IPv6(**V6) / ICMPv6EchoRequest())
    write("null-le-ipv4-icmp", NULL, struct.pack("<I", 2) + bytes(IP(**V4) / ICMP()))
    write("null-be-ipv6-udp", NULL, struct.pack(">I", 30) + bytes(IPv6(**V6) / UDP()))
    write("dlt12-ipv4-tcp", DLT12, IP(**V4) / TCP(flags="R"))
    write("dlt14-ipv6-udp", DLT14, IPv6(**V6) / UDP())
    write("eth-ipv4-truncated-tcp", ETH, bytes(Ether(**MAC) / IP(**V4) / TCP())[:44])


if __name__ == "__main__":
    main()
