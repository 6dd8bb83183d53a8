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
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from django.core.management.base import BaseCommand, CommandError

from posture.agent_push import EXIT_REFUSED, USER_AGENT, push, refusal, stored_unscanned
from posture.scanning.collectors.errors import CollectionError
from posture.scanning.collectors.live import collect_with_details, connection_from
from posture.scanning.collectors.snapshot import list_annotations

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
        parser.add_argument(
            "--timeout", type=float, default=30.0, help="seconds per Kubernetes API request (default 30)"
        )
        parser.add_argument(
            "--push-timeout",
            type=float,
            default=120.0,
            help="seconds to wait for Rampart's answer to the push, which it sends once it has stored "
            "the snapshot (default 120)",
        )

    def handle(self, *args, **options):
        if options["push"]:
            url = push_url(options["push"], options["cluster_id"])
            token = read_token(options["token_file"])
        data = self._collect(options)
        if options["output"]:
            Path(options["output"]).write_bytes(data)
            self.stdout.write(f"wrote {len(data):,} bytes to {options['output']}")
            return
        answer = push(
            url,
            token,
            data,
            ca_file=options["ca_file"],
            timeout=options["push_timeout"],
            log=self.stderr.write,
        )
        if paused := stored_unscanned(answer):
            self.stdout.write(f"pushed {len(data):,} bytes; {paused}")
        elif answer.status == 202:
            scan = answer.body.get("scan") or {}
            self.stdout.write(f"pushed {len(data):,} bytes; Rampart queued scan #{scan.get('id')}")
        elif answer.status == 409 and (answer.body.get("error") or {}).get("snapshot"):
            self.stdout.write(f"pushed {len(data):,} bytes; {answer.message}")
        else:
            raise refusal(answer, url, len(data))

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
        raise CommandError(
            "--push must be Rampart's URL, like https://rampart.example.com", returncode=EXIT_REFUSED
        )
    if parts.path.rstrip("/").endswith("/snapshots"):
        return base
    if cluster_id is None:
        raise CommandError(
            "give --cluster-id, or the full push URL (.../api/v1/clusters/N/snapshots)",
            returncode=EXIT_REFUSED,
        )
    return f"{base.rstrip('/')}/api/v1/clusters/{cluster_id}/snapshots"


def read_token(path: str | None) -> str:
    if not path:
        raise CommandError(
            "--push needs --token-file (the cluster's ingest token, rpi_...)", returncode=EXIT_REFUSED
        )
    try:
        token = Path(path).read_text().strip()
    except OSError as exc:
        raise CommandError(
            f"cannot read the token file {path}: {exc.strerror}", returncode=EXIT_REFUSED
        ) from None
    if not token.startswith("rpi_") or any(char.isspace() for char in token):
        raise CommandError(f"{path} does not hold an ingest token (rpi_...)", returncode=EXIT_REFUSED)
    return token
