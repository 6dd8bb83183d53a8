"""Finding, check and exception pages. Thin: triage.py and services.py make every change."""

from collections import Counter, defaultdict
from functools import cached_property

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.vary import vary_on_headers
from django.views.generic import CreateView, DetailView, ListView, TemplateView

from accounts.models import Membership, Role
from accounts.permissions import has_role, teams_with_role
from findings import list_memory, services, triage
from findings.filtersets import FindingFilterSet
from findings.forms import (
    STATUS_ACTIONS,
    AssignForm,
    BulkActionForm,
    CommentForm,
    ExceptionRuleForm,
    StatusChangeForm,
)
from findings.models import ExceptionRule, Finding, FindingStatus
from findings.querysets import cached_counts_by_check, estimated_count, severity_rank, triage_changed
from findings.summary import FRAMEWORKS, frameworks_of
from posture.context_processors import first_steps
from posture.models import Cluster
from posture.paging import ForgivingPaginationMixin
from posture.scanning.checks import load_catalogue
from posture.scanning.checks.registry import Category, Severity

S = FindingStatus
SEVERITIES = [severity.value for severity in sorted(Severity, key=lambda s: -s.rank)]
SORTS = {
    "severity": ("Severity, worst first", ("-rank", "-last_seen_at", "-id")),
    "last_seen": ("Last seen, newest first", ("-last_seen_at", "-id")),
    "first_seen": ("First seen, newest first", ("-first_seen_at", "-id")),
    "oldest": ("First seen, oldest first", ("first_seen_at", "id")),
    "due": ("Due date, soonest first", (F("due_at").asc(nulls_last=True), "id")),
}
DEFAULT_SORT = "severity"
# How the outcome of a refused change reads: "false positives cannot be acknowledged".
PLURALS = {
    S.OPEN: "open findings",
    S.ACKNOWLEDGED: "acknowledged findings",
    S.RISK_ACCEPTED: "accepted risks",
    S.FALSE_POSITIVE: "false positives",
    S.RESOLVED: "resolved findings",
}


def _is_partial(request) -> bool:
    # A history restore (the back button, with htmx's history cache off) wants the whole page.
    return bool(request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request)


def _catalogue() -> dict:
    return dict(load_catalogue().as_mapping())


class EstimatedPaginator(Paginator):
    """Counts exactly when the result is small, else takes the planner's estimate (see estimated_count)."""

    time_limit_ms: int | None = None
    count_queryset = None  # the rows to count, without the sort's annotations
    exact_below = 1_000  # beyond it "about N": reading ten thousand index entries cost more than the rows

    @cached_property
    def count(self):
        rows = self.count_queryset if self.count_queryset is not None else self.object_list
        limits = {"exact_below": self.exact_below, "time_limit_ms": self.time_limit_ms}
        count, self.exact = estimated_count(rows, **limits)
        return count


class TriageContext:
    """Who may triage which finding, and to whom it can be assigned: loaded once per page."""

    def __init__(self, user, team_ids):
        self.user = user
        team_ids = set(team_ids)
        # One query: the engineers and admins of the visible teams, the user among them (or not).
        memberships = (
            Membership.objects.filter(
                team_id__in=team_ids, role__in=[Role.ENGINEER, Role.ADMIN], user__is_active=True
            )
            .select_related("user")
            .order_by("user__username")
            if team_ids
            else []
        )
        by_team = defaultdict(list)
        mine, administered = set(), set()
        for membership in memberships:
            by_team[membership.team_id].append(membership.user)
            if membership.user_id == user.pk:
                mine.add(membership.team_id)
                if membership.role == Role.ADMIN:
                    administered.add(membership.team_id)
        self.teams = team_ids if user.is_superuser else mine
        self.administered = team_ids if user.is_superuser else administered  # may make exceptions
        self.assignees_by_team = {team: people for team, people in by_team.items() if team in self.teams}
        self.assignees = sorted(
            {person.pk: person for team in self.teams for person in by_team.get(team, [])}.values(),
            key=lambda person: person.get_username(),
        )
        # Whose findings one may list: everyone who can hold findings in the visible teams, also for
        # a viewer, who assigns nobody but follows the overview's "by assignee" links here.
        self.holders = sorted(
            {person.pk: person for people in by_team.values() for person in people}.values(),
            key=lambda person: person.get_username(),
        )

    def as_context(self) -> dict:
        return {
            "triage_teams": self.teams,
            "assignees_by_team": self.assignees_by_team,
            "assignees": self.assignees,
        }


