"""What no collector keeps: secret values, and server bookkeeping no check reads.

Applied to every object a collector produces, so that a Secret's data never
reaches Rampart's storage, database, pages or logs, and memory is not spent on
managedFields.
"""

from posture.scanning.checks.sensitive import (
    configmap_credentials,
    credential_shape,
    literal_worth_reporting,
    redaction_marker,
    sensitive_name,
)
from posture.scanning.inventory import CONTAINER_FIELDS, POD_SPEC_PATHS

# The annotation holds the whole object as last applied: for a Secret or a
# ConfigMap that includes every value, so it is dropped from every object.
VALUE_BEARING_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
SECRET_VALUE_FIELDS = ("data", "stringData")


def redact(obj: dict) -> dict:
    """Strip secret values and server noise from ``obj`` in place; returns it."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        managed = metadata.pop("managedFields", None)
        if obj.get("kind") == "Secret" and isinstance(managed, list):
            # When a Secret's data was last written (rotation in place by cert-manager or
            # External Secrets) is only here: keep who, when, and which top-level fields
            # (`f:data` or only `f:metadata`), never the keys below them.
            metadata["managedFields"] = [_write_record(entry) for entry in managed if isinstance(entry, dict)]
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            for key in VALUE_BEARING_ANNOTATIONS:
                annotations.pop(key, None)
    if obj.get("kind") == "Secret":
        _blank_credential_annotations(obj)
        for key in SECRET_VALUE_FIELDS:
            if key in obj:
                # Keep which keys exist (checks may need names), never the values.
                value = obj[key]
                obj[key] = dict.fromkeys(value, "") if isinstance(value, dict) else {}
    return obj


def _blank_credential_annotations(secret: dict) -> None:
    # Some platforms copy a Secret's value into an annotation (OpenShift's
    # openshift.io/token-secret.value): keep the key, never such a value.
    metadata = secret.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(annotations, dict):
        for key, value in annotations.items():
            if isinstance(value, str) and value and (sensitive_name(str(key)) or credential_shape(value)):
                annotations[key] = ""


def _write_record(entry: dict) -> dict:
    record = {key: entry[key] for key in ("manager", "operation", "time") if key in entry}
    fields = entry.get("fieldsV1")
    if isinstance(fields, dict):
        record["fieldsV1"] = dict.fromkeys(map(str, fields), {})
    return record


def mask_credentials(obj: dict, extra_names: tuple[str, ...] = ()) -> dict:
    """Replace, in place, every credential the secrets checks would report by a marker.

    For what Rampart stores (uploaded and pushed snapshots): literal credentials in
    container environments and ConfigMaps become ``rampart-redacted:<length>:<kind>``,
    which the checks still report on every scan, without one character of the value.
    """
    kind = obj.get("kind")
    if kind == "ConfigMap":
        data = obj.get("data")
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, str):
                    data[key] = _masked_config_value(str(key), value, extra_names)
    elif kind in POD_SPEC_PATHS:
        spec = obj
        for step in POD_SPEC_PATHS[kind]:
            spec = spec.get(step) if isinstance(spec, dict) else None
        if isinstance(spec, dict):
            for field in CONTAINER_FIELDS:
                for container in spec.get(field) or []:
                    if isinstance(container, dict):
                        _mask_env(container.get("env"), extra_names)
    return obj


def _mask_env(env, extra_names) -> None:
    for entry in env if isinstance(env, list) else []:
        if not isinstance(entry, dict) or "value" not in entry:
            continue
        name, value = str(entry.get("name") or ""), entry["value"]
        shape = credential_shape(value)
        if shape or (sensitive_name(name, extra_names) and literal_worth_reporting(value)):
            entry["value"] = redaction_marker(str(value), shape)


def _masked_config_value(key: str, value: str, extra_names) -> str:
    found = configmap_credentials(key, value, extra_names)
    if not found:
        return value
    if found[0].line is None:  # the whole value is the credential
        return redaction_marker(value, found[0].shape)
    lines = value.split("\n")
    for credential in found:
        index = credential.line - 1
        if 0 <= index < len(lines):
            lines[index] = lines[index].replace(credential.secret, redaction_marker(credential.secret), 1)
    return "\n".join(lines)
