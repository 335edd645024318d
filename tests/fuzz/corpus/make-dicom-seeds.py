#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Makes the DICOM test bytes from real peers: the seed corpus of fuzz-dicom
# (tests/fuzz/corpus/dicom/) and the generated vectors in tests/unit/proto/test-dicom.c.
#
#   ./make-dicom-seeds.py capture DIR   (root) runs dcmtk's dcmqrscp and storescp against echoscu,
#                                       storescu, findscu, movescu and getscu, and wlmscpfs
#                                       (modality worklist) against findscu, in two network
#                                       namespaces (iaso-dicom-c, iaso-dicom-s, 10.77.20.0/24) and
#                                       writes DIR/dicom.pcap; nothing leaves the namespaces.
#   ./make-dicom-seeds.py extract DIR   splits DIR/dicom.pcap into TCP conversations, writes one
#                                       seed per conversation and rewrites the GENERATED block of
#                                       test-dicom.c with the bytes.
#
# The test objects are made with dump2dcm from the fake patient TEST^PATIENT (PID123456).
#
# Fuzz input format (see tests/fuzz/fuzz-dicom.c): a header byte h, then (h >> 1) + 1 bytes sent
# in direction h & 1 (0 client, 1 server).
import os
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "dicom")
TEST_C = os.path.join(HERE, "..", "..", "unit", "proto", "test-dicom.c")
CLI, SRV = "10.77.20.1", "10.77.20.2"
NS_C, NS_S = "iaso-dicom-c", "iaso-dicom-s"

CT_DUMP = """\
(0008,0016) UI =CTImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.9.7433.1.1]
(0008,0020) DA [20260101]
(0008,0030) TM [101500]
(0008,0050) SH [ACC0001]
(0008,0060) CS [CT]
(0008,0070) LO [Iaso Test Scanners]
(0008,1010) SH [CTROOM1]
(0008,1032) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,0100) SH [PROC1]
(0008,0102) SH [LOCAL]
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(0008,1090) LO [ScanMaster 3000]
(0010,0010) PN [TEST^PATIENT]
(0010,0020) LO [PID123456]
(0010,0030) DA [19700101]
(0010,0040) CS [O]
(0018,1000) LO [SN-0042]
(0018,1020) LO [FW 1.2.3]
(0020,000d) UI [1.2.826.0.1.3680043.9.7433.1.2]
(0020,000e) UI [1.2.826.0.1.3680043.9.7433.1.3]
(0020,0010) SH [STUDY1]
(0020,0011) IS [1]
(0020,0013) IS [1]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 16
(0028,0011) US 16
(0028,0100) US 16
(0028,0101) US 12
(0028,0102) US 11
(0028,0103) US 0
(7fe0,0010) OW =pixel.raw
"""

MR_DUMP = CT_DUMP.replace("=CTImageStorage", "=MRImageStorage") \
    .replace("[CT]", "[MR]").replace("7433.1.1]", "7433.1.11]") \
    .replace("7433.1.3]", "7433.1.13]").replace("CTROOM1", "MRROOM2") \
    .replace("ScanMaster 3000", "Magneto 1.5T").replace("SN-0042", "SN-0077")

QR_CFG = """\
NetworkTCPPort  = 11112
MaxPDUSize      = 16384
MaxAssociations = 16

HostTable BEGIN
storescp = (STORESCP, {cli}, 4242)
HostTable END

VendorTable BEGIN
VendorTable END

AETable BEGIN
QRSCP {db} RW (200, 1024mb) ANY
AETable END
"""