def row_context(request, finding, **extra) -> dict:
    triage_context = TriageContext(request.user, [finding.cluster.team_id])
    return {
        "f": finding,
        "checks": _catalogue(),
        "now": timezone.now(),
        "status_actions": STATUS_ACTIONS,
        **triage_context.as_context(),
        **extra,
    }


# --- The list -------------------------------------------------------------------------


@method_decorator(vary_on_headers("HX-Request"), name="dispatch")
class FindingListView(LoginRequiredMixin, ForgivingPaginationMixin, ListView):
    template_name = "findings/finding_list.html"
    context_object_name = "findings"
    paginate_by = 50
    paginator_class = EstimatedPaginator

    def filter_data(self) -> QueryDict:
        return self.request.GET

    def requested_page(self):
        # A bulk action posts the list's query, page included: the same page comes back.
        return self.filter_data().get(self.page_kwarg)

    @cached_property
    def clusters(self) -> list:
        # With the latest scan's namespaces (one join): the namespace field suggests them.
        return list(
            Cluster.objects.for_user(self.request.user)
            .select_related("last_scan")
            .only("id", "name", "team_id", "last_scan__counts_by_namespace")
        )

    def assignee_filter_choices(self, holders) -> list[tuple[int, str]]:
        """The people the assignee filter offers, and the one it holds if not among them (someone who
        left the team still holds findings): a form that dropped it would list everyone's. Named
        only if they hold a finding the user sees: a typed id must not reveal whose it is."""
        choices = [(person.pk, person.get_username()) for person in holders]
        value = (self.filter_data().get("assignee") or "").strip()
        if value.isascii() and value.isdigit() and len(value) <= 18 and int(value) not in dict(choices):
            visible = [cluster.pk for cluster in self.clusters]
            held = Finding.objects.filter(cluster_id__in=visible, assignee_id=int(value)).order_by()
            username = held.values_list("assignee__username", flat=True)[:1]
            choices.append((int(value), username[0] if username else f"User #{value}"))
        return choices

    def namespace_choices(self) -> list[str]:
        names = set()
        for cluster in self.clusters:
            if cluster.last_scan is not None:
                names.update(name for name in (cluster.last_scan.counts_by_namespace or {}) if name)
        return sorted(names)

    def get_queryset(self):
        data = self.filter_data()
        # The visible clusters as a literal id list, not a subquery: the planner then judges the
        # query by the findings' own statistics and walks the sort order's index (ms, not seconds).
        ids = [cluster.pk for cluster in self.clusters]
        base = Finding.objects.filter(cluster_id__in=ids).select_related("cluster", "assignee")
        self.filterset = FindingFilterSet(data or None, queryset=base, request=self.request)
        self.sort = data.get("sort") if data.get("sort") in SORTS else DEFAULT_SORT
        self.count_queryset = None
        if self.filterset.is_bound and not self.filterset.is_valid():
            return base.none()
        queryset = self.count_queryset = self.filterset.qs
        if self.sort == "severity":
            queryset = queryset.annotate(rank=severity_rank())
        return queryset.order_by(*SORTS[self.sort][1])

    def get_template_names(self):
        if _is_partial(self.request):
            return [f"{self.template_name}#results"]
        return [self.template_name]

    def get_paginator(self, *args, **kwargs):
        paginator = super().get_paginator(*args, **kwargs)
        paginator.count_queryset = self.count_queryset
        if (self.filter_data().get("q") or "").strip():
            paginator.time_limit_ms = 25  # no index serves free text: estimate rather than read it all
        return paginator

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        clusters = self.clusters
        triage_context = TriageContext(self.request.user, {cluster.team_id for cluster in clusters})
        query = self.filter_data().copy()
        query.pop("page", None)
        data = self.filter_data()
        list_memory.remember(self.request, data.urlencode())
        context.update(
            filterset=self.filterset,
            clusters=clusters,
            cluster_choices=[(cluster.pk, cluster.name) for cluster in clusters],
            check_choices=[(check_id, check_id) for check_id in _catalogue()],
            assignee_choices=[(person.pk, person.get_username()) for person in triage_context.assignees],
            assignee_filter_choices=self.assignee_filter_choices(triage_context.holders),
            checks=_catalogue(),
            categories=[category.value for category in Category],
            frameworks=FRAMEWORKS,
            severities=SEVERITIES,
            statuses=S.choices,
            selected_severities=data.getlist("severity"),
            selected_statuses=data.getlist("status"),
            # "open or acknowledged": what an empty list of only a status filter says it lacks
            status_words=" or ".join(
                str(label).lower() for value, label in S.choices if value in data.getlist("status")
            ),
            sorts=[(key, label) for key, (label, _order) in SORTS.items()],
            sort=self.sort,
            sort_label=SORTS[self.sort][0],
            query=query.urlencode(),
            query_with_page=data.urlencode(),
            pinned=pinned_filters(data),
            # Filters beyond search and status in use: a phone shows them all at once.
            narrowed=any(
                value for key, values in data.lists() if key not in NOT_NARROWING for value in values
            ),
            now=timezone.now(),
            status_actions=STATUS_ACTIONS,
            bulk_actions=BulkActionForm.base_fields["action"].choices,
            namespace_choices=self.namespace_choices() if not _is_partial(self.request) else [],
            **(first_steps(self.request.user) if not clusters else {}),
            count_exact=getattr(context.get("paginator"), "exact", True),
            **triage_context.as_context(),
        )
        return context


