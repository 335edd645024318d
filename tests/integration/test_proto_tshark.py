# SPDX-License-Identifier: Apache-2.0
"""The application-protocol fields the sensor extracts, checked against tshark's dissection of
the same captures (tests/pcap/<case>/input.pcap, made from real peers by
scripts/captures/make-proto).

  /usr/bin/python3 -m pytest tests/integration/test_proto_tshark.py

Each test compares whole sets or multisets over the capture (AE titles, DIMSE commands, SOP
classes, HL7 MSH fields, DNS questions, TLS SNI and JA3, HTTP requests, SMB2 shares and file
names, RDP cookies), so a value missing, extra or wrong on either side fails it. When no event
of the protocol comes out at all, the parser is not built in yet: the test skips, naming it, and
turns itself on when the parser lands.
"""
import collections
import json
import re
import shutil
import subprocess

import pytest

import pcap_cases as pc

TSHARK = shutil.which("tshark")

pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed (scripts/setup test)")


def case_dir(name):
    d = pc.PCAP_DIR / name
    if pc.case_input(d) is None:
        pytest.skip("tests/pcap/%s has no capture (scripts/captures/make-proto %s)" % (name, name))
    return d


def sensor_events(case, proto):
    """The case's events of type `proto` (the object under that key), skipping the test when
    the sensor emits none: the parser is not built in."""
    proc = pc.run_sensor(case)
    assert proc.returncode == 0, "%s: sensor exit %d:\n%s" % (case.name, proc.returncode,
                                                              proc.stderr[-2000:])
    events = [ev for ev in pc.parse_eve(proc.stdout, case.name)
              if ev.get("event_type") == proto]
    if not events:
        pytest.skip("%s: no %s events: the %s parser (src/proto/%s.c) is not built in yet"
                    % (case.name, proto, proto, proto))
    for ev in events:
        assert isinstance(ev.get(proto), dict), "%s: %s event without a %r object: %r" % (
            case.name, proto, proto, ev)
    return [ev[proto] for ev in events]


def tshark(case, fields, display_filter, decode_as=(), prefs=(), verbose=False):
    """tshark over the case's capture. With fields: one dict per displayed packet, each field
    a list of its values (tshark -T json -e). With verbose: the -V text."""
    cmd = [TSHARK, "-n", "-r", str(pc.case_input(case)), "-Y", display_filter]
    for d in decode_as:
        cmd += ["-d", d]
    for p in prefs:
        cmd += ["-o", p]
    if verbose:
        cmd += ["-V"]
    else:
        cmd += ["-T", "json"]
        for f in fields:
            cmd += ["-e", f]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, "tshark failed: %s\n%s" % (" ".join(cmd), proc.stderr[-2000:])
    if verbose:
        return proc.stdout
    packets = json.loads(proc.stdout or "[]")
    out = [p["_source"]["layers"] for p in packets]
    assert out, "tshark found no packets matching %r in %s: the capture or the filter is wrong" % (
        display_filter, case.name)
    return out


def values(packets, field):
    """Every value of `field` over all packets, in order."""
    out = []
    for p in packets:
        out += p.get(field, [])
    return out


def assert_same(what, ours, theirs):
    """Multisets equal; the message lists what each side has that the other has not."""
    a, b = collections.Counter(ours), collections.Counter(theirs)
    assert a == b, "%s differ:\n  only in the sensor: %s\n  only in tshark:     %s" % (
        what, sorted((a - b).elements(), key=str), sorted((b - a).elements(), key=str))


def assert_subset(what, ours, theirs):
    """tshark's set is contained in ours."""
    missing = set(theirs) - set(ours)
    assert not missing, "%s: tshark has %s, the sensor does not (sensor: %s)" % (
        what, sorted(missing, key=str), sorted(set(ours), key=str))


# ---------------------------------------------------------------------------------------------
# DICOM

DICOM_CASES = {
    "dicom-dcmtk": ["tcp.port==11112,dicom", "tcp.port==11113,dicom"],
    "dicom-orthanc": ["tcp.port==4242,dicom"],
}
DIMSE_CMD_RE = re.compile(r"^\s*\(0000,0100\)\s+\d+\s+Command Field\s+(\S+)\s*$", re.M)
SOP_CLASS_RE = re.compile(r"^\s*\(0000,0002\)\s+\d+\s+Affected SOP Class UID\s+([0-9.]+)", re.M)


