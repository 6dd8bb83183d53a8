"""Credentials given to Rampart are never shown, logged or stored in the clear.

Canaries (recognisable, random per run) go in through every door a credential can
take: cluster registration by the form and by the API (a bearer token; a kubeconfig
with a token and a client key), a rotation over the API, a snapshot upload and an
agent push (a literal env credential, a ConfigMap password, a Secret's data,
stringData and last-applied annotation), a live cluster that serves the same, a TOTP
enrolment with its recovery codes, a personal and an ingest token, a webhook URL and
signing secret, the user's password. Then everything Rampart can show is read (every
page and API route with its parameters filled, exports, the audit log,
the OpenAPI schema, the admin), and every log record of the test, every row of every
table, the cache and new temporary files are searched. A canary may appear only in
the one response designed to show it once, and in the database only as Fernet
ciphertext, which must decrypt back to it.
"""

import base64
import gzip
import http.server
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from pathlib import Path

import pyotp
import pytest
import yaml
from django.conf import settings as django_settings
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.forms.models import model_to_dict
from django.test import Client

from accounts import mfa
from accounts.models import ApiToken, Membership, Role, Team, TotpDevice
from findings.models import Comment, ExceptionRule, Finding, FindingEvent
from posture import crypto, services
from posture.models import (
    Cluster,
    IngestToken,
    NotificationDelivery,
    NotificationEndpoint,
    Scan,
    ScanStatus,
)
from posture.scanning.checks import load_catalogue
from tests.factories import create_token_on_page, make_cluster, make_team, make_user
from tests.fakekube import FakeKube
from tests.security.routes import ADMIN_PREFIX, fill, parameters, resolver_routes

pytestmark = pytest.mark.django_db

RUN = secrets.token_hex(6)


def canary(name: str) -> str:
    return f"canary-{name}-{RUN}"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- What goes in -----------------------------------------------------------------------------


def leaky_objects(tag: str) -> list[dict]:
    """A workload, a ConfigMap and a Secret that each carry credentials (canaries named by ``tag``)."""
    secret_value, string_value = canary(f"{tag}-secret-data"), canary(f"{tag}-string-data")
    labels = {"app": "shop"}
    container = {
        "name": "shop",
        "image": "registry.example.com/shop:1.0",
        "env": [
            {"name": "DB_PASSWORD", "value": canary(f"{tag}-env-password")},
            {"name": "MODE", "value": "production"},
        ],
    }
    init = {"name": "migrate", "image": "registry.example.com/migrate:1.0"}
    init["env"] = [{"name": "API_TOKEN", "value": canary(f"{tag}-init-token")}]
    applied = {"apiVersion": "v1", "kind": "Secret", "data": {"password": b64(secret_value)}}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "shop", "namespace": "shop", "labels": labels},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [container], "initContainers": [init]},
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "shop-config", "namespace": "shop"},
            "data": {"app.properties": f"user=shop\npassword={canary(f'{tag}-configmap-password')}\n"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": "shop-db",
                "namespace": "shop",
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied),
                    "owner": "payments",
                },
            },
            "data": {"password": b64(secret_value)},
            "stringData": {"token": string_value},
        },
    ]


def object_canaries(tag: str) -> dict[str, str]:
    names = ["secret-data", "string-data", "env-password", "init-token", "configmap-password"]
    found = {f"{tag} {name}": canary(f"{tag}-{name}") for name in names}
    found[f"{tag} secret-data (base64)"] = b64(canary(f"{tag}-secret-data"))
    return found


def key_needles(label: str, key_pem: str) -> dict[str, str]:
    """A private key as it travels (base64 in a kubeconfig) and every line of its PEM body."""
    body = [line for line in key_pem.splitlines() if line and not line.startswith("-----")]
    needles = {f"{label} (client-key-data)": b64(key_pem)}
    needles.update({f"{label} (PEM line {n})": line for n, line in enumerate(body) if len(line) >= 32})
    return needles


def kubeconfig(kube: FakeKube, token: str, client) -> str:
    config = kube.kubeconfig(client_certificate=client)
    config["users"][0]["user"]["token"] = token  # both a token and a client key
    return yaml.safe_dump(config)


