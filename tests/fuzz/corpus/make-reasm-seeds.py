#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Writes the seed corpus of fuzz-reasm (tests/fuzz/corpus/reasm/). The input format is described
# at the top of tests/fuzz/fuzz-reasm.c. Run from anywhere: ./make-reasm-seeds.py
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "reasm")

DIR1, SYN, FIN, RST, ACK, BIG, STREAM_B = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40


def header(consistent=True, isn=1000, max_dir=64, max_total=160, max_segs=0, no_flush=False):
    mode = (1 if consistent else 0) | (2 if no_flush else 0)
    return bytes([mode]) + struct.pack(">I", isn) + bytes(
        [max_dir, max_total // 2, max_segs])


def rec(flags=0, seq=0, ack=0, length=0, payload=b""):
    """One segment: seq and ack are deltas (-128..127) from where each direction left off."""
    return bytes([flags, seq & 0xFF, ack & 0xFF, length]) + payload


def handshake():
    return rec(SYN) + rec(DIR1 | SYN | ACK, ack=1) + rec(ACK, seq=1)


SEEDS = {
    # Plain request and response.
    "in-order": header() + handshake() + rec(ACK, 0, 0, 10) + rec(ACK, 0, 0, 10)
    + rec(DIR1 | ACK, 1, 0, 20),
    # Three segments in reverse order.
    "reversed": header() + handshake() + rec(ACK, 20, 0, 10) + rec(ACK, -20, 0, 10)
    + rec(ACK, -20, 0, 10),
    # The same segment twice, and a retransmission of delivered bytes.
    "retransmit": header() + handshake() + rec(ACK, 0, 0, 8) + rec(ACK, -8, 0, 8)
    + rec(ACK, -4, 0, 4),
    # Partial overlaps with held data.
    "overlap": header() + handshake() + rec(ACK, 10, 0, 10) + rec(ACK, -15, 0, 10)
    + rec(ACK, -15, 0, 5),
    # Overlaps with different bytes (raw mode: bytes from the input).
    "overlap-diff": header(consistent=False) + handshake()
    + rec(ACK, 5, 0, 4, b"AAAA") + rec(ACK, -6, 0, 8, b"bbbbBBBB") + rec(ACK, -7, 0, 3, b"xyz"),
    # A hole the other side acknowledges past.
    "ack-gap": header() + handshake() + rec(ACK, 0, 0, 5) + rec(ACK, 10, 0, 5)
    + rec(DIR1 | ACK, 1, 20, 0),
    # Held bytes over the direction cap.
    "dir-cap": header(max_dir=16) + handshake() + rec(ACK, 5, 0, 10) + rec(ACK, 5, 0, 10)
    + rec(ACK, 5, 0, 10),
    # Both streams hold data under a small total cap.
    "memcap": header(max_dir=100, max_total=40) + handshake()
    + bytes([STREAM_B | SYN, 0, 0, 0]) + rec(ACK, 5, 0, 30)
    + bytes([STREAM_B | ACK, 5, 0, 30]),
    # Too many tiny held segments.
    "seg-cap": header(max_segs=3) + handshake()
    + b"".join(rec(ACK, 1, 0, 1) for _ in range(8)),
    # Data past the FIN, before and after it.
    "fin": header() + handshake() + rec(ACK, 12, 0, 6) + rec(ACK | FIN, -18, 0, 10)
    + rec(ACK, 0, 0, 5) + rec(DIR1 | ACK, 1, 2, 0),
    # A FIN cutting a held segment in two; the flow ends without a flush.
    "fin-cut": header(no_flush=True) + handshake() + rec(ACK, 12, 0, 6)
    + rec(ACK | FIN, -18, 0, 14) + rec(ACK, -4, 0, 10),
    # RST, then more data.
    "rst": header() + handshake() + rec(ACK, 0, 0, 4) + rec(ACK, 4, 0, 4) + rec(RST, -8, 0, 4)
    + rec(ACK, 0, 0, 4),
    # SYN retransmitted with another ISN, then data on a SYN.
    "syn-isn": header() + rec(SYN) + rec(SYN, 50) + rec(ACK, 1, 0, 6)
    + rec(DIR1 | SYN | ACK, 0, 1, 4),
    # No handshake: picked up midway.
    "midstream": header() + rec(DIR1 | ACK, 0, 0, 12) + rec(ACK, 0, 0, 8)
    + rec(ACK, -30, 0, 10) + rec(DIR1 | ACK, 0, 0, 3),
    # Sequence numbers wrapping past 2^32, out of order.
    "wrap": header(isn=0xFFFFFFF0) + handshake() + rec(ACK, 10, 0, 20) + rec(ACK, -30, 0, 12)
    + rec(ACK, -2, 0, 30) + rec(DIR1 | ACK, 1, 10, 0),
    # Zero-length segments and a large jump ahead.
    "zero-len": header() + handshake() + rec(ACK, 0, 0, 0) + rec(ACK, 100, 0, 0)
    + rec(ACK | BIG, 1, 0, 5) + rec(ACK | BIG, -1, 0, 5),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(SEEDS), OUT))


if __name__ == "__main__":
    main()
