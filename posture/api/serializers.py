from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from accounts.models import Role, Team
from accounts.permissions import has_role, teams_with_role
from posture import cluster_check_settings, pausing, schedules, services
from posture.api.schema import CATEGORY_CHOICES, SEVERITY_CHOICES
from posture.models import Cluster, ConnectionMode, IngestToken, Scan, ScanStatus
from posture.models.clusters import MAX_PAUSE_REASON_LENGTH, NAME_TAKEN
from posture.scanning.collectors.connection import InvalidConnection, connection_from
from posture.scanning.collectors.kubeconfig import MAX_KUBECONFIG_BYTES


class MemberTeamField(serializers.SlugRelatedField):
    """A team by slug, among the requesting user's own teams only.

    Another team's slug is then as unknown as a slug that does not exist: the
    same 400, so the answer never tells which teams exist. (Within their own teams,
    members without the admin role get the serializer's 403.)
    """

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return Team.objects.none()
        return Team.objects.filter(id__in=teams_with_role(request.user, Role.VIEWER))


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


class CheckSettingsSerializer(serializers.Serializer):
    """A cluster's own check settings, laid over the deployment's; docs/checks.md has the ids and options."""

    disabled = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=500,
        help_text="Check ids that do not run on this cluster.",
    )  # fmt: skip
    severity = serializers.DictField(
        child=serializers.ChoiceField(choices=cluster_check_settings.LEVELS), required=False,
        help_text="Check id → the severity its findings carry on this cluster.",
    )  # fmt: skip
    options = serializers.DictField(
        required=False, help_text="Option name → value (docs/checks.md, Options); null or [] for the default."
    )

    def to_internal_value(self, data):
        if isinstance(data, dict) and (unknown := sorted(set(data) - set(self.fields))):
            raise serializers.ValidationError({name: ["Unknown key."] for name in unknown})
        return super().to_internal_value(data)

    def validate(self, attrs):
        try:
            return cluster_check_settings.validated(
                attrs.get("disabled", ()), attrs.get("severity", {}), attrs.get("options", {})
            )
        except cluster_check_settings.InvalidSettings as exc:
            raise serializers.ValidationError(exc.problems) from None


class ResourceAccessSerializer(serializers.Serializer):
    kind = serializers.CharField()
    group = serializers.CharField(help_text="The API group; empty for the core group.")
    plural = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["readable", "forbidden", "not_served", "not_installed", "not_tried", "timeout", "error"]
    )
    reason = serializers.CharField(help_text="Why it cannot be read, in one line; empty when it can.")


class ConnectionReportSerializer(serializers.Serializer):
    """What "Test connection" found: whether Rampart reached and was let in, and what it may read."""

    api_url = serializers.CharField()
    through = serializers.CharField(help_text="For a kubeconfig, the context used.")
    ok = serializers.BooleanField(help_text="Reached, and the credentials were accepted.")
    error = serializers.CharField(help_text="Why not, in one line; empty when ok.")
    attempted = serializers.BooleanField(
        help_text="false: the stored settings were refused before any request."
    )
    server_version = serializers.CharField()
    kube_system_uid = serializers.CharField(
        help_text="Which cluster answered: its kube-system namespace's uid (empty if it could not be read)."
    )
    resources = ResourceAccessSerializer(many=True)
    secret_managers = serializers.DictField(
        child=serializers.CharField(), help_text="API group served → the secret manager it belongs to."
    )
    warnings = serializers.ListField(child=serializers.CharField())
    seconds = serializers.FloatField()
    time_allowed = serializers.FloatField(help_text="Types still unread when this ran out are not_tried.")


class LatestAttemptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ScanStatus.choices)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(help_text="Why it failed, in one line; empty otherwise.")


class OtherClusterSerializer(serializers.Serializer):
    kube_system_uid = serializers.CharField(help_text="The other cluster's kube-system namespace uid.")
    refused_at = serializers.DateTimeField(help_text="When it was last read, and refused.")


class PauseSerializer(serializers.Serializer):
    """Who paused a cluster's scans, when and why (posture.pausing)."""

    paused_at = serializers.DateTimeField()
    paused_by = serializers.CharField(
        allow_null=True, help_text="Username of who paused it; null if that account was deleted since."
    )
    pause_reason = serializers.CharField(help_text="Empty when none was given.")
    paused_until = serializers.DateTimeField(
        allow_null=True, help_text="When it resumes by itself (within a minute); null: when resumed by hand."
    )


def pause_data(cluster: Cluster) -> dict | None:
    """The cluster's ``paused`` as JSON-ready values (an agent push's answer is stored as JSON), or None."""
    if cluster.paused_at is None:
        return None
    return PauseSerializer(
        {
            "paused_at": cluster.paused_at,
            "paused_by": cluster.paused_by.get_username() if cluster.paused_by_id else None,
            "pause_reason": cluster.pause_reason,
            "paused_until": cluster.paused_until,
        }
    ).data


class ClusterPauseSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=MAX_PAUSE_REASON_LENGTH,
        help_text="Why, in one line (a maintenance window, a rebuild): shown on the cluster's page.",
    )
    until = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Resume by itself at this time (in the future, within a year); omit to resume by hand.",
    )

    def validate_reason(self, reason: str) -> str:
        try:
            return pausing.clean_reason(reason)
        except pausing.InvalidPauseReason as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_until(self, until):
        try:
            return pausing.check_until(until, timezone.now())
        except pausing.InvalidPauseReason as exc:
            raise serializers.ValidationError(str(exc)) from None


class ClusterSerializer(serializers.ModelSerializer):
    """A cluster. ``credentials`` (kubeconfig text or bearer token) is write-only: never returned."""

    team = MemberTeamField()
    has_credentials = serializers.BooleanField(read_only=True)
    last_scan = ScanSerializer(
        read_only=True,
        allow_null=True,
        help_text="The newest scan whose results were stored; null until one is.",
    )
    latest_attempt = serializers.SerializerMethodField(
        help_text="The newest scan, whatever became of it (queued, running, failed...): a cluster whose "
        "scans fail keeps its last_scan, and this says so. null before the first scan."
    )
    kube_system_uid = serializers.CharField(
        read_only=True,
        help_text="Which cluster this is: its kube-system namespace's uid, from the first connection test, "
        'scan or snapshot that read one ("" until then). A snapshot with another uid is refused (409), a '
        "live scan that reads another fails, and the same uid cannot be registered twice in a team.",
    )
    other_cluster = serializers.SerializerMethodField(
        help_text="Another cluster read in this one's place (a refused snapshot, or a live scan or saved "
        "settings that reached another cluster), until a team admin accepts it (POST accept-other-cluster) "
        "or dismisses it, or this cluster is read again; null when none is waiting."
    )
    paused = serializers.SerializerMethodField(
        help_text="Set while the cluster's scans are paused (POST .../pause/ and .../resume/): no scheduled, "
        "manual or pushed scan starts; its schedule is kept. null when not paused."
    )
    check_settings = CheckSettingsSerializer(required=False)
    credentials = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=True,
        max_length=MAX_KUBECONFIG_BYTES,
        style={"input_type": "password"},
        help_text="Kubeconfig text (kubeconfig mode) or bearer token (token mode). Write-only; "
        "omit to keep what is stored.",
    )

    without_connection = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Registering a kubeconfig or token cluster, or changing its address, CA, context or "
        "credentials, first tries the connection and refuses settings that cannot connect (400). "
        "true saves them anyway, for a cluster Rampart cannot reach yet.",
    )

    class Meta:
        model = Cluster
        fields = [
            "id",
            "name",
            "team",
            "description",
            "connection_mode",
            "api_url",
            "ca_bundle",
            "kube_context",
            "scan_interval_minutes",
            "scan_cron",
            "check_settings",
            "credentials",
            "without_connection",
            "has_credentials",
            "last_scan",
            "latest_attempt",
            "kube_system_uid",
            "other_cluster",
            "paused",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "has_credentials", "last_scan", "created_at", "updated_at"]
        extra_kwargs = {
            "ca_bundle": {"max_length": 64 * 1024},
        }

    @extend_schema_field(LatestAttemptSerializer(allow_null=True))
    def get_latest_attempt(self, cluster) -> dict | None:
        # From Cluster.objects.with_latest_attempt() where the view used it; one query otherwise.
        if not hasattr(cluster, "latest_scan_id"):
            cluster = Cluster.objects.with_latest_attempt().get(pk=cluster.pk)
        if cluster.latest_scan_id is None:
            return None
        return {
            "id": cluster.latest_scan_id,
            "status": cluster.latest_status,
            "created_at": cluster.latest_at,
            "finished_at": cluster.latest_finished_at,
            "error": cluster.latest_error or "",
        }

    @extend_schema_field(OtherClusterSerializer(allow_null=True))
    def get_other_cluster(self, cluster) -> dict | None:
        if not cluster.other_kube_system_uid:
            return None
        return {
            "kube_system_uid": cluster.other_kube_system_uid,
            "refused_at": cluster.other_cluster_refused_at,
        }

    @extend_schema_field(PauseSerializer(allow_null=True))
    def get_paused(self, cluster) -> dict | None:
        return pause_data(cluster)

    def validate_team(self, team):
        user = self.context["request"].user
        if not has_role(user, team.pk, Role.ADMIN):
            raise PermissionDenied("Managing clusters needs the admin role in the cluster's team.")
        if self.instance is not None and team.pk != self.instance.team_id:
            raise serializers.ValidationError("A cluster cannot move to another team.")
        return team

    def validate(self, attrs):
        instance = self.instance
        get = lambda name: attrs.get(name, getattr(instance, name, "") if instance else "")  # noqa: E731
        team = attrs.get("team") or (instance.team if instance else None)
        if (
            "name" in attrs
            and team
            and services.cluster_name_taken(
                team.pk, attrs["name"], other_than=instance.pk if instance else None
            )
        ):
            raise serializers.ValidationError({"name": [NAME_TAKEN]})
        interval, cron = get("scan_interval_minutes"), " ".join((get("scan_cron") or "").split())
        if interval and cron:
            raise serializers.ValidationError("Give either scan_interval_minutes or scan_cron, not both.")
        if cron:
            try:
                schedules.parse_cron(cron)
            except schedules.InvalidCron as exc:
                raise serializers.ValidationError({"scan_cron": [f"Not a valid schedule: {exc}."]}) from None
        if "scan_cron" in attrs:
            attrs["scan_cron"] = cron
        mode = get("connection_mode") or ConnectionMode.SNAPSHOT
        new_credentials = attrs.get("credentials")
        had_credentials = instance is not None and instance.has_credentials
        usable = services.stored_credentials_usable(
            instance, mode, api_url=get("api_url") or "", ca_bundle=get("ca_bundle") or ""
        )
        stored = instance.get_credentials() if usable else ""
        if mode in (ConnectionMode.KUBECONFIG, ConnectionMode.TOKEN):
            credentials = new_credentials or stored
            if not credentials:
                moved = had_credentials and instance.connection_mode == mode
                raise serializers.ValidationError(
                    {"credentials": ["The API server or CA changed: give the credentials again."]
                     if moved else ["This connection mode needs credentials."]}
                )  # fmt: skip
            try:
                connection_from(
                    mode,
                    api_url=get("api_url") or "",
                    credentials=credentials,
                    ca_bundle=get("ca_bundle") or "",
                    kube_context=get("kube_context") or "",
                )
            except InvalidConnection as exc:
                message = str(exc)
                field = (
                    "api_url"
                    if "API URL" in message
                    else "ca_bundle"
                    if "CA bundle" in message
                    else "credentials"
                )
                raise serializers.ValidationError({field: [message[:1].upper() + message[1:]]}) from None
            if not attrs.get("without_connection") and services.connection_changed(
                instance,
                mode,
                api_url=get("api_url") or "",
                ca_bundle=get("ca_bundle") or "",
                kube_context=get("kube_context") or "",
                new_credentials=bool(new_credentials),
            ):
                report = services.try_cluster_connection(
                    mode,
                    api_url=get("api_url") or "",
                    credentials=credentials,
                    ca_bundle=get("ca_bundle") or "",
                    kube_context=get("kube_context") or "",
                )
                if not report.ok:
                    raise serializers.ValidationError(
                        f"Rampart could not connect ({report.error}). Fix the settings, or send "
                        '"without_connection": true to save them anyway.'
                    )
                try:
                    services.refuse_registering_twice(
                        team.pk, report.kube_system_uid, other_than=instance.pk if instance else None
                    )
                except services.AlreadyRegistered as exc:
                    raise serializers.ValidationError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
                attrs["_kube_system_uid"] = report.kube_system_uid
            attrs["_credentials"] = new_credentials or None  # None keeps what is stored
        else:
            if new_credentials:
                raise serializers.ValidationError(
                    {"credentials": [f"Connection mode {mode} keeps no credentials."]}
                )
            attrs["_credentials"] = "" if had_credentials else None  # switching away clears the old secret
        return attrs

    def save(self, **kwargs):

        credentials = self.validated_data.pop("_credentials", None)
        identity = self.validated_data.pop("_kube_system_uid", "")
        self.validated_data.pop("credentials", None)
        self.validated_data.pop("without_connection", None)
        cluster = self.instance or Cluster()
        for name, value in {**self.validated_data, **kwargs}.items():
            setattr(cluster, name, value)
        with transaction.atomic():
            self.instance = services.save_cluster(
                cluster, credentials=credentials, actor=self.context["request"].user
            )
            services.note_identity_from_connection(self.instance, identity)
        return self.instance


