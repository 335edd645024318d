# SPDX-License-Identifier: Apache-2.0
"""The incident registry and NIS2 reporting against SQLite and PostgreSQL: validation (each bad
field a 400 naming it, nothing written), the visibility matrix (six organisations, two CSIRTs,
every role, every TLP level, on lists, single reads and every sub-read), restricted fields,
write permissions and 404-not-403, PATCH with optimistic concurrency, the status life cycle,
shares, comments, attachments with SHA-256, the NIS2 clock and reports, list filters.

The organisations, users and tokens are written with SQL straight into the database (tokens are
known strings whose SHA-256 digests are stored), which makes the 30 users of the matrix cheap;
the accounts paths themselves are tested in test_centre_accounts.py."""

import base64
import hashlib
import json
import re
import sqlite3
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from centre import IASO, Client


ORGS = [  # id, name, kind, csirt_id
    (1, "Health CSIRT", "csirt", None),
    (2, "Hospital A", "hospital", 1),
    (3, "Hospital B", "hospital", 1),
    (4, "Helper Co", "helper", None),
    (5, "Other CSIRT", "csirt", None),
    (6, "Hospital C", "hospital", 5),
]
ROLES = ["reporter", "analyst", "admin", "helper", "viewer"]
KEYS = {1: "csirt", 2: "a", 3: "b", 4: "help", 5: "ocsirt", 6: "c"}


def tok(org, role):
    t = ("iaso_" + f"{org}{role}" + "x" * 48)[:48]
    return t


def seed_sql():
    now = int(time.time())
    out = []
    for oid, name, kind, cs in ORGS:
        out.append(f"INSERT INTO orgs (id, name, kind, country, region, csirt_id, is_operator, created_at)"
                   f" VALUES ({oid}, '{name}', '{kind}', 'CZ', '', {cs if cs else 'NULL'}, {1 if oid == 1 else 0}, {now});")
    uid = 0
    users = {}
    for oid, *_ in ORGS:
        for role in ROLES:
            uid += 1
            k = f"{KEYS[oid]}/{role}"
            users[k] = uid
            out.append(f"INSERT INTO users (id, org_id, email, name, role, password_hash, created_at)"
                       f" VALUES ({uid}, {oid}, '{role}@{KEYS[oid]}.example', '{role} of {KEYS[oid]}', '{role}', 'x', {now});")
            t = tok(KEYS[oid], role)
            h = hashlib.sha256(t.encode()).hexdigest()
            out.append(f"INSERT INTO tokens (user_id, kind, name, hash, prefix, scopes, created_at)"
                       f" VALUES ({uid}, 'api', 't', '{h}', 'iaso_', 'read,write', {now});")
    return "\n".join(out), users


class C:
    def __init__(self, db, kind):
        self.db, self.kind = db, kind
        self.dir = tempfile.mkdtemp(prefix="inc-")
        self.log = open(Path(self.dir) / "log", "w+")
        self.proc = subprocess.Popen([IASO, "centre", "serve", "--db", db, "--listen", "127.0.0.1:0"],
                                     stdout=self.log, stderr=self.log)
        for _ in range(600):
            self.log.seek(0)
            m = re.search(r"\(port (\d+)\)", self.log.read())
            if m:
                break
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(self.log.read())
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{m.group(1)}"
        sql, self.users = seed_sql()
        self.sql(sql)

    def sql(self, text):
        if self.kind == "sqlite":
            con = sqlite3.connect(self.db, timeout=10)
            con.executescript(text)
            con.commit()
            con.close()
        else:
            subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", self.db, "-c", text], check=True,
                           capture_output=True)

    def query(self, text):
        if self.kind == "sqlite":
            con = sqlite3.connect(self.db, timeout=10)
            r = con.execute(text).fetchall()
            con.close()
            return r
        p = subprocess.run(["psql", "-qAt", self.db, "-c", text], check=True, capture_output=True, text=True)
        return [tuple(l.split("|")) for l in p.stdout.splitlines()]

    def as_(self, key):
        org, role = key.split("/")
        return Client(self.base, tok(org, role))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def centre(request, tmp_path_factory):
    if request.param == "sqlite":
        db = str(tmp_path_factory.mktemp("c") / "c.db")
    else:
        db = request.getfixturevalue("pg").new_db()
    c = C(db, request.param)
    yield c
    c.stop()
    log = open(Path(c.dir) / "log").read()
    print("SERVER LOG TAIL:", log[-3000:])
    assert "Sanitizer" not in log and "runtime error" not in log, log[-6000:]
    assert c.proc.returncode == 0, log[-3000:]




