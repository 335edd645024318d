#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Turns pcaps of SMB traffic (made by make-smb2-seeds.sh) into the seed corpus of fuzz-smb2
# (tests/fuzz/corpus/smb2/). Each TCP connection is reassembled per direction (in sequence
# order; the captures are lossless veth traffic) and written as records in the input format of
# tests/fuzz/fuzz-smb2.c: [dir | chunk<<1] [len hi] [len lo] bytes, one record per segment.
#   ./make-smb2-seeds.py capture.pcap [--dump DIR]
#   ./make-smb2-seeds.py capture.pcap --c-array NAME CONN FIRST LAST
#       prints messages FIRST..LAST of connection CONN as C arrays (the unit-test vectors of
#       tests/unit/proto/test-smb2.c), each with a comment naming its SMB2 commands.
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "smb2")
MAX_SEED = 24 * 1024  # keeps seeds small; the fuzzer mutates, it does not need whole sessions


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
        if linktype == 1:  # Ethernet
            if len(frame) < 14 or frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
        elif linktype == 113:  # Linux cooked
            ip = frame[16:]
        else:
            ip = frame
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        yield ip[12:16], sport, ip[16:20], dport, seq, flags, tcp[doff:]


def flows(path):
    """Returns a list of connections, each a list of (dir, payload) in capture order."""
    conns = {}
    order = []
    for src, sport, dst, dport, seq, flags, payload in packets(path):
        if dport in (445, 139):
            key, d = (src, sport, dst, dport), 0
        elif sport in (445, 139):
            key, d = (dst, dport, src, sport), 1
        else:
            continue
        if flags & 0x02 and d == 0:  # SYN: a new connection
            conns[key] = {"next": [None, None], "msgs": []}
            order.append(conns[key])
        c = conns.get(key)
        if c is None:
            continue
        if flags & 0x02:
            c["next"][d] = (seq + 1) & 0xFFFFFFFF
            continue
        if not payload or c["next"][d] is None:
            continue
        if seq != c["next"][d]:
            continue  # a retransmission (the veth capture loses nothing)
        c["next"][d] = (seq + len(payload)) & 0xFFFFFFFF
        c["msgs"].append((d, payload))
    return [c["msgs"] for c in order if c["msgs"]]


def record(d, payload, chunk=0):
    return bytes([d | chunk << 1]) + struct.pack(">H", len(payload)) + payload


def describe(p):
    """Names the NBSS packet and the SMB commands in it, for the C comment."""
    if p[0] != 0:
        return "NBSS type 0x%02x" % p[0]
    m = p[4:]
    if m[:4] == b"\xffSMB":
        return "SMB1 command 0x%02x" % m[4]
    if m[:4] == b"\xfdSMB":
        return "SMB3 transform (encrypted)"
    out, o = [], 0
    while o + 64 <= len(m):
        cmd, = struct.unpack("<H", m[o + 12:o + 14])
        flags, nxt = struct.unpack("<II", m[o + 16:o + 24])
        mid, = struct.unpack("<Q", m[o + 24:o + 32])
        out.append("SMB2 %s 0x%02x message id %d" % ("response" if flags & 1 else "request",
                                                     cmd, mid))
        if not nxt:
            break
        o += nxt
    return ", ".join(out)


def c_array(msgs, name, first, last):
    for j in range(first, last + 1):
        d, p = msgs[j]
        print("/* %s: %s (%d bytes) */" % ("server" if d else "client", describe(p), len(p)))
        print("static const uint8_t %s_%03d[] = {" % (name, j))
        for k in range(0, len(p), 16):
            print("    " + " ".join("0x%02x," % b for b in p[k:k + 16]))
        print("};")
    print("static const struct harness_msg %s[] = {" % name)
    for j in range(first, last + 1):
        print("    {%d, %s_%03d, sizeof(%s_%03d)}," % (msgs[j][0], name, j, name, j))
    print("};")


def main():
    pcap = sys.argv[1]
    if "--c-array" in sys.argv:
        k = sys.argv.index("--c-array")
        name, conn, first, last = sys.argv[k + 1], *map(int, sys.argv[k + 2:k + 5])
        c_array(flows(pcap)[conn], name, first, last)
        return
    os.makedirs(OUT, exist_ok=True)
    n = 0
    for i, msgs in enumerate(flows(pcap)):
        # Whole connection (cut at MAX_SEED), then each message pair on its own, so the seeds
        # start at every command the client sent.
        out = b""
        for d, p in msgs:
            for k in range(0, len(p), 0xFFFF):
                out += record(d, p[k:k + 0xFFFF])
            if len(out) > MAX_SEED:
                break
        with open(os.path.join(OUT, "conn-%02d" % i), "wb") as f:
            f.write(out[:MAX_SEED])
        n += 1
        # Windows of 8 messages starting at a client message, fed in pieces of varying size
        # (record bits 1-3), at most 3 per connection.
        starts = [j for j, (d, _) in enumerate(msgs) if d == 0][1::6][:3]
        for k, j in enumerate(starts):
            out = b"".join(record(d, p[:0xFFFF], chunk=(k + j) % 8) for d, p in msgs[j:j + 8])
            with open(os.path.join(OUT, "conn-%02d-win-%03d" % (i, j)), "wb") as f:
                f.write(out[:MAX_SEED])
            n += 1
        if "--dump" in sys.argv:
            dump = sys.argv[sys.argv.index("--dump") + 1]
            os.makedirs(dump, exist_ok=True)
            for j, (d, p) in enumerate(msgs):
                with open(os.path.join(dump, "c%02d-m%03d-d%d" % (i, j, d)), "wb") as f:
                    f.write(p)
    print("wrote %d seeds to %s" % (n, OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