def in_the_future(value):
    """A token's expiry, where one is given, must not have passed already."""
    if value is not None and value <= timezone.now():
        raise serializers.ValidationError("Must be in the future.")
    return value


class IngestTokenSerializer(serializers.ModelSerializer):
    prefix = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()

    class Meta:
        model = IngestToken
        fields = [
            "id",
            "name",
            "prefix",
            "cluster",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "state",
        ]
        read_only_fields = ["id", "prefix", "cluster", "created_at", "last_used_at", "revoked_at", "state"]
        extra_kwargs = {"expires_at": {"validators": [in_the_future]}}

    def get_prefix(self, token) -> str:
        return f"{IngestToken.PREFIX}{token.token_id}_"

    @extend_schema_field(serializers.ChoiceField(choices=["active", "expired", "revoked"]))
    def get_state(self, token) -> str:
        return token.state()


class IssuedIngestTokenSerializer(IngestTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The token itself: shown this once, never again.")

    class Meta(IngestTokenSerializer.Meta):
        fields = [*IngestTokenSerializer.Meta.fields, "token"]


class SnapshotPushSerializer(serializers.Serializer):
    """What a snapshot push answers (and answers again, the same, for a repeated Idempotency-Key)."""

    snapshot = serializers.IntegerField(help_text="Id of the stored (redacted) snapshot.")
    sha256 = serializers.CharField()
    scan = ScanSerializer(
        allow_null=True, help_text="The scan queued for it; null while the cluster is paused."
    )
    document_errors = serializers.IntegerField(help_text="Documents of the snapshot that could not be read.")
    paused = PauseSerializer(
        allow_null=True,
        required=False,
        help_text="Set when the cluster's scans are paused: the snapshot was stored but not scanned.",
    )


class FrameworksSerializer(serializers.Serializer):
    pss = serializers.CharField()
    cis = serializers.ListField(child=serializers.CharField())
    nsa = serializers.ListField(child=serializers.CharField())
    mitre = serializers.ListField(child=serializers.CharField())


class CheckSerializer(serializers.Serializer):
    """One check of the catalogue, with how many open findings and accepted risks it has in the clusters
    you can see."""

    id = serializers.CharField()
    title = serializers.CharField()
    category = serializers.ChoiceField(choices=CATEGORY_CHOICES)
    severity = serializers.ChoiceField(choices=SEVERITY_CHOICES)
    target = serializers.CharField()
    kinds = serializers.ListField(child=serializers.CharField())
    requires = serializers.ListField(child=serializers.CharField())
    frameworks = serializers.SerializerMethodField()
    description = serializers.CharField()
    remediation = serializers.CharField()
    open_count = serializers.IntegerField(help_text="Open or acknowledged findings: what still needs work.")
    accepted_risk_count = serializers.IntegerField(
        help_text="Findings of this check accepted as a risk (not counted in open_count)."
    )

    @extend_schema_field(FrameworksSerializer)
    def get_frameworks(self, check) -> dict:
        return check["frameworks"]


class TrendPointSerializer(serializers.Serializer):
    bucket = serializers.DateField(help_text="First day of the day or week.")
    score = serializers.FloatField(
        allow_null=True,
        help_text="Mean of the clusters' scores at the end of the bucket: each one's last scored scan.",
    )
    open_by_severity = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Open or acknowledged findings of the clusters' scans by severity, as the summary's: "
        "accepted risks are left out (scans stored before 2026-11-27 kept only their number, and count "
        "them here).",
    )
    open_total = serializers.IntegerField(help_text="The sum of open_by_severity.")
    new = serializers.IntegerField()
    resolved = serializers.IntegerField()
    mean_time_to_resolve_hours = serializers.FloatField(allow_null=True)
    clusters = serializers.IntegerField(
        help_text="Clusters scored by the end of the bucket (a scan in it or an earlier one carried forward)."
    )


