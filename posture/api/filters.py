"""Filtering for API lists that take no FilterSet of their own (``filterset_fields``)."""

from django.db import models
from django_filters import NumberFilter
from django_filters.rest_framework import DjangoFilterBackend, FilterSet


class IdFilterSet(FilterSet):
    """Foreign keys filter by plain id.

    django-filter would validate an id against every row of the table, answering
    400 for an unknown id and an empty 200 for another team's: an oracle of what
    exists. As plain numbers, both give the same empty list.
    """

    FILTER_DEFAULTS = {
        **FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": NumberFilter},
        models.OneToOneField: {"filter_class": NumberFilter},
    }


class FilterBackend(DjangoFilterBackend):
    filterset_base = IdFilterSet
