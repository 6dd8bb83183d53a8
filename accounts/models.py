import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    """What a member may do in a team's clusters; each role includes the ones before it."""

    VIEWER = "viewer", "Viewer"  # read everything of the team's clusters
    ENGINEER = "engineer", "Engineer"  # triage findings
    ADMIN = "admin", "Admin"  # clusters, credentials, exceptions, members

    @property
    def rank(self) -> int:
        return [Role.VIEWER, Role.ENGINEER, Role.ADMIN].index(self)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A personal API token: shown once, stored as a SHA-256 hash.

    The token reads ``rpt_<id>_<secret>``: the recognisable prefix lets secret
    scanners spot a leaked one, the id finds the row without a hash scan.
    """

    PREFIX = "rpt_"

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.PREFIX}{self.token_id}_…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        # The secret is 256 random bits, so a fast hash is enough: there is
        # nothing to brute-force that a slow hash would protect.
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name: str, scope: str = Scope.READ, expires_at=None) -> tuple["ApiToken", str]:
        """Create a token; the plaintext is returned once and never stored."""
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            token_id=token_id,
            secret_hash=cls.hash_secret(secret),
            scope=scope,
            expires_at=expires_at,
        )
        return token, f"{cls.PREFIX}{token_id}_{secret}"
