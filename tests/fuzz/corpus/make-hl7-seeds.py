#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Turns a capture made by make-hl7-seeds.sh into fuzz-hl7 seeds: each TCP flow's payload, in
# capture order, as fuzz records, plus one seed per MLLP exchange (request frame + ACK) and a few
# variants built from the captured bytes (garbage between frames, a cut frame, a gap).
#   make-hl7-seeds.py capture.pcap outdir     writes outdir/*.bin
#   make-hl7-seeds.py --c capture.pcap        prints the flows as C vectors for test-hl7.c
#
# Record format (see fuzz-hl7.c): [flags][len hi][len lo][payload]; flags bit 0 = direction,
# bit 1 = a gap before the payload, bits 2-7 = chunk size for feeding (0 = all at once).
import os
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + incl]
        off += incl
        if linktype == 1:
            if struct.unpack(">H", frame[12:14])[0] != 0x0800:
                continue
            ip = frame[14:]
        elif linktype == 113:  # Linux cooked
            ip = frame[16:]
        else:
            ip = frame
        if len(ip) < 20 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        flags = tcp[13]
        doff = (tcp[12] >> 4) * 4
        yield (ip[12:16], sport, ip[16:20], dport, seq, flags, tcp[doff:])


def flows(path):
    """[(client_port, server_port, [(dir, bytes)])] in capture order, retransmissions dropped."""
    out = {}
    order = []
    for src, sport, dst, dport, seq, flags, payload in packets(path):
        key = (src, sport, dst, dport)
        rkey = (dst, dport, src, sport)
        if flags & 0x02 and not flags & 0x10:  # SYN: a new client
            out[key] = {"recs": [], "next": {0: seq + 1, 1: None}, "ports": (sport, dport)}
            order.append(key)
            continue
        if key in out:
            fl, d = out[key], 0
        elif rkey in out:
            fl, d = out[rkey], 1
        else:
            continue
        if flags & 0x02:  # SYN-ACK
            fl["next"][1] = seq + 1
            continue
        if not payload or fl["next"][d] is None:
            continue
        if seq != fl["next"][d]:
            continue  # retransmission or out of order: veth does not reorder
        fl["next"][d] = seq + len(payload)
        recs = fl["recs"]
        if recs and recs[-1][0] == d:
            recs[-1] = (d, recs[-1][1] + payload)
        else:
            recs.append((d, payload))
    return [(out[k]["ports"], out[k]["recs"]) for k in order]


def record(d, payload, gap=False, chunk=0):
    return bytes([d | (2 if gap else 0) | (chunk << 2)]) + struct.pack(">H", len(payload)) + payload


def seeds(fls):
    out = {}
    for i, (ports, recs) in enumerate(fls):
        out["flow%d-port%d" % (i, ports[1])] = b"".join(record(d, p) for d, p in recs)
        out["flow%d-bytewise" % i] = b"".join(record(d, p, chunk=1) for d, p in recs[:2])
        if ports[1] != 2575:
            continue
        # One seed per exchange: the request frames of a record and the ACK that followed.
        for j in range(0, len(recs) - 1, 2):
            out["flow%d-exchange%d" % (i, j // 2)] = record(*recs[j]) + record(*recs[j + 1])
        first = recs[0][1]
        out["flow%d-garbage" % i] = record(0, b"GET / HTTP/1.0\r\n\x1c\r" + first + b"junk\x00\xff" + first)
        out["flow%d-cut" % i] = record(0, first[: len(first) // 2] + first)
        out["flow%d-gap" % i] = record(0, first[:40]) + record(0, first[60:], gap=True) + record(0, first)
        out["flow%d-lf" % i] = record(0, first.replace(b"\r", b"\n"))
    return out


def c_literal(b):
    s = ['"']
    for c in b:
        ch = chr(c)
        if ch == "\r":
            s.append('\\r"\n    "')
        elif ch == "\\":
            s.append("\\\\")
        elif ch == '"':
            s.append('\\"')
        elif 32 <= c < 127:
            s.append(ch)
        else:
            s.append('\\x%02x""' % c)
    s.append('"')
    return "".join(s).replace('\n    ""', "")


def main():
    if sys.argv[1] == "--c":
        for i, (ports, recs) in enumerate(flows(sys.argv[2])):
            print("/* Flow %d, port %d: captured with make-hl7-seeds.sh. */" % (i, ports[1]))
            for j, (d, p) in enumerate(recs):
                print("static const char cap%d_%d[] = /* dir %d */\n    %s;" % (i, j, d, c_literal(p)))
            print("static const struct harness_msg cap%d[] = {" % i)
            for j, (d, p) in enumerate(recs):
                print("    {%d, cap%d_%d, sizeof(cap%d_%d) - 1}," % (d, i, j, i, j))
            print("};\n")
        return
    outdir = sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    for name, data in seeds(flows(sys.argv[1])).items():
        with open(os.path.join(outdir, name + ".bin"), "wb") as f:
            f.write(data)


main()
