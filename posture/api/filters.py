"""Filtering for API lists that take no FilterSet of their own (``filterset_fields``)."""

from django import forms
from django.db import models
from django_filters import NumberFilter
from django_filters.rest_framework import DjangoFilterBackend, FilterSet

# Row ids are 64-bit: a larger number can name no row, and SQLite cannot even bind it
# (OverflowError, a server error) where PostgreSQL would quietly match nothing.
MAX_ID = 2**63 - 1


class IdFilter(NumberFilter):
    """A row id: a whole number from 1 to MAX_ID, anything else is invalid input (400)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class IdFilterSet(FilterSet):
    """Foreign keys filter by plain id.

    django-filter would validate an id against every row of the table, answering
    400 for an unknown id and an empty 200 for another team's: an oracle of what
    exists. As plain numbers, both give the same empty list.
    """

    FILTER_DEFAULTS = {
        **FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
    }


class FilterBackend(DjangoFilterBackend):
    filterset_base = IdFilterSet
