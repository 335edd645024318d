# SPDX-License-Identifier: Apache-2.0
"""Durability: the centre is killed with SIGKILL in the middle of a stream of writes from
several clients; after a restart on the same database every write that was acknowledged (201)
is there, whole, and the database is intact. Against SQLite and PostgreSQL."""

import signal
import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone

from centre import Client


def body(i):
    aware = (datetime.now(timezone.utc) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"kind": "cyber", "title": f"durability {i}", "tlp": "AMBER", "nis2": True,
            "aware_at": aware, "summary": "x" * (i % 500),
            "classification": {"class": "malicious-code", "type": "infected-system"}}


def test_acknowledged_writes_survive_sigkill(centre):
    token = centre.token("a/reporter", "read,write")
    acked, lock, stop = {}, threading.Lock(), threading.Event()

    def writer(w):
        c = Client(centre.base, token)
        i = 0
        while not stop.is_set():
            i += 1
            try:
                r = c.post("/api/v1/incidents", body(w * 100000 + i))
            except OSError:
                return  # the server is gone: this write was never acknowledged
            if r.status == 201:
                with lock:
                    acked[r.json()["id"]] = w * 100000 + i
            elif r.status >= 500:
                return
            else:
                raise AssertionError(r)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    centre.proc.send_signal(signal.SIGKILL)
    centre.proc.wait()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acked) > 20, f"only {len(acked)} writes before the kill"

    if not centre.db.startswith("postgres"):
        con = sqlite3.connect(centre.db)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()

    centre.start()
    c = Client(centre.base, token)
    missing = []
    for iid, n in sorted(acked.items()):
        r = c.get(f"/api/v1/incidents/{iid}")
        if r.status != 200 or r.json()["title"] != f"durability {n}":
            missing.append((iid, r.status))
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged writes lost: {missing[:5]}"
    # every acknowledged write also left its audit line
    admin = Client(centre.base, centre.token("csirt/admin"))
    created, before = set(), None
    while True:
        page = admin.get("/api/v1/audit?limit=1000" +
                         (f"&before_id={before}" if before else "")).json()
        created |= {e["object_id"] for e in page["items"] if e["action"] == "incident.create"}
        before = page["next_before_id"]
        if not before:
            break
    assert set(acked) <= created
