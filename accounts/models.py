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
    """A user's role in a team.

    ``source`` says who manages it: ``manual`` (a team admin, the API, the admin site) or ``sso``
    (granted from the identity provider's groups at each single sign-on, and taken away with
    them). Single sign-on changes only its own; a team admin who changes the role of an ``sso``
    membership by hand makes it ``manual``.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", "Granted in Rampart"
        SSO = "sso", "From single sign-on groups"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)

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


class TotpDevice(models.Model):
    """A user's authenticator (RFC 6238 TOTP). Unconfirmed until the user proves it with a first code.

    The secret is Fernet ciphertext (posture.crypto, RAMPART_ENCRYPTION_KEYS);
    ``rotate_keys`` re-encrypts it. ``last_used_step`` is the newest 30-second
    step that was accepted: a code for that step or an older one is a replay.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    secret_encrypted = models.TextField(editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        state = "confirmed" if self.confirmed_at else "pending"
        return f"authenticator of {self.user} ({state})"


class RecoveryCode(models.Model):
    """A one-time code for when the authenticator is lost; stored as a SHA-256 hash.

    The codes carry 80 random bits, so a fast hash is enough (as for API tokens).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")]

    def __str__(self) -> str:
        return f"recovery code of {self.user}{' (used)' if self.used_at else ''}"


class LoginThrottle(models.Model):
    """Failed logins counted per key: ``user:<username>`` (whether or not it exists) or ``ip:<address>``.

    Kept in the database rather than the cache so that every web process sees
    the same counts and a restart does not unlock anybody.
    """

    key = models.CharField(max_length=200, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.failures} failures"


class AuditEvent(models.Model):
    """Who did what, when, from where. Written through accounts.audit.record(); never edited.

    ``actor`` is null for the system (scheduled jobs, commands) and for
    anonymous attempts; ``actor_label`` keeps the username if the user is
    later deleted. ``details`` never holds secrets (record() redacts them).
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["action", "at"], name="audit_action_at"),
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label or 'system'} {self.action}"


class OidcIdentity(models.Model):
    """The identity provider's account (issuer + subject) behind a Rampart user.

    Single sign-on finds users by this pair only, never by email: an email address can change
    hands or be claimed unverified at another provider. An administrator links an existing
    account by adding a row here (admin site); otherwise the first login creates the user.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identities"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique_issuer_subject")
        ]
        verbose_name_plural = "OIDC identities"

    def __str__(self) -> str:
        return f"{self.user} at {self.issuer} ({self.subject})"
