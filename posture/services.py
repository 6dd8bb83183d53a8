"""Cluster and scan state changes. The only code that moves a Scan between states.

Functions take model instances and plain values (never requests or forms), so
that the UI, the API, Celery tasks and management commands share them.
"""

import contextlib
import gzip
import hashlib
import logging
import time
from datetime import datetime, timedelta
from types import SimpleNamespace

import orjson
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import audit
from findings.ingest import ingest
from findings.summary import summarize
from posture import cluster_check_settings, cluster_identity, crypto, in_process, pausing, schedules
from posture.models import Cluster, ConnectionMode, IngestToken, Scan, ScanStatus, ScanTrigger, Snapshot
from posture.models.clusters import NAME_TAKEN
from posture.models.scans import ScanPhase
from posture.notifications import notify_scan_finished
from posture.scanning import engine
from posture.scanning.checks import load_catalogue
from posture.scanning.checks.registry import Severity
from posture.scanning.collectors import live
from posture.scanning.collectors import snapshot as snapshot_collector
from posture.scanning.collectors.errors import CollectionError
from posture.scanning.collectors.redact import mask_credentials
from posture.scanning.collectors.snapshot import list_annotations
from posture.scanning.inventory import Inventory, cyclic_gc_paused

logger = logging.getLogger(__name__)


class ScanAlreadyActive(Exception):
    pass


class SnapshotRejected(Exception):
    """An upload that cannot be used; the message is for the user."""


class SnapshotOfAnotherCluster(SnapshotRejected):
    """The snapshot's kube-system uid is not the one the cluster's snapshots have carried so far."""

    code = "another_cluster"

    def __init__(self, cluster: Cluster, uid: str):
        self.uid = uid
        super().__init__(
            f"it was taken of another cluster than {cluster.name} (its kube-system namespace has the uid "
            f"{uid}; {cluster.name}'s snapshots so far had {cluster.kube_system_uid}). Send it to the "
            f"cluster it was taken of; if {cluster.name} was rebuilt, a team admin accepts the new cluster "
            f"on {cluster.name}'s page, and the next snapshot is taken"
        )


class AlreadyRegistered(Exception):
    """The cluster these settings reach is registered in the team already; the message is for the user."""

    def __init__(self, twin: Cluster, uid: str):
        super().__init__(
            f"these settings reach the cluster the team already scans as “{twin.name}” (the same kube-system "
            f"namespace, uid {uid}); registered twice, it would be scanned twice and show every finding twice"
        )


class NothingToScan(Exception):
    """A snapshot or agent cluster with no snapshot yet: a scan could only fail."""


class PushesNotAccepted(Exception):
    """The cluster is read by Rampart itself, so an agent token for it would never be usable."""


class ClusterNameTaken(Exception):
    """Another cluster of the team has this name (in any case); the message is for the user."""

    def __init__(self):
        super().__init__(NAME_TAKEN)


# --- Snapshots ----------------------------------------------------------------


