"""The Account security page: two-factor authentication on and off, recovery codes, password."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from accounts import mfa, services
from accounts.forms import (
    PasswordConfirmForm,
    TotpCodeForm,
)
from accounts.views.common import private, sensitive
from accounts.views.login import EnrolPage, render_recovery_codes
from posture.request_id import client_ip

# --- Account security (logged in) ------------------------------------------------


def _reauthenticate(request, form) -> str | None:
    """None if the password was right, else the message to show."""
    if not form.is_valid():
        return services.REAUTH_REFUSED
    try:
        services.reauthenticate(request.user, form.cleaned_data["password"], ip=client_ip(request))
    except services.LoginRefused as refused:
        return refused.message
    return None


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
                "disable_form": PasswordConfirmForm(prefix="disable"),
                "regenerate_form": PasswordConfirmForm(prefix="regenerate"),
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
        refused = _reauthenticate(request, PasswordConfirmForm(request.POST, prefix="disable"))
        if refused:
            messages.error(request, f"Two-factor authentication is still on. {refused}")
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
        refused = _reauthenticate(request, PasswordConfirmForm(request.POST, prefix="regenerate"))
        if refused:
            messages.error(request, f"No new recovery codes. {refused}")
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
        ip = client_ip(request)
        if services.is_locked(request.user, ip=ip):
            # Refused before the old password is even checked, as at the login.
            messages.error(request, services.locked_message())
            return redirect("accounts:password-change")
        if not form.is_valid():
            if "old_password" in form.errors:
                services.reauthentication_failed(request.user, ip=ip)
            return render(request, self.template_name, {"form": form})
        services.change_password(request.user, form.cleaned_data["new_password1"])
        # Keep this session; every other session of the user ends (its hash no longer matches).
        update_session_auth_hash(request, request.user)
        messages.success(request, "Password changed. Your other sessions have been logged out.")
        return redirect("accounts:security")