class Webhook:
    """A local receiver for the team's notifications; its URL path is itself a secret (as Slack's are)."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                received.append((self.path, self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):  # the receiver is not Rampart: keep its lines out of the logs
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B0/{canary('webhook-path')}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- Where it could come out ----------------------------------------------------------------


class Seen:
    """Everything Rampart answered, and where each answer came from."""

    def __init__(self):
        self.answers: list[tuple[str, str, set]] = []  # (where, text, canary names it may show)
        self.statuses: dict[str, int] = {}

    def add(self, where: str, response, may_show=()):
        body = b"".join(response.streaming_content) if response.streaming else response.content
        headers = "\n".join(f"{name}: {value}" for name, value in response.items())
        self.answers.append((where, headers + "\n" + body.decode("utf-8", "replace"), set(may_show)))
        self.statuses[where] = response.status_code
        return body


class LogCapture:
    """What the root logger's handlers write, formatted as they format it (request ids and tracebacks)."""

    def __init__(self, monkeypatch):
        self.lines: list[str] = []
        for handler in logging.getLogger().handlers:
            if type(handler).__module__.startswith("_pytest"):
                continue  # caplog's own handlers: their records are searched as records
            original = handler.format

            def format_and_keep(record, original=original):
                text = original(record)
                self.lines.append(text)
                return text

            monkeypatch.setattr(handler, "format", format_and_keep)


