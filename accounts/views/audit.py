"""The audit log for administrators: a filtered list and a streamed CSV export."""

import csv
import json

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.views import View
from django.views.generic import ListView

from accounts import audit, clock
from accounts.filtersets import AuditEventFilterSet
from accounts.models import AuditEvent
from accounts.views.common import private
from posture.paging import ForgivingPaginationMixin

# --- Audit log -------------------------------------------------------------------


class AuditAccessMixin(LoginRequiredMixin):
    """Superusers, and anyone given the accounts.view_auditevent permission."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_perm("accounts.view_auditevent"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


@private
class AuditEventListView(AuditAccessMixin, ForgivingPaginationMixin, ListView):
    template_name = "accounts/audit_list.html"
    context_object_name = "events"
    paginate_by = 50

    def get_queryset(self):
        self.filterset = AuditEventFilterSet(self.request.GET or None, queryset=AuditEvent.objects.all())
        return self.filterset.qs.select_related("actor")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filterset=self.filterset,
            query=query.urlencode(),
            known_actions=audit.KNOWN_ACTIONS,
        )
        return context


class _Echo:
    """csv.writer wants a file; this one hands each line straight back."""

    def write(self, value):
        return value


CSV_COLUMNS = [
    "at",
    "actor",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "ip",
    "request_id",
    "details",
]


def _csv_cell(value) -> str:
    # Spreadsheet formula injection: a cell that starts with = + - @ would run
    # as a formula when an auditor opens the file.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@private
class AuditEventExportView(AuditAccessMixin, View):
    """Every matching event as CSV, streamed: the log can be far larger than memory."""

    def get(self, request):
        filterset = AuditEventFilterSet(request.GET or None, queryset=AuditEvent.objects.all())
        queryset = filterset.qs.order_by("at", "id")
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(CSV_COLUMNS)
            for event in queryset.iterator(chunk_size=2000):
                yield writer.writerow(
                    _csv_cell(value)
                    for value in (
                        event.at.isoformat(),
                        event.actor_label or "system",
                        event.action,
                        event.target_type,
                        event.target_id,
                        event.target_label,
                        event.ip,
                        event.request_id,
                        json.dumps(event.details, sort_keys=True),
                    )
                )

        audit.record("audit.exported", actor=request.user, filters=filterset.form.data.dict())
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        filename = f"rampart-audit-{clock.now():%Y%m%d-%H%M}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
