#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""vlan: 802.1Q and QinQ tagged traffic written with scapy (deterministic).

The same TCP 5-tuple 10.77.8.1:40801 -> 10.77.8.2:104 (a DICOM port) and the same UDP 5-tuple
10.77.8.1:41801 -> 10.77.8.2:53 appear on several VLANs; each VLAN (or VLAN stack) must be a
separate flow, and the EVE "vlan" field lists the ids outermost first:

  case                       tags on the wire                       expected "vlan"
  TCP on VLAN 10              8100 vid 10 (PCP 5, so TCI 0xa00a)     [10]
  TCP on VLAN 20              8100 vid 20                            [20]
  TCP on QinQ 100/10          88a8 vid 100, 8100 vid 10              [100, 10]
  TCP untagged                none                                   absent
  UDP on VLAN 10              8100 vid 10                            [10]
  UDP on VLAN 20              8100 vid 20                            [20]
  UDP on QinQ 100/20          88a8 vid 100, 8100 vid 20              [100, 20]
  UDP on old-style 8100/8100  8100 vid 200, 8100 vid 30              [200, 30]

Each TCP conversation is a full handshake, request, response and FIN/FIN/ACK (10 packets); each
UDP conversation is two request/response pairs. Conversations follow one another in time.
"""
from scapy.all import DNS, DNSQR, DNSRR, Dot1AD, Dot1Q, Ether

import synth

CLI, SRV = "10.77.8.1", "10.77.8.2"
MAC_C, MAC_S = "02:77:08:00:00:01", "02:77:08:00:00:02"


def tagged(tags):
    """l2 wrapper: tags is a list of (tpid, vid, pcp), outermost first."""
    def wrap(ip, to_server):
        src, dst = (MAC_C, MAC_S) if to_server else (MAC_S, MAC_C)
        if not tags:
            return Ether(src=src, dst=dst) / ip
        l2 = Ether(src=src, dst=dst, type=tags[0][0])
        for i, (tpid, vid, pcp) in enumerate(tags):
            nxt = tags[i + 1][0] if i + 1 < len(tags) else 0x0800
            cls = Dot1AD if tpid == 0x88A8 else Dot1Q
            l2 = l2 / cls(vlan=vid, prio=pcp, type=nxt)
        return l2 / ip
    return wrap


def main():
    clock = synth.Clock(synth.T0)
    pkts = []
    req = b"A-ASSOCIATE-RQ CALLING=MODALITY1 CALLED=PACS\r\n"
    resp = b"A-ASSOCIATE-AC\r\n"
    for tags in ([(0x8100, 10, 5)], [(0x8100, 20, 0)], [(0x88A8, 100, 0), (0x8100, 10, 0)], []):
        pkts += synth.tcp_session(tagged(tags), CLI, SRV, 40801, 104, clock, req, resp)
        clock.next(0.1)
    names = ["pacs.hospital.example", "his.hospital.example"]
    q = [bytes(DNS(id=0x1234 + i, rd=1, qd=DNSQR(qname=n))) for i, n in enumerate(names)]
    a = [bytes(DNS(id=0x1234 + i, qr=1, rd=1, ra=1, qd=DNSQR(qname=n),
                   an=DNSRR(rrname=n, ttl=300, rdata="10.77.200.%d" % (i + 1))))
         for i, n in enumerate(names)]
    for tags in ([(0x8100, 10, 0)], [(0x8100, 20, 0)], [(0x88A8, 100, 0), (0x8100, 20, 0)],
                 [(0x8100, 200, 0), (0x8100, 30, 0)]):
        pkts += synth.udp_exchange(tagged(tags), CLI, SRV, 41801, 53, clock, q, a)
        clock.next(0.1)
    path = synth.outdir("vlan") + "/input.pcap"
    synth.write_pcap(path, synth.frames(pkts))
    print("vlan.py: wrote %s (%d packets)" % (path, len(pkts)))


if __name__ == "__main__":
    main()
