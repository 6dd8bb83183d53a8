"""A cluster's own check settings, as people and API clients give them: validated in one place.

Stored on the cluster as ``{"disabled": [ids], "severity": {id: level}, "options": {name: value}}``
(posture.services.check_settings_for lays them over the deployment's RAMPART_CHECK_SETTINGS).
The settings page and the API both go through ``validated``: an unknown check, level or option is
refused with a message, never stored to be ignored at scan time.
"""

from posture.scanning.checks import load_catalogue
from posture.scanning.checks.options import OPTIONS
from posture.scanning.checks.registry import Severity
from posture.scanning.engine import CheckSettings

LEVELS = [severity.value for severity in sorted(Severity, key=lambda s: -s.rank)]
MAX_LIST_ITEMS = 200
MAX_ITEM_LENGTH = 253  # a DNS name: the longest registry host


class InvalidSettings(ValueError):
    """``problems``: {"disabled" | "severity" | "options" | an option's name: [messages]}."""

    def __init__(self, problems: dict[str, list[str]]):
        super().__init__("; ".join(message for messages in problems.values() for message in messages))
        self.problems = problems


def validated(disabled=(), severity=None, options=None) -> dict:
    """The settings to store, with empty parts left out; InvalidSettings lists every problem."""
    known = {check.id for check in load_catalogue()}
    problems: dict[str, list[str]] = {}
    settings: dict = {}
    unknown = sorted({str(check_id) for check_id in disabled} - known)
    if unknown:
        problems["disabled"] = [f"No check is called {', '.join(unknown)}."]
    elif disabled:
        settings["disabled"] = sorted(set(disabled))
    levels = {}
    for check_id, level in (severity or {}).items():
        if check_id not in known:
            problems.setdefault("severity", []).append(f"No check is called {check_id}.")
        elif level not in LEVELS:
            problems.setdefault("severity", []).append(
                f"{check_id}: {level!r} is not a severity (one of {', '.join(LEVELS)})."
            )
        else:
            levels[check_id] = level
    if levels:
        settings["severity"] = dict(sorted(levels.items()))
    values = {}
    for name, value in (options or {}).items():
        spec = OPTIONS.get(name)
        if spec is None:
            problems.setdefault("options", []).append(f"No option is called {name}.")
            continue
        try:
            cleaned = _option_value(spec.kind, value)
        except ValueError as exc:
            problems.setdefault(name, []).append(str(exc))
            continue
        if cleaned is not None:
            values[name] = cleaned
    if values:
        settings["options"] = values
    if problems:
        raise InvalidSettings(problems)
    return settings


def for_the_engine(disabled=(), enabled=None, severity=None, options=None) -> CheckSettings:
    """Settings of the shape above (``enabled``, when given, means "only these") as a scan takes
    them. Not validated here: pass them through ``validated`` first, or drop what is unknown."""
    off = set(disabled)
    if enabled:
        off |= {check.id for check in load_catalogue()} - set(enabled)
    return CheckSettings(
        disabled=frozenset(off),
        severity_overrides={check_id: Severity(level) for check_id, level in (severity or {}).items()},
        options=dict(options or {}),
    )


def _option_value(kind: str, value):
    """An option's value as its kind wants it; None for "use the default"."""
    if value is None or value == "" or value == []:
        return None
    if kind == "days":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 100_000:
            raise ValueError("Give a whole number of days from 1 to 100000.")
        return value
    if not isinstance(value, list | tuple):
        raise ValueError("Give a list.")
    if len(value) > MAX_LIST_ITEMS:
        raise ValueError(f"Give at most {MAX_LIST_ITEMS} entries.")
    items = []
    for item in value:
        if kind == "ports":
            if isinstance(item, bool) or not isinstance(item, int) or not 0 < item < 65536:
                raise ValueError(f"{item!r} is not a port number (1-65535).")
            items.append(item)
        else:
            text = item.strip() if isinstance(item, str) else ""
            # Not printable: controls, zero-width and text-direction characters, which would make a
            # trusted registry or an exempt namespace display as a name it is not.
            hidden = any(char.isspace() or not char.isprintable() for char in text)
            if not text or len(text) > MAX_ITEM_LENGTH or hidden:
                raise ValueError(
                    f"{item!r} is not a name (no spaces or invisible characters, "
                    f"at most {MAX_ITEM_LENGTH} characters)."
                )
            items.append(text)
    return list(dict.fromkeys(items))


def severity_lines(severity: dict) -> str:
    """The severity overrides as the settings page shows them: "check-id: level" per line."""
    return "\n".join(f"{check_id}: {level}" for check_id, level in sorted(severity.items()))


def parse_severity_lines(text: str) -> dict[str, str]:
    """What a person typed, "check-id: level" per line, as a mapping; ValueError names the bad lines."""
    severity, bad = {}, []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        check_id, colon, level = line.partition(":")
        if not colon or not check_id.strip() or not level.strip():
            bad.append(number)
            continue
        severity[check_id.strip()] = level.strip().lower()
    if bad:
        lines = ", ".join(map(str, bad))
        raise ValueError(f"Write one “check-id: level” per line (line {lines}).")
    return severity


def changes(before: dict, after: dict) -> list[str]:
    """What a change of a cluster's own settings did, one line per check or option, for the audit log.

    Lines rather than a mapping: check ids and option names such as ``secret-in-env`` would be keys
    that the audit log's secret filter redacts, and these are settings, never secret values.
    """
    before, after = before or {}, after or {}
    lines = []
    old, new = set(before.get("disabled") or ()), set(after.get("disabled") or ())
    if new - old:
        lines.append(f"switched off: {', '.join(sorted(new - old))}")
    if old - new:
        lines.append(f"switched on again: {', '.join(sorted(old - new))}")
    old_levels, new_levels = before.get("severity") or {}, after.get("severity") or {}
    for check_id in sorted(set(old_levels) | set(new_levels)):
        old, new = old_levels.get(check_id, "default"), new_levels.get(check_id, "default")
        if old != new:
            lines.append(f"severity of {check_id}: {old} → {new}")
    old_options, new_options = before.get("options") or {}, after.get("options") or {}
    for name in sorted(set(old_options) | set(new_options)):
        old, new = old_options.get(name), new_options.get(name)
        if old == new:
            continue
        if isinstance(old, list | type(None)) and isinstance(new, list | type(None)):
            added = [str(item) for item in new or () if item not in (old or ())]
            removed = [str(item) for item in old or () if item not in (new or ())]
            parts = [f"added {', '.join(added)}"] if added else []
            parts += [f"removed {', '.join(removed)}"] if removed else []
            lines.append(f"{name}: {'; '.join(parts) or 'reordered'}")
        else:
            lines.append(f"{name}: {'default' if old is None else old} → {'default' if new is None else new}")
    return lines
