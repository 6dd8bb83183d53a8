"""Teams over the API: members read their teams, team admins manage members, superusers create teams.

The API allows exactly what the Teams page allows, through the same services (accounts.teams):
another team is not found, a team keeps its last admin, every change is audited as the page's.
"""

import re

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from rest_framework.settings import api_settings

from accounts.models import ApiToken, AuditEvent, Membership, Role, Team
from tests.api.helpers import Api, assert_error, token_for
from tests.factories import make_cluster, make_user

pytestmark = pytest.mark.django_db

TEAMS = "/api/v1/teams/"
PAYMENTS = "/api/v1/teams/payments/"
MEMBERS = "/api/v1/teams/payments/members/"
LAST_ADMIN = "A team needs at least one admin: make someone else an admin first."


def member(username: str) -> str:
    return f"{MEMBERS}{username}/"


@pytest.fixture
def root(db):
    return make_user(None, username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def alice(db):
    """An account in no team yet."""
    return make_user(None, username="alice")


def role_of(user, team) -> str | None:
    return Membership.objects.filter(user=user, team=team).values_list("role", flat=True).first()


# --- reading -------------------------------------------------------------------------------------


def test_members_list_their_own_teams_with_their_role_and_the_counts(
    api, viewer, engineer, admin_user, outsider, team
):
    make_cluster(team, name="prod-eu")
    make_cluster(team, name="prod-us")
    body = api(viewer).get(TEAMS).json()
    assert body["count"] == 1
    assert body["results"] == [
        {"slug": "payments", "name": "Payments", "role": "viewer", "member_count": 3, "cluster_count": 2}
    ]
    assert [row["role"] for row in api(admin_user).get(TEAMS).json()["results"]] == ["admin"]
    assert [row["slug"] for row in api(outsider).get(TEAMS).json()["results"]] == ["search"]
    assert api(make_user(None, username="loner")).get(TEAMS).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_superusers_list_every_team_with_no_role_where_they_are_not_members(api, root, viewer, outsider):
    rows = api(root).get(TEAMS).json()["results"]
    assert [(row["slug"], row["role"], row["member_count"]) for row in rows] == [
        ("payments", None, 1),
        ("search", None, 1),
    ]


def test_the_list_is_paginated_and_ordered_like_the_other_lists(api, root, team):
    for name, size in (("Alpha", 3), ("Beta", 1), ("Gamma", 2)):
        other = Team.objects.create(name=name, slug=name.lower())
        for _ in range(size):
            make_user(other, Role.VIEWER)
    client = api(root)
    first = client.get(TEAMS, {"page_size": 2}).json()
    assert (first["count"], [row["name"] for row in first["results"]]) == (4, ["Alpha", "Beta"])
    assert "page=2" in first["next"]
    second = client.get(TEAMS, {"page_size": 2, "page": 2}).json()
    assert [row["name"] for row in second["results"]] == ["Gamma", "Payments"]
    by_size = client.get(TEAMS, {"ordering": "-member_count"}).json()["results"]
    assert [row["name"] for row in by_size] == ["Alpha", "Gamma", "Beta", "Payments"]
    by_name = client.get(TEAMS, {"ordering": "-name"}).json()["results"]
    assert [row["name"] for row in by_name] == ["Payments", "Gamma", "Beta", "Alpha"]
    error = assert_error(client.get(TEAMS, {"ordering": "role"}), 400, "invalid")
    assert error["fields"] == {
        "ordering": ["One of: name, member_count, cluster_count; with a leading - for descending order."]
    }


def test_every_member_reads_the_team_with_its_members(api, viewer, engineer, admin_user, team):
    make_cluster(team, name="prod-eu")
    expected_members = [
        {"username": "ada", "role": "admin"},
        {"username": "erin", "role": "engineer"},
        {"username": "vera", "role": "viewer"},
    ]
    for user, role in ((viewer, "viewer"), (engineer, "engineer"), (admin_user, "admin")):
        response = api(user).get(PAYMENTS)
        assert response.status_code == 200
        assert response.json() == {
            "slug": "payments",
            "name": "Payments",
            "role": role,
            "member_count": 3,
            "cluster_count": 1,
            "members": expected_members,
        }


def test_another_teams_slug_is_not_found_exactly_like_an_unknown_one(api, viewer, outsider, team):
    client = api(outsider)
    unknown = client.get("/api/v1/teams/no-such-team/")
    foreign = client.get(PAYMENTS)
    assert assert_error(foreign, 404, "not_found") == assert_error(unknown, 404, "not_found")
    assert foreign.content == unknown.content
    for send in (
        lambda path: client.post(f"{path}members/", {"username": "otto", "role": "admin"}),
        lambda path: client.patch(f"{path}members/vera/", {"role": "admin"}),
        lambda path: client.delete(f"{path}members/vera/"),
    ):
        assert send(PAYMENTS).content == send("/api/v1/teams/no-such-team/").content
        assert_error(send(PAYMENTS), 404, "not_found")
    assert Membership.objects.filter(team=team).count() == 1
    assert role_of(viewer, team) == Role.VIEWER
    assert not AuditEvent.objects.filter(action__startswith="membership.").exists()


def test_anonymous_requests_are_refused(api):
    for response in (
        api().get(TEAMS),
        api().get(PAYMENTS),
        api().post(TEAMS, {"name": "x"}),
        api().post(MEMBERS, {"username": "x", "role": "viewer"}),
    ):
        assert_error(response, 401, "not_authenticated")


# --- who may change what ---------------------------------------------------------------------------


def test_viewers_and_engineers_change_nothing_and_learn_nothing_about_accounts(
    api, viewer, engineer, admin_user, outsider, alice, team
):
    for user in (viewer, engineer):
        client = api(user)
        refusals = [
            client.post(MEMBERS, {"username": name, "role": "admin"})
            for name in ("alice", "otto", "nosuch", "vera")
        ]
        refusals += [
            client.patch(member(name), {"role": "admin"}) for name in ("ada", "vera", "otto", "nosuch")
        ]
        refusals += [client.delete(member(name)) for name in ("ada", "vera", "otto", "nosuch")]
        for response in refusals:
            error = assert_error(response, 403, "permission_denied")
            assert error["message"] == "Managing members needs the admin role in the team."
    assert sorted(Membership.objects.filter(team=team).values_list("user__username", "role")) == [
        ("ada", "admin"),
        ("erin", "engineer"),
        ("vera", "viewer"),
    ]
    assert not AuditEvent.objects.filter(action__startswith="membership.").exists()


def test_an_admin_adds_re_roles_and_removes_members_and_each_change_is_audited_as_the_page_does(
    api, admin_user, alice, team
):
    client = api(admin_user)
    added = client.post(MEMBERS, {"username": "alice", "role": "engineer"})
    assert added.status_code == 201, added.json()
    assert added.json() == {"username": "alice", "role": "engineer"}
    assert role_of(alice, team) == Role.ENGINEER
    changed = client.patch(member("alice"), {"role": "admin"})
    assert changed.status_code == 200, changed.json()
    assert changed.json() == {"username": "alice", "role": "admin"}
    assert role_of(alice, team) == Role.ADMIN
    removed = client.delete(member("alice"))
    assert removed.status_code == 204
    assert role_of(alice, team) is None

    events = list(AuditEvent.objects.order_by("id").values_list("action", "actor", "target_id", "details"))
    assert events == [
        ("membership.added", admin_user.pk, str(team.pk), {"member": "alice", "role": "engineer"}),
        (
            "membership.role_changed",
            admin_user.pk,
            str(team.pk),
            {"member": "alice", "from_role": "engineer", "to_role": "admin"},
        ),
        ("membership.removed", admin_user.pk, str(team.pk), {"member": "alice", "role": "admin"}),
    ]


def test_saving_an_unchanged_role_answers_the_member_and_audits_nothing(api, admin_user, viewer):
    response = api(admin_user).patch(member("vera"), {"role": "viewer"})
    assert response.status_code == 200
    assert response.json() == {"username": "vera", "role": "viewer"}
    assert not AuditEvent.objects.exists()


def test_the_last_admin_can_be_neither_demoted_nor_removed_and_the_refusal_says_why(
    api, admin_user, viewer, team
):
    client = api(admin_user)
    for response in (client.patch(member("ada"), {"role": "engineer"}), client.delete(member("ada"))):
        error = assert_error(response, 409, "conflict")
        assert error["message"] == LAST_ADMIN
    assert role_of(admin_user, team) == Role.ADMIN
    assert not AuditEvent.objects.exists()
    # With a second admin, the first may step down, and then the second is the last one.
    assert client.patch(member("vera"), {"role": "admin"}).status_code == 200
    assert client.patch(member("ada"), {"role": "viewer"}).status_code == 200
    assert_error(api(viewer).delete(member("vera")), 409, "conflict")
    assert role_of(viewer, team) == Role.ADMIN


def test_an_admin_is_told_when_no_active_account_has_the_name_and_when_someone_is_already_a_member(
    api, admin_user, viewer
):
    make_user(None, username="gone", is_active=False)
    client = api(admin_user)
    unknown = assert_error(client.post(MEMBERS, {"username": "nobody", "role": "viewer"}), 400, "invalid")
    assert unknown["fields"] == {
        "username": [
            "No active account is named “nobody”; a Rampart administrator creates accounts (Admin → Users)."
        ]
    }
    inactive = assert_error(client.post(MEMBERS, {"username": "gone", "role": "viewer"}), 400, "invalid")
    assert inactive["fields"]["username"] == [unknown["fields"]["username"][0].replace("nobody", "gone")]
    again = assert_error(client.post(MEMBERS, {"username": "VERA", "role": "admin"}), 409, "conflict")
    assert again["message"] == "Already a member: vera, as viewer."
    assert role_of(viewer, viewer.memberships.get().team) == Role.VIEWER
    assert not AuditEvent.objects.exists()


def test_two_requests_adding_one_person_at_once_leave_one_membership_and_a_conflict(
    api, admin_user, alice, monkeypatch
):
    """The check before adding cannot see a request adding the same person at the same moment; the
    database's constraint does, and the second gets the same conflict as a late one (was a 500)."""
    from accounts import teams

    client = api(admin_user)
    assert client.post(MEMBERS, {"username": "alice", "role": "viewer"}).status_code == 201
    monkeypatch.setattr(teams, "membership_of", lambda team, user: None)  # the race window
    again = assert_error(client.post(MEMBERS, {"username": "alice", "role": "admin"}), 409, "conflict")
    assert again["message"] == "Already a member: alice."
    assert Membership.objects.filter(user=alice).count() == 1
    assert AuditEvent.objects.filter(action="membership.added").count() == 1


def test_two_teams_created_with_one_name_at_once_leave_one_team_and_a_clear_refusal(api, root, monkeypatch):
    from accounts import teams

    client = api(root)
    assert client.post(TEAMS, {"name": "Platform"}).status_code == 201
    monkeypatch.setattr(teams, "team_name_taken", lambda name: False)  # the race window
    error = assert_error(client.post(TEAMS, {"name": "Platform"}), 400, "invalid")
    assert error["fields"]["name"] == ["A team named Platform already exists."]
    assert Team.objects.filter(name="Platform").count() == 1


def test_member_paths_name_only_the_teams_own_members(api, admin_user, outsider, alice):
    """Another team's user, an account in no team and no account at all: the same 404."""
    client = api(admin_user)
    for send in (
        lambda name: client.patch(member(name), {"role": "admin"}),
        lambda name: client.delete(member(name)),
    ):
        answers = [send(name) for name in ("otto", "alice", "nosuch")]
        for response in answers:
            assert_error(response, 404, "not_found")
        assert len({response.content for response in answers}) == 1
    assert role_of(outsider, outsider.memberships.get().team) == Role.ADMIN


def test_member_paths_are_exact_usernames(api, admin_user, viewer, team):
    assert_error(api(admin_user).delete(member("VERA")), 404, "not_found")
    assert role_of(viewer, team) == Role.VIEWER


def test_only_superusers_create_teams_and_the_service_makes_the_slug(api, root, admin_user):
    refused = assert_error(api(admin_user).post(TEAMS, {"name": "Shadow IT"}), 403, "permission_denied")
    assert refused["message"] == "Creating a team needs a superuser."
    assert not Team.objects.filter(name="Shadow IT").exists()

    created = api(root).post(TEAMS, {"name": "  Payments   platform "})
    assert created.status_code == 201, created.json()
    assert created.json() == {
        "slug": "payments-platform",
        "name": "Payments platform",
        "role": None,
        "member_count": 0,
        "cluster_count": 0,
        "members": [],
    }
    team = Team.objects.get(slug="payments-platform")
    event = AuditEvent.objects.get(action="team.created")
    assert (event.actor, event.target_id, event.details) == (
        root,
        str(team.pk),
        {"slug": "payments-platform"},
    )
    assert api(root).get("/api/v1/teams/payments-platform/").json() == created.json()


def test_a_taken_or_disguised_team_name_is_refused_under_the_name(api, root, team):
    client = api(root)
    taken = assert_error(client.post(TEAMS, {"name": "PAYMENTS"}), 400, "invalid")
    assert taken["fields"] == {"name": ["A team named PAYMENTS already exists."]}
    disguised = assert_error(client.post(TEAMS, {"name": "pay\u202eselcyc"}), 400, "invalid")
    assert disguised["fields"] == {
        "name": ["A team name may not contain invisible or text-direction characters."]
    }
    assert list(Team.objects.values_list("name", flat=True)) == ["Payments"]


def test_a_superuser_manages_the_members_of_any_team_and_a_new_team_gets_its_first_admin(api, root, alice):
    client = api(root)
    assert client.post(TEAMS, {"name": "Search"}).status_code == 201
    path = "/api/v1/teams/search/members/"
    assert client.post(path, {"username": "Alice", "role": "admin"}).json() == {
        "username": "alice",
        "role": "admin",
    }
    assert client.patch(f"{path}alice/", {"role": "viewer"}).status_code == 409  # the only admin
    team = api(alice).get("/api/v1/teams/search/").json()
    assert (team["role"], team["members"]) == ("admin", [{"username": "alice", "role": "admin"}])


# --- tokens, limits and bad input ------------------------------------------------------------------


def test_read_only_tokens_read_but_never_write(client, root, admin_user, viewer, alice, team):
    read_only = Api(client, token_for(admin_user, ApiToken.Scope.READ))
    assert read_only.get(TEAMS).status_code == 200
    assert read_only.get(PAYMENTS).status_code == 200
    for response in (
        read_only.post(MEMBERS, {"username": "alice", "role": "viewer"}),
        read_only.patch(member("vera"), {"role": "admin"}),
        read_only.delete(member("vera")),
        Api(client, token_for(root, ApiToken.Scope.READ)).post(TEAMS, {"name": "Read only"}),
    ):
        assert assert_error(response, 403, "permission_denied")["message"] == "This token is read-only."
    assert role_of(alice, team) is None
    assert role_of(viewer, team) == Role.VIEWER
    assert not Team.objects.filter(name="Read only").exists()
    assert not AuditEvent.objects.exists()


def test_team_endpoints_are_throttled_like_the_others(client, admin_user):
    """Per token, and per address before authentication (so anonymous guessing is slowed down too)."""
    cache.clear()
    rates = {"anon": "2/min", "user": "2/min", "export": "10000/min", "ingest": "10000/min"}
    with override_settings(REST_FRAMEWORK={**api_settings.user_settings, "DEFAULT_THROTTLE_RATES": rates}):
        api = Api(client, token_for(admin_user))
        assert api.get(TEAMS).status_code == 200
        assert api.get(PAYMENTS).status_code == 200
        assert_error(api.post(MEMBERS, {"username": "vera", "role": "viewer"}), 429, "throttled")
        for _ in range(2):
            assert_error(client.get(PAYMENTS, REMOTE_ADDR="198.51.100.251"), 401)
        assert_error(client.get(PAYMENTS, REMOTE_ADDR="198.51.100.251"), 429, "throttled")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"username": "alice", "role": "owner"}, {"role"}),
        ({"username": "alice", "role": "ADMIN"}, {"role"}),
        ({"role": "viewer"}, {"username"}),
        ({"username": "   ", "role": "viewer"}, {"username"}),
        ({"username": "alice"}, {"role"}),
        ({"username": ["alice"], "role": {"admin": True}}, {"username", "role"}),
        ({"username": "a" * 151, "role": "viewer"}, {"username"}),
        ({}, {"username", "role"}),
    ],
)
def test_bad_member_input_is_refused_naming_the_fields(api, admin_user, alice, team, body, fields):
    error = assert_error(api(admin_user).post(MEMBERS, body), 400, "invalid")
    assert set(error["fields"]) == fields
    assert role_of(alice, team) is None


