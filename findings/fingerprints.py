"""The one fingerprint function: what makes two results the same finding."""

import hashlib


def fingerprint(check_id: str, kind: str, namespace: str, name: str, container: str = "") -> str:
    """Identity within a cluster (the cluster is the other half of the unique key).

    Deliberately excludes message and evidence, which change between versions
    and scans without the problem being a different one.
    """
    key = "\x1f".join((check_id, kind, namespace, name, container))
    return hashlib.sha256(key.encode()).hexdigest()
