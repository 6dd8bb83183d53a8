"""Streaming exports of findings: constant memory however many rows match.

Rows come from the database in chunks (a server-side cursor on PostgreSQL) and
go out as they are formatted; nothing holds the whole result. A row carries the
fields of a finding in GET /findings/, written the same way, plus its cluster's name.
"""

import csv
from datetime import datetime

import orjson
from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.serializers import DateTimeField

CHUNK_SIZE = 2_000
COLUMNS = [
    ("id", "id"),
    ("cluster", "cluster_id"),
    ("cluster_name", "cluster__name"),
    ("check_id", "check_id"),
    ("severity", "severity"),
    ("category", "category"),
    ("kind", "kind"),
    ("namespace", "namespace"),
    ("name", "name"),
    ("container", "container"),
    ("status", "status"),
    ("status_reason", "status_reason"),
    ("risk_accepted_until", "risk_accepted_until"),
    ("assignee", "assignee__username"),
    ("due_at", "due_at"),
    ("first_seen_at", "first_seen_at"),
    ("last_seen_at", "last_seen_at"),
    ("resolved_at", "resolved_at"),
    ("message", "message"),
    # Later additions go last, so that a spreadsheet that reads columns by position keeps working.
    ("fingerprint", "fingerprint"),
    ("exception_rule", "exception_rule_id"),
]
# A nested object has no place in a CSV cell: only the JSON export carries the evidence.
JSON_EXTRA = [("evidence", "evidence")]
# Timestamps as the API writes them: DRF's format ("...Z" in UTC), in the API's time zone.
_TIMESTAMP = DateTimeField()
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CsvMediaType(BaseRenderer):
    """The CSV export's media type, for content negotiation: the export streams its body itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # pragma: no cover
        raise NotImplementedError("ExportNegotiation renders every DRF response as JSON")


class ExportNegotiation(DefaultContentNegotiation):
    """Serve an export when the Accept header allows its media type (406 when it does not), and
    answer its errors in JSON, like every error of the API, whatever the client accepted.

    The renderers are the errors' first (DRF falls back to the first one when negotiation fails,
    as for the 406 itself), then the export's own.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        errors, *exported = renderers
        super().select_renderer(request, exported, format_suffix)
        return errors, errors.media_type


CSV_RENDERERS = [JSONRenderer, CsvMediaType]


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _as_api_writes(value)
    text = str(value)
    # A spreadsheet would run a cell that starts like a formula: names come from the cluster.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _as_api_writes(value):
    return _TIMESTAMP.to_representation(value) if isinstance(value, datetime) else value


def _rows(queryset, columns):
    fields = [field for _, field in columns]
    return queryset.order_by("id").values_list(*fields).iterator(chunk_size=CHUNK_SIZE)


def csv_response(queryset) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([name for name, _ in COLUMNS])
        for row in _rows(queryset, COLUMNS):
            yield writer.writerow([_cell(value) for value in row])

    return _response(lines(), "text/csv; charset=utf-8", "csv")


def json_response(queryset) -> StreamingHttpResponse:
    columns = COLUMNS + JSON_EXTRA
    names = [name for name, _ in columns]

    def chunks():
        yield b"["
        first = True
        batch = []
        for row in _rows(queryset, columns):
            finding = dict(zip(names, map(_as_api_writes, row), strict=True))
            batch.append((b"" if first else b",") + orjson.dumps(finding))
            first = False
            if len(batch) >= 500:
                yield b"".join(batch)
                batch = []
        batch.append(b"]")
        yield b"".join(batch)

    return _response(chunks(), "application/json", "json")


def _response(content, content_type: str, extension: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="rampart-findings-{stamp}.{extension}"'
    response["Cache-Control"] = "no-store"
    return response
