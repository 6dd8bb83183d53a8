"""Django admin for notification endpoints and the delivery log.

Registered from posture.api.urls (posture has no admin module of its own), which
the root URLconf includes before it builds the admin's URLs. The URL and the
signing secret are write-only here too: the form takes them, nothing shows them.
"""

from django.contrib import admin

from posture.models import NotificationAttempt, NotificationDelivery, NotificationEndpoint
from posture.notifications import service
from posture.notifications.forms import NotificationEndpointForm


@admin.register(NotificationEndpoint)
class NotificationEndpointAdmin(admin.ModelAdmin):
    form = NotificationEndpointForm
    list_display = ["name", "team", "kind", "url_host", "enabled", "has_secret"]
    list_filter = ["kind", "enabled", "team"]
    search_fields = ["name", "url_host"]

    @admin.display(boolean=True)
    def has_secret(self, endpoint):
        return endpoint.has_secret

    def save_model(self, request, obj, form, change):
        service.save_endpoint(
            obj, url=form.cleaned_data.get("url"), secret=form.cleaned_data.get("secret"),
            actor=request.user, request=request, changed=form.changed_data,
        )  # fmt: skip

    def delete_model(self, request, obj):
        service.delete_endpoint(obj, actor=request.user, request=request)


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
