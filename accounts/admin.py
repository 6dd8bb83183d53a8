"""Admin for the security records: the audit log read-only; locks and authenticators removable only.

Removing a lock unlocks the username or address at once; removing an
authenticator turns two-factor authentication off for a user who has lost
both their phone and their recovery codes. Both are audit-logged.
"""

from django.contrib import admin

from accounts import audit, mfa
from accounts.models import AuditEvent, LoginThrottle, OidcIdentity, TotpDevice


class RemoveOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(RemoveOnlyAdmin):
    list_display = ["at", "actor_label", "action", "target_type", "target_label", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_label", "action", "target_label", "request_id"]
    date_hierarchy = "at"

    def has_delete_permission(self, request, obj=None):
        return False  # an audit log that admins can edit proves nothing


@admin.register(LoginThrottle)
class LoginThrottleAdmin(RemoveOnlyAdmin):
    list_display = ["key", "failures", "window_started_at", "locked_until"]
    search_fields = ["key"]

    def delete_model(self, request, obj):
        self.delete_queryset(request, LoginThrottle.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        for throttle in queryset:
            audit.record("login.unlocked", actor=request.user, request=request, subject=throttle.key)
        queryset.delete()


@admin.register(TotpDevice)
class TotpDeviceAdmin(RemoveOnlyAdmin):
    list_display = ["user", "confirmed_at", "created_at"]
    search_fields = ["user__username"]
    exclude = ["secret_encrypted", "last_used_step"]

    def delete_model(self, request, obj):
        mfa.disable(obj.user, actor=request.user)

    def delete_queryset(self, request, queryset):
        for device in queryset.select_related("user"):
            mfa.disable(device.user, actor=request.user)


@admin.register(OidcIdentity)
class OidcIdentityAdmin(admin.ModelAdmin):
    """Link an existing account to its identity at the provider before its first single sign-on
    (otherwise that login would make a new account: users are never matched by email)."""

    list_display = ["user", "issuer", "subject", "created_at", "last_login_at"]
    search_fields = ["user__username", "subject"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "last_login_at"]
