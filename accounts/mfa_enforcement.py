"""The second-factor policy holds for the whole session, not only at the login.

The login sends a user who must use a second factor and has none to enrolment, but a session
can outlive that moment: a viewer made a team admin (Teams page or API), a user made staff, an
admin who turns their authenticator off, a policy that became stricter. Until such a user has
set one up, every page leads to the enrolment page and the API refuses their session.
"""

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts import mfa
from posture.api.errors import error_body

MESSAGE = "Your account must use two-factor authentication: set it up to carry on."
# Set at a single sign-on whose identity provider checked a second factor (accounts.oidc.config
# .idp_did_mfa): that session has passed one, though Rampart's own is not set up.
IDP_MFA_SESSION_KEY = "accounts.idp_mfa"


class MfaRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path in _allowed_paths():
            return self.get_response(request)
        if request.session.get(IDP_MFA_SESSION_KEY) or not mfa.is_required_for(user) or mfa.is_enrolled(user):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(error_body("mfa_required", MESSAGE), status=403)
        enrol = reverse("accounts:mfa-enrol")
        messages.warning(request, MESSAGE)
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = enrol
            return response
        return redirect(enrol)


def _allowed_paths() -> set[str]:
    # Where such a user may still go: the enrolment itself, and out.
    return {reverse("accounts:mfa-enrol"), reverse("accounts:logout")}
