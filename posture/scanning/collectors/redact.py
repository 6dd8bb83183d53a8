"""What no collector keeps: secret values, and server bookkeeping no check reads.

Applied to every object a collector produces, so that a Secret's data never
reaches Rampart's storage, database, pages or logs, and memory is not spent on
managedFields.
"""

# The annotation holds the whole object as last applied: for a Secret or a
# ConfigMap that includes every value, so it is dropped from every object.
VALUE_BEARING_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
SECRET_VALUE_FIELDS = ("data", "stringData")


def redact(obj: dict) -> dict:
    """Strip secret values and server noise from ``obj`` in place; returns it."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            for key in VALUE_BEARING_ANNOTATIONS:
                annotations.pop(key, None)
    if obj.get("kind") == "Secret":
        for key in SECRET_VALUE_FIELDS:
            if key in obj:
                # Keep which keys exist (checks may need names), never the values.
                value = obj[key]
                obj[key] = dict.fromkeys(value, "") if isinstance(value, dict) else {}
    return obj
