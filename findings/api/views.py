from rest_framework import viewsets

from findings.api.serializers import FindingSerializer
from findings.filtersets import FindingFilterSet
from findings.models import Finding


class FindingViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = FindingSerializer
    filterset_class = FindingFilterSet
    ordering_fields = ["last_seen_at", "first_seen_at", "severity", "check_id"]
    ordering = ["-last_seen_at", "-id"]

    def get_queryset(self):
        return Finding.objects.for_user(self.request.user).select_related("assignee")
