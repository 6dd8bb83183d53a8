"""Single sign-on pages: the start (off to the provider) and the callback (back with a code).

Thin: the flow's state goes in and out of the session here, everything else is accounts.oidc.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views import View

from accounts.oidc import config, errors, flow
from accounts.oidc.sign_in import failed, sign_in
from accounts.views.common import private, public_url, safe_next
from accounts.views.login import continue_login

PENDING_FLOWS = "accounts.oidc_pending"
MAX_PENDING_FLOWS = 5  # logins started in several tabs; older ones are forgotten
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"  # SSO users are ordinary Django users


def _fail(request, failure: errors.SsoFailed):
    messages.error(request, failure.message)
    return redirect("accounts:login")


@private
class OidcLoginView(View):
    """A link, not a form: a form's redirect to another origin would break CSP's form-action 'self'."""

    def get(self, request):
        if not config.enabled():
            raise Http404("single sign-on is not configured")
        next_url = safe_next(request, request.GET.get("next"))
        try:
            # The redirect URI registered at the provider.
            authorize_url, pending = flow.begin(public_url(request, "accounts:oidc-callback"), next_url)
        except errors.SsoFailed as failure:
            failed(failure)
            return _fail(request, failure)
        flows = dict(request.session.get(PENDING_FLOWS, {}))
        flows[pending.state] = pending.as_dict()
        request.session[PENDING_FLOWS] = dict(list(flows.items())[-MAX_PENDING_FLOWS:])
        return redirect(authorize_url)


@private
class OidcCallbackView(View):
    def get(self, request):
        if not config.enabled():
            raise Http404("single sign-on is not configured")
        flows = dict(request.session.get(PENDING_FLOWS, {}))
        data = flows.pop(request.GET.get("state", ""), None)  # each state works once
        request.session[PENDING_FLOWS] = flows
        pending = flow.Pending.from_dict(data) if data else None
        try:
            signed_in = sign_in(pending, request.GET)
        except errors.SsoFailed as failure:
            return _fail(request, failure)
        user = signed_in.user
        user.backend = MODEL_BACKEND
        return continue_login(request, user, pending.next_url, method="oidc", idp_mfa=signed_in.idp_mfa)
