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
