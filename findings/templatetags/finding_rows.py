"""The findings list's row, drawn in Python.

Fifty rows of inline controls (assignee select, status forms) through the template language were
most of the page's server time at a million findings; the same markup written here is several
times faster. The list and the row partial that htmx swaps in after an inline action both use it.
"""

from html import escape

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from findings.triage import acceptance_dates
from posture.templatetags.rampart import assignee_options, transitions

register = template.Library()


def _day(value) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d}"


def _row_form(url: str, csrf: str, fields: str, body: str, css: str = "") -> str:
    """A form that posts one inline action and swaps the row it answers with."""
    css_attr = f' class="{css}"' if css else ""
    return (
        f'<form method="post" action="{url}" hx-post="{url}" '
        f'hx-target="closest tr" hx-swap="outerHTML"{css_attr}>'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
        f'<input type="hidden" name="partial" value="row">{fields}{body}</form>'
    )


@register.simple_tag(takes_context=True)
def finding_row(context, f) -> SafeString:
    """One finding's <tr>: what failed where, its status, assignee and due date, and, for those who
    may triage it, the assignee select and the status actions its current status allows."""
    triage_teams = context.get("triage_teams") or ()
    can = f.cluster.team_id in triage_teams
    check = (context.get("checks") or {}).get(f.check_id)
    ref = escape(f.object_ref)
    check_id = escape(f.check_id)
    csrf = escape(str(context.get("csrf_token") or ""))
    cells = []
    if triage_teams:
        checked = " checked" if f.pk in (context.get("selected_ids") or ()) else ""
        box = (
            f'<input type="checkbox" name="ids" value="{f.pk}" form="bulk"{checked} '
            f'aria-label="Select {check_id} on {ref}">'
            if can
            else ""
        )
        cells.append(f'<td class="select-col">{box}</td>')
    severity = escape(f.severity)
    cells.append(f'<td><span class="sev sev-{severity}">{severity}</span></td>')
    title = escape(check.title) if check else check_id
    detail_url = reverse("findings:finding-detail", args=[f.pk])
    cells.append(
        f'<td class="finding"><a href="{detail_url}">{title}</a> <code class="muted">{check_id}</code>'
        f'<div class="small muted">{escape(f.message)}</div></td>'
    )
    cells.append(f'<td class="object">{ref}</td>')
    cells.append(f'<td class="col-optional">{escape(f.cluster.name)}</td>')
    until = (
        f'<div class="small muted">until {_day(f.risk_accepted_until)}</div>' if f.risk_accepted_until else ""
    )
    status_label = escape(str(f.get_status_display()))
    cells.append(f'<td><span class="state state-{escape(f.status)}">{status_label}</span>{until}</td>')
    if can:
        assign_url = reverse("findings:finding-assign", args=[f.pk])
        assignee = (
            f'<form class="assign" method="post" action="{assign_url}" hx-post="{assign_url}" '
            f'hx-target="closest tr" hx-swap="outerHTML" hx-trigger="change">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
            f'<input type="hidden" name="partial" value="row">'
            f'<select name="assignee" aria-label="Assignee of {check_id} on {ref}">'
            f'<option value="">Unassigned</option>{assignee_options(context, f)}</select>'
            f'<button type="submit" class="small-button js-hide">Save</button></form>'
        )
    else:
        assignee = escape(f.assignee.get_username()) if f.assignee_id else "—"
    cells.append(f"<td>{assignee}</td>")
    # A due date binds the findings that still need work: an accepted risk shows its own date (until)
    # in the status cell, and a past due date beside it would read as a deadline missed.
    if f.due_at and f.status in ("open", "acknowledged"):
        overdue = f.due_at < context.get("now", timezone.now())
        flag = '<span class="overdue">overdue</span> ' if overdue else ""
        cells.append(f'<td>{flag}<span class="small nowrap">{_day(f.due_at)}</span></td>')
    else:
        cells.append("<td>—</td>")
    seen = timezone.localtime(f.last_seen_at)
    cells.append(
        f'<td class="small col-optional"><span class="nowrap">{seen:%Y-%m-%d}</span> {seen:%H:%M}</td>'
    )
    if triage_teams:
        cells.append(f'<td class="row-actions">{_actions(context, f, csrf) if can else ""}</td>')
    updated = " row-updated" if context.get("row_done") else ""
    return mark_safe(  # noqa: S308 - every value above is escaped, numeric or a reversed URL
        f'<tr id="finding-{f.pk}" class="finding-row{updated}">{"".join(cells)}</tr>'
    )


def _actions(context, f, csrf: str) -> str:
    moves = transitions(f.status)
    url = reverse("findings:finding-status", args=[f.pk])
    html = []
    for status, label in (("acknowledged", "Acknowledge"), ("open", "Reopen")):
        if status in moves:
            html.append(
                _row_form(
                    url,
                    csrf,
                    f'<input type="hidden" name="to_status" value="{status}">',
                    f'<button type="submit" class="small-button">{label}</button>',
                )
            )
    # A refused change comes back with what was sent: the form stays open, nothing to type again.
    sent = context.get("row_sent") or {}
    choices = [
        f'<option value="{status}"{" selected" if sent.get("to_status") == status else ""}>{label}</option>'
        for status, label in (("risk_accepted", "Accepted risk"), ("false_positive", "False positive"))
        if status in moves
    ]
    if choices:
        reason, until = escape(sent.get("reason", "")), escape(sent.get("until", ""))
        body = (
            f'<label for="to-{f.pk}">Mark as</label>'
            f'<select id="to-{f.pk}" name="to_status">{"".join(choices)}</select>'
            f'<label for="reason-{f.pk}">Reason</label>'
            f'<input id="reason-{f.pk}" name="reason" required maxlength="2000" value="{reason}">'
            f'<label for="until-{f.pk}">Until (needed to accept a risk)</label>'
            f'<input id="until-{f.pk}" type="date" name="until" {until_bounds()} value="{until}">'
            f'<button type="submit" class="small-button">Save</button>'
        )
        form = _row_form(url, csrf, "", body, "stacked")
        opened = " open" if sent.get("to_status") in ("risk_accepted", "false_positive") else ""
        html.append(f'<details class="more"{opened}><summary>More…</summary>{form}</details>')
    if context.get("row_error"):
        message = str(context["row_error"])
        html.append(f'<p class="error small" role="alert">{escape(message[:1].upper() + message[1:])}.</p>')
    elif context.get("row_done"):
        html.append(f'<p class="ok small" role="status">{escape(str(context["row_done"]))}</p>')
    return "".join(html)


@register.simple_tag
def until_bounds() -> SafeString:
    """min and max attributes for a risk acceptance's date input, so the browser offers only valid days."""
    first, last = acceptance_dates()
    return mark_safe(f'min="{first}" max="{last}"')  # noqa: S308 - two ISO dates