def store_snapshot(cluster: Cluster, data: bytes, *, user=None, source=Snapshot.Source.UPLOAD) -> Snapshot:
    """Validate an uploaded snapshot and keep a redacted copy. Nothing is written if it is unusable.

    What is stored is not the upload itself but its objects with secret values
    removed and literal credentials masked (collectors.redact), as gzip-compressed
    JSON: Rampart never keeps a credential it was sent, yet every scan of the
    snapshot reports them. ``sha256`` identifies the upload as received.
    """
    if cluster.connection_mode not in PUSH_MODES:
        # Its scans read the API server, never a snapshot: an upload would be stored, and a scan
        # labelled "upload" would report the live cluster as if it were the file.
        raise SnapshotRejected(
            f"{cluster.name} is read live ({cluster.get_connection_mode_display()}), so its scans never "
            "read a snapshot; scan the file in a cluster registered as “Snapshot upload”"
        )
    limit = settings.RAMPART_MAX_SNAPSHOT_BYTES
    if len(data) > limit:
        raise SnapshotRejected(f"the snapshot is larger than the {limit // (1024 * 1024)} MiB limit")
    try:
        parsed = snapshot_collector.read_bytes(data, "upload", max_bytes=limit)
    except snapshot_collector.SnapshotTooLarge as exc:
        raise SnapshotRejected(f"the snapshot is {exc}") from None
    if not parsed.objects and not parsed.coverage_gaps:  # an agent that could read nothing says so in gaps
        reason = parsed.errors[0].reason if parsed.errors else "no Kubernetes objects found"
        raise SnapshotRejected(f"the snapshot holds no readable Kubernetes objects ({reason})")
    uid = cluster_identity.kube_system_uid(parsed.objects)
    if _is_another_cluster(cluster, uid):
        raise SnapshotOfAnotherCluster(cluster, uid)
    digest = hashlib.sha256(data).hexdigest()
    del data
    extra_names = tuple(map(str, check_settings_for(cluster).options.get("extra_sensitive_env_names", ())))
    items = []
    for obj in parsed.objects:
        mask_credentials(obj, extra_names)
        try:
            # Non-string keys become strings, as Kubernetes' YAML-to-JSON conversion makes them.
            items.append(orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS))
        except orjson.JSONEncodeError as exc:  # a lone surrogate, a 70-digit number, absurd nesting
            parsed.errors.append(
                snapshot_collector.DocumentError("upload", 0, f"{_object_name(obj)} cannot be stored: {exc}")
            )
    if not items and not parsed.coverage_gaps:
        raise SnapshotRejected(
            f"the snapshot holds no storable Kubernetes objects ({parsed.errors[-1].reason})"
        )
    metadata = {"annotations": list_annotations(parsed.coverage_gaps, parsed.server_version)}
    document = b'{"apiVersion":"v1","kind":"List","metadata":%s,"items":[%s]}' % (
        orjson.dumps(metadata),
        b",".join(items),
    )
    del items
    redacted = gzip.compress(document, compresslevel=6)
    record = Snapshot(
        cluster=cluster,
        sha256=digest,
        size=len(redacted),
        uploaded_by=user,
        source=source,
        errors=[error.as_dict() for error in parsed.errors],
    )
    record.content = redacted
    with transaction.atomic():
        record.save()
        _confirm_identity(cluster, uid)
    return record


# --- Which cluster is read (posture/cluster_identity.py) ------------------------

IDENTITY_FIELDS = ["kube_system_uid", "other_kube_system_uid", "other_cluster_refused_at"]


def _is_another_cluster(cluster: Cluster, uid: str) -> bool:
    """Whether what was read is another cluster than the one read so far. If so, the refusal is kept
    for the cluster's page, where a team admin answers it: an agent's refusal, or a scheduled scan's,
    would otherwise be seen by no one."""
    if not uid or not cluster.kube_system_uid or uid == cluster.kube_system_uid:
        return False
    logger.warning(
        "cluster %s: read a cluster whose kube-system uid is %s, expected %s; refused",
        cluster.pk,
        uid,
        cluster.kube_system_uid,
    )
    cluster.other_kube_system_uid, cluster.other_cluster_refused_at = uid, timezone.now()
    cluster.save(update_fields=["other_kube_system_uid", "other_cluster_refused_at"])
    return True


def _confirm_identity(cluster: Cluster, uid: str) -> None:
    """What was read is this cluster: its first identity, or the right cluster again after a refusal."""
    if uid and (not cluster.kube_system_uid or cluster.other_kube_system_uid):
        cluster.kube_system_uid = uid
        cluster.other_kube_system_uid, cluster.other_cluster_refused_at = "", None
        cluster.save(update_fields=IDENTITY_FIELDS)


def _check_identity_of_what_was_read(scan: Scan, inventory: Inventory) -> None:
    """A scan of another cluster fails and changes no finding: an API server address that now leads
    elsewhere, or an old snapshot rescanned after a rebuilt cluster was accepted."""
    cluster = scan.cluster
    uid = cluster_identity.kube_system_uid(resource.raw for resource in inventory.of_kind("Namespace"))
    if _is_another_cluster(cluster, uid):
        name = cluster.name
        read, fix = (
            ("the snapshot is of", "")
            if cluster.receives_snapshots
            else (
                "the API server now serves",
                "if the address leads to the wrong cluster, correct the settings; ",
            )
        )
        raise CollectionError(
            f"{read} another cluster than {name} (its kube-system namespace has the uid {uid}; {name}'s "
            f"had {cluster.kube_system_uid}), so no finding was changed: {fix}if {name} was rebuilt, a team "
            "admin accepts the new cluster on its page"
        )
    if not cluster.receives_snapshots or not cluster.kube_system_uid:
        # A live read is the cluster as it is now. A stored snapshot was judged when it came in:
        # rescanning the last good one says nothing of what the agent is pushing now.
        _confirm_identity(cluster, uid)


