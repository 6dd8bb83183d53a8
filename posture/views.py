"""Dashboard pages for clusters and scans. Thin: read models, call services, render.

Pages that htmx refreshes serve their partial from the same URL
(``template#partial`` when ``request.htmx and not request.htmx.boosted``) and
vary on HX-Request. Trends read the per-scan summary rows, never the findings.
"""

import hashlib
from collections import Counter, defaultdict
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.vary import vary_on_headers
from django.views.generic import CreateView, DetailView, ListView, TemplateView, UpdateView

from accounts import once
from accounts.models import Role
from accounts.permissions import has_role, role_in_team, teams_with_role
from findings.models import Finding, FindingEvent, FindingStatus
from findings.querysets import accepted_risks_by_severity, estimated_count, severity_rank
from findings.summary import FRAMEWORKS
from posture import pausing, score_history, services, team_scope, workload
from posture.agent_silence import silent_for, with_last_push
from posture.context_processors import first_steps
from posture.forms import ClusterForm, ClusterPauseForm, IngestTokenForm, SnapshotUploadForm
from posture.models import Cluster, ConnectionMode, Scan, ScanStatus, ScanTrigger, Snapshot
from posture.scanning.checks import load_catalogue
from posture.scanning.checks.registry import Category, Severity
from posture.scanning.collectors.kubeconfig import MAX_KUBECONFIG_BYTES

SEVERITIES = [severity.value for severity in sorted(Severity, key=lambda s: -s.rank)]
SCORED = score_history.SCORED
# The summary fields that lists of clusters show; per-kind and per-namespace detail stays in the database.
LIST_SCAN_FIELDS = (
    "id", "status", "created_at", "finished_at", "grade", "score", "findings_count",
    "counts_by_severity", "counts_by_category", "accepted_risk_count", "framework_compliance",
)  # fmt: skip
TREND_PERIODS = {"30": 30, "90": 90, "365": 365}


def cluster_rows(user, *scan_fields: str):
    """The user's clusters for a list: team, newest finished scan (light fields, plus ``scan_fields``),
    newest attempt, and when its agent last pushed."""
    clusters = (
        Cluster.objects.for_user(user)
        .select_related("team", "last_scan")
        .only("id", "name", "connection_mode", "team__id", "team__name", "team__slug", "last_scan_id",
              "paused_at", "pause_reason",
              *(f"last_scan__{name}" for name in (*LIST_SCAN_FIELDS, *scan_fields)))
    )  # fmt: skip
    return with_last_push(clusters.with_latest_attempt())


def _period(query, default: int = 30, allowed=("30", "90")) -> int:
    value = query.get("days", "")
    return TREND_PERIODS[value] if value in allowed else default


def _is_partial(request) -> bool:
    # A history restore (the back button, with htmx's history cache off) wants the whole page.
    return bool(request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request)


def _checks() -> dict:
    return dict(load_catalogue().as_mapping())


class PartialMixin:
    """Serve ``template#<partial_name>`` to htmx requests from the page's own URL."""

    partial_name = ""

    def get_template_names(self):
        names = super().get_template_names()
        if self.partial_name and _is_partial(self.request):
            return [f"{names[0]}#{self.partial_name}"]
        return names


# --- Overview -----------------------------------------------------------------------


