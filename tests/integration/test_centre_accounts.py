# SPDX-License-Identifier: Apache-2.0
"""The centre's accounts against SQLite and PostgreSQL: init, login sessions with CSRF, login
rate limiting, API tokens and their scopes, organisations and users and who may manage them, the
append-only audit log, /healthz and /metrics, and bad input answered with clear 4xx errors."""

import json
import socket
import sqlite3
import subprocess

from centre import PASSWORD, Client, run


def test_init_refuses_twice(centre):
    p = centre.cli("init", "--name", "Again", "--country", "CZ", "--email", "x@y.example",
                   "--password-file", centre.pwfile, check=False)
    assert p.returncode == 1
    assert "initialised already" in p.stderr


def test_init_generates_a_password_and_prints_how_to_log_in(tmp_path):
    db = str(tmp_path / "new.db")
    p = run("centre", "init", "--db", db, "--name", "CSIRT", "--country", "DE", "--email",
            "first@csirt.example")
    assert "password: " in p.stdout and "iaso centre serve --db" in p.stdout
    password = p.stdout.split("password: ")[1].split()[0]
    assert len(password) >= 16
    # the printed password works: hash check through the CLI path is not exposed, so log in
    from centre import Centre
    c = Centre.__new__(Centre)
    c.db, c.dir, c.proc = db, str(tmp_path), None
    c.start()
    try:
        assert c.client().login("first@csirt.example", password).status == 200
    finally:
        c.stop()


def test_cli_errors_are_clear(centre):
    p = centre.cli("org", "add", "--name", "X", "--kind", "castle", "--country", "CZ",
                   check=False)
    assert p.returncode == 1 and "kind must be one of" in p.stderr
    p = centre.cli("org", "add", "--name", "X", "--kind", "hospital", "--country", "cz",
                   check=False)
    assert p.returncode == 1 and "ISO 3166-1" in p.stderr
    p = centre.cli("user", "add", "--org", "1", "--email", "short@x.example", "--name", "S",
                   "--role", "viewer", "--password-file", "/dev/null", check=False)
    assert p.returncode == 1 and "empty" in p.stderr
    p = centre.cli("frobnicate", check=False)
    assert p.returncode == 2


def test_login_sets_a_hardened_session_cookie(centre):
    c = centre.client()
    r = c.login("reporter@a.example")
    assert r.status == 200, r
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    me = c.get("/api/v1/me").json()
    assert me["email"] == "reporter@a.example" and me["role"] == "reporter"
    assert me["org"]["name"] == "Hospital A" and me["via"] == "session"


def test_session_writes_need_the_csrf_token(centre):
    c = centre.client()
    assert c.login("reporter@a.example").status == 200
    csrf, c.csrf = c.csrf, None
    r = c.post("/api/v1/tokens", {"name": "t"})
    assert r.status == 403 and "CSRF" in r.json()["error"]["message"]
    c.csrf = "iaso_" + "x" * 43
    assert c.post("/api/v1/tokens", {"name": "t"}).status == 403
    c.csrf = csrf
    assert c.post("/api/v1/tokens", {"name": "t"}).status == 201


def test_logging_in_again_over_a_live_session(centre):
    c = centre.client()
    assert c.login("viewer@a.example").status == 200
    old = next(k.value for k in c.jar if k.name == "iaso_session")
    c.csrf = None  # the login form has no CSRF token yet
    assert c.login("reporter@a.example").status == 200
    assert c.get("/api/v1/me").json()["email"] == "reporter@a.example"
    # the session it replaced is ended
    stale = Client(centre.base)
    assert stale.get("/api/v1/me", headers={"Cookie": "iaso_session=" + old}).status == 401


def test_logout_ends_the_session(centre):
    c = centre.client()
    c.login("viewer@a.example")
    assert c.post("/api/v1/auth/logout").status == 204
    assert c.get("/api/v1/me").status == 401


