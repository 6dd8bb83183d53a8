from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from posture import crypto


class ConnectionMode(models.TextChoices):
    SNAPSHOT = "snapshot", "Snapshot upload"
    KUBECONFIG = "kubeconfig", "Kubeconfig"
    TOKEN = "token", "API URL and bearer token"
    IN_CLUSTER = "in_cluster", "In-cluster service account"
    AGENT = "agent", "Agent push"


NAME_TAKEN = "This team already has a cluster of this name."
MIN_SCAN_INTERVAL_MINUTES = 5
MAX_SCAN_INTERVAL_MINUTES = 366 * 24 * 60  # a year: longer is not a schedule
MAX_PAUSE_REASON_LENGTH = 200


class ClusterQuerySet(models.QuerySet):
    def for_user(self, user):
        """The clusters a user may see: their teams' (everything for superusers)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(team__memberships__user=user)

    def with_latest_attempt(self):
        """Each cluster's newest scan attempt, whatever became of it, as ``latest_*`` annotations:
        ``last_scan`` is the newest scan whose results were stored, which a failed or running scan
        does not replace."""
        from posture.models.scans import Scan

        newest = Scan.objects.filter(cluster=models.OuterRef("pk")).order_by("-created_at", "-id")
        return self.annotate(
            latest_scan_id=models.Subquery(newest.values("id")[:1]),
            latest_status=models.Subquery(newest.values("status")[:1]),
            latest_error=models.Subquery(newest.values("error")[:1]),
            latest_at=models.Subquery(newest.values("created_at")[:1]),
            latest_finished_at=models.Subquery(newest.values("finished_at")[:1]),
        )


class Cluster(models.Model):
    # Unique within its team, whatever the case: two teams may each have their "prod" (and a team
    # learns nothing of another's clusters by choosing a name).
    name = models.CharField(max_length=100)
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="clusters")
    description = models.CharField(max_length=300, blank=True)
    connection_mode = models.CharField(
        max_length=16, choices=ConnectionMode.choices, default=ConnectionMode.SNAPSHOT
    )
    api_url = models.URLField(blank=True)
    ca_bundle = models.TextField(blank=True)  # a CA certificate is public; stored as is
    kube_context = models.CharField(max_length=200, blank=True)
    # Fernet ciphertext of the kubeconfig or bearer token. Write-only: nothing
    # renders it; read it through get_credentials() where a collector needs it.
    credentials_encrypted = models.TextField(blank=True, editable=False)
    scan_interval_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[
            MinValueValidator(MIN_SCAN_INTERVAL_MINUTES),
            MaxValueValidator(MAX_SCAN_INTERVAL_MINUTES),
        ],
        help_text="Scan automatically this often; empty means only on demand.",
    )
    scan_cron = models.CharField(
        max_length=100,
        blank=True,
        help_text="Or a cron expression (minute hour day-of-month month day-of-week), e.g. '0 3 * * *'.",
    )
    check_settings = models.JSONField(default=dict, blank=True)
    # Which cluster its snapshots come from (posture/cluster_identity.py): the kube-system
    # namespace's uid in the first snapshot that had one. A snapshot of another cluster is refused
    # and remembered in the two fields after it, until a team admin accepts it (a rebuilt cluster).
    kube_system_uid = models.CharField(max_length=64, blank=True, editable=False)
    other_kube_system_uid = models.CharField(max_length=64, blank=True, editable=False)
    other_cluster_refused_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_scan = models.ForeignKey(
        "posture.Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When how Rampart reaches it last changed (mode, address, CA, context, credentials): a scan that
    # failed before then is no advice on the settings now. A rename or a new schedule does not count.
    connection_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Paused: no scheduled, manual or pushed scan starts until resumed (posture.pausing, the only
    # writer). The schedule fields above stay as they were, so resuming restores them exactly.
    # Not editable: the settings form and serializer never carry them, and saving settings keeps them.
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    pause_reason = models.CharField(max_length=MAX_PAUSE_REASON_LENGTH, blank=True, editable=False)
    # A pause for a maintenance window ends by itself: beat resumes it at this time (or soon after).
    paused_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClusterQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "team",
                name="cluster_name_unique_in_team",
                violation_error_message=NAME_TAKEN,
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def receives_snapshots(self) -> bool:
        """Read from uploaded or pushed snapshots, not by Rampart over the network."""
        return self.connection_mode in (ConnectionMode.SNAPSHOT, ConnectionMode.AGENT)

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)

    def set_credentials(self, plaintext: str) -> None:
        self.credentials_encrypted = crypto.encrypt(plaintext) if plaintext else ""

    def get_credentials(self) -> str:
        return crypto.decrypt(self.credentials_encrypted) if self.credentials_encrypted else ""


class Snapshot(models.Model):
    """An uploaded (or agent-pushed) dump of a cluster's objects, scanned like a live read.

    ``content`` is not the upload: it is the upload's objects with every secret
    value removed (collectors.redact), as gzip-compressed JSON. It lives in the
    database so that web and workers on different machines share it without a
    shared volume (a 10,000-workload cluster is ~2.5 MB).
    """

    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload"
        AGENT = "agent", "Agent"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="snapshots")
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)  # of the upload as received
    size = models.PositiveBigIntegerField()  # of the redacted copy kept
    errors = models.JSONField(default=list, blank=True)  # documents of the upload that could not be read
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.UPLOAD)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"snapshot {self.sha256[:12]} of {self.cluster}"
