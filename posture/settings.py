"""Rampart settings: flat, from the environment only (see posture/env.py).

Secure behaviour is the default. The local demo (``make run``) opts out of
HTTPS-only cookies and redirects with ``DEBUG=1`` and ``RAMPART_HTTPS=0``.
"""

import secrets
from pathlib import Path

import dj_database_url

from posture.env import env_bool, env_int, env_int_list, env_int_mapping, env_json_object, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("RAMPART_DATA_DIR", str(BASE_DIR / ".data")))

DEBUG = env_bool("DEBUG", default=False)


def _local_secret(filename: str, make) -> str:
    """A secret kept in the data folder, for the local demo only."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / filename
    if not path.exists():
        path.write_text(make(), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


# Without DEBUG these must come from the environment. They are left empty
# rather than failing here so that database-free commands (scan_manifests)
# work anywhere; Django refuses an empty SECRET_KEY where it is used, and the
# system check in posture/checks.py reports missing encryption keys.
SECRET_KEY = env_str("SECRET_KEY") or ""
if not SECRET_KEY and DEBUG:
    SECRET_KEY = _local_secret("secret_key", lambda: secrets.token_urlsafe(50))

# Fernet keys, newest first; the first encrypts, all decrypt (rotation).
RAMPART_ENCRYPTION_KEYS = env_list("RAMPART_ENCRYPTION_KEYS")
if not RAMPART_ENCRYPTION_KEYS and DEBUG:
    RAMPART_ENCRYPTION_KEYS = [_local_secret("encryption_key", _fernet_key)]

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "accounts",
    "posture",
    "findings",
]

MIDDLEWARE = [
    "posture.health.HealthCheckMiddleware",  # first: probes need no host check, session or HTTPS
    "posture.request_id.RequestIdMiddleware",  # first: every response and log line gets the id
    "django.middleware.security.SecurityMiddleware",
    "posture.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.mfa_enforcement.MfaRequiredMiddleware",  # after auth, messages and htmx: uses all three
    "posture.middleware.HtmxLoginRedirectMiddleware",  # after HtmxMiddleware: reads request.htmx
]

ROOT_URLCONF = "posture.urls"
WSGI_APPLICATION = "posture.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "posture.context_processors.navigation",
            ],
        },
    },
]

# The embedded default is a SQLite file in the data folder; production sets
# DATABASE_URL=postgres://...
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'rampart.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.password_validation.MaximumLengthValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"  # the overview
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or DATA_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}


# Uploads: snapshots can be large; anything bigger is refused with a clear message.
RAMPART_MAX_SNAPSHOT_BYTES = env_int("RAMPART_MAX_SNAPSHOT_BYTES", 200 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security -----------------------------------------------------------------
HTTPS = env_bool("RAMPART_HTTPS", default=True)
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("RAMPART_BEHIND_PROXY", True) else None
)
# /healthz and /readyz are answered before SecurityMiddleware (posture.health), so no redirect exemption.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env_bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_TIMEOUT_SECONDS", 8 * 3600, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True  # the age above becomes an idle timeout
CSRF_COOKIE_SECURE = HTTPS
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

# --- Accounts and authentication ----------------------------------------------
# Who must use a second factor (TOTP): "none", "admins" (superusers, staff and
# team admins) or "all". Those users enrol right after their password step and
# are not logged in until they have. The local demo sets "none".
RAMPART_MFA_REQUIRED = (env_str("RAMPART_MFA_REQUIRED", "admins") or "admins").strip().lower()
if RAMPART_MFA_REQUIRED not in {"none", "admins", "all"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"RAMPART_MFA_REQUIRED must be none, admins or all, got {RAMPART_MFA_REQUIRED!r}"
    )
# The name authenticator apps show beside the account.
RAMPART_MFA_ISSUER = env_str("RAMPART_MFA_ISSUER", "Rampart") or "Rampart"
# Failed logins: a username (existing or not) is locked after this many
# failures within the window; a client address after the larger number.
RAMPART_LOGIN_MAX_FAILURES = env_int("RAMPART_LOGIN_MAX_FAILURES", 5, minimum=1)
RAMPART_LOGIN_IP_MAX_FAILURES = env_int("RAMPART_LOGIN_IP_MAX_FAILURES", 30, minimum=1)
RAMPART_LOGIN_FAILURE_WINDOW_SECONDS = env_int("RAMPART_LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1)
RAMPART_LOGIN_LOCKOUT_SECONDS = env_int("RAMPART_LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
# Single sign-on with OpenID Connect (accounts/oidc/): off unless an issuer is set. The
# values' shapes (issuer URL, client, team roles) are checked by the system checks in
# accounts/oidc/checks.py, which see the teams in the database.
# Compared character for character with the provider's own (a trailing slash matters).
RAMPART_OIDC_ISSUER = (env_str("RAMPART_OIDC_ISSUER") or "").strip()
RAMPART_OIDC_CLIENT_ID = (env_str("RAMPART_OIDC_CLIENT_ID") or "").strip()
RAMPART_OIDC_CLIENT_SECRET = env_str("RAMPART_OIDC_CLIENT_SECRET") or ""
RAMPART_OIDC_PROVIDER_NAME = (env_str("RAMPART_OIDC_PROVIDER_NAME") or "").strip() or "single sign-on"
RAMPART_OIDC_SCOPES = (env_str("RAMPART_OIDC_SCOPES") or "").split() or ["openid", "email", "profile"]
# Password login is refused for everyone but superusers (nobody is locked out by a provider outage).
RAMPART_OIDC_ONLY = env_bool("RAMPART_OIDC_ONLY", default=False)
RAMPART_OIDC_CREATE_USERS = env_bool("RAMPART_OIDC_CREATE_USERS", default=True)
RAMPART_OIDC_ALLOWED_DOMAINS = [
    domain.lower().lstrip("@") for domain in env_list("RAMPART_OIDC_ALLOWED_DOMAINS")
]
RAMPART_OIDC_GROUPS_CLAIM = (env_str("RAMPART_OIDC_GROUPS_CLAIM") or "").strip() or "groups"
# {"<group>": {"<team slug>": "viewer" | "engineer" | "admin"}}
RAMPART_OIDC_TEAM_ROLES = env_json_object("RAMPART_OIDC_TEAM_ROLES")
# The provider's own second factor counts as Rampart's even when its ID token does not say so (amr).
RAMPART_OIDC_TRUST_IDP_MFA = env_bool("RAMPART_OIDC_TRUST_IDP_MFA", default=False)
RAMPART_OIDC_TIMEOUT = env_int("RAMPART_OIDC_TIMEOUT", 10, minimum=1)  # seconds per request to the provider
# Logging out of Rampart after a single sign-on also ends the session at the provider, where it
# offers RP-initiated logout (its discovery names an end_session_endpoint).
RAMPART_OIDC_LOGOUT_AT_PROVIDER = env_bool("RAMPART_OIDC_LOGOUT_AT_PROVIDER", default=True)
# How many proxies append to X-Forwarded-For in front of Rampart; the client
# address is read that many entries from the right (0: the socket's peer).
RAMPART_PROXY_HOPS = env_int("RAMPART_PROXY_HOPS", 1 if SECURE_PROXY_SSL_HEADER else 0, minimum=0)

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # A read-only token never writes, on any endpoint (accounts.permissions).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.TokenScopePermission",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "posture.api.filters.FilterBackend",
        "posture.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["posture.api.parsers.LimitedJSONParser"],
    # Per client address when anonymous, per token (or per user for the browser session) otherwise.
    "DEFAULT_THROTTLE_CLASSES": [
        "posture.api.throttling.AddressRateThrottle",
        "posture.api.throttling.TokenRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("RAMPART_THROTTLE_ANON", "60/min"),
        "user": env_str("RAMPART_THROTTLE_USER", "1200/min"),
        "export": env_str("RAMPART_THROTTLE_EXPORT", "30/hour"),
        "ingest": env_str("RAMPART_THROTTLE_INGEST", "120/hour"),
    },
    "NUM_PROXIES": RAMPART_PROXY_HOPS,
    "EXCEPTION_HANDLER": "posture.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rampart API",
    "DESCRIPTION": "Kubernetes security posture: clusters, scans, findings, triage, trends, teams and "
    "notifications. "
    "Authenticate with a personal token (Authorization: Bearer rpt_...). Every error has one shape: "
    '{"error": {"code", "message", "fields"?}}.',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The interactive docs load their assets from this server (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "FindingStatusEnum": "findings.models.FindingStatus",
        "ScanStatusEnum": "posture.models.scans.ScanStatus",
        "SeverityEnum": "posture.api.schema.SEVERITY_CHOICES",
        "CategoryEnum": "posture.api.schema.CATEGORY_CHOICES",
        "NotificationEventEnum": "posture.models.notifications.NotificationEvent",
    },
    "GET_LIB_DOC_EXCLUDES": "posture.api.schema.docstrings_not_for_clients",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "posture.api.schema.add_error_responses",
    ],
}

# --- Celery -------------------------------------------------------------------
# Without REDIS_URL the tasks run in-process (the embedded default).
REDIS_URL = env_str("REDIS_URL") or None
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"  # a host, or kombu warns on every task
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
# A prefix for every broker key lets several Rampart installations (or test runs) share one Redis.
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"global_keyprefix": env_str("RAMPART_BROKER_KEY_PREFIX")} if env_str("RAMPART_BROKER_KEY_PREFIX") else {}
)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False  # a lost scan is failed by the reaper, not re-run blindly
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("RAMPART_SCAN_SOFT_TIME_LIMIT", 900, minimum=10)
CELERY_TASK_TIME_LIMIT = env_int("RAMPART_SCAN_TIME_LIMIT", 960, minimum=15)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Logging: structured enough to grep, never with credentials ----------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "posture.request_id.RequestIdLogFilter"},
        "client_errors": {"()": "posture.request_id.ClientErrorTracebackFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "client_errors"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Through the root handler and its filters only: Django's own DEBUG console handler would
        # print every refused request's traceback a second time.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# --- Findings -----------------------------------------------------------------
# Check settings for every cluster; a cluster's own settings override these. Shape:
# {"disabled": [ids], "enabled": [ids], "severity": {id: level}, "options": {"secret_max_age_days": 60}}
RAMPART_CHECK_SETTINGS = env_json_object("RAMPART_CHECK_SETTINGS")
RAMPART_MAX_RISK_ACCEPTANCE_DAYS = env_int("RAMPART_MAX_RISK_ACCEPTANCE_DAYS", 365, minimum=1)
# Days to fix a finding, by severity, counted from when it was first seen (or reopened).
RAMPART_SLA_DAYS = env_int_mapping(
    "RAMPART_SLA_DAYS", {"critical": 7, "high": 30, "medium": 90, "low": 180, "info": 365}
)
# Per-scan detail (uploaded snapshots, per-scan breakdowns) older than this is pruned;
# the summary rows that trends read are kept.
RAMPART_RETENTION_DAYS = env_int("RAMPART_RETENTION_DAYS", 400, minimum=7)
# Three queues so that workers on several machines can share the load:
# scans (heavy, long), maintenance (reaper, expiry, retention), notifications.
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_TASK_ROUTES = {
    "posture.tasks.run_scan_task": {"queue": "scans"},
    "posture.tasks.scheduled_scan_task": {"queue": "scans"},
    "notifications.*": {"queue": "notifications"},
}
CELERY_BEAT_SCHEDULE = {
    "reap-stale-scans": {"task": "posture.tasks.reap_stale_scans_task", "schedule": 300.0},
    "resume-due-pauses": {"task": "posture.tasks.resume_due_pauses_task", "schedule": 60.0},
    "expire-risk-acceptances": {"task": "findings.tasks.expire_risk_acceptances_task", "schedule": 900.0},
    "prune-old-detail": {"task": "posture.tasks.prune_old_detail_task", "schedule": 86400.0},
    "notifications-overdue-digest": {
        "task": "notifications.send_overdue_digests",
        "schedule": env_int("RAMPART_DIGEST_INTERVAL_SECONDS", 86400, minimum=60),
    },
    "notifications-agent-alerts": {
        "task": "notifications.send_agent_alerts",
        "schedule": env_int("RAMPART_DIGEST_INTERVAL_SECONDS", 86400, minimum=60),
    },
}
# Webhook deliveries that fail are retried after these delays (seconds; exponential), then given up.
RAMPART_NOTIFICATION_RETRY_DELAYS = env_int_list(
    "RAMPART_NOTIFICATION_RETRY_DELAYS", [30, 120, 600, 1800, 7200]
)
RAMPART_NOTIFICATION_TIMEOUT = env_int("RAMPART_NOTIFICATION_TIMEOUT", 10, minimum=1)  # seconds per request
# Webhooks to loopback, private and link-local addresses are refused unless this is set
# (a webhook URL must not become a way to reach Rampart's own network).
RAMPART_NOTIFICATION_ALLOW_PRIVATE = env_bool("RAMPART_NOTIFICATION_ALLOW_PRIVATE", default=False)
# Where links in messages point, e.g. https://rampart.example.com (empty: no links).
RAMPART_BASE_URL = (env_str("RAMPART_BASE_URL") or "").rstrip("/")
# Transient collection errors are retried after these delays (seconds), then the scan fails.
RAMPART_SCAN_RETRY_DELAYS = env_int_list("RAMPART_SCAN_RETRY_DELAYS", [2, 8, 30])
# /metrics answers only a scraper that sends this bearer token; unset, the endpoint does not exist.
RAMPART_METRICS_TOKEN = env_str("RAMPART_METRICS_TOKEN") or ""
RAMPART_KUBE_REQUEST_TIMEOUT = env_int("RAMPART_KUBE_REQUEST_TIMEOUT", 30, minimum=1)  # seconds per request
RAMPART_REAPER_GRACE_SECONDS = env_int("RAMPART_REAPER_GRACE_SECONDS", 60, minimum=0)
RAMPART_QUEUED_SCAN_TIMEOUT = env_int("RAMPART_QUEUED_SCAN_TIMEOUT", 3600, minimum=60)
# An agent cluster with no push for this long is marked silent (the agent's CronJob runs hourly).
RAMPART_AGENT_SILENT_HOURS = env_int("RAMPART_AGENT_SILENT_HOURS", 24, minimum=1)
