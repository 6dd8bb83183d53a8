"""Naming a user one may not name answers exactly as naming a user who does not exist.

Otherwise any member of any team could try usernames one by one (assign a finding to them, make
them an exception's owner) and learn from the different refusals which accounts exist.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.helpers import assert_error, make_findings

pytestmark = pytest.mark.django_db

REFUSAL = ["Must be a member of the team concerned."]


def _refusals(send) -> tuple[dict, dict]:
    """The errors for another team's user (otto exists) and for a username that names nobody."""
    foreign = assert_error(send("otto"), 400, "invalid")
    unknown = assert_error(send("nosuch"), 400, "invalid")
    return foreign, unknown


def test_assigning_a_finding_to_another_teams_user_or_nobody_is_the_same_refusal(
    api, engineer, outsider, cluster
):
    finding = make_findings(cluster, 1)[0]
    client = api(engineer)
    foreign, unknown = _refusals(
        lambda name: client.post(f"/api/v1/findings/{finding.pk}/assign/", {"assignee": name})
    )
    assert foreign == unknown
    assert unknown["fields"] == {"assignee": REFUSAL}


def test_bulk_assigning_to_another_teams_user_or_nobody_is_the_same_refusal(api, engineer, outsider, cluster):
    ids = [finding.pk for finding in make_findings(cluster, 2)]
    client = api(engineer)
    foreign, unknown = _refusals(
        lambda name: client.post("/api/v1/findings/bulk-assign/", {"ids": ids, "assignee": name})
    )
    assert foreign == unknown
    assert unknown["fields"] == {"assignee": REFUSAL}
    # Beside another field's error, neither username is judged (it used to appear only when unknown).
    foreign, unknown = (
        assert_error(client.post("/api/v1/findings/bulk-assign/", {"ids": [], "assignee": name}), 400)
        for name in ("otto", "nosuch")
    )
    assert foreign == unknown
    assert set(unknown["fields"]) == {"ids"}


def test_an_exception_owned_by_another_teams_user_or_nobody_is_the_same_refusal(
    api, admin_user, outsider, cluster
):
    client = api(admin_user)

    def rule(owner, **extra):
        expires = (timezone.now() + timedelta(days=30)).isoformat()
        body = {"cluster": cluster.pk, "check_ids": ["privileged-container"], "reason": "the CNI needs it"}
        return client.post("/api/v1/exceptions/", {**body, "owner": owner, "expires_at": expires, **extra})

    foreign, unknown = _refusals(rule)
    assert foreign == unknown
    assert unknown["fields"] == {"owner": REFUSAL}
    foreign, unknown = (assert_error(rule(name, reason=""), 400) for name in ("otto", "nosuch"))
    assert foreign == unknown
    assert set(unknown["fields"]) == {"reason"}
    assert rule("ada").status_code == 201
