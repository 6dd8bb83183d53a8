"""Page-number pagination for small collections; keyset cursors for findings.

Findings use a cursor on (ordering field, id): a page is "the next 50 after
this row", so findings inserted while a client pages through (a scan landing)
never shift or repeat rows, and page 10,000 costs what page 1 costs. DRF's own
CursorPagination pages by the first ordering field only and falls back to
OFFSET among equal values, which is slow when a scan gives 100,000 findings
the same ``last_seen_at``.
"""

import base64
import binascii
from datetime import datetime

import orjson
from django.core.paginator import Page
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from posture.api.filters import MAX_ID

NOT_A_COUNTING_NUMBER = "Must be a whole number, at least 1."


def _counting_number(raw: str) -> bool:
    return raw.isascii() and raw.isdigit() and bool(raw.strip("0"))


def requested_page_size(request, name: str, default: int, maximum: int) -> int:
    """``?page_size=``: a whole number from 1 (above the maximum gives the maximum); else a 400."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _counting_number(raw):
        raise ValidationError({name: [NOT_A_COUNTING_NUMBER]})
    return min(int(raw) if len(raw) <= 18 else maximum, maximum)


class StandardPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=``, refused with a 400 naming the parameter when they are not numbers.

    A page past the end is an empty page (200, with the count and a link back to the last page), not
    an error: rows deleted while a client pages must not turn the next page into a 404 that reads
    as if the list were gone, and the findings' cursors answer an empty page past the end too.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        return requested_page_size(request, self.page_size_query_param, self.page_size, self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        if not _counting_number(raw):
            raise ValidationError({self.page_query_param: [NOT_A_COUNTING_NUMBER]})
        return int(raw) if len(raw) <= 18 else paginator.num_pages + 1  # that long is past any end

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        number = self.get_page_number(request, paginator)
        self.page = paginator.page(number) if number <= paginator.num_pages else Page([], number, paginator)
        return list(self.page)

    def get_previous_link(self):
        number = min(self.page.number - 1, self.page.paginator.num_pages)  # past the end: the last page
        if number < 1:
            return None
        url = self.request.build_absolute_uri()
        if number == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, number)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_query_param:
                parameter["description"] = "A page number, from 1; a page past the end is empty."
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Results per page (at most {self.max_page_size})."
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


class KeysetPagination(BasePagination):
    """``?cursor=`` pages over ``?ordering=`` (one of ``orderings``), ties broken by id."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    cursor_query_param = "cursor"
    ordering_query_param = "ordering"
    orderings = ("-id", "id", "-last_seen_at", "last_seen_at", "-first_seen_at", "first_seen_at")
    default_ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.ordering = self._ordering(request)
        self.page_size = self._page_size(request)
        field = self.ordering.lstrip("-")
        descending = self.ordering.startswith("-")
        cursor = self._decode(request.query_params.get(self.cursor_query_param))
        backwards = bool(cursor and cursor.get("r"))
        # Walking backwards is walking forwards in the opposite order, then reversing the page.
        forward_desc = descending != backwards
        order = [f"-{field}", "-id"] if forward_desc else [field, "id"]
        if field == "id":
            order = order[1:]
        queryset = queryset.order_by(*order)
        if cursor:
            queryset = queryset.filter(self._after(field, cursor, forward_desc))
        rows = list(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()
        self.has_next = more if not backwards else True
        self.has_previous = bool(cursor) and (more if backwards else True)
        self.first, self.last = (rows[0], rows[-1]) if rows else (None, None)
        if not rows and cursor:  # an empty page after a cursor: let the client come back
            self.has_next = False
            self.has_previous = True
        self._cursor_row = cursor
        return rows

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The pagination cursor value (from next/previous).",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (at most {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.ordering_query_param,
                "required": False,
                "in": "query",
                "description": "Order of the results; ties are broken by id.",
                "schema": {"type": "string", "enum": list(self.orderings), "default": self.default_ordering},
            },
        ]

    # --- links and cursors ---------------------------------------------------------

    def get_next_link(self):
        if not self.has_next or self.last is None:
            return None
        return self._link(self.last, reverse=False)

    def get_previous_link(self):
        if not self.has_previous:
            return None
        if self.first is None:  # past the end: step back from where the client was
            cursor = dict(self._cursor_row or {})
            cursor["r"] = 1
            return replace_query_param(self.base_url, self.cursor_query_param, _encode(cursor))
        return self._link(self.first, reverse=True)

    def _link(self, row, *, reverse: bool) -> str:
        field = self.ordering.lstrip("-")
        value = getattr(row, field)
        cursor = {
            "o": self.ordering,
            "id": row.pk,
            "v": value.isoformat() if isinstance(value, datetime) else value,
        }
        if reverse:
            cursor["r"] = 1
        url = remove_query_param(self.base_url, self.cursor_query_param)
        return replace_query_param(url, self.cursor_query_param, _encode(cursor))

    def _after(self, field: str, cursor: dict, descending: bool) -> Q:
        op = "lt" if descending else "gt"
        if field == "id":
            return Q(**{f"id__{op}": cursor["id"]})
        value = cursor["v"]
        if value is None:  # a null sort value: nothing precedes it in these non-null fields
            return Q(**{f"id__{op}": cursor["id"]})
        return Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": cursor["id"]})

    def _decode(self, raw: str | None) -> dict | None:
        if not raw:
            return None
        invalid = ValidationError({self.cursor_query_param: ["Invalid cursor."]})
        try:
            cursor = orjson.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"=" * (-len(raw) % 4)))
        except (ValueError, UnicodeError, binascii.Error, orjson.JSONDecodeError):
            raise invalid from None
        if not isinstance(cursor, dict) or cursor.get("o") != self.ordering:
            raise invalid
        if not isinstance(cursor.get("id"), int) or not 0 < cursor["id"] <= MAX_ID:
            raise invalid
        field = self.ordering.lstrip("-")
        if field != "id":
            value = cursor.get("v")
            if value is not None:
                try:  # well-formed but impossible ("2026-13-45", "+99:00") raises rather than None
                    parsed = parse_datetime(value) if isinstance(value, str) else None
                except ValueError:
                    parsed = None
                if parsed is None:
                    raise invalid
                cursor["v"] = parsed
        return cursor

    def _ordering(self, request) -> str:
        ordering = request.query_params.get(self.ordering_query_param) or self.default_ordering
        if ordering not in self.orderings:
            raise ValidationError(
                {self.ordering_query_param: [f"Must be one of: {', '.join(self.orderings)}."]}
            )
        return ordering

    def _page_size(self, request) -> int:
        return requested_page_size(request, self.page_size_query_param, self.page_size, self.max_page_size)


def _encode(cursor: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(cursor)).decode("ascii").rstrip("=")
