"""What pages need to know about the user and the installation: the navigation, how tasks run, and
the next step where there are no clusters."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from accounts.models import Membership, Role
from accounts.permissions import teams_with_role


def navigation(request) -> dict:
    # Lazy: one small query, made only where a template asks (signed-in pages' navigation).
    def administers_a_team() -> bool:
        return request.user.is_authenticated and teams_with_role(request.user, Role.ADMIN).exists()

    return {
        "administers_a_team": SimpleLazyObject(administers_a_team),
        # No worker and no beat (the embedded default): scans run inside the request that starts
        # them, and schedules wait for a beat process.
        "tasks_in_process": settings.CELERY_TASK_ALWAYS_EAGER,
    }


def first_steps(user) -> dict:
    """What the pages without clusters offer next: register one, create a team, or ask to join one."""
    return {
        "can_create": teams_with_role(user, Role.ADMIN).exists(),
        "in_a_team": Membership.objects.filter(user=user).exists(),
    }
