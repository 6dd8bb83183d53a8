"""A password every sign-in form can take.

The sign-in forms refuse passwords longer than MAX_PASSWORD_LENGTH (hashing a megabyte costs the
server), so no form may set one: a longer password would be accepted once and lock its owner out.
"""

from django.core.exceptions import ValidationError

MAX_PASSWORD_LENGTH = 4096


class MaximumLengthValidator:
    def validate(self, password, user=None):
        if len(password) > MAX_PASSWORD_LENGTH:
            raise ValidationError(
                f"This password is too long: at most {MAX_PASSWORD_LENGTH:,} characters.",
                code="password_too_long",
            )

    def get_help_text(self):
        return f"Your password can be at most {MAX_PASSWORD_LENGTH:,} characters long."