def test_a_role_change_without_a_valid_role_is_refused(api, admin_user, viewer, team):
    client = api(admin_user)
    for body in ({}, {"role": None}, {"role": "superuser"}, {"rol": "admin"}, {"role": ["admin"]}):
        error = assert_error(client.patch(member("vera"), body), 400, "invalid")
        assert list(error["fields"]) == ["role"], body
    assert role_of(viewer, team) == Role.VIEWER


HOSTILE = [
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\u202eadmin",
    "../../etc/passwd",
    "%00",
    "${jndi:ldap://x}",
    "💥" * 100,
    "\tnobody\n",
    "ａｄａ",  # fullwidth: not ada
    "ad%",
    "a_a",
]


def test_hostile_usernames_are_unknown_accounts_in_the_error_format(api, admin_user, team):
    client = api(admin_user)
    for value in HOSTILE:
        response = client.post(MEMBERS, {"username": value, "role": "viewer"})
        assert set(assert_error(response, 400, "invalid")["fields"]) == {"username"}, value
    for body in ({"username": "a\x00da", "role": "viewer"}, {"username": "\ud800", "role": "viewer"}):
        assert_error(client.post(MEMBERS, body), 400, "parse_error")
    assert list(Membership.objects.filter(team=team).values_list("user__username", flat=True)) == ["ada"]
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("<script>alert(1)</script>", "scriptalert1script"),
        ("💥" * 100, "team"),
        ("Robert'); DROP TABLE accounts_team;--", "robert-drop-table-accounts_team"),
        ("x" * 101, None),
        ("\u202eadmin", None),
        ("pay\u200bments", None),
        ("\x07bell", None),
        ("   ", None),
        (["Payments"], None),
        (None, None),
    ],
)
def test_hostile_team_names_are_stored_as_text_or_refused_under_the_name(api, root, name, slug):
    response = api(root).post(TEAMS, {"name": name})
    if slug is None:
        assert set(assert_error(response, 400, "invalid")["fields"]) == {"name"}
        assert not Team.objects.exists()
    else:
        assert response.status_code == 201, response.json()
        assert (response.json()["name"], response.json()["slug"]) == (name, slug)
        assert Team.objects.get().name == name


