"""Exception rules: which findings a rule covers, and applying rules at ingest or when created."""

from datetime import datetime

from django.db.models import F, Q, QuerySet
from django.db.models.fields.json import KeyTransform

from findings import triage
from findings.models import ExceptionRule, Finding, FindingStatus
from findings.patterns import glob_to_regex


def rules_for_cluster(cluster, now: datetime) -> QuerySet:
    return ExceptionRule.objects.active(now).filter(
        Q(cluster=cluster) | Q(cluster__isnull=True, team_id=cluster.team_id)
    )


def matching(rule: ExceptionRule, findings: QuerySet) -> QuerySet:
    """The findings in ``findings`` that fall inside the rule's scope."""
    if rule.cluster_id:
        findings = findings.filter(cluster_id=rule.cluster_id)
    else:
        findings = findings.filter(cluster__team_id=rule.team_id)
    if rule.check_ids:
        findings = findings.filter(check_id__in=rule.check_ids)
    if rule.namespace_pattern:
        findings = findings.filter(namespace__regex=glob_to_regex(rule.namespace_pattern))
    if rule.name_pattern:
        findings = findings.filter(name__regex=glob_to_regex(rule.name_pattern))
    for index, (key, value) in enumerate(sorted((rule.label_selector or {}).items())):
        # Compared as JSON: on SQLite a key's text cannot be compared with a plain string
        # ("malformed JSON"); KeyTransform also takes any key (dots, slashes, "__") unsplit.
        alias = f"rule_label_{index}"
        findings = findings.alias(**{alias: KeyTransform(key, "labels")}).filter(**{alias: str(value)})
    return findings


def apply_rule(rule: ExceptionRule, *, now: datetime, scan=None, cluster=None) -> int:
    """Accept the open or acknowledged findings the rule covers; returns how many."""
    findings = Finding.objects.filter(status__in=[FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED])
    if cluster is not None:
        findings = findings.filter(cluster=cluster)
    count = triage.accept_by_rule(matching(rule, findings), rule, scan=scan, now=now)
    if count:
        ExceptionRule.objects.filter(pk=rule.pk).update(
            match_count=F("match_count") + count, last_matched_at=now
        )
    return count


def apply_rules(cluster, *, scan=None, now: datetime) -> int:
    return sum(
        apply_rule(rule, now=now, scan=scan, cluster=cluster) for rule in rules_for_cluster(cluster, now)
    )
