#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A small HL7 v2 receiver over MLLP, the receiving side of hl7-mllp.sh.

  mllp-ack.py ADDR PORT NMSG    accept one connection, answer NMSG messages with ACK^..^ACK
                                (MSA|AA|<control id>), then wait for the sender to close
  mllp-ack.py ADDR PORT NMSG NCONN   the same over NCONN connections, one after the other
                                (NMSG messages in all), each answered until its sender closes

Each message is framed <VT> message <FS><CR>; the ACK copies the sender and receiver from the
MSH (swapped), the trigger event and the control id, as any interface engine does. The ACK's
own control id and timestamp are fixed so regenerated captures carry the same bytes.
"""
import socket
import sys

VT, FS, CR = b"\x0b", b"\x1c", b"\r"


def ack(msg, n):
    msh = msg.split(CR)[0].split(b"|")
    # MSH-1 is the field separator itself, so MSH-n is msh[n - 1].
    trigger = msh[8].split(b"^")[1] if b"^" in msh[8] else b""
    seg = [b"MSH", msh[1], msh[4], msh[5], msh[2], msh[3], b"20240115101501", b"",
           b"ACK^" + trigger + b"^ACK", b"ACK%05d" % n, msh[10], msh[11]]
    return b"|".join(seg) + CR + b"MSA|AA|" + msh[9] + CR


def main():
    addr, port, nmsg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    nconn = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    ls = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    n = 0
    for _ in range(nconn):
        c, _ = ls.accept()
        buf = b""
        while n < nmsg:
            chunk = c.recv(4096)
            if not chunk:
                break
            buf += chunk
            while FS + CR in buf:
                frame, buf = buf.split(FS + CR, 1)
                n += 1
                c.sendall(VT + ack(frame.lstrip(VT), n) + FS + CR)
        while c.recv(4096):
            pass
        c.close()
    ls.close()
    if n != nmsg:
        print("mllp-ack.py: %d messages received, %d expected" % (n, nmsg), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
