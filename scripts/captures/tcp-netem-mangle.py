#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Fallback for tcp-netem.sh when the kernel has no netem: rewrite a clean real capture of one
TCP transfer so it carries what a lossy, reordering, duplicating path leaves in a capture taken
at the receiver. Deterministic: the same input always gives the same output.

  tcp-netem-mangle.py IN.pcap OUT.pcap

Only data-carrying segments of the sending side (the server, port 9000) are touched; the k-th
of them (k from 0) is treated as follows, first rule that applies wins:
  k % 17 == 5   lost, then retransmitted: removed here, re-inserted 6 packets later
  k % 23 == 7   reordered: swapped with the next data segment of the same side
  k % 29 == 11  duplicated: a second copy right after it
Packets are never dropped outright, so every byte still arrives; the packet count grows by the
number of duplicates. Timestamps stay non-decreasing: a packet moved later takes the time of its
new predecessor plus 1 microsecond.
"""
import sys

from scapy.all import PcapReader, TCP, wrpcap  # noqa: E402

SERVER_PORT = 9000


def main():
    src, dst = sys.argv[1], sys.argv[2]
    pkts = list(PcapReader(src))
    out = []
    pending = []  # [packets still to wait, packet] for "lost" segments
    k = 0
    i = 0
    n_lost = n_reord = n_dup = 0
    while i < len(pkts):
        p = pkts[i]
        is_data = TCP in p and p[TCP].sport == SERVER_PORT and \
            len(p[TCP].payload) > 0
        # Release "lost" segments whose delay has run out.
        for entry in pending:
            entry[0] -= 1
        for entry in [e for e in pending if e[0] <= 0]:
            out.append(entry[1])
            pending.remove(entry)
        if not is_data:
            out.append(p)
            i += 1
            continue
        if k % 17 == 5:
            pending.append([6, p])
            n_lost += 1
        elif k % 23 == 7 and i + 1 < len(pkts):
            # Swap with the next data segment from the server.
            j = i + 1
            while j < len(pkts) and not (TCP in pkts[j] and pkts[j][TCP].sport == SERVER_PORT
                                         and len(pkts[j][TCP].payload) > 0):
                j += 1
            if j < len(pkts):
                pkts[i], pkts[j] = pkts[j], pkts[i]
                n_reord += 1
            out.append(pkts[i])
        elif k % 29 == 11:
            out.append(p)
            out.append(p.copy())
            n_dup += 1
        else:
            out.append(p)
        k += 1
        i += 1
    out.extend(e[1] for e in pending)

    # Keep time non-decreasing (a capture is written in arrival order).
    last = None
    for p in out:
        if last is not None and p.time <= last:
            p.time = last + 0.000001
        last = p.time
    wrpcap(dst, out, linktype=1, snaplen=96)
    print("tcp-netem-mangle: %d packets in, %d out; %d lost+retransmitted, %d reordered, "
          "%d duplicated" % (len(pkts), len(out), n_lost, n_reord, n_dup), file=sys.stderr)


if __name__ == "__main__":
    main()
