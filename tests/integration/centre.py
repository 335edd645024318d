# SPDX-License-Identifier: Apache-2.0
"""Helpers for the centre's integration tests: a throwaway centre on SQLite or on a real
PostgreSQL (tests/pgserver, loopback only), organisations and users made with the command line,
and a small JSON client (urllib, no third-party packages)."""

import http.cookiejar
import json
import os
import re
import secrets
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IASO = os.environ.get("IASO_BIN", str(ROOT / "build/gcc/iaso"))
PASSWORD = "correct horse battery staple"


def run(*args, check=True, **kw):
    p = subprocess.run([IASO, *args], capture_output=True, text=True, timeout=120, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"iaso {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


class PgServer:
    """One PostgreSQL for a whole test session; each centre gets a fresh database in it."""

    def __init__(self):
        self.dir = None
        self.n = 0
        # tests/run starts one PostgreSQL for every test; reuse it when it is there.
        if os.environ.get("IASO_TEST_PG_URL"):
            self.url = os.environ["IASO_TEST_PG_URL"]
            return
        self.dir = tempfile.mkdtemp(prefix="iaso-pg-")
        p = subprocess.run([str(ROOT / "tests/pgserver"), "start", self.dir],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("tests/pgserver start failed: " + p.stderr)
        self.url = p.stdout.strip().splitlines()[-1]

    def new_db(self):
        self.n += 1
        name = f"iaso_t{os.getpid()}_{self.n}"
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", self.url, "-c",
                        f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=60)
        return re.sub(r"/[^/?]*(\?|$)", f"/{name}\\1", self.url, count=1) \
            if "/" in self.url.split("@")[-1] else self.url + "/" + name

    def stop(self):
        if not self.dir:
            return
        subprocess.run([str(ROOT / "tests/pgserver"), "stop", self.dir], capture_output=True,
                       timeout=120)
        subprocess.run(["rm", "-rf", self.dir])


class Client:
    """A JSON client holding a token or a session cookie (with its CSRF token)."""

    def __init__(self, base, token=None):
        self.base = base
        self.token = token
        self.csrf = None
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, method, path, body=None, raw=None, headers=None, ctype="application/json"):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None and ctype:
            req.add_header("Content-Type", ctype)
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        if self.csrf and method not in ("GET", "HEAD"):
            req.add_header("X-CSRF-Token", self.csrf)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with self.opener.open(req, timeout=30) as r:
                status, hdrs, payload = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, payload = e.code, e.headers, e.read()
        return Response(status, hdrs, payload)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, email, password=PASSWORD):
        r = self.post("/api/v1/auth/login", {"email": email, "password": password})
        if r.status == 200:
            self.csrf = r.json()["csrf_token"]
        return r


class Response:
    def __init__(self, status, headers, payload):
        self.status = status
        self.headers = headers
        self.payload = payload

    def json(self):
        return json.loads(self.payload)

    def __repr__(self):
        return f"<{self.status} {self.payload[:300]!r}>"


class Centre:
    """A running centre with a CSIRT (the operator), two hospitals in its constituency, a helper
    company, and users of every role, each with an API token of every scope."""

    def __init__(self, db):
        self.db = db
        self.dir = tempfile.mkdtemp(prefix="iaso-centre-")
        pw = Path(self.dir) / "pw"
        pw.write_text(PASSWORD + "\n")
        self.pwfile = str(pw)
        run("centre", "init", "--db", db, "--name", "Health CSIRT", "--country", "CZ",
            "--email", "admin@csirt.example", "--password-file", self.pwfile)
        self.orgs = {"csirt": 1}
        self.users = {"csirt/admin": 1}
        self.proc = None
        self.base = None

    def cli(self, *args, check=True):
        return run("centre", *args, "--db", self.db, check=check)

    def add_org(self, key, name, kind, country="CZ", csirt=True):
        args = ["org", "add", "--name", name, "--kind", kind, "--country", country]
        if csirt:
            args += ["--csirt", str(self.orgs["csirt"])]
        out = self.cli(*args).stdout
        self.orgs[key] = int(re.search(r"organisation (\d+)", out).group(1))
        return self.orgs[key]

    def add_user(self, org, role, email=None):
        email = email or f"{role}@{org}.example"
        out = self.cli("user", "add", "--org", str(self.orgs[org]), "--email", email,
                       "--name", f"{role} of {org}", "--role", role,
                       "--password-file", self.pwfile).stdout
        uid = int(re.search(r"user (\d+)", out).group(1))
        self.users[f"{org}/{role}"] = uid
        return uid

    def token(self, user_key, scopes="read,write,admin"):
        out = self.cli("token", "create", "--user", str(self.users[user_key]), "--name",
                       "test-" + secrets.token_hex(4), "--scopes", scopes).stdout
        return out.strip().split()[-1]

    def start(self, *extra):
        log = open(Path(self.dir) / "serve.log", "w+")
        self.log = log
        self.proc = subprocess.Popen([IASO, "centre", "serve", "--db", self.db, "--listen",
                                      "127.0.0.1:0", *extra], stderr=log, stdout=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            log.seek(0)
            m = re.search(r"\(port (\d+)\)", log.read())
            if m:
                scheme = "https" if "--tls-cert" in extra else "http"
                self.base = f"{scheme}://127.0.0.1:{m.group(1)}"
                return self
            if self.proc.poll() is not None:
                log.seek(0)
                raise RuntimeError("centre exited: " + log.read())
            time.sleep(0.05)
        raise RuntimeError("centre did not start")

    def client(self, token=None):
        return Client(self.base, token)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode if self.proc else 0
        self.proc = None
        return code

    def server_log(self):
        self.log.seek(0)
        return self.log.read()

    def cleanup(self):
        self.stop()
        subprocess.run(["rm", "-rf", self.dir])