# name, command run in the client namespace
SCENARIOS = [
    ("echo", "echoscu -aet ECHOSCU -aec QRSCP {srv} 11112"),
    ("store-ct", "storescu -R -aet STORESCU -aec QRSCP {srv} 11112 {d}/ct.dcm"),
    ("store-mr-implicit", "storescu -R -xi -aet STORESCU -aec QRSCP {srv} 11112 {d}/mr.dcm"),
    ("find-patient", "findscu -P -aet FINDSCU -aec QRSCP {srv} 11112 "
     "-k QueryRetrieveLevel=PATIENT -k PatientName=TEST* -k PatientID= -k PatientBirthDate="),
    ("find-study", "findscu -S -aet FINDSCU -aec QRSCP {srv} 11112 "
     "-k QueryRetrieveLevel=STUDY -k PatientID=PID123456 -k PatientName=* -k StudyDate= "
     "-k StudyInstanceUID= -k ModalitiesInStudy= -k AccessionNumber="),
    ("move", "movescu -P -aet MOVESCU -aec QRSCP -aem STORESCP {srv} 11112 "
     "-k QueryRetrieveLevel=PATIENT -k PatientID=PID123456"),
    ("get", "getscu -P -aet GETSCU -aec QRSCP -od {d}/get {srv} 11112 "
     "-k QueryRetrieveLevel=PATIENT -k PatientID=PID123456"),
    ("reject", "echoscu -aet ECHOSCU -aec NOSUCHAE {srv} 11112"),
    ("abort", "echoscu --abort -aet ECHOSCU -aec QRSCP {srv} 11112"),
    ("find-worklist", "findscu -W -aet MODALITY1 -aec OFFIS {srv} 4244 "
     "-k ScheduledProcedureStepSequence[0].Modality=MR "
     "-k ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate=19951015-19951231 "
     "-k PatientName= -k PatientID= -k AccessionNumber="),
    ("store-big-endian", "storescu -R -xb -aet STORESCU -aec STORESCP2 {srv} 4243 {d}/ct-be.dcm"),
]


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def capture(d):
    d = os.path.abspath(d)
    os.makedirs(os.path.join(d, "db"), exist_ok=True)
    os.makedirs(os.path.join(d, "get"), exist_ok=True)
    os.makedirs(os.path.join(d, "in"), exist_ok=True)
    with open(os.path.join(d, "pixel.raw"), "wb") as f:
        f.write(bytes((i * 7) & 0xff for i in range(512)))
    for name, text in (("ct", CT_DUMP), ("mr", MR_DUMP)):
        with open(os.path.join(d, name + ".dump"), "w") as f:
            f.write(text)
        sh(f"cd {d} && dump2dcm -q -F +te {name}.dump {name}.dcm")
    # The same CT in explicit VR big endian (retired, but still met on old modalities).
    sh(f"cd {d} && dcmconv -q +tb ct.dcm ct-be.dcm")
    # A modality worklist from dcmtk's examples (fictional patients), for wlmscpfs.
    wl = os.path.join(d, "wlist", "OFFIS")
    os.makedirs(wl, exist_ok=True)
    ex = "/usr/share/doc/dcmtk/examples/wlistdb/OFFIS"
    for i in (1, 2, 3):
        sh(f"dump2dcm -q {ex}/wklist{i}.dump {wl}/wklist{i}.wl")
    open(os.path.join(wl, "lockfile"), "w").close()
    with open(os.path.join(d, "dcmqrscp.cfg"), "w") as f:
        f.write(QR_CFG.format(cli=CLI, db=os.path.join(d, "db")))
    cleanup = f"ip netns del {NS_C} 2>/dev/null; ip netns del {NS_S} 2>/dev/null; true"
    sh(cleanup)
    procs = []
    try:
        sh(f"ip netns add {NS_C} && ip netns add {NS_S}")
        sh(f"ip link add iaso-dicom-c0 netns {NS_C} type veth peer name iaso-dicom-s0 netns {NS_S}")
        sh(f"ip -n {NS_C} addr add {CLI}/24 dev iaso-dicom-c0 && "
           f"ip -n {NS_C} link set iaso-dicom-c0 up && ip -n {NS_C} link set lo up")
        sh(f"ip -n {NS_S} addr add {SRV}/24 dev iaso-dicom-s0 && "
           f"ip -n {NS_S} link set iaso-dicom-s0 up && ip -n {NS_S} link set lo up")
        pcap = os.path.join(d, "dicom.pcap")
        procs.append(subprocess.Popen(["ip", "netns", "exec", NS_S, "tcpdump", "-U", "-n", "-s",
                                       "0", "-i", "iaso-dicom-s0", "-w", pcap, "tcp"],
                                      stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen(["ip", "netns", "exec", NS_S, "dcmqrscp", "-c",
                                       os.path.join(d, "dcmqrscp.cfg")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # The move destination, in the client namespace.
        procs.append(subprocess.Popen(["ip", "netns", "exec", NS_C, "storescp", "-aet",
                                       "STORESCP", "-od", os.path.join(d, "in"), "4242"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # A storage SCP that prefers explicit VR big endian.
        procs.append(subprocess.Popen(["ip", "netns", "exec", NS_S, "storescp", "+xb", "-aet",
                                       "STORESCP2", "-od", os.path.join(d, "in"), "4243"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen(["ip", "netns", "exec", NS_S, "wlmscpfs", "-dfp",
                                       os.path.join(d, "wlist"), "4244"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(2)
        for name, cmd in SCENARIOS:
            c = cmd.format(srv=SRV, d=d)
            r = subprocess.run(f"ip netns exec {NS_C} timeout 10 {c} </dev/null >/dev/null 2>&1",
                               shell=True)
            print(f"{name}: exit {r.returncode}", file=sys.stderr)
            time.sleep(0.5)
        time.sleep(1)
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        sh(cleanup)


def read_pcap(path):
    """Yields (src, sport, dst, dport, flags, seq, payload) of each TCP/IPv4 packet."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:
            if struct.unpack(">H", pkt[12:14])[0] != 0x0800:
                continue
            ip = pkt[14:]
        elif linktype == 113:
            ip = pkt[16:]
        else:
            raise SystemExit(f"linktype {linktype} not handled")
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack(">H", ip[2:4])[0]
        if ip[9] != 6:
            continue
        tcp = ip[ihl:tot]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        doff = (tcp[12] >> 4) * 4
        yield (ip[12:16], sport, ip[16:20], dport, tcp[13], seq, tcp[doff:])


def conversations(path):
    """Returns [(client port, server port, [(dir, bytes), ...])] in order of the first SYN."""
    convs = {}
    order = []
    for src, sport, dst, dport, flags, seq, payload in read_pcap(path):
        a, b = (src, sport), (dst, dport)
        if flags & 0x12 == 0x02:  # SYN without ACK: a new connection from a
            convs[(a, b)] = {"msgs": [], "next": [None, None]}
            order.append((a, b))
            convs[(a, b)]["next"][0] = (seq + 1) & 0xffffffff
            continue
        if (a, b) in convs:
            c, d = convs[(a, b)], 0
        elif (b, a) in convs:
            c, d = convs[(b, a)], 1
        else:
            continue
        if flags & 0x12 == 0x12:
            c["next"][1] = (seq + 1) & 0xffffffff
            continue
        if not payload:
            continue
        if c["next"][d] is not None and seq != c["next"][d]:
            continue  # a retransmission (veth does not lose packets)
        c["next"][d] = (seq + len(payload)) & 0xffffffff
        if c["msgs"] and c["msgs"][-1][0] == d:
            c["msgs"][-1] = (d, c["msgs"][-1][1] + payload)
        else:
            c["msgs"].append((d, payload))
    return [(k[0][1], k[1][1], convs[k]["msgs"]) for k in order]


def c_array(name, data):
    lines = []
    for i in range(0, len(data), 16):
        lines.append("    " + ", ".join(f"0x{x:02x}" for x in data[i:i + 16]) + ",")
    return f"static const uint8_t {name}[] = {{\n" + "\n".join(lines) + "\n};\n"


def extract(d):
    convs = conversations(os.path.join(d, "dicom.pcap"))
    # Name the conversations after the scenarios, in order; the move's sub-association (from
    # dcmqrscp to STORESCP on port 4242) gets its own name.
    names = []
    scen = [s[0] for s in SCENARIOS]
    i = 0
    for cport, sport, msgs in convs:
        if sport == 4242:
            names.append("move-store")
        else:
            names.append(scen[i] if i < len(scen) else f"conv{i}")
            i += 1
    os.makedirs(OUT, exist_ok=True)
    gen = []
    for name, (cport, sport, msgs) in zip(names, convs):
        seed = bytearray()
        for dr, data in msgs:
            for j in range(0, len(data), 128):
                piece = data[j:j + 128]
                seed.append(((len(piece) - 1) << 1) | dr)
                seed += piece
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(seed)
        ident = "cap_" + name.replace("-", "_")
        parts = []
        for k, (dr, data) in enumerate(msgs):
            gen.append(c_array(f"{ident}_{k}", data))
            parts.append(f"    {{{dr}, {ident}_{k}, sizeof({ident}_{k})}},")
        gen.append(f"/* {name}: port {sport}, {len(msgs)} messages */\n"
                   f"static const struct harness_msg {ident}[] = {{\n" + "\n".join(parts)
                   + "\n};\n")
        print(f"{name}: port {sport}, {len(msgs)} messages, {len(seed)} seed bytes",
              file=sys.stderr)
    with open(TEST_C) as f:
        text = f.read()
    a = text.index("/* BEGIN GENERATED */")
    b = text.index("/* END GENERATED */")
    text = text[:a] + "/* BEGIN GENERATED */\n// clang-format off\n" + "\n".join(gen) \
        + "// clang-format on\n" + text[b:]
    with open(TEST_C, "w") as f:
        f.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("capture", "extract"):
        raise SystemExit(__doc__ if __doc__ else "usage: make-dicom-seeds.py capture|extract DIR")
    (capture if sys.argv[1] == "capture" else extract)(sys.argv[2])