def note_identity_from_connection(cluster: Cluster, uid: str) -> bool:
    """What a connection test of the settings just saved read: the cluster's first identity, or
    another cluster than the one scanned so far (True: it waits on the page for a team admin, and
    scans fail until then, as they would have found on their own)."""
    if _is_another_cluster(cluster, uid):
        return True
    _confirm_identity(cluster, uid)
    return False


def refuse_registering_twice(team_id: int, uid: str, *, other_than: int | None = None) -> None:
    """AlreadyRegistered if a cluster of the team is this one (the same kube-system uid): registered
    twice, a cluster is scanned twice and every finding shows twice. Only the team's own clusters are
    looked at, so nothing is learnt of other teams'."""
    if not uid:
        return
    twin = Cluster.objects.filter(team_id=team_id, kube_system_uid=uid).exclude(pk=other_than).first()
    if twin is not None:
        raise AlreadyRegistered(twin, uid)


def settle_other_cluster(cluster: Cluster, *, accept: bool, actor, request=None) -> bool:
    """A team admin's answer to another cluster read in this one's place; False if none is waiting.

    ``accept``: that cluster is this one from now on (it was rebuilt, or re-created under the same
    name); the refused snapshot itself was not kept, the next upload or push is taken and scanned.
    Otherwise the refusal is dismissed (it was sent here by mistake) and the identity stays."""
    with transaction.atomic():
        locked = Cluster.objects.select_for_update().get(pk=cluster.pk)
        if not locked.other_kube_system_uid:
            return False
        audit.record(
            "cluster.identity_accepted" if accept else "cluster.other_cluster_dismissed",
            actor=actor,
            target=locked,
            request=request,
            kube_system_uid=locked.kube_system_uid,
            other_kube_system_uid=locked.other_kube_system_uid,
        )
        if accept:
            locked.kube_system_uid = locked.other_kube_system_uid
        locked.other_kube_system_uid, locked.other_cluster_refused_at = "", None
        locked.save(update_fields=IDENTITY_FIELDS)
    cluster.refresh_from_db(fields=IDENTITY_FIELDS)
    return True


def _object_name(obj: dict) -> str:
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
    where = f"{namespace}/{name}" if namespace else name
    text = f"{str(obj.get('kind'))[:64]} {where[:300]}".strip().replace("\x00", "")
    return text.encode("utf-8", "replace").decode()  # no lone surrogate in what is stored


# --- Starting scans -------------------------------------------------------------


def start_scan(
    cluster: Cluster,
    *,
    trigger: str = ScanTrigger.MANUAL,
    snapshot: Snapshot | None = None,
    at: datetime | None = None,
    enqueue: bool = True,
) -> Scan:
    """Queue a scan. Refused while another scan of the cluster is queued or running.

    ``at`` and ``enqueue=False`` are for recording history (seed_demo), where
    the caller runs the scan itself with run_scan(now=...).
    """
    try:
        with transaction.atomic():
            scan = Scan.objects.create(
                cluster=cluster, trigger=trigger, snapshot=snapshot, created_at=at or timezone.now()
            )
    except IntegrityError:
        raise ScanAlreadyActive(f"a scan of {cluster.name} is already queued or running") from None
    if enqueue:
        from posture.tasks import run_scan_task

        transaction.on_commit(lambda: run_scan_task.delay(scan.pk))
    return scan


def start_requested_scan(cluster: Cluster, *, trigger: str) -> Scan:
    """A scan someone pressed "Scan now" for, called over the API, or scheduled: refused while the
    cluster is paused (pausing.ClusterPaused), and (NothingToScan) where it could only fail, a snapshot
    or agent cluster nothing has been uploaded for yet."""
    pausing.ensure_scannable(cluster)
    if cluster.connection_mode in PUSH_MODES and not cluster.snapshots.exists():
        raise NothingToScan(f"no snapshot of {cluster.name} has been uploaded yet: upload one to scan it")
    return start_scan(cluster, trigger=trigger)


# --- Agent ingest tokens -------------------------------------------------------

# Connection modes whose clusters accept snapshots pushed by an agent.
PUSH_MODES = (ConnectionMode.AGENT, ConnectionMode.SNAPSHOT)


