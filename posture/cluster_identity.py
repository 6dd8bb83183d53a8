"""Which cluster was read: the uid of its kube-system namespace.

Kubernetes gives every object a uid when it is created and never reuses one; kube-system exists in
every cluster from its first day and is never deleted, so its uid names the cluster for as long as it
lives (the same identity other tools key clusters by). A snapshot of the wrong cluster, uploaded or
pushed with another cluster's token, or an API server address that now leads to another cluster,
would otherwise be scanned as this one: every finding of the right cluster resolved, every decision
on them (assignees, accepted risks) undone when they reopen. posture.services refuses those reads;
what carries no kube-system namespace carries no identity and is never refused for it.
"""

from collections.abc import Iterable

KUBE_SYSTEM = "kube-system"
MAX_UID_LENGTH = 64  # a uid is a 36-character UUID; anything longer is not one Kubernetes wrote


def kube_system_uid(objects: Iterable[dict]) -> str:
    """The uid of the kube-system Namespace among ``objects``, or "" when there is none (or no uid)."""
    for obj in objects:
        if obj.get("kind") != "Namespace":
            continue
        metadata = obj.get("metadata")
        if not isinstance(metadata, dict) or metadata.get("name") != KUBE_SYSTEM:
            continue
        uid = metadata.get("uid")
        if isinstance(uid, str) and 0 < len(uid.strip()) <= MAX_UID_LENGTH:
            return uid.strip()
    return ""
