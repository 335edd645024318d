#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the HOW file of an attack (or baseline) capture: how it was made (the capture
script's header, the Debian packages and versions of the tools) and reference counts taken from
the capture with tshark, the reference decoder. Detector tests check against those counts.

  how.py SCRIPT CASE_DIR KIND[,KIND...] PACKAGE...

SCRIPT    the capture script (its header comment is copied)
CASE_DIR  tests/pcap/<case> (reads input.pcap, writes HOW)
KIND      what to count: tcp, dns, dicom, hl7, smb, rdp, scan, outside
PACKAGE   Debian packages whose versions to record (tshark and tcpdump are always added)
"""
import collections
import os
import re
import subprocess
import sys


def tshark(pcap, args):
    cmd = ["tshark", "-n", "-r", pcap] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        sys.exit("how.py: %s failed: %s" % (" ".join(cmd), p.stderr))
    return p.stdout


def fields(pcap, flt, names):
    """One tuple of field values per matching packet (several occurrences joined by ',')."""
    args = ["-Y", flt, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
            "-E", "aggregator=,"]
    for n in names:
        args += ["-e", n]
    out = []
    for line in tshark(pcap, args).splitlines():
        v = line.split("\t")
        out.append(tuple(v + [""] * (len(names) - len(v))))
    return out


def counted(counter, fmt="%s"):
    return ", ".join("%d %s" % (n, fmt % (k,)) for k, n in sorted(counter.items(),
                                                                   key=lambda kv: str(kv[0])))


def count_tcp(pcap):
    convs = fields(pcap, "tcp.flags.syn == 1 && tcp.flags.ack == 0", ["ip.src", "ip.dst",
                                                                      "tcp.dstport"])
    udp = tshark(pcap, ["-q", "-z", "conv,udp"]).count("<->")
    frames = tshark(pcap, ["-q", "-z", "io,stat,0"])
    m = re.search(r"\|\s*0\.0+\s*<>\s*\S+\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|", frames)
    lines = ["frames: %s, bytes: %s" % (m.group(1), m.group(2)) if m else "frames: ?"]
    ports = collections.Counter(c[2] for c in convs)
    if len(ports) > 10:
        many = collections.Counter({p: n for p, n in ports.items() if n > 1})
        ports_s = "%d distinct ports; more than one connection: %s" % (len(ports),
                                                                       counted(many) or "none")
    else:
        ports_s = counted(ports) or "none"
    lines.append("TCP connections opened (SYN without ACK): %d, by destination port: %s" % (
        len(convs), ports_s))
    lines.append("TCP conversations: %d; UDP conversations: %d" % (
        tshark(pcap, ["-q", "-z", "conv,tcp"]).count("<->"), udp))
    return lines


def count_scan(pcap):
    syn = fields(pcap, "tcp.flags.syn == 1 && tcp.flags.ack == 0", ["ip.src", "ip.dst",
                                                                    "tcp.dstport"])
    synack = fields(pcap, "tcp.flags.syn == 1 && tcp.flags.ack == 1", ["ip.src", "tcp.srcport"])
    rst = fields(pcap, "tcp.flags.reset == 1", ["ip.src"])
    lines = []
    by_src = collections.defaultdict(list)
    for s, d, p in syn:
        by_src[s].append((d, p))
    for s, probes in sorted(by_src.items()):
        hosts = collections.defaultdict(set)
        for d, p in probes:
            hosts[d].add(p)
        lines.append("SYNs from %s: %d, to %d distinct hosts" % (s, len(probes), len(hosts)))
        for d, ports in sorted(hosts.items(), key=lambda kv: -len(kv[1])):
            if len(ports) > 2:
                lines.append("  %s: %d distinct ports (%s-%s)" % (
                    d, len(ports), min(ports, key=int), max(ports, key=int)))
        few = collections.Counter(",".join(sorted(p, key=int)) for d, p in hosts.items()
                                  if len(p) <= 2)
        if few:
            lines.append("  hosts probed on ports " + counted(few, "%s"))
    open_ = collections.Counter(s for s, _ in synack)
    lines.append("SYN-ACKs (open ports): %d (%s)" % (len(synack), counted(collections.Counter(
        "%s:%s" % sa for sa in synack))))
    lines.append("RSTs: %d, %d of them from scanned hosts (closed ports)" % (
        len(rst), sum(1 for (s,) in rst if s not in by_src)))
    return lines


DIMSE_RE = re.compile(r"^\s*\(0000,0100\)\s+\d+\s+Command Field\s+(\S+)\s*$", re.M)
MOVE_DEST_RE = re.compile(r"^\s*\(0000,0600\)\s+\d+\s+Move Destination\s+(\S+)\s*$", re.M)
WILDCARD_RE = re.compile(r"^\s*\((0010,0010|0010,0020)\)\s+\d+\s+(Patient's Name|Patient ID)\s+"
                         r"\[\w\w\]\s+(\S*[*?]\S*)\s*$", re.M)
LEVEL_RE = re.compile(r"^\s*\(0008,0052\)\s+\d+\s+Query/Retrieve Level\s+\[CS\]\s+(\S+)\s*$",
                      re.M)


def count_dicom(pcap):
    lines = []
    rq = fields(pcap, "dicom.pdu.type == 1", ["ip.src", "ip.dst", "dicom.assoc.ae.calling",
                                               "dicom.assoc.ae.called"])
    lines.append("A-ASSOCIATE-RQ: %d" % len(rq))
    pairs = collections.defaultdict(collections.Counter)
    for r in rq:
        pairs["%s %s -> %s" % (r[0], r[2].strip(), r[1])][r[3].strip()] += 1
    for k, called in sorted(pairs.items()):
        lines.append("  %s: %d, called AE %s%s" % (
            k, sum(called.values()), counted(called),
            " (%d distinct)" % len(called) if len(called) > 3 else ""))
    ac = fields(pcap, "dicom.pdu.type == 2", ["ip.src"])
    rj = fields(pcap, "dicom.pdu.type == 3", ["dicom.assoc.reject.result",
                                              "dicom.assoc.reject.source",
                                              "dicom.assoc.reject.reason"])
    lines.append("A-ASSOCIATE-AC: %d; A-ASSOCIATE-RJ: %d%s" % (
        len(ac), len(rj), (" (result/source/reason " + counted(collections.Counter(
            "/".join(r) for r in rj)) + ")") if rj else ""))
    ab = fields(pcap, "dicom.pdu.type == 7", ["ip.src"])
    rel = fields(pcap, "dicom.pdu.type == 5", ["ip.src"])
    lines.append("A-RELEASE-RQ: %d; A-ABORT: %d" % (len(rel), len(ab)))
    text = tshark(pcap, ["-Y", "dicom", "-o", "dicom.tag_tree:TRUE", "-V"])
    cmds = collections.Counter(DIMSE_RE.findall(text))
    lines.append("DIMSE: " + (counted(cmds) or "none"))
    dest = collections.Counter(MOVE_DEST_RE.findall(text))
    if dest:
        lines.append("C-MOVE destinations: " + counted(dest))
    lv = collections.Counter(LEVEL_RE.findall(text))
    if lv:
        lines.append("Query/Retrieve Level values (C-FIND and C-MOVE identifiers): " + counted(lv))
    wild = collections.Counter("%s=%s" % (m[1].strip(), m[2]) for m in WILDCARD_RE.findall(text))
    if wild:
        lines.append("identifier values with a wildcard: %d (%s)" % (
            sum(wild.values()), counted(wild)))
    return lines


def count_hl7(pcap):
    msgs = fields(pcap, "hl7", ["ip.src", "ip.dst", "hl7.segment"])
    c = collections.Counter()
    for src, dst, segs in msgs:
        for seg in segs.split(","):
            if seg.startswith("MSH"):
                f = seg.rstrip("\r").replace("\\r", "").split("|")
                c["%s -> %s %s^%s %s %s" % (src, dst, f[2], f[3], f[8], f[9])] += 1
    lines = ["HL7 messages: %d" % sum(c.values())]
    lines += ["  " + k for k in sorted(c)]
    return lines


DNS_TYPES = {1: "A", 15: "MX", 16: "TXT", 28: "AAAA", 10: "NULL", 5: "CNAME"}
RCODES = {0: "NOERROR", 3: "NXDOMAIN", 2: "SERVFAIL", 5: "REFUSED"}


def count_dns(pcap):
    q = fields(pcap, "dns.flags.response == 0", ["dns.qry.name", "dns.qry.type"])
    r = fields(pcap, "dns.flags.response == 1", ["dns.qry.name", "dns.flags.rcode",
                                                 "dns.count.answers"])
    lines = ["DNS queries: %d, by type: %s" % (len(q), counted(collections.Counter(
        DNS_TYPES.get(int(t), t) for _, t in q)))]
    lines.append("DNS responses: %d, by rcode: %s; with no answer record: %d" % (
        len(r), counted(collections.Counter(RCODES.get(int(rc), rc) for _, rc, _ in r)),
        sum(1 for *_, a in r if a == "0")))
    names = [n for n, _ in q]
    longl = [n for n in names if max(len(lbl) for lbl in n.split(".")) >= 50]
    if longl:
        dom = collections.Counter(".".join(n.split(".")[-3:]) for n in longl)
        lens = sorted({len(lbl) for n in longl for lbl in n.split(".") if len(lbl) >= 50})
        lines.append("queries with a label of 50+ characters: %d (label lengths %s; under %s; "
                     "QNAME lengths %s)" % (len(longl), lens, counted(dom),
                                            sorted({len(n) for n in longl})))
    nx = [n for n, rc, _ in r if rc == "3"]
    if len(nx) >= 5:
        lines.append("NXDOMAIN names: %d distinct of %d; second-level labels %d-%d characters; "
                     "TLDs %s" % (len(set(nx)), len(nx),
                                  min(len(n.split(".")[-2]) for n in nx),
                                  max(len(n.split(".")[-2]) for n in nx),
                                  counted(collections.Counter(n.split(".")[-1] for n in nx))))
    return lines


SMB2_CMDS = {0: "NEGOTIATE", 1: "SESSION_SETUP", 2: "LOGOFF", 3: "TREE_CONNECT",
             4: "TREE_DISCONNECT", 5: "CREATE", 6: "CLOSE", 7: "FLUSH", 8: "READ", 9: "WRITE",
             11: "IOCTL", 14: "QUERY_DIRECTORY", 15: "CHANGE_NOTIFY", 16: "QUERY_INFO",
             17: "SET_INFO"}
NT_STATUS = {"0x00000000": "SUCCESS", "0xc000006d": "LOGON_FAILURE",
             "0xc0000016": "MORE_PROCESSING_REQUIRED", "0x80000006": "NO_MORE_FILES",
             "0xc0000022": "ACCESS_DENIED", "0xc0000034": "OBJECT_NAME_NOT_FOUND",
             "0xc0000035": "OBJECT_NAME_COLLISION"}


def count_smb(pcap):
    lines = []
    req = fields(pcap, "smb2 && smb2.flags.response == 0", ["smb2.cmd"])
    cmds = collections.Counter()
    for (c,) in req:
        for x in c.split(","):
            cmds[SMB2_CMDS.get(int(x), x)] += 1
    lines.append("SMB2 requests: " + counted(cmds))
    ss = fields(pcap, "smb2.cmd == 1 && smb2.flags.response == 1", ["smb2.nt_status"])
    lines.append("SESSION_SETUP responses: " + counted(collections.Counter(
        NT_STATUS.get(s, s) for (s,) in ss)))
    users = fields(pcap, "ntlmssp.messagetype == 3", ["ntlmssp.auth.username",
                                                      "ntlmssp.auth.hostname"])
    lines.append("NTLMSSP AUTH (user, client host): " + counted(collections.Counter(
        "%s@%s" % u for u in users)))
    trees = fields(pcap, "smb2.cmd == 3 && smb2.flags.response == 0", ["smb2.tree"])
    lines.append("TREE_CONNECT: " + counted(collections.Counter(t for (t,) in trees)))
    cr = fields(pcap, "smb2.cmd == 5 && smb2.flags.response == 0",
                ["smb2.filename", "smb2.create.disposition",
                 "smb.nt.create_options.delete_on_close"])
    dispo = {"1": "OPEN", "2": "CREATE", "3": "OPEN_IF", "5": "OVERWRITE_IF", "4": "OVERWRITE",
             "0": "SUPERSEDE"}
    lines.append("CREATE requests: %d, by disposition: %s" % (len(cr), counted(
        collections.Counter(dispo.get(d, d) for _, d, _ in cr))))
    locked = [n for n, _, _ in cr if n.endswith(".locked")]
    if locked:
        lines.append("  CREATEs of *.locked names: %d (%d distinct)" % (len(locked),
                                                                       len(set(locked))))
    doc = [n for n, _, d in cr if d in ("1", "True")]
    if doc:
        lines.append("  CREATEs with DELETE_ON_CLOSE (deletes): %d (%d distinct names)" % (
            len(doc), len(set(doc))))
    notes = sorted({n for n, _, _ in cr if re.search(r"(README|HOW_TO|DECRYPT|RECOVER)", n)})
    if notes:
        lines.append("  ransom notes created: " + ", ".join(notes))
    exe = sorted({n for n, _, _ in cr if n.lower().endswith(".exe")})
    if exe:
        lines.append("  executables created/opened: " + ", ".join(exe))
    pipes = fields(pcap, "smb2.cmd == 5 && smb2.flags.response == 0 && smb2.tree contains "
                   "\"IPC$\"", ["smb2.filename"])
    if pipes:
        lines.append("  named pipes opened on IPC$: " + counted(collections.Counter(
            p for (p,) in pipes if p)))
    si = fields(pcap, "smb2.cmd == 17 && smb2.flags.response == 0",
                ["smb2.file_info.infolevel", "smb2.disposition.delete_on_close"])
    ren = sum(1 for lvl, _ in si if lvl == "0x0a")
    dele = sum(1 for lvl, d in si if lvl == "0x0d" and d in ("1", "True"))
    lines.append("SET_INFO: %d, renames (FileRenameInformation): %d, delete dispositions: %d"
                 % (len(si), ren, dele))
    wr = fields(pcap, "smb2.cmd == 9 && smb2.flags.response == 0", ["smb2.write_length"])
    rd = fields(pcap, "smb2.cmd == 8 && smb2.flags.response == 0", ["smb2.read_length"])
    lines.append("WRITE requests: %d (%d bytes); READ requests: %d" % (
        len(wr), sum(int(x) for (x,) in wr if x), len(rd)))
    binds = fields(pcap, "dcerpc.pkt_type == 11", ["dcerpc.cn_bind_to_uuid"])
    if binds:
        ifs = {"367abb81-9844-35f1-ad32-98f038001003": "svcctl",
               "12345778-1234-abcd-ef00-0123456789ab": "lsarpc",
               "4b324fc8-1670-01d3-1278-5a47bf6ee188": "srvsvc"}
        lines.append("DCE/RPC binds: " + counted(collections.Counter(
            ifs.get(b.split(",")[0], b) for (b,) in binds)))
        ops = fields(pcap, "svcctl && dcerpc.pkt_type == 0", ["svcctl.opnum"])
        names = {"15": "OpenSCManagerW", "14": "EnumServicesStatusW", "12": "CreateServiceW",
                 "0": "CloseServiceHandle"}
        lines.append("svcctl requests: " + counted(collections.Counter(
            names.get(o, o) for (o,) in ops)))
    return lines


def count_rdp(pcap):
    cr = fields(pcap, "rdp.rt_cookie || rdp.neg_type == 1", ["ip.src", "rdp.rt_cookie"])
    rsp = fields(pcap, "rdp.neg_type == 2", ["rdp.negReq.selectedProtocol"])
    return ["X.224 Connection Requests: %d (%s)" % (len(cr), counted(collections.Counter(
        "%s %s" % c for c in cr))),
        "X.224 Negotiate Responses: %d (selected protocol %s)" % (len(rsp), counted(
            collections.Counter({"0x00000001": "TLS", "0x00000002": "CredSSP",
                                 "0x00000000": "standard RDP"}.get(s, s) for (s,) in rsp)))]


def count_outside(pcap):
    pk = fields(pcap, "ip", ["ip.src", "ip.dst"])
    c = collections.Counter()
    for s, d in pk:
        for a, b in ((s, d), (d, s)):
            if a.startswith("10.77.") and not b.startswith("10."):
                c["%s <-> %s" % (a, b)] += 1
    return ["packets between 10.77.x and outside addresses: " + counted(c)]


KINDS = {"tcp": count_tcp, "scan": count_scan, "dicom": count_dicom, "hl7": count_hl7,
         "dns": count_dns, "smb": count_smb, "rdp": count_rdp, "outside": count_outside}


def header(script):
    out = []
    for line in open(script).read().splitlines()[1:]:
        if line.startswith("# SPDX"):
            continue
        if not line.startswith("#"):
            break
        out.append(line[2:] if line.startswith("# ") else line[1:])
    return out


def versions(pkgs):
    out = []
    for p in pkgs + ["tshark", "tcpdump"]:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", p], capture_output=True,
                           text=True)
        out.append("%s %s" % (p, r.stdout.strip() if r.returncode == 0 else "(not installed)"))
    return out


def main():
    script, case, kinds = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    pkgs = sys.argv[4:]
    pcap = os.path.join(case, "input.pcap")
    name = os.path.basename(case.rstrip("/"))
    text = ["%s: made by scripts/captures/%s (run as root; real peers in private network "
            "namespaces)" % (name, os.path.basename(script)), ""]
    text += header(script)
    text += ["", "Tools (Debian 12 packages): " + ", ".join(versions(pkgs)),
             "input.pcap: %d bytes" % os.path.getsize(pcap), "",
             "Reference counts (tshark on input.pcap; regenerated with the capture):"]
    for k in kinds:
        text += ["  " + line for line in KINDS[k](pcap)]
    with open(os.path.join(case, "HOW"), "w") as f:
        f.write("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
