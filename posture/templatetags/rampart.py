"""Template helpers for the dashboard pages: charts, check text, small formatting."""

import re
from html import escape

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from posture import charts
from posture.scanning.checks.registry import Category

register = template.Library()

_FENCE = re.compile(r"```([\w+-]*)\n(.*?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")


def _inline(text: str) -> str:
    return _INLINE_CODE.sub(r"<code>\1</code>", text)


def _blocks(text: str) -> str:
    """Paragraphs and "- " lists of already escaped text."""
    html = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith(("- ", "* ")) for line in lines):
            html.append("<ul>" + "".join(f"<li>{_inline(line[2:])}</li>" for line in lines) + "</ul>")
        else:
            html.append(f"<p>{_inline(' '.join(lines))}</p>")
    return "".join(html)


@register.filter
def check_text(text: str) -> SafeString:
    """A check's description or remediation: everything escaped first, then ```fences``` become
    <pre><code>, `ticks` become <code>, blank lines separate paragraphs."""
    escaped = escape(text or "", quote=False)
    parts, last = [], 0
    for match in _FENCE.finditer(escaped):
        parts.append(_blocks(escaped[last : match.start()]))
        language = match.group(1) or "text"
        parts.append(
            f'<pre class="snippet"><code class="language-{language}">{match.group(2).rstrip()}</code></pre>'
        )
        last = match.end()
    parts.append(_blocks(escaped[last:]))
    return mark_safe("".join(parts))  # noqa: S308 - built from escaped text only


@register.filter
def labelled_errors(form) -> list[tuple[str, list]]:
    """A form's errors under the labels people read ("First seen on or after"), not field names."""
    return [
        (str(form.fields[name].label or name) if name in form.fields else name, list(errors))
        for name, errors in form.errors.items()
    ]


@register.filter
def category_label(value: str) -> str:
    return Category.label_of(value)


@register.filter
def total_objects(counts) -> int:
    """The number of objects a scan read, over every kind."""
    return sum(value for value in (counts or {}).values() if isinstance(value, int))


@register.filter
def seconds(value) -> str:
    if value is None:
        return "—"
    value = float(value)
    if value < 10:
        return f"{value:.2f} s"
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(int(round(value)), 60)
    return f"{minutes} min {rest} s"


@register.filter
def get(mapping, key):
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    return f"{float(value):.0f}%"


@register.simple_tag
def sparkline(values, title, width=120, height=28):
    return charts.sparkline(values, title=title, width=width, height=height)


@register.simple_tag
def line_chart(points, title, width=960, height=200):
    return charts.line_chart(points, title=title, width=width, height=height)


@register.simple_tag
def bar_chart(items, title, width=360):
    return charts.bar_chart(items, title=title, width=width)


@register.filter
def transitions(status: str) -> list[str]:
    """The statuses a user may move a finding to from ``status`` (findings/triage.py's table)."""
    from findings.forms import STATUS_ACTIONS
    from findings.triage import USER_TRANSITIONS

    return [str(target) for target in STATUS_ACTIONS if (status, target) in USER_TRANSITIONS]


@register.filter
def status_label(value: str) -> str:
    """A finding status as people say it: "risk_accepted" → "risk accepted"."""
    from findings.models import FindingStatus

    try:
        return FindingStatus(value).label.lower()
    except ValueError:
        return value or "new"


@register.simple_tag(takes_context=True)
def assignee_options(context, finding) -> SafeString:
    """The <option>s of a finding's assignee select: the engineers of its cluster's team, its
    assignee selected. Rendered once per (team, assignee) for the whole page: a list of fifty rows
    repeats the same few dozen option lists, and a template loop per row cost a third of the page."""
    cache = context.render_context.setdefault("assignee_options", {})
    team_id = finding.cluster.team_id
    key = (team_id, finding.assignee_id)
    if key not in cache:
        people = (context.get("assignees_by_team") or {}).get(team_id, [])
        cache[key] = mark_safe(  # noqa: S308 - every value is escaped here
            "".join(
                f'<option value="{person.pk}"{" selected" if person.pk == finding.assignee_id else ""}>'
                f"{escape(person.get_username())}</option>"
                for person in people
            )
        )
    return cache[key]


