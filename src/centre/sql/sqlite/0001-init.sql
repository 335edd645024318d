-- SPDX-License-Identifier: Apache-2.0
-- The centre's first schema (SQLite). Times are Unix seconds UTC. TLP is stored as its rank:
-- 0 CLEAR, 1 GREEN, 2 AMBER, 3 AMBER+STRICT, 4 RED, so "at most AMBER" is `tlp <= 2`.
-- Keep in step with ../postgres/0001-init.sql: same tables, same columns, same meaning.

CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('hospital', 'clinic', 'ambulance', 'laboratory',
                                       'authority', 'csirt', 'helper')),
    country TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    csirt_id INTEGER REFERENCES orgs(id),
    is_operator INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reporter', 'analyst', 'admin', 'helper', 'viewer')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_login_at INTEGER
) STRICT;
CREATE INDEX users_org ON users(org_id);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL CHECK (kind IN ('api', 'enrol')),
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    last_used_at INTEGER
) STRICT;
CREATE INDEX tokens_user ON tokens(user_id);

CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    peer TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    user_id INTEGER,
    org_id INTEGER,
    peer TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id INTEGER,
    detail TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_at ON audit(at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL CHECK (kind IN ('cyber', 'violence')),
    title TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('reported', 'triaged', 'responding', 'recovering',
                                           'closed')),
    tlp INTEGER NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    nis2 INTEGER NOT NULL DEFAULT 0,
    country TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    occurred_at INTEGER,
    aware_at INTEGER,
    detail TEXT NOT NULL,
    restricted TEXT NOT NULL DEFAULT '{}',
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER,
    version INTEGER NOT NULL DEFAULT 1,
    -- the next NIS2 deadline, kept by incident.c from nis2_clock() so lists filter on it in SQL
    nis2_next_stage TEXT,
    nis2_next_due_at INTEGER
) STRICT;
CREATE INDEX incidents_org ON incidents(org_id, id);
CREATE INDEX incidents_tlp ON incidents(tlp, id);
CREATE INDEX incidents_status ON incidents(status, id);
CREATE INDEX incidents_nis2_due ON incidents(nis2_next_due_at);

CREATE TABLE incident_shares (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    shared_by INTEGER NOT NULL REFERENCES users(id),
    shared_at INTEGER NOT NULL,
    PRIMARY KEY (incident_id, org_id)
) STRICT;
CREATE INDEX incident_shares_org ON incident_shares(org_id, incident_id);

CREATE TABLE incident_events (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    at INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    body TEXT NOT NULL
) STRICT;
CREATE INDEX incident_events_incident ON incident_events(incident_id, id);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX attachments_incident ON attachments(incident_id);

CREATE TABLE nis2_reports (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    stage TEXT NOT NULL CHECK (stage IN ('early_warning', 'notification', 'intermediate',
                                         'progress', 'final')),
    requested_at INTEGER,
    due_at INTEGER,
    sent_at INTEGER,
    sent_by INTEGER REFERENCES users(id),
    content TEXT NOT NULL DEFAULT '{}',
    feedback TEXT,
    feedback_at INTEGER,
    feedback_by INTEGER REFERENCES users(id)
) STRICT;
CREATE INDEX nis2_reports_incident ON nis2_reports(incident_id);
-- Early warning, notification and final report are sent once; intermediate and progress reports
-- (and the CSIRT's requests for them) may repeat.
CREATE UNIQUE INDEX nis2_reports_once ON nis2_reports(incident_id, stage)
    WHERE stage IN ('early_warning', 'notification', 'final');