@pytest.mark.parametrize("name", sorted(DICOM_CASES))
def test_dicom_association_ae_titles(name):
    case = case_dir(name)
    ours = sensor_events(case, "dicom")
    rq = tshark(case, ["dicom.assoc.ae.calling", "dicom.assoc.ae.called"], "dicom.pdu.type == 1",
                DICOM_CASES[name])
    theirs = [(p["dicom.assoc.ae.calling"][0].strip(), p["dicom.assoc.ae.called"][0].strip())
              for p in rq]
    assert_same("%s: A-ASSOCIATE-RQ (calling AE, called AE)" % name,
                [(e.get("calling_ae"), e.get("called_ae")) for e in ours
                 if e.get("pdu") == "A-ASSOCIATE-RQ"], theirs)
    ac = tshark(case, ["dicom.assoc.ae.calling"], "dicom.pdu.type == 2", DICOM_CASES[name])
    assert_same("%s: A-ASSOCIATE-AC count" % name,
                ["AC" for e in ours if e.get("pdu") == "A-ASSOCIATE-AC"], ["AC" for _ in ac])


@pytest.mark.parametrize("name", sorted(DICOM_CASES))
def test_dicom_dimse_commands_and_sop_classes(name):
    case = case_dir(name)
    ours = sensor_events(case, "dicom")
    text = tshark(case, [], "dicom", DICOM_CASES[name], ["dicom.tag_tree:TRUE"], verbose=True)
    theirs_cmds = DIMSE_CMD_RE.findall(text)
    assert theirs_cmds, "%s: tshark shows no DIMSE Command Field" % name
    assert_same("%s: DIMSE commands" % name,
                [e["command"] for e in ours if "command" in e], theirs_cmds)
    assert_same("%s: affected SOP class UIDs (one per DIMSE message)" % name,
                [e.get("affected_sop_class") for e in ours if "command" in e],
                SOP_CLASS_RE.findall(text))


# ---------------------------------------------------------------------------------------------
# HL7 over MLLP (port 2575: tshark's hl7 dissector takes it without decode-as)


def test_hl7_msh_fields():
    case = case_dir("hl7-mllp")
    ours = sensor_events(case, "hl7")
    pkts = tshark(case, ["hl7.message.type", "hl7.event.type", "hl7.segment"], "hl7")
    theirs = []
    for p in pkts:
        msh = [s for s in p["hl7.segment"] if s.startswith("MSH")]
        assert len(msh) == 1, p
        f = msh[0].rstrip("\r").replace("\\r", "").split("|")
        # f[0] is "MSH", f[1] the encoding characters: MSH-n is f[n - 1].
        theirs.append((p["hl7.message.type"][0], p["hl7.event.type"][0], f[9], f[2], f[4]))
    assert_same("HL7 (message type, trigger event, control id, sending app, receiving app)",
                [(e.get("message_type"), e.get("trigger_event"), e.get("control_id"),
                  e.get("sending_application"), e.get("receiving_application")) for e in ours],
                theirs)


# ---------------------------------------------------------------------------------------------
# DNS

DNS_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
             33: "SRV", 255: "ANY"}
DNS_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}


def test_dns_questions():
    case = case_dir("dns-resolver")
    ours = sensor_events(case, "dns")
    pkts = tshark(case, ["dns.qry.name", "dns.qry.type", "dns.flags.response", "dns.flags.rcode",
                         "dns.id"], "dns")
    q_theirs, a_theirs = [], []
    for p in pkts:
        # A TCP segment may carry several messages: tshark lists each field once per message.
        for i, name in enumerate(p["dns.qry.name"]):
            t = DNS_TYPES.get(int(p["dns.qry.type"][i], 0), p["dns.qry.type"][i])
            if p["dns.flags.response"][i] == "0":
                q_theirs.append((int(p["dns.id"][i], 0), name, t))
            else:
                a_theirs.append((int(p["dns.id"][i], 0), name, t,
                                 DNS_RCODES.get(int(p["dns.flags.rcode"][i], 0))))
    assert_same("DNS queries (id, name, type)",
                [(e.get("id"), e.get("rrname"), e.get("rrtype")) for e in ours
                 if e.get("type") == "query"], q_theirs)
    assert_same("DNS answers (id, name, type, rcode)",
                [(e.get("id"), e.get("rrname"), e.get("rrtype"), e.get("rcode")) for e in ours
                 if e.get("type") == "answer"], a_theirs)