def test_wrong_password_and_unknown_user_look_the_same(centre):
    c = centre.client()
    r1 = c.login("reporter@b.example", "wrong password!!")
    r2 = c.login("nobody@b.example", "wrong password!!")
    assert r1.status == r2.status == 401
    assert r1.json()["error"]["message"] == r2.json()["error"]["message"]


def test_login_is_rate_limited_per_account(centre):
    c = centre.client()
    for _ in range(5):
        assert c.login("helper@b.example", "not the password").status == 401
    r = c.login("helper@b.example")  # even the right password waits now
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    assert "try again" in r.json()["error"]["message"]
    assert centre.client().login("viewer@b.example").status == 200  # others are not affected


def test_disabled_user_cannot_log_in_and_loses_sessions(centre):
    c = centre.client()
    assert c.login("viewer@help.example").status == 200
    centre.cli("user", "disable", "--id", str(centre.users["help/viewer"]))
    assert c.get("/api/v1/me").status == 401
    assert centre.client().login("viewer@help.example").status == 401
    centre.cli("user", "enable", "--id", str(centre.users["help/viewer"]))
    assert centre.client().login("viewer@help.example").status == 200


def test_tokens_scopes_expiry_and_revocation(centre):
    read = centre.token("a/admin", "read")
    c = centre.client(read)
    assert c.get("/api/v1/me").json()["scopes"] == "read"
    assert c.post("/api/v1/tokens", {"name": "x"}).status == 403  # needs write
    assert c.get("/api/v1/users").status == 403  # needs admin
    full = centre.client(centre.token("a/admin"))
    assert full.get("/api/v1/users").status == 200
    # bad, unknown and revoked tokens
    assert centre.client("iaso_nope").get("/api/v1/me").status == 401
    assert centre.client("iaso_" + "A" * 43).get("/api/v1/me").status == 401
    r = full.post("/api/v1/tokens", {"name": "short-lived", "scopes": ["read"]})
    assert r.status == 201, r
    tok = r.json()
    assert centre.client(tok["token"]).get("/api/v1/me").status == 200
    listed = full.get("/api/v1/tokens").json()["items"]
    mine = [t for t in listed if t["id"] == tok["id"]]
    assert len(mine) == 1 and mine[0]["prefix"] == tok["token"][:12]
    assert mine[0]["last_used_at"] is not None  # used once just above
    assert all("hash" not in t and "token" not in t for t in listed)
    assert full.delete(f"/api/v1/tokens/{tok['id']}").status == 204
    assert centre.client(tok["token"]).get("/api/v1/me").status == 401
    # a reporter cannot mint an admin token, nor revoke someone else's token
    rep = centre.client(centre.token("a/reporter", "read,write"))
    assert rep.post("/api/v1/tokens", {"name": "x", "scopes": ["admin"]}).status == 403
    assert rep.delete(f"/api/v1/tokens/{tok['id']}").status == 404
    # expiry in the past is refused
    r = full.post("/api/v1/tokens", {"name": "old", "expires_at": "2001-01-01T00:00:00Z"})
    assert r.status == 400


def test_the_command_line_keeps_the_same_token_rules(centre):
    rep = str(centre.users["b/reporter"])
    p = centre.cli("token", "create", "--user", rep, "--name", "x", "--scopes", "read,admin",
                   check=False)
    assert p.returncode == 1 and "only admins" in p.stderr
    p = centre.cli("token", "create", "--user", rep, "--name", "x", "--kind", "enrol",
                   check=False)
    assert p.returncode == 1 and "enrolment" in p.stderr
    p = centre.cli("token", "create", "--user", str(centre.users["b/admin"]), "--name", "sensor",
                   "--kind", "enrol")
    assert p.stdout.strip().split()[-1].startswith("iaso_")
    r = centre.client(centre.token("b/reporter", "read,write")).post(
        "/api/v1/tokens", {"name": "s", "kind": "enrol"})
    assert r.status == 403 and "enrolment" in r.json()["error"]["message"]