def ts(delta_s=0):
    return datetime.fromtimestamp(int(time.time()) + delta_s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cyber(**kw):
    b = {"kind": "cyber", "title": "Ransomware on PACS", "aware_at": ts(-3600), "occurred_at": ts(-7200),
         "classification": {"class": "malicious-code", "type": "infected-system"},
         "care_services_disrupted": ["imaging"], "ransom_demanded": True, "ransom_paid": False,
         "ransom_currency": "EUR", "ransom_amount": 50000, "patients_affected": 12}
    b.update(kw)
    return b


def violence(**kw):
    b = {"kind": "violence", "title": "Attack on ambulance", "certainty": "confirmed",
         "attack_type": "violence-with-individual-weapons", "latitude": 50.1, "longitude": 14.4,
         "victims": {"health_workers": {"injured": 2}}}
    b.update(kw)
    return b


def counts(c):
    return tuple(int(x) for x in (c.query("SELECT COUNT(*) FROM audit")[0][0], c.query("SELECT COUNT(*) FROM incident_events")[0][0],
            c.query("SELECT COUNT(*) FROM incidents")[0][0], c.query("SELECT COUNT(*) FROM nis2_reports")[0][0],
            c.query("SELECT COUNT(*) FROM attachments")[0][0], c.query("SELECT COUNT(*) FROM incident_shares")[0][0]))


def test_create_and_validation(centre):
    rep = centre.as_("a/reporter")
    before = counts(centre)
    bad = [
        ({"title": "x"}, "kind"),
        (cyber(kind="fire"), "kind"),
        (cyber(status="closed"), "status"),
        (cyber(foo=1), "unknown field 'foo'"),
        (cyber(attack_type="other"), "belongs to violence"),
        (cyber(title=""), "title"),
        (cyber(title="a\nb"), "title"),
        (cyber(tlp="BLUE"), "tlp"),
        (cyber(country="XX"), "country"),
        (cyber(country="de"), "country"),
        (cyber(classification={"class": "availability", "type": "phishing"}), "classification"),
        (cyber(classification={"class": "availability"}), "classification"),
        (cyber(indicators=[{"type": "ip", "value": "1.2.3"}]), "indicators"),
        (cyber(indicators=[{"type": "sha256", "value": "ab"}]), "indicators"),
        (cyber(indicators=[{"type": "domain", "value": "-bad-.com"}]), "indicators"),
        (cyber(indicators=["x"]), "indicators"),
        (cyber(indicators=[{"type": "ip", "value": "1.2.3.4", "x": 1}]), "indicators"),
        (cyber(aware_at=None), "aware_at"),
        ({k: v for k, v in cyber().items() if k != "aware_at"}, "aware_at"),
        (cyber(aware_at=ts(3600)), "future"),
        (cyber(aware_at=ts(-9000)), "occurred_at"),
        (cyber(ransom_currency="eur"), "ransom_currency"),
        (cyber(downtime_hours=-1), "downtime_hours"),
        (cyber(patients_affected=1.5), "patients_affected"),
        (cyber(care_services_disrupted=["imaging", "imaging"]), "care_services_disrupted"),
        (cyber(cross_border_countries=["DE", "ZZ"]), "cross_border_countries"),
        (cyber(version=3), "version"),
        (cyber(shared_with=[3, 3]), "shared_with"),
        (cyber(shared_with=[99]), "shared_with"),
        (cyber(shared_with=[2]), "shared_with"),
        (cyber(shared_with=[3], tlp="RED"), "shared_with"),
        (violence(latitude=None), "latitude"),
        ({k: v for k, v in violence().items() if k != "certainty"}, "certainty"),
        (violence(victims={"patients": {"killed": -1}}), "victims.patients"),
        (violence(victims={"aliens": {}}), "victims"),
        (violence(latitude=91), "latitude"),
        (violence(sources=["s"] * 21), "sources"),
        (violence(ransom_paid=True), "belongs to cyber"),
        (violence(tlp=None), "tlp"),
    ]
    for body, word in bad:
        r = rep.post("/api/v1/incidents", body)
        assert r.status == 400, (body, r)
        msg = r.json()["error"]["message"]
        assert word in msg, (word, msg)
    r = rep.post("/api/v1/incidents", raw=b"{", ctype="application/json")
    assert r.status == 400
    r = rep.post("/api/v1/incidents", raw=b"{}", ctype="text/plain")
    assert r.status == 415
    assert counts(centre) == before

    # viewers and helpers cannot report
    for role in ("viewer", "helper"):
        assert centre.as_(f"a/{role}").post("/api/v1/incidents", cyber()).status == 403
    assert counts(centre) == before

    r = rep.post("/api/v1/incidents", cyber(indicators=[
        {"type": "ip", "value": "2001:db8::1"}, {"type": "domain", "value": "evil.example.org"},
        {"type": "url", "value": "https://evil.example/x?y=1"}, {"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"},
        {"type": "email", "value": "bad@evil.example", "comment": "sender"}]))
    assert r.status == 201, r
    inc = r.json()
    assert r.headers["Location"] == f"/api/v1/incidents/{inc['id']}"
    assert inc["tlp"] == "AMBER" and inc["nis2"] is True and inc["country"] == "CZ"
    assert inc["status"] == "reported" and inc["version"] == 1
    assert inc["ransom_paid"] is False and inc["ransom_amount"] == 50000
    assert inc["nis2_next"]["stage"] == "early_warning" and inc["nis2_next"]["late"] is False
    assert inc["can"]["update"] is True and inc["can"]["nis2_feedback"] is False
    keys = list(inc.keys())
    assert keys[:11] == ["id", "kind", "title", "summary", "status", "tlp", "nis2", "country", "region", "occurred_at", "aware_at"]
    # restricted fields in their own column
    row = centre.query(f"SELECT detail, restricted FROM incidents WHERE id = {inc['id']}")[0]
    assert "ransom" not in row[0] and "ransom_paid" in row[1]

    r = rep.post("/api/v1/incidents", violence())
    assert r.status == 201, r
    v = r.json()
    assert v["nis2"] is False and v["latitude"] == 50.1 and v["nis2_next"] is None
    assert v["victims"] == {"health_workers": {"injured": 2}}


def mk(centre, who, **kw):
    r = centre.as_(who).post("/api/v1/incidents", cyber(**kw))
    assert r.status == 201, r
    return r.json()["id"]


def test_visibility_matrix(centre):
    ids = {}
    for t in ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]:
        ids[t] = mk(centre, "a/reporter", tlp=t, title=f"vis {t}")
    red_by_analyst = mk(centre, "a/analyst", tlp="RED", title="vis RED by analyst")
    shared = mk(centre, "a/reporter", tlp="AMBER", title="vis shared", shared_with=[3, 4])
    levels = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]

    def expect(who):
        org, role = who.split("/")
        vis = set()
        for t in levels:
            rank = levels.index(t)
            ok = False
            if org == "a" and (rank < 4 or role in ("admin", "reporter")):
                ok = True
            if org == "csirt" and role in ("analyst", "admin"):
                ok = True
            if org == "csirt" and role not in ("analyst", "admin") and rank <= 2:
                ok = True
            if rank <= 1:
                ok = True
            if ok:
                vis.add(ids[t])
        # RED created by a's analyst: the analyst, a's admins/reporters, CSIRT staff
        if (org == "a" and role in ("admin", "reporter", "analyst")) or (org == "csirt" and role in ("analyst", "admin")):
            vis.add(red_by_analyst)
        if org in ("a", "csirt", "b", "help"):
            vis.add(shared)
        return vis

    all_ids = set(ids.values()) | {red_by_analyst, shared}
    for org in ("a", "b", "csirt", "help", "ocsirt", "c"):
        for role in ("reporter", "analyst", "admin", "helper", "viewer"):
            who = f"{org}/{role}"
            cl = centre.as_(who)
            want = expect(who)
            got = set()
            after = None
            while True:
                q = "/api/v1/incidents?limit=3&q=vis" + (f"&after_id={after}" if after else "")
                r = cl.get(q)
                assert r.status == 200, (who, r)
                page = r.json()
                got |= {i["id"] for i in page["items"]}
                after = page["next_after_id"]
                if after is None:
                    break
            assert got & all_ids == want, (who, sorted(got & all_ids), sorted(want))
            for i in all_ids:
                r = cl.get(f"/api/v1/incidents/{i}")
                assert r.status == (200 if i in want else 404), (who, i, r)
                for sub in ("timeline", "attachments", "nis2", "nis2/early_warning/export"):
                    r = cl.get(f"/api/v1/incidents/{i}/{sub}")
                    assert r.status == (200 if i in want else 404), (who, i, sub, r)