NOT_NARROWING = ("q", "page", "sort", "status")
# Filters the page has no control for, reached by links from other pages ("All 812 new findings",
# an exception's held findings, a finding's object, a team's row on the overview): shown above the
# list, kept when the form changes.
PINNED_FILTERS = {
    "team": "Team {}",
    "exception": "Held by exception #{}",
    "first_seen_scan": "First seen in scan #{}",
    "object": "On {}",
}


def pinned_filters(data: QueryDict) -> list[tuple[str, str, str, str]]:
    """(name, value, label, the query without it) for each pinned filter in use."""
    pinned = []
    for name, label in PINNED_FILTERS.items():
        value = data.get(name, "").strip()
        if value:
            without = data.copy()
            without.pop(name)
            without.pop("page", None)
            pinned.append((name, value, label.format(value), without.urlencode()))
    return pinned


class FindingBulkView(FindingListView):
    """Bulk select → assign, acknowledge, accept risk, false positive, reopen; then the list again."""

    http_method_names = ["post"]

    def filter_data(self) -> QueryDict:
        return QueryDict(self.request.POST.get("query", ""))

    def post(self, request):
        engineer_teams = list(teams_with_role(request.user, Role.ENGINEER))
        if not engineer_teams:
            raise PermissionDenied
        form = BulkActionForm(request.POST, team_ids=engineer_teams)
        ids = [
            value
            for value in request.POST.getlist("ids")
            if value.isascii() and value.isdigit() and len(value) <= 18
        ]
        level, outcome = self._apply(form, ids, engineer_teams)
        triage_changed()
        if _is_partial(request):
            self.object_list = self.get_queryset()
            context = self.get_context_data(outcome=outcome, outcome_level=level)
            if level == messages.ERROR or not ids:  # nothing changed: keep the selection and what was typed
                context.update(bulk_sent=request.POST, selected_ids={int(pk) for pk in ids})
            return render(request, f"{self.template_name}#results", context)
        messages.add_message(request, level, outcome)
        url = reverse("findings:finding-list")
        query = self.filter_data().urlencode()
        return redirect(f"{url}?{query}" if query else url)

    def _apply(self, form, ids, engineer_teams) -> tuple[int, str]:
        if not ids:
            return messages.WARNING, "Select at least one finding first."
        if not form.is_valid():
            problems = "; ".join(error for errors in form.errors.values() for error in errors)
            return messages.ERROR, f"Nothing changed: {problems}"
        visible = Finding.objects.for_user(self.request.user).filter(pk__in=ids)
        allowed = visible.filter(cluster__team_id__in=engineer_teams)
        forbidden = visible.count() - allowed.count()
        action = form.cleaned_data["action"]
        if action == BulkActionForm.ASSIGN:
            level, text = self._assign(allowed, form.cleaned_data["assignee"])
        else:
            level, text = self._change_status(allowed, action, form.cleaned_data)
        if forbidden:
            text += f"; {forbidden} belong to teams where you cannot triage"
            level = messages.WARNING
        return level, text + "."

    def _assign(self, findings, assignee) -> tuple[int, str]:
        outside = 0
        if assignee is not None:
            member_teams = Membership.objects.filter(user=assignee).values("team_id")
            outside = findings.exclude(cluster__team_id__in=member_teams).count()
            findings = findings.filter(cluster__team_id__in=member_teams)
        changed = triage.assign(findings, assignee, actor=self.request.user)
        who = assignee.get_username() if assignee else "nobody"
        text = f"{changed} assigned to {who}" if assignee else f"{changed} unassigned"
        if outside:
            return messages.WARNING, f"{text}, {outside} could not be: {who} is not in their team"
        return messages.SUCCESS, text

    def _change_status(self, findings, to_status, data) -> tuple[int, str]:
        verb = STATUS_ACTIONS[to_status]
        allowed_from = {source for source, target in triage.USER_TRANSITIONS if target == to_status}
        refused = dict(
            findings.exclude(status__in=allowed_from).order_by().values_list("status").annotate(n=Count("id"))
        )
        try:
            outcome = triage.bulk_change_status(
                findings,
                to_status,
                actor=self.request.user,
                reason=data.get("reason", ""),
                until=data.get("until"),
            )
        except triage.TransitionRefused as exc:
            return messages.ERROR, f"Nothing changed: {exc}"
        text = f"{outcome.changed} {verb}"
        if not outcome.refused:
            return messages.SUCCESS, text
        reasons = []
        for status, count in sorted(refused.items(), key=lambda item: -item[1]):
            if status == to_status:
                reasons.append(f"{count} already {verb}" if len(refused) > 1 else f"already {verb}")
            else:
                prefix = f"{count} " if len(refused) > 1 else ""
                reasons.append(f"{prefix}{PLURALS.get(status, status)} cannot be {verb}")
        return messages.WARNING, f"{text}, {outcome.refused} could not be: {'; '.join(reasons)}"


