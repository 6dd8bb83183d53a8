"""What every page's navigation needs to know about the user."""

from django.utils.functional import SimpleLazyObject

from accounts.models import Role
from accounts.permissions import teams_with_role


def navigation(request) -> dict:
    # Lazy: one small query, made only where a template asks (signed-in pages' navigation).
    def administers_a_team() -> bool:
        return request.user.is_authenticated and teams_with_role(request.user, Role.ADMIN).exists()

    return {"administers_a_team": SimpleLazyObject(administers_a_team)}