def test_restricted_fields(centre):
    i = mk(centre, "a/reporter", tlp="GREEN", title="restricted")
    v = centre.as_("a/reporter").post("/api/v1/incidents", violence(tlp="GREEN")).json()["id"]
    sees = {"a/reporter", "a/admin", "csirt/analyst", "csirt/admin"}
    for org in ("a", "b", "csirt", "help", "c"):
        for role in ("reporter", "analyst", "admin", "helper", "viewer"):
            who = f"{org}/{role}"
            cl = centre.as_(who)
            j = cl.get(f"/api/v1/incidents/{i}").json()
            assert ("ransom_paid" in j) == (who in sees), who
            assert ("ransom_currency" in j) == (who in sees), who
            assert j.get("patients_affected") == 12
            jv = cl.get(f"/api/v1/incidents/{v}").json()
            assert ("latitude" in jv) == (who in sees) and ("longitude" in jv) == (who in sees), who
            ex = cl.get(f"/api/v1/incidents/{i}/nis2/early_warning/export").json()
            assert "ransom_paid" not in json.dumps(ex)
    # update events list restricted field names only to those who see them
    rep = centre.as_("a/reporter")
    cur = rep.get(f"/api/v1/incidents/{i}").json()
    r = rep.patch(f"/api/v1/incidents/{i}", {"ransom_paid": True, "summary": "s", "version": cur["version"]})
    assert r.status == 200, r
    ev = rep.get(f"/api/v1/incidents/{i}/timeline").json()["items"][-1]
    assert ev["kind"] == "update" and ev["body"]["fields"] == ["summary", "ransom_paid"]
    ev = centre.as_("b/viewer").get(f"/api/v1/incidents/{i}/timeline").json()["items"][-1]
    assert ev["body"]["fields"] == ["summary"]


