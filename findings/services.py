"""Exception rules and namespace ownership: creating and ending them. Triage itself is in triage.py."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import audit
from findings import exceptions, summary, triage
from findings.label_syntax import label_problem
from findings.models import ExceptionRule, FindingStatus
from findings.patterns import matches_everything
from posture.models import Cluster


class Refused(ValueError):
    """A change refused as asked; the message is for the user, ``field`` the input it concerns, if one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class RuleRefused(Refused):
    """The rule cannot be created as asked."""


def create_exception_rule(
    rule: ExceptionRule, *, actor, now: datetime | None = None
) -> tuple[ExceptionRule, int]:
    """Save a new rule and apply it at once to the findings it covers; returns (rule, findings accepted)."""
    now = now or timezone.now()
    if not (rule.reason or "").strip():
        raise RuleRefused("an exception needs a reason", "reason")
    if rule.expires_at is None or rule.expires_at <= now:
        raise RuleRefused("an exception must expire in the future", "expires_at")
    maximum = settings.RAMPART_MAX_RISK_ACCEPTANCE_DAYS
    if rule.expires_at - now > timedelta(days=maximum):
        raise RuleRefused(f"an exception can last at most {maximum} days", "expires_at")
    if rule.cluster_id and rule.cluster.team_id != rule.team_id:
        raise RuleRefused("the cluster belongs to another team", "cluster")
    # "*" and "**" match every name, as an empty pattern does: stored empty, one way to say it.
    if matches_everything(rule.namespace_pattern or ""):
        rule.namespace_pattern = ""
    if matches_everything(rule.name_pattern or ""):
        rule.name_pattern = ""
    narrowing = rule.check_ids or rule.namespace_pattern or rule.name_pattern or rule.label_selector
    if not (narrowing or rule.cluster_id):
        raise RuleRefused(
            "an exception must be narrower than everything: give a cluster, checks or a pattern "
            "(a pattern of only * matches everything)"
        )
    for key, value in (rule.label_selector or {}).items():
        problem = label_problem(str(key), str(value))
        if problem:
            raise RuleRefused(problem, "label_selector")
    twin = _same_scope(rule, now)
    if twin is not None:
        raise RuleRefused(
            f"exception #{twin.pk} already covers exactly this; change its scope or revoke it first"
        )
    rule.reason = rule.reason.strip()
    rule.created_by = actor
    with transaction.atomic():
        rule.save()
        accepted = exceptions.apply_rule(rule, now=now)
        if accepted:
            summary.recount_latest_scans_soon(_rule_clusters(rule))
        audit.record(
            "exception.created",
            actor=actor,
            target=rule,
            accepted=accepted,
            expires_at=rule.expires_at.isoformat(),
        )
    return rule, accepted


@dataclass(frozen=True)
class Revoked:
    """What revoking a rule did to the findings it held."""

    reopened: int
    acknowledged: int  # back to acknowledged, as they were when the rule took them
    held_by_others: int  # of those, taken at once by another active rule that covers them

    @property
    def released(self) -> int:
        return self.reopened + self.acknowledged


def revoke_exception_rule(rule: ExceptionRule, *, actor, now: datetime | None = None) -> Revoked:
    """End a rule before its expiry; its findings go back to the state it took them in, and any
    other active rule that covers them takes them at once (rather than at the next scan)."""
    now = now or timezone.now()
    with transaction.atomic():
        ExceptionRule.objects.filter(pk=rule.pk).update(revoked_at=now)
        rule.revoked_at = now
        back = triage.release_rule(rule, actor=actor, now=now)
        clusters = _rule_clusters(rule)
        taken = 0
        if any(back.values()):
            for cluster in Cluster.objects.filter(pk__in=clusters).only("pk", "team_id"):
                taken += exceptions.apply_rules(cluster, now=now)
            summary.recount_latest_scans_soon(clusters)
        result = Revoked(
            reopened=back.get(FindingStatus.OPEN, 0),
            acknowledged=back.get(FindingStatus.ACKNOWLEDGED, 0),
            held_by_others=taken,
        )
        audit.record(
            "exception.revoked",
            actor=actor,
            target=rule,
            reopened=result.reopened,
            acknowledged=result.acknowledged,
            held_by_other_exceptions=taken,
        )
        return result


def _same_scope(rule: ExceptionRule, now: datetime) -> ExceptionRule | None:
    """An active rule of the team with exactly this scope: a second one would match nothing new."""
    for other in ExceptionRule.objects.active(now).filter(
        team_id=rule.team_id,
        cluster_id=rule.cluster_id,
        namespace_pattern=rule.namespace_pattern,
        name_pattern=rule.name_pattern,
    ):
        if sorted(other.check_ids or []) == sorted(rule.check_ids or []) and (other.label_selector or {}) == (
            rule.label_selector or {}
        ):
            return other
    return None


def _rule_clusters(rule: ExceptionRule) -> list[int]:
    if rule.cluster_id:
        return [rule.cluster_id]
    return list(Cluster.objects.filter(team_id=rule.team_id).values_list("pk", flat=True))


# --- Comments ---------------------------------------------------------------------


class CommentRefused(Refused):
    """The comment cannot be saved as written."""


def add_comment(finding, *, author, body: str):
    """A note on a finding from one user; the text is kept as written (the page escapes it)."""
    from findings.models import Comment

    body = (body or "").strip()
    if not body:
        raise CommentRefused("a comment needs some text", "body")
    limit = Comment._meta.get_field("body").max_length
    if len(body) > limit:
        raise CommentRefused(f"a comment can be at most {limit:,} characters", "body")
    return Comment.objects.create(finding=finding, author=author, body=body)