# ---------------------------------------------------------------------------------------------
# TLS (8443 is not a registered TLS port: tshark decodes it only by heuristics, which miss
# some connections, so it is named)

TLS_DECODE = ["tcp.port==8443,tls"]

def test_tls_client_hello_sni_ja3():
    case = case_dir("tls-openssl")
    ours = sensor_events(case, "tls")
    hellos = tshark(case, ["tls.handshake.extensions_server_name", "tls.handshake.ja3"],
                    "tls.handshake.type == 1", TLS_DECODE)
    mine = [e for e in ours if e.get("event") == "client_hello" or "sni" in e]
    assert_same("TLS ClientHello SNI", [e.get("sni") for e in mine],
                values(hellos, "tls.handshake.extensions_server_name"))
    if not any("tls.handshake.ja3" in p for p in hellos):
        pytest.skip("this tshark has no tls.handshake.ja3")
    assert_same("TLS ClientHello JA3 hash", [(e.get("ja3") or {}).get("hash") for e in mine],
                values(hellos, "tls.handshake.ja3"))


def test_tls_server_hello_version_ja3s():
    case = case_dir("tls-openssl")
    ours = sensor_events(case, "tls")
    hellos = tshark(case, ["tls.handshake.version", "tls.handshake.extensions.supported_version",
                           "tls.handshake.ja3s"], "tls.handshake.type == 2", TLS_DECODE)
    names = {"0x0301": "TLS 1.0", "0x0302": "TLS 1.1", "0x0303": "TLS 1.2", "0x0304": "TLS 1.3"}
    theirs = [names[(p.get("tls.handshake.extensions.supported_version") or
                     p["tls.handshake.version"])[0]] for p in hellos]
    mine = [e for e in ours if e.get("event") == "server_hello"]
    assert_same("TLS ServerHello negotiated version", [e.get("version") for e in mine], theirs)
    if any("tls.handshake.ja3s" in p for p in hellos):
        assert_same("TLS ServerHello JA3S hash",
                    [(e.get("ja3s") or {}).get("hash") for e in mine],
                    values(hellos, "tls.handshake.ja3s"))


# ---------------------------------------------------------------------------------------------
# HTTP (FHIR)

PHI_RE = re.compile(r"phi:[0-9a-f]{32}")


def normalise_uri(uri):
    """What the sensor is meant to print for a request URI: query-string values dropped (keys
    kept), FHIR Patient ids pseudonymised (compared here as <phi>)."""
    path, sep, query = uri.partition("?")
    path = re.sub(r"(/Patient/)[^/?]+", r"\1<phi>", path)
    if sep:
        query = "&".join(kv.split("=", 1)[0] + ("=" if "=" in kv else "")
                         for kv in query.split("&"))
    return path + sep + query


HTTP_CASES = ["http-fhir", "dicom-orthanc"]


@pytest.mark.parametrize("name", HTTP_CASES)
def test_http_requests(name):
    case = case_dir(name)
    ours = sensor_events(case, "http")
    reqs = tshark(case, ["http.host", "http.request.method", "http.request.uri"],
                  "http.request")
    theirs = [(p["http.host"][0], p["http.request.method"][0],
               normalise_uri(p["http.request.uri"][0])) for p in reqs]
    mine = [(e.get("hostname"), e.get("http_method"), PHI_RE.sub("<phi>", e.get("url", "")))
            for e in ours]
    assert_same("%s: HTTP requests (host, method, uri)" % name, mine, theirs)
    resps = tshark(case, ["http.response.code"], "http.response")
    assert_same("%s: HTTP response status codes" % name, [e.get("status") for e in ours],
                [int(c) for c in values(resps, "http.response.code")])


def test_http_fhir_patient_id_pseudonymised():
    """The id in /fhir/Patient/123 comes out as phi:<32 hex>, never in clear."""
    case = case_dir("http-fhir")
    ours = sensor_events(case, "http")
    urls = [e.get("url", "") for e in ours if "/Patient/" in e.get("url", "")]
    assert urls, "no /fhir/Patient/<id> request among %r" % [e.get("url") for e in ours]
    for u in urls:
        assert PHI_RE.search(u) and "/Patient/123" not in u, u


