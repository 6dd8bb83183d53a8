"""Notification endpoints and their delivery log, for team admins. URLs and secrets are write-only."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from accounts.models import Role
from accounts.permissions import has_role, teams_with_role
from posture.api.pagination import StandardPagination
from posture.api.serializers import MemberTeamField
from posture.api.throttling import ThrottleFirstMixin
from posture.api.views import ID
from posture.models import NotificationAttempt, NotificationDelivery, NotificationEndpoint, NotificationEvent
from posture.models.notifications import ENDPOINT_NAME_TAKEN
from posture.notifications import service
from posture.notifications.delivery import url_refusal


class NotificationEndpointSerializer(serializers.ModelSerializer):
    team = MemberTeamField()
    url = serializers.URLField(
        write_only=True, required=False, max_length=2000, help_text="Write-only; omit to keep the stored URL."
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=16,
        max_length=200,
        help_text="HMAC-SHA256 signing secret for generic webhooks. Write-only; omit to keep.",
    )
    has_secret = serializers.BooleanField(read_only=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=NotificationEvent.choices), required=False, max_length=10
    )

    class Meta:
        model = NotificationEndpoint
        fields = [
            "id",
            "team",
            "name",
            "kind",
            "url",
            "url_host",
            "secret",
            "has_secret",
            "events",
            "enabled",
        ]
        read_only_fields = ["id", "url_host", "has_secret"]

    def validate_team(self, team):
        if not has_role(self.context["request"].user, team.pk, Role.ADMIN):
            raise PermissionDenied("Notifications need the admin role in the team.")
        if self.instance is not None and team.pk != self.instance.team_id:
            raise serializers.ValidationError("An endpoint cannot move to another team.")
        return team

    def validate_url(self, url):
        refusal = url_refusal(url)
        if refusal:
            raise serializers.ValidationError(refusal)
        return url

    def validate(self, attrs):
        if self.instance is None and not attrs.get("url"):
            raise serializers.ValidationError({"url": ["This field is required."]})
        team = attrs.get("team") or getattr(self.instance, "team", None)
        name = attrs.get("name") or getattr(self.instance, "name", None)
        other_than = getattr(self.instance, "pk", None)
        if team and name and service.endpoint_name_taken(team.pk, name, other_than=other_than):
            raise serializers.ValidationError({"name": [ENDPOINT_NAME_TAKEN]})
        return attrs

    def save(self, **kwargs):
        request = self.context["request"]
        changed = sorted(self.validated_data)
        url = self.validated_data.pop("url", None)
        secret = self.validated_data.pop("secret", None)
        endpoint = self.instance or NotificationEndpoint()
        for name, value in self.validated_data.items():
            setattr(endpoint, name, value)
        self.instance = service.save_endpoint(
            endpoint, url=url, secret=secret, actor=request.user, request=request, changed=changed
        )
        return self.instance


class NotificationAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = NotificationAttempt
        fields = ["number", "at", "status_code", "error", "duration_ms"]


class NotificationDeliverySerializer(serializers.ModelSerializer):
    attempt_log = NotificationAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = NotificationDelivery
        fields = [
            "id",
            "endpoint",
            "event",
            "scan",
            "status",
            "attempts",
            "status_code",
            "error",
            "created_at",
            "delivered_at",
            "attempt_log",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Notification endpoints of the teams you administer"),
    create=extend_schema(summary="Add a webhook or Slack-compatible endpoint (team admins)"),
)
class NotificationEndpointViewSet(ThrottleFirstMixin, viewsets.ModelViewSet):
    queryset = NotificationEndpoint.objects.none()  # for the schema; the real one is get_queryset()
    serializer_class = NotificationEndpointSerializer
    pagination_class = StandardPagination
    lookup_value_regex = ID
    ordering_fields = ["name"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return NotificationEndpoint.objects.filter(
            team_id__in=teams_with_role(self.request.user, Role.ADMIN)
        ).select_related("team")

    def perform_destroy(self, instance):
        service.delete_endpoint(instance, actor=self.request.user, request=self.request)


@extend_schema_view(list=extend_schema(summary="The delivery log: every message and attempt (team admins)"))
class NotificationDeliveryViewSet(ThrottleFirstMixin, viewsets.ReadOnlyModelViewSet):
    queryset = NotificationDelivery.objects.none()
    serializer_class = NotificationDeliverySerializer
    pagination_class = StandardPagination
    lookup_value_regex = ID
    filterset_fields = ["endpoint", "status", "event"]
    ordering_fields = ["created_at", "delivered_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return NotificationDelivery.objects.filter(
            endpoint__team_id__in=teams_with_role(self.request.user, Role.ADMIN)
        ).prefetch_related("attempt_log")
