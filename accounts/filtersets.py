from datetime import datetime, time, timedelta

import django_filters
from django.utils import timezone

from accounts.models import AuditEvent


class AuditEventFilterSet(django_filters.FilterSet):
    """Filters for the audit page and its CSV export alike."""

    action = django_filters.CharFilter(
        method="filter_action", label="Action", help_text="e.g. login.failed, or login. for all logins"
    )
    actor = django_filters.CharFilter(method="filter_actor", label="Actor", help_text="Username, or “system”")
    date_from = django_filters.DateFilter(method="filter_from", label="From")
    date_to = django_filters.DateFilter(method="filter_to", label="To (inclusive)")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "date_from", "date_to"]

    def filter_action(self, queryset, name, value):
        value = value.strip()[:64]
        if not value:
            return queryset
        # A trailing dot selects a family ("login." → every login event).
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)

    def filter_actor(self, queryset, name, value):
        value = value.strip()[:150]
        if not value:
            return queryset
        if value.casefold() == "system":
            return queryset.filter(actor_label="")
        return queryset.filter(actor_label__iexact=value)

    def filter_from(self, queryset, name, value):
        return queryset.filter(at__gte=_start_of(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(at__lt=_start_of(value + timedelta(days=1)))


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, time.min))
