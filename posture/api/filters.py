"""Filtering and ordering for API lists that take no FilterSet of their own (``filterset_fields``)."""

from django import forms
from django.db import models
from django_filters import Filter, NumberFilter
from django_filters.rest_framework import DjangoFilterBackend, FilterSet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

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


class StrictBooleanField(forms.Field):
    """Yes or no as people and HTTP libraries write it; anything else is invalid input, never "no filter".

    django-filter's own boolean reads an unknown value (PHP's ``1``, ``yes``) as empty, which drops
    the filter: a bulk change meant for the overdue findings would reach every finding.
    """

    TRUE = frozenset({"true", "1", "yes", "on"})
    FALSE = frozenset({"false", "0", "no", "off"})

    def to_python(self, value):
        text = str(value).strip().lower() if value is not None else ""
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError("Give true or false.", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(Filter):
    field_class = StrictBooleanField


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


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=`` among the view's own ``ordering_fields``, ties broken by id; anything else is a 400.

    DRF's filter drops an unknown field silently, and a view without ``ordering_fields`` may be
    sorted by every serializer field, nested ones too: ``?ordering=attempt_log`` joined the
    attempts and repeated some deliveries while dropping others. Here a view without
    ``ordering_fields`` has only its default order.
    """

    def get_valid_fields(self, queryset, view, context=None):
        return [(name, name) for name in getattr(view, "ordering_fields", None) or []]

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if not raw:
            return self.get_default_ordering(view)
        allowed = [name for name, _ in self.get_valid_fields(queryset, view)]
        terms = [term.strip() for term in raw.split(",")]
        if not all(term.removeprefix("-") in allowed for term in terms):
            raise ValidationError({self.ordering_param: [_ordering_choices(allowed)]})
        return terms

    def filter_queryset(self, request, queryset, view):
        ordering = list(self.get_ordering(request, queryset, view) or [])
        if not ordering:
            return queryset
        if not {"id", "-id", "pk", "-pk"} & set(ordering):  # equal values must not swap between pages
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return queryset.order_by(*ordering)

    def get_schema_operation_parameters(self, view):
        allowed = list(getattr(view, "ordering_fields", None) or [])
        if not allowed:
            return []
        parameters = super().get_schema_operation_parameters(view)
        parameters[0]["description"] = (
            f"{_ordering_choices(allowed)} Several, comma-separated, sort by each in turn; ties by id."
        )
        return parameters


def _ordering_choices(allowed: list[str]) -> str:
    if not allowed:
        return "This list has one order of its own; it cannot be chosen."
    return f"One of: {', '.join(allowed)}; with a leading - for descending order."
