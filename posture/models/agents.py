"""The in-cluster agent's credentials and the pushes it made.

An ingest token (``rpi_<id>_<secret>``) belongs to one cluster and can do one
thing: push a snapshot of that cluster (POST /api/v1/clusters/{id}/snapshots).
Like personal API tokens it is shown once, stored as a SHA-256 hash, and may expire.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# How long before a token expires the cluster's pages warn about it, when no other token would
# carry on: time to issue a new one and put it in the agent's Secret.
EXPIRY_WARNING = timedelta(days=14)


class IngestTokenQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )

    def about_to_expire(self, now=None) -> "IngestToken | None":
        """The token to warn about: while every active token expires within EXPIRY_WARNING, the one
        the agent used last (the one it holds). None once a token that lasts longer exists."""
        now = now or timezone.now()
        active = list(self.active(now))
        if not active or any(t.expires_at is None or t.expires_at > now + EXPIRY_WARNING for t in active):
            return None
        return max(active, key=lambda t: (t.last_used_at is not None, t.last_used_at or t.created_at))


class IngestToken(models.Model):
    PREFIX = "rpi_"

    cluster = models.ForeignKey("posture.Cluster", on_delete=models.CASCADE, related_name="ingest_tokens")
    name = models.CharField(max_length=100)
    token_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # None: until revoked
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = IngestTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.PREFIX}{self.token_id}_…) for cluster {self.cluster_id}"

    @staticmethod
    def hash_secret(secret: str) -> str:
        # 256 random bits: a fast hash is enough (nothing to brute-force).
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, cluster, name: str, *, created_by=None, expires_at=None) -> tuple["IngestToken", str]:
        """Create a token for one cluster; the plaintext is returned once and never stored."""
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        token = cls.objects.create(
            cluster=cluster,
            name=name,
            token_id=token_id,
            secret_hash=cls.hash_secret(secret),
            created_by=created_by,
            expires_at=expires_at,
        )
        return token, f"{cls.PREFIX}{token_id}_{secret}"

    def state(self, now=None) -> str:
        """revoked, expired or active, as the agent page shows it."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or timezone.now()):
            return "expired"
        return "active"

    def revoke(self, now=None) -> None:
        now = now or timezone.now()
        IngestToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=now)
        self.revoked_at = self.revoked_at or now


class AgentPush(models.Model):
    """One snapshot push, remembered by its Idempotency-Key so that a retried push is answered the same.

    The row is claimed (unique cluster + key) before the snapshot is processed;
    ``status_code`` stays 0 until the first request has its answer.
    """

    cluster = models.ForeignKey("posture.Cluster", on_delete=models.CASCADE, related_name="agent_pushes")
    token = models.ForeignKey(IngestToken, null=True, on_delete=models.SET_NULL, related_name="pushes")
    idempotency_key = models.CharField(max_length=200)
    request_sha256 = models.CharField(max_length=64, blank=True)
    status_code = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(default=dict, blank=True)
    scan = models.ForeignKey(
        "posture.Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "idempotency_key"], name="agent_push_unique_key")
        ]

    def __str__(self) -> str:
        return (
            f"push {self.idempotency_key[:20]} to cluster {self.cluster_id} ({self.status_code or 'pending'})"
        )
