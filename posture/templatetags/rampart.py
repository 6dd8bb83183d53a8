"""Template helpers for the dashboard pages: charts, check text, small formatting."""

import re
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from posture import charts

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
def is_in(value, container) -> bool:
    return bool(container) and value in container


@register.filter
def status_label(value: str) -> str:
    """A finding status as people say it: "risk_accepted" → "risk accepted"."""
    from findings.models import FindingStatus

    try:
        return FindingStatus(value).label.lower()
    except ValueError:
        return value or "new"
