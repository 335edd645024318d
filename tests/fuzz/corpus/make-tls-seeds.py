#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Makes the TLS test bytes from real peers: the seed corpus of fuzz-tls (tests/fuzz/corpus/tls/)
# and the generated vectors in tests/unit/proto/test-tls.c.
#
#   ./make-tls-seeds.py capture DIR   (root) runs OpenSSL s_server against s_client and curl in
#                                     two network namespaces (iaso-tls-c, iaso-tls-s, 10.77.24.0/24)
#                                     and writes DIR/tls.pcap; nothing leaves the namespaces.
#   ./make-tls-seeds.py extract DIR   splits DIR/tls.pcap into conversations, writes the seeds,
#                                     asks tshark for SNI/JA3/JA3S and rewrites the GENERATED
#                                     block of test-tls.c with the bytes and tshark's answers.
#
# Fuzz input format (see tests/fuzz/fuzz-tls.c): a header byte h, then (h >> 1) + 1 bytes sent in
# direction h & 1 (0 client, 1 server).
import hashlib
import os
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tls")
TEST_C = os.path.join(HERE, "..", "..", "unit", "proto", "test-tls.c")
CLI, SRV = "10.77.24.1", "10.77.24.2"
NS_C, NS_S = "iaso-tls-c", "iaso-tls-s"

