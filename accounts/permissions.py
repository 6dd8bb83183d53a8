"""Who may do what: roles are per team; superusers may do everything."""

from rest_framework import permissions

from accounts.models import ApiToken, Membership, Role


def role_in_team(user, team_id: int) -> Role | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    role = Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()
    return Role(role) if role else None


def has_role(user, team_id: int, needed: Role) -> bool:
    role = role_in_team(user, team_id)
    return role is not None and role.rank >= needed.rank


def teams_with_role(user, needed: Role):
    """Team ids in which the user holds at least ``needed``."""
    from accounts.models import Team

    if user.is_superuser:
        return Team.objects.values_list("id", flat=True)
    allowed = [role for role in Role if role.rank >= needed.rank]
    return Membership.objects.filter(user=user, role__in=allowed).values_list("team_id", flat=True)


class TokenScopePermission(permissions.BasePermission):
    """A read-only token may only read, whatever its owner's role."""

    message = "This token is read-only."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        token = request.auth
        return not (isinstance(token, ApiToken) and token.scope != ApiToken.Scope.WRITE)