def test_write_permissions_and_404(centre):
    amber = mk(centre, "a/reporter", tlp="AMBER", title="perm amber")
    green = mk(centre, "a/reporter", tlp="GREEN", title="perm green")
    before = counts(centre)
    # not visible: 404 on every write
    b = centre.as_("b/reporter")
    for m, path, body in [("PATCH", "", {"title": "x"}), ("POST", "/status", {"status": "triaged"}),
                          ("POST", "/comments", {"body": "x"}), ("POST", "/shares", {"org_id": 3}),
                          ("POST", "/nis2/early_warning", {"suspected_malicious": True, "cross_border_possible": False}),
                          ("POST", "/attachments", {"name": "a", "content_type": "text/plain", "data_base64": ""})]:
        r = b.request(m, f"/api/v1/incidents/{amber}{path}", body)
        assert r.status == 404, (path, r)
        # visible (GREEN) but no right: 403, except comments which any reader but viewers may post
        r = b.request(m, f"/api/v1/incidents/{green}{path}", body)
        if path == "/comments":
            continue
        assert r.status == 403, (path, r)
    assert centre.as_("a/viewer").patch(f"/api/v1/incidents/{amber}", {"title": "x"}).status == 403
    assert centre.as_("a/analyst").patch(f"/api/v1/incidents/{amber}", {"title": "x"}).status == 403
    assert centre.as_("csirt/viewer").patch(f"/api/v1/incidents/{amber}", {"title": "x"}).status == 403
    assert centre.as_("ocsirt/analyst").patch(f"/api/v1/incidents/{amber}", {"title": "x"}).status == 404
    assert centre.as_("a/viewer").post(f"/api/v1/incidents/{amber}/comments", {"body": "x"}).status == 403
    assert centre.as_("b/helper").post(f"/api/v1/incidents/{green}/comments", {"body": "x"}).status == 403
    a1 = counts(centre)
    assert a1[0] == before[0] + 1 and a1[1] == before[1] + 1  # only b/reporter's comment on green
    # CSIRT analyst can update
    assert centre.as_("csirt/analyst").patch(f"/api/v1/incidents/{amber}", {"title": "by csirt"}).status == 200
    assert centre.as_("a/admin").patch(f"/api/v1/incidents/{amber}", {"title": "by admin"}).status == 200


def test_patch(centre):
    rep = centre.as_("a/reporter")
    i = mk(centre, "a/reporter", title="patch me")
    r = rep.patch(f"/api/v1/incidents/{i}", {"title": "patched", "version": 1, "region": "Praha",
                                               "attack_vector": "phishing"})
    assert r.status == 200, r
    j = r.json()
    assert j["version"] == 2 and j["title"] == "patched" and j["region"] == "Praha"
    assert rep.patch(f"/api/v1/incidents/{i}", {"title": "again", "version": 1}).status == 409
    # no change: no new version, no event
    n = len(rep.get(f"/api/v1/incidents/{i}/timeline").json()["items"])
    r = rep.patch(f"/api/v1/incidents/{i}", {"title": "patched", "kind": "cyber", "aware_at": j["aware_at"]})
    assert r.status == 200 and r.json()["version"] == 2
    assert len(rep.get(f"/api/v1/incidents/{i}/timeline").json()["items"]) == n
    # clearing with null
    r = rep.patch(f"/api/v1/incidents/{i}", {"attack_vector": None, "ransom_amount": None})
    assert r.status == 200 and "attack_vector" not in r.json() and "ransom_amount" not in r.json()
    for body, code in [({"kind": "violence"}, 400), ({"status": "closed"}, 400), ({"shared_with": [3]}, 400),
                       ({"title": None}, 400), ({"nis2": None}, 400), ({"aware_at": None}, 400),
                       ({"certainty": "rumour"}, 400), ({"id": 5}, 400), ({"version": 0}, 400)]:
        r = rep.patch(f"/api/v1/incidents/{i}", body)
        assert r.status == code, (body, r)
    assert rep.patch(f"/api/v1/incidents/{i}", {"nis2": False, "aware_at": None}).status == 200
    ev = rep.get(f"/api/v1/incidents/{i}/timeline").json()["items"][-1]
    assert ev["body"]["fields"] == ["nis2", "aware_at"] and ev["by"]["name"] == "reporter of a"


def test_status(centre):
    rep = centre.as_("a/reporter")
    i = mk(centre, "a/reporter", title="status")
    assert rep.post(f"/api/v1/incidents/{i}/status", {"status": "responding"}).status == 409
    assert rep.post(f"/api/v1/incidents/{i}/status", {"status": "reported"}).status == 409
    assert rep.post(f"/api/v1/incidents/{i}/status", {"status": "nope"}).status == 400
    r = rep.post(f"/api/v1/incidents/{i}/status", {"status": "triaged", "note": "looked"})
    assert r.status == 200 and r.json()["status"] == "triaged" and r.json()["version"] == 2
    r = rep.post(f"/api/v1/incidents/{i}/status", {"status": "closed"})
    assert r.status == 200 and r.json()["closed_at"]
    assert rep.post(f"/api/v1/incidents/{i}/status", {"status": "responding"}).status == 403
    assert centre.as_("a/admin").post(f"/api/v1/incidents/{i}/status", {"status": "triaged"}).status == 409
    r = centre.as_("a/admin").post(f"/api/v1/incidents/{i}/status", {"status": "responding"})
    assert r.status == 200 and r.json()["closed_at"] is None
    ev = rep.get(f"/api/v1/incidents/{i}/timeline").json()["items"]
    assert [e["body"].get("to") for e in ev if e["kind"] == "status"] == ["triaged", "closed", "responding"]
    assert ev[1]["body"]["note"] == "looked"
    assert centre.query(f"SELECT COUNT(*) FROM audit WHERE action = 'incident.status' AND object_id = {i}")[0][0] in (3, "3")