def issue_ingest_token(
    cluster: Cluster, name: str, *, actor, expires_at=None, request=None
) -> tuple[IngestToken, str]:
    """A new token for the cluster's agent, and its plaintext: shown once, stored hashed. It works
    until revoked, or until ``expires_at`` where one is given."""
    if cluster.connection_mode not in PUSH_MODES:
        raise PushesNotAccepted(
            f"Cluster {cluster.name} is read by Rampart directly ({cluster.get_connection_mode_display()}); "
            "set its connection mode to agent or snapshot before issuing agent tokens"
        )
    with transaction.atomic():
        token, plaintext = IngestToken.issue(cluster, name, created_by=actor, expires_at=expires_at)
        audit.record(
            "ingest_token.created",
            actor=actor,
            target=cluster,
            request=request,
            token_id=token.token_id,
            expires_at=expires_at.isoformat() if expires_at else None,
        )
    return token, plaintext


def revoke_ingest_token(token: IngestToken, *, actor, request=None) -> bool:
    """Revoke at once; False if it already was (nothing is recorded twice)."""
    if token.revoked_at is not None:
        return False
    token.revoke()
    audit.record(
        "ingest_token.revoked", actor=actor, target=token.cluster, request=request, token_id=token.token_id
    )
    return True


# --- Running scans --------------------------------------------------------------


def _claim(scan_id: int, now: datetime) -> bool:
    # A conditional UPDATE: if two workers receive the same task, one wins.
    claimed = Scan.objects.filter(pk=scan_id, status=ScanStatus.QUEUED).update(
        status=ScanStatus.RUNNING, started_at=now, phase=ScanPhase.COLLECTING
    )
    return claimed == 1


def _progress(scan: Scan, **fields) -> None:
    Scan.objects.filter(pk=scan.pk).update(**fields)
    for name, value in fields.items():
        setattr(scan, name, value)


def _fail(scan: Scan, reason: str, now: datetime | None = None) -> None:
    Scan.objects.filter(pk=scan.pk, status__in=ScanStatus.active()).update(
        status=ScanStatus.FAILED, error=reason[:500], finished_at=now or timezone.now(), phase=ScanPhase.DONE
    )


def run_scan(scan_id: int, *, now: datetime | None = None) -> Scan | None:
    """Collect, check, store. Returns the finished scan, or None if it was not ours to run."""
    if now is None:
        clock = timezone.now
    else:  # a historical scan: its own timeline, real durations
        started = time.monotonic()
        clock = lambda: now + timedelta(seconds=time.monotonic() - started)  # noqa: E731
    if not _claim(scan_id, clock()):
        logger.info("scan %s already claimed or finished; skipping", scan_id)
        return None
    scan = Scan.objects.select_related("cluster", "snapshot").get(pk=scan_id)
    try:
        # One pause of the cyclic collector from reading to results: between steps it would
        # otherwise walk every object collected so far (0.3-0.6 s for 10,000 workloads).
        with cyclic_gc_paused():
            inventory = _collect_with_retries(scan)
            _check_identity_of_what_was_read(scan, inventory)
            _progress(
                scan,
                phase=ScanPhase.CHECKING,
                objects_collected=inventory.counts_by_kind(),
                coverage_gaps=inventory.coverage_gaps,
                server_version=_version_string(inventory.server_version),
            )
            # The scan's own clock: a historical scan judges secret age and version support by its date.
            results = engine.run(inventory, settings=check_settings_for(scan.cluster), now=clock())
            del inventory  # the objects are no longer needed: storing must not hold both in memory
        _progress(scan, phase=ScanPhase.STORING)
        _store(scan, results, clock)
    except CollectionError as exc:
        logger.warning("scan %s of cluster %s failed: %s", scan.pk, scan.cluster_id, exc)
        _fail(scan, str(exc), clock())
    except SoftTimeLimitExceeded:
        logger.warning("scan %s of cluster %s hit its time limit", scan.pk, scan.cluster_id)
        _fail(
            scan,
            f"the scan took longer than {settings.CELERY_TASK_SOFT_TIME_LIMIT} s and was stopped",
            clock(),
        )
    except Exception:
        logger.exception("scan %s of cluster %s failed unexpectedly", scan.pk, scan.cluster_id)
        _fail(scan, "internal error while scanning; the details are in Rampart's logs", clock())
    scan.refresh_from_db()
    notify_scan_finished(scan)  # queues webhooks; never raises
    if now is None:
        _scan_snapshot_pushed_meanwhile(scan)
    return scan


