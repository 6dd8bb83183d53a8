"""The in-cluster agent: read this cluster with the live collector and push the snapshot to Rampart.

    python manage.py collect --push https://rampart.example.com --cluster-id 7 \\
        --token-file /var/run/secrets/rampart/token --in-cluster
    python manage.py collect --kubeconfig ~/.kube/config --output snapshot.json.gz

The snapshot is a ``kind: List`` JSON document, gzip-compressed; Secrets are
listed as metadata only, so no secret value ever leaves the cluster. It is
POSTed with the cluster's ingest token (``rpi_...``, which can do nothing else)
and an ``Idempotency-Key``: a retry after a lost answer never scans twice.
Needs no database and no Django settings beyond the defaults.
"""

import gzip
import ssl
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from django.core.management.base import BaseCommand, CommandError

from posture.scanning.collectors.errors import CollectionError
from posture.scanning.collectors.live import collect_with_details, connection_from
from posture.scanning.collectors.snapshot import list_annotations

USER_AGENT = "rampart-agent/1"
RETRY_DELAYS = (2, 10, 30)  # seconds between attempts after a network error, 429 or 5xx
ANNOTATION_PREFIX = "rampart.dev/"


class Command(BaseCommand):
    help = "Collect this cluster's objects (read-only) and push them to Rampart, or write them to a file."
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument(
            "--push", metavar="URL", help="Rampart's URL (with --cluster-id) or the full push URL"
        )
        where.add_argument("--output", metavar="FILE", help="write the gzip snapshot here instead of pushing")
        parser.add_argument("--token-file", metavar="PATH", help="file holding the cluster's ingest token")
        parser.add_argument("--cluster-id", type=int, metavar="N", help="the cluster's id in Rampart")
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--in-cluster", action="store_true", help="use the pod's service account (default)"
        )
        source.add_argument("--kubeconfig", metavar="PATH", help="read the cluster through this kubeconfig")
        parser.add_argument("--context", default="", help="kubeconfig context (default: its current one)")
        parser.add_argument("--ca-file", metavar="PATH", help="CA bundle to trust for Rampart's HTTPS")
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")

    def handle(self, *args, **options):
        if options["push"]:
            url = push_url(options["push"], options["cluster_id"])
            token = read_token(options["token_file"])
        data = self._collect(options)
        if options["output"]:
            Path(options["output"]).write_bytes(data)
            self.stdout.write(f"wrote {len(data):,} bytes to {options['output']}")
            return
        status, body = push(
            url, token, data, ca_file=options["ca_file"], timeout=options["timeout"], log=self.stderr.write
        )
        message = (body.get("error") or {}).get("message") if isinstance(body, dict) else None
        if status == 202:
            scan = body.get("scan") or {}
            self.stdout.write(f"pushed {len(data):,} bytes; Rampart queued scan #{scan.get('id')}")
        elif status == 409 and isinstance(body.get("error"), dict) and body["error"].get("snapshot"):
            self.stdout.write(f"pushed {len(data):,} bytes; {message}")
        else:
            raise CommandError(
                f"Rampart refused the snapshot (HTTP {status}): {message or 'no reason given'}"
            )

    def _collect(self, options) -> bytes:
        try:
            if options["kubeconfig"]:
                text = Path(options["kubeconfig"]).expanduser().read_text()
                connection = connection_from("kubeconfig", credentials=text, kube_context=options["context"])
            else:
                connection = connection_from("in_cluster")
            collection = collect_with_details(connection, request_timeout=options["timeout"])
        except (CollectionError, OSError) as exc:
            raise CommandError(f"could not read the cluster: {exc}") from None
        inventory = collection.inventory
        for kind, reason in sorted(inventory.coverage_gaps.items()):
            self.stderr.write(f"not collected: {kind}: {reason}")
        self.stderr.write(f"collected {len(inventory.resources):,} objects in {collection.seconds:.1f} s")
        return snapshot_document(inventory)


def snapshot_document(inventory) -> bytes:
    """The inventory as a gzip-compressed ``kind: List``; what could not be read goes in annotations."""
    annotations = list_annotations(inventory.coverage_gaps, inventory.server_version)
    annotations[f"{ANNOTATION_PREFIX}collected-at"] = datetime.now(UTC).isoformat(timespec="seconds")
    annotations[f"{ANNOTATION_PREFIX}collector"] = USER_AGENT
    document = {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"annotations": annotations},
        "items": [resource.raw for resource in inventory.resources],
    }
    return gzip.compress(orjson.dumps(document), compresslevel=6)


def push_url(base: str, cluster_id: int | None) -> str:
    parts = urlsplit(base)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CommandError("--push must be Rampart's URL, like https://rampart.example.com")
    if parts.path.rstrip("/").endswith("/snapshots"):
        return base
    if cluster_id is None:
        raise CommandError("give --cluster-id, or the full push URL (.../api/v1/clusters/N/snapshots)")
    return f"{base.rstrip('/')}/api/v1/clusters/{cluster_id}/snapshots"


def read_token(path: str | None) -> str:
    if not path:
        raise CommandError("--push needs --token-file (the cluster's ingest token, rpi_...)")
    try:
        token = Path(path).read_text().strip()
    except OSError as exc:
        raise CommandError(f"cannot read the token file {path}: {exc.strerror}") from None
    if not token.startswith("rpi_") or any(char.isspace() for char in token):
        raise CommandError(f"{path} does not hold an ingest token (rpi_...)")
    return token


def push(url, token, data, *, ca_file=None, timeout=30.0, log=lambda line: None, sleep=time.sleep):
    """POST the snapshot, retrying network errors, 429 and 5xx with the same Idempotency-Key."""
    key = str(uuid.uuid4())
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    for attempt, delay in enumerate([*RETRY_DELAYS, None], start=1):
        request = urllib.request.Request(  # noqa: S310 - the scheme was checked in push_url()
            url,
            data=data,
            method="POST",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/gzip",
                "Idempotency-Key": key,
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310
                return response.status, _json(response.read())
        except urllib.error.HTTPError as exc:
            status, body = exc.code, _json(exc.read())
            if status != 429 and status < 500 or delay is None:
                return status, body
            wait = _retry_after(exc.headers.get("Retry-After"), delay)
            log(f"attempt {attempt}: HTTP {status}; retrying in {wait} s")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            if delay is None:
                raise CommandError(
                    f"could not reach Rampart at {url}: {getattr(exc, 'reason', exc)}"
                ) from None
            wait = delay
            log(f"attempt {attempt}: {getattr(exc, 'reason', exc)}; retrying in {wait} s")
        sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _retry_after(value: str | None, default: int) -> int:
    try:
        return max(0, min(int(value), 600)) if value else default
    except ValueError:
        return default


def _json(raw: bytes):
    try:
        return orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        return {"error": {"message": raw[:200].decode("utf-8", "replace")}}
