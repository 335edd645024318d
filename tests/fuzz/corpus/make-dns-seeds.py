#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Turns a capture made by make-dns-seeds.sh (or make-rdp-seeds.sh) into fuzz seeds for
# fuzz-dns / fuzz-rdp: each UDP datagram becomes one record, each TCP connection one file with
# its client and server stream bytes as records in capture order. The record format is the one
# the fuzz targets read: 1 byte (bit 0 = direction, bits 1..7 = chunk size, 0 = whole), 2 bytes
# big-endian length, the bytes. With --c it prints the payloads as C arrays for unit tests.
# Usage: make-dns-seeds.py CAPTURE.pcap OUTDIR [SERVER_PORT] [--c]
import os
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    link = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if link == 1:
            if struct.unpack(">H", pkt[12:14])[0] != 0x0800:
                continue
            pkt = pkt[14:]
        ihl = (pkt[0] & 15) * 4
        proto = pkt[9]
        total = struct.unpack(">H", pkt[2:4])[0]
        l4 = pkt[ihl:total]
        sport, dport = struct.unpack(">HH", l4[:4])
        if proto == 17:
            yield "udp", sport, dport, 0, l4[8:]
        elif proto == 6:
            doff = (l4[12] >> 4) * 4
            seq = struct.unpack(">I", l4[4:8])[0]
            yield "tcp", sport, dport, seq, l4[doff:]


def record(direction, payload, chunk=0):
    return bytes([direction | chunk << 1]) + struct.pack(">H", len(payload)) + payload


def main():
    args = [a for a in sys.argv[1:] if a != "--c"]
    want_c = "--c" in sys.argv
    pcap, outdir = args[0], args[1]
    port = int(args[2]) if len(args) > 2 else 53
    os.makedirs(outdir, exist_ok=True)
    seeds = []
    conns = {}  # (client port) -> list of (dir, bytes), with a per-direction seen-seq set
    for kind, sport, dport, seq, payload in packets(pcap):
        if not payload:
            continue
        direction = 0 if dport == port else 1
        if kind == "udp":
            seeds.append(("udp-%d" % len(seeds), [(direction, payload)]))
        else:
            key = sport if direction == 0 else dport
            c = conns.setdefault(key, {"msgs": [], "seen": set()})
            if (direction, seq) in c["seen"]:
                continue  # a retransmission
            c["seen"].add((direction, seq))
            msgs = c["msgs"]
            if msgs and msgs[-1][0] == direction:
                msgs[-1] = (direction, msgs[-1][1] + payload)
            else:
                msgs.append((direction, payload))
    for key, c in conns.items():
        seeds.append(("tcp-%d" % key, c["msgs"]))
    for i, (name, msgs) in enumerate(seeds):
        with open(os.path.join(outdir, "seed-%02d-%s" % (i, name.split("-")[0])), "wb") as f:
            for d, p in msgs:
                f.write(record(d, p))
        if want_c:
            for j, (d, p) in enumerate(msgs):
                print("/* %s message %d, dir %d, %d bytes */" % (name, j, d, len(p)))
                print("static const uint8_t %s_%d[] = {" % (name.replace("-", "_"), j))
                for k in range(0, len(p), 12):
                    print("    " + ", ".join("0x%02x" % b for b in p[k:k + 12]) + ",")
                print("};")


main()
