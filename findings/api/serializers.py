from rest_framework import serializers

from findings.models import Finding


class FindingSerializer(serializers.ModelSerializer):
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)

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
            "assignee",
            "due_at",
            "first_seen_at",
            "last_seen_at",
            "resolved_at",
        ]
        read_only_fields = fields