def _scan_snapshot_pushed_meanwhile(scan: Scan) -> None:
    """A snapshot that arrived while this scan ran was refused a scan of its own ("the next scan will
    read it"); for an agent cluster no scan may come until the next push, so that next scan is now."""
    if scan.snapshot_id is None:
        return
    scan.cluster.refresh_from_db(fields=["paused_at"])
    if scan.cluster.paused_at is not None:  # paused since: no scan starts until it is resumed
        return
    newer = scan.cluster.snapshots.filter(pk__gt=scan.snapshot_id).only("pk", "source").first()
    if newer is None:
        return
    trigger = ScanTrigger.AGENT if newer.source == Snapshot.Source.AGENT else ScanTrigger.UPLOAD
    with contextlib.suppress(ScanAlreadyActive):  # one already started reads the newest snapshot itself
        start_scan(scan.cluster, trigger=trigger, snapshot=newer)


def _store(scan: Scan, results: engine.ScanResults, clock) -> None:
    # One transaction: the scan's findings, history and summary land together or not at all.
    now = clock()  # the findings' time; the scan finishes once they are stored (its duration counts it)
    with transaction.atomic():
        stats = ingest(scan, results, now=now)
        summarize(scan, results)
        scan.new_count, scan.resolved_count, scan.reopened_count = stats.new, stats.resolved, stats.reopened
        scan.not_assessed = results.not_assessed
        scan.status = ScanStatus.PARTIAL if results.coverage_gaps else ScanStatus.SUCCEEDED
        scan.phase = ScanPhase.DONE
        scan.finished_at = clock()
        scan.save()
        Cluster.objects.filter(pk=scan.cluster_id).update(last_scan=scan)


def _version_string(version: dict | None) -> str:
    if not version:
        return ""
    return str(version.get("gitVersion") or f"{version.get('major', '')}.{version.get('minor', '')}")[:64]