# ---------------------------------------------------------------------------------------------
# SMB2


def test_smb2_shares_and_files():
    case = case_dir("smb-samba")
    ours = sensor_events(case, "smb2")
    trees = tshark(case, ["smb2.tree", "smb2.nt_status"],
                   "smb2.cmd == 3 && smb2.flags.response == 0")
    assert_same("SMB2 shares (TREE_CONNECT requests)",
                [e.get("share") for e in ours if e.get("command") ==
                 "SMB2_COMMAND_TREE_CONNECT"], values(trees, "smb2.tree"))
    creates = tshark(case, ["smb2.filename"], "smb2.cmd == 5 && smb2.flags.response == 0")
    theirs_files = {f.lstrip("\\") for f in values(creates, "smb2.filename") if f}
    assert theirs_files, "tshark shows no file name in CREATE requests"
    assert_subset("SMB2 file names opened (CREATE)",
                  {e["filename"].lstrip("\\") for e in ours if e.get("filename")}, theirs_files)
    # The rename target travels in SET_INFO (FileRenameInformation).
    renames = tshark(case, ["smb2.filename"], "smb2.cmd == 17 && smb2.flags.response == 0")
    assert_subset("SMB2 rename targets (SET_INFO)",
                  {e["filename"].lstrip("\\") for e in ours if e.get("filename")} |
                  {(e.get("rename_to") or e.get("new_filename") or "").lstrip("\\")
                   for e in ours},
                  {f.lstrip("\\") for f in values(renames, "smb2.filename") if f})


def test_smb2_session_setup():
    case = case_dir("smb-samba")
    ours = sensor_events(case, "smb2")
    auth = tshark(case, ["ntlmssp.auth.username", "ntlmssp.auth.domain",
                         "ntlmssp.auth.hostname"], "ntlmssp.messagetype == 3")
    theirs = [(p["ntlmssp.auth.domain"][0], p["ntlmssp.auth.username"][0],
               p["ntlmssp.auth.hostname"][0]) for p in auth]
    mine = [((e.get("ntlmssp") or {}).get("domain"), (e.get("ntlmssp") or {}).get("user"),
             (e.get("ntlmssp") or {}).get("host")) for e in ours
            if e.get("command") == "SMB2_COMMAND_SESSION_SETUP" and e.get("ntlmssp")]
    assert_same("SMB2 NTLMSSP AUTHENTICATE (domain, user, host)", mine, theirs)
    # The final status of each session setup: the wrong password is STATUS_LOGON_FAILURE.
    resp = tshark(case, ["smb2.nt_status"],
                  "smb2.cmd == 1 && smb2.flags.response == 1 && smb2.nt_status != 0xc0000016")
    assert_same("SMB2 SESSION_SETUP final status codes",
                [int(e["status_code"], 16) for e in ours
                 if e.get("command") == "SMB2_COMMAND_SESSION_SETUP"],
                [int(s, 16) for s in values(resp, "smb2.nt_status")])


# ---------------------------------------------------------------------------------------------
# RDP


def test_rdp_x224_cookie_and_negotiation():
    case = case_dir("rdp-x224")
    ours = sensor_events(case, "rdp")
    reqs = tshark(case, ["rdp.rt_cookie", "rdp.negReq.requestedProtocols"],
                  "rdp.rt_cookie || rdp.negReq.requestedProtocols")
    theirs = [(p.get("rdp.rt_cookie", [""])[0].replace("Cookie: mstshash=", "").strip(),
               int(p["rdp.negReq.requestedProtocols"][0], 16)) for p in reqs]
    assert_same("RDP X.224 Connection Request (cookie, requested protocols)",
                [(e.get("cookie"), e.get("requested_protocols_raw")) for e in ours
                 if e.get("type") == "connect_request"], theirs)
    rsps = tshark(case, ["rdp.negReq.selectedProtocol"], "rdp.negReq.selectedProtocol")
    names = {0: "rdp", 1: "ssl", 2: "hybrid", 4: "rdstls", 8: "hybrid_ex"}
    assert_same("RDP X.224 Connection Confirm selected protocol",
                [e.get("selected_protocol") for e in ours if e.get("type") == "connect_confirm"],
                [names[int(v, 16)] for v in values(rsps, "rdp.negReq.selectedProtocol")])
