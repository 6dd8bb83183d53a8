"""Hostile and malformed input: always the one error format, never a 500 or internal detail."""

import pytest
from django.test import override_settings

from tests.api.helpers import assert_error, make_findings

pytestmark = pytest.mark.django_db

READ_URLS = [
    "/api/v1/clusters/",
    "/api/v1/scans/",
    "/api/v1/findings/",
    "/api/v1/checks/",
    "/api/v1/exceptions/",
    "/api/v1/comments/",
    "/api/v1/history/",
    "/api/v1/trends/",
    "/api/v1/summary/",
    "/api/v1/findings/export/csv/",
    "/api/v1/notification-endpoints/",
    "/api/v1/notification-deliveries/",
    "/api/v1/teams/",
]
HOSTILE = [
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\u202e\u0000",
    "../../etc/passwd",
    "9" * 40,
    "-1",
    "1e309",
    "%00",
    "${jndi:ldap://x}",
    "💥" * 300,
    "²",  # a digit to str.isdigit, not to int()
    "9999-12-31",  # the last date: one day later overflows
]


def test_every_endpoint_refuses_anonymous_requests_in_the_one_format(api):
    for url in READ_URLS:
        assert_error(api().get(url), 401, "not_authenticated")
    assert_error(api().post("/api/v1/clusters/", {}), 401)
    assert_error(api().post("/api/v1/findings/bulk-acknowledge/", {"ids": [1]}), 401)


def test_hostile_query_strings_never_cause_a_server_error(api, viewer, cluster):
    make_findings(cluster, 3)
    client = api(viewer)
    for url in READ_URLS:
        for value in HOSTILE:
            names = ("cluster", "namespace", "severity", "status", "q", "page", "cursor", "assignee")
            names += ("first_seen_after", "first_seen_before")
            params = dict.fromkeys(names, value)
            params.update(team=value, bucket=value, days=value, ordering=value, page_size=value)
            response = client.get(url, params)
            assert response.status_code < 500, (url, value, response.status_code)
            if response.status_code >= 400:
                assert_error(response, response.status_code)


def test_hostile_ids_in_paths_are_not_found(api, viewer):
    client = api(viewer)
    for path in ("/api/v1/findings/{}/", "/api/v1/clusters/{}/", "/api/v1/scans/{}/", "/api/v1/history/{}/"):
        for value in ("0", "99999999999999999", "abc", "1.5", "-3"):
            response = client.get(path.format(value))
            assert response.status_code == 404, (path, value)


def test_wrong_types_in_bodies_are_invalid_input(api, engineer, admin_user, cluster):
    finding = make_findings(cluster, 1)[0]
    cases = [
        (api(engineer), f"/api/v1/findings/{finding.pk}/accept-risk/", {"reason": ["a"], "until": 5}),
        (api(engineer), f"/api/v1/findings/{finding.pk}/assign/", {"assignee": {"id": 1}}),
        (api(engineer), f"/api/v1/findings/{finding.pk}/comments/", {"body": ["not", "text"]}),
        (api(engineer), "/api/v1/findings/bulk-reopen/", {"ids": "1,2,3"}),
        (api(engineer), "/api/v1/findings/bulk-reopen/", {"ids": [True, None]}),
        (api(engineer), "/api/v1/findings/bulk-reopen/", {"ids": [2**70]}),
        (api(admin_user), "/api/v1/clusters/", {"name": None, "team": 7, "scan_interval_minutes": -5}),
        (api(admin_user), "/api/v1/exceptions/", {"label_selector": "app=x", "expires_at": "tomorrow"}),
        (
            api(admin_user),
            "/api/v1/notification-endpoints/",
            {"url": "javascript:alert(1)", "team": "payments"},
        ),
    ]
    for client, url, body in cases:
        assert_error(client.post(url, body), 400, "invalid")


def test_a_body_that_is_not_json_is_a_parse_error(api, engineer, cluster):
    finding = make_findings(cluster, 1)[0]
    response = api(engineer).client.post(
        f"/api/v1/findings/{finding.pk}/acknowledge/",
        b"{not json",
        content_type="application/json",
        headers=api(engineer).headers,
    )
    assert_error(response, 400, "parse_error")
    assert_error(
        api(engineer).client.post(
            f"/api/v1/findings/{finding.pk}/acknowledge/",
            b"<x/>",
            content_type="application/xml",
            headers=api(engineer).headers,
        ),
        415,
        "unsupported_media_type",
    )


@pytest.mark.parametrize("depth", [100, 3000], ids=["past-the-limit", "past-the-parser"])
def test_json_nested_too_deep_is_refused_saying_so(api, engineer, cluster, depth):
    client = api(engineer)
    response = client.client.post(
        "/api/v1/findings/bulk-acknowledge/",
        b"[" * depth + b"]" * depth,
        content_type="application/json",
        headers=client.headers,
    )
    error = assert_error(response, 400, "parse_error")
    assert error["message"] == "The JSON is nested more than 64 levels deep."


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64 * 1024)
def test_a_huge_json_body_is_refused_before_it_is_parsed(api, engineer, cluster):
    body = {"ids": list(range(1, 20_000)), "reason": "x" * 100_000}
    assert_error(api(engineer).post("/api/v1/findings/bulk-reopen/", body), 413, "too_large")


def test_nul_bytes_and_control_characters_in_text_are_refused_not_stored(api, engineer, admin_user, cluster):
    finding = make_findings(cluster, 1)[0]
    assert_error(api(engineer).post(f"/api/v1/findings/{finding.pk}/comments/", {"body": "a\x00b"}), 400)
    body = {
        "cluster": cluster.pk,
        "check_ids": ["x"],
        "reason": "r",
        "owner": "ada",
        "expires_at": "2999-01-01T00:00:00Z",
        "label_selector": {"a\x00": "b"},
    }
    assert_error(api(admin_user).post("/api/v1/exceptions/", body), 400, "parse_error")
    assert_error(api(engineer).post("/api/v1/findings/bulk-assign/", {"ids": [1], "assignee": "\ud800"}), 400)
    assert_error(api(engineer).get("/api/v1/trends/", {"team": "pay\x00ments"}), 400, "invalid")


def test_an_unknown_method_is_refused_in_the_one_format(api, viewer, cluster):
    assert_error(api(viewer).put("/api/v1/findings/"), 405, "method_not_allowed")
    assert_error(api(viewer).delete("/api/v1/summary/"), 405)


def test_an_unknown_api_path_is_a_json_404(api, viewer):
    for path in (
        "/api/v1/nothing-here/",
        "/api/v1/clusters/%0A/ingest-tokens/x/",
        "/api/v1/findings/1/explode/",
    ):
        assert_error(api(viewer).get(path), 404, "not_found")
