from django.db import models


class ScanStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partial"  # finished, but some resource types could not be read
    FAILED = "failed", "Failed"

    @classmethod
    def active(cls) -> list[str]:
        return [cls.QUEUED, cls.RUNNING]

    @classmethod
    def finished(cls) -> list[str]:
        return [cls.SUCCEEDED, cls.PARTIAL, cls.FAILED]


class ScanTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Manual"
    AGENT = "agent", "Agent push"
    UPLOAD = "upload", "Upload"


class ScanPhase(models.TextChoices):
    WAITING = "waiting", "Waiting for a worker"
    COLLECTING = "collecting", "Collecting objects"
    CHECKING = "checking", "Running checks"
    STORING = "storing", "Storing findings"
    DONE = "done", "Done"


class ScanQuerySet(models.QuerySet):
    def for_user(self, user):
        from posture.models.clusters import Cluster

        return self.filter(cluster__in=Cluster.objects.for_user(user))


class Scan(models.Model):
    """One read of a cluster and what the checks made of it.

    Status transitions (only posture.services moves a scan between them):

        queued  -> running      a worker claimed it (conditional UPDATE: one claim wins)
        queued  -> failed       it could not start (no snapshot, credentials unreadable)
        running -> succeeded    every resource type was read; findings stored
        running -> partial      some resource types could not be read (coverage_gaps);
                                findings stored, nothing that depends on a gap resolved
        running -> failed       cluster unreachable, bad credentials, timeout, worker lost;
                                no findings from this scan are stored

    Succeeded, partial and failed are final. A database constraint allows at
    most one queued or running scan per cluster.
    """

    cluster = models.ForeignKey("posture.Cluster", on_delete=models.CASCADE, related_name="scans")
    trigger = models.CharField(max_length=16, choices=ScanTrigger.choices, default=ScanTrigger.MANUAL)
    status = models.CharField(max_length=16, choices=ScanStatus.choices, default=ScanStatus.QUEUED)
    phase = models.CharField(max_length=16, choices=ScanPhase.choices, default=ScanPhase.WAITING)
    snapshot = models.ForeignKey(
        "posture.Snapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="scans"
    )
    created_at = models.DateTimeField(db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)  # one line a user can act on

    # What was read
    server_version = models.CharField(max_length=64, blank=True)
    objects_collected = models.JSONField(default=dict, blank=True)  # kind -> count
    coverage_gaps = models.JSONField(default=dict, blank=True)  # kind -> reason
    not_assessed = models.JSONField(default=dict, blank=True)  # check id -> reason
    collection_errors = models.JSONField(default=list, blank=True)  # malformed snapshot documents

    # The summary row that trends read (never the findings table)
    findings_count = models.PositiveIntegerField(default=0)
    counts_by_severity = models.JSONField(default=dict, blank=True)
    counts_by_category = models.JSONField(default=dict, blank=True)
    counts_by_namespace = models.JSONField(default=dict, blank=True)
    # Open or acknowledged findings per check: the overview's "top failing checks" without reading
    # the findings table.
    counts_by_check = models.JSONField(default=dict, blank=True)
    new_count = models.PositiveIntegerField(default=0)
    resolved_count = models.PositiveIntegerField(default=0)
    reopened_count = models.PositiveIntegerField(default=0)
    accepted_risk_count = models.PositiveIntegerField(default=0)
    # The accepted risks among counts_by_severity, by severity: trends count what still needs work.
    # Empty on scans stored before it existed (their accepted risks cannot be told apart by severity).
    accepted_by_severity = models.JSONField(default=dict, blank=True)
    exempted_count = models.PositiveIntegerField(default=0)
    score = models.FloatField(null=True, blank=True)
    grade = models.CharField(max_length=1, blank=True)
    framework_compliance = models.JSONField(default=dict, blank=True)

    objects = ScanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster"],
                condition=models.Q(status__in=["queued", "running"]),
                name="scan_one_active_per_cluster",
            )
        ]
        indexes = [
            models.Index(fields=["cluster", "-created_at"], name="scan_cluster_created"),
            # Trends read where each cluster stood at a moment: its last scan finished by then.
            models.Index(fields=["cluster", "finished_at"], name="scan_cluster_finished"),
        ]

    def __str__(self) -> str:
        return f"scan #{self.pk} of {self.cluster_id} ({self.status})"

    @property
    def open_count(self) -> int:
        """Findings that still need work (open or acknowledged): accepted risks are counted apart."""
        return max(0, (self.findings_count or 0) - (self.accepted_risk_count or 0))

    @property
    def is_active(self) -> bool:
        return self.status in ScanStatus.active()

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def is_complete(self) -> bool:
        """Every resource type was read, so absence of a finding means it is gone."""
        return self.status == ScanStatus.SUCCEEDED
