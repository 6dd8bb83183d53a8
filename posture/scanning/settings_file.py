"""`scan_manifests --settings FILE`: check settings for a scan in CI, as a cluster has them.

The file has the shape of ``RAMPART_CHECK_SETTINGS``, in YAML or JSON::

    enabled: [privileged-container, latest-tag]  # only these run (every check when not given)
    disabled: [latest-tag]                       # and not these
    severity: {privileged-container: high}       # severity overrides
    options: {trusted_registries: [registry.example.com]}

and is validated as a cluster's settings are (posture.cluster_check_settings): a check, level or
option that does not exist is an error that names it, never a setting silently ignored, since
a typo in a CI gate would otherwise pass a build it was meant to stop.
"""

from pathlib import Path

from posture import cluster_check_settings
from posture.scanning.engine import CheckSettings

MAX_BYTES = 1024 * 1024
KEYS = ("disabled", "enabled", "severity", "options")


class SettingsFileError(ValueError):
    """What is wrong with the file, in one line for the user."""


def load(path: str | Path) -> CheckSettings:
    """The settings in ``path``; SettingsFileError when it cannot be read or is not valid."""
    document = _document(Path(path))
    if document is None:
        return CheckSettings()  # an empty file: the defaults
    if not isinstance(document, dict):
        raise SettingsFileError(f"expected a mapping with some of {', '.join(KEYS)}")
    unknown = sorted(str(key) for key in document if key not in KEYS)
    if unknown:
        raise SettingsFileError(f"unknown key {', '.join(unknown)} (the keys are {', '.join(KEYS)})")
    severity, options = _mapping(document, "severity"), _mapping(document, "options")
    try:
        valid = cluster_check_settings.validated(_ids(document, "disabled"), severity, options)
        # "enabled" names checks as "disabled" does: validated the same way.
        enabled = cluster_check_settings.validated(_ids(document, "enabled")).get("disabled")
    except cluster_check_settings.InvalidSettings as exc:
        raise SettingsFileError(str(exc)) from None
    return cluster_check_settings.for_the_engine(
        disabled=valid.get("disabled", ()),
        enabled=enabled,
        severity=valid.get("severity"),
        options=valid.get("options"),
    )


def _document(path: Path):
    from posture.scanning.collectors import yaml_documents  # PyYAML, only when a file is given

    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SettingsFileError(exc.strerror or "cannot be read") from None
    if len(data) > MAX_BYTES:
        raise SettingsFileError(f"larger than {MAX_BYTES // 1024} KiB; is this the right file?")
    try:
        return yaml_documents.load_document(data)  # YAML, and so JSON too
    except yaml_documents.YAMLError as exc:
        raise SettingsFileError(yaml_documents.describe(exc)) from None
    except (ValueError, RecursionError) as exc:
        raise SettingsFileError(f"unreadable ({type(exc).__name__})") from None


def _ids(document: dict, key: str) -> list[str]:
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SettingsFileError(f"{key}: expected a list of check ids")
    return value


def _mapping(document: dict, key: str) -> dict:
    value = document.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SettingsFileError(f"{key}: expected a mapping")
    return value