def _collect_with_retries(scan: Scan) -> Inventory:
    """Transient connection errors are retried with exponential backoff before the scan fails."""
    delays = settings.RAMPART_SCAN_RETRY_DELAYS
    for attempt, delay in enumerate([*delays, None], start=1):
        try:
            return collect(scan)
        except CollectionError as exc:
            if not exc.transient or delay is None:
                raise
            if delay > 0 and settings.CELERY_TASK_ALWAYS_EAGER:
                # Tasks run in-process (the embedded default): the scan runs inside the request that
                # started it, and waiting to retry would hold that page for a minute or more.
                raise CollectionError(f"{exc}; {in_process.NOT_RETRIED}") from None
            logger.warning("scan %s: attempt %s failed (%s); retrying in %s s", scan.pk, attempt, exc, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def check_settings_for(cluster: Cluster) -> engine.CheckSettings:
    """Deployment-wide settings (RAMPART_CHECK_SETTINGS) overridden by the cluster's own.

    The deployment's have the shape ``{"enabled": [ids] (only these), "disabled": [ids],
    "severity": {id: level}, "options": {name: value}}``; a cluster's the same without
    "enabled" (cluster_check_settings.validated). Unknown ids and levels are ignored with a
    warning rather than failing every scan.
    """
    base, own = settings.RAMPART_CHECK_SETTINGS or {}, cluster.check_settings or {}
    known = {check.id for check in load_catalogue()}
    severities = {}
    for check_id, level in {**base.get("severity", {}), **own.get("severity", {})}.items():
        if check_id in known and level in Severity.__members__.values():
            severities[check_id] = level
        else:
            logger.warning("cluster %s: ignoring severity %r for check %r", cluster.pk, level, check_id)
    return cluster_check_settings.for_the_engine(
        disabled=[*base.get("disabled", ()), *own.get("disabled", ())],
        enabled=base.get("enabled"),
        severity=severities,
        options={**base.get("options", {}), **own.get("options", {})},
    )


def collect(scan: Scan) -> Inventory:
    cluster = scan.cluster
    if cluster.connection_mode in (ConnectionMode.SNAPSHOT, ConnectionMode.AGENT):
        return _collect_snapshot(scan)
    return live.collect(live_connection(cluster), request_timeout=settings.RAMPART_KUBE_REQUEST_TIMEOUT)


def live_connection(cluster: Cluster) -> live.Connection:
    """The collector's connection for a live cluster; InvalidConnection (a CollectionError) if unusable."""
    try:
        credentials = cluster.get_credentials()
    except crypto.CredentialsUnreadable:
        logger.error("credentials of cluster %s cannot be decrypted with the configured keys", cluster.pk)
        raise CollectionError(
            "the stored credentials cannot be decrypted: "
            "was RAMPART_ENCRYPTION_KEYS changed without rotate_keys?"
        ) from None
    return live.connection_from(
        cluster.connection_mode,
        api_url=cluster.api_url,
        credentials=credentials,
        ca_bundle=cluster.ca_bundle,
        kube_context=cluster.kube_context,
    )


def _collect_snapshot(scan: Scan) -> Inventory:
    snapshot = scan.snapshot or scan.cluster.snapshots.first()
    if snapshot is None:
        raise CollectionError("no snapshot has been uploaded for this cluster yet")
    if scan.snapshot_id is None:
        _progress(scan, snapshot=snapshot)
    parsed = snapshot_collector.read_bytes(bytes(snapshot.content), f"snapshot {snapshot.sha256[:12]}")
    snapshot.content = b""  # the parsed objects are all that is needed from here on
    if not parsed.objects and not parsed.coverage_gaps:
        raise CollectionError("the snapshot holds no readable Kubernetes objects")
    _progress(scan, collection_errors=[*snapshot.errors, *(error.as_dict() for error in parsed.errors)])
    # What the agent could not read stays a coverage gap: a pushed snapshot that lacks
    # Secrets must not resolve findings about Secrets.
    return Inventory.from_objects(
        parsed.objects,
        source=f"snapshot {snapshot.sha256[:12]}",
        coverage_gaps=parsed.coverage_gaps,
        server_version=parsed.server_version,
    )


def stored_credentials_usable(
    cluster: Cluster | None, mode: str, *, api_url: str = "", ca_bundle: str = ""
) -> bool:
    """May stored credentials be used with these settings (the form's, the API's, Test connection's)?

    Only for the same connection mode and, for a bearer token, the same API server
    and CA: otherwise a team admin could send the stored token to an address of their
    choosing without ever knowing it. A new address needs the token given again.
    """
    if (
        cluster is None
        or cluster.pk is None
        or not cluster.has_credentials
        or cluster.connection_mode != mode
    ):
        return False
    if mode == ConnectionMode.TOKEN:
        return (api_url or "").strip() == cluster.api_url.strip() and same_pem(ca_bundle, cluster.ca_bundle)
    return True


def same_pem(one: str, other: str) -> bool:
    """Whether two CA bundles are the same text. A browser sends a textarea's lines ending in CRLF:
    a bundle registered over the API (LF) is unchanged when the settings page sends it back."""
    return " ".join((one or "").split()) == " ".join((other or "").split())


# Connection modes whose settings the web process can try before saving them. In-cluster is read with
# the workers' service account, which the web pods do not mount (deploy/kubernetes).
VERIFIED_MODES = (ConnectionMode.KUBECONFIG, ConnectionMode.TOKEN)


def connection_changed(
    cluster: Cluster | None,
    mode: str,
    *,
    api_url: str = "",
    ca_bundle: str = "",
    kube_context: str = "",
    new_credentials: bool = False,
) -> bool:
    """Would saving these settings change how Rampart reaches the cluster (so they are worth trying)?

    Renaming a cluster or changing its schedule must not depend on it being reachable right now.
    """
    if cluster is None or cluster.pk is None or new_credentials:
        return True
    wanted = SimpleNamespace(
        connection_mode=mode, api_url=api_url, ca_bundle=ca_bundle, kube_context=kube_context
    )
    return _reached_differently(cluster, wanted)


def _reached_differently(old, new) -> bool:
    """Whether two sets of connection settings (objects with the Cluster's attribute names) differ;
    a CA sent back with other line ends is the same CA."""
    return (
        new.connection_mode != old.connection_mode
        or (new.api_url or "").strip() != (old.api_url or "").strip()
        or not same_pem(new.ca_bundle or "", old.ca_bundle or "")
        or (new.kube_context or "").strip() != (old.kube_context or "").strip()
    )


# What a person edits on a cluster (the scan bookkeeping and the credentials are audited apart).
AUDITED_FIELDS = tuple(
    field.attname
    for field in Cluster._meta.concrete_fields
    if field.editable and not field.primary_key and field.name != "last_scan"
)


# Written by scans, pausing and identity checks while a settings form may be open: saving settings
# from an instance loaded before must not put back what they wrote since.
KEPT_BY_SETTINGS = (*pausing.PAUSE_FIELDS, *IDENTITY_FIELDS, "last_scan")
SETTINGS_FIELDS = tuple(
    field.name
    for field in Cluster._meta.concrete_fields
    if not field.primary_key and field.name not in KEPT_BY_SETTINGS
)


def cluster_name_taken(team_id: int, name: str, *, other_than: int | None = None) -> bool:
    """Whether another cluster of the team already has ``name``, in any case."""
    return Cluster.objects.filter(team_id=team_id, name__iexact=name).exclude(pk=other_than).exists()


def save_cluster(cluster: Cluster, *, credentials: str | None = None, actor=None) -> Cluster:
    """Create or update a cluster and its schedule. ``credentials=None`` keeps the stored ones.

    Audited: cluster.created / cluster.updated, and cluster.credentials_changed
    (never with the credentials themselves).
    """
    created = cluster.pk is None
    with transaction.atomic():
        before = None if created else Cluster.objects.filter(pk=cluster.pk).values(*AUDITED_FIELDS).first()
        if credentials is not None:
            cluster.set_credentials(credentials)
        if (
            before is None
            or credentials is not None
            or _reached_differently(SimpleNamespace(**before), cluster)
        ):
            cluster.connection_changed_at = timezone.now()
        try:
            with transaction.atomic():
                # Settings never touch the pause, the identity or the last scan: a form loaded before
                # a pause must not save the cluster unpaused, nor one loaded before a scan its last scan.
                cluster.save(update_fields=None if created else SETTINGS_FIELDS)
        except IntegrityError as exc:
            # Forms check the name first; two requests for the same name at once meet here.
            if "cluster_name_unique_in_team" in str(exc):
                if created:
                    cluster.pk = None
                raise ClusterNameTaken() from None
            raise
        if not created:
            cluster.refresh_from_db(fields=KEPT_BY_SETTINGS)
        schedules.sync_schedule(cluster)
        # What an update changed, by name only: values may be long (a CA bundle) or private.
        changed = (
            {}
            if before is None
            else {"changed": [name for name in AUDITED_FIELDS if before[name] != getattr(cluster, name)]}
        )
        # Check settings decide what is reported at all: say which checks and options changed, and how.
        settings_changed = cluster_check_settings.changes(
            before["check_settings"] if before else {}, cluster.check_settings
        )
        if settings_changed:
            changed["check_settings"] = settings_changed
        audit.record(
            "cluster.created" if created else "cluster.updated",
            actor=actor,
            target=cluster,
            mode=cluster.connection_mode,
            team=cluster.team.slug,
            **changed,
        )
        if credentials is not None:
            audit.record("cluster.credentials_changed", actor=actor, target=cluster)
    return cluster


def delete_cluster(cluster: Cluster, *, actor, request=None) -> None:
    """Delete a cluster with its scans, snapshots, findings and their history; its schedule first."""
    cluster.scan_interval_minutes, cluster.scan_cron = None, ""
    with transaction.atomic():
        schedules.sync_schedule(cluster)
        audit.record("cluster.deleted", actor=actor, target=cluster, request=request, team=cluster.team.slug)
        cluster.delete()


# --- Housekeeping (periodic) -----------------------------------------------------


def reap_stale_scans(now: datetime | None = None) -> int:
    """Fail scans whose worker died (killed, out of memory, machine lost) or that no worker took.

    A running scan past the hard time limit (plus a grace period) cannot still be
    running: Celery would have killed it. Its transaction was rolled back with
    the worker, so no findings of it exist; it only needs a final status.
    """
    now = now or timezone.now()
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + settings.RAMPART_REAPER_GRACE_SECONDS)
    queued_limit = timedelta(seconds=settings.RAMPART_QUEUED_SCAN_TIMEOUT)
    reasons = [
        (
            Scan.objects.filter(status=ScanStatus.RUNNING, started_at__lt=now - limit),
            "the worker running this scan stopped (killed, out of memory or lost); "
            "nothing from it was stored",
        ),
        (
            Scan.objects.filter(status=ScanStatus.QUEUED, created_at__lt=now - queued_limit),
            f"no worker started this scan within {settings.RAMPART_QUEUED_SCAN_TIMEOUT // 60} minutes; "
            "check that Celery workers consume the 'scans' queue",
        ),
    ]
    reaped = []
    for stale, reason in reasons:
        ids = list(stale.values_list("pk", flat=True))
        # Conditional on the status still being active: a scan finishing right now wins.
        Scan.objects.filter(pk__in=ids, status__in=ScanStatus.active()).update(
            status=ScanStatus.FAILED, phase=ScanPhase.DONE, finished_at=now, error=reason
        )
        reaped += ids
    if reaped:
        logger.warning("reaper failed %s scans: %s", len(reaped), reaped)
    for scan in Scan.objects.filter(pk__in=reaped, status=ScanStatus.FAILED).select_related("cluster"):
        notify_scan_finished(scan)  # a lost scan is a failed scan: the team hears about it
    return len(reaped)


