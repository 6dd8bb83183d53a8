"""Account pages. Thin: forms in, a service call, a page or a redirect out.

The login is two steps. After the password step the session holds only a
"pending login" (who, which step, since when); the user is logged in, and
user_logged_in fires, only once the second factor has passed, or, for users
who must use one and have none yet, once they have enrolled.
"""

import csv
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import ListView

from accounts import audit, clock, mfa, services
from accounts.filtersets import AuditEventFilterSet
from accounts.forms import (
    LoginForm,
    PasswordConfirmForm,
    RecoveryCodeForm,
    TokenCreateForm,
    TotpCodeForm,
)
from accounts.models import ApiToken, AuditEvent
from posture.request_id import client_ip

PENDING = "accounts.pending_login"
PENDING_SECONDS = 600  # time to open the authenticator app, or to set one up
VERIFY, ENROL = "verify", "enrol"

# No page here is ever cached: several show a secret exactly once.
private = method_decorator(never_cache, name="dispatch")
sensitive = method_decorator(
    sensitive_post_parameters(
        "password", "code", "recovery_code", "old_password", "new_password1", "new_password2"
    ),
    name="dispatch",
)


def _safe_next(request, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


# --- The pending login ----------------------------------------------------------


def _start_pending(request, user, stage: str, next_url: str) -> None:
    # A new session key for the half-logged-in state: a fixated session id is
    # worth nothing.
    request.session.cycle_key()
    request.session[PENDING] = {
        "user_id": user.pk,
        "backend": user.backend,
        "stage": stage,
        "next": next_url,
        "at": int(clock.now().timestamp()),
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


def _complete_login(request, user, backend: str, second_factor: str | None) -> None:
    request.session.pop(PENDING, None)
    request.rampart_second_factor = second_factor  # read by the audit log's login handler
    login(request, user, backend=backend)
    services.login_succeeded(user)


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
                form.cleaned_data["username"], form.cleaned_data["password"], ip=client_ip(request)
            )
        except services.LoginRefused as refused:
            form.add_error(None, refused.message)
            return self._page(request, form)
        next_url = _safe_next(request, request.POST.get("next"))
        if mfa.is_enrolled(user):
            _start_pending(request, user, VERIFY, next_url)
            return redirect("accounts:login-verify")
        if mfa.is_required_for(user):
            _start_pending(request, user, ENROL, next_url)
            return redirect("accounts:login-enrol")
        _complete_login(request, user, user.backend, None)
        return redirect(next_url)

    def _page(self, request, form):
        next_url = request.POST.get("next") or request.GET.get("next", "")
        return render(request, self.template_name, {"form": form, "next": next_url})


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
        _complete_login(request, user, data["backend"], method)
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
                _complete_login(request, user, data["backend"], "totp")
                return render_recovery_codes(request, codes, data["next"])
        try:
            device = mfa.begin_enrolment(user)
        except mfa.AlreadyEnrolled:
            return redirect("accounts:login-verify")
        return self.enrol_page(request, device, form, during_login=True)


def render_recovery_codes(request, codes: list[str], continue_url: str):
    # Rendered into this one response and never stored in plaintext: shown once.
    return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes, "continue_url": continue_url})


# --- Account security (logged in) ------------------------------------------------


@private
class SecurityView(LoginRequiredMixin, View):
    template_name = "accounts/security.html"

    def get(self, request):
        user = request.user
        return render(
            request,
            self.template_name,
            {
                "enrolled": mfa.is_enrolled(user),
                "required": mfa.is_required_for(user),
                "recovery_codes_left": mfa.unused_recovery_codes(user),
                "disable_form": PasswordConfirmForm(user, prefix="disable"),
                "regenerate_form": PasswordConfirmForm(user, prefix="regenerate"),
            },
        )


@private
@sensitive
class MfaEnrolView(LoginRequiredMixin, EnrolPage, View):
    def get(self, request):
        try:
            device = mfa.begin_enrolment(request.user)
        except mfa.AlreadyEnrolled:
            messages.info(request, "Two-factor authentication is already on.")
            return redirect("accounts:security")
        return self.enrol_page(request, device, TotpCodeForm(), during_login=False)

    def post(self, request):
        form = TotpCodeForm(request.POST)
        if form.is_valid():
            try:
                codes = mfa.confirm_enrolment(request.user, form.cleaned_data["code"])
            except mfa.InvalidCode:
                form.add_error("code", "That code did not work. Check the time on your phone and try again.")
            else:
                return render_recovery_codes(request, codes, reverse("accounts:security"))
        try:
            device = mfa.begin_enrolment(request.user)
        except mfa.AlreadyEnrolled:
            return redirect("accounts:security")
        return self.enrol_page(request, device, form, during_login=False)


@private
@sensitive
class MfaDisableView(LoginRequiredMixin, View):
    def post(self, request):
        form = PasswordConfirmForm(request.user, request.POST, prefix="disable")
        if not form.is_valid():
            messages.error(request, "Two-factor authentication is still on: that was not your password.")
            return redirect("accounts:security")
        mfa.disable(request.user)
        if mfa.is_required_for(request.user):
            messages.warning(
                request, "Your account must use two-factor authentication: set up your new authenticator now."
            )
            return redirect("accounts:mfa-enrol")
        messages.success(request, "Two-factor authentication is off.")
        return redirect("accounts:security")


