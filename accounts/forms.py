from datetime import datetime, time

from django import forms
from django.utils import timezone

from accounts import clock
from accounts.models import ApiToken, Role
from accounts.password_validation import MAX_PASSWORD_LENGTH


class LoginForm(forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    # Bounded: hashing a megabyte-long password costs the server.
    password = forms.CharField(
        strip=False,
        max_length=MAX_PASSWORD_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TotpCodeForm(forms.Form):
    code = forms.CharField(
        label="Six-digit code",
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
                "aria-describedby": "code-help",
            }
        ),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != 6 or not (code.isascii() and code.isdigit()):
            raise forms.ValidationError("Enter the six digits your authenticator app shows.")
        return code


class RecoveryCodeForm(forms.Form):
    recovery_code = forms.CharField(
        label="Recovery code",
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


class PasswordConfirmForm(forms.Form):
    """Re-enter the password before a sensitive change, so an unattended session is not enough.

    The password is checked by services.reauthenticate(), which also counts
    wrong guesses: a stolen session must not become a way to guess the password.
    """

    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=MAX_PASSWORD_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenExpiryForm(forms.Form):
    """An optional day a token stops working: personal API tokens and agents' ingest tokens."""

    expires_on = forms.DateField(
        required=False,
        label="Expires on",
        help_text="Optional. The token stops working at the start of this day.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_expires_on(self):
        expires_on = self.cleaned_data["expires_on"]
        if expires_on and expires_on <= timezone.localdate(clock.now()):
            raise forms.ValidationError("Choose a day after today.")
        return expires_on

    @property
    def expires_at(self):
        expires_on = self.cleaned_data.get("expires_on")
        if not expires_on:
            return None
        return timezone.make_aware(datetime.combine(expires_on, time.min))


class TokenCreateForm(TokenExpiryForm):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “CI pipeline”.")
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ, widget=forms.RadioSelect
    )

    field_order = ["name", "scope", "expires_on"]


class TeamCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="E.g. “Payments platform”. Its admins then add members.")


class MemberAddForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        label="Username",
        help_text="Someone who already has a Rampart account.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