def test_hostile_paths_are_not_found_in_the_error_format(api, admin_user, viewer):
    client = api(admin_user)
    for path in (
        "/api/v1/teams/pay%00ments/",
        "/api/v1/teams/%2e%2e/",
        "/api/v1/teams/" + "a" * 101 + "/",
        "/api/v1/teams/payments/members/ve%00ra/",
        "/api/v1/teams/payments/members/vera%2Fx/",
        "/api/v1/teams/payments/members/" + "a" * 151 + "/",
        "/api/v1/teams/payments/members/%F0%9F%92%A5/",
    ):
        assert_error(client.get(path), 404, "not_found")
        assert_error(client.delete(path), 404, "not_found")
    assert Membership.objects.filter(user=viewer).exists()


def test_bodies_that_are_not_json_or_too_large_are_refused_in_the_error_format(api, admin_user):
    client = api(admin_user)
    not_json = client.client.post(
        MEMBERS, b"{username", content_type="application/json", headers=client.headers
    )
    assert_error(not_json, 400, "parse_error")
    form = client.client.post(MEMBERS, "username=x", content_type="text/plain", headers=client.headers)
    assert_error(form, 415, "unsupported_media_type")
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64 * 1024):
        huge = client.post(MEMBERS, {"username": "x" * 100_000, "role": "viewer"})
        assert_error(huge, 413, "too_large")
    assert_error(client.put(member("ada"), {"role": "admin"}), 405, "method_not_allowed")
    assert_error(client.get(member("ada")), 405, "method_not_allowed")


