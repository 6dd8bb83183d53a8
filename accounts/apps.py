from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from accounts import audit
        from accounts.oidc import checks  # noqa: F401 -- registers the single sign-on system checks

        audit.connect_signals()
