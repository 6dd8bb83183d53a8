"""Test settings: the production settings module, with test-only environment defaults.

DATABASE_URL and REDIS_URL come from the environment (make test points them at
the local PostgreSQL and Redis); tasks run eagerly unless a test starts a real
worker (see tests/e2e).
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdefghijklmnop")
os.environ.setdefault("RAMPART_ENCRYPTION_KEYS", "3mOeFbpSJ8Ie6ecRYNwIzyDYuS_Jpwke8HMQX5bQ1HU=")
os.environ.setdefault("RAMPART_HTTPS", "0")
# Tests sign in with force_login, which skips the second factor: the MFA tests choose their policy.
os.environ.setdefault("RAMPART_MFA_REQUIRED", "none")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("RAMPART_DATA_DIR", tempfile.mkdtemp(prefix="rampart-test-"))
# Workers started by this test run see only this run's tasks, even on a shared Redis.
os.environ.setdefault("RAMPART_BROKER_KEY_PREFIX", f"rampart-test-{os.getpid()}:")

from posture.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never in production
CELERY_TASK_ALWAYS_EAGER = True
# Every scope, exports and ingest too: on SQLite token ids start again at 1 in each test, so on a
# shared Redis the production export budget (30/hour) of "token-1" ran out across tests and runs.
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        "anon": "10000/min",
        "user": "10000/min",
        "export": "10000/min",
        "ingest": "10000/min",
    },
}
# Serve static files straight from static/ (no collectstatic step in tests).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
RAMPART_SCAN_RETRY_DELAYS = [0, 0]  # retries without waiting
# One test database per test process, so that several runs on one machine (developers,
# benchmarks, CI) never drop each other's database.
DATABASES["default"]["TEST"] = {  # noqa: F405
    "NAME": os.environ.get("RAMPART_TEST_DATABASE_NAME") or f"test_rampart_{os.getpid()}"
}