# --- the page and the API agree --------------------------------------------------------------------


def test_the_page_shows_what_the_api_changed_and_the_api_what_the_page_changed(
    api, client, admin_user, alice, team
):
    make_cluster(team, name="prod-eu")
    rest = api(admin_user)
    assert rest.post(MEMBERS, {"username": "alice", "role": "engineer"}).status_code == 201

    client.force_login(admin_user)
    page = client.get(reverse("accounts:team-detail", args=[team.pk])).text
    row = re.search(r"<td>alice</td>(.*?)</tr>", page, re.S)
    assert row is not None
    assert '<option value="engineer" selected>' in row.group(1)
    client.force_login(alice)
    listed = client.get(reverse("accounts:team-list")).text
    assert re.search(r"Payments</a></td>\s*<td>Engineer</td>\s*<td>2</td>\s*<td>1</td>", listed)

    client.force_login(admin_user)
    membership = Membership.objects.get(user=alice, team=team)
    client.post(reverse("accounts:team-member-role", args=[team.pk, membership.pk]), {"role": "viewer"})
    assert {"username": "alice", "role": "viewer"} in rest.get(PAYMENTS).json()["members"]
    client.post(reverse("accounts:team-member-remove", args=[team.pk, membership.pk]))
    assert rest.get(PAYMENTS).json()["members"] == [{"username": "ada", "role": "admin"}]
    # One audit trail, whichever of the two made the change.
    events = AuditEvent.objects.filter(action__startswith="membership.").order_by("id")
    assert list(events.values_list("action", "details")) == [
        ("membership.added", {"member": "alice", "role": "engineer"}),
        ("membership.role_changed", {"member": "alice", "from_role": "engineer", "to_role": "viewer"}),
        ("membership.removed", {"member": "alice", "role": "viewer"}),
    ]


def test_the_page_and_the_api_refuse_the_last_admin_in_the_same_words(api, client, admin_user, team):
    api_error = assert_error(api(admin_user).delete(member("ada")), 409)
    client.force_login(admin_user)
    own = Membership.objects.get(user=admin_user, team=team)
    page = client.post(reverse("accounts:team-member-remove", args=[team.pk, own.pk]), follow=True).text
    assert api_error["message"] == LAST_ADMIN
    assert LAST_ADMIN in page