@register.simple_tag
def options(choices, selected=None) -> SafeString:
    """<option>s for (value, label) pairs, the one whose value equals ``selected`` (as text) selected.
    One tag call instead of a template loop: the findings filters list every visible cluster."""
    chosen = "" if selected is None else str(selected)
    return mark_safe(  # noqa: S308 - every value is escaped here
        "".join(
            f'<option value="{escape(str(value))}"{" selected" if str(value) == chosen else ""}>'
            f"{escape(str(label))}</option>"
            for value, label in choices
        )
    )


@register.simple_tag
def grade_badge(scan) -> SafeString:
    """A scan's grade and score ("B 84.2"), or "not scanned"."""
    if not (scan and scan.grade):
        return mark_safe('<span class="muted">not scanned</span>')
    score = "" if scan.score is None else f"{scan.score:.1f}"
    return mark_safe(  # noqa: S308 - the grade is escaped, the score numeric
        f'<span class="grade grade-{escape(scan.grade.lower())}" title="Score {score} of 100">'
        f'{escape(scan.grade)}</span> <span class="score">{score}</span>'
    )


@register.simple_tag
def latest_attempt(cluster) -> SafeString:
    """A cluster's newest scan attempt (Cluster.objects.with_latest_attempt): status, when, and why it
    failed; or "never scanned". A paused cluster says so (with its reason on hover) in place of any
    warning that its scans or its agent have gone quiet."""
    from django.contrib.humanize.templatetags.humanize import naturaltime

    from posture.agent_silence import silent_for
    from posture.models import ScanStatus

    status = getattr(cluster, "latest_status", None)
    if not status:
        html = '<span class="muted">never scanned</span>'
    else:
        label = ScanStatus(status).label if status in ScanStatus.values else status
        html = (
            f'<span class="status status-{escape(status)}">{escape(label)}</span> '
            f'<span class="muted small">{escape(naturaltime(cluster.latest_at))}</span>'
        )
    if status == "failed":
        html += f'<div class="error small">{escape(cluster.latest_error or "")}</div>'
    if cluster.paused_at:
        reason = f' title="{escape(cluster.pause_reason)}"' if cluster.pause_reason else ""
        until = ""
        if cluster.paused_until:
            until = f" until {timezone.localtime(cluster.paused_until):%Y-%m-%d %H:%M}"
        html += f'<div class="paused small"{reason}>Paused{escape(until)}</div>'
    elif silent := silent_for(cluster, getattr(cluster, "last_push_at", None)):
        html += f'<div class="warn small">No push from its agent for {escape(silent)}</div>'
    return mark_safe(html)  # noqa: S308 - every value above is escaped


@register.simple_tag
def overview_row(row: dict) -> SafeString:
    """One cluster's <tr> on the overview (the row dict of posture.views._overview_row).

    Written in Python rather than as template markup: the overview lists every cluster of the
    fleet, and two hundred rows through the template language cost more than the rest of the page.
    """
    cluster, scan = row["cluster"], row["scan"]
    change = row["change"]
    if change is None:
        change_cell = '<span class="muted">—</span>'
    elif change > 0:
        change_cell = f'<span class="up">▲ {change}</span>'
    elif change < 0:
        change_cell = f'<span class="down-bad">▼ {-change}</span>'
    else:
        change_cell = '<span class="muted">±0</span>'
    if scan:
        severity = row.get("open_by_severity", scan.counts_by_severity or {})
        worst = " ".join(
            f'<span class="sev-text-{name}">{severity[name]:,} {name}</span>'
            for name in ("critical", "high")
            if severity.get(name)
        )
        findings = f'<a href="{escape(row["findings_url"])}">{scan.open_count:,}</a>'
        if worst:
            findings += f'<div class="small">{worst}</div>'
    else:
        findings = "—"
    return mark_safe(  # noqa: S308 - every value above is escaped or numeric
        f'<tr><th scope="row"><a href="{escape(row["url"])}">{escape(cluster.name)}</a>'
        f'<div class="muted small">{escape(str(cluster.team))}</div></th>'
        f"<td>{grade_badge(scan)}</td><td>{sparkline(row['spark'], row['title'])}</td><td>{change_cell}</td>"
        f"<td>{findings}</td><td>{latest_attempt(cluster)}</td></tr>"
    )


@register.filter
def audit_key(key) -> str:
    return str(key).replace("_", " ")


@register.filter
def audit_value(value) -> str:
    """An audit detail in words: lists joined, mappings as key=value, empty as an em dash."""
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "—"
    return "—" if value in ("", None) else str(value)
