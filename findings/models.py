from django.conf import settings
from django.db import models
from django.db.models import Q

from findings.querysets import FindingQuerySet, severity_rank
from posture.scanning.inventory import CLUSTER_SCOPED_KINDS


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
        open            risk_accepted    system   an active exception rule matches (linked to the rule)
        acknowledged    risk_accepted    system   an active exception rule matches
        risk_accepted   open             user     (reopen) or system when the acceptance expires
        false_positive  open             user     (reopen)
        any live        resolved         system   a complete scan no longer sees it
        resolved        open             system   a scan sees it again (reopened, history kept)

    Every transition writes a FindingEvent: who (user, or system when empty),
    when, from, to and why.
    """

    # No index of its own: the unique (cluster, fingerprint) index serves cluster lookups.
    cluster = models.ForeignKey(
        "posture.Cluster", on_delete=models.CASCADE, related_name="findings", db_index=False
    )
    fingerprint = models.CharField(max_length=64)
    check_id = models.CharField(max_length=64)  # indexed below, without the LIKE index db_index adds
    severity = models.CharField(max_length=10)
    category = models.CharField(max_length=16)
    kind = models.CharField(max_length=64)
    namespace = models.CharField(max_length=253, blank=True)
    name = models.CharField(max_length=253)
    container = models.CharField(max_length=253, blank=True)
    message = models.TextField()
    evidence = models.JSONField(default=dict, blank=True)  # {"path": ..., "value": ...}
    labels = models.JSONField(default=dict, blank=True)  # the object's labels, for exception rules

    status = models.CharField(max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    status_reason = models.TextField(blank=True)
    risk_accepted_until = models.DateTimeField(null=True, blank=True)
    # Both are empty for most findings: partial indexes below, not full ones, so that a
    # scan's bulk insert does not pay for indexing millions of NULLs.
    exception_rule = models.ForeignKey(
        "findings.ExceptionRule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
        db_index=False,
    )
    due_at = models.DateTimeField(null=True, blank=True)  # from the severity's SLA (findings/sla.py)

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
            models.Index(fields=["check_id"], name="finding_check"),
            models.Index(
                fields=["exception_rule"],
                name="finding_exception_rule",
                condition=Q(exception_rule__isnull=False),
            ),
            models.Index(fields=["assignee"], name="finding_assignee", condition=Q(assignee__isnull=False)),
            # Mean time to resolve reads resolved findings only.
            models.Index(
                fields=["cluster", "resolved_at"], name="finding_resolved", condition=Q(status="resolved")
            ),
            models.Index(fields=["status", "severity"], name="finding_status_severity"),
            # The overview's aggregates, index-only: the accepted risks of each cluster's latest scan
            # (a heap read of every accepted risk took 330 ms at a million findings, 12 ms so), and
            # the open findings per assignee, whose first column also finds the unassigned ones.
            models.Index(
                fields=["cluster", "last_seen_scan", "severity"],
                name="finding_accepted",
                condition=Q(status="risk_accepted"),
            ),
            models.Index(
                fields=["assignee", "cluster", "due_at"],
                name="finding_open_by_assignee",
                condition=Q(status__in=["open", "acknowledged"]),
            ),
            # The findings list's sort orders (pages and API), so that a page of 50 out of a
            # million is an index walk, not a sort: worst first (by rank, not alphabetically),
            # last seen, first seen, due date (also the overdue widget's range).
            models.Index(
                severity_rank().desc(),
                models.F("last_seen_at").desc(),
                models.F("id").desc(),
                name="finding_rank_last_seen",
            ),
            models.Index(models.F("last_seen_at").desc(), models.F("id").desc(), name="finding_last_seen"),
            models.Index(fields=["first_seen_at", "id"], name="finding_first_seen"),
            models.Index(fields=["due_at", "id"], name="finding_due"),
            # One object's findings (the finding page's link, and the `object` filter across clusters):
            # 0.33 s → 5 ms at 1,000,000 findings (docs/benchmarks.md, Pages).
            models.Index(fields=["name", "namespace"], name="finding_object"),
        ]

    def __str__(self) -> str:
        # The audit log keeps this as a triage change's target: a cluster-scoped object has no
        # namespace to put before a slash.
        return f"{self.check_id} on {self.object_ref}"

    @property
    def cluster_scoped(self) -> bool:
        """About a cluster-scoped object or the cluster itself. A namespaced object can have an empty
        namespace too: in an uploaded manifest that names none."""
        return self.kind == "Cluster" or self.kind in CLUSTER_SCOPED_KINDS

    @property
    def object_key(self) -> str:
        """The object as the findings filter ``object`` takes it: "Kind/namespace/name"."""
        return f"{self.kind}/{self.namespace}/{self.name}"

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


class ExceptionRuleQuerySet(models.QuerySet):
    def for_user(self, user):
        from posture.models import Cluster

        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        from accounts.models import Team

        teams = Team.objects.filter(memberships__user=user)
        return self.filter(
            models.Q(cluster__in=Cluster.objects.for_user(user))
            | models.Q(cluster__isnull=True, team__in=teams)
        )

    def active(self, now):
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class ExceptionRule(models.Model):
    """A decision to accept a class of findings until a date, with a reason and an owner.

    Matching findings (open or acknowledged) become risk_accepted, linked to the
    rule, until the rule's expiry; then they return to open. Empty scope fields
    match everything; patterns are shell-style globs (``team-*``).
    """

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="exception_rules")
    cluster = models.ForeignKey(
        "posture.Cluster", null=True, blank=True, on_delete=models.CASCADE, related_name="exception_rules"
    )  # empty: every cluster of the team
    namespace_pattern = models.CharField(max_length=253, blank=True)
    name_pattern = models.CharField(max_length=253, blank=True)
    label_selector = models.JSONField(default=dict, blank=True)  # {"app": "legacy"}: all must match
    check_ids = models.JSONField(default=list, blank=True)  # empty: every check
    reason = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    match_count = models.PositiveIntegerField(default=0)
    last_matched_at = models.DateTimeField(null=True, blank=True)

    objects = ExceptionRuleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"exception #{self.pk}: {self.reason[:60]}"


class NamespaceOwnership(models.Model):
    """Namespaces (by glob) belong to a team; new findings there go to its default assignee."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="namespace_ownerships")
    cluster = models.ForeignKey(
        "posture.Cluster",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="namespace_ownerships",
    )  # empty: every cluster
    namespace_pattern = models.CharField(max_length=253)
    default_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="Lower wins when several patterns match."
    )

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.namespace_pattern} → {self.team}"
