"""Single sign-on's configuration, checked at start-up (``manage.py check``, ``migrate``, runserver)
rather than at the first login, where a mistake would only show as people locked out."""

from django.conf import settings
from django.core.checks import Error, register
from django.db import DatabaseError

from accounts.oidc import config, team_sync


@register()
def oidc_settings_check(app_configs, **kwargs):
    issuer = settings.RAMPART_OIDC_ISSUER
    if not issuer:
        if settings.RAMPART_OIDC_ONLY:
            return [
                _error("RAMPART_OIDC_ONLY is set but RAMPART_OIDC_ISSUER is not: nobody could log in.", 10)
            ]
        return []
    problems = []
    if not config.is_usable_url(issuer) or "?" in issuer or "#" in issuer:
        problems.append(
            _error(
                f"RAMPART_OIDC_ISSUER must be an https:// URL without query or fragment, got {issuer!r}.",
                11,
                hint="Plain http:// is accepted for a provider on this machine only (127.0.0.1, localhost).",
            )
        )
    for name in ("RAMPART_OIDC_CLIENT_ID", "RAMPART_OIDC_CLIENT_SECRET"):
        if not getattr(settings, name):
            problems.append(_error(f"{name} is required with RAMPART_OIDC_ISSUER.", 12))
    if "openid" not in settings.RAMPART_OIDC_SCOPES:
        problems.append(_error('RAMPART_OIDC_SCOPES must include "openid".', 13))
    mapping = settings.RAMPART_OIDC_TEAM_ROLES
    shape = team_sync.mapping_problems(mapping)
    problems += [_error(f"RAMPART_OIDC_TEAM_ROLES: {problem}.", 14) for problem in shape]
    if not shape:
        problems += _unknown_teams(mapping)
    return problems


def _unknown_teams(mapping: dict) -> list[Error]:
    from accounts.models import Team

    slugs = {slug for teams in mapping.values() for slug in teams}
    if not slugs:
        return []
    try:
        known = set(Team.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    except DatabaseError:
        return []  # before the first migrate: there are no teams to name yet
    return [
        _error(
            f'RAMPART_OIDC_TEAM_ROLES names team "{slug}", which does not exist.',
            15,
            hint="Use the team's slug (Teams page, or /api/v1/teams/); create the team first.",
        )
        for slug in sorted(slugs - known)
    ]


def _error(message: str, number: int, hint: str | None = None) -> Error:
    return Error(message, hint=hint, id=f"rampart.E1{number:02d}")