@private
@sensitive
class RecoveryCodesView(LoginRequiredMixin, View):
    def post(self, request):
        form = PasswordConfirmForm(request.user, request.POST, prefix="regenerate")
        if not form.is_valid():
            messages.error(request, "No new recovery codes: that was not your password.")
            return redirect("accounts:security")
        try:
            codes = mfa.regenerate_recovery_codes(request.user)
        except mfa.InvalidCode:
            messages.error(request, "Turn on two-factor authentication first.")
            return redirect("accounts:security")
        return render_recovery_codes(request, codes, reverse("accounts:security"))


@private
@sensitive
class PasswordChangeView(LoginRequiredMixin, View):
    template_name = "accounts/password_change.html"

    def get(self, request):
        return render(request, self.template_name, {"form": PasswordChangeForm(request.user)})

    def post(self, request):
        form = PasswordChangeForm(request.user, request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form})
        services.change_password(request.user, form.cleaned_data["new_password1"])
        # Keep this session; every other session of the user ends (its hash no longer matches).
        update_session_auth_hash(request, request.user)
        messages.success(request, "Password changed. Your other sessions have been logged out.")
        return redirect("accounts:security")


# --- API tokens ------------------------------------------------------------------


@private
class TokenListView(LoginRequiredMixin, View):
    template_name = "accounts/token_list.html"

    def get(self, request):
        return self._page(request, TokenCreateForm())

    def post(self, request):
        form = TokenCreateForm(request.POST)
        if not form.is_valid():
            return self._page(request, form)
        token, plaintext = services.create_token(
            request.user, form.cleaned_data["name"], form.cleaned_data["scope"], form.expires_at
        )
        # The plaintext is in this response only; a reload shows the list without it.
        return self._page(request, TokenCreateForm(), new_token=token, plaintext=plaintext, status=201)

    def _page(self, request, form, new_token=None, plaintext=None, status=200):
        tokens = ApiToken.objects.filter(user=request.user)
        now = clock.now()
        rows = [
            {
                "token": token,
                "state": "revoked"
                if token.revoked_at
                else ("expired" if token.expires_at and token.expires_at <= now else "active"),
            }
            for token in tokens
        ]
        context = {"form": form, "rows": rows, "new_token": new_token, "plaintext": plaintext}
        return render(request, self.template_name, context, status=status)


@private
class TokenRevokeView(LoginRequiredMixin, View):
    def post(self, request, pk: int):
        # Scoped to the owner: another user's token is a 404, not a 403, so ids reveal nothing.
        token = get_object_or_404(ApiToken, pk=pk, user=request.user)
        if services.revoke_token(token, actor=request.user):
            messages.success(request, f"Token “{token.name}” revoked. It stops working immediately.")
        return redirect("accounts:token-list")


# --- Audit log -------------------------------------------------------------------


class AuditAccessMixin(LoginRequiredMixin):
    """Superusers, and anyone given the accounts.view_auditevent permission."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_perm("accounts.view_auditevent"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


@private
class AuditEventListView(AuditAccessMixin, ListView):
    template_name = "accounts/audit_list.html"
    context_object_name = "events"
    paginate_by = 50

    def get_queryset(self):
        self.filterset = AuditEventFilterSet(self.request.GET or None, queryset=AuditEvent.objects.all())
        return self.filterset.qs.select_related("actor")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filterset=self.filterset,
            query=query.urlencode(),
            known_actions=audit.KNOWN_ACTIONS,
        )
        return context


class _Echo:
    """csv.writer wants a file; this one hands each line straight back."""

    def write(self, value):
        return value


CSV_COLUMNS = [
    "at",
    "actor",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "ip",
    "request_id",
    "details",
]


def _csv_cell(value) -> str:
    # Spreadsheet formula injection: a cell that starts with = + - @ would run
    # as a formula when an auditor opens the file.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@private
class AuditEventExportView(AuditAccessMixin, View):
    """Every matching event as CSV, streamed: the log can be far larger than memory."""

    def get(self, request):
        filterset = AuditEventFilterSet(request.GET or None, queryset=AuditEvent.objects.all())
        queryset = filterset.qs.order_by("at", "id")
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(CSV_COLUMNS)
            for event in queryset.iterator(chunk_size=2000):
                yield writer.writerow(
                    _csv_cell(value)
                    for value in (
                        event.at.isoformat(),
                        event.actor_label or "system",
                        event.action,
                        event.target_type,
                        event.target_id,
                        event.target_label,
                        event.ip,
                        event.request_id,
                        json.dumps(event.details, sort_keys=True),
                    )
                )

        audit.record("audit.exported", actor=request.user, filters=filterset.form.data.dict())
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        filename = f"rampart-audit-{clock.now():%Y%m%d-%H%M}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
