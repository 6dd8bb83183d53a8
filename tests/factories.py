"""Small builders for test data. Plain functions; no factory library needed."""

import itertools

import orjson
import yaml
from django.contrib.auth import get_user_model

from accounts.models import Membership, Role, Team
from posture import services
from posture.models import Cluster, ConnectionMode
from posture.scanning.checks import load_catalogue

_counter = itertools.count(1)

TEST_PASSWORD = "correct-horse-battery-staple"


def make_team(name: str | None = None) -> Team:
    n = next(_counter)
    name = name or f"team-{n}"
    return Team.objects.create(name=name, slug=name.lower().replace(" ", "-"))


def make_user(team: Team | None = None, role: str = Role.VIEWER, username: str | None = None, **extra):
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_counter)}", password=TEST_PASSWORD, **extra
    )
    if team is not None:
        Membership.objects.create(team=team, user=user, role=role)
    return user


def make_cluster(team: Team, name: str | None = None, **fields) -> Cluster:
    fields.setdefault("connection_mode", ConnectionMode.SNAPSHOT)
    return services.save_cluster(Cluster(name=name or f"cluster-{next(_counter)}", team=team, **fields))


def deployment(name="web", namespace="shop", *, hardened=False, privileged=False, containers=None) -> dict:
    """A Deployment; ``hardened`` passes the four security-context checks."""
    security = (
        {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False}
        if hardened
        else {}
    )
    if privileged:
        security["privileged"] = True
    container = {"name": name, "image": f"registry.example.com/{name}:1.0"}
    if security:
        container["securityContext"] = security
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": containers or [container]}},
        },
    }


def as_yaml(*objects: dict) -> bytes:
    return yaml.safe_dump_all(objects, sort_keys=False).encode()


def as_json_list(*objects: dict) -> bytes:
    return orjson.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)})


def scan_snapshot(cluster: Cluster, data: bytes, now=None):
    """Upload a snapshot and run its scan in this process; returns the finished scan."""
    snapshot = services.store_snapshot(cluster, data)
    scan = services.start_scan(cluster, snapshot=snapshot, enqueue=False, at=now)
    return services.run_scan(scan.pk, now=now)


def accept_risk(finding, actor, on_commit, days: int = 9) -> None:
    """Accept a finding's risk for ``days`` as an engineer does; ``on_commit`` is pytest-django's
    django_capture_on_commit_callbacks, since the scan summary's recount runs on commit."""
    from datetime import timedelta

    from django.utils import timezone

    from findings import triage

    with on_commit(execute=True):
        triage.change_status(
            finding,
            "risk_accepted",
            actor=actor,
            reason="batch job",
            until=timezone.now() + timedelta(days=days),
        )


def privileged_finding(cluster: Cluster, namespace: str = "shop"):
    """Scan one privileged Deployment "web" into the cluster; its privileged-container finding."""
    from findings.models import Finding

    scan_snapshot(cluster, as_yaml(deployment("web", namespace=namespace, privileged=True)))
    return Finding.objects.get(cluster=cluster, check_id="privileged-container")


# The blueprint's security-context trio plus privileged: lifecycle tests run only
# these, so that they count findings of a known set whatever the catalogue grows to.
SECURITY_CONTEXT_CHECKS = [
    "privileged-container",
    "run-as-root",
    "no-readonly-rootfs",
    "allow-privilege-escalation",
]


def make_lifecycle_cluster(team: Team, name: str | None = None, **fields) -> Cluster:
    """A cluster whose every other check is switched off, as its settings page would do it."""
    others = sorted({check.id for check in load_catalogue()} - set(SECURITY_CONTEXT_CHECKS))
    return make_cluster(team, name=name, check_settings={"disabled": others}, **fields)


def create_token_on_page(client, **form):
    """Submit the API tokens page's form as a browser does: with the one-time value it was rendered with."""
    once = client.get("/accounts/tokens/").context["once"]
    return client.post("/accounts/tokens/", {**form, "once": once})
