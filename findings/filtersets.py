import django_filters
from django.db.models import Q

from findings.models import Finding, FindingStatus
from posture.scanning.checks.registry import Severity


class FindingFilterSet(django_filters.FilterSet):
    """One filter set for the HTML list and the API alike."""

    cluster = django_filters.NumberFilter(field_name="cluster_id")
    namespace = django_filters.CharFilter()
    severity = django_filters.MultipleChoiceFilter(choices=[(s.value, s.value.title()) for s in Severity])
    status = django_filters.MultipleChoiceFilter(choices=FindingStatus.choices)
    check_id = django_filters.CharFilter(label="Check")
    category = django_filters.CharFilter()
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Finding
        fields = ["cluster", "namespace", "severity", "status", "check_id", "category"]

    def search(self, queryset, name, value):
        value = value.strip()[:200]
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(namespace__icontains=value)
            | Q(check_id__icontains=value)
            | Q(message__icontains=value)
        )
