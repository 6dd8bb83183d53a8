"""Typed readers for settings that come from the environment.

Every setting may also be given as ``NAME_FILE`` pointing at a file that holds
the value (Docker and Kubernetes secrets are mounted as files). A value that
cannot be parsed raises ImproperlyConfigured at start-up rather than being
silently replaced by a default.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_path}: {exc.strerror}") from None
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = env_str(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = env_str(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int_mapping(name: str, default: dict[str, int]) -> dict[str, int]:
    """``critical=7,high=30`` → {"critical": 7, "high": 30}, over the default."""
    raw = env_str(name)
    if raw is None or not raw.strip():
        return dict(default)
    result = dict(default)
    for item in raw.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in default:
            raise ImproperlyConfigured(
                f"{name}: expected key=number pairs with keys {sorted(default)}, got {item!r}"
            )
        try:
            result[key] = int(value)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {key} must be a whole number of days, got {value!r}"
            ) from None
    return result


def env_int_list(name: str, default: list[int]) -> list[int]:
    try:
        return [int(item) for item in env_list(name, [str(d) for d in default])]
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be comma-separated whole numbers") from None


def env_json_object(name: str) -> dict:
    """A JSON object (``{"disabled": ["latest-tag"]}``); anything else stops start-up with a message."""
    import json

    raw = env_str(name)
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, got {type(value).__name__}")
    return value
