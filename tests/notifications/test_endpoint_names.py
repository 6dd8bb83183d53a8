"""An endpoint's name is unique within its team, in any case: the delivery log and the audit
trail name endpoints, and two "Slack" endpoints in a team would leave readers guessing."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from posture.models import NotificationEndpoint
from posture.notifications import service
from tests.api.helpers import Api, assert_error, token_for
from tests.factories import make_team

TAKEN = "This team already has a notification endpoint of this name."


def _endpoint(team, name: str) -> NotificationEndpoint:
    endpoint = NotificationEndpoint(team=team, name=name)
    endpoint.set_url("https://hooks.example.com/x")
    endpoint.save()
    return endpoint


@pytest.mark.django_db
def test_the_page_refuses_a_name_the_team_has_and_allows_it_in_another_team(
    client, admin_user, team, receiver
):
    _endpoint(team, "Slack")
    client.force_login(admin_user)
    form = {"name": "slack", "team": team.pk, "kind": "slack", "url": receiver.url, "enabled": "on"}
    response = client.post(reverse("notifications:list"), form)
    assert response.status_code == 400
    assert TAKEN in response.text
    assert 'id="id_name_error"' in response.text  # under the name, where the field points
    assert NotificationEndpoint.objects.count() == 1

    other = make_team("Data")
    _endpoint(other, "slack")  # another team's names are its own
    assert NotificationEndpoint.objects.filter(name__iexact="slack").count() == 2


@pytest.mark.django_db
def test_renaming_onto_another_endpoint_is_refused_and_keeping_ones_own_name_is_not(client, admin_user, team):
    _endpoint(team, "SIEM")
    pager = _endpoint(team, "Pager")
    client.force_login(admin_user)
    edit = reverse("notifications:edit", args=[pager.pk])
    base = {"team": team.pk, "kind": "webhook", "enabled": "on"}
    assert TAKEN in client.post(edit, {**base, "name": "siem"}).text
    assert client.post(edit, {**base, "name": "PAGER"}).status_code == 302
    assert sorted(NotificationEndpoint.objects.values_list("name", flat=True)) == ["PAGER", "SIEM"]


@pytest.mark.django_db
def test_the_api_refuses_a_taken_name_under_the_name_field(client, admin_user, team):
    _endpoint(team, "SIEM")
    api = Api(client, token_for(admin_user))
    body = {"team": "payments", "name": "Siem", "url": "https://hooks.example.com/y"}
    response = api.post("/api/v1/notification-endpoints/", body)
    assert assert_error(response, 400, "invalid")["fields"] == {"name": [TAKEN]}


@pytest.mark.django_db
def test_two_saves_racing_for_one_name_end_with_one_endpoint_and_a_refusal(team, admin_user):
    first, second = (
        NotificationEndpoint(team=team, name="Slack"),
        NotificationEndpoint(team=team, name="SLACK"),
    )
    service.save_endpoint(first, url="https://hooks.example.com/a", secret=None, actor=admin_user)
    with pytest.raises(service.EndpointNameTaken):
        service.save_endpoint(second, url="https://hooks.example.com/b", secret=None, actor=admin_user)
    assert second.pk is None
    assert list(NotificationEndpoint.objects.values_list("name", flat=True)) == ["Slack"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_endpoint_renaming_the_younger_of_a_pair():
    executor = MigrationExecutor(connection)
    before = [("posture", "0009_cluster_name_unique_in_team")]
    after = [("posture", "0010_notification_endpoint_name_unique_in_team")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    team = old.get_model("accounts", "Team").objects.create(name="Ops", slug="ops")
    Endpoint = old.get_model("posture", "NotificationEndpoint")
    older = Endpoint.objects.create(team=team, name="Slack", url_encrypted="x", url_host="h")
    younger = Endpoint.objects.create(team=team, name="slack", url_encrypted="x", url_host="h")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    renamed = dict(Endpoint.objects.values_list("pk", "name"))
    # Back to the latest schema: the tests after this one need the migrations that came later.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert renamed == {older.pk: "Slack", younger.pk: f"slack ({younger.pk})"}
    assert dict(NotificationEndpoint.objects.values_list("pk", "name")) == renamed