# --- One finding ------------------------------------------------------------------------


class FindingDetailView(LoginRequiredMixin, DetailView):
    template_name = "findings/finding_detail.html"
    context_object_name = "finding"

    def get_queryset(self):
        return Finding.objects.for_user(self.request.user).select_related(
            "cluster", "cluster__team", "assignee", "first_seen_scan", "last_seen_scan", "exception_rule"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        finding = self.object
        check = _catalogue().get(finding.check_id)
        triage_context = TriageContext(self.request.user, [finding.cluster.team_id])
        context.update(
            check=check,
            framework_names=[FRAMEWORKS[name] for name in frameworks_of(check)] if check else [],
            events=list(finding.events.select_related("actor", "scan")),
            comments=list(finding.comments.select_related("author")),
            can_triage=finding.cluster.team_id in triage_context.teams,
            can_make_exception=finding.cluster.team_id in triage_context.administered,
            transitions=[
                (target, label)
                for target, label in STATUS_ACTIONS.items()
                if (finding.status, target) in triage.USER_TRANSITIONS
            ],
            comment_form=CommentForm(initial={"body": (kwargs.get("sent") or {}).get("body", "")}),
            now=timezone.now(),
            evidence_value=_evidence_value(finding.evidence),
            list_query=list_memory.recall(self.request),
            **triage_context.as_context(),
        )
        return context


def _evidence_value(evidence) -> str:
    import json

    if not isinstance(evidence, dict) or "value" not in evidence:
        return ""
    value = evidence["value"]
    return value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True, default=str)


