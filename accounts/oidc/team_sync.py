"""Team roles from the provider's groups (RAMPART_OIDC_TEAM_ROLES), brought up to date at each login.

Only memberships whose source is ``sso`` are granted, raised, lowered or removed here; what a
team admin granted by hand is left as it is, whatever the groups say. Every change is audited
as the Teams page's changes are, with ``source: "sso"`` and no actor (the provider decided).
"""

import logging

from django.conf import settings
from django.db import transaction

from accounts import audit
from accounts.models import Membership, Role, Team

logger = logging.getLogger("rampart.auth")


def groups_of(claims: dict) -> list[str]:
    groups = claims.get(settings.RAMPART_OIDC_GROUPS_CLAIM)
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return []
    return [group for group in groups if isinstance(group, str)]


def mapping_problems(mapping) -> list[str]:
    """What is wrong with the shape of RAMPART_OIDC_TEAM_ROLES (the teams are checked apart)."""
    if not isinstance(mapping, dict):
        return ["must be a JSON object of groups"]
    problems = []
    for group, teams in mapping.items():
        if not isinstance(teams, dict) or not teams:
            problems.append(
                f'group "{group}": expected an object of team slugs to roles, like {{"payments": "viewer"}}'
            )
            continue
        for slug, role in teams.items():
            if role not in Role.values:
                problems.append(
                    f'group "{group}", team "{slug}": unknown role {role!r} (one of {", ".join(Role.values)})'
                )
    return problems


def roles_for(groups: list[str], mapping: dict) -> dict[str, tuple[Role, list[str]]]:
    """{team slug: (the highest role any group grants, the groups that grant it)}."""
    granted: dict[str, tuple[Role, list[str]]] = {}
    for group in groups:
        teams = mapping.get(group)
        if not isinstance(teams, dict):
            continue
        for slug, role_name in teams.items():
            if role_name not in Role.values:
                continue  # reported by the system check at start-up
            role = Role(role_name)
            current = granted.get(slug)
            if current is None or role.rank > current[0].rank:
                granted[slug] = (role, [group])
            elif role == current[0]:
                current[1].append(group)
    return granted


def sync(user, claims: dict) -> None:
    granted = roles_for(groups_of(claims), settings.RAMPART_OIDC_TEAM_ROLES)
    teams = {team.slug: team for team in Team.objects.filter(slug__in=granted)}
    for slug in sorted(set(granted) - set(teams)):
        # The system check catches this at start-up; a team deleted since is skipped, not fatal.
        logger.warning("RAMPART_OIDC_TEAM_ROLES names team %r, which does not exist; skipped", slug)
    member = user.get_username()
    with transaction.atomic():
        existing = {
            membership.team_id: membership
            for membership in Membership.objects.select_for_update().filter(user=user).select_related("team")
        }
        for slug, team in teams.items():
            role, groups = granted[slug]
            membership = existing.get(team.pk)
            if membership is None:
                Membership.objects.create(team=team, user=user, role=role, source=Membership.Source.SSO)
                audit.record(
                    "membership.added", target=team, member=member, role=role, source="sso", groups=groups
                )
            elif membership.source == Membership.Source.SSO and membership.role != role:
                before = membership.role
                membership.role = role
                membership.save(update_fields=["role"])
                audit.record(
                    "membership.role_changed",
                    target=team,
                    member=member,
                    from_role=before,
                    to_role=role,
                    source="sso",
                    groups=groups,
                )
        for membership in existing.values():
            if membership.source == Membership.Source.SSO and membership.team.slug not in teams:
                audit.record(
                    "membership.removed",
                    target=membership.team,
                    member=member,
                    role=membership.role,
                    source="sso",
                )
                membership.delete()