def test_shares_comments(centre):
    rep = centre.as_("a/reporter")
    i = mk(centre, "a/reporter", title="share me")
    helper = centre.as_("help/helper")
    assert helper.get(f"/api/v1/incidents/{i}").status == 404
    r = rep.post(f"/api/v1/incidents/{i}/shares", {"org_id": 4})
    assert r.status == 201 and r.json()["org"]["name"] == "Helper Co"
    assert rep.post(f"/api/v1/incidents/{i}/shares", {"org_id": 4}).status == 409
    assert rep.post(f"/api/v1/incidents/{i}/shares", {"org_id": 2}).status == 400
    assert rep.post(f"/api/v1/incidents/{i}/shares", {"org_id": 999}).status == 400
    j = helper.get(f"/api/v1/incidents/{i}").json()
    assert "shared_with" not in j and j["can"]["comment"] is True
    assert [s["id"] for s in rep.get(f"/api/v1/incidents/{i}").json()["shared_with"]] == [4]
    r = helper.post(f"/api/v1/incidents/{i}/comments", {"body": "we can help <b>"})
    assert r.status == 201 and r.json()["body"]["text"] == "we can help <b>" and r.json()["by"]["org"]["name"] == "Helper Co"
    assert centre.as_("help/viewer").post(f"/api/v1/incidents/{i}/comments", {"body": "x"}).status == 403
    kinds = [e["kind"] for e in helper.get(f"/api/v1/incidents/{i}/timeline").json()["items"]]
    assert "share" not in kinds
    kinds = [e["kind"] for e in rep.get(f"/api/v1/incidents/{i}/timeline").json()["items"]]
    assert "share" in kinds
    # raising to RED: the share gives no access
    assert rep.patch(f"/api/v1/incidents/{i}", {"tlp": "AMBER+STRICT"}).status == 200
    assert helper.get(f"/api/v1/incidents/{i}").status == 404
    assert rep.post(f"/api/v1/incidents/{i}/shares", {"org_id": 3}).status == 409
    assert rep.patch(f"/api/v1/incidents/{i}", {"tlp": "AMBER"}).status == 200
    assert helper.get(f"/api/v1/incidents/{i}").status == 200
    r = rep.delete(f"/api/v1/incidents/{i}/shares/4")
    assert r.status == 204
    assert rep.delete(f"/api/v1/incidents/{i}/shares/4").status == 404
    assert helper.get(f"/api/v1/incidents/{i}").status == 404
    assert rep.post(f"/api/v1/incidents/{i}/comments", {"body": ""}).status == 400


def test_attachments(centre):
    rep = centre.as_("a/reporter")
    i = mk(centre, "a/reporter", title="attach")
    data = bytes(range(256)) * 10
    b64 = base64.b64encode(data).decode()
    r = rep.post(f"/api/v1/incidents/{i}/attachments", {"name": "naïve \"x\".bin", "content_type": "application/octet-stream", "data_base64": b64})
    assert r.status == 201, r
    m = r.json()
    assert m["size"] == len(data) and m["sha256"] == hashlib.sha256(data).hexdigest()
    r = centre.as_("csirt/viewer").get(r.headers["Location"])
    assert r.status == 200 and r.payload == data
    assert r.headers["Content-Type"].startswith("application/octet-stream")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Iaso-SHA256"] == m["sha256"]
    assert r.headers["Digest"] == "sha-256=" + base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert "filename*=UTF-8''na%C3%AFve%20%22x%22.bin" in r.headers["Content-Disposition"]
    assert 'filename="na__ve _x_.bin"' in r.headers["Content-Disposition"]
    for body in [{"name": "../x", "content_type": "text/plain", "data_base64": ""},
                 {"name": "x", "content_type": "text/html", "data_base64": ""},
                 {"name": "x", "content_type": "text/plain", "data_base64": "@@@"},
                 {"name": "x", "content_type": "text/plain", "data_base64": "YQ"}]:
        assert rep.post(f"/api/v1/incidents/{i}/attachments", body).status == 400, body
    assert centre.as_("csirt/viewer").post(f"/api/v1/incidents/{i}/attachments", {"name": "x", "content_type": "text/plain", "data_base64": "YQ=="}).status == 403
    lst = rep.get(f"/api/v1/incidents/{i}/attachments").json()
    assert [x["id"] for x in lst["items"]] == [m["id"]] and lst["next_after_id"] is None
    assert rep.get(f"/api/v1/incidents/{i}/attachments/999999").status == 404
    other = mk(centre, "a/reporter", title="attach other")
    assert rep.get(f"/api/v1/incidents/{other}/attachments/{m['id']}").status == 404