class FindingActionView(LoginRequiredMixin, View):
    """Base of POST actions on one finding: the engineer role in its cluster's team."""

    def get(self, request, pk):  # the address of a refused form, reloaded or bookmarked: the finding
        return redirect("findings:finding-detail", pk=pk)

    def get_finding(self, pk) -> Finding:
        finding = get_object_or_404(
            Finding.objects.for_user(self.request.user).select_related("cluster", "assignee"), pk=pk
        )
        if not has_role(self.request.user, finding.cluster.team_id, Role.ENGINEER):
            raise PermissionDenied
        return finding

    def respond(self, finding, *, done: str = "", error: str = ""):
        if _is_partial(self.request) and self.request.POST.get("partial") == "row":
            finding = Finding.objects.select_related("cluster", "assignee").get(pk=finding.pk)
            sent = self.request.POST if error else None  # a refused change keeps what was typed
            context = row_context(self.request, finding, row_error=error, row_done=done, row_sent=sent)
            return render(self.request, "findings/finding_list.html#row", context)
        if error:
            messages.error(self.request, error[:1].upper() + error[1:] + ".")
            return self.page_again(finding)
        if done:
            messages.success(self.request, done)
        return redirect("findings:finding-detail", pk=finding.pk)

    def page_again(self, finding):
        """The finding's page with what was sent still in its form, so nothing typed is lost."""
        page = FindingDetailView(request=self.request, kwargs={"pk": finding.pk})
        page.object = page.get_object()
        context = page.get_context_data(object=page.object, sent=self.request.POST)
        return render(self.request, page.template_name, context, status=400)


def _form_error(form: StatusChangeForm) -> str:
    if "to_status" in form.errors:
        return "that change is not one Rampart knows"
    field, errors = next(iter(form.errors.items()))
    label = form.fields[field].label if field in form.fields else None
    return f"{label or field.replace('_', ' ').capitalize()}: {errors[0].rstrip('.')}"


class FindingStatusView(FindingActionView):
    def post(self, request, pk):
        finding = self.get_finding(pk)
        form = StatusChangeForm(request.POST)
        if not form.is_valid():
            return self.respond(finding, error=_form_error(form))
        target = form.cleaned_data["to_status"]
        try:
            triage.change_status(
                finding,
                target,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                until=form.cleaned_data["until"],
            )
        except triage.TransitionRefused as exc:
            return self.respond(finding, error=str(exc))
        triage_changed()
        return self.respond(finding, done=f"Finding {STATUS_ACTIONS[target]}.")


class FindingAssignView(FindingActionView):
    def post(self, request, pk):
        finding = self.get_finding(pk)
        form = AssignForm(request.POST, team_ids=[finding.cluster.team_id])
        if not form.is_valid():
            return self.respond(finding, error="that person cannot be assigned findings of this team")
        assignee = form.cleaned_data["assignee"]
        triage.assign(Finding.objects.filter(pk=finding.pk), assignee, actor=request.user)
        done = f"Assigned to {assignee.get_username()}." if assignee else "Unassigned."
        return self.respond(finding, done=done)


class FindingCommentView(FindingActionView):
    def post(self, request, pk):
        finding = self.get_finding(pk)
        try:
            services.add_comment(finding, author=request.user, body=request.POST.get("body", ""))
        except services.CommentRefused as exc:
            messages.error(request, f"{str(exc).capitalize()}.")
            return self.page_again(finding)
        messages.success(request, "Comment added.")
        return redirect(reverse("findings:finding-detail", args=[finding.pk]) + "#comments")


# --- The check catalogue -------------------------------------------------------------------


class CheckListView(LoginRequiredMixin, TemplateView):
    template_name = "findings/check_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        category = self.request.GET.get("category", "")
        framework = self.request.GET.get("framework", "")
        checks = sorted(load_catalogue(), key=lambda check: (-check.severity.rank, check.id))
        if category:
            checks = [check for check in checks if check.category == category]
        if framework in FRAMEWORKS:
            checks = [check for check in checks if framework in frameworks_of(check)]
        clusters = list(Cluster.objects.for_user(self.request.user).values_list("pk", "last_scan_id"))
        counts = cached_counts_by_check(
            [pk for pk, _scan in clusters], version=str(max((scan or 0 for _pk, scan in clusters), default=0))
        )
        no_findings = Counter()
        rows = [
            (check, counts.get(check.id, no_findings), [FRAMEWORKS[n] for n in frameworks_of(check)])
            for check in checks
        ]
        context.update(
            checks=rows,
            categories=[category.value for category in Category],
            category=category,
            frameworks=FRAMEWORKS,
            framework=framework,
            # of the checks shown
            total_open=sum(check_counts["open"] for _check, check_counts, _names in rows),
            total_accepted=sum(check_counts["accepted"] for _check, check_counts, _names in rows),
        )
        return context