def prune_old_detail(now: datetime | None = None) -> dict[str, int]:
    """Drop per-scan detail older than the retention period; keep the summary rows trends read.

    Removed: snapshots (except each cluster's newest), the per-namespace, per-check and
    per-document breakdowns of old scans, and findings resolved before the cutoff
    (with their history). Kept: every scan's status, counts, score and compliance.
    """
    from findings.models import Finding, FindingStatus

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RAMPART_RETENTION_DAYS)
    newest = {
        cluster.pk: cluster.snapshots.values_list("pk", flat=True).first()
        for cluster in Cluster.objects.all()
    }
    old_snapshots = Snapshot.objects.filter(uploaded_at__lt=cutoff).exclude(
        pk__in=[pk for pk in newest.values() if pk]
    )
    snapshots, _ = old_snapshots.delete()
    scans = (
        Scan.objects.filter(created_at__lt=cutoff)
        .exclude(counts_by_namespace={}, counts_by_check={}, collection_errors=[])
        .update(counts_by_namespace={}, counts_by_check={}, collection_errors=[])
    )
    findings, _ = Finding.objects.filter(status=FindingStatus.RESOLVED, resolved_at__lt=cutoff).delete()
    return {"snapshots": snapshots, "scans": scans, "findings": findings}


# --- Connection test (the "Test connection" button) ---------------------------------