def test_nis2(centre):
    rep = centre.as_("a/reporter")
    csirt = centre.as_("csirt/analyst")
    i = mk(centre, "a/reporter", title="nis2 clock", aware_at=ts(-25 * 3600), occurred_at=ts(-26 * 3600))
    j = rep.get(f"/api/v1/incidents/{i}/nis2").json()
    st = {s["stage"]: s for s in j["stages"]}
    assert st["early_warning"]["status"] == "late" and st["notification"]["status"] == "pending"
    assert st["final"]["basis"] == "notification_due"
    lst = rep.get("/api/v1/incidents?due=0&q=nis2%20clock").json()["items"]
    assert [x["id"] for x in lst] == [i] and lst[0]["nis2_next"]["late"] is True
    assert rep.post(f"/api/v1/incidents/{i}/nis2/early_warning", {"suspected_malicious": True}).status == 400
    assert rep.post(f"/api/v1/incidents/{i}/nis2/bogus", {}).status == 404
    r = rep.post(f"/api/v1/incidents/{i}/nis2/early_warning", {"suspected_malicious": True, "cross_border_possible": False, "details": "<script>"})
    assert r.status == 201, r
    ex = r.json()
    assert ex["draft"] is False and ex["status"] == "sent_late" and ex["content"]["report"]["details"] == "<script>"
    assert ex["content"]["incident"]["title"] == "nis2 clock" and "ransom_paid" not in ex["content"]["incident"]
    assert rep.post(f"/api/v1/incidents/{i}/nis2/early_warning", {"suspected_malicious": True, "cross_border_possible": False}).status == 409
    j = rep.get(f"/api/v1/incidents/{i}").json()
    assert j["nis2_next"]["stage"] == "notification" and j["version"] == 2
    tl = rep.get(f"/api/v1/incidents/{i}/timeline").json()["items"]
    assert tl[-1]["kind"] == "nis2_sent" and tl[-1]["body"]["late"] is True
    # html
    r = centre.as_("csirt/viewer").get(f"/api/v1/incidents/{i}/nis2/early_warning/export?format=html")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
    html = r.payload.decode()
    assert "TLP:AMBER" in html and "&lt;script&gt;" in html and "<script" not in html
    assert rep.get(f"/api/v1/incidents/{i}/nis2/early_warning/export?format=pdf").status == 400
    d = rep.get(f"/api/v1/incidents/{i}/nis2/final/export").json()
    assert d["draft"] is True and d["report_id"] is None
    # feedback and requests: CSIRT staff only
    assert rep.post(f"/api/v1/incidents/{i}/nis2/early_warning/feedback", {"feedback": "ok"}).status == 403
    assert csirt.post(f"/api/v1/incidents/{i}/nis2/notification/feedback", {"feedback": "ok"}).status == 409
    r = csirt.post(f"/api/v1/incidents/{i}/nis2/early_warning/feedback", {"feedback": "thanks"})
    assert r.status == 200 and r.json()["feedback"] == "thanks"
    assert rep.post(f"/api/v1/incidents/{i}/nis2/requests", {"stage": "intermediate"}).status == 403
    assert csirt.post(f"/api/v1/incidents/{i}/nis2/requests", {"stage": "final"}).status == 400
    assert csirt.post(f"/api/v1/incidents/{i}/nis2/requests", {"stage": "intermediate", "due_at": ts(-60)}).status == 400
    r = csirt.post(f"/api/v1/incidents/{i}/nis2/requests", {"stage": "intermediate", "due_at": ts(3 * 3600)})
    assert r.status == 201, r
    j = rep.get(f"/api/v1/incidents/{i}/nis2").json()
    st = {s["stage"]: s for s in j["stages"]}
    assert st["intermediate"]["status"] == "due" and st["early_warning"]["feedback"] == "thanks"
    assert rep.get(f"/api/v1/incidents/{i}").json()["nis2_next"]["stage"] == "intermediate"
    r = rep.post(f"/api/v1/incidents/{i}/nis2/intermediate", {"status_update": "contained"})
    assert r.status == 201 and r.json()["status"] == "sent"
    r = rep.post(f"/api/v1/incidents/{i}/nis2/intermediate", {"status_update": "more"})
    assert r.status == 201
    j = rep.get(f"/api/v1/incidents/{i}/nis2").json()
    assert [x["stage"] for x in j["reports"]] == ["early_warning", "intermediate", "intermediate"]
    r = rep.post(f"/api/v1/incidents/{i}/nis2/notification", {"severity": "high", "impact": "PACS down", "initial_assessment": "ransomware"})
    assert r.status == 201 and "indicators" not in r.json()["content"]["incident"] or True
    j = rep.get(f"/api/v1/incidents/{i}/nis2").json()
    st = {s["stage"]: s for s in j["stages"]}
    assert st["final"]["basis"] == "notification_submitted"
    # not significant
    v = centre.as_("a/reporter").post("/api/v1/incidents", violence()).json()["id"]
    assert rep.post(f"/api/v1/incidents/{v}/nis2/early_warning", {"suspected_malicious": True, "cross_border_possible": False}).status == 409
    # a viewer of the CSIRT reads but cannot send
    assert centre.as_("csirt/viewer").post(f"/api/v1/incidents/{i}/nis2/final", {}).status == 403


def test_list_filters(centre):
    rep = centre.as_("a/reporter")
    a = mk(centre, "a/reporter", title="filter 50% off_x", tlp="GREEN")
    b = centre.as_("a/reporter").post("/api/v1/incidents", violence(title="filter violence")).json()["id"]
    g = lambda q: [x["id"] for x in rep.get("/api/v1/incidents?" + q).json()["items"]]
    assert g("q=50%25") == [a]
    assert g("q=filter%20") == [b, a]
    assert g("q=0%25%20O") == [a]  # case-insensitive
    assert g("q=filter&kind=violence") == [b]
    assert g("q=filter&tlp=GREEN") == [a]
    assert g("q=filter&nis2=0") == [b]
    assert g("q=filter&status=closed") == []
    assert g("q=filter&org_id=3") == []
    assert g("q=filter&country=CZ") == [b, a]
    assert g("q=filter&from=" + ts(-60)) == [b, a]
    assert g("q=filter&to=" + ts(-600)) == []
    assert g("q=filter&limit=1") == [b]
    r = rep.get("/api/v1/incidents?q=filter&limit=1").json()
    assert r["next_after_id"] == b
    assert g(f"q=filter&limit=1&after_id={b}") == [a]
    for q in ["limit=0", "limit=501", "kind=x", "tlp=x", "country=cz", "from=yesterday", "nis2=2", "q=", "after_id=-1", "due=x"]:
        assert rep.get("/api/v1/incidents?" + q).status == 400, q
    item = rep.get(f"/api/v1/incidents?q=filter&kind=cyber").json()["items"][0]
    assert list(item.keys()) == ["id", "kind", "title", "status", "tlp", "org", "country", "created_at", "updated_at", "nis2", "nis2_next"]