# --- Exception rules ------------------------------------------------------------------------


class ExceptionListView(LoginRequiredMixin, ForgivingPaginationMixin, ListView):
    template_name = "findings/exception_list.html"
    context_object_name = "rules"
    paginate_by = 50

    def get_queryset(self):
        return (
            ExceptionRule.objects.for_user(self.request.user)
            .select_related("team", "cluster", "owner", "created_by")
            .order_by("-created_at", "-id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The findings each rule on this page holds now: one grouped query through the partial
        # exception-rule index (a join and GROUP BY over every finding took over a second at a million).
        rules = context["rules"] = list(context["rules"])
        linked = dict(
            Finding.objects.filter(exception_rule__in=[rule.pk for rule in rules], status=S.RISK_ACCEPTED)
            .order_by()
            .values_list("exception_rule")
            .annotate(count=Count("pk"))
        )
        for rule in rules:
            rule.linked = linked.get(rule.pk, 0)
        context["admin_teams"] = set(teams_with_role(self.request.user, Role.ADMIN))
        context["now"] = timezone.now()
        return context


class ExceptionCreateView(LoginRequiredMixin, CreateView):
    template_name = "findings/exception_form.html"
    form_class = ExceptionRuleForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not teams_with_role(request.user, Role.ADMIN).exists():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("instance", None)
        checks = sorted(load_catalogue(), key=lambda check: check.id)
        return {**kwargs, "user": self.request.user, "checks": checks}

    def get_initial(self):
        # A finding's page links here with its check, cluster and namespace.
        query = self.request.GET
        initial = {"check_ids": query.getlist("check"), "namespace_pattern": query.get("namespace", "")}
        cluster_id = query.get("cluster", "")
        if cluster_id.isascii() and cluster_id.isdigit() and len(cluster_id) <= 18:  # SQLite binds 64 bits
            cluster = Cluster.objects.for_user(self.request.user).filter(pk=cluster_id).first()
            if cluster is not None:
                initial.update(cluster=cluster.pk, team=cluster.team_id)
        return initial

    def form_valid(self, form):
        try:
            rule, accepted = services.create_exception_rule(form.save(), actor=self.request.user)
        except services.RuleRefused as exc:
            form.add_error(None, f"{str(exc).capitalize()}.")
            return self.form_invalid(form)
        triage_changed()
        messages.success(
            self.request,
            f"Exception #{rule.pk} created; {accepted} matching finding{'s' if accepted != 1 else ''} "
            "accepted until it expires.",
        )
        return redirect("findings:exception-list")


def revoked_summary(revoked) -> str:
    if not revoked.released:
        return "it held no findings"
    parts = [f"{revoked.reopened:,} finding{pluralize(revoked.reopened)} reopened"]
    if revoked.acknowledged:
        parts.append(f"{revoked.acknowledged:,} back to acknowledged")
    if revoked.held_by_others:
        parts.append(f"{revoked.held_by_others:,} now held by other active exceptions")
    return ", ".join(parts)


class ExceptionRevokeView(LoginRequiredMixin, View):
    def post(self, request, pk):
        rule = get_object_or_404(ExceptionRule.objects.for_user(request.user), pk=pk)
        if not has_role(request.user, rule.team_id, Role.ADMIN):
            raise PermissionDenied
        if rule.revoked_at:
            messages.info(request, f"Exception #{rule.pk} was already revoked.")
        else:
            revoked = services.revoke_exception_rule(rule, actor=request.user)
            triage_changed()
            messages.success(request, f"Exception #{rule.pk} revoked: {revoked_summary(revoked)}.")
        return redirect("findings:exception-list")
