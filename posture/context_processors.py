"""What pages need to know about the user: the navigation, and the next step where there are no clusters."""

from django.utils.functional import SimpleLazyObject

from accounts.models import Membership, Role
from accounts.permissions import teams_with_role


def navigation(request) -> dict:
    # Lazy: one small query, made only where a template asks (signed-in pages' navigation).
    def administers_a_team() -> bool:
        return request.user.is_authenticated and teams_with_role(request.user, Role.ADMIN).exists()

    return {"administers_a_team": SimpleLazyObject(administers_a_team)}


def first_steps(user) -> dict:
    """What the pages without clusters offer next: register one, create a team, or ask to join one."""
    return {
        "can_create": teams_with_role(user, Role.ADMIN).exists(),
        "in_a_team": Membership.objects.filter(user=user).exists(),
    }