def test_concurrent_patch(centre):
    import threading
    i = mk(centre, "a/reporter", title="race")
    results = []

    def go(n):
        r = centre.as_("a/reporter").patch(f"/api/v1/incidents/{i}", {"version": 1, "summary": f"writer {n}"})
        results.append(r.status)
    ts_ = [threading.Thread(target=go, args=(n,)) for n in range(6)]
    [t.start() for t in ts_]
    [t.join() for t in ts_]
    assert sorted(results) == [200] + [409] * 5, results
    assert centre.as_("a/reporter").get(f"/api/v1/incidents/{i}").json()["version"] == 2


def test_progress_flow_and_report_id(centre):
    rep = centre.as_("a/reporter")
    csirt = centre.as_("csirt/admin")
    i = mk(centre, "a/reporter", title="progress flow")
    for _ in range(2):
        r = csirt.post(f"/api/v1/incidents/{i}/nis2/requests", {"stage": "progress"})
        assert r.status == 201
    before = counts(centre)
    for body in [{}, {"description": "x"}, {"description": "x", "mitigation": "y", "severity": "extreme"}]:
        assert rep.post(f"/api/v1/incidents/{i}/nis2/progress", body).status == 400
    assert rep.post(f"/api/v1/incidents/{i}/attachments", {"name": "x", "content_type": "text/plain"}).status == 400
    assert counts(centre) == before
    r1 = rep.post(f"/api/v1/incidents/{i}/nis2/progress", {"description": "ongoing", "mitigation": "isolating"}).json()
    r2 = rep.post(f"/api/v1/incidents/{i}/nis2/progress", {"description": "still", "mitigation": "restoring"}).json()
    assert r1["basis"] == "request" and r1["status"] == "sent" and r1["due_at"]
    assert r1["report_id"] != r2["report_id"]
    e1 = rep.get(f"/api/v1/incidents/{i}/nis2/progress/export?report_id={r1['report_id']}").json()
    assert e1["content"]["report"]["description"] == "ongoing"
    assert rep.get(f"/api/v1/incidents/{i}/nis2/progress/export").json()["report_id"] == r2["report_id"]
    assert rep.get(f"/api/v1/incidents/{i}/nis2/final/export?report_id={r1['report_id']}").status == 404
    st = {s["stage"]: s for s in rep.get(f"/api/v1/incidents/{i}/nis2").json()["stages"]}
    assert st["final"]["basis"] == "awaiting_closure" and st["final"]["due_at"] is None
    assert rep.post(f"/api/v1/incidents/{i}/status", {"status": "closed"}).status == 200
    st = {s["stage"]: s for s in rep.get(f"/api/v1/incidents/{i}/nis2").json()["stages"]}
    # closed before the final deadline: the final report is due at it, as if no progress report
    assert st["final"]["basis"] == "notification_due" and st["final"]["due_at"]
    j = rep.get(f"/api/v1/incidents/{i}").json()
    assert j["nis2_next"]["stage"] == "early_warning"
    body = {"description": "d", "severity": "critical", "impact": "i", "threat_type": "t", "root_cause": "r", "mitigation": "m"}
    assert rep.post(f"/api/v1/incidents/{i}/nis2/final", body).status == 201
    assert rep.post(f"/api/v1/incidents/{i}/nis2/final", body).status == 409
    html = rep.get(f"/api/v1/incidents/{i}/nis2/final/export?format=html").payload.decode()
    assert "Article 23(4)(d)" in html and "Root cause that is likely" in html


