import re
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from findings.models import Finding, FindingStatus
from findings.summary import FRAMEWORKS, frameworks_of
from posture.api.filters import IdFilter, StrictBooleanFilter
from posture.models import Cluster
from posture.scanning.checks.registry import Category, Severity

# An object as the findings list writes it, "Deployment shop/web [app]", or as scan_manifests
# does, "Deployment/shop/web": kind and container optional, the namespace empty for cluster scope.
OBJECT_REFERENCE = re.compile(
    r"^(?:(?P<kind>[A-Za-z][A-Za-z0-9]*)[ /]\s*)?(?P<namespace>[^\s/]*)/(?P<name>[^\s/\[]+)"
    r"(?:\s*\[(?P<container>[^\]]*)\])?$"
)


class ObjectReferenceField(forms.CharField):
    """An object as "Kind/namespace/name", the namespace empty for a cluster-scoped one
    ("ClusterRole//edit"): Kubernetes names hold no slash, so the three parts are never ambiguous."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        parts = value.split("/")
        if len(parts) != 3 or not parts[0] or not parts[2]:
            raise forms.ValidationError(
                'Give an object as "Kind/namespace/name", e.g. "Deployment/shop/web" or "ClusterRole//edit".',
                code="invalid",
            )
        return tuple(parts)


@extend_schema_field(OpenApiTypes.STR)
class ObjectReferenceFilter(django_filters.Filter):
    field_class = ObjectReferenceField

    def filter(self, queryset, value):
        if not value:
            return queryset
        kind, namespace, name = value
        return queryset.filter(kind=kind, namespace=namespace, name=name)


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class FindingFilterSet(django_filters.FilterSet):
    """One filter set for the HTML list and the API alike. Field names are an API: add, never rename."""

    cluster = IdFilter(field_name="cluster_id")
    team = django_filters.CharFilter(
        method="in_team", label="Team", help_text="The findings of one team's clusters, by the team's slug."
    )
    namespace = django_filters.CharFilter()
    # distinct=False: plain columns, no joins, so no duplicates to remove; a DISTINCT would
    # stop the database from reading a sorted index and make it sort every row instead.
    severity = django_filters.MultipleChoiceFilter(
        choices=[(s.value, s.value.title()) for s in Severity], distinct=False
    )
    status = django_filters.MultipleChoiceFilter(choices=FindingStatus.choices, distinct=False)
    check_id = django_filters.CharFilter(label="Check")
    category = django_filters.ChoiceFilter(
        choices=[(category.value, Category.label_of(category.value)) for category in Category],
        label="Category",
    )
    framework = django_filters.ChoiceFilter(
        choices=list(FRAMEWORKS.items()), method="in_framework", label="Framework"
    )
    assignee = django_filters.CharFilter(
        method="assigned_to", label="Assignee", help_text='A user id, "me", or "none" for unassigned.'
    )
    exception = IdFilter(
        field_name="exception_rule_id",
        label="Exception rule",
        help_text="Held by this exception rule (its id).",
    )
    first_seen_scan = IdFilter(
        field_name="first_seen_scan_id",
        label="First seen in scan",
        help_text="New in this scan (its id): what the scan found for the first time.",
    )
    object = ObjectReferenceFilter(
        label="Object",
        help_text='One object\'s findings, every container\'s: "Kind/namespace/name" ("ClusterRole//edit").',
    )
    overdue = StrictBooleanFilter(method="past_due", label="Overdue", help_text="true or false.")
    first_seen_after = django_filters.DateFilter(method="seen_after", label="First seen on or after")
    first_seen_before = django_filters.DateFilter(method="seen_before", label="First seen on or before")
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Finding
        fields = ["cluster", "namespace", "severity", "status", "check_id", "category"]

    def search(self, queryset, name, value):
        value = value.strip()[:200]
        if not value:
            return queryset
        matches = (
            Q(name__icontains=value)
            | Q(namespace__icontains=value)
            | Q(check_id__icontains=value)
            | Q(message__icontains=value)
            | Q(cluster_id__in=Cluster.objects.filter(name__icontains=value).values("pk"))
        )
        reference = OBJECT_REFERENCE.match(value)
        if reference:  # pasted from the Object column, or from scan_manifests' output
            parts = reference.groupdict()
            found = Q(namespace__iexact=parts["namespace"], name__icontains=parts["name"])
            if parts["kind"]:
                found &= Q(kind__iexact=parts["kind"])
            if parts["container"]:
                found &= Q(container__iexact=parts["container"])
            matches |= found
        return queryset.filter(matches)

    def in_team(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # The team's clusters as a literal id list, like the visible clusters the lists start from:
        # a subquery's row estimate can steer the planner off the sort order's index. Another
        # team's slug finds only clusters the queryset has already left out: an empty list either way.
        ids = list(Cluster.objects.filter(team__slug=value[:100]).values_list("pk", flat=True))
        return queryset.filter(cluster_id__in=ids)

    def in_framework(self, queryset, name, value):
        from posture.scanning.checks import load_catalogue

        ids = [check.id for check in load_catalogue() if value in frameworks_of(check)]
        return queryset.filter(check_id__in=ids)

    def assigned_to(self, queryset, name, value):
        value = value.strip().lower()
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value == "me":
            user = getattr(self.request, "user", None)
            return queryset.filter(assignee=user) if user and user.is_authenticated else queryset.none()
        if value.isascii() and value.isdigit():  # "²" is a digit to isdigit, not to int()
            return queryset.filter(assignee_id=int(value)) if len(value) <= 18 else queryset.none()
        return queryset.filter(assignee__username=value)

    def past_due(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = queryset.overdue(timezone.now())
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))

    def seen_after(self, queryset, name, value):
        return queryset.filter(first_seen_at__gte=_start_of(value))

    def seen_before(self, queryset, name, value):
        if value == date.max:
            return queryset  # every finding was first seen before the end of time
        return queryset.filter(first_seen_at__lt=_start_of(value + timedelta(days=1)))
