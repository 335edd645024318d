#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a copy of a pcap in which every record cut by the snaplen (caplen < orig_len) is
padded with zero bytes to its full wire length. Nothing else changes.

  pad-snaplen.py IN.pcap OUT.pcap

Used to derive golden expectations: a flow sensor counts packets and wire lengths, so its flow
events for a snaplen-limited capture must equal those for the padded copy. Running the sensor
on the padded copy gives the expected output independently of how the sensor handles caplen <
orig_len (which is exactly what the golden test is meant to check). Classic pcap only.
"""
import struct
import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    data = open(src, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        sys.exit("%s: not a classic pcap file" % src)
    hdr = bytearray(data[:24])
    # Raise the snaplen in the file header so the padded records stay within it.
    struct.pack_into(e + "I", hdr, 16, 262144)
    out = [bytes(hdr)]
    off = 24
    n_padded = 0
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        body = data[off + 16:off + 16 + incl]
        if len(body) < incl:
            break  # a cut-off last record is dropped, as a reader would stop there
        if orig > incl:
            body += b"\0" * (orig - incl)
            n_padded += 1
        out.append(struct.pack(e + "IIII", sec, frac, len(body), orig) + body)
        off += 16 + incl
    open(dst, "wb").write(b"".join(out))
    print("pad-snaplen: %s: %d record(s) padded" % (src, n_padded), file=sys.stderr)


if __name__ == "__main__":
    main()
