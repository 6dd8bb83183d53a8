"""Teams: superusers create them, team admins add members by username, change roles, remove them."""

import re

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Membership, Role, Team
from tests.factories import make_cluster, make_user

pytestmark = pytest.mark.django_db

TEAMS = reverse("accounts:team-list")


def team_page(team):
    return reverse("accounts:team-detail", args=[team.pk])


def test_a_fresh_installation_leads_the_superuser_to_create_a_team_then_register_a_cluster(client):
    root = make_user(None, username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    overview = client.get("/").text
    assert "Clusters belong to a team, and there is none yet." in overview
    assert f'href="{TEAMS}"' in overview
    created = client.post(TEAMS, {"name": "  Payments   platform "}, follow=True)
    team = Team.objects.get()
    assert (team.name, team.slug) == ("Payments platform", "payments-platform")
    assert "Team Payments platform created. Add its members below." in created.text
    assert AuditEvent.objects.filter(action="team.created", actor=root).exists()
    assert reverse("posture:cluster-create") in client.get("/").text
    refused = client.post(TEAMS, {"name": "payments PLATFORM"})
    assert refused.status_code == 400
    assert "A team named payments PLATFORM already exists." in refused.text


def test_only_superusers_create_teams(client, admin_user):
    client.force_login(admin_user)
    assert "New team" not in client.get(TEAMS).text
    assert client.post(TEAMS, {"name": "Shadow IT"}).status_code == 403
    assert not Team.objects.filter(name="Shadow IT").exists()


def test_an_admin_adds_an_existing_user_who_then_sees_the_teams_clusters(client, admin_user, team):
    make_cluster(team, name="prod-eu")
    newcomer = make_user(None, username="alice")
    client.force_login(newcomer)
    for page in ("/", "/clusters/", "/findings/"):
        assert "You are not in a team yet: ask a team admin to add you" in client.get(page).text, page
    assert "prod-eu" not in client.get("/clusters/").text

    client.force_login(admin_user)
    added = client.post(
        reverse("accounts:team-member-add", args=[team.pk]),
        {"username": "alice", "role": "engineer"},
        follow=True,
    )
    assert "alice added to Payments as engineer." in added.text
    assert Membership.objects.get(user=newcomer, team=team).role == Role.ENGINEER
    event = AuditEvent.objects.get(action="membership.added")
    assert event.details == {"member": "alice", "role": "engineer"}

    client.force_login(newcomer)
    assert "prod-eu" in client.get("/clusters/").text
    listed = client.get(TEAMS).text  # Payments: ada and alice, one cluster; alice an engineer
    assert re.search(r"Payments</a></td>\s*<td>Engineer</td>\s*<td>2</td>\s*<td>1</td>", listed)


def test_unknown_and_duplicate_members_are_explained(client, admin_user, team, viewer):
    client.force_login(admin_user)
    add = reverse("accounts:team-member-add", args=[team.pk])
    unknown = client.post(add, {"username": "nobody", "role": "viewer"})
    assert unknown.status_code == 400
    assert "No active account is named “nobody”; a Rampart administrator creates accounts" in unknown.text
    again = client.post(add, {"username": viewer.username, "role": "admin"})
    assert "Already a member: vera, as viewer." in again.text
    assert Membership.objects.get(user=viewer, team=team).role == Role.VIEWER


def test_roles_change_and_members_leave_but_the_last_admin_stays(client, admin_user, team, viewer):
    client.force_login(admin_user)
    viewer_membership = Membership.objects.get(user=viewer, team=team)
    own = Membership.objects.get(user=admin_user, team=team)
    promote = client.post(
        reverse("accounts:team-member-role", args=[team.pk, viewer_membership.pk]),
        {"role": "admin"},
        follow=True,
    )
    assert "vera is now admin in Payments." in promote.text
    demote_self = client.post(
        reverse("accounts:team-member-role", args=[team.pk, own.pk]), {"role": "viewer"}, follow=True
    )
    assert "ada is now viewer in Payments." in demote_self.text
    client.force_login(viewer)  # now the team's only admin
    page = client.get(team_page(team)).text
    assert "the last admin" in page
    refused = client.post(
        reverse("accounts:team-member-remove", args=[team.pk, viewer_membership.pk]), follow=True
    )
    assert "A team needs at least one admin: make someone else an admin first." in refused.text
    assert Membership.objects.filter(pk=viewer_membership.pk, role=Role.ADMIN).exists()
    removed = client.post(reverse("accounts:team-member-remove", args=[team.pk, own.pk]), follow=True)
    assert "ada removed from Payments." in removed.text
    assert not Membership.objects.filter(pk=own.pk).exists()
    assert AuditEvent.objects.filter(action="membership.removed", details__member="ada").exists()


def test_members_see_their_team_only_admins_change_it_and_other_teams_are_not_found(
    client, team, viewer, engineer, outsider
):
    client.force_login(viewer)
    page = client.get(team_page(team)).text
    assert "erin" in page
    assert "Add a member" not in page
    membership = Membership.objects.get(user=engineer, team=team)
    for url, data in (
        (reverse("accounts:team-member-add", args=[team.pk]), {"username": "otto", "role": "admin"}),
        (reverse("accounts:team-member-role", args=[team.pk, membership.pk]), {"role": "admin"}),
        (reverse("accounts:team-member-remove", args=[team.pk, membership.pk]), {}),
    ):
        assert client.post(url, data).status_code == 403
    client.force_login(outsider)
    assert client.get(team_page(team)).status_code == 404
    assert "Payments" not in client.get(TEAMS).text
    assert Membership.objects.get(pk=membership.pk).role == Role.ENGINEER


def test_names_that_display_as_something_else_are_refused(client):
    root = make_user(None, username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    refused = client.post(TEAMS, {"name": "pay\u202eselcyc"})
    assert "A team name may not contain invisible or text-direction characters." in refused.text
    assert not Team.objects.exists()


def test_a_new_team_asks_for_an_admin_first_and_warns_while_it_has_none(client, team):
    root = make_user(None, username="root", is_superuser=True, is_staff=True)
    empty = Team.objects.create(name="Search", slug="search")
    make_user(None, username="alice")
    client.force_login(root)
    page = client.get(team_page(empty)).text
    assert '<option value="admin" selected>Admin</option>' in page
    client.post(reverse("accounts:team-member-add", args=[empty.pk]), {"username": "Alice", "role": "viewer"})
    assert Membership.objects.get(team=empty).user.username == "alice"  # found despite the capital
    assert "This team has no admin" in client.get(team_page(empty)).text


def test_saving_an_unchanged_role_says_so_and_a_reloaded_refused_form_leads_back(
    client, admin_user, team, viewer
):
    client.force_login(admin_user)
    membership = Membership.objects.get(user=viewer, team=team)
    same = client.post(
        reverse("accounts:team-member-role", args=[team.pk, membership.pk]), {"role": "viewer"}, follow=True
    )
    assert "vera is already viewer in Payments." in same.text
    assert not AuditEvent.objects.filter(action="membership.role_changed").exists()
    reloaded = client.get(reverse("accounts:team-member-add", args=[team.pk]))
    assert reloaded.status_code == 302
    assert reloaded["Location"] == team_page(team)