def test_tokens_are_stored_only_as_digests(centre):
    tok = centre.token("b/analyst", "read")
    if centre.db.startswith("postgres"):
        out = subprocess.run(["psql", "-At", centre.db, "-c", "SELECT hash, prefix FROM tokens"],
                             capture_output=True, text=True, check=True).stdout
    else:
        con = sqlite3.connect(centre.db)
        out = "\n".join("|".join(r) for r in con.execute("SELECT hash, prefix FROM tokens"))
        con.close()
    assert tok not in out and tok[:12] in out


def test_organisations(centre):
    admin = centre.client(centre.token("csirt/admin"))
    r = admin.post("/api/v1/orgs", {"name": "Clinic C", "kind": "clinic", "country": "SK",
                                    "region": "Žilina", "csirt_id": centre.orgs["csirt"]})
    assert r.status == 201, r
    org = r.json()
    assert org["region"] == "Žilina" and r.headers["Location"] == f"/api/v1/orgs/{org['id']}"
    assert admin.post("/api/v1/orgs", {"name": "Clinic C", "kind": "clinic",
                                       "country": "SK"}).status == 409
    r = admin.patch(f"/api/v1/orgs/{org['id']}", {"region": "Trenčín"})
    assert r.status == 200 and r.json()["region"] == "Trenčín"
    # a hospital's admin may not create or change organisations
    hadmin = centre.client(centre.token("a/admin"))
    assert hadmin.post("/api/v1/orgs", {"name": "Mine", "kind": "clinic",
                                        "country": "CZ"}).status == 403
    assert hadmin.patch(f"/api/v1/orgs/{org['id']}", {"region": "x"}).status == 403
    # everyone logged in can list them (to share incidents)
    names = [o["name"] for o in centre.client(centre.token("b/viewer", "read"))
             .get("/api/v1/orgs").json()["items"]]
    assert "Clinic C" in names and "Hospital A" in names
    assert centre.client().get("/api/v1/orgs").status == 401


def test_users_are_managed_within_the_organisation(centre):
    hadmin = centre.client(centre.token("a/admin"))
    r = hadmin.post("/api/v1/users", {"email": "new@a.example", "name": "New",
                                      "role": "reporter", "password": PASSWORD})
    assert r.status == 201, r
    uid = r.json()["id"]
    assert r.json()["org_id"] == centre.orgs["a"]
    # not into another organisation
    r = hadmin.post("/api/v1/users", {"org_id": centre.orgs["b"], "email": "evil@b.example",
                                      "name": "E", "role": "admin", "password": PASSWORD})
    assert r.status == 403
    # other organisations' users are invisible
    assert hadmin.get(f"/api/v1/users?org_id={centre.orgs['b']}").status == 403
    assert hadmin.get(f"/api/v1/users/{centre.users['b/reporter']}").status == 404
    assert centre.client(centre.token("b/admin")).get(f"/api/v1/users/{uid}").status == 404
    got = hadmin.get(f"/api/v1/users/{uid}").json()
    assert got["email"] == "new@a.example" and got["org_name"] == "Hospital A"
    assert "password_hash" not in got and "password" not in got
    # role change and password change by the org admin
    r = hadmin.patch(f"/api/v1/users/{uid}", {"role": "viewer"})
    assert r.status == 200 and r.json()["role"] == "viewer"
    assert hadmin.patch(f"/api/v1/users/{centre.users['a/admin']}",
                        {"role": "viewer"}).status == 403  # not oneself
    # short passwords are refused
    r = hadmin.patch(f"/api/v1/users/{uid}", {"password": "short"})
    assert r.status == 400 and "password" in r.json()["error"]["message"]
    # a reporter is not an admin
    rep = centre.client(centre.token("a/reporter", "read,write"))
    assert rep.get("/api/v1/users").status == 403
    # the centre's admin manages every organisation
    cadmin = centre.client(centre.token("csirt/admin"))
    assert cadmin.get(f"/api/v1/users?org_id={centre.orgs['b']}").status == 200