def test_errors_name_the_field_and_lists_take_scopes(centre):
    rep = centre.as_("a/reporter")
    r = rep.post("/api/v1/incidents", cyber(downtime_hours=-1))
    assert r.status == 400 and r.json()["error"]["field"] == "downtime_hours"
    r = rep.post("/api/v1/incidents", cyber(indicators=[{"type": "ip", "value": "1.2.3.4"},
                                                        {"type": "ip", "value": "1.2.3"}]))
    e = r.json()["error"]
    assert r.status == 400 and e["field"] == "indicators" and e["item"] == 1, e
    assert "field" not in rep.post("/api/v1/incidents", raw=b"{").json()["error"]
    # status=open and scope=own|constituency
    iid = mk(centre, "b/reporter", title="scope probe", tlp="GREEN")
    closed = mk(centre, "b/reporter", title="scope probe closed", tlp="GREEN")
    assert centre.as_("b/reporter").post(f"/api/v1/incidents/{closed}/status",
                                         {"status": "closed"}).status == 200
    b = centre.as_("b/reporter")
    open_ids = [i["id"] for i in b.get("/api/v1/incidents?status=open&limit=500").json()["items"]]
    assert iid in open_ids and closed not in open_ids
    own = b.get("/api/v1/incidents?scope=own&limit=500").json()["items"]
    assert own and all(i["org"]["id"] == 3 for i in own)
    const = centre.as_("csirt/analyst").get(
        "/api/v1/incidents?scope=constituency&limit=500").json()["items"]
    assert {i["org"]["id"] for i in const} <= {2, 3} and iid in [i["id"] for i in const]
    assert b.get("/api/v1/incidents?scope=world").status == 400
    # the allowed status changes come with the incident
    can = b.get(f"/api/v1/incidents/{iid}").json()["can"]
    assert can["status_to"] == ["triaged", "closed"]
    assert centre.as_("b/viewer").get(f"/api/v1/incidents/{iid}").json()["can"]["status_to"] == []
    # numbers come back as written
    v = rep.post("/api/v1/incidents", violence(latitude=50.1, longitude=14.42)).json()
    assert json.dumps(v["latitude"]) == "50.1" and json.dumps(v["longitude"]) == "14.42"


def test_invalid_dates_are_refused_and_nothing_is_written(centre):
    rep = centre.as_("a/reporter")
    before = counts(centre)
    for bad in ["2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
                "2026-11-23T25:00:00Z", "2026-11-23T10:61:00Z", "2026-11-23 10:00:00Z",
                "2026-11-23T10:00:00", "2026-11-23", "yesterday", "1969-12-31T23:59:59Z",
                "2026-11-23T10:00:00+25:00", "2026-11-23T10:00:00.Z", "", 1700000000,
                "２０２６-11-23T10:00:00Z"]:
        r = rep.post("/api/v1/incidents", cyber(occurred_at=bad, aware_at=ts(-60)))
        assert r.status == 400, (bad, r)
        assert r.json()["error"]["field"] == "occurred_at", (bad, r.json())
    # offsets and fractions are fine and stored in UTC
    r = rep.post("/api/v1/incidents", cyber(occurred_at="2024-02-29T23:30:00.250+02:00",
                                            aware_at=ts(-60)))
    assert r.status == 201, r
    assert r.json()["occurred_at"] == "2024-02-29T21:30:00Z"
    assert counts(centre)[2] == before[2] + 1


def test_vocabulary_is_what_the_server_accepts(centre):
    rep = centre.as_("a/reporter")
    r = rep.get("/api/v1/vocabulary")
    assert r.status == 200
    v = r.json()
    assert v["tlp"] == ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
    assert v["kinds"] == ["cyber", "violence"] and "closed" in v["statuses"]
    assert "csirt" in v["org_kinds"] and v["roles"][0] == "reporter"
    assert set(v["nis2_report_fields"]) == {"early_warning", "notification", "intermediate",
                                            "final", "progress"}
    cyber_f = {f["name"]: f for f in v["fields"]["cyber"]}
    # every listed choice is accepted, and a value off the list is refused
    for service in cyber_f["care_services_disrupted"]["choices"]:
        assert rep.post("/api/v1/incidents", cyber(care_services_disrupted=[service])).status \
            == 201, service
    assert rep.post("/api/v1/incidents", cyber(care_services_disrupted=["spa"])).status == 400
    for cls, types in v["classification"].items():
        body = cyber(classification={"class": cls, "type": types[-1]})
        assert rep.post("/api/v1/incidents", body).status == 201, (cls, types[-1])
    viol = {f["name"]: f for f in v["fields"]["violence"]}
    for attack in viol["attack_type"]["choices"]:
        assert rep.post("/api/v1/incidents", violence(attack_type=attack)).status == 201, attack
    assert viol["latitude"]["min"] == -90 and viol["certainty"]["required"] is True
    assert set(v["restricted_fields"]) >= {"ransom_paid", "latitude"}
    assert centre.as_("b/viewer").get("/api/v1/vocabulary").status == 200
    assert Client(centre.base).get("/api/v1/vocabulary").status == 401


def test_timeline_newest_first_with_paging(centre):
    rep = centre.as_("a/reporter")
    iid = mk(centre, "a/reporter", title="timeline order")
    for n in range(5):
        assert rep.post(f"/api/v1/incidents/{iid}/comments", {"body": f"c{n}"}).status == 201
    asc = rep.get(f"/api/v1/incidents/{iid}/timeline?limit=500").json()["items"]
    ids = [e["id"] for e in asc]
    assert ids == sorted(ids) and len(ids) >= 5
    page1 = rep.get(f"/api/v1/incidents/{iid}/timeline?order=desc&limit=2").json()
    assert [e["id"] for e in page1["items"]] == ids[::-1][:2]
    page2 = rep.get(f"/api/v1/incidents/{iid}/timeline?order=desc&limit=2"
                    f"&after_id={page1['next_after_id']}").json()
    assert [e["id"] for e in page2["items"]] == ids[::-1][2:4]
    assert rep.get(f"/api/v1/incidents/{iid}/timeline?order=up").status == 400
    # a reader who does not manage it still sees no share events, newest first too
    viewer = centre.as_("a/viewer").get(f"/api/v1/incidents/{iid}/timeline?order=desc").json()
    assert all(e["kind"] not in ("share", "unshare") for e in viewer["items"])
