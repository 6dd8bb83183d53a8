from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import serializers

from findings.models import Comment, ExceptionRule, Finding, FindingEvent
from posture.api.filters import MAX_ID
from posture.api.schema import CATEGORY_CHOICES, SEVERITY_CHOICES

MAX_BULK_IDS = 10_000
TEXT_LIMIT = 2_000


class FindingSerializer(serializers.ModelSerializer):
    # Plain text columns in the model; the enums document the values the filters take.
    severity = serializers.ChoiceField(choices=SEVERITY_CHOICES, read_only=True)
    category = serializers.ChoiceField(choices=CATEGORY_CHOICES, read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "cluster",
            "fingerprint",
            "check_id",
            "severity",
            "category",
            "kind",
            "namespace",
            "name",
            "container",
            "message",
            "evidence",
            "status",
            "status_reason",
            "risk_accepted_until",
            "exception_rule",
            "assignee",
            "due_at",
            "first_seen_at",
            "last_seen_at",
            "resolved_at",
        ]
        read_only_fields = fields


class FindingEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = FindingEvent
        fields = ["id", "finding", "at", "actor", "action", "from_value", "to_value", "reason", "scan"]
        read_only_fields = fields


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    finding = serializers.PrimaryKeyRelatedField(queryset=Finding.objects.none())
    body = serializers.CharField(max_length=Comment._meta.get_field("body").max_length, trim_whitespace=True)

    class Meta:
        model = Comment
        fields = ["id", "finding", "author", "body", "created_at"]
        read_only_fields = ["id", "author", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["finding"].queryset = Finding.objects.for_user(request.user)


class CommentBodySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=Comment._meta.get_field("body").max_length, trim_whitespace=True)


def _reason_field(required: bool) -> serializers.CharField:
    return serializers.CharField(
        required=required, allow_blank=not required, max_length=TEXT_LIMIT, trim_whitespace=True
    )


class ReasonSerializer(serializers.Serializer):
    reason = _reason_field(required=False)


class RequiredReasonSerializer(serializers.Serializer):
    reason = _reason_field(required=True)


class AcceptRiskSerializer(serializers.Serializer):
    reason = _reason_field(required=True)
    until = serializers.DateTimeField(
        help_text="When the acceptance expires (in the future, within the maximum)."
    )

    def validate_until(self, until):
        now = timezone.now()
        if until <= now:
            raise serializers.ValidationError("Must be in the future.")
        maximum = settings.RAMPART_MAX_RISK_ACCEPTANCE_DAYS
        if until - now > timedelta(days=maximum):
            raise serializers.ValidationError(f"A risk can be accepted for at most {maximum} days.")
        return until


class UsernameField(serializers.CharField):
    """A user, named by username.

    The input stays text here: the view looks the user up among the members of the team concerned,
    so that an unknown username and another team's user get the same answer (and a username's
    error never shows beside other fields' errors only when it does not exist).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", get_user_model()._meta.get_field("username").max_length)
        super().__init__(**kwargs)

    def to_representation(self, user):
        return user.username


class AssignSerializer(serializers.Serializer):
    assignee = UsernameField(allow_null=True, help_text="A username, or null to unassign.")


class BulkSelectionSerializer(serializers.Serializer):
    """Which findings: a list of ids, or the same filters as the finding list (``filter``)."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_empty=False,
        max_length=MAX_BULK_IDS,
    )
    filter = serializers.DictField(
        required=False,
        child=serializers.JSONField(),
        help_text='Query parameters of GET /findings/ (e.g. {"severity": ["critical"], "cluster": 3}); '
        "each must name something (an empty value or list is refused). {} selects every finding you "
        "may triage.",
    )

    def validate(self, attrs):
        if ("ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError("Give either ids or filter.")
        return attrs


class BulkReasonSerializer(BulkSelectionSerializer, ReasonSerializer):
    pass


class BulkRequiredReasonSerializer(BulkSelectionSerializer, RequiredReasonSerializer):
    pass


class BulkAcceptRiskSerializer(BulkSelectionSerializer, AcceptRiskSerializer):
    pass


class BulkAssignSerializer(BulkSelectionSerializer, AssignSerializer):
    pass


class BulkCommentSerializer(BulkSelectionSerializer, CommentBodySerializer):
    pass


class BulkOutcomeSerializer(serializers.Serializer):
    matched = serializers.IntegerField(help_text="Findings selected.")
    changed = serializers.IntegerField(help_text="Findings changed.")
    refused = serializers.IntegerField(help_text="Findings whose current status does not allow the change.")


class ExceptionRuleSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = UsernameField(help_text="A member of the rule's team, by username.")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    check_ids = serializers.ListField(
        child=serializers.RegexField(r"^[a-z0-9][a-z0-9-]{0,63}$"), required=False, max_length=200
    )
    label_selector = serializers.DictField(
        child=serializers.CharField(max_length=253), required=False, help_text="Labels that must all match."
    )
    reason = serializers.CharField(max_length=TEXT_LIMIT, trim_whitespace=True)
    team_slug = serializers.SlugField(
        write_only=True, required=False, help_text="The team, when no cluster is given (every cluster of it)."
    )

    class Meta:
        model = ExceptionRule
        fields = [
            "id",
            "team",
            "team_slug",
            "cluster",
            "namespace_pattern",
            "name_pattern",
            "label_selector",
            "check_ids",
            "reason",
            "owner",
            "expires_at",
            "created_by",
            "created_at",
            "revoked_at",
            "match_count",
            "last_matched_at",
        ]
        read_only_fields = [
            "id",
            "team",
            "created_by",
            "created_at",
            "revoked_at",
            "match_count",
            "last_matched_at",
        ]
        extra_kwargs = {"cluster": {"required": False, "allow_null": True}}

    def __init__(self, *args, **kwargs):
        from posture.models import Cluster

        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["cluster"].queryset = (
            Cluster.objects.for_user(request.user) if request is not None else Cluster.objects.none()
        )

    def validate_label_selector(self, value):
        if len(value) > 50 or any(len(key) > 317 or "\x00" in key for key in value):
            raise serializers.ValidationError("At most 50 labels, each a valid label key.")
        return value


class ExceptionRuleCreatedSerializer(ExceptionRuleSerializer):
    findings_accepted = serializers.IntegerField(
        read_only=True, help_text="Findings the rule accepted at once."
    )

    class Meta(ExceptionRuleSerializer.Meta):
        fields = [*ExceptionRuleSerializer.Meta.fields, "findings_accepted"]


class FindingExportSerializer(FindingSerializer):
    """One object of the JSON export: the finding as GET /findings/ gives it, with its cluster's name.

    The CSV export has the same columns but ``evidence`` (a nested object fits no cell).
    """

    cluster_name = serializers.CharField(read_only=True)

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "cluster_name"]
        read_only_fields = fields
