"""Who may do what on every route Rampart serves, as one table.

Every URL pattern of the resolver has an entry below (a route and its ``.format``
twin are one entry, and both are requested; Django's admin is one prefix; the
middleware's probes are listed too). Each entry says, per method, what each
principal gets:

    anonymous                  nobody logged in: pages send to the login (302), the API says 401
    viewer, engineer, admin    members of the team that owns every object used here
    other_team                 an *admin* of another team: the team's objects do not exist
                               for them (404 in a URL, 400 "unknown" in a body; never 403 or 200)
    superuser                  Django's superuser, member of no team
    admin's read-only token    reads what the admin reads, writes nothing (403), on every API request
    (and, where they apply, ingest tokens and the metrics scraper's token)

Pages are requested with a logged-in session, the API with each user's read-write
personal token (as the README documents). Every request runs in a savepoint that
is rolled back, so each one meets the same objects. For actions, an ``effect``
read before the rollback must hold for exactly the principals allowed to act: a
302 or a 200 alone proves nothing. No answer to anonymous or to another team may
contain the marker that every name, reason and comment of the team carries.

Wrong answers found and not yet fixed are listed in KNOWN_WRONG: their route's test
is an expected failure while they last, and fails once they stop (delete them then).
"""

import copy
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, Membership, Role, Team
from findings import services as finding_services
from findings import triage
from findings.models import Comment, ExceptionRule, Finding, FindingEvent, FindingStatus
from posture.models import (
    Cluster,
    IngestToken,
    NotificationDelivery,
    NotificationEndpoint,
    NotificationEvent,
    Scan,
    Snapshot,
)
from tests.api.helpers import token_for
from tests.factories import (
    TEST_PASSWORD,
    as_yaml,
    deployment,
    make_lifecycle_cluster,
    make_team,
    make_user,
    scan_snapshot,
)
from tests.security.routes import fill, resolver_routes

pytestmark = pytest.mark.django_db

ANON, VIEWER, ENGINEER, ADMIN, OTHER, SUPER = (
    "anonymous",
    "viewer",
    "engineer",
    "admin",
    "other_team",
    "superuser",
)
ROLES = (ANON, VIEWER, ENGINEER, ADMIN, OTHER, SUPER)
MEMBERS = (VIEWER, ENGINEER, ADMIN)
RANK = {VIEWER: 0, ENGINEER: 1, ADMIN: 2}
# Principals that are not users: each is an anonymous client with one bearer token.
INGEST = "ingest token of this cluster"
OTHER_INGEST = "ingest token of another cluster"
SCRAPER = "metrics scraper"
READONLY = "admin's read-only token"

# Every name, reason and comment of the team's data carries it; another team must never see it.
MARKER = "kx41"
LOGIN = 302  # a page's answer to anonymous: to the login form
UNAUTHENTICATED = 401  # the API's answer to anonymous
METRICS_TOKEN = "metrics-scraper-token-0123456789abcdef"
SNAPSHOT_YAML = as_yaml(deployment("pushed", namespace="agent"))


# --- The objects ------------------------------------------------------------------------------


@dataclass
class World:
    users: dict
    tokens: dict  # principal -> raw bearer token
    team: object
    other_team: object
    cluster: Cluster
    other_cluster: Cluster
    scan: Scan
    finding: Finding  # open
    acknowledged: Finding  # acknowledged, with history
    event: FindingEvent
    comment: Comment
    rule: ExceptionRule
    api_token: ApiToken  # the admin's own
    ingest_token: IngestToken
    endpoint: NotificationEndpoint
    delivery: NotificationDelivery
    membership: Membership  # the viewer's, in the team
    check_id: str = "privileged-container"
    anything: str = "no-such-endpoint/"

    @property
    def team_slug(self) -> str:  # the API names teams by slug
        return self.team.slug

    @property
    def member_username(self) -> str:  # and members by username
        return self.membership.user.username


