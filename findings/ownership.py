"""Namespace ownership: new findings go to the default assignee of the team that owns the namespace."""

import re

from django.db.models import Q

from findings import triage
from findings.models import Finding, NamespaceOwnership
from findings.patterns import glob_to_regex


def owner_rules(cluster):
    return NamespaceOwnership.objects.filter(Q(cluster=cluster) | Q(cluster__isnull=True)).select_related(
        "default_assignee"
    )


def assign_new(cluster, scan) -> int:
    """Assign findings first seen by ``scan``; the first matching rule (by priority) wins."""
    rules = [
        rule for rule in owner_rules(cluster) if rule.default_assignee and rule.default_assignee.is_active
    ]
    if not rules:
        return 0
    new = Finding.objects.filter(cluster=cluster, first_seen_scan=scan, assignee__isnull=True)
    namespaces = set(new.order_by().values_list("namespace", flat=True).distinct())
    assigned = 0
    for rule in rules:
        if not namespaces:
            break
        pattern = re.compile(glob_to_regex(rule.namespace_pattern))
        owned = {namespace for namespace in namespaces if pattern.match(namespace)}
        if owned:
            assigned += triage.assign(new.filter(namespace__in=owned), rule.default_assignee, actor=None)
            namespaces -= owned
    return assigned
