"""Findings over the API: list, filter, triage (one or thousands at once), comments, history, exports.

Views stay thin: status changes go through findings.triage, exception rules and
comments through findings.services. Another team's finding is 404; triage needs
the engineer role in the finding's team, exception rules the admin role.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import QueryDict
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.models import Membership, Role, Team
from accounts.permissions import has_role, teams_with_role
from findings import services, triage
from findings.api import exports
from findings.api.serializers import (
    AcceptRiskSerializer,
    AssignSerializer,
    BulkAcceptRiskSerializer,
    BulkAssignSerializer,
    BulkCommentSerializer,
    BulkOutcomeSerializer,
    BulkReasonSerializer,
    BulkRequiredReasonSerializer,
    CommentBodySerializer,
    CommentSerializer,
    ExceptionRuleCreatedSerializer,
    ExceptionRuleSerializer,
    FindingEventSerializer,
    FindingExportSerializer,
    FindingSerializer,
    ReasonSerializer,
    RequiredReasonSerializer,
)
from findings.filtersets import FindingFilterSet
from findings.models import Comment, ExceptionRule, Finding, FindingEvent, FindingStatus
from posture.api.pagination import KeysetPagination, StandardPagination
from posture.api.throttling import (
    AddressRateThrottle,
    ExportRateThrottle,
    ThrottleFirstMixin,
    TokenRateThrottle,
)
from posture.api.views import ID
from posture.models import Cluster

S = FindingStatus
CSV = OpenApiResponse(OpenApiTypes.STR, description="CSV, streamed; one row per finding.")
JSON_EXPORT = OpenApiResponse(FindingExportSerializer(many=True), description="A JSON array, streamed.")


def _require_triage(user, team_id: int) -> None:
    if not has_role(user, team_id, Role.ENGINEER):
        raise PermissionDenied("Triage needs the engineer role in the finding's team.")


def _team_member(username: str, team_ids, field: str):
    """The active user of that name who is a member of every team concerned (superusers are of all).

    A username that names nobody gets the same answer as another team's user, so that
    nobody can learn from the API which usernames exist.
    """
    refusal = ValidationError({field: ["Must be a member of the team concerned."]})
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise refusal
    if user.is_superuser:
        return user
    member_of = set(Membership.objects.filter(user=user).values_list("team_id", flat=True))
    if set(team_ids) - member_of:
        raise refusal
    return user


@extend_schema_view(
    list=extend_schema(summary="Findings of your teams' clusters (cursor-paginated, filterable)"),
    retrieve=extend_schema(summary="One finding"),
)
class FindingViewSet(ThrottleFirstMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Finding.objects.none()  # for the schema; the real one is get_queryset()
    serializer_class = FindingSerializer
    filterset_class = FindingFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = KeysetPagination
    lookup_value_regex = ID

    def get_queryset(self):
        # The visible clusters as a literal id list rather than a subquery: the planner then
        # judges the findings query by the findings table's own statistics, not by guesses
        # about small tables that autovacuum may never analyze (1 s instead of 7 ms at 1M).
        clusters = list(Cluster.objects.for_user(self.request.user).values_list("pk", flat=True))
        return Finding.objects.filter(cluster_id__in=clusters).select_related("assignee")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # django-filter's multiple-choice filters (severity, status) add DISTINCT by default. No
        # filter of FindingFilterSet joins a to-many relation, so no row can repeat, and DISTINCT
        # makes PostgreSQL sort every matching row before the LIMIT (75 ms -> 6 ms at 1M findings).
        if queryset.query.distinct and not queryset.query.distinct_fields:
            queryset = queryset.all()
            queryset.query.distinct = False
        return queryset

    # --- one finding ------------------------------------------------------------

    def _transition(self, request, to_status, serializer_class):
        finding = self.get_object()
        _require_triage(request.user, finding.cluster.team_id)
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        triage.change_status(
            finding, to_status, actor=request.user, reason=data.get("reason", ""), until=data.get("until")
        )
        return Response(FindingSerializer(self.get_queryset().get(pk=finding.pk)).data)

    @extend_schema(request=ReasonSerializer, responses=FindingSerializer, summary="Acknowledge (engineers)")
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._transition(request, S.ACKNOWLEDGED, ReasonSerializer)

    @extend_schema(
        request=AcceptRiskSerializer, responses=FindingSerializer, summary="Accept the risk until a date"
    )
    @action(detail=True, methods=["post"], url_path="accept-risk")
    def accept_risk(self, request, pk=None):
        return self._transition(request, S.RISK_ACCEPTED, AcceptRiskSerializer)

    @extend_schema(
        request=RequiredReasonSerializer, responses=FindingSerializer, summary="Mark a false positive"
    )
    @action(detail=True, methods=["post"], url_path="false-positive")
    def false_positive(self, request, pk=None):
        return self._transition(request, S.FALSE_POSITIVE, RequiredReasonSerializer)

    @extend_schema(request=ReasonSerializer, responses=FindingSerializer, summary="Reopen (engineers)")
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._transition(request, S.OPEN, ReasonSerializer)

    @extend_schema(request=AssignSerializer, responses=FindingSerializer, summary="Assign or unassign")
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        finding = self.get_object()
        _require_triage(request.user, finding.cluster.team_id)
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["assignee"]
        assignee = None if username is None else _team_member(username, [finding.cluster.team_id], "assignee")
        triage.assign(Finding.objects.filter(pk=finding.pk), assignee, actor=request.user)
        return Response(FindingSerializer(self.get_queryset().get(pk=finding.pk)).data)

    @extend_schema(methods=["get"], responses=CommentSerializer(many=True), summary="The finding's comments")
    @extend_schema(
        methods=["post"], request=CommentBodySerializer, responses={201: CommentSerializer}, summary="Comment"
    )
    @action(detail=True, methods=["get", "post"], pagination_class=StandardPagination, filterset_class=None)
    def comments(self, request, pk=None):
        finding = self.get_object()
        if request.method == "GET":
            return self._page(finding.comments.select_related("author"), CommentSerializer)
        _require_triage(request.user, finding.cluster.team_id)
        serializer = CommentBodySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.add_comment(finding, author=request.user, body=serializer.validated_data["body"])
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=FindingEventSerializer(many=True), summary="The finding's history")
    @action(detail=True, methods=["get"], pagination_class=StandardPagination, filterset_class=None)
    def history(self, request, pk=None):
        finding = self.get_object()
        return self._page(
            finding.events.select_related("actor").order_by("-at", "-id"), FindingEventSerializer
        )

    def _page(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    # --- many findings ----------------------------------------------------------

    def _selection(self, request, serializer_class):
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        visible = Finding.objects.for_user(request.user)
        if "ids" in data:
            selected = visible.filter(pk__in=set(data["ids"]))
        else:
            # A misspelt key must not widen the selection to every finding.
            unknown = sorted(set(data["filter"]) - set(FindingFilterSet.base_filters))
            if unknown:
                raise ValidationError({"filter": {name: ["Unknown filter."] for name in unknown}})
            query = QueryDict(mutable=True)
            for name, value in data["filter"].items():
                values = value if isinstance(value, list) else [value]
                if any(isinstance(item, dict | list) for item in values):
                    raise ValidationError({"filter": {name: ["Give a value or a list of values."]}})
                # In a list's query string an empty value is an unused form field; in a bulk change
                # it would select every finding instead of the few its sender had in mind.
                if not values or any(item is None or not str(item).strip() for item in values):
                    raise ValidationError({"filter": {name: ["Give a value, or leave this filter out."]}})
                query.setlist(name, [str(item)[:1000] for item in values])
            filterset = FindingFilterSet(data=query, queryset=visible, request=request)
            if not filterset.is_valid():
                raise ValidationError({"filter": filterset.errors})
            selected = filterset.qs
        selected = Finding.objects.filter(pk__in=selected.order_by().values("pk"))
        # Only a cluster the user sees without the engineer role can make the selection forbidden.
        # Usually there is none, and then no finding needs to be looked at (at a million findings,
        # checking every selected one's team was a quarter of a bulk request).
        not_allowed = Cluster.objects.for_user(request.user).exclude(
            team_id__in=teams_with_role(request.user, Role.ENGINEER)
        )
        if not_allowed.exists() and selected.filter(cluster__in=not_allowed).exists():
            raise PermissionDenied(
                "Triage needs the engineer role in the team of every selected finding; narrow the selection."
            )
        return selected, data

    def _bulk_status(self, request, to_status, serializer_class):
        selected, data = self._selection(request, serializer_class)
        outcome = triage.bulk_change_status(
            selected, to_status, actor=request.user, reason=data.get("reason", ""), until=data.get("until")
        )
        return Response({"matched": outcome.changed + outcome.refused, **outcome.__dict__})

    @extend_schema(request=BulkReasonSerializer, responses=BulkOutcomeSerializer, summary="Acknowledge many")
    @action(detail=False, methods=["post"], url_path="bulk-acknowledge")
    def bulk_acknowledge(self, request):
        return self._bulk_status(request, S.ACKNOWLEDGED, BulkReasonSerializer)

    @extend_schema(
        request=BulkAcceptRiskSerializer, responses=BulkOutcomeSerializer, summary="Accept many risks"
    )
    @action(detail=False, methods=["post"], url_path="bulk-accept-risk")
    def bulk_accept_risk(self, request):
        return self._bulk_status(request, S.RISK_ACCEPTED, BulkAcceptRiskSerializer)

    @extend_schema(
        request=BulkRequiredReasonSerializer,
        responses=BulkOutcomeSerializer,
        summary="Mark many false positives",
    )
    @action(detail=False, methods=["post"], url_path="bulk-false-positive")
    def bulk_false_positive(self, request):
        return self._bulk_status(request, S.FALSE_POSITIVE, BulkRequiredReasonSerializer)

    @extend_schema(request=BulkReasonSerializer, responses=BulkOutcomeSerializer, summary="Reopen many")
    @action(detail=False, methods=["post"], url_path="bulk-reopen")
    def bulk_reopen(self, request):
        return self._bulk_status(request, S.OPEN, BulkReasonSerializer)

    @extend_schema(request=BulkAssignSerializer, responses=BulkOutcomeSerializer, summary="Assign many")
    @action(detail=False, methods=["post"], url_path="bulk-assign")
    def bulk_assign(self, request):
        selected, data = self._selection(request, BulkAssignSerializer)
        team_ids = set(selected.order_by().values_list("cluster__team_id", flat=True).distinct())
        if not team_ids:  # no team concerned: no username is looked up, so none is revealed either
            return Response({"matched": 0, "changed": 0, "refused": 0})
        username = data["assignee"]
        assignee = None if username is None else _team_member(username, team_ids, "assignee")
        matched = selected.count()
        changed = triage.assign(selected, assignee, actor=request.user)
        return Response({"matched": matched, "changed": changed, "refused": 0})

    @extend_schema(request=BulkCommentSerializer, responses=BulkOutcomeSerializer, summary="Comment on many")
    @action(detail=False, methods=["post"], url_path="bulk-comment")
    def bulk_comment(self, request):
        selected, data = self._selection(request, BulkCommentSerializer)
        body, changed = data["body"], 0
        with transaction.atomic():
            batch = []
            for finding_id in selected.order_by("id").values_list("id", flat=True).iterator(chunk_size=2000):
                batch.append(Comment(finding_id=finding_id, author=request.user, body=body))
                if len(batch) >= 2000:
                    changed += len(Comment.objects.bulk_create(batch))
                    batch = []
            changed += len(Comment.objects.bulk_create(batch))
        return Response({"matched": changed, "changed": changed, "refused": 0})

    # --- exports ----------------------------------------------------------------

    @extend_schema(
        responses={(200, "text/csv"): CSV},
        # Two renderers (the errors' JSON and CSV) are no choice of format for the client to make.
        parameters=[OpenApiParameter("format", exclude=True)],
        filters=True,  # the list's filters, which spectacular documents for lists only
        summary="Export the filtered findings as CSV (streamed)",
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="export/csv",
        throttle_classes=[AddressRateThrottle, TokenRateThrottle, ExportRateThrottle],
        pagination_class=None,
        renderer_classes=exports.CSV_RENDERERS,
        content_negotiation_class=exports.ExportNegotiation,
    )
    def export_csv(self, request):
        return exports.csv_response(self.filter_queryset(self.get_queryset()))

    @extend_schema(
        responses={(200, "application/json"): JSON_EXPORT},
        filters=True,
        summary="Export the filtered findings as JSON (streamed)",
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="export/json",
        throttle_classes=[AddressRateThrottle, TokenRateThrottle, ExportRateThrottle],
        pagination_class=None,
    )
    def export_json(self, request):
        return exports.json_response(self.filter_queryset(self.get_queryset()))


@extend_schema_view(
    list=extend_schema(summary="Comments on your teams' findings"),
    create=extend_schema(summary="Comment on a finding (engineers)"),
)
class CommentViewSet(ThrottleFirstMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Comment.objects.none()
    serializer_class = CommentSerializer
    pagination_class = StandardPagination
    lookup_value_regex = ID
    filterset_fields = ["finding"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return Comment.objects.filter(finding__in=Finding.objects.for_user(self.request.user)).select_related(
            "author"
        )

    def perform_create(self, serializer):
        finding = serializer.validated_data["finding"]
        _require_triage(self.request.user, finding.cluster.team_id)
        serializer.instance = services.add_comment(
            finding, author=self.request.user, body=serializer.validated_data["body"]
        )


@extend_schema_view(list=extend_schema(summary="History of your teams' findings (every change)"))
class FindingEventViewSet(ThrottleFirstMixin, viewsets.ReadOnlyModelViewSet):
    queryset = FindingEvent.objects.none()
    serializer_class = FindingEventSerializer
    pagination_class = StandardPagination
    lookup_value_regex = ID
    filterset_fields = ["finding", "action", "scan"]
    ordering_fields = ["at"]
    ordering = ["-at", "-id"]

    def get_queryset(self):
        return FindingEvent.objects.filter(
            finding__in=Finding.objects.for_user(self.request.user)
        ).select_related("actor")


@extend_schema_view(
    list=extend_schema(summary="Exception rules of your teams"),
    create=extend_schema(
        responses={201: ExceptionRuleCreatedSerializer}, summary="Create an exception (admins)"
    ),
    destroy=extend_schema(summary="Revoke an exception (admins); its findings return to open"),
)
class ExceptionRuleViewSet(
    ThrottleFirstMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet
):
    queryset = ExceptionRule.objects.none()
    serializer_class = ExceptionRuleSerializer
    pagination_class = StandardPagination
    lookup_value_regex = ID
    filterset_fields = ["cluster"]
    ordering_fields = ["created_at", "expires_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return ExceptionRule.objects.for_user(self.request.user).select_related("team", "owner", "created_by")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        slug = data.pop("team_slug", None)
        cluster = data.get("cluster")
        if cluster is not None:
            team = cluster.team
        elif slug:
            team = Team.objects.filter(slug=slug, id__in=teams_with_role(request.user, Role.VIEWER)).first()
            if team is None:
                raise ValidationError({"team_slug": ["No such team of yours."]})
        else:
            raise ValidationError({"cluster": ["Give a cluster, or team_slug for every cluster of a team."]})
        if not has_role(request.user, team.pk, Role.ADMIN):
            raise PermissionDenied("Exceptions need the admin role in the team.")
        data["owner"] = _team_member(data["owner"], [team.pk], "owner")
        rule, accepted = services.create_exception_rule(ExceptionRule(team=team, **data), actor=request.user)
        body = ExceptionRuleCreatedSerializer(rule, context=self.get_serializer_context()).data
        body["findings_accepted"] = accepted
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        if not has_role(self.request.user, instance.team_id, Role.ADMIN):
            raise PermissionDenied("Exceptions need the admin role in the team.")
        if instance.revoked_at is None:
            services.revoke_exception_rule(instance, actor=self.request.user)