@pytest.fixture
def world(settings):
    settings.RAMPART_METRICS_TOKEN = METRICS_TOKEN
    settings.RAMPART_NOTIFICATION_ALLOW_PRIVATE = True  # no DNS look-up for the webhook URL below
    # Exports and pushes have small budgets of their own; this table sends many of both.
    rates = {"anon": "100000/min", "user": "100000/min", "export": "100000/min", "ingest": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    team, other_team = make_team("Payments"), make_team("Search")
    users = {
        VIEWER: make_user(team, Role.VIEWER, username="vera"),
        ENGINEER: make_user(team, Role.ENGINEER, username="erin"),
        ADMIN: make_user(team, Role.ADMIN, username="ada"),
        OTHER: make_user(other_team, Role.ADMIN, username="otto"),
        SUPER: make_user(None, username="root", is_superuser=True, is_staff=True),
    }
    cluster = make_lifecycle_cluster(team, name=f"payments-prod-{MARKER}")
    scan = scan_snapshot(
        cluster,
        as_yaml(
            deployment(f"vault-{MARKER}", namespace=f"ledger-{MARKER}", privileged=True),
            deployment(f"api-{MARKER}", namespace=f"ledger-{MARKER}"),
        ),
    )
    found = list(Finding.objects.filter(cluster=cluster).order_by("id"))
    assert len(found) >= 2, "the snapshot must yield findings to triage"
    finding, acknowledged = found[0], found[1]
    triage.change_status(acknowledged, FindingStatus.ACKNOWLEDGED, actor=users[ENGINEER], reason="seen")
    comment = finding_services.add_comment(finding, author=users[ENGINEER], body=f"Looked at it {MARKER}")
    rule, _ = finding_services.create_exception_rule(
        ExceptionRule(
            team=team,
            cluster=cluster,
            check_ids=["run-as-root"],
            namespace_pattern="nothing-matches-*",
            reason=f"Accepted by the board {MARKER}",
            owner=users[ADMIN],
            expires_at=timezone.now() + timedelta(days=30),
        ),
        actor=users[ADMIN],
    )
    api_token, _ = ApiToken.issue(users[ADMIN], f"ci {MARKER}", scope=ApiToken.Scope.WRITE)
    ingest_token, ingest_raw = IngestToken.issue(cluster, f"agent {MARKER}", created_by=users[ADMIN])
    other_cluster = make_lifecycle_cluster(other_team, name="search-prod")
    _, other_ingest_raw = IngestToken.issue(other_cluster, "agent")
    endpoint = NotificationEndpoint(team=team, name=f"Pager {MARKER}")
    endpoint.set_url("https://hooks.internal.test/rampart")
    endpoint.save()
    delivery = NotificationDelivery.objects.create(
        endpoint=endpoint, event=NotificationEvent.SCAN_FAILED, dedupe_key="matrix", scan=scan
    )
    tokens = {role: token_for(user) for role, user in users.items()}
    tokens[READONLY] = token_for(users[ADMIN], ApiToken.Scope.READ)
    tokens.update({INGEST: ingest_raw, OTHER_INGEST: other_ingest_raw, SCRAPER: METRICS_TOKEN})
    return World(
        users=users,
        tokens=tokens,
        team=team,
        other_team=other_team,
        cluster=cluster,
        other_cluster=other_cluster,
        scan=scan,
        finding=finding,
        acknowledged=acknowledged,
        event=FindingEvent.objects.filter(finding=acknowledged).order_by("id").first(),
        comment=comment,
        rule=rule,
        api_token=api_token,
        ingest_token=ingest_token,
        endpoint=endpoint,
        delivery=delivery,
        membership=Membership.objects.get(team=team, user=users[VIEWER]),
    )


# --- How an entry is written --------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    expect: dict  # principal -> status
    data: Callable | None = None  # world -> body (form fields for pages, JSON for the API)
    query: str = ""
    path: str | None = None  # for the admin prefix: one concrete URL under it
    effect: Callable | None = None  # world -> True once the action has happened
    effect_for: frozenset = frozenset()
    auth: str | None = None  # "session" or "token"; default: token for /api/, session elsewhere
    raw: tuple[bytes, str] | None = None  # a non-JSON body and its content type


def expected(anon, ok, needs=VIEWER, other=404, superuser=None, **overrides) -> dict:
    """Members below ``needs`` are refused (403); another team's admin gets ``other``."""
    result = {ANON: anon, OTHER: other, SUPER: ok if superuser is None else superuser}
    for role in MEMBERS:
        result[role] = ok if RANK[role] >= RANK[needs] else 403
    result.update(overrides)
    return result


def allowed(needs) -> frozenset:
    return frozenset({role for role in MEMBERS if RANK[role] >= RANK[needs]} | {SUPER})


def everyone(status) -> dict:
    return dict.fromkeys(ROLES, status)


# Pages: the team's objects and the lists of everyone's own.
def page_of_object():
    return Case("GET", expected(LOGIN, 200))


def page_for_members():
    return Case("GET", expected(LOGIN, 200, other=200))


def page_action(needs, effect, data=None, ok=302, other=404, **kw):
    return Case(
        "POST",
        expected(LOGIN, ok, needs, other=other),
        data=data,
        effect=effect,
        effect_for=allowed(needs),
        **kw,
    )


# API: the same shapes with a token.
def api_of_object():
    return Case("GET", expected(UNAUTHENTICATED, 200))


def api_for_members(query=""):
    return Case("GET", expected(UNAUTHENTICATED, 200, other=200), query=query)


def api_filter_by_id(query):
    """A list filtered by one of the team's objects: someone who cannot see it gets what an unknown id
    gets (an empty 200; the matrix checks it holds none of the team's data), so ids reveal nothing."""
    return Case("GET", expected(UNAUTHENTICATED, 200, other=200), query=query)


def api_action(method, needs, ok, effect, data=None, other=404, **kw):
    return Case(
        method,
        expected(UNAUTHENTICATED, ok, needs, other=other),
        data=data,
        effect=effect,
        effect_for=allowed(needs),
        **kw,
    )


def status_of(attribute, status):
    def check(w):
        return Finding.objects.get(pk=getattr(w, attribute).pk).status == status

    return check


def acknowledged_now(w):
    return status_of("finding", FindingStatus.ACKNOWLEDGED)(w)


def reopened_now(w):
    return status_of("acknowledged", FindingStatus.OPEN)(w)


def assigned_now(w):
    return Finding.objects.get(pk=w.finding.pk).assignee_id == w.users[ENGINEER].pk


def commented_now(w):
    return Comment.objects.filter(finding=w.finding).exclude(pk=w.comment.pk).exists()


def cluster_field(name, value):
    return lambda w: getattr(Cluster.objects.get(pk=w.cluster.pk), name) == value


def paused_now(w):
    return Cluster.objects.get(pk=w.cluster.pk).paused_at is not None


def in_the_future(days=10):
    return (timezone.now() + timedelta(days=days)).isoformat()


def cluster_form(w, **changes):
    return {"name": w.cluster.name, "team": w.team.pk, "connection_mode": "snapshot", **changes}


def exception_form(w):
    return {
        "team": w.team.pk,
        "cluster": w.cluster.pk,
        "check_ids": ["host-network"],
        "reason": "Created through the form",
        "owner": w.users[ADMIN].pk,
        "expires": (timezone.localdate() + timedelta(days=20)).isoformat(),
    }


def snapshot_file(_w):
    return {"file": SimpleUploadedFile("cluster.yaml", SNAPSHOT_YAML, content_type="application/yaml")}


@dataclass(frozen=True)
class Entry:
    cases: tuple
    kwargs: dict = field(default_factory=dict)  # URL parameter -> World attribute


def entry(*cases, **kwargs) -> Entry:
    return Entry(cases=cases, kwargs=kwargs)


def _bulk_case(effect, needs=ENGINEER, data=lambda w: {"ids": [w.finding.pk]}):
    # Another team's ids are left out of a selection, as unknown ids are: 200 with nothing changed.
    return api_action("POST", needs, 200, effect, data=data, other=200)


PAGES = {
    "": entry(page_for_members()),
    "clusters/": entry(page_for_members()),
    "clusters/new/": entry(
        Case("GET", expected(LOGIN, 200, ADMIN, other=200)),
        # Another team's admin may register clusters, but not in this team: the form refuses the choice.
        page_action(
            ADMIN,
            lambda w: Cluster.objects.filter(name="registered-by-form").exists(),
            data=lambda w: cluster_form(w, name="registered-by-form"),
            other=200,
        ),
    ),
    "clusters/test-connection/": entry(
        page_action(ADMIN, None, data=lambda w: {"connection_mode": "snapshot"}, ok=200, other=200)
    ),
    "clusters/{pk}/": entry(page_of_object(), pk="cluster"),
    "clusters/{pk}/edit/": entry(
        Case("GET", expected(LOGIN, 200, ADMIN)),
        page_action(
            ADMIN,
            cluster_field("description", "edited"),
            data=lambda w: cluster_form(w, description="edited"),
        ),
        pk="cluster",
    ),
    "clusters/{pk}/test-connection/": entry(
        page_action(ADMIN, None, data=lambda w: {"connection_mode": "snapshot"}, ok=200), pk="cluster"
    ),
    "clusters/{pk}/scan/": entry(
        page_action(ENGINEER, lambda w: Scan.objects.filter(cluster=w.cluster).count() == 2),
        pk="cluster",
    ),
    "clusters/{pk}/pause/": entry(
        Case("GET", expected(LOGIN, 200, ADMIN)),
        page_action(ADMIN, paused_now, data=lambda w: {"reason": f"Maintenance window {MARKER}"}),
        pk="cluster",
    ),
    # The world's cluster is not paused: resuming it changes nothing for anyone, so only who may ask is
    # checked here (tests/ui/test_pausing_a_cluster.py resumes a paused one).
    "clusters/{pk}/resume/": entry(page_action(ADMIN, None), pk="cluster"),
    "clusters/{pk}/snapshot/": entry(
        page_action(
            ENGINEER,
            lambda w: Snapshot.objects.filter(cluster=w.cluster).count() == 2,
            data=snapshot_file,
        ),
        pk="cluster",
    ),
    # No refused snapshot waits in the world's cluster: its admins are told nothing changed.
    "clusters/{pk}/other-cluster/": entry(
        page_action(ADMIN, None, data=lambda w: {"decision": "accept"}), pk="cluster"
    ),
    "clusters/{pk}/agent/": entry(
        Case("GET", expected(LOGIN, 200, ADMIN)),
        page_action(
            ADMIN,
            lambda w: w.cluster.ingest_tokens.filter(name="issued in the matrix").exists(),
            data=lambda w: _agent_token_form(w),
            ok=201,
        ),
        pk="cluster",
    ),
    "clusters/{pk}/agent/tokens/{token_pk}/revoke/": entry(
        page_action(ADMIN, lambda w: IngestToken.objects.get(pk=w.ingest_token.pk).revoked_at is not None),
        pk="cluster",
        token_pk="ingest_token",
    ),
    "clusters/{pk}/delete/": entry(
        page_action(
            ADMIN,
            lambda w: not Cluster.objects.filter(pk=w.cluster.pk).exists(),
            data=lambda w: {"confirm_name": w.cluster.name},
        ),
        pk="cluster",
    ),
    "clusters/scans/{pk}/": entry(page_of_object(), pk="scan"),
    # Team admins only; each admin sees and adds endpoints of the teams they administer.
    "notifications/": entry(
        Case("GET", expected(LOGIN, 200, ADMIN, other=200)),
        Case(
            "POST",
            expected(LOGIN, 302, ADMIN, other=400),  # another team is not a choice in the form
            data=lambda w: {
                "name": "added in the matrix",
                "team": w.team.pk,
                "kind": "webhook",
                "url": "https://hooks.internal.test/matrix",
                "enabled": "on",
            },
            effect=lambda w: NotificationEndpoint.objects.filter(name="added in the matrix").exists(),
            effect_for=allowed(ADMIN),
        ),
    ),
    "notifications/{pk}/": entry(
        Case("GET", expected(LOGIN, 200, ADMIN)),
        page_action(
            ADMIN,
            lambda w: NotificationEndpoint.objects.get(pk=w.endpoint.pk).name == "renamed in the matrix",
            data=lambda w: {"name": "renamed in the matrix", "kind": "webhook", "enabled": "on"},
        ),
        pk="endpoint",
    ),
    "notifications/{pk}/toggle/": entry(
        page_action(ADMIN, lambda w: not NotificationEndpoint.objects.get(pk=w.endpoint.pk).enabled),
        pk="endpoint",
    ),
    "notifications/{pk}/delete/": entry(
        page_action(ADMIN, lambda w: not NotificationEndpoint.objects.filter(pk=w.endpoint.pk).exists()),
        pk="endpoint",
    ),
    "findings/": entry(
        page_for_members(),
        # Filtering by another team's cluster finds nothing, exactly as an unknown id does.
        Case("GET", expected(LOGIN, 200, other=200), query="cluster={cluster}"),
    ),
    "findings/bulk/": entry(
        # Another team's ids are left out of a selection, as unknown ids are: nothing changes.
        page_action(
            ENGINEER,
            acknowledged_now,
            data=lambda w: {"ids": [w.finding.pk], "action": "acknowledged"},
            other=302,
        )
    ),
    "findings/{pk}/": entry(page_of_object(), pk="finding"),
    "findings/{pk}/status/": entry(
        page_action(ENGINEER, acknowledged_now, data=lambda w: {"to_status": "acknowledged"}),
        pk="finding",
    ),
    "findings/{pk}/assign/": entry(
        page_action(ENGINEER, assigned_now, data=lambda w: {"assignee": w.users[ENGINEER].pk}),
        pk="finding",
    ),
    "findings/{pk}/comments/": entry(
        page_action(ENGINEER, commented_now, data=lambda w: {"body": "From the matrix"}), pk="finding"
    ),
    "findings/checks/": entry(page_for_members()),
    "findings/exceptions/": entry(page_for_members()),
    "findings/exceptions/new/": entry(
        Case("GET", expected(LOGIN, 200, ADMIN, other=200)),
        page_action(
            ADMIN,
            lambda w: ExceptionRule.objects.filter(reason="Created through the form").exists(),
            data=exception_form,
            other=200,
        ),
    ),
    "findings/exceptions/{pk}/revoke/": entry(
        page_action(ADMIN, lambda w: ExceptionRule.objects.get(pk=w.rule.pk).revoked_at is not None),
        pk="rule",
    ),
    # Accounts: the login steps are open to all; the rest is the user's own.
    "accounts/login/": entry(Case("GET", everyone(200))),
    "accounts/login/verify/": entry(Case("GET", everyone(302))),  # no login under way: back to the start
    "accounts/login/enrol/": entry(Case("GET", everyone(302))),
    "accounts/logout/": entry(Case("POST", everyone(302))),
    # Single sign-on is off unless configured: no such pages (tests/oidc tests them configured).
    "accounts/oidc/login/": entry(Case("GET", everyone(404))),
    "accounts/oidc/callback/": entry(Case("GET", everyone(404))),
    "accounts/security/": entry(page_for_members()),
    "accounts/security/mfa/enrol/": entry(page_for_members()),
    "accounts/security/mfa/disable/": entry(
        Case("POST", everyone(302), data=lambda w: {"disable-password": TEST_PASSWORD})
    ),
    "accounts/security/mfa/recovery-codes/": entry(
        Case("POST", everyone(302), data=lambda w: {"regenerate-password": TEST_PASSWORD})
    ),
    "accounts/password/": entry(page_for_members()),
    # Everyone lists the teams they are in; superusers create teams.
    "accounts/teams/": entry(
        Case("GET", {**everyone(200), ANON: LOGIN}),
        Case(
            "POST",
            {**everyone(403), ANON: LOGIN, SUPER: 302},
            data=lambda w: {"name": "made in the matrix"},
            effect=lambda w: Team.objects.filter(name="made in the matrix").exists(),
            effect_for=frozenset({SUPER}),
        ),
    ),
    # A team's members see it; its admins change it; another team's admin finds nothing.
    "accounts/teams/{pk}/": entry(page_of_object(), pk="team"),
    "accounts/teams/{pk}/members/": entry(
        page_action(
            ADMIN,
            lambda w: Membership.objects.filter(team=w.team, user=w.users[OTHER]).exists(),
            data=lambda w: {"username": w.users[OTHER].username, "role": "viewer"},
        ),
        pk="team",
    ),
    "accounts/teams/{pk}/members/{member_pk}/role/": entry(
        page_action(
            ADMIN,
            lambda w: Membership.objects.get(pk=w.membership.pk).role == Role.ENGINEER,
            data=lambda w: {"role": "engineer"},
        ),
        pk="team",
        member_pk="membership",
    ),
    "accounts/teams/{pk}/members/{member_pk}/remove/": entry(
        page_action(ADMIN, lambda w: not Membership.objects.filter(pk=w.membership.pk).exists()),
        pk="team",
        member_pk="membership",
    ),
    "accounts/tokens/": entry(
        page_for_members(),
        Case(
            "POST",
            {**everyone(201), ANON: LOGIN},
            data=lambda w: _token_form,
            effect=lambda w: ApiToken.objects.filter(name="made in the matrix").exists(),
            effect_for=frozenset(ROLES) - {ANON},
        ),
    ),
    # A personal token is its owner's alone (the team admin's here): 404 for everybody else.
    "accounts/tokens/{pk}/revoke/": entry(
        Case(
            "POST",
            {**everyone(404), ANON: LOGIN, ADMIN: 302},
            effect=lambda w: ApiToken.objects.get(pk=w.api_token.pk).revoked_at is not None,
            effect_for=frozenset({ADMIN}),
        ),
        pk="api_token",
    ),
    # The audit log spans every team: superusers (or holders of accounts.view_auditevent) only.
    "accounts/audit/": entry(Case("GET", {**everyone(403), ANON: LOGIN, SUPER: 200})),
    "accounts/audit/export.csv": entry(Case("GET", {**everyone(403), ANON: LOGIN, SUPER: 200})),
    # The site icon, for pages that link none (the admin's): public, like the static files.
    "favicon.ico": entry(Case("GET", everyone(301))),
    # Operators: the metrics endpoint exists only for the scraper's token.
    "metrics": entry(Case("GET", {**everyone(404), SCRAPER: 200})),
    # To Rampart's own login, second factor included; a signed-in user who is not staff is refused.
    "admin/login/": entry(Case("GET", {**everyone(403), ANON: 302, SUPER: 302})),
    "admin/*": entry(
        Case("GET", {**everyone(302), SUPER: 200}, path="admin/"),
        Case("GET", {**everyone(302), SUPER: 200}, path="admin/accounts/totpdevice/"),
        Case("GET", {**everyone(302), SUPER: 200}, path="admin/posture/notificationendpoint/"),
    ),
}

API = {
    "api/v1/": entry(api_for_members()),
    "api/v1/{anything}": entry(Case("GET", everyone(404))),
    "api/schema/": entry(Case("GET", everyone(200))),  # public, as tests/api/test_schema_and_docs.py says
    "api/docs/": entry(Case("GET", everyone(200))),
    "api/v1/trends/": entry(api_for_members(), Case("GET", expected(401, 200), query="cluster={cluster}")),
    "api/v1/summary/": entry(api_for_members(), Case("GET", expected(401, 200), query="cluster={cluster}")),
    # The agent's push takes the cluster's ingest token and nothing else.
    "api/v1/clusters/{pk}/snapshots": entry(
        Case(
            "POST",
            {**everyone(401), INGEST: 202, OTHER_INGEST: 403, READONLY: 401},
            raw=(SNAPSHOT_YAML, "application/yaml"),
            effect=lambda w: Snapshot.objects.filter(cluster=w.cluster).count() == 2,
            effect_for=frozenset({INGEST}),
        ),
        pk="cluster",
    ),
    "api/v1/clusters/": entry(
        api_for_members(),
        # Naming a team one is not in is as if the team did not exist (400), not a 403 that confirms it.
        api_action(
            "POST",
            ADMIN,
            201,
            lambda w: Cluster.objects.filter(name="registered-by-api").exists(),
            data=lambda w: {"name": "registered-by-api", "team": w.team.slug, "connection_mode": "snapshot"},
            other=400,
        ),
    ),
    "api/v1/clusters/{pk}/": entry(
        api_of_object(),
        api_action(
            "PATCH",
            ADMIN,
            200,
            cluster_field("description", "patched"),
            data=lambda w: {"description": "patched"},
        ),
        api_action(
            "PUT",
            ADMIN,
            200,
            cluster_field("description", "put"),
            data=lambda w: {
                "name": w.cluster.name,
                "team": w.team.slug,
                "connection_mode": "snapshot",
                "description": "put",
            },
        ),
        api_action("DELETE", ADMIN, 204, lambda w: not Cluster.objects.filter(pk=w.cluster.pk).exists()),
        pk="cluster",
    ),
    "api/v1/clusters/{pk}/ingest-tokens/": entry(
        Case("GET", expected(401, 200, ADMIN)),
        api_action(
            "POST",
            ADMIN,
            201,
            lambda w: w.cluster.ingest_tokens.count() == 2,
            data=lambda w: {"name": "second agent"},
        ),
        pk="cluster",
    ),
    "api/v1/clusters/{pk}/ingest-tokens/{token_pk}/": entry(
        api_action(
            "DELETE",
            ADMIN,
            204,
            lambda w: IngestToken.objects.get(pk=w.ingest_token.pk).revoked_at is not None,
        ),
        pk="cluster",
        token_pk="ingest_token",
    ),
    # The world's cluster is a snapshot cluster: its admins are told there is nothing to test (409).
    "api/v1/clusters/{pk}/test-connection/": entry(api_action("POST", ADMIN, 409, None), pk="cluster"),
    "api/v1/clusters/{pk}/accept-other-cluster/": entry(api_action("POST", ADMIN, 409, None), pk="cluster"),
    "api/v1/clusters/{pk}/dismiss-other-cluster/": entry(api_action("POST", ADMIN, 409, None), pk="cluster"),
    "api/v1/clusters/{pk}/pause/": entry(
        api_action("POST", ADMIN, 200, paused_now, data=lambda w: {"reason": f"Maintenance window {MARKER}"}),
        pk="cluster",
    ),
    # As on the page: the world's cluster is not paused, so resuming changes nothing.
    "api/v1/clusters/{pk}/resume/": entry(api_action("POST", ADMIN, 200, None), pk="cluster"),
    "api/v1/clusters/{pk}/scan/": entry(
        api_action("POST", ENGINEER, 202, lambda w: Scan.objects.filter(cluster=w.cluster).count() == 2),
        pk="cluster",
    ),
    "api/v1/scans/": entry(api_for_members(), api_filter_by_id("cluster={cluster}")),
    "api/v1/scans/{pk}/": entry(api_of_object(), pk="scan"),
    "api/v1/findings/": entry(api_for_members(), api_for_members(query="cluster={cluster}")),
    "api/v1/findings/{pk}/": entry(api_of_object(), pk="finding"),
    "api/v1/findings/{pk}/acknowledge/": entry(
        api_action("POST", ENGINEER, 200, acknowledged_now), pk="finding"
    ),
    "api/v1/findings/{pk}/accept-risk/": entry(
        api_action(
            "POST",
            ENGINEER,
            200,
            status_of("finding", FindingStatus.RISK_ACCEPTED),
            data=lambda w: {"reason": "until the migration", "until": in_the_future()},
        ),
        pk="finding",
    ),
    "api/v1/findings/{pk}/false-positive/": entry(
        api_action(
            "POST",
            ENGINEER,
            200,
            status_of("finding", FindingStatus.FALSE_POSITIVE),
            data=lambda w: {"reason": "not ours"},
        ),
        pk="finding",
    ),
    "api/v1/findings/{pk}/reopen/": entry(api_action("POST", ENGINEER, 200, reopened_now), pk="acknowledged"),
    "api/v1/findings/{pk}/assign/": entry(
        api_action("POST", ENGINEER, 200, assigned_now, data=lambda w: {"assignee": "erin"}),
        pk="finding",
    ),
    "api/v1/findings/{pk}/comments/": entry(
        api_of_object(),
        api_action("POST", ENGINEER, 201, commented_now, data=lambda w: {"body": "From the matrix"}),
        pk="finding",
    ),
    "api/v1/findings/{pk}/history/": entry(api_of_object(), pk="acknowledged"),
    "api/v1/findings/bulk-acknowledge/": entry(_bulk_case(acknowledged_now)),
    "api/v1/findings/bulk-accept-risk/": entry(
        _bulk_case(
            status_of("finding", FindingStatus.RISK_ACCEPTED),
            data=lambda w: {"ids": [w.finding.pk], "reason": "later", "until": in_the_future()},
        )
    ),
    "api/v1/findings/bulk-false-positive/": entry(
        _bulk_case(
            status_of("finding", FindingStatus.FALSE_POSITIVE),
            data=lambda w: {"ids": [w.finding.pk], "reason": "not ours"},
        )
    ),
    "api/v1/findings/bulk-reopen/": entry(
        _bulk_case(reopened_now, data=lambda w: {"ids": [w.acknowledged.pk]})
    ),
    "api/v1/findings/bulk-assign/": entry(
        _bulk_case(assigned_now, data=lambda w: {"ids": [w.finding.pk], "assignee": "erin"})
    ),
    "api/v1/findings/bulk-comment/": entry(
        _bulk_case(commented_now, data=lambda w: {"ids": [w.finding.pk], "body": "From the matrix"})
    ),
    "api/v1/findings/export/csv/": entry(api_for_members()),
    "api/v1/findings/export/json/": entry(api_for_members()),
    "api/v1/checks/": entry(api_for_members()),
    "api/v1/checks/{pk}/": entry(api_for_members(), pk="check_id"),  # the catalogue is the same for all
    "api/v1/exceptions/": entry(
        api_for_members(),
        api_filter_by_id("cluster={cluster}"),
        # A cluster of another team in the body is refused as an unknown id would be.
        api_action(
            "POST",
            ADMIN,
            201,
            lambda w: ExceptionRule.objects.filter(reason="Created through the API").exists(),
            data=lambda w: {
                "cluster": w.cluster.pk,
                "check_ids": ["host-network"],
                "reason": "Created through the API",
                "owner": "ada",
                "expires_at": in_the_future(),
            },
            other=400,
        ),
    ),
    "api/v1/exceptions/{pk}/": entry(
        api_of_object(),
        api_action(
            "DELETE", ADMIN, 204, lambda w: ExceptionRule.objects.get(pk=w.rule.pk).revoked_at is not None
        ),
        pk="rule",
    ),
    "api/v1/comments/": entry(
        api_for_members(),
        api_filter_by_id("finding={finding}"),
        api_action(
            "POST",
            ENGINEER,
            201,
            commented_now,
            data=lambda w: {"finding": w.finding.pk, "body": "From the matrix"},
            other=400,
        ),
    ),
    "api/v1/comments/{pk}/": entry(api_of_object(), pk="comment"),
    "api/v1/history/": entry(
        api_for_members(), api_filter_by_id("finding={finding}"), api_filter_by_id("scan={scan}")
    ),
    "api/v1/history/{pk}/": entry(api_of_object(), pk="event"),
    "api/v1/tokens/": entry(
        api_for_members(),
        # A token never mints another token: issuing needs the browser session.
        Case("POST", {**everyone(403), ANON: 401}, data=lambda w: {"name": "minted"}),
        Case(
            "POST",
            {**everyone(201), ANON: 401},
            data=lambda w: {"name": "made in the matrix"},
            auth="session",
            effect=lambda w: ApiToken.objects.filter(name="made in the matrix").exists(),
            effect_for=frozenset(ROLES) - {ANON},
        ),
    ),
    "api/v1/tokens/{pk}/": entry(
        Case("GET", {**everyone(404), ANON: 401, ADMIN: 200}),
        Case(
            "DELETE",
            {**everyone(404), ANON: 401, ADMIN: 204},
            effect=lambda w: ApiToken.objects.get(pk=w.api_token.pk).revoked_at is not None,
            effect_for=frozenset({ADMIN}),
        ),
        pk="api_token",
    ),
    # Teams over the API, as on the Teams page: members read, admins manage members, superusers
    # create teams; another team's admin finds nothing.
    "api/v1/teams/": entry(
        api_for_members(),
        Case(
            "POST",
            {**everyone(403), ANON: UNAUTHENTICATED, SUPER: 201},
            data=lambda w: {"name": "made in the matrix"},
            effect=lambda w: Team.objects.filter(name="made in the matrix").exists(),
            effect_for=frozenset({SUPER}),
        ),
    ),
    "api/v1/teams/{slug}/": entry(api_of_object(), slug="team_slug"),
    "api/v1/teams/{slug}/members/": entry(
        api_action(
            "POST",
            ADMIN,
            201,
            lambda w: Membership.objects.filter(team=w.team, user=w.users[OTHER]).exists(),
            data=lambda w: {"username": w.users[OTHER].username, "role": "viewer"},
        ),
        slug="team_slug",
    ),
    "api/v1/teams/{slug}/members/{username}/": entry(
        api_action(
            "PATCH",
            ADMIN,
            200,
            lambda w: Membership.objects.get(pk=w.membership.pk).role == Role.ENGINEER,
            data=lambda w: {"role": "engineer"},
        ),
        api_action(
            "DELETE", ADMIN, 204, lambda w: not Membership.objects.filter(pk=w.membership.pk).exists()
        ),
        slug="team_slug",
        username="member_username",
    ),
    # Notifications are the team admins' business: nobody else even sees that they exist.
    "api/v1/notification-endpoints/": entry(
        api_for_members(),
        api_action(
            "POST",
            ADMIN,
            201,
            lambda w: NotificationEndpoint.objects.filter(name="added by the matrix").exists(),
            data=lambda w: {
                "team": w.team.slug,
                "name": "added by the matrix",
                "kind": "webhook",
                "url": "https://hooks.internal.test/new",
            },
            other=400,
        ),
    ),
    "api/v1/notification-endpoints/{pk}/": entry(
        Case("GET", expected(401, 200, ADMIN, viewer=404, engineer=404)),
        Case(
            "PATCH",
            expected(401, 200, ADMIN, viewer=404, engineer=404),
            data=lambda w: {"name": "renamed"},
            effect=lambda w: NotificationEndpoint.objects.get(pk=w.endpoint.pk).name == "renamed",
            effect_for=allowed(ADMIN),
        ),
        Case(
            "DELETE",
            expected(401, 204, ADMIN, viewer=404, engineer=404),
            effect=lambda w: not NotificationEndpoint.objects.filter(pk=w.endpoint.pk).exists(),
            effect_for=allowed(ADMIN),
        ),
        pk="endpoint",
    ),
    "api/v1/notification-deliveries/": entry(
        api_for_members(),
        Case(
            "GET", expected(401, 200, ADMIN, viewer=200, engineer=200, other=200), query="endpoint={endpoint}"
        ),
    ),
    "api/v1/notification-deliveries/{pk}/": entry(
        Case("GET", expected(401, 200, ADMIN, viewer=404, engineer=404)), pk="delivery"
    ),
}

# Answered by a middleware before any URL pattern (kubelet probes): open to all, and they say only "ok".
PROBES = {
    "healthz": entry(Case("GET", everyone(200))),
    "readyz": entry(Case("GET", everyone(200))),
}

MATRIX = {**PAGES, **API, **PROBES}


# --- Wrong answers found and not fixed yet --------------------------------------------------------


@dataclass(frozen=True)
class Known:
    """A wrong answer the table has found; None matches anything. Reported, not accepted: the test
    fails as soon as it no longer happens (then delete it here)."""

    why: str
    method: str | None = None
    principals: frozenset | None = None
    twin: bool | None = None  # only the .json twin (True) or only the plain URL (False)
    query: str | None = None  # only requests with this query parameter

    def matches(self, method: str, principal: str, twin: bool, url: str) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.query is None or f"?{self.query}=" in url)
            and (self.principals is None or principal in self.principals)
            and (self.twin is None or self.twin == twin)
        )


