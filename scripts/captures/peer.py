#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Small real peers for the capture scripts: TCP/UDP servers and clients and an ICMP pinger.

Run inside a network namespace by the capture scripts; never pointed at another host. Payloads
are fixed so regenerated captures differ only in what the kernel chooses (timestamps, sequence
numbers, IP ids).

  peer.py tcp-serve ADDR PORT NBYTES      accept once; read the request line, send NBYTES, close
  peer.py tcp-get ADDR PORT LPORT         connect from LPORT, send a request line, read to EOF
  peer.py udp-serve ADDR PORT COUNT       answer COUNT datagrams, each with a DNS-like response
  peer.py udp-ask ADDR PORT LPORT NAME... one DNS-like query per NAME, wait for each answer
  peer.py ping ADDR COUNT                 ICMP or ICMPv6 echo requests (the kernel answers)
"""
import socket
import struct
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def tcp_serve(addr, port, nbytes):
    ls = socket.socket(family(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(1)
    c, _ = ls.accept()
    req = b""
    while not req.endswith(b"\n"):
        chunk = c.recv(100)
        if not chunk:
            break
        req += chunk
    # A repeating, recognisable pattern: 64-byte lines numbered from 0.
    n = int(nbytes)
    body = b"".join(b"%06d iaso test stream 0123456789abcdefghijklmnopqrstuvwxyz....\n" % i
                    for i in range(n // 64 + 1))[:n]
    c.sendall(body)
    c.shutdown(socket.SHUT_WR)
    while c.recv(4096):
        pass
    c.close()
    ls.close()


def tcp_get(addr, port, lport):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.bind(("", int(lport)))
    s.connect((addr, int(port)))
    s.sendall(b"GET /study/1.2.840.113619 please\n")
    total = 0
    while True:
        # Small reads keep the receive window moving in many steps, as a slow reader does.
        chunk = s.recv(8192)
        if not chunk:
            break
        total += len(chunk)
    s.close()
    print("received %d bytes" % total, file=sys.stderr)


def dns_like(qid, name, answer=None):
    """A DNS-shaped message: header, one question, optionally one A answer."""
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    flags = 0x8180 if answer else 0x0100
    hdr = struct.pack("!HHHHHH", qid, flags, 1, 1 if answer else 0, 0, 0)
    msg = hdr + qname + struct.pack("!HH", 1, 1)
    if answer:
        msg += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton(answer)
    return msg


def udp_serve(addr, port, count):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    for i in range(int(count)):
        data, peer = s.recvfrom(2048)
        qid = struct.unpack("!H", data[:2])[0]
        # Echo the question back with a made-up private answer.
        name = []
        off = 12
        while data[off]:
            ln = data[off]
            name.append(data[off + 1:off + 1 + ln].decode())
            off += 1 + ln
        s.sendto(dns_like(qid, ".".join(name), "10.77.200.%d" % (i + 1)), peer)
    s.close()


def udp_ask(addr, port, lport, *names):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind(("", int(lport)))
    s.settimeout(5)
    for i, name in enumerate(names):
        s.sendto(dns_like(0x1000 + i, name), (addr, int(port)))
        s.recvfrom(2048)
        time.sleep(0.01)
    s.close()


def inet_cksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ping(addr, count):
    v6 = ":" in addr
    if v6:
        # The kernel fills in the ICMPv6 checksum on raw ICMPv6 sockets (RFC 3542).
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        etype, rtype = 128, 129
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        etype, rtype = 8, 0
    s.settimeout(2)
    ident = 0x1a50
    payload = bytes(range(48))
    for seq in range(1, int(count) + 1):
        hdr = struct.pack("!BBHHH", etype, 0, 0, ident, seq)
        if not v6:
            hdr = struct.pack("!BBHHH", etype, 0, inet_cksum(hdr + payload), ident, seq)
        s.sendto(hdr + payload, (addr, 0))
        while True:
            data = s.recv(2048)
            if not v6:
                data = data[(data[0] & 0x0F) * 4:]  # IPv4 raw sockets include the IP header
            t, _, _, rid, rseq = struct.unpack("!BBHHH", data[:8])
            if t == rtype and rid == ident and rseq == seq:
                break
        time.sleep(0.05)
    s.close()


def main():
    cmds = {"tcp-serve": tcp_serve, "tcp-get": tcp_get, "udp-serve": udp_serve,
            "udp-ask": udp_ask, "ping": ping}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
