import pytest

from findings.models import Finding
from posture import services
from posture.scanning.checks.registry import Severity
from tests.factories import as_yaml, deployment, make_cluster, scan_snapshot

pytestmark = pytest.mark.django_db


def test_deployment_settings_apply_to_every_cluster_and_a_cluster_overrides_them(team, settings):
    settings.RAMPART_CHECK_SETTINGS = {
        "disabled": ["latest-tag"],
        "severity": {"no-readonly-rootfs": "low"},
        "options": {"secret_max_age_days": 30},
    }
    cluster = make_cluster(
        team,
        name="c1",
        check_settings={"severity": {"no-readonly-rootfs": "high"}, "options": {"secret_max_age_days": 60}},
    )
    resolved = services.check_settings_for(cluster)
    assert "latest-tag" in resolved.disabled
    assert resolved.severity_overrides == {"no-readonly-rootfs": Severity.HIGH}
    assert resolved.options == {"secret_max_age_days": 60}


def test_a_severity_override_is_what_the_finding_carries(team, settings):
    settings.RAMPART_CHECK_SETTINGS = {"severity": {"privileged-container": "medium"}}
    cluster = make_cluster(team, name="c2")
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    assert Finding.objects.get(cluster=cluster, check_id="privileged-container").severity == "medium"


def test_unknown_checks_and_levels_are_ignored_not_fatal(team, settings):
    settings.RAMPART_CHECK_SETTINGS = {
        "severity": {"no-such-check": "high", "privileged-container": "urgent"}
    }
    cluster = make_cluster(team, name="c3")
    assert services.check_settings_for(cluster).severity_overrides == {}
    scan = scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    assert scan.status == "succeeded"


def test_switching_a_check_off_resolves_its_findings_and_switching_it_on_brings_them_back(team):
    """Left open, a switched-off check's findings counted in the lists and grew overdue while
    every scan summary and the score ignored them: the pages disagreed by hundreds."""
    from findings.models import FindingEvent

    cluster = make_cluster(team, name="c4")
    snapshot = as_yaml(deployment("web", privileged=True), deployment("api", privileged=True))
    scan_snapshot(cluster, snapshot)
    privileged = Finding.objects.filter(cluster=cluster, check_id="privileged-container")
    assert set(privileged.values_list("status", flat=True)) == {"open"}

    cluster.check_settings = {"disabled": ["privileged-container"]}
    cluster.save()
    off = scan_snapshot(cluster, snapshot)
    assert set(privileged.values_list("status", flat=True)) == {"resolved"}
    assert off.resolved_count == 2
    still_open = Finding.objects.filter(cluster=cluster, status__in=["open", "acknowledged"])
    assert off.open_count == still_open.count()  # the scan's summary and the lists agree
    events = FindingEvent.objects.filter(finding__in=privileged, to_value="resolved")
    assert set(events.values_list("reason", flat=True)) == {"its check was switched off for this cluster"}
    others = Finding.objects.filter(cluster=cluster).exclude(check_id="privileged-container")
    assert set(others.values_list("status", flat=True)) == {"open"}  # the other checks' findings stay

    cluster.check_settings = {}
    cluster.save()
    on = scan_snapshot(cluster, snapshot)
    assert set(privileged.values_list("status", flat=True)) == {"open"}
    assert on.reopened_count == 2
