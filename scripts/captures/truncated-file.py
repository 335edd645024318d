#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""truncated-file: a valid pcap cut off in the middle of a packet record (deterministic).

The whole file would hold 12 packets: a TCP conversation (10.77.11.1:44001 -> 10.77.11.2:80,
10 packets, ending with FIN/FIN/ACK) and a UDP exchange (44002 -> 53, 2 packets). It is cut
40 bytes into the data of packet 12 (the UDP answer; its 16-byte record header is complete), so
a reader gets 11 whole packets and then a short read. The sensor must emit the flows built from
those 11 packets and then fail, naming the file and where it stopped; the expected exit status is
in tests/pcap/truncated-file/exit.
"""
import os

from scapy.all import DNS, DNSQR, Ether

import synth

MAC_C, MAC_S = "02:77:0b:00:00:01", "02:77:0b:00:00:02"


def l2(ip, to_server):
    src, dst = (MAC_C, MAC_S) if to_server else (MAC_S, MAC_C)
    return Ether(src=src, dst=dst) / ip


def main():
    clock = synth.Clock(synth.T0)
    pkts = synth.tcp_session(l2, "10.77.11.1", "10.77.11.2", 44001, 80, clock,
                             b"GET / HTTP/1.1\r\nHost: pacs\r\n\r\n",
                             b"HTTP/1.1 204 No Content\r\n\r\n")
    pkts += synth.udp_exchange(l2, "10.77.11.1", "10.77.11.2", 44002, 53, clock,
                               [bytes(DNS(id=7, rd=1, qd=DNSQR(qname="pacs.hospital.example")))],
                               [bytes(DNS(id=7, qr=1, rd=1, rcode=3,
                                          qd=DNSQR(qname="pacs.hospital.example")))])
    path = synth.outdir("truncated-file") + "/input.pcap"
    synth.write_pcap(path, synth.frames(pkts))
    last = len(bytes(pkts[-1]))
    cut = os.path.getsize(path) - last + 40
    with open(path, "r+b") as f:
        f.truncate(cut)
    print("truncated-file.py: wrote %s (%d bytes: 11 whole packets, then the record header "
          "and 40 of the %d bytes of packet 12)" % (path, cut, last))


if __name__ == "__main__":
    main()