def record_text(record: logging.LogRecord) -> str:
    parts = [record.name, record.getMessage(), repr(record.args), repr(record.__dict__)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def database_text() -> list[tuple[str, str, str]]:
    """(table, column, text) of every value of every row of every table; gzip bytes decompressed."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor, include_views=False):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names
            columns = [column[0] for column in cursor.description]  # the name, in psycopg and sqlite3 alike
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, memoryview | bytes):
                        data = bytes(value)
                        if data[:2] == b"\x1f\x8b":
                            data = gzip.decompress(data)
                        text = data.decode("utf-8", "replace")
                    elif isinstance(value, str):
                        text = value
                    else:
                        text = json.dumps(value, default=str)
                    found.append((table, column, text))
    return found


def cache_text() -> list[tuple[str, bytes]]:
    """Every value in the Redis that Rampart caches in (and brokers through)."""
    if not django_settings.REDIS_URL:
        return []
    import redis

    client = redis.Redis.from_url(django_settings.REDIS_URL)
    found = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == b"string":
            values = [client.get(key) or b""]
        elif kind == b"list":
            values = client.lrange(key, 0, -1)
        elif kind == b"hash":
            values = [b"%s=%s" % pair for pair in client.hgetall(key).items()]
        elif kind == b"set":
            values = list(client.smembers(key))
        elif kind == b"zset":
            values = client.zrange(key, 0, -1)
        else:
            values = []
        found.extend((key.decode("utf-8", "replace"), value) for value in values)
    return found


def new_temporary_files(since: float) -> list[Path]:
    found = []
    for folder, _dirs, files in os.walk(tempfile.gettempdir()):
        for name in files:
            path = Path(folder, name)
            try:
                stat = path.stat()
            except OSError:
                continue
            if stat.st_mtime >= since and stat.st_size < 5 * 1024 * 1024 and path.is_file():
                found.append(path)
    return found


# --- The scenario ---------------------------------------------------------------------------------


@pytest.fixture
def webhook():
    receiver = Webhook()
    yield receiver
    receiver.stop()


@pytest.fixture
def kube():
    server = FakeKube(leaky_objects("live"), tokens={}).start()
    yield server
    server.stop()


def test_no_credential_given_to_rampart_is_ever_shown_logged_or_stored_in_the_clear(
    settings, caplog, monkeypatch, django_capture_on_commit_callbacks, kube, webhook
):
    started = time.time() - 1
    caplog.set_level(logging.DEBUG)
    handlers = LogCapture(monkeypatch)
    settings.RAMPART_MFA_REQUIRED = "admins"
    settings.RAMPART_NOTIFICATION_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
    settings.RAMPART_METRICS_TOKEN = "metrics-scraper-token-0123456789abcdef"
    rates = {"anon": "100000/min", "user": "100000/min", "export": "100000/min", "ingest": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    needles: dict[str, str] = {}  # what must never show -> its value
    seen = Seen()
    password = canary("password")
    needles["password"] = password
    needles["a mistyped password"] = canary("mistyped-password")
    team = make_team("Payments")
    admin_user = make_user(team, Role.ADMIN, username="ada")
    admin_user.set_password(password)
    admin_user.save()
    superuser = make_user(None, username="root", is_superuser=True, is_staff=True)

    # The live cluster accepts every token given to Rampart below, and the client certificates.
    tokens = {name: canary(name) for name in ("form-token", "form-kubeconfig-token", "api-token")}
    tokens |= {name: canary(name) for name in ("api-token-rotated", "api-kubeconfig-token")}
    for name, value in tokens.items():
        kube.tokens[value] = f"system:serviceaccount:rampart:{name}"
        needles[name] = value
    form_client, api_client = kube.issue_client_certificate("form"), kube.issue_client_certificate("api")
    needles |= key_needles("form kubeconfig client key", form_client.key_pem)
    needles |= key_needles("API kubeconfig client key", api_client.key_pem)
    needles |= object_canaries("live") | object_canaries("upload") | object_canaries("push")

    # 1. Log in through the form: a mistyped password first, then enrol TOTP as the policy demands.
    stranger = Client()
    seen.add(
        "login with a mistyped password",
        stranger.post("/accounts/login/", {"username": "ada", "password": needles["a mistyped password"]}),
    )
    browser = Client()
    response = browser.post("/accounts/login/", {"username": "ada", "password": password})
    assert response.status_code == 302
    assert response.url == "/accounts/login/enrol/", "admins must enrol"
    seen.add("the enrolment page", browser.get("/accounts/login/enrol/"), may_show={"TOTP secret"})
    secret = mfa.secret_of(TotpDevice.objects.get(user=admin_user))
    needles["TOTP secret"] = secret
    body = seen.add(
        "the enrolment's confirmation",
        browser.post("/accounts/login/enrol/", {"code": pyotp.TOTP(secret).now()}),
        may_show={"recovery code"},
    ).decode()
    codes = re.findall(r"<code>([a-z0-9]{4}(?:-[a-z0-9]{4}){3})</code>", body)
    assert len(codes) == mfa.RECOVERY_CODE_COUNT, "the recovery codes are shown once, at enrolment"
    for n, code in enumerate(codes):
        needles[f"recovery code {n}"] = code
        needles[f"recovery code {n} (as stored)"] = mfa.normalise_recovery_code(code)
    # A second login with a recovery code, which logs its use.
    second = Client()
    second.post("/accounts/login/", {"username": "ada", "password": password})
    seen.add(
        "login with a recovery code", second.post("/accounts/login/verify/", {"recovery_code": codes[0]})
    )
    assert "_auth_user_id" in second.session

    # 2. A personal API token, made on the tokens page (shown once).
    body = seen.add(
        "the new personal token",
        create_token_on_page(browser, name="crawler", scope="write"),
        may_show={"personal token", "personal token secret"},
    ).decode()
    personal = re.search(r"rpt_[0-9a-f]+_[A-Za-z0-9_-]+", body).group(0)
    needles["personal token"], needles["personal token secret"] = personal, personal.split("_", 2)[2]
    api = {"HTTP_AUTHORIZATION": f"Bearer {personal}"}

    # 3. Clusters through the form: a token one (tested, then scanned) and a kubeconfig one.
    form_token = {
        "name": "form-token",
        "team": team.pk,
        "connection_mode": "token",
        "api_url": kube.url,
        "token": tokens["form-token"],
        "ca_bundle": kube.ca_pem,
    }
    seen.add("Test connection on the form", browser.post("/clusters/test-connection/", form_token))
    seen.add(
        "Test connection on the form (htmx)",
        browser.post("/clusters/test-connection/", form_token, HTTP_HX_REQUEST="true"),
    )
    seen.add("registering by the form (token)", browser.post("/clusters/new/", form_token))
    form_kubeconfig_text = kubeconfig(kube, tokens["form-kubeconfig-token"], form_client)
    upload = SimpleUploadedFile("kubeconfig", form_kubeconfig_text.encode(), content_type="application/yaml")
    seen.add(
        "registering by the form (kubeconfig)",
        browser.post(
            "/clusters/new/",
            {
                "name": "form-kubeconfig",
                "team": team.pk,
                "connection_mode": "kubeconfig",
                "kubeconfig_file": upload,
            },
        ),
    )
    seen.add(
        "registering a snapshot cluster by the form",
        browser.post("/clusters/new/", {"name": "uploads", "team": team.pk, "connection_mode": "snapshot"}),
    )

    # 4. Clusters through the API: token (then rotated), kubeconfig, and an agent cluster.
    def api_post(where, path, payload, **may):
        response = browser.post(path, json.dumps(payload), content_type="application/json", **api)
        seen.add(where, response, **may)
        return response

    def api_patch(where, path, payload):
        seen.add(where, browser.patch(path, json.dumps(payload), content_type="application/json", **api))

    common = {"team": team.slug, "api_url": kube.url, "ca_bundle": kube.ca_pem}
    api_post(
        "registering by the API (token)",
        "/api/v1/clusters/",
        {**common, "name": "api-token", "connection_mode": "token", "credentials": tokens["api-token"]},
    )
    api_token_cluster = Cluster.objects.get(name="api-token")
    api_patch(
        "rotating a token by the API",
        f"/api/v1/clusters/{api_token_cluster.pk}/",
        {"credentials": tokens["api-token-rotated"]},
    )
    api_kubeconfig_text = kubeconfig(kube, tokens["api-kubeconfig-token"], api_client)
    api_post(
        "registering by the API (kubeconfig)",
        "/api/v1/clusters/",
        {
            "team": team.slug,
            "name": "api-kubeconfig",
            "connection_mode": "kubeconfig",
            "credentials": api_kubeconfig_text,
        },
    )
    api_post(
        "registering an agent cluster",
        "/api/v1/clusters/",
        {"team": team.slug, "name": "agent", "connection_mode": "agent"},
    )
    agent = Cluster.objects.get(name="agent")
    issued = api_post(
        "issuing an ingest token",
        f"/api/v1/clusters/{agent.pk}/ingest-tokens/",
        {"name": "cronjob"},
        may_show={"ingest token", "ingest token secret"},
    )
    ingest = issued.json()["token"]
    needles["ingest token"], needles["ingest token secret"] = ingest, ingest.split("_", 2)[2]
    # The team's webhook: a secret URL and a signing secret.
    needles["webhook URL"], needles["webhook path"] = webhook.url, canary("webhook-path")
    needles["webhook signing secret"] = canary("webhook-signing-secret")
    api_post(
        "adding a webhook",
        "/api/v1/notification-endpoints/",
        {
            "team": team.slug,
            "name": "alerts",
            "kind": "webhook",
            "url": webhook.url,
            "secret": needles["webhook signing secret"],
        },
    )

    # 5. Scans: live (Test connection, Scan now, the API), an upload and an agent push.
    clusters = {cluster.name: cluster for cluster in Cluster.objects.filter(team=team)}
    assert set(clusters) == {
        "form-token",
        "form-kubeconfig",
        "uploads",
        "api-token",
        "api-kubeconfig",
        "agent",
    }
    with django_capture_on_commit_callbacks(execute=True):
        for name in ("form-token", "form-kubeconfig"):
            pk = clusters[name].pk
            seen.add(
                f"Test connection of {name}",
                browser.post(
                    f"/clusters/{pk}/test-connection/", {"connection_mode": clusters[name].connection_mode}
                ),
            )
            seen.add(f"Scan now of {name}", browser.post(f"/clusters/{pk}/scan/"))
        for name in ("api-token", "api-kubeconfig"):
            api_post(f"scanning {name} by the API", f"/api/v1/clusters/{clusters[name].pk}/scan/", {})
        snapshot = yaml.safe_dump_all(leaky_objects("upload")).encode()
        upload = SimpleUploadedFile("cluster.yaml", snapshot, content_type="application/yaml")
        seen.add(
            "uploading a snapshot",
            browser.post(f"/clusters/{clusters['uploads'].pk}/snapshot/", {"file": upload}),
        )
        pushed = gzip.compress(
            json.dumps({"apiVersion": "v1", "kind": "List", "items": leaky_objects("push")}).encode()
        )
        seen.add(
            "the agent's push",
            Client().post(
                f"/api/v1/clusters/{agent.pk}/snapshots",
                pushed,
                content_type="application/gzip",
                HTTP_AUTHORIZATION=f"Bearer {ingest}",
            ),
        )
    scans = {scan.cluster.name: scan for scan in Scan.objects.select_related("cluster")}
    assert {name: scan.status for name, scan in scans.items()} == dict.fromkeys(
        scans, ScanStatus.SUCCEEDED
    ), {name: scan.error for name, scan in scans.items()}
    assert set(scans) == set(clusters), "every cluster was scanned"
    reported = Finding.objects.filter(check_id__in=["secret-in-env", "secret-in-configmap"])
    assert set(reported.values_list("cluster__name", flat=True)) == {*clusters}, (
        "the literal credentials were seen (and reported) in every cluster"
    )
    assert webhook.received, "the team's webhook was called with the new findings"
    bearer = {request.headers.get("authorization") for request in kube.requests}
    assert {f"Bearer {tokens[name]}" for name in ("form-token", "api-token-rotated")} <= bearer, (
        "the live scans used the tokens given"
    )
    Comment.objects.create(finding=reported.first(), author=admin_user, body="Rotate it")

    # 6. Read everything, as the team admin (session and token) and as a superuser.
    root = Client()
    # With a second factor, as the policy requires of a superuser: else every page leads to enrolment.
    device = mfa.begin_enrolment(superuser)
    mfa.confirm_enrolment(superuser, pyotp.TOTP(mfa.secret_of(device)).now())
    root.force_login(superuser)
    crawl(seen, {"team admin": browser, "superuser": root}, api)
    for where, client in {"team admin": browser, "superuser": root}.items():
        seen.add(
            f"metrics ({where})",
            client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + settings.RAMPART_METRICS_TOKEN),
        )
    assert_crawl_saw_the_data(seen, clusters)

    # 7. Where it may be kept: encrypted columns only, and they decrypt back to the canaries.
    stored = database_text()
    assert_encrypted_columns_hold_the_credentials(
        stored, clusters, tokens, form_kubeconfig_text, api_kubeconfig_text, secret, webhook.url, needles
    )

    # 8. Nothing anywhere.
    places = [(where, text, may) for where, text, may in seen.answers]
    places += [
        (f"log record {record.name} ({record.levelname})", record_text(record), set())
        for record in caplog.records
    ]
    places += [(f"log line ({n})", line, set()) for n, line in enumerate(handlers.lines)]
    places += [(f"database {table}.{column}", text, set()) for table, column, text in stored]
    places += [(f"cache key {key}", value.decode("latin-1"), set()) for key, value in cache_text()]
    for path in new_temporary_files(started):
        try:
            places.append((f"temporary file {path}", path.read_bytes().decode("latin-1"), set()))
        except OSError:
            continue
    assert caplog.records, "log records were captured"
    assert handlers.lines, "the root logger's handlers wrote lines"
    for where, text, may in seen.answers:
        # The pages designed to show a secret once do show it: the search finds what it looks for.
        shown = [name for name, value in needles.items() if value in text]
        assert not may or any(name.startswith(tuple(may)) for name in shown), f"{where} did not show {may}"
    leaks = sorted(
        {
            f"{name} in {where}"
            for where, text, may in places
            for name, value in needles.items()
            if value in text and not any(name.startswith(allowed) for allowed in may)
        }
    )
    assert not leaks, "credentials disclosed:\n" + "\n".join(leaks)


# --- The crawl ----------------------------------------------------------------------------------


def sample_of_findings():
    """The findings about credentials, and one more of each cluster (every finding would take minutes)."""
    others = Finding.objects.exclude(check_id__startswith="secret")
    # The lowest id per cluster: portable, where DISTINCT ON is PostgreSQL's alone.
    firsts = others.values("cluster_id").annotate(first=models.Min("pk")).values_list("first", flat=True)
    return Finding.objects.filter(models.Q(check_id__startswith="secret") | models.Q(pk__in=list(firsts)))


def objects_for(parameter: str, segment: str) -> list:
    """Every value worth filling a route parameter with, by the collection it follows in the URL."""
    findings = sample_of_findings()
    collections = {
        "clusters": Cluster.objects.all(),
        "scans": Scan.objects.all(),
        "findings": findings,
        "exceptions": ExceptionRule.objects.all(),
        "tokens": ApiToken.objects.all(),
        "comments": Comment.objects.all(),
        "history": FindingEvent.objects.filter(finding__in=findings),
        "notification-endpoints": NotificationEndpoint.objects.all(),
        "notification-deliveries": NotificationDelivery.objects.all(),
        "ingest-tokens": IngestToken.objects.all(),
        "notifications": NotificationEndpoint.objects.all(),
        "teams": Team.objects.all(),
        "members": Membership.objects.all(),
    }
    if parameter == "anything":
        return ["no-such-endpoint/"]
    if segment == "checks":
        return [check.id for check in load_catalogue() if check.category == "secrets"]
    assert segment in collections, f"the crawl does not know how to fill {{{parameter}}} after {segment!r}"
    return list(collections[segment].values_list("pk", flat=True))


def urls_of(key: str, twin: str | None) -> list[str]:
    combinations = [{}]
    for parameter in parameters(key):
        segment = key.split("{" + parameter + "}")[0].rstrip("/").rsplit("/", 1)[-1]
        combinations = [
            {**c, parameter: value} for c in combinations for value in objects_for(parameter, segment)
        ]
    urls = [fill(key, values) for values in combinations]
    if twin:
        urls += [fill(key, values, twin) for values in combinations]
    return urls


def crawl(seen: Seen, browsers: dict[str, Client], api_headers: dict) -> None:
    for key, twin in sorted(resolver_routes().items()):
        if key == ADMIN_PREFIX:
            continue
        for url in urls_of(key, twin):
            for who, client in browsers.items():
                seen.add(f"GET {url} ({who})", client.get(url))
            if url.startswith("/api/"):
                seen.add(f"GET {url} (personal token)", Client().get(url, **api_headers))
    # Django's admin, as the superuser: every list and every object's page.
    superuser = browsers["superuser"]
    for model, _model_admin in admin.site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        seen.add(f"GET {base}", superuser.get(base))
        for pk in model.objects.values_list("pk", flat=True)[:50]:
            seen.add(f"GET {base}{pk}/change/", superuser.get(f"{base}{pk}/change/"))
    seen.add("GET /admin/", superuser.get("/admin/"))


def assert_crawl_saw_the_data(seen: Seen, clusters: dict) -> None:
    """The crawl read what matters (a crawl of 404s would find nothing, and prove nothing)."""
    must_be_read = [
        "GET /accounts/audit/ (superuser)",
        "GET /accounts/audit/export.csv (superuser)",
        "GET /api/schema/ (team admin)",
        "GET /api/v1/findings/export/csv/ (personal token)",
        "GET /api/v1/findings/export/json/ (personal token)",
        "GET /api/v1/clusters/ (personal token)",
    ]
    for cluster in clusters.values():
        must_be_read += [
            f"GET /clusters/{cluster.pk}/edit/ (team admin)",
            f"GET /clusters/{cluster.pk}/ (team admin)",
            f"GET /api/v1/clusters/{cluster.pk}/ (personal token)",
        ]
    for snapshot_scan in Scan.objects.all():
        must_be_read.append(f"GET /clusters/scans/{snapshot_scan.pk}/ (team admin)")
    for finding in Finding.objects.filter(check_id="secret-in-env"):
        must_be_read.append(f"GET /findings/{finding.pk}/ (team admin)")
        must_be_read.append(f"GET /api/v1/findings/{finding.pk}/ (personal token)")
    not_read = [where for where in must_be_read if seen.statuses.get(where) != 200]
    assert not not_read, "the crawl could not read: " + ", ".join(
        f"{w} ({seen.statuses.get(w)})" for w in not_read
    )
    errors = [where for where, status in seen.statuses.items() if status >= 500]
    assert not errors, errors


def assert_encrypted_columns_hold_the_credentials(
    stored, clusters, tokens, form_kubeconfig, api_kubeconfig, totp_secret, webhook_url, needles
) -> None:
    encrypted = [
        (table, column, text) for table, column, text in stored if column.endswith("_encrypted") and text
    ]
    assert encrypted, "no encrypted column was found"
    for table, column, text in encrypted:
        assert text.startswith("gAAAAA"), f"{table}.{column} is not Fernet ciphertext"
        crypto.decrypt(text)  # raises unless it is a Fernet token of a configured key
    expected = {
        "form-token": tokens["form-token"],
        "form-kubeconfig": form_kubeconfig,
        "api-token": tokens["api-token-rotated"],
        "api-kubeconfig": api_kubeconfig.strip(),  # the API trims what it is given
        "uploads": "",
        "agent": "",
    }
    assert {name: Cluster.objects.get(pk=c.pk).get_credentials() for name, c in clusters.items()} == expected
    assert mfa.secret_of(TotpDevice.objects.get(user__username="ada")) == totp_secret
    endpoint = NotificationEndpoint.objects.get()
    assert (endpoint.get_url(), endpoint.get_secret()) == (webhook_url, needles["webhook signing secret"])


# --- A live scan ----------------------------------------------------------------------------------


def scan_text(scan: Scan) -> str:
    return json.dumps(model_to_dict(Scan.objects.get(pk=scan.pk)), default=str)


def test_a_live_scan_keeps_its_token_out_of_scan_errors_reports_and_logs(team, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    handlers = LogCapture(monkeypatch)
    good, wrong = canary("live-token"), canary("wrong-live-token")
    kube = FakeKube(leaky_objects("live"), tokens={good: "system:serviceaccount:rampart:scanner"}).start()
    try:
        scanned = {}
        for name, token in (("accepted", good), ("refused", wrong)):
            cluster = make_cluster(
                team, name=name, connection_mode="token", api_url=kube.url, ca_bundle=kube.ca_pem
            )
            cluster = services.save_cluster(cluster, credentials=token)
            scanned[name] = services.run_scan(services.start_scan(cluster, enqueue=False).pk)
        refused_kubeconfig = make_cluster(team, name="refused-kubeconfig", connection_mode="kubeconfig")
        config = kube.kubeconfig(token=wrong)
        services.save_cluster(refused_kubeconfig, credentials=yaml.safe_dump(config))
        scanned["refused kubeconfig"] = services.run_scan(
            services.start_scan(refused_kubeconfig, enqueue=False).pk
        )
        report = services.try_cluster_connection(
            "token", api_url=kube.url, credentials=wrong, ca_bundle=kube.ca_pem
        )
    finally:
        kube.stop()

    assert scanned["accepted"].status == ScanStatus.SUCCEEDED, scanned["accepted"].error
    for name in ("refused", "refused kubeconfig"):
        assert scanned[name].status == ScanStatus.FAILED
        assert "401" in scanned[name].error, scanned[name].error
    assert not report.ok
    sent = {request.headers.get("authorization") for request in kube.requests}
    assert {f"Bearer {good}", f"Bearer {wrong}"} <= sent, "both tokens really went to the API server"
    texts = {f"scan of {name}": scan_text(scan) for name, scan in scanned.items()}
    texts["the connection report"] = repr(report) + json.dumps(report.as_dict(), default=str)
    texts |= {f"log record {n} ({r.name})": record_text(r) for n, r in enumerate(caplog.records)}
    texts |= {f"log line {n}": line for n, line in enumerate(handlers.lines)}
    texts |= {f"database {table}.{column}": text for table, column, text in database_text()}
    assert any("401" in text for where, text in texts.items() if where.startswith("log")), (
        "the refusals were logged"
    )
    leaks = [
        f"{label} in {where}"
        for where, text in texts.items()
        for label, token in (("the token", good), ("the wrong token", wrong))
        if token in text
    ]
    assert not leaks, leaks
    live_values = object_canaries("live")
    stored = [
        f"{label} in {where}"
        for where, text in texts.items()
        for label, value in live_values.items()
        if value in text
    ]
    assert not stored, stored


# --- A form shown again -----------------------------------------------------------------------------


def test_a_pasted_kubeconfig_is_not_shown_back_when_the_form_comes_back(admin_user, team):
    kubeconfig_text = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": "https://203.0.113.10:6443"}}],
            "users": [{"name": "u", "user": {"token": canary("pasted-token")}}],
            "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "x",
        }
    )
    browser = Client()
    browser.force_login(admin_user)
    form = {
        "name": "pasted",
        "team": team.pk,
        "connection_mode": "kubeconfig",
        "kubeconfig_text": kubeconfig_text,
    }
    pages = {
        "Test connection": browser.post(
            "/clusters/test-connection/", {**form, "connection_mode": "kubeconfig"}
        ),
        "a validation error": browser.post("/clusters/new/", {**form, "scan_cron": "not a schedule"}),
    }
    for what, page in pages.items():
        assert page.status_code == 200, what
        assert "pasted" in page.content.decode(), f"{what}: the form came back"
    shown = [what for what, page in pages.items() if canary("pasted-token") in page.content.decode()]
    assert not shown, f"the pasted kubeconfig's token is shown back after: {', '.join(shown)}"
    for what, page in pages.items():
        assert "no-store" in page.headers.get("Cache-Control", ""), f"{what}: the page may be cached"
