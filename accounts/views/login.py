"""The login, in two steps (the first a password or a single sign-on, accounts/views/sso.py).

After the password step the session holds only a "pending login" (who, which
step, since when); the user is logged in, and user_logged_in fires, only once
the second factor has passed, or, for users who must use one and have none
yet, once they have enrolled.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_protect

from accounts import clock, mfa, mfa_enforcement, services
from accounts.forms import LoginForm, RecoveryCodeForm, TotpCodeForm
from accounts.oidc import config as oidc_config
from accounts.oidc import logout as oidc_logout
from accounts.views.common import private, public_url, safe_next, sensitive
from posture.request_id import client_ip

PENDING = "accounts.pending_login"
PENDING_SECONDS = 600  # time to open the authenticator app, or to set one up
VERIFY, ENROL = "verify", "enrol"
IDP_SECOND_FACTOR = "identity_provider"  # the audit log's second_factor when the provider checked one

# --- The pending login ----------------------------------------------------------


def _start_pending(request, user, stage: str, next_url: str, method: str) -> None:
    # A new session key for the half-logged-in state: a fixated session id is
    # worth nothing.
    request.session.cycle_key()
    request.session[PENDING] = {
        "user_id": user.pk,
        "backend": user.backend,
        "stage": stage,
        "next": next_url,
        "at": int(clock.now().timestamp()),
        "method": method,
    }


def _pending(request, stage: str):
    """(user, pending data) for a browser at this step of the login, else (None, None)."""
    data = request.session.get(PENDING)
    if not data or data.get("stage") != stage:
        return None, None
    if clock.now().timestamp() - data["at"] > PENDING_SECONDS:
        del request.session[PENDING]
        return None, None
    user = get_user_model().objects.filter(pk=data["user_id"], is_active=True).first()
    return user, data


def _complete_login(request, user, backend: str, second_factor: str | None, method: str = "password") -> None:
    request.session.pop(PENDING, None)
    # Read by the audit log's login handler.
    request.rampart_second_factor = second_factor
    request.rampart_login_method = method
    login(request, user, backend=backend)  # a new session key: a fixated session id is worth nothing
    services.login_succeeded(user)
    if method == "oidc":
        # Logging out then ends the provider's session too.
        request.session[oidc_logout.SSO_SESSION_KEY] = True
    if second_factor == IDP_SECOND_FACTOR:
        request.session[mfa_enforcement.IDP_MFA_SESSION_KEY] = True


def continue_login(request, user, next_url: str, *, method: str = "password", idp_mfa: bool = False):
    """After the first step (a password, or a single sign-on): the second factor, or the login itself.

    ``idp_mfa``: the identity provider checked a second factor, which then stands for Rampart's.
    """
    if idp_mfa:
        _complete_login(request, user, user.backend, IDP_SECOND_FACTOR, method)
        return redirect(next_url)
    if mfa.is_enrolled(user):
        _start_pending(request, user, VERIFY, next_url, method)
        return redirect("accounts:login-verify")
    if mfa.is_required_for(user):
        _start_pending(request, user, ENROL, next_url, method)
        return redirect("accounts:login-enrol")
    _complete_login(request, user, user.backend, None, method)
    return redirect(next_url)


def _expired(request):
    messages.error(request, "Your login took too long or was interrupted. Please log in again.")
    return redirect("accounts:login")


@private
@sensitive
@method_decorator(csrf_protect, name="dispatch")
class LoginView(View):
    template_name = "accounts/login.html"

    def get(self, request):
        return self._page(request, LoginForm())

    def post(self, request):
        form = LoginForm(request.POST)
        if not form.is_valid():
            form.add_error(None, services.INVALID_CREDENTIALS)
            return self._page(request, form)
        try:
            user = services.check_password(
                form.cleaned_data["username"],
                form.cleaned_data["password"],
                ip=client_ip(request),
                superusers_only=not oidc_config.password_login_open(),
            )
        except services.LoginRefused as refused:
            form.add_error(None, refused.message)
            return self._page(request, form)
        return continue_login(request, user, safe_next(request, request.POST.get("next")))

    def _page(self, request, form):
        next_url = request.POST.get("next") or request.GET.get("next", "")
        context = {
            "form": form,
            "next": next_url,
            # With RAMPART_OIDC_ONLY the form is shown only at ?password=1, for superusers.
            "password_form": oidc_config.password_login_open()
            or request.method == "POST"
            or request.GET.get("password") == "1",
            "sso_name": oidc_config.provider_name() if oidc_config.enabled() else "",
        }
        return render(request, self.template_name, context)


@private
@sensitive
@method_decorator(csrf_protect, name="dispatch")
class LoginVerifyView(View):
    """Second step: a code from the authenticator, or one recovery code."""

    template_name = "accounts/login_verify.html"

    def get(self, request):
        user, _ = _pending(request, VERIFY)
        if user is None:
            return _expired(request)
        return self._page(request, TotpCodeForm(), RecoveryCodeForm())

    def post(self, request):
        user, data = _pending(request, VERIFY)
        if user is None:
            return _expired(request)
        using_recovery = "recovery_code" in request.POST
        totp_form = TotpCodeForm(None if using_recovery else request.POST)
        recovery_form = RecoveryCodeForm(request.POST if using_recovery else None)
        form = recovery_form if using_recovery else totp_form
        if not form.is_valid():
            return self._page(request, totp_form, recovery_form)
        try:
            method = services.check_second_factor(
                user,
                code=form.cleaned_data.get("code", ""),
                recovery_code=form.cleaned_data.get("recovery_code", ""),
                ip=client_ip(request),
            )
        except services.LoginRefused as refused:
            if refused.locked:
                request.session.pop(PENDING, None)
                messages.error(request, refused.message)
                return redirect("accounts:login")
            form.add_error(None, refused.message)
            return self._page(request, totp_form, recovery_form)
        _complete_login(request, user, data["backend"], method, data.get("method", "password"))
        if method == "recovery_code":
            left = mfa.unused_recovery_codes(user)
            messages.warning(
                request,
                f"You used a recovery code; {left} left. If your authenticator is lost, "
                "turn two-factor authentication off and on again on the Account security page.",
            )
        return redirect(data["next"])

    def _page(self, request, totp_form, recovery_form):
        return render(request, self.template_name, {"form": totp_form, "recovery_form": recovery_form})


class EnrolPage:
    """Shared by the enrolment during login and the one from the Account security page."""

    template_name = "accounts/mfa_enrol.html"

    def enrol_page(self, request, device, form, *, during_login: bool):
        uri = mfa.provisioning_uri(device)
        secret = mfa.secret_of(device)
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "secret": secret,
                "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
                "otpauth_uri": uri,
                "qr_code": mfa.qr_code_data_uri(uri),
                "during_login": during_login,
            },
        )


@private
@sensitive
@method_decorator(csrf_protect, name="dispatch")
class LoginEnrolView(EnrolPage, View):
    """For users who must use a second factor and have none: set it up before the login completes."""

    def get(self, request):
        user, data = _pending(request, ENROL)
        if user is None:
            return _expired(request)
        try:
            device = mfa.begin_enrolment(user)
        except mfa.AlreadyEnrolled:
            # Set up in another tab meanwhile: a code is now needed, as for any login.
            data["stage"] = VERIFY
            request.session[PENDING] = data
            return redirect("accounts:login-verify")
        return self.enrol_page(request, device, TotpCodeForm(), during_login=True)

    def post(self, request):
        user, data = _pending(request, ENROL)
        if user is None:
            return _expired(request)
        form = TotpCodeForm(request.POST)
        if form.is_valid():
            try:
                codes = mfa.confirm_enrolment(user, form.cleaned_data["code"])
            except mfa.InvalidCode:
                form.add_error("code", "That code did not work. Check the time on your phone and try again.")
            else:
                _complete_login(request, user, data["backend"], "totp", data.get("method", "password"))
                return render_recovery_codes(request, codes, data["next"])
        try:
            device = mfa.begin_enrolment(user)
        except mfa.AlreadyEnrolled:
            return redirect("accounts:login-verify")
        return self.enrol_page(request, device, form, during_login=True)


def render_recovery_codes(request, codes: list[str], continue_url: str):
    # Rendered into this one response and never stored in plaintext: shown once.
    context = {
        "codes": codes,
        "codes_text": "".join(f"{code}\n" for code in codes),
        "continue_url": continue_url,
    }
    return render(request, "accounts/mfa_recovery_codes.html", context)


def admin_login(request):
    """The admin site's login: Rampart's own (throttling, second factor), never the admin's form.

    A signed-in user who is not staff is told so: sending them to the login page, which
    sends them back here, would loop without a word.
    """
    if request.user.is_authenticated and not request.user.is_staff:
        raise PermissionDenied("The admin site is for Rampart's staff accounts.")
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("accounts:login") + (f"?{query}" if query else ""))


class LogoutView(auth_views.LogoutView):
    """Django's logout (POST only), saying that it happened on the login page it leads to; after a
    single sign-on, by way of the provider's own logout (accounts.oidc.logout)."""

    def post(self, request, *args, **kwargs):
        was_logged_in = request.user.is_authenticated
        by_sso = bool(request.session.get(oidc_logout.SSO_SESSION_KEY))
        response = super().post(request, *args, **kwargs)
        if was_logged_in:
            messages.info(request, "You are logged out.")
        if by_sso and (at_provider := oidc_logout.provider_logout_url(public_url(request, "accounts:login"))):
            return redirect(at_provider)
        return response
