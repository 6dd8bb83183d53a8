"""Django admin for notification endpoints and the delivery log.

Registered from posture.api.urls (posture has no admin module of its own), which
the root URLconf includes before it builds the admin's URLs. The URL and the
signing secret are write-only here too: the form takes them, nothing shows them.
"""

from django import forms
from django.contrib import admin

from posture.models import NotificationAttempt, NotificationDelivery, NotificationEndpoint, NotificationEvent
from posture.notifications.delivery import Undeliverable, check_url


class NotificationEndpointForm(forms.ModelForm):
    url = forms.URLField(
        required=False,
        assume_scheme="https",
        max_length=2000,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave empty to keep the stored URL.",
    )
    secret = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text="HMAC-SHA256 signing secret (generic webhooks). Write-only; leave empty to keep.",
    )
    events = forms.MultipleChoiceField(
        choices=NotificationEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = NotificationEndpoint
        fields = ["team", "name", "kind", "events", "enabled"]

    def clean_url(self):
        url = self.cleaned_data.get("url") or ""
        if not url and not self.instance.pk:
            raise forms.ValidationError("Give the webhook URL.")
        if url:
            try:
                check_url(url)
            except Undeliverable as exc:
                raise forms.ValidationError(str(exc)) from None
            except Exception:  # noqa: S110 - a name that does not resolve yet is allowed
                pass
        return url

    def save(self, commit=True):
        endpoint = super().save(commit=False)
        if self.cleaned_data.get("url"):
            endpoint.set_url(self.cleaned_data["url"])
        if self.cleaned_data.get("secret"):
            endpoint.set_secret(self.cleaned_data["secret"])
        if commit:
            endpoint.save()
        return endpoint


@admin.register(NotificationEndpoint)
class NotificationEndpointAdmin(admin.ModelAdmin):
    form = NotificationEndpointForm
    list_display = ["name", "team", "kind", "url_host", "enabled", "has_secret"]
    list_filter = ["kind", "enabled", "team"]
    search_fields = ["name", "url_host"]

    @admin.display(boolean=True)
    def has_secret(self, endpoint):
        return endpoint.has_secret


class NotificationAttemptInline(admin.TabularInline):
    model = NotificationAttempt
    extra = 0
    can_delete = False
    fields = ["number", "at", "status_code", "error", "duration_ms"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "endpoint", "status", "attempts", "status_code", "error"]
    list_filter = ["status", "event", "endpoint__team"]
    date_hierarchy = "created_at"
    inlines = [NotificationAttemptInline]
    readonly_fields = [
        "endpoint",
        "event",
        "dedupe_key",
        "scan",
        "payload",
        "status",
        "attempts",
        "status_code",
        "error",
        "created_at",
        "delivered_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
