from django import forms
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
    schema,
)
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import has_role
from accounts.teams import visible_teams
from findings.models import Finding
from findings.querysets import counts_by_check
from posture import pausing, services
from posture.api import trends
from posture.api.errors import Conflict
from posture.api.pagination import StandardPagination
from posture.api.schema import CATEGORY_CHOICES, SEVERITY_CHOICES
from posture.api.serializers import (
    CheckSerializer,
    ClusterPauseSerializer,
    ClusterSerializer,
    ConnectionReportSerializer,
    IngestTokenSerializer,
    IssuedIngestTokenSerializer,
    ScanSerializer,
    SummarySerializer,
    TrendsSerializer,
)
from posture.api.throttling import ThrottleFirstMixin
from posture.models import Cluster, Scan, ScanTrigger
from posture.scanning.checks import load_catalogue

ID = r"[0-9]{1,18}"


def require_role(user, team_id: int, role: Role, doing: str) -> None:
    if not has_role(user, team_id, role):
        raise PermissionDenied(f"{doing} needs the {role.label.lower()} role in the cluster's team.")


@extend_schema_view(
    list=extend_schema(summary="Clusters of your teams"),
    create=extend_schema(summary="Register a cluster (team admins)"),
    update=extend_schema(summary="Change a cluster (team admins)"),
    partial_update=extend_schema(summary="Change some of a cluster's settings (team admins)"),
    destroy=extend_schema(summary="Delete a cluster with its scans and findings (team admins)"),
)
class ClusterViewSet(ThrottleFirstMixin, viewsets.ModelViewSet):
    queryset = Cluster.objects.none()  # for the schema; the real one is get_queryset()
    serializer_class = ClusterSerializer
    pagination_class = StandardPagination
    lookup_value_regex = ID
    filterset_fields = ["connection_mode"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return (
            Cluster.objects.for_user(self.request.user)
            .select_related("team", "last_scan", "paused_by")
            .with_latest_attempt()
        )

    def update(self, request, *args, **kwargs):
        # Before the body is validated: validation reads the stored kubeconfig, and its refusals
        # ("no context named x (it has: ...)") would tell a viewer what only its admins may know.
        require_role(request.user, self.get_object().team_id, Role.ADMIN, "Changing a cluster")
        return super().update(request, *args, **kwargs)

    def perform_destroy(self, instance):
        require_role(self.request.user, instance.team_id, Role.ADMIN, "Deleting a cluster")
        services.delete_cluster(instance, actor=self.request.user, request=self.request)

    @extend_schema(
        request=None,
        responses={202: ScanSerializer},
        summary="Queue a scan now (engineers); 409 while one is active, while the cluster is paused, or "
        "before a first snapshot",
    )
    @action(detail=True, methods=["post"])
    def scan(self, request, pk=None):
        cluster = self.get_object()
        require_role(request.user, cluster.team_id, Role.ENGINEER, "Scanning")
        try:
            scan = services.start_requested_scan(cluster, trigger=ScanTrigger.MANUAL)
        except (services.ScanAlreadyActive, services.NothingToScan, pausing.ClusterPaused) as exc:
            raise Conflict(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
        return Response(ScanSerializer(scan).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=ClusterPauseSerializer,
        responses={200: ClusterSerializer},
        summary="Pause the cluster's scans (team admins): scheduled, manual and pushed; the schedule is kept",
        description="A scan already queued or running finishes. Agent pushes are stored but not scanned. "
        "Pausing a paused cluster changes nothing: who paused it, when and why stay as they were.",
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        cluster = self.get_object()
        require_role(request.user, cluster.team_id, Role.ADMIN, "Pausing a cluster")
        body = ClusterPauseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pausing.pause_cluster(
            cluster,
            actor=request.user,
            reason=body.validated_data["reason"],
            until=body.validated_data["until"],
        )
        return Response(self.get_serializer(cluster).data)

    @extend_schema(
        request=None,
        responses={200: ClusterSerializer},
        summary="Resume a paused cluster's scans on the schedule it had (team admins)",
        description="Resuming a cluster that is not paused changes nothing.",
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        cluster = self.get_object()
        require_role(request.user, cluster.team_id, Role.ADMIN, "Resuming a cluster")
        pausing.resume_cluster(cluster, actor=request.user)
        return Response(self.get_serializer(cluster).data)

    @extend_schema(
        request=None,
        responses={200: ConnectionReportSerializer},
        summary="Test a live cluster's stored connection (team admins); 409 for snapshot and agent clusters",
    )
    @action(detail=True, methods=["post"], url_path="test-connection")
    def test_connection(self, request, pk=None):
        cluster = self.get_object()
        require_role(request.user, cluster.team_id, Role.ADMIN, "Testing a cluster's connection")
        try:
            report = services.try_stored_connection(cluster)
        except services.NotReachedOverTheNetwork as exc:
            raise Conflict(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
        return Response(ConnectionReportSerializer(report.as_dict()).data)

    @extend_schema(
        request=None,
        responses={200: ClusterSerializer},
        summary="Take the other cluster read in this one's place as this one, after a rebuild (team admins); "
        "409 when none is waiting",
    )
    @action(detail=True, methods=["post"], url_path="accept-other-cluster")
    def accept_other_cluster(self, request, pk=None):
        return self._settle_other_cluster(request, accept=True)

    @extend_schema(
        request=None,
        responses={200: ClusterSerializer},
        summary="Dismiss the other cluster read in this one's place (a snapshot sent by mistake): the "
        "cluster keeps its identity (team admins); 409 when none is waiting",
    )
    @action(detail=True, methods=["post"], url_path="dismiss-other-cluster")
    def dismiss_other_cluster(self, request, pk=None):
        return self._settle_other_cluster(request, accept=False)

    def _settle_other_cluster(self, request, *, accept: bool) -> Response:
        cluster = self.get_object()
        require_role(request.user, cluster.team_id, Role.ADMIN, "Answering for another cluster")
        if not services.settle_other_cluster(cluster, accept=accept, actor=request.user, request=request):
            raise Conflict("No other cluster was read in this one's place: there is nothing to answer.")
        return Response(self.get_serializer(cluster).data)

    @extend_schema(
        methods=["get"],
        responses=IngestTokenSerializer(many=True),
        filters=False,  # every token of the cluster: the clusters' filters and ordering do not apply
        summary="The cluster's agent ingest tokens",
    )
    @extend_schema(
        methods=["post"],
        request=IngestTokenSerializer,
        responses={201: IssuedIngestTokenSerializer},
        summary="Issue an ingest token for the in-cluster agent (team admins); shown once",
    )
    @action(detail=True, methods=["get", "post"], url_path="ingest-tokens", pagination_class=None)
    def ingest_tokens(self, request, pk=None):
        cluster = self.get_object()
        require_role(request.user, cluster.team_id, Role.ADMIN, "Managing ingest tokens")
        if request.method == "GET":
            return Response(IngestTokenSerializer(cluster.ingest_tokens.all(), many=True).data)
        serializer = IngestTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token, raw = services.issue_ingest_token(
                cluster,
                serializer.validated_data["name"],
                actor=request.user,
                expires_at=serializer.validated_data.get("expires_at"),
                request=request,
            )
        except services.PushesNotAccepted as exc:
            raise Conflict(f"{exc}.") from None
        data = IssuedIngestTokenSerializer(token).data
        data["token"] = raw
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, summary="Revoke an ingest token (team admins)")
    @action(
        detail=True,
        methods=["delete"],
        url_path=rf"ingest-tokens/(?P<token_pk>{ID})",
        url_name="ingest-token-detail",
    )
    def revoke_ingest_token(self, request, pk=None, token_pk=None):
        cluster = self.get_object()
        require_role(request.user, cluster.team_id, Role.ADMIN, "Managing ingest tokens")
        token = cluster.ingest_tokens.filter(pk=token_pk).first()
        if token is None:
            raise NotFound()
        services.revoke_ingest_token(token, actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(list=extend_schema(summary="Scans of your teams' clusters, newest first"))
class ScanViewSet(ThrottleFirstMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Scan.objects.none()
    serializer_class = ScanSerializer
    pagination_class = StandardPagination
    lookup_value_regex = ID
    filterset_fields = ["cluster", "status", "trigger"]
    ordering_fields = ["created_at", "finished_at", "score"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return Scan.objects.for_user(self.request.user)


# Validated as the findings' own filters are: a value that names nothing is a 400, never an empty list.
_CHECK_FILTERS = {
    "category": forms.ChoiceField(choices=CATEGORY_CHOICES, required=False),
    "severity": forms.ChoiceField(choices=SEVERITY_CHOICES, required=False),
}
_CATEGORY = OpenApiParameter(
    "category",
    str,
    enum=[value for value, _ in CATEGORY_CHOICES],
    description="Only checks of this category.",
)
_SEVERITY = OpenApiParameter(
    "severity",
    str,
    enum=[value for value, _ in SEVERITY_CHOICES],
    description="Only checks of this severity.",
)


def _check_filters(request) -> dict[str, str]:
    wanted, errors = {}, {}
    for name, field in _CHECK_FILTERS.items():
        try:
            value = field.clean(request.query_params.get(name))
        except forms.ValidationError as exc:
            errors[name] = exc.messages
        else:
            if value:
                wanted[name] = value
    if errors:
        raise ValidationError(errors)
    return wanted


class CheckViewSet(ThrottleFirstMixin, viewsets.ViewSet):
    """The check catalogue, with each check's open findings and accepted risks in the clusters you can see."""

    lookup_value_regex = r"[a-z0-9][a-z0-9-]{0,63}"
    pagination_class = StandardPagination
    serializer_class = CheckSerializer

    def _rows(self, request, only=None):
        clusters = sorted(Cluster.objects.for_user(request.user).values_list("pk", flat=True))
        counts = trends.cached(
            ("counts-by-check", clusters),
            lambda: counts_by_check(Finding.objects.filter(cluster_id__in=clusters)),
            seconds=30,
        )
        rows = []
        for check in load_catalogue():
            if only is not None and check.id != only:
                continue
            rows.append(
                {
                    "id": check.id,
                    "title": check.title,
                    "category": str(check.category),
                    "severity": str(check.severity),
                    "target": str(check.target),
                    "kinds": list(check.kinds),
                    "requires": list(check.requires),
                    "frameworks": check.frameworks.as_dict(),
                    "description": check.description,
                    "remediation": check.remediation,
                    "open_count": counts.get(check.id, {}).get("open", 0),
                    "accepted_risk_count": counts.get(check.id, {}).get("accepted", 0),
                }
            )
        return rows

    @extend_schema(parameters=[_CATEGORY, _SEVERITY], responses=CheckSerializer(many=True))
    def list(self, request):
        wanted = _check_filters(request)
        rows = [
            row for row in self._rows(request) if all(row[name] == value for name, value in wanted.items())
        ]
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(CheckSerializer(page, many=True).data)

    @extend_schema(responses=CheckSerializer)
    def retrieve(self, request, pk=None):
        rows = self._rows(request, only=pk)
        if not rows:
            raise NotFound()
        return Response(CheckSerializer(rows[0]).data)


_SCOPE_PARAMS = [
    OpenApiParameter("cluster", int, description="One cluster (default: every cluster you can see)."),
    OpenApiParameter("team", str, description="One team, by slug."),
    OpenApiParameter("bucket", str, enum=["day", "week"], description="Bucket size (default day)."),
    OpenApiParameter("days", int, description="How far back, in days (1-730, default 30)."),
]


class TrendsView(ThrottleFirstMixin, APIView):
    """Time series per cluster, team or the fleet, read from each scan's summary row."""

    @extend_schema(parameters=_SCOPE_PARAMS, responses=TrendsSerializer, summary="Posture over time")
    def get(self, request):
        clusters, scope = _scope(request)
        bucket = request.query_params.get("bucket") or "day"
        if bucket not in ("day", "week"):
            raise ValidationError({"bucket": ["Must be day or week."]})
        days = _int_param(request, "days", 30, 1, 730)
        # The scope is part of the answer: the fleet, a team and a cluster can be the same clusters.
        key = (
            "trends",
            scope,
            sorted(clusters.values_list("pk", flat=True)),
            bucket,
            days,
            timezone.localdate(),
        )
        data = trends.cached(
            key, lambda: TrendsSerializer(trends.series(clusters, scope, bucket=bucket, days=days)).data
        )
        return Response(data)


class SummaryView(ThrottleFirstMixin, APIView):
    """Today's posture for dashboards: totals and one row per cluster, from the latest scans."""

    @extend_schema(parameters=_SCOPE_PARAMS[:2], responses=SummarySerializer, summary="Dashboard summary")
    def get(self, request):
        clusters, _ = _scope(request)
        return Response(SummarySerializer(trends.summary(clusters)).data)


def _scope(request):
    clusters = Cluster.objects.for_user(request.user)
    cluster_id = request.query_params.get("cluster")
    team = request.query_params.get("team")
    if cluster_id is not None:
        if not (cluster_id.isascii() and cluster_id.isdigit()) or len(cluster_id) > 18:
            raise ValidationError({"cluster": ["A cluster id is required."]})
        clusters = clusters.filter(pk=int(cluster_id))
        if not clusters.exists():
            raise NotFound()
        return clusters, f"cluster:{cluster_id}"
    if team is not None:
        clusters = clusters.filter(team__slug=team[:100])
        # A team without clusters yet is still one the user may ask about: empty, not missing.
        if not clusters.exists() and not visible_teams(request.user).filter(slug=team[:100]).exists():
            raise NotFound()
        return clusters, f"team:{team[:100]}"
    return clusters, "fleet"


def _int_param(request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw[:6]) <= high or len(raw) > 6:
        raise ValidationError({name: [f"Must be a whole number from {low} to {high}."]})
    return int(raw)


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@authentication_classes([])
@permission_classes([AllowAny])
@schema(None)
def not_found(request, *args, **kwargs):
    raise NotFound()
