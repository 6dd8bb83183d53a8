from django.conf import settings
from django.db import models

from findings.querysets import FindingQuerySet


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RISK_ACCEPTED = "risk_accepted", "Risk accepted"
    FALSE_POSITIVE = "false_positive", "False positive"
    RESOLVED = "resolved", "Resolved"

    @classmethod
    def live(cls) -> list[str]:
        """Statuses of a problem that is still there."""
        return [cls.OPEN, cls.ACKNOWLEDGED, cls.RISK_ACCEPTED, cls.FALSE_POSITIVE]


class Finding(models.Model):
    """The same problem on the same object, across scans.

    Identity is ``fingerprint`` (see findings/fingerprints.py): cluster, check,
    owning object and container — never the message or evidence, which change.

    Status transitions (findings/triage.py is the only writer of ``status``):

        from            to               by       requires
        open            acknowledged     user
        open            risk_accepted    user     reason and expiry (at most the configured maximum)
        open            false_positive   user     reason
        acknowledged    open             user
        acknowledged    risk_accepted    user     reason and expiry
        acknowledged    false_positive   user     reason
        risk_accepted   open             user     (reopen) or system when the acceptance expires
        false_positive  open             user     (reopen)
        any live        resolved         system   a complete scan no longer sees it
        resolved        open             system   a scan sees it again (reopened, history kept)

    Every transition writes a FindingEvent: who (user, or system when empty),
    when, from, to and why.
    """

    cluster = models.ForeignKey("posture.Cluster", on_delete=models.CASCADE, related_name="findings")
    fingerprint = models.CharField(max_length=64)
    check_id = models.CharField(max_length=64, db_index=True)
    severity = models.CharField(max_length=10)
    category = models.CharField(max_length=16)
    kind = models.CharField(max_length=64)
    namespace = models.CharField(max_length=253, blank=True)
    name = models.CharField(max_length=253)
    container = models.CharField(max_length=253, blank=True)
    message = models.TextField()
    evidence = models.JSONField(default=dict, blank=True)  # {"path": ..., "value": ...}

    status = models.CharField(max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    status_reason = models.TextField(blank=True)
    risk_accepted_until = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="findings"
    )
    due_at = models.DateTimeField(null=True, blank=True)

    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    first_seen_scan = models.ForeignKey(
        "posture.Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_seen_scan = models.ForeignKey(
        "posture.Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "fingerprint"], name="finding_unique_fingerprint"),
        ]
        indexes = [
            models.Index(fields=["cluster", "status"], name="finding_cluster_status"),
            models.Index(fields=["status", "severity"], name="finding_status_severity"),
        ]

    def __str__(self) -> str:
        return f"{self.check_id} on {self.kind} {self.namespace}/{self.name}"

    @property
    def object_ref(self) -> str:
        ref = f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"
        return f"{ref} [{self.container}]" if self.container else ref


class FindingEvent(models.Model):
    """One change to a finding: status, assignment or a note. Never edited."""

    class Action(models.TextChoices):
        STATUS = "status", "Status changed"
        ASSIGNED = "assigned", "Assigned"

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # empty: the system (a scan, an expiry)
    action = models.CharField(max_length=16, choices=Action.choices)
    from_value = models.CharField(max_length=150, blank=True)
    to_value = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True)
    scan = models.ForeignKey(
        "posture.Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_value} -> {self.to_value}"


class Comment(models.Model):
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=10_000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment by {self.author} on {self.finding_id}"