# Wrong answers found and not yet fixed go here (route key -> [Known(...)]). The API's .json
# twins that answered 500, the team-slug oracle on create and the id oracles of the list
# filters were found this way and are fixed.
KNOWN_WRONG: dict[str, list[Known]] = {}


# --- The resolver's routes ----------------------------------------------------------------------

ROUTES = resolver_routes()


def test_the_matrix_lists_exactly_the_routes_rampart_serves():
    served, listed = set(ROUTES), set(MATRIX) - set(PROBES)
    missing = [f"new route {key!r}: add it to the authorization matrix" for key in sorted(served - listed)]
    stale = [f"route {key!r} is gone: remove it from the matrix" for key in sorted(listed - served)]
    assert not missing + stale, "\n".join(missing + stale)


# --- Asking ---------------------------------------------------------------------------------------


class Principals:
    """A logged-in client per user (its cookies put back before every request), or a bearer token."""

    def __init__(self, world: World):
        self.world = world
        self.sessions = {}
        for role in ROLES:
            client = Client(raise_request_exception=False)  # a 500 is an answer to report
            if role != ANON:
                client.force_login(world.users[role])
            self.sessions[role] = (client, copy.deepcopy(client.cookies))

    def ask(self, principal: str, auth: str, case: Case, url: str):
        if auth == "session" and principal in self.sessions:
            client, cookies = self.sessions[principal]
            client.cookies = copy.deepcopy(cookies)  # a logout or a new session key is rolled back too
            headers = {}
        else:
            client = Client(raise_request_exception=False)
            token = self.world.tokens.get(principal)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
        if case.raw is not None:
            return client.generic(case.method, url, case.raw[0], content_type=case.raw[1], headers=headers)
        body = case.data(self.world) if case.data else {}
        if callable(body):  # a form that must first be rendered for this session
            body = body(client)
        if case.method == "GET":
            return client.get(url, headers=headers)
        if url.startswith("/api/"):
            return client.generic(
                case.method, url, json.dumps(body), content_type="application/json", headers=headers
            )
        return client.post(url, body, headers=headers)


