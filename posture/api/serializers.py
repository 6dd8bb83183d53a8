from rest_framework import serializers

from posture.models import Cluster, Scan


class ScanSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Scan
        fields = [
            "id",
            "cluster",
            "trigger",
            "status",
            "phase",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "error",
            "server_version",
            "objects_collected",
            "coverage_gaps",
            "not_assessed",
            "findings_count",
            "counts_by_severity",
            "counts_by_category",
            "new_count",
            "resolved_count",
            "reopened_count",
            "accepted_risk_count",
            "exempted_count",
            "score",
            "grade",
            "framework_compliance",
        ]
        read_only_fields = fields


class ClusterSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    has_credentials = serializers.BooleanField(read_only=True)
    last_scan = ScanSerializer(read_only=True)

    class Meta:
        model = Cluster
        fields = [
            "id",
            "name",
            "team",
            "description",
            "connection_mode",
            "api_url",
            "kube_context",
            "scan_interval_minutes",
            "has_credentials",
            "last_scan",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
