import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from findings.models import Finding, FindingEvent, FindingStatus
from tests.ui.conftest import htmx

URL = reverse("findings:finding-bulk")


def pick(cluster, status, count):
    pks = list(
        Finding.objects.filter(cluster=cluster, status=status).order_by("pk").values_list("pk", flat=True)
    )
    assert len(pks) >= count, f"the demo has {len(pks)} {status} findings"
    return pks[:count]


def test_bulk_acknowledge_says_how_many_changed_and_why_the_others_could_not(client, demo, demo_engineer):
    open_ones = pick(demo, FindingStatus.OPEN, 12)
    false_positives = pick(demo, FindingStatus.OPEN, 15)[12:]
    Finding.objects.filter(pk__in=false_positives).update(status=FindingStatus.FALSE_POSITIVE)
    client.force_login(demo_engineer)
    response = client.post(
        URL, {"action": "acknowledged", "ids": open_ones + false_positives, "query": "status=open"}, **htmx()
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="results">')
    assert "12 acknowledged, 3 could not be: false positives cannot be acknowledged." in response.text
    assert Finding.objects.filter(pk__in=open_ones, status=FindingStatus.ACKNOWLEDGED).count() == 12
    assert (
        FindingEvent.objects.filter(
            finding_id__in=open_ones, to_value="acknowledged", actor=demo_engineer
        ).count()
        == 12
    )


def test_mixed_refusals_are_each_counted(client, demo, demo_engineer):
    pks = pick(demo, FindingStatus.OPEN, 4)
    Finding.objects.filter(pk=pks[0]).update(status=FindingStatus.ACKNOWLEDGED)
    Finding.objects.filter(pk=pks[1]).update(status=FindingStatus.RESOLVED)
    client.force_login(demo_engineer)
    response = client.post(URL, {"action": "acknowledged", "ids": pks}, **htmx())
    assert (
        "2 acknowledged, 2 could not be: 1 already acknowledged; 1 resolved findings cannot be acknowledged"
        in (response.text)
    )


def test_without_htmx_the_outcome_is_a_message_after_a_redirect_back_to_the_same_filters(
    client, demo, demo_engineer
):
    pks = pick(demo, FindingStatus.OPEN, 2)
    client.force_login(demo_engineer)
    response = client.post(URL, {"action": "acknowledged", "ids": pks, "query": "severity=high&sort=due"})
    assert response.status_code == 302
    assert response["Location"] == "/findings/?severity=high&sort=due"
    assert "2 acknowledged." in client.get(response["Location"]).text


def test_accepting_a_risk_in_bulk_needs_a_reason_and_a_date(client, demo, demo_engineer):
    pks = pick(demo, FindingStatus.OPEN, 3)
    client.force_login(demo_engineer)
    response = client.post(URL, {"action": "risk_accepted", "ids": pks}, **htmx())
    assert "Nothing changed: marking a finding risk accepted needs a reason." in response.text
    until = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = client.post(
        URL,
        {"action": "risk_accepted", "ids": pks, "reason": "legacy batch, replaced in Q3", "until": until},
        **htmx(),
    )
    assert "3 accepted as a risk." in response.text
    assert set(Finding.objects.filter(pk__in=pks).values_list("status", flat=True)) == {
        FindingStatus.RISK_ACCEPTED
    }


def test_a_refused_bulk_change_keeps_the_selection_and_what_was_typed(client, demo, demo_engineer):
    client.force_login(demo_engineer)
    on_screen = re.findall(
        r'<tr id="finding-(\d+)"', client.get(reverse("findings:finding-list"), {"status": "open"}).text
    )
    pks = [int(pk) for pk in on_screen[:2]]
    too_late = (timezone.localdate() + timedelta(days=400)).isoformat()
    sent = {
        "action": "risk_accepted",
        "ids": pks,
        "reason": "legacy <batch>",
        "until": too_late,
        "query": "status=open",
    }
    page = client.post(URL, sent, **htmx()).text
    assert "Nothing changed: a risk can be accepted for at most 365 days." in page
    for pk in pks:
        assert f'value="{pk}" form="bulk" checked' in page
    assert '<option value="risk_accepted" selected>' in page
    assert 'value="legacy &lt;batch&gt;"' in page
    assert f'value="{too_late}"' in page
    assert not Finding.objects.filter(pk__in=pks, status=FindingStatus.RISK_ACCEPTED).exists()


def test_a_bulk_action_on_page_two_shows_page_two_again(client, demo, demo_engineer):
    client.force_login(demo_engineer)
    second = client.get(reverse("findings:finding-list"), {"status": "open", "page": 2}).text
    assert 'name="query" value="status=open&amp;page=2"' in second
    on_screen = re.findall(r'<tr id="finding-(\d+)"', second)
    sent = {"action": "acknowledged", "ids": on_screen[:1], "query": "status=open&page=2"}
    after = client.post(URL, sent, **htmx()).text
    assert "1 acknowledged." in after
    assert "page 2 of" in after


def test_no_action_is_chosen_until_the_user_chooses_one(client, demo, demo_engineer):
    pks = pick(demo, FindingStatus.OPEN, 2)
    Finding.objects.filter(pk__in=pks).update(assignee=demo_engineer)
    client.force_login(demo_engineer)
    page = client.get(reverse("findings:finding-list")).text
    bar = page.split('<select id="bulk-action"', 1)[1]
    assert bar.split("</option>", 1)[0].endswith('<option value="" selected>Choose…')
    response = client.post(URL, {"ids": pks, "assignee": ""}, **htmx())  # Apply with nothing chosen
    assert "Nothing changed: choose what to do with the selected findings." in response.text
    assert Finding.objects.filter(pk__in=pks, assignee=demo_engineer).count() == 2


def test_bulk_false_positive_records_the_reason(client, demo, demo_engineer):
    pks = pick(demo, FindingStatus.OPEN, 2)
    client.force_login(demo_engineer)
    response = client.post(
        URL, {"action": "false_positive", "ids": pks, "reason": "test namespace"}, **htmx()
    )
    assert "2 marked false positive." in response.text
    assert set(Finding.objects.filter(pk__in=pks).values_list("status_reason", flat=True)) == {
        "test namespace"
    }


def test_bulk_assign_and_unassign(client, demo, demo_engineer):
    pks = pick(demo, FindingStatus.OPEN, 5)
    client.force_login(demo_engineer)
    response = client.post(URL, {"action": "assign", "assignee": demo_engineer.pk, "ids": pks}, **htmx())
    assert "5 assigned to eve." in response.text
    assert Finding.objects.filter(pk__in=pks, assignee=demo_engineer).count() == 5
    response = client.post(URL, {"action": "assign", "assignee": "", "ids": pks}, **htmx())
    assert "5 unassigned." in response.text


def test_nothing_selected_is_a_gentle_warning(client, demo, demo_engineer):
    client.force_login(demo_engineer)
    assert "Select at least one finding first." in client.post(URL, {"action": "acknowledged"}, **htmx()).text


def test_a_viewer_cannot_triage_in_bulk(client, demo, demo_viewer):
    pks = pick(demo, FindingStatus.OPEN, 2)
    client.force_login(demo_viewer)
    assert client.post(URL, {"action": "acknowledged", "ids": pks}).status_code == 403
    assert not Finding.objects.filter(pk__in=pks, status=FindingStatus.ACKNOWLEDGED).exists()


def test_other_teams_findings_in_a_bulk_request_are_left_alone(client, demo, stranger):
    from tests.factories import as_yaml, deployment, make_cluster, scan_snapshot

    own = make_cluster(stranger.memberships.get().team, name="own")
    scan_snapshot(own, as_yaml(deployment("mine", privileged=True)))
    mine = list(Finding.objects.filter(cluster=own, status=FindingStatus.OPEN).values_list("pk", flat=True))
    foreign = pick(demo, FindingStatus.OPEN, 2)
    client.force_login(stranger)
    response = client.post(URL, {"action": "acknowledged", "ids": mine + foreign}, **htmx())
    assert f"{len(mine)} acknowledged." in response.text
    assert not Finding.objects.filter(pk__in=foreign, status=FindingStatus.ACKNOWLEDGED).exists()


def test_the_bulk_actions_read_as_what_they_do(client, demo, demo_engineer):
    client.force_login(demo_engineer)
    page = client.get(reverse("findings:finding-list")).text
    bar = page.split('<select id="bulk-action"', 1)[1].split("</select>", 1)[0]
    offered = re.findall(r"<option [^>]*>([^<]+)</option>", bar)
    assert offered == [
        "Choose…", "Assign to…", "Acknowledge", "Accept the risk…", "Mark false positive…", "Reopen"
    ]  # fmt: skip