LIVE_MODES = (ConnectionMode.KUBECONFIG, ConnectionMode.TOKEN, ConnectionMode.IN_CLUSTER)


class NotReachedOverTheNetwork(Exception):
    def __init__(self):
        super().__init__(
            "snapshot and agent clusters are not reached over the network, so there is nothing to test"
        )


def try_stored_connection(cluster: Cluster):
    """try_cluster_connection with what is stored for a registered live cluster, as its scans will
    connect; NotReachedOverTheNetwork for snapshot and agent clusters."""
    if cluster.connection_mode not in LIVE_MODES:
        raise NotReachedOverTheNetwork()
    try:
        connection = live_connection(cluster)
    except CollectionError as exc:  # unreadable credentials, or settings no longer valid
        return live.ConnectionReport(api_url=cluster.api_url, ok=False, error=str(exc), attempted=False)
    return live.test_connection(connection)


def try_cluster_connection(
    mode: str,
    *,
    api_url: str = "",
    credentials: str | bytes = "",
    ca_bundle: str = "",
    kube_context: str = "",
):
    """Try to reach a live cluster with these settings; never raises for cluster or setting problems.

    Returns the collector's ConnectionReport (``ok``/``error``, server version,
    what can and cannot be read); ``attempted`` is False when the settings themselves were refused.
    ``credentials`` may be an uploaded kubeconfig's bytes: the kubeconfig reader says what is wrong
    with a file that is not text.
    """
    from posture.scanning.collectors import live
    from posture.scanning.collectors.connection import InvalidConnection

    try:
        connection = live.connection_from(
            mode, api_url=api_url, credentials=credentials, ca_bundle=ca_bundle, kube_context=kube_context
        )
    except InvalidConnection as exc:
        return live.ConnectionReport(api_url=api_url, ok=False, error=str(exc), attempted=False)
    return live.test_connection(connection)