def test_own_password_change(centre):
    c = centre.client()
    c.login("analyst@help.example")
    r = c.post("/api/v1/me/password", {"old_password": "nope nope nope",
                                       "new_password": "another long password"})
    assert r.status == 403
    r = c.post("/api/v1/me/password", {"old_password": PASSWORD,
                                       "new_password": "another long password"})
    assert r.status == 204
    assert c.get("/api/v1/me").status == 401  # sessions end with a new password
    assert centre.client().login("analyst@help.example", "another long password").status == 200


def test_audit_log_records_writes_and_cannot_be_changed(centre):
    cadmin = centre.client(centre.token("csirt/admin"))
    cadmin.post("/api/v1/orgs", {"name": "Audited Lab", "kind": "laboratory", "country": "AT"})
    items = cadmin.get("/api/v1/audit?limit=500").json()["items"]
    create = [i for i in items if i["action"] == "org.create"
              and i["detail"].get("name") == "Audited Lab"]
    assert len(create) == 1
    e = create[0]
    assert e["user_id"] == centre.users["csirt/admin"] and e["peer"] == "127.0.0.1"
    assert any(i["action"] == "org.create" and i["peer"] == "cli" for i in items)
    # no API edits it
    for m in ("PUT", "PATCH", "DELETE", "POST"):
        assert cadmin.request(m, "/api/v1/audit", {}).status == 405
    # nor does SQL: the database refuses changes to it
    if centre.db.startswith("postgres"):
        p = subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", centre.db, "-c",
                            "UPDATE audit SET action = 'x'"], capture_output=True, text=True)
        assert p.returncode != 0 and "append-only" in p.stderr
    else:
        con = sqlite3.connect(centre.db)
        try:
            con.execute("DELETE FROM audit")
            raise AssertionError("audit rows deleted")
        except sqlite3.DatabaseError as ex:
            assert "append-only" in str(ex)
        finally:
            con.close()
    # a hospital admin sees only their organisation's lines
    own = centre.client(centre.token("a/admin")).get("/api/v1/audit").json()["items"]
    assert all(i["org_id"] == centre.orgs["a"] for i in own)


def test_health_metrics_and_headers(centre):
    c = centre.client()
    r = c.get("/healthz")
    assert r.status == 200 and r.json() == {"status": "ok"}
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    m = c.get("/metrics")
    assert m.status == 200 and m.headers["Content-Type"].startswith("text/plain")
    text = m.payload.decode()
    assert "# TYPE iaso_http_requests_total counter" in text
    assert "iaso_http_request_duration_seconds_bucket" in text
    ui = c.get("/")
    assert ui.status == 200 and "default-src 'self'" in ui.headers["Content-Security-Policy"]