# name, server port, s_server options, client command (run in the client namespace)
SCENARIOS = [
    ("tls12-sni-alpn", 4431, ["-tls1_2", "-alpn", "h2"],
     "openssl s_client -connect {srv}:{port} -tls1_2 -servername pacs.example -alpn h2,http/1.1"),
    ("tls13-sni-alpn", 4432, ["-alpn", "h2"],
     "openssl s_client -connect {srv}:{port} -servername pacs.example -alpn h2,http/1.1"),
    ("curl-tls13", 4433, ["-alpn", "http/1.1"],
     "curl -sk --resolve pacs.example:{port}:{srv} https://pacs.example:{port}/"),
    ("curl-tls12", 4434, ["-alpn", "http/1.1"],
     "curl -sk --tlsv1.2 --tls-max 1.2 --resolve pacs.example:{port}:{srv} "
     "https://pacs.example:{port}/"),
    ("tls12-nosni", 2762, ["-tls1_2"],
     "openssl s_client -connect {srv}:{port} -tls1_2 -noservername "
     "-cipher ECDHE-RSA-AES128-GCM-SHA256"),
    ("tls13-nosni", 6514, [],
     "openssl s_client -connect {srv}:{port} -noservername"),
    # Records of 512 bytes: the Certificate message spans three records.
    ("tls12-frag512", 4435, ["-tls1_2", "-max_send_frag", "512"],
     "openssl s_client -connect {srv}:{port} -servername pacs.example"),
    # The client's key share (X25519) is not the server's group: HelloRetryRequest.
    ("tls13-hrr", 4436, ["-groups", "P-256"],
     "openssl s_client -connect {srv}:{port} -servername pacs.example -groups X25519:P-256"),
]


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def capture(d):
    os.makedirs(d, exist_ok=True)
    key, crt = os.path.join(d, "key.pem"), os.path.join(d, "crt.pem")
    sh(f"openssl req -x509 -newkey rsa:2048 -nodes -keyout {key} -out {crt} -days 365 "
       f"-subj '/C=CH/O=Iaso Test Hospital/OU=Radiology/CN=pacs.example' "
       f"-set_serial 0x1a2b3c4d5e6f 2>/dev/null")
    cleanup = f"ip netns del {NS_C} 2>/dev/null; ip netns del {NS_S} 2>/dev/null; true"
    sh(cleanup)
    try:
        sh(f"ip netns add {NS_C} && ip netns add {NS_S}")
        sh(f"ip link add iaso-tls-c0 netns {NS_C} type veth peer name iaso-tls-s0 netns {NS_S}")
        sh(f"ip -n {NS_C} addr add {CLI}/24 dev iaso-tls-c0 && ip -n {NS_C} link set iaso-tls-c0 up"
           f" && ip -n {NS_C} link set lo up")
        sh(f"ip -n {NS_S} addr add {SRV}/24 dev iaso-tls-s0 && ip -n {NS_S} link set iaso-tls-s0 up"
           f" && ip -n {NS_S} link set lo up")
        pcap = os.path.join(d, "tls.pcap")
        dump = subprocess.Popen(["ip", "netns", "exec", NS_S, "tcpdump", "-U", "-n", "-s", "0",
                                 "-i", "iaso-tls-s0", "-w", pcap, "tcp"],
                                stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        for name, port, sopts, ccmd in SCENARIOS:
            srv = subprocess.Popen(["ip", "netns", "exec", NS_S, "openssl", "s_server", "-quiet",
                                    "-www", "-naccept", "1", "-accept", str(port), "-key", key,
                                    "-cert", crt] + sopts,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            time.sleep(0.7)
            c = ccmd.format(srv=SRV, port=port)
            subprocess.run(f"ip netns exec {NS_C} timeout 5 {c} </dev/null >/dev/null 2>&1",
                           shell=True)
            try:
                srv.wait(timeout=3)
            except subprocess.TimeoutExpired:
                srv.terminate()
                srv.wait()
            print("captured", name)
        time.sleep(1)
        dump.terminate()
        dump.wait()
    finally:
        sh(cleanup)


def read_pcap(path):
    """Yields (sport, dport, seq, flags, payload) of each Ethernet/IPv4/TCP packet."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic == 0xA1B2C3D4 else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) < 34 or pkt[12:14] != b"\x08\x00" or pkt[23] != 6:
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:tot]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        doff = (tcp[12] >> 4) * 4
        yield sport, dport, seq, tcp[13], tcp[doff:]


def conversations(path):
    """Per server port: the list of (dir, bytes) in capture order, retransmissions dropped."""
    ports = {p for _, p, _, _ in SCENARIOS}
    convs = {}
    nxt = {}
    for sport, dport, seq, flags, payload in read_pcap(path):
        if dport in ports:
            port, dr = dport, 0
        elif sport in ports:
            port, dr = sport, 1
        else:
            continue
        if flags & 0x02:  # SYN
            nxt[(port, dr)] = seq + 1
            continue
        if not payload or (port, dr) not in nxt:
            continue
        exp = nxt[(port, dr)]
        if seq != exp:  # the namespaces do not lose packets; skip retransmissions
            continue
        nxt[(port, dr)] = seq + len(payload)
        msgs = convs.setdefault(port, [])
        if msgs and msgs[-1][0] == dr:
            msgs[-1] = (dr, msgs[-1][1] + payload)
        else:
            msgs.append((dr, payload))
    return convs


def trim(msgs):
    """Keeps each direction up to and including its first application_data record, so the
    vectors stay small: the clear handshake and a little of what follows it (TLS 1.2: the
    ChangeCipherSpec and the encrypted Finished; TLS 1.3: after a HelloRetryRequest, the
    compatibility ChangeCipherSpec and the second ClientHello)."""
    out, done = [], [False, False]
    for dr, data in msgs:
        if done[dr]:
            continue
        off = 0
        while off + 5 <= len(data):
            typ = data[off]
            ln = struct.unpack(">H", data[off + 3:off + 5])[0]
            off += 5 + ln
            if typ == 23:
                done[dr] = True
                break
        out.append((dr, data[:off]))
    return out


def tshark(pcap, port):
    fields = ["tls.handshake.extensions_server_name", "tls.handshake.ja3",
              "tls.handshake.ja3_full", "tls.handshake.ja3s", "tls.handshake.ja3s_full"]
    cmd = ["tshark", "-r", pcap, "-o", "tls.desegment_ssl_records:TRUE",
           "-d", f"tcp.port=={port},tls", "-Y", f"tcp.port=={port} && (tls.handshake.type == 1 || tls.handshake.type == 2)",
           "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    vals = {}
    for line in res.splitlines():
        for name, v in zip(fields, line.split("\t")):
            if v:
                vals.setdefault(name.split(".")[-1], v)
    return vals


GREASE = {0x0A0A + 0x1010 * i for i in range(16)}


def ja4(ciphers, exts, sigalgs, versions, legacy, alpn):
    """JA4 of a ClientHello from FoxIO's spec, independent of the C code."""
    vmap = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3"}
    vs = [v for v in versions if v not in GREASE]
    ver = vmap.get(max(vs) if vs else legacy, "00")
    cs = [c for c in ciphers if c not in GREASE]
    es = [e for e in exts if e not in GREASE]
    sni = "d" if 0 in es else "i"
    a = alpn[0] if alpn else ""
    al = (a[0] + a[-1]) if a else "00"
    head = f"t{ver}{sni}{min(len(cs), 99):02d}{min(len(es), 99):02d}{al}"

    def h(s):
        return hashlib.sha256(s.encode()).hexdigest()[:12]
    b = h(",".join(f"{c:04x}" for c in sorted(cs))) if cs else "0" * 12
    rest = sorted(e for e in es if e not in (0, 16))
    sig = [x for x in sigalgs if x not in GREASE]
    cstr = ",".join(f"{e:04x}" for e in rest)
    if sig:
        cstr += "_" + ",".join(f"{x:04x}" for x in sig)
    c = h(cstr) if rest else "0" * 12
    return f"{head}_{b}_{c}"


# FoxIO's published example (JA4 README, Chrome): the function must give it.
assert ja4([0x002f, 0x0035, 0x009c, 0x009d, 0x1301, 0x1302, 0x1303, 0xc013, 0xc014, 0xc02b,
            0xc02c, 0xc02f, 0xc030, 0xcca8, 0xcca9, 0x0a0a],
           [0x0a0a, 0x0000, 0x0010, 0x0005, 0x000a, 0x000b, 0x000d, 0x0012, 0x0015, 0x0017,
            0x001b, 0x0023, 0x002b, 0x002d, 0x0033, 0x4469, 0xff01],
           [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601], [0x0304], 0x0303,
           ["h2", "http/1.1"]) == "t13d1516h2_8daaf6152771_e5627efa2ab1"


def ja4_tshark(pcap, port):
    fields = ["tls.handshake.ciphersuite", "tls.handshake.extension.type",
              "tls.handshake.sig_hash_alg", "tls.handshake.extensions.supported_version",
              "tls.handshake.version", "tls.handshake.extensions_alpn_str"]
    cmd = ["tshark", "-r", pcap, "-d", f"tcp.port=={port},tls",
           "-Y", f"tcp.port=={port} && tls.handshake.type == 1", "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    line = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()[0]
    cols = line.split("\t")

    def nums(x):
        return [int(v, 0) for v in x.split(",") if v]
    return ja4(nums(cols[0]), nums(cols[1]), nums(cols[2]), nums(cols[3]), int(cols[4], 0),
               [a for a in cols[5].split(",") if a])


def c_bytes(b):
    lines = []
    for i in range(0, len(b), 16):
        lines.append("    " + ", ".join(f"0x{x:02x}" for x in b[i:i + 16]) + ",")
    return "\n".join(lines)


def extract(d):
    pcap = os.path.join(d, "tls.pcap")
    convs = conversations(pcap)
    os.makedirs(OUT, exist_ok=True)
    gen = ["/* BEGIN GENERATED by tests/fuzz/corpus/make-tls-seeds.py extract: do not edit. */"]
    for name, port, _, ccmd in SCENARIOS:
        msgs = convs.get(port)
        if not msgs:
            sys.exit(f"{name}: no conversation on port {port} in {pcap}")
        t = trim(msgs)
        # Seeds: the whole conversation in pieces of 128 bytes at most; the clear part in pieces
        # of 7 bytes; the client's first flight alone.
        for suffix, conv, size in (("", msgs, 128), ("-7", t, 7), ("-client", t[:1], 128)):
            seed = bytearray()
            for dr, data in conv:
                for i in range(0, len(data), size):
                    piece = data[i:i + size]
                    seed += bytes([((len(piece) - 1) << 1) | dr]) + piece
            with open(os.path.join(OUT, name + suffix), "wb") as f:
                f.write(seed)
        cname = name.replace("-", "_")
        gen.append(f"/* {name}: port {port}, client: {ccmd.format(srv=SRV, port=port)} */")
        for i, (dr, data) in enumerate(t):
            gen.append(f"static const uint8_t {cname}_{i}[] = {{ /* dir {dr}, {len(data)} bytes */")
            gen.append(c_bytes(data))
            gen.append("};")
        gen.append(f"static const struct harness_msg {cname}[] = {{")
        for i, (dr, _) in enumerate(t):
            gen.append(f"    {{{dr}, {cname}_{i}, sizeof({cname}_{i})}},")
        gen.append("};")
        ts = tshark(pcap, port)
        gen.append("/* tshark 4.0 on the capture: */")
        for k in ("extensions_server_name", "ja3", "ja3_full", "ja3s", "ja3s_full"):
            v = ts.get(k, "")
            gen.append(f"static const char {cname}_ts_{k}[] = \"{v}\";")
        gen.append("/* JA4 by this script's own implementation over tshark's dissection: */")
        gen.append(f"static const char {cname}_ts_ja4[] = \"{ja4_tshark(pcap, port)}\";")
        print(name, ts)
    gen.append("/* END GENERATED */")
    with open(TEST_C) as f:
        src = f.read()
    a = src.index("/* BEGIN GENERATED")
    b = src.index("/* END GENERATED */") + len("/* END GENERATED */")
    with open(TEST_C, "w") as f:
        f.write(src[:a] + "\n".join(gen) + src[b:])
    subprocess.run(["clang-format", "-i", TEST_C], check=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("capture", "extract"):
        sys.exit(__doc__ if __doc__ else "usage: make-tls-seeds.py capture|extract DIR")
    (capture if sys.argv[1] == "capture" else extract)(sys.argv[2])
