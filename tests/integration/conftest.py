# SPDX-License-Identifier: Apache-2.0
"""Every integration test runs the sensor with one fixed site key, so pseudonyms in golden
outputs are the same on every machine, and no test writes /var/lib/iaso."""
import os
import tempfile

_dir = tempfile.mkdtemp(prefix="iaso-test-key-")
_key = os.path.join(_dir, "site.key")
with open(_key, "wb") as f:
    f.write(bytes(range(32)))
os.chmod(_key, 0o600)
os.environ["IASO_SITE_KEY"] = _key


# ---- the centre: every centre test runs against SQLite and against a real PostgreSQL ----

import pytest  # noqa: E402

from centre import Centre, PgServer  # noqa: E402


@pytest.fixture(scope="session")
def pg():
    server = PgServer()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def centre_db(request, tmp_path_factory):
    """A fresh, empty database address for each backend (one per test module)."""
    if request.param == "sqlite":
        return str(tmp_path_factory.mktemp("centre") / "centre.db")
    return request.getfixturevalue("pg").new_db()


@pytest.fixture(scope="module")
def centre(centre_db):
    """A populated, running centre: the CSIRT operator (csirt), hospitals a and b in its
    constituency, a helper company (help) outside it, users of every role in each. Shared by
    the tests of one module, which must not depend on each other's data."""
    c = Centre(centre_db)
    c.add_org("a", "Hospital A", "hospital")
    c.add_org("b", "Hospital B", "hospital")
    c.add_org("help", "Helper Co", "helper", csirt=False)
    for org in ("csirt", "a", "b", "help"):
        for role in ("reporter", "analyst", "admin", "helper", "viewer"):
            if (org, role) != ("csirt", "admin"):
                c.add_user(org, role)
    c.start()
    yield c
    c.cleanup()