def _token_form(client) -> dict:
    # The tokens form carries a one-time value from its rendering (a reload must not re-send it).
    page = client.get("/accounts/tokens/")
    once = page.context["once"] if page.status_code == 200 else ""
    return {"name": "made in the matrix", "scope": "read", "once": once}


def _agent_token_form(w):
    def form(client) -> dict:
        # As the tokens form: a one-time value from the page's rendering.
        page = client.get(f"/clusters/{w.cluster.pk}/agent/")
        once = page.context["once"] if page.status_code == 200 else ""
        return {"name": "issued in the matrix", "once": once}

    return form


def expectations(case: Case, auth: str) -> dict:
    """The case's table row, plus the admin's read-only token on every tokened API request:
    it reads what the admin reads and writes nothing (403), wherever it is."""
    result = dict(case.expect)
    if auth == "token" and READONLY not in result:
        result[READONLY] = case.expect[ADMIN] if case.method == "GET" else 403
    return result


def _url(key: str, entry: Entry, case: Case, world: World, twin: str | None) -> str:
    if case.path is not None:
        return "/" + case.path
    values = {}
    for name, attribute in {**entry.kwargs, "anything": "anything"}.items():
        value = getattr(world, attribute)
        values[name] = getattr(value, "pk", value)
    path = fill(key, values, twin)
    objects = ("cluster", "finding", "scan", "endpoint")
    query = case.query.format(**{name: getattr(world, name).pk for name in objects})
    return f"{path}?{query}" if query else path