@method_decorator(vary_on_headers("HX-Request"), name="dispatch")
class OverviewView(LoginRequiredMixin, PartialMixin, TemplateView):
    """The fleet at a glance: every cluster's score and trend, what is open, overdue and failing;
    with ``?team=<slug>``, the same for one team's clusters (posture.team_scope)."""

    template_name = "posture/overview.html"
    partial_name = "trends"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, now = self.request.user, timezone.now()
        days = _period(self.request.GET)
        clusters = list(cluster_rows(user, "counts_by_check"))
        clusters, scope = team_scope.narrow_to_team(clusters, self.request.GET.get("team", ""), days)
        context.update(scope)
        team = scope["team"]
        context.update(self.trends(clusters, days, now, f"Average score of {team.name}" if team else None))
        if _is_partial(self.request):  # the period switch redraws the trends, and the team switch's links
            context["switch_oob"] = bool(scope["team_switch"])
        else:
            context.update(self.fleet(clusters, context["rows"], now))
            context.update(
                workload.overview_context(clusters, context["rows"], now, team.slug if team else "")
            )
            context.update(first_steps(user))
        return context

    def trends(self, clusters: list, days: int, now, label: str | None = None) -> dict:
        """Each cluster's score at the end of each day (posture.score_history): sparklines and the
        fleet's line."""
        ids = [cluster.pk for cluster in clusters]
        first_day = timezone.localdate(now) - timedelta(days=days - 1)
        calendar = [first_day + timedelta(days=n) for n in range(days)]
        newest = max((cluster.last_scan_id or 0 for cluster in clusters), default=0)
        scores = cached_daily_scores(ids, calendar, version=str(newest))
        fleet = score_history.fleet_average(scores, days)
        # A sparkline is 120 px wide: 90 daily points become 30 three-day averages.
        bucket = max(1, days // 30)
        urls = (
            reverse("posture:cluster-detail", args=[0]).removesuffix("0/"),
            reverse("findings:finding-list"),
        )
        accepted = accepted_risks_by_severity(clusters)
        rows = [
            _overview_row(
                cluster, scores.get(cluster.id, [None] * days), bucket, days, urls, accepted[cluster.pk]
            )
            for cluster in clusters
        ]
        return {
            "days": days,
            "rows": rows,
            "fleet_points": list(zip(calendar, fleet, strict=True)),
            "fleet_title": _trend_title(label or "Average fleet score", fleet, days),
        }

    def fleet(self, clusters: list, rows: list, now) -> dict:
        """Open, new, overdue and failing across the fleet: the latest scans' summary rows, and the
        overdue findings (an index on the due date answers)."""
        ids = [cluster.pk for cluster in clusters]
        severity_totals, category_totals, check_totals = Counter(), Counter(), Counter()
        accepted = 0
        compliance = {name: [0, 0, 0] for name in FRAMEWORKS}  # controls, passing, clusters
        for cluster in clusters:
            scan = cluster.last_scan
            if scan and scan.status in SCORED:
                severity_totals.update(scan.counts_by_severity or {})
                category_totals.update(scan.counts_by_category or {})
                check_totals.update(scan.counts_by_check or {})
                accepted += scan.accepted_risk_count
                for name, value in (scan.framework_compliance or {}).items():
                    if name in compliance and value.get("controls"):
                        compliance[name][0] += value["controls"]
                        compliance[name][1] += value["passing"]
                        compliance[name][2] += 1
        today = timezone.localdate(now)
        week_days = [today - timedelta(days=n) for n in range(6, -1, -1)]
        per_day = {
            day: {"new": new or 0, "resolved": resolved or 0, "reopened": reopened or 0}
            for day, new, resolved, reopened in Scan.objects.filter(
                cluster_id__in=ids,
                status__in=SCORED,
                created_at__gte=timezone.make_aware(datetime.combine(week_days[0], time.min)),
            )
            .order_by()
            .annotate(day=TruncDate("created_at"))
            .values_list("day")
            .annotate(Sum("new_count"), Sum("resolved_count"), Sum("reopened_count"))
        }
        week = Counter()
        for counts in per_day.values():
            week.update(counts)
        lowest_compliance = sorted(
            (
                (row["cluster"], [(row["scan"].framework_compliance or {}).get(name) for name in FRAMEWORKS])
                for row in rows
                if row["scan"] and row["scan"].framework_compliance
            ),
            key=lambda item: sum((value or {}).get("percent") or 0 for value in item[1]),
        )
        overdue = Finding.objects.filter(cluster_id__in=ids).overdue(now)
        # A tile needs no exact figure in the thousands: past 1,000 the planner's estimate will do.
        overdue_count, overdue_exact = estimated_count(overdue, exact_below=1_000) if ids else (0, True)
        checks = _checks()
        top_checks = sorted(check_totals.items(), key=lambda item: (-item[1], item[0]))[:10]
        return {
            "scanned": [row for row in rows if row["scan"]],
            "severity_items": [
                (name.title(), severity_totals.get(name, 0), f"sev-{name}") for name in SEVERITIES
            ],
            "open_total": sum(severity_totals.values()) - accepted,  # what the tile's link lists
            "accepted_risk": accepted,
            "category_items": [
                (Category.label_of(name), count, "cat") for name, count in category_totals.most_common()
            ],
            "week": week,
            "week_days": [(day, per_day.get(day, {})) for day in week_days],
            "overdue_count": overdue_count,
            "overdue_exact": overdue_exact,
            "overdue_top": (
                list(overdue.select_related("cluster", "assignee").order_by("due_at")[:8]) if ids else []
            ),
            "top_checks": [(check_id, count, checks.get(check_id)) for check_id, count in top_checks],
            "compliance": [
                (
                    name,
                    FRAMEWORKS[name],
                    round(100 * passing / controls, 1) if controls else None,
                    controls,
                    passing,
                    clusters,
                )
                for name, (controls, passing, clusters) in compliance.items()
            ],
            "cluster_compliance": lowest_compliance[:COMPLIANCE_ROWS],
            "cluster_compliance_more": len(lowest_compliance) > COMPLIANCE_ROWS,
            "frameworks": FRAMEWORKS,
        }


COMPLIANCE_ROWS = 10  # clusters listed under the fleet's compliance: the lowest first


def _overview_row(cluster, series: list, bucket: int, days: int, urls: tuple[str, str], accepted) -> dict:
    """One cluster's row (drawn by the overview_row template tag). Its counts by severity are of the
    findings that still need work, as its open-findings link lists them: accepted risks left out."""
    scan = cluster.last_scan
    return {
        "cluster": cluster,
        "scan": scan,
        "open_by_severity": Counter(scan.counts_by_severity or {}) - accepted if scan else Counter(),
        "url": f"{urls[0]}{cluster.pk}/",
        "findings_url": f"{urls[1]}?cluster={cluster.pk}&status=open&status=acknowledged",
        "spark": _buckets(series, bucket),
        "change": _change(series),
        "title": _trend_title(cluster.name, series, days),
    }


def cached_daily_scores(cluster_ids: list[int], days: list, *, version: str) -> dict[int, list]:
    """score_history.daily_scores, kept for five minutes.

    ``version`` changes whenever the answer may: a finished scan moves a cluster's ``last_scan_id``,
    and a new day moves the window. Keyed by the database too (one cache may serve several).
    """
    window = (days[0].isoformat(), len(days))
    scope = repr((connection.settings_dict["NAME"], sorted(cluster_ids), window, version))
    key = "posture:daily-scores:" + hashlib.sha256(scope.encode()).hexdigest()
    scores = cache.get(key)
    if scores is None:
        scores = score_history.daily_scores(cluster_ids, days)
        cache.set(key, scores, 300)
    return scores


def _buckets(series: list, size: int) -> list:
    """Averages of ``size`` consecutive values (None where a bucket has none)."""
    if size <= 1:
        return series
    out = []
    for index in range(0, len(series), size):
        known = [value for value in series[index : index + size] if value is not None]
        out.append(sum(known) / len(known) if known else None)
    return out


def _trend_title(name: str, series: list, days: int) -> str:
    known = [value for value in series if value is not None]
    if not known:
        return f"{name}: no finished scans in the last {days} days"
    return f"{name} over the last {days} days: from {known[0]:.1f} to {known[-1]:.1f}"


def _change(series: list) -> float | None:
    """Score change over the period: last known value minus first known value."""
    known = [value for value in series if value is not None]
    return round(known[-1] - known[0], 1) if len(known) >= 2 else None


# --- Clusters -------------------------------------------------------------------------


class ClusterListView(LoginRequiredMixin, ListView):
    template_name = "posture/cluster_list.html"
    context_object_name = "clusters"

    def get_queryset(self):
        return cluster_rows(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(first_steps(self.request.user))
        return context


class ClusterFormMixin(LoginRequiredMixin):
    form_class = ClusterForm
    template_name = "posture/cluster_form.html"

    def get_form_kwargs(self):
        checks = sorted(load_catalogue(), key=lambda check: check.id)
        return {**super().get_form_kwargs(), "user": self.request.user, "checks": checks}

    def form_valid(self, form):
        try:
            cluster = services.save_cluster(
                form.save(commit=False), credentials=form.credentials, actor=self.request.user
            )
        except services.ClusterNameTaken as exc:  # taken since the form checked
            form.add_error("name", str(exc))
            return self.form_invalid(form)
        self.on_saved(cluster)
        if form.connection_report is not None:
            services.note_identity_from_connection(cluster, form.connection_report.kube_system_uid)
            messages.add_message(self.request, *connection_message(cluster, form.connection_report))
        return redirect("posture:cluster-detail", pk=cluster.pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = context["form"].connection_report
        return {
            **context,
            "live_modes": [str(mode) for mode in services.LIVE_MODES],
            "verified_modes": [str(mode) for mode in services.VERIFIED_MODES],
            # Saving tried the connection and it failed: the page shows why, as "Test connection" would.
            **({"report": report, "tested": True} if report is not None else {}),
        }


def connection_message(cluster: Cluster, report) -> tuple[int, str]:
    """What trying the connection before saving found, said once the cluster is saved."""
    if not report.ok:
        return messages.WARNING, (
            f"Saved without a working connection: {report.error}. Scans of {cluster.name} fail until Rampart "
            "can connect; “Test connection” in its settings says what it reaches."
        )
    if cluster.other_kube_system_uid and cluster.other_kube_system_uid == report.kube_system_uid:
        return messages.WARNING, (
            f"Saved, but {report.api_url} now leads to another cluster than the one {cluster.name}'s scans "
            "read so far: its scans fail, changing no finding, until a team admin answers below."
        )
    version = f" (Kubernetes {report.server_version})" if report.server_version else ""
    text = (
        f"Connected to {report.api_url}{version}: Rampart can read {len(report.readable)} of "
        f"{len(report.resources) - len(report.not_installed)} resource types this cluster serves."
    )
    if report.unreadable:
        kinds = ", ".join(access.kind for access in report.unreadable)
        return messages.WARNING, f"{text} It cannot read {kinds}: checks that need them will not be assessed."
    return messages.SUCCESS, text


@method_decorator(never_cache, name="dispatch")  # forms that take credentials: never cached
class ClusterCreateView(ClusterFormMixin, CreateView):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not teams_with_role(request.user, Role.ADMIN).exists():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def on_saved(self, cluster):
        if cluster.connection_mode == ConnectionMode.AGENT:
            next_step = "Issue a token for its agent (“Set up the agent”, below), or upload a snapshot."
        elif cluster.connection_mode == ConnectionMode.SNAPSHOT:
            next_step = "Upload a snapshot to scan it."
        else:
            next_step = "Press “Scan now” to read it."
        messages.success(self.request, f"Cluster {cluster.name} registered. {next_step}")


@method_decorator(never_cache, name="dispatch")  # forms that take credentials: never cached
class ClusterEditView(ClusterFormMixin, UpdateView):
    def get_queryset(self):
        return Cluster.objects.for_user(self.request.user)

    def get_object(self, queryset=None):
        cluster = super().get_object(queryset)
        if not has_role(self.request.user, cluster.team_id, Role.ADMIN):
            raise PermissionDenied
        return cluster

    def on_saved(self, cluster):
        messages.success(self.request, f"Settings of {cluster.name} saved.")


class ClusterDeleteView(LoginRequiredMixin, View):
    """Team admins delete a cluster and all its history, after typing its name."""

    def post(self, request, pk):
        cluster = get_object_or_404(Cluster.objects.for_user(request.user).select_related("team"), pk=pk)
        if not has_role(request.user, cluster.team_id, Role.ADMIN):
            raise PermissionDenied
        if request.POST.get("confirm_name", "").strip() != cluster.name:
            messages.error(request, f"Nothing deleted: to confirm, type the name {cluster.name} exactly.")
            return redirect("posture:cluster-edit", pk=cluster.pk)
        services.delete_cluster(cluster, actor=request.user, request=request)
        messages.success(request, f"Cluster {cluster.name} deleted, with its scans and findings.")
        return redirect("posture:cluster-list")


@method_decorator(never_cache, name="dispatch")  # forms that take credentials: never cached
class ClusterTestConnectionView(LoginRequiredMixin, View):
    """The "Test connection" button: reach the cluster with the form's settings (or the stored ones)."""

    def post(self, request, pk=None):
        cluster = None
        if pk is not None:
            cluster = get_object_or_404(Cluster.objects.for_user(request.user), pk=pk)
            if not has_role(request.user, cluster.team_id, Role.ADMIN):
                raise PermissionDenied
        elif not teams_with_role(request.user, Role.ADMIN).exists():
            raise PermissionDenied
        mode = request.POST.get("connection_mode", "")
        report, problem = None, ""
        if mode not in services.LIVE_MODES:
            problem = (
                "Snapshot and agent clusters are not reached over the network, so there is nothing to test."
            )
        else:
            upload = request.FILES.get("kubeconfig_file")
            if mode == ConnectionMode.KUBECONFIG:
                secret = request.POST.get("kubeconfig_text", "")
                if upload:
                    # Bytes, as uploaded: the kubeconfig reader refuses a file that is not text, as the
                    # form does, rather than reading it as broken YAML.
                    secret = upload.read(MAX_KUBECONFIG_BYTES + 1)
                    upload.seek(0)
            else:
                secret = request.POST.get("token", "")
            usable = services.stored_credentials_usable(
                cluster,
                mode,
                api_url=request.POST.get("api_url", ""),
                ca_bundle=request.POST.get("ca_bundle", ""),
            )
            if not secret.strip() and usable:
                secret = cluster.get_credentials()
            report = services.try_cluster_connection(
                mode,
                api_url=request.POST.get("api_url", ""),
                credentials=secret,
                ca_bundle=request.POST.get("ca_bundle", ""),
                kube_context=request.POST.get("kube_context", ""),
            )
        context = {
            "report": report,
            "problem": problem,
            "tested": True,
            "identity_note": another_cluster_note(cluster, report),
        }
        if _is_partial(request):
            return render(request, "posture/cluster_form.html#connection-report", context)
        form = ClusterForm(request.POST, request.FILES, instance=cluster, user=request.user,
                           checks=sorted(load_catalogue(), key=lambda check: check.id))  # fmt: skip
        context.update(form=form, object=cluster, cluster=cluster,
                       live_modes=[str(m) for m in services.LIVE_MODES])  # fmt: skip
        return render(request, "posture/cluster_form.html", context)


def another_cluster_note(cluster: Cluster | None, report) -> str:
    """Said by "Test connection" when the settings reach another cluster than the one scanned so far."""
    known = cluster.kube_system_uid if cluster is not None else ""
    if not report or not report.kube_system_uid or not known or report.kube_system_uid == known:
        return ""
    return (
        f"These settings reach another cluster than the one {cluster.name}'s scans read so far (its "
        f"kube-system namespace has the uid {report.kube_system_uid}, not {known}). Saved, its scans fail, "
        "changing no finding, until a team admin accepts the new cluster on the cluster's page."
    )


@method_decorator(vary_on_headers("HX-Request"), name="dispatch")
class ClusterDetailView(LoginRequiredMixin, PartialMixin, DetailView):
    template_name = "posture/cluster_detail.html"
    context_object_name = "cluster"
    partial_name = "scans-update"  # what the scans card polls while a scan runs

    def get_queryset(self):
        return Cluster.objects.for_user(self.request.user).select_related("team", "last_scan", "paused_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cluster, user = self.object, self.request.user
        role = role_in_team(user, cluster.team_id)
        context.update(scans_context(cluster, user, role, page=_scans_page(self.request)))
        if _is_partial(self.request) and context["active_scan"]:
            return context  # still running: the polling partial needs the scans only
        context.update(cluster_summary_context(self.request, cluster, role))
        if not _is_partial(self.request) and context["can_admin"]:  # the banner is the page's, not the card's
            context["expiring_token"] = cluster.ingest_tokens.about_to_expire()
        if not _is_partial(self.request):
            context["same_cluster_as"] = _registered_again(cluster, user)
        return context


def _registered_again(cluster: Cluster, user) -> list[Cluster]:
    """Other registrations this user can see of the same Kubernetes cluster (cluster_identity):
    each scans it, and the overview counts its findings once per registration."""
    if not cluster.kube_system_uid:
        return []
    others = Cluster.objects.for_user(user).filter(kube_system_uid=cluster.kube_system_uid)
    return list(others.exclude(pk=cluster.pk).select_related("team").order_by("name")[:5])


def cluster_summary_context(request, cluster: Cluster, role: Role | None) -> dict:
    """What the cluster page shows besides its scans: all of it moves when a scan finishes.

    For htmx (a finished scan seen by the polling scans card, or "Scan now" that ran at once),
    ``summary_oob`` sends it along to be swapped in place, for the period the page shows.
    """
    partial = _is_partial(request)
    # An htmx request's own URL has no period: the page's (HX-Current-URL) has it.
    query = QueryDict(urlsplit(request.htmx.current_url_abs_path or "").query) if partial else request.GET
    days = _period(query, allowed=("30", "90", "365"))
    since = timezone.now() - timedelta(days=days)
    admin = _at_least(role, Role.ADMIN)
    agent_tokens = cluster.ingest_tokens.active().count() if admin else 0
    trend = list(
        cluster.scans.filter(status__in=SCORED, created_at__gte=since)
        .order_by("created_at")
        .values_list("created_at", "score", "grade")
    )
    return {
        "summary_oob": partial,
        "days": days,
        "trend": [(when, score) for when, score, _ in trend],
        "trend_title": _trend_title(f"Score of {cluster.name}", [score for _, score, _ in trend], days),
        "namespaces": namespace_rows(cluster.last_scan),
        "can_admin": admin,
        # Admins reach the Agent page of a cluster that takes pushes, or still has tokens to revoke.
        "agent_tokens": agent_tokens,
        "show_agent": admin and (cluster.connection_mode in services.PUSH_MODES or agent_tokens > 0),
        # Only snapshot and agent clusters scan uploads: a live cluster's scans read its API server.
        "upload_form": SnapshotUploadForm() if cluster.connection_mode in services.PUSH_MODES else None,
        "pause_form": ClusterPauseForm() if admin and not cluster.paused_at else None,
        "disabled_checks": (cluster.check_settings or {}).get("disabled", []),
    }


def _scans_page(request) -> int:
    raw = request.GET.get("scans_page", "1")
    return min(int(raw), 10_000) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 6 and int(raw) else 1


def _at_least(role: Role | None, needed: Role) -> bool:
    return role is not None and role.rank >= needed.rank


SCANS_PER_PAGE = 20


def scans_context(cluster: Cluster, user, role: Role | None = None, page: int = 1) -> dict:
    """The scans partial: a page of scans (the newest first) and whether this user may start one."""
    if role is None:
        role = role_in_team(user, cluster.team_id)
    start = (page - 1) * SCANS_PER_PAGE
    scans = list(
        cluster.scans.select_related("snapshot").defer(
            "counts_by_namespace", "counts_by_check", "collection_errors", "snapshot__content"
        )[start : start + SCANS_PER_PAGE + 1]  # one more: is there an older page?
    )
    older = len(scans) > SCANS_PER_PAGE
    scans = scans[:SCANS_PER_PAGE]
    return {
        "scans": scans,
        # Only the first page follows a running scan; an older page stays still while it is read.
        "active_scan": next((scan for scan in scans if scan.is_active), None) if page == 1 else None,
        "can_scan": _at_least(role, Role.ENGINEER),
        "scans_page": page,
        "older_scans_page": page + 1 if older else None,
        "newer_scans_page": page - 1 if page > 1 else None,
    }


def namespace_rows(scan: Scan | None) -> list[dict]:
    """Per namespace: the findings of the latest scan that still need a decision or hold an accepted
    risk, by severity, counted as the scan's summary counts them (its own findings; a finding kept
    from an earlier scan because this one could not assess its check is not in the summary either).

    Counted now rather than read from the summary row, so that triage shows at once; the total is
    the sum of its severities. Scans do not record per-namespace evaluations, so a namespace has no
    score of its own; "weight" sums the severity weights of its findings instead.
    """
    if scan is None:
        return []
    by_severity: dict[str, Counter] = defaultdict(Counter)
    for namespace, severity, count in (
        Finding.objects.filter(last_seen_scan=scan)
        .exclude(status__in=(FindingStatus.RESOLVED, FindingStatus.FALSE_POSITIVE))
        .values_list("namespace", "severity")
        .annotate(count=Count("id"))
        .order_by()
    ):
        by_severity[namespace][severity] += count
    rows = []
    for name, counts in by_severity.items():
        weight = sum(_weight(sev) * n for sev, n in counts.items())
        rows.append({"name": name, "count": sum(counts.values()),
                     "severities": [counts.get(sev, 0) for sev in SEVERITIES], "weight": weight})  # fmt: skip
    rows.sort(key=lambda row: (-row["weight"], -row["count"], row["name"]))
    return rows


def _weight(severity: str) -> int:
    try:
        return Severity(severity).weight
    except ValueError:
        return 0


class ClusterActionView(LoginRequiredMixin, View):
    """Base for pages and actions on a cluster that need a role in its team (an engineer by default)."""

    needed_role = Role.ENGINEER

    def get_cluster(self, pk: int) -> Cluster:
        cluster = get_object_or_404(Cluster.objects.for_user(self.request.user), pk=pk)
        if not has_role(self.request.user, cluster.team_id, self.needed_role):
            raise PermissionDenied
        return cluster


def scan_started_message(scan: Scan) -> tuple[int, str]:
    """What to tell the user who started a scan: queued, or (tasks run in-process) how it ended."""
    scan.refresh_from_db(fields=["status", "score", "findings_count", "error"])
    name = scan.cluster.name
    if scan.status == ScanStatus.FAILED:
        return messages.ERROR, f"Scan of {name} failed: {scan.error}"
    if scan.status in SCORED and scan.score is not None:
        partial = " (some resource types could not be read)" if scan.status == ScanStatus.PARTIAL else ""
        return messages.SUCCESS, (
            f"Scan of {name} finished{partial}: score {scan.score:.1f}, {scan.findings_count:,} "
            f"finding{pluralize(scan.findings_count)}."
        )
    return messages.SUCCESS, f"Scan of {name} queued."


class ScanNowView(ClusterActionView):
    def post(self, request, pk):
        cluster = self.get_cluster(pk)
        problem = ""
        try:
            scan = services.start_requested_scan(cluster, trigger=ScanTrigger.MANUAL)
            if not _is_partial(request):
                messages.add_message(request, *scan_started_message(scan))
        except (services.ScanAlreadyActive, services.NothingToScan, pausing.ClusterPaused) as exc:
            problem = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
            if not _is_partial(request):
                messages.warning(request, problem)
        if _is_partial(request):
            context = {"cluster": cluster, "scan_problem": problem, **scans_context(cluster, request.user)}
            if not problem and not context["active_scan"]:  # run at once (tasks in-process): show its outcome
                cluster.refresh_from_db()
                role = role_in_team(request.user, cluster.team_id)
                context.update(cluster_summary_context(request, cluster, role))
            return render(request, "posture/cluster_detail.html#scans-update", context)
        return redirect("posture:cluster-detail", pk=cluster.pk)


class SnapshotUploadView(ClusterActionView):
    def post(self, request, pk):
        cluster = self.get_cluster(pk)
        try:  # an upload is a request to scan it ("Upload and scan"), refused as "Scan now" is
            pausing.ensure_scannable(cluster)
        except pausing.ClusterPaused as exc:
            messages.error(request, f"Nothing uploaded: {exc}.")
            return redirect("posture:cluster-detail", pk=cluster.pk)
        form = SnapshotUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            for error in form.errors.get("file", []):
                messages.error(request, error)
            return redirect("posture:cluster-detail", pk=cluster.pk)
        try:
            snapshot = services.store_snapshot(cluster, form.cleaned_data["file"].read(), user=request.user)
        except services.SnapshotRejected as exc:
            messages.error(request, f"Snapshot rejected: {exc}.")
            return redirect("posture:cluster-detail", pk=cluster.pk)
        try:
            scan = services.start_scan(cluster, trigger=ScanTrigger.UPLOAD, snapshot=snapshot)
        except services.ScanAlreadyActive as exc:
            note = unread_documents_note(snapshot)
            messages.warning(request, f"Snapshot saved, but {exc}; scan again when it has finished.{note}")
            return redirect("posture:cluster-detail", pk=cluster.pk)
        level, text = scan_started_message(scan)
        note = unread_documents_note(snapshot, scan)
        if note:  # part of the file was left out: not a plain success
            level = max(level, messages.WARNING)
        messages.add_message(request, level, f"Snapshot uploaded. {text}{note}")
        return redirect("posture:cluster-detail", pk=cluster.pk)


class OtherClusterView(ClusterActionView):
    """A team admin's answer to another cluster read in this one's place: accept it (the cluster was
    rebuilt) or dismiss the refusal (a snapshot sent here by mistake)."""

    needed_role = Role.ADMIN

    def post(self, request, pk):
        cluster = self.get_cluster(pk)
        decision = request.POST.get("decision")
        if decision not in ("accept", "dismiss"):
            messages.error(request, "Choose to accept the other cluster or to dismiss the refusal.")
            return redirect("posture:cluster-detail", pk=cluster.pk)
        accept = decision == "accept"
        if not services.settle_other_cluster(cluster, accept=accept, actor=request.user, request=request):
            messages.info(request, "No other cluster was read in this one's place: nothing was changed.")
        elif accept:
            messages.success(
                request,
                f"{cluster.name} is now the cluster whose kube-system uid is {cluster.kube_system_uid}: "
                "its next snapshot is taken and scanned.",
            )
        else:
            kept = f"{cluster.name} keeps its identity, and the other cluster is refused again"
            messages.success(request, f"Dismissed: {kept}.")
        return redirect("posture:cluster-detail", pk=cluster.pk)


def unread_documents_note(snapshot, scan: Scan | None = None) -> str:
    """The parts of an upload that could not be read, and where they are listed; "" if none.

    The scan reads only what the upload's reading kept: a success message alone would hide that
    some of the file was left out."""
    count = len(snapshot.errors)
    if not count:
        return ""
    where = f"scan #{scan.pk}'s page" if scan is not None else "the page of the scan that reads it"
    return (
        f" {count:,} document{pluralize(count)} of the file could not be read and "
        f"{pluralize(count, 'was,were')} left out: {where} lists {pluralize(count, 'it,them')} "
        "under “What was read”."
    )


# --- The cluster's agent ----------------------------------------------------------------

AGENT_FORM_ONCE = "ingest_token_form_once"
RECENT_PUSHES = 10


@method_decorator(never_cache, name="dispatch")  # shows a token once: never cached
class ClusterAgentView(ClusterActionView):
    """Team admins connect an in-cluster agent: ingest tokens (shown once), the commands, recent pushes."""

    needed_role = Role.ADMIN

    def get(self, request, pk):
        return self._page(request, self.get_cluster(pk), IngestTokenForm())

    def post(self, request, pk):
        cluster = self.get_cluster(pk)
        form = IngestTokenForm(request.POST)
        if not form.is_valid():
            return self._page(request, cluster, form, status=400)
        if not once.use(request, AGENT_FORM_ONCE, request.POST.get("once", "")):
            messages.info(request, "That form was already sent: the token is in the list; it was shown once.")
            return redirect("posture:cluster-agent", pk=cluster.pk)
        try:
            token, plaintext = services.issue_ingest_token(
                cluster,
                form.cleaned_data["name"],
                actor=request.user,
                expires_at=form.expires_at,
                request=request,
            )
        except services.PushesNotAccepted as exc:
            messages.error(request, f"{exc}.")
            return redirect("posture:cluster-agent", pk=cluster.pk)
        # The plaintext is in this response only; a reload shows the list without it.
        return self._page(request, cluster, IngestTokenForm(), new_token=token, plaintext=plaintext,
                          status=201)  # fmt: skip

    def _page(self, request, cluster, form, new_token=None, plaintext=None, status=200):
        last_push = cluster.snapshots.filter(source=Snapshot.Source.AGENT).only("uploaded_at").first()
        last_push_at = last_push.uploaded_at if last_push else None
        context = {
            "last_push_at": last_push_at,
            "silent": silent_for(cluster, last_push_at),
            "cluster": cluster,
            "form": form,
            "accepts_pushes": cluster.connection_mode in services.PUSH_MODES,
            "tokens": cluster.ingest_tokens.select_related("created_by"),
            "expiring_token": cluster.ingest_tokens.about_to_expire(),
            "pushes": cluster.agent_pushes.select_related("token", "scan")[:RECENT_PUSHES],
            # The address the agent must push to: the public one where it is configured, not
            # necessarily the one this admin's browser came through.
            "rampart_url": settings.RAMPART_BASE_URL or request.build_absolute_uri("/").rstrip("/"),
            "new_token": new_token,
            "plaintext": plaintext,
            "once": once.issue(request, AGENT_FORM_ONCE),
        }
        return render(request, "posture/cluster_agent.html", context, status=status)


class IngestTokenRevokeView(ClusterActionView):
    needed_role = Role.ADMIN

    def post(self, request, pk, token_pk):
        cluster = self.get_cluster(pk)
        token = get_object_or_404(cluster.ingest_tokens, pk=token_pk)
        if services.revoke_ingest_token(token, actor=request.user, request=request):
            messages.success(request, f"Token “{token.name}” revoked: its pushes are refused from now on.")
        return redirect("posture:cluster-agent", pk=cluster.pk)


# --- Scans ----------------------------------------------------------------------------

CHANGE_LIMIT = 100  # rows per list of changes; the counts come from the summary row


@method_decorator(vary_on_headers("HX-Request"), name="dispatch")
class ScanDetailView(LoginRequiredMixin, PartialMixin, DetailView):
    template_name = "posture/scan_detail.html"
    context_object_name = "scan"
    partial_name = "status"

    def get_queryset(self):
        return (
            Scan.objects.for_user(self.request.user)
            .select_related("cluster", "snapshot")
            .defer("snapshot__content")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scan = self.object
        if _is_partial(self.request) and scan.is_active:
            return context
        previous = (
            Scan.objects.filter(cluster_id=scan.cluster_id, created_at__lt=scan.created_at, status__in=SCORED)
            .only("id", "score", "grade", "created_at", "findings_count", "cluster_id")
            .first()
        )
        # Worst first, as the new findings: what a reader looks for in each list.
        events = (
            FindingEvent.objects.filter(scan=scan, action=FindingEvent.Action.STATUS)
            .select_related("finding")
            .annotate(rank=severity_rank("finding__severity"))
            .order_by("-rank", "finding__check_id", "id")
        )
        resolved = list(events.filter(to_value=FindingStatus.RESOLVED)[:CHANGE_LIMIT])
        reopened = list(
            events.filter(to_value=FindingStatus.OPEN, from_value=FindingStatus.RESOLVED)[:CHANGE_LIMIT]
        )
        new = list(
            Finding.objects.filter(first_seen_scan=scan)
            .annotate(rank=severity_rank())
            .order_by("-rank", "check_id", "id")[:CHANGE_LIMIT]
        )
        context.update(
            previous=previous,
            score_change=(
                round(scan.score - previous.score, 1)
                if previous and previous.score is not None and scan.score is not None
                else None
            ),
            new_findings=new,
            resolved_events=resolved,
            reopened_events=reopened,
            unchanged_count=max(scan.findings_count - scan.new_count - scan.reopened_count, 0),
            change_limit=CHANGE_LIMIT,
            severity_items=[
                (name.title(), (scan.counts_by_severity or {}).get(name, 0), f"sev-{name}")
                for name in SEVERITIES
            ],
            frameworks=FRAMEWORKS,
        )
        return context
