"""Team roles from the provider's groups, brought up to date at each login; memberships granted by
hand in Rampart are left alone."""

import re

import pytest
from django.contrib.auth import get_user_model

from accounts import teams
from accounts.models import AuditEvent, Membership, Role
from tests.factories import make_team, make_user
from tests.oidc.conftest import is_logged_in, sso_login

MAPPING = {
    "k8s-payments-admins": {"payments": "admin"},
    "k8s-readers": {"payments": "viewer", "search": "viewer"},
    "k8s-search-engineers": {"search": "engineer"},
}


@pytest.fixture
def mapped(idp, settings):
    settings.RAMPART_OIDC_TEAM_ROLES = MAPPING
    return {"payments": make_team("Payments"), "search": make_team("Search"), "ops": make_team("Ops")}


def roles(username="alice") -> dict:
    return {
        m.team.slug: (m.role, m.source)
        for m in Membership.objects.filter(user__username=username).select_related("team")
    }


def log_in_with_groups(client, idp, groups):
    client.logout()
    idp.user = {**idp.user, "groups": groups}
    sso_login(client)
    assert is_logged_in(client)


def test_groups_grant_the_highest_role_they_map_to(client, idp, mapped):
    log_in_with_groups(client, idp, ["k8s-readers", "k8s-search-engineers", "unmapped-group"])
    assert roles() == {"payments": ("viewer", "sso"), "search": ("engineer", "sso")}
    added = AuditEvent.objects.filter(action="membership.added").order_by("target_label")
    assert [(e.target_label, e.details["role"], e.details["source"]) for e in added] == [
        ("Payments", "viewer", "sso"),
        ("Search", "engineer", "sso"),
    ]
    assert all(event.actor is None for event in added)  # the provider decided, nobody in Rampart


def test_roles_are_raised_lowered_and_removed_with_the_groups(client, idp, mapped):
    log_in_with_groups(client, idp, ["k8s-readers"])
    log_in_with_groups(client, idp, ["k8s-readers", "k8s-payments-admins"])
    assert roles() == {"payments": ("admin", "sso"), "search": ("viewer", "sso")}
    log_in_with_groups(client, idp, ["k8s-search-engineers"])
    assert roles() == {"search": ("engineer", "sso")}
    changes = [
        (
            e.action,
            e.target_label,
            e.details.get("from_role"),
            e.details.get("to_role") or e.details.get("role"),
        )
        for e in AuditEvent.objects.filter(action__startswith="membership.").order_by("id")
    ]
    assert changes[2:] == [
        ("membership.role_changed", "Payments", "viewer", "admin"),
        ("membership.role_changed", "Search", "viewer", "engineer"),
        ("membership.removed", "Payments", None, "admin"),
    ]
    log_in_with_groups(client, idp, [])
    assert roles() == {}


def test_memberships_granted_by_hand_are_left_alone(client, idp, mapped):
    log_in_with_groups(client, idp, [])
    alice = get_user_model().objects.get(username="alice")
    Membership.objects.create(team=mapped["ops"], user=alice, role=Role.ADMIN)
    Membership.objects.create(team=mapped["payments"], user=alice, role=Role.ENGINEER)
    log_in_with_groups(client, idp, ["k8s-payments-admins"])  # would make her an admin of Payments
    log_in_with_groups(client, idp, [])  # would take Payments away
    assert roles() == {"ops": ("admin", "manual"), "payments": ("engineer", "manual")}
    assert not AuditEvent.objects.filter(action__startswith="membership.").exists()


def test_a_role_a_team_admin_changes_by_hand_is_theirs_from_then_on(client, idp, mapped):
    log_in_with_groups(client, idp, ["k8s-readers"])
    lead = make_user(mapped["payments"], Role.ADMIN, username="lead")
    membership = Membership.objects.get(user__username="alice", team=mapped["payments"])
    teams.change_role(membership, Role.ENGINEER, actor=lead)
    log_in_with_groups(client, idp, [])
    assert roles() == {"payments": ("engineer", "manual")}


def test_a_team_deleted_since_start_up_is_skipped(client, idp, mapped):
    mapped["search"].delete()
    log_in_with_groups(client, idp, ["k8s-readers"])
    assert roles() == {"payments": ("viewer", "sso")}


def test_groups_from_another_claim(client, idp, mapped, settings):
    settings.RAMPART_OIDC_GROUPS_CLAIM = "roles"
    client.logout()
    idp.user = {**idp.user, "roles": ["k8s-payments-admins"], "groups": ["k8s-readers"]}
    sso_login(client)
    assert roles() == {"payments": ("admin", "sso")}


def test_groups_only_the_userinfo_carries_count_too(client, idp, mapped):
    idp.userinfo_extra = {"groups": ["k8s-payments-admins"]}  # as providers that keep ID tokens small do
    sso_login(client)
    assert roles() == {"payments": ("admin", "sso")}


def test_the_userinfo_cannot_speak_for_another_subject(client, idp, mapped):
    idp.userinfo_extra = {"sub": "someone-else", "groups": ["k8s-payments-admins"]}
    sso_login(client)
    assert roles() == {}


def test_the_team_page_says_which_memberships_come_from_sso(client, idp, mapped):
    hand_made = make_user(mapped["payments"], Role.ENGINEER, username="bob")
    log_in_with_groups(client, idp, ["k8s-payments-admins"])  # alice, admin of Payments by SSO

    page = client.get(f"/accounts/teams/{mapped['payments'].pk}/").text

    rows = dict(re.findall(r"<tr>\s*<td>(\w+)(.*?)</td>", page, re.S))
    assert "from SSO" in rows["alice"]
    assert "from SSO" not in rows[hand_made.username]
