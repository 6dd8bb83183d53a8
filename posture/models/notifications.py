"""Where Rampart sends notifications, and what happened to each message.

A ``NotificationEndpoint`` belongs to a team: its URL and signing secret are
stored encrypted (posture.crypto) and never shown back; a Slack incoming
webhook's URL is itself a credential. A ``NotificationDelivery`` is one message
to one endpoint (one per scan or digest, never one per finding), with each
HTTP attempt in ``NotificationAttempt``.
"""

from django.db import models
from django.db.models.functions import Lower

from posture import crypto


class NotificationEvent(models.TextChoices):
    NEW_FINDINGS = "findings.new", "New critical or high findings after a scan"
    SCAN_FAILED = "scan.failed", "Scan failed"
    OVERDUE_DIGEST = "digest.overdue", "Daily digest of overdue findings"
    AGENT_ATTENTION = "agent.attention", "Daily: agents that stopped pushing or whose token expires soon"


ENDPOINT_NAME_TAKEN = "This team already has a notification endpoint of this name."


class NotificationEndpoint(models.Model):
    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "Generic webhook (JSON, HMAC-SHA256 signed)"
        SLACK = "slack", "Slack-compatible incoming webhook"

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="notification_endpoints")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.WEBHOOK)
    url_encrypted = models.TextField(editable=False)
    url_host = models.CharField(max_length=255, editable=False)  # what may be shown of the URL
    secret_encrypted = models.TextField(blank=True, editable=False)
    events = models.JSONField(default=list, blank=True)  # NotificationEvent values; empty: all
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team", "name"]
        constraints = [
            # The delivery log and the audit trail name endpoints: two "slack" in a team would be ambiguous.
            models.UniqueConstraint(
                Lower("name"),
                "team",
                name="notification_endpoint_name_unique_in_team",
                violation_error_message=ENDPOINT_NAME_TAKEN,
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()}, {self.url_host})"

    def set_url(self, url: str) -> None:
        from urllib.parse import urlsplit

        self.url_encrypted = crypto.encrypt(url)
        self.url_host = (urlsplit(url).hostname or "")[:255]

    def get_url(self) -> str:
        return crypto.decrypt(self.url_encrypted) if self.url_encrypted else ""

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = crypto.encrypt(secret) if secret else ""

    def get_secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted) if self.secret_encrypted else ""

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    @property
    def event_labels(self) -> list[str]:
        """What it is sent, in words; empty for every event."""
        return [NotificationEvent(event).label for event in self.events if event in NotificationEvent.values]

    def wants(self, event: str) -> bool:
        return self.enabled and (not self.events or event in self.events)


class NotificationDelivery(models.Model):
    """One message to one endpoint. ``dedupe_key`` makes a repeated notify call a no-op."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # queued, or waiting for a retry
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"  # every attempt failed, or the endpoint cannot be used

    endpoint = models.ForeignKey(NotificationEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32, choices=NotificationEvent.choices)
    dedupe_key = models.CharField(max_length=100)
    scan = models.ForeignKey(
        "posture.Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # of the last attempt
    error = models.CharField(max_length=500, blank=True)  # of the last attempt
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "notification deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "dedupe_key"], name="notification_delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id}: {self.status}"


class NotificationAttempt(models.Model):
    delivery = models.ForeignKey(NotificationDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.status_code or self.error}"
