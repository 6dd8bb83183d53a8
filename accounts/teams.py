"""Teams and their members: who may read, triage and administer which clusters.

Superusers create teams; a team's admins add people who already have an account, change
their roles and remove them. A team always keeps at least one admin. Every change is audited.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils.text import slugify

from accounts import audit
from accounts.hidden_characters import has_hidden_characters
from accounts.models import Membership, Role, Team


class MembershipRefused(Exception):
    """A change that cannot be made; the message is for the user, ``field`` the input it concerns, if one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class MembershipConflict(MembershipRefused):
    """Refused because of the team as it is now (already a member, its last admin), not the input."""


def visible_teams(user):
    """The teams a user sees: their own, or every team for a superuser. Each carries ``member_count``,
    ``cluster_count`` and ``your_role`` (the user's role in it; None where they are not a member)."""
    queryset = Team.objects.all()
    if not user.is_superuser:
        # By id, not through the memberships join: the member count must count every member.
        queryset = queryset.filter(pk__in=Membership.objects.filter(user=user).values("team_id"))
    own_role = Membership.objects.filter(team=OuterRef("pk"), user=user).values("role")[:1]
    return queryset.annotate(
        member_count=Count("memberships", distinct=True),
        cluster_count=Count("clusters", distinct=True),
        your_role=Subquery(own_role),
    ).order_by("name")


def team_name_taken(name: str) -> bool:
    return Team.objects.filter(name__iexact=name).exists()


def create_team(name: str, *, actor) -> Team:
    name = " ".join(name.split())
    if not name:
        raise MembershipRefused("give the team a name", field="name")
    if has_hidden_characters(name):
        raise MembershipRefused(
            "a team name may not contain invisible or text-direction characters", field="name"
        )
    if team_name_taken(name):
        raise MembershipRefused(f"a team named {name} already exists", field="name")
    base = slugify(name)[:90] or "team"
    slug, number = base, 1
    while Team.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name, slug=slug)
            audit.record("team.created", actor=actor, target=team, slug=slug)
    except IntegrityError:  # created by another request since the checks above
        raise MembershipRefused(f"a team named {name} already exists", field="name") from None
    return team


def membership_of(team: Team, user) -> Membership | None:
    return Membership.objects.filter(team=team, user=user).first()


def add_member(team: Team, username: str, role: str, *, actor) -> Membership:
    username = username.strip()
    users = get_user_model().objects.filter(is_active=True)
    # Exact first; otherwise "Alice" finds "alice" when no other account differs only in case.
    user = users.filter(username=username).first()
    if user is None:
        matches = list(users.filter(username__iexact=username)[:2])
        user = matches[0] if len(matches) == 1 else None
    if user is None:
        raise MembershipRefused(
            f"no active account is named “{username}”; a Rampart administrator creates accounts "
            "(Admin → Users)",
            field="username",
        )
    existing = membership_of(team, user)
    if existing is not None:
        raise MembershipConflict(
            f"already a member: {user.get_username()}, as {existing.get_role_display().lower()}"
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(team=team, user=user, role=Role(role))
            audit.record("membership.added", actor=actor, target=team, member=user.get_username(), role=role)
    except IntegrityError:  # added by another request since the check above
        raise MembershipConflict(f"already a member: {user.get_username()}") from None
    return membership


def change_role(membership: Membership, role: str, *, actor) -> bool:
    """False if the member already had that role.

    A membership granted from single sign-on groups becomes a hand-made one: the team admin's
    choice is kept at the member's next logins, whatever their groups then say.
    """
    if membership.role == role:
        return False
    with transaction.atomic():
        _keep_an_admin(membership)
        before = membership.role
        membership.role = Role(role)
        membership.source = Membership.Source.MANUAL
        membership.save(update_fields=["role", "source"])
        audit.record(
            "membership.role_changed",
            actor=actor,
            target=membership.team,
            member=membership.user.get_username(),
            from_role=before,
            to_role=role,
        )
    return True


def remove_member(membership: Membership, *, actor) -> None:
    with transaction.atomic():
        _keep_an_admin(membership)
        audit.record(
            "membership.removed",
            actor=actor,
            target=membership.team,
            member=membership.user.get_username(),
            role=membership.role,
        )
        membership.delete()


def _keep_an_admin(membership: Membership) -> None:
    """Refuse to demote or remove a team's last admin (the rows are locked: two admins at once cannot
    each remove the other)."""
    if membership.role != Role.ADMIN:
        return
    admins = list(
        Membership.objects.select_for_update()
        .filter(team_id=membership.team_id, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if admins == [membership.pk]:
        raise MembershipConflict("a team needs at least one admin: make someone else an admin first")