def test_bad_input_is_a_clear_4xx_and_writes_nothing(centre):
    cadmin = centre.client(centre.token("csirt/admin"))
    before = len(cadmin.get("/api/v1/orgs").json()["items"])
    cases = [
        (dict(raw=b"{not json"), 400, "bad_json"),
        (dict(raw=b'{"name": "A", "name": "B"}'), 400, "bad_json"),
        (dict(raw=b"[1,2]"), 400, "bad_field"),
        (dict(body={"name": "X", "kind": "clinic", "country": "CZ", "colour": "red"}), 400,
         "bad_field"),
        (dict(body={"name": 7, "kind": "clinic", "country": "CZ"}), 400, "bad_field"),
        (dict(body={"name": "X", "kind": "clinic"}), 400, "bad_field"),
        (dict(body={"name": "", "kind": "clinic", "country": "CZ"}), 400, "bad_field"),
        (dict(body={"name": "X" * 201, "kind": "clinic", "country": "CZ"}), 400, "bad_field"),
        (dict(body={"name": "X", "kind": "clinic", "country": "CZ", "csirt_id": "1"}), 400,
         "bad_field"),
        (dict(body={"name": "X", "kind": "clinic", "country": "CZ", "csirt_id": 99999}), 400,
         "bad_field"),
        (dict(raw=b'{"name": "X", "kind": "clinic", "country": "CZ"}', ctype="text/plain"), 415,
         None),
    ]
    for kw, status, code in cases:
        r = cadmin.request("POST", "/api/v1/orgs", **{k: v for k, v in kw.items()})
        assert r.status == status, (kw.get("body") or kw.get("raw")[:60], r)
        err = r.json()["error"]
        assert err["status"] == status and err["message"]
        if code:
            assert err["code"] == code
    # an oversize body is refused from its Content-Length, before it is read
    host, port = centre.base.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                  b"\r\nAuthorization: Bearer " + cadmin.token.encode() +
                  b"\r\nContent-Length: 900000000\r\n\r\n{")
        reply = s.recv(65536).decode()
    assert reply.startswith("HTTP/1.1 413"), reply
    assert '"status":413' in reply
    assert len(cadmin.get("/api/v1/orgs").json()["items"]) == before
    # SQL metacharacters are data, stored verbatim
    name = "Robert'); DROP TABLE orgs; --"
    r = cadmin.post("/api/v1/orgs", {"name": name, "kind": "clinic", "country": "CZ"})
    assert r.status == 201 and r.json()["name"] == name
    assert cadmin.get(f"/api/v1/orgs/{r.json()['id']}").json()["name"] == name
    # unknown paths, methods and ids
    assert cadmin.get("/api/v1/nothing").status == 404
    assert cadmin.request("PUT", "/api/v1/orgs").status == 405
    assert cadmin.get("/api/v1/orgs/abc").status == 404
    assert cadmin.get("/api/v1/orgs/999999").status == 404


def test_unauthenticated_requests(centre):
    c = centre.client()
    for path in ("/api/v1/me", "/api/v1/orgs", "/api/v1/users", "/api/v1/audit"):
        r = c.get(path)
        assert r.status == 401 and r.json()["error"]["code"] == "unauthenticated"
    assert Client(centre.base).request("GET", "/api/v1/me",
                                       headers={"Authorization": "Basic eDp5"}).status == 401
    json.dumps(None)


def test_https_with_secure_cookies(tmp_path):
    """--tls-cert/--tls-key serve HTTPS, and the session cookie is then Secure. (The refusal of
    TLS 1.0 and 1.1 is tested in tests/unit/centre/test-http.c with curl.)"""
    import ssl
    import urllib.request
    from centre import Centre
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    c = Centre(str(tmp_path / "tls.db"))
    c.start("--tls-cert", str(cert), "--tls-key", str(key))
    try:
        assert c.base.startswith("https://")
        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.check_hostname = False
        req = urllib.request.Request(c.base + "/api/v1/auth/login", method="POST",
                                     data=json.dumps({"email": "admin@csirt.example",
                                                      "password": PASSWORD}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            assert r.status == 200
            assert "; Secure" in r.headers["Set-Cookie"]
    finally:
        c.cleanup()


def test_connection_flood_is_bounded_and_passes(tmp_path):
    """400 connections that send nothing, against --conns-max 16 and --idle-timeout 2s: the
    server holds at most 16, its memory stays flat, and once the idle ones are closed by the
    timeout it answers again without a restart."""
    import time
    from centre import Centre
    c = Centre(str(tmp_path / "flood.db"))
    c.start("--conns-max", "16", "--idle-timeout", "2s")
    host, port = c.base.split("//")[1].split(":")

    def rss_kib():
        for line in open(f"/proc/{c.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    try:
        before = rss_kib()
        held = []
        for _ in range(400):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((host, int(port)))
            held.append(s)
        time.sleep(4)  # past the idle timeout: the server has closed the ones it took
        assert c.proc.poll() is None
        assert rss_kib() < before + 32 * 1024
        for s in held:
            s.close()
        deadline = time.time() + 20
        while True:
            try:
                r = c.client().get("/healthz")
                if r.status == 200:
                    break
            except OSError:
                pass
            assert time.time() < deadline, "the centre did not recover from the flood"
            time.sleep(0.2)
    finally:
        c.cleanup()
