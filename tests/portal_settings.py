"""Settings of the portal's tests: the portal's own settings on a temporary state folder (each
test points them at its own folders), a quick Argon2 (still Argon2), `gtb run` in the request's
thread so that a test can wait for it."""

from __future__ import annotations

import os
import tempfile

from django.contrib.auth.hashers import Argon2PasswordHasher

_ROOT = tempfile.mkdtemp(prefix="gtb-portal-tests-")
_SAVED = {name: os.environ.get(name) for name in ("GTB_PORTAL_INPUTS", "GTB_PORTAL_OUTPUTS", "GTB_PORTAL_DB")}
os.environ.update(
    {
        "GTB_PORTAL_INPUTS": os.path.join(_ROOT, "inputs"),
        "GTB_PORTAL_OUTPUTS": os.path.join(_ROOT, "outputs"),
        "GTB_PORTAL_DB": os.path.join(_ROOT, "outputs", "gtb.duckdb"),
    }
)
from pipeline.portal.settings import *  # noqa: E402,F403

for _name, _value in _SAVED.items():  # the settings are read: leave the environment as it was
    if _value is None:
        os.environ.pop(_name, None)
    else:
        os.environ[_name] = _value


class QuickArgon2(Argon2PasswordHasher):
    """Argon2 with a small memory and time cost: the tests create many accounts."""

    time_cost = 1
    memory_cost = 256
    parallelism = 1


PASSWORD_HASHERS = ["tests.portal_settings.QuickArgon2"]
GTB_RUN_IN_PROCESS = True