@pytest.mark.parametrize("key", sorted(MATRIX), ids=lambda key: key or "/")
def test_every_route_answers_each_principal_as_the_matrix_says(key, world):
    if key not in ROUTES and key not in PROBES:
        pytest.skip(f"{key!r} is not served (see the coverage test)")
    entry, asker = MATRIX[key], Principals(world)
    known_here = KNOWN_WRONG.get(key, [])
    wrong, known, seen = [], Counter(), set()
    for case in entry.cases:
        auth = case.auth or ("token" if key.startswith("api/") else "session")
        for twin in (None, ROUTES[key]) if ROUTES.get(key) else (None,):
            url = _url(key, entry, case, world, twin)
            for principal, want in expectations(case, auth).items():
                with transaction.atomic():
                    response = asker.ask(principal, auth, case, url)
                    body = b"".join(response.streaming_content) if response.streaming else response.content
                    happened = case.effect(world) if case.effect else None
                    transaction.set_rollback(True)
                for problem in _judge(case, principal, want, response, body, happened, url):
                    line = f"{case.method} {url} as {principal}: {problem}"
                    excuse = next(
                        (k for k in known_here if k.matches(case.method, principal, twin is not None, url)),
                        None,
                    )
                    if excuse is None:
                        wrong.append(line)
                    else:
                        known[excuse.why] += 1
                        seen.add(excuse)
    fixed = [f"no longer happens, delete it from KNOWN_WRONG: {k.why}" for k in known_here if k not in seen]
    assert not wrong + fixed, "\n".join(wrong + fixed)
    if known:
        pytest.xfail("; ".join(f"{why} ({count} answers)" for why, count in known.items()))


def _judge(case: Case, principal: str, want: int, response, body: bytes, happened, url: str) -> list[str]:
    problems = []
    if response.status_code != want:
        problems.append(f"answered {response.status_code}, expected {want}")
    if principal == ANON and response.status_code == 302 and not url.startswith("/admin/"):
        location = response.get("Location", "")
        if not location.startswith("/accounts/login/"):
            problems.append(f"sent to {location}, not to the login")
    if happened is not None and happened != (principal in case.effect_for):
        problems.append("the action took effect" if happened else "the action did not take effect")
    if principal in (ANON, OTHER, OTHER_INGEST) and MARKER.encode() in body:
        problems.append(f"the answer shows the team's data ({MARKER!r} in it)")
    return problems
