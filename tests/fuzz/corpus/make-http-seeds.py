#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Turns make-http-seeds.pcap (captured by make-http-seeds.sh from curl, python3 http.server and
# a FHIR-style API) into the seed corpus of tests/fuzz/fuzz-http.c: one file per TCP
# connection. Each file is a list of records: one byte (bit 0: direction, 0 client to server;
# bits 1-7: piece size the target feeds the bytes in, 0 = whole), a 16-bit big-endian length,
# then that many stream bytes. Records follow the order the bytes were seen on the wire.
#   /usr/bin/python3 tests/fuzz/corpus/make-http-seeds.py [--c]
# With --c it also prints each conversation as C string literals (for the unit tests).
import os
import struct
import sys

from scapy.all import TCP, IP, rdpcap

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "http")
SERVER_PORTS = {8000, 8042}


def conversations(pkts):
    """Per connection: the list of (dir, bytes), with retransmissions dropped."""
    convs = {}
    order = []
    for p in pkts:
        if IP not in p or TCP not in p:
            continue
        ip, tcp = p[IP], p[TCP]
        if tcp.dport in SERVER_PORTS:
            key, d = (ip.src, tcp.sport, ip.dst, tcp.dport), 0
        elif tcp.sport in SERVER_PORTS:
            key, d = (ip.dst, tcp.dport, ip.src, tcp.sport), 1
        else:
            continue
        c = convs.get(key)
        if c is None:
            c = convs[key] = {"next": [None, None], "msgs": []}
            order.append(key)
        if tcp.flags & 0x02:  # SYN
            c["next"][d] = tcp.seq + 1
            continue
        data = bytes(tcp.payload)
        if not data or c["next"][d] is None:
            continue
        if tcp.seq != c["next"][d]:
            continue  # a retransmission or out of order: loopback veth has neither
        c["next"][d] += len(data)
        if c["msgs"] and c["msgs"][-1][0] == d:
            c["msgs"][-1] = (d, c["msgs"][-1][1] + data)
        else:
            c["msgs"].append((d, data))
    return [(k, convs[k]["msgs"]) for k in order if convs[k]["msgs"]]


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):  # earlier seeds; crash-* files found by fuzzing stay
        if f[:2].isdigit() and f[2] == "-":
            os.remove(os.path.join(OUT, f))
    pkts = rdpcap(os.path.join(HERE, "make-http-seeds.pcap"))
    for i, (key, msgs) in enumerate(conversations(pkts)):
        first = msgs[0][1].split(b"\r\n", 1)[0].decode("latin-1")
        name = "%02d-%d-%s" % (i, key[3], "".join(ch if ch.isalnum() else "-"
                                                 for ch in first)[:40].strip("-"))
        rec = b""
        for j, (d, data) in enumerate(msgs):
            for off in range(0, len(data), 65535):
                part = data[off:off + 65535]
                piece = (i + j) % 8  # vary the split a little between seeds
                rec += bytes([d | piece << 1]) + struct.pack(">H", len(part)) + part
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(rec)
        if "--c" in sys.argv:
            print("/* %s */" % name)
            for d, data in msgs:
                lit = "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\?' else "\\%03o" % b
                              for b in data)
                lit = lit.replace("\\015\\012", "\\r\\n\"\n    \"")
                print('{%d, "%s"},' % (d, lit))


if __name__ == "__main__":
    main()
