"""Check settings decide what Rampart reports at all: the audit log says who changed which, and how."""

import html

import pytest

from accounts.models import AuditEvent
from tests.api.helpers import Api, token_for
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_the_audit_log_says_which_checks_and_options_a_settings_change_touched(client, admin_user, cluster):
    api = Api(client, token_for(admin_user))
    url = f"/api/v1/clusters/{cluster.pk}/"
    first = {
        "disabled": ["latest-tag"],
        "severity": {"secret-in-env": "low"},
        "options": {"secret_max_age_days": 30, "trusted_registries": ["ghcr.io/acme", "docker.io"]},
    }
    assert api.patch(url, {"check_settings": first}).status_code == 200
    second = {
        "disabled": ["privileged-container", "secret-in-configmap"],
        "severity": {"secret-in-env": "info"},
        "options": {"trusted_registries": ["ghcr.io/acme", "*.example.com"]},
    }
    assert api.patch(url, {"check_settings": second}).status_code == 200

    events = AuditEvent.objects.filter(action="cluster.updated").order_by("id")
    assert events[0].details["check_settings"] == [
        "switched off: latest-tag",
        "severity of secret-in-env: default → low",  # a check id that names a secret is not redacted
        "secret_max_age_days: default → 30",
        "trusted_registries: added ghcr.io/acme, docker.io",
    ]
    assert events[1].details["check_settings"] == [
        "switched off: privileged-container, secret-in-configmap",
        "switched on again: latest-tag",
        "severity of secret-in-env: low → info",
        "secret_max_age_days: 30 → default",
        "trusted_registries: added *.example.com; removed docker.io",
    ]
    auditor = make_user(None, username="auditor", is_superuser=True)
    client.force_login(auditor)
    page = html.unescape(client.get("/accounts/audit/", {"action": "cluster.updated"}).content.decode())
    assert "switched off: privileged-container, secret-in-configmap" in page
    assert "trusted_registries: added *.example.com; removed docker.io" in page


def test_a_change_that_leaves_the_check_settings_alone_says_nothing_of_them(client, admin_user, cluster):
    api = Api(client, token_for(admin_user))
    api.patch(f"/api/v1/clusters/{cluster.pk}/", {"check_settings": {"disabled": ["latest-tag"]}})
    api.patch(f"/api/v1/clusters/{cluster.pk}/", {"description": "the EU shop"})
    latest = AuditEvent.objects.filter(action="cluster.updated").latest("id")
    assert latest.details["changed"] == ["description"]
    assert "check_settings" not in latest.details