class TrendsSerializer(serializers.Serializer):
    scope = serializers.CharField()
    bucket = serializers.ChoiceField(choices=["day", "week"])
    since = serializers.DateField()
    until = serializers.DateField()
    points = TrendPointSerializer(many=True)


class ClusterSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    team = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    grade = serializers.CharField()
    last_scan_status = serializers.CharField(allow_null=True)
    last_scan_finished_at = serializers.DateTimeField(allow_null=True)
    open_by_severity = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Open or acknowledged findings of the latest scan by severity; accepted risks are apart.",
    )
    accepted_risk = serializers.IntegerField(help_text="Findings of the latest scan accepted as a risk.")
    paused_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Since when its scanning is paused (an old last scan is then expected); null if not.",
    )


class SummarySerializer(serializers.Serializer):
    clusters = serializers.IntegerField()
    scanned_clusters = serializers.IntegerField()
    mean_score = serializers.FloatField(allow_null=True)
    grade = serializers.CharField()
    open_by_severity = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Open or acknowledged findings of the latest scans by severity; accepted risks are apart.",
    )
    open_total = serializers.IntegerField(help_text="Open or acknowledged findings of the latest scans.")
    accepted_risk = serializers.IntegerField(help_text="Findings of the latest scans accepted as a risk.")
    overdue = serializers.IntegerField(help_text="Open findings past their due date.")
    overdue_is_estimate = serializers.BooleanField(
        help_text="Above 20,000 the count is the planner's estimate."
    )
    failed_last_scans = serializers.IntegerField()
    per_cluster = ClusterSummarySerializer(many=True)
