import re

import pytest
import yaml

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_is_openapi_3_and_documents_every_endpoint(schema):
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in [
        "/api/v1/clusters/",
        "/api/v1/clusters/{id}/snapshots",
        "/api/v1/findings/",
        "/api/v1/findings/{id}/accept-risk/",
        "/api/v1/findings/bulk-acknowledge/",
        "/api/v1/findings/export/csv/",
        "/api/v1/checks/",
        "/api/v1/exceptions/",
        "/api/v1/comments/",
        "/api/v1/history/",
        "/api/v1/trends/",
        "/api/v1/summary/",
        "/api/v1/notification-deliveries/",
        "/api/v1/teams/",
        "/api/v1/teams/{slug}/",
        "/api/v1/teams/{slug}/members/",
        "/api/v1/teams/{slug}/members/{username}/",
    ]:
        assert path in paths, path


def test_every_operation_documents_the_error_format(schema):
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert "401" in operation["responses"], (method, path)
                ref = operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error"


def test_the_findings_list_documents_cursor_pagination_and_the_shared_filters(schema):
    parameters = {p["name"] for p in schema["paths"]["/api/v1/findings/"]["get"]["parameters"]}
    assert {
        "cursor",
        "ordering",
        "page_size",
        "severity",
        "status",
        "namespace",
        "cluster",
        "q",
    } <= parameters


def test_both_token_kinds_are_documented(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiToken"]["bearerFormat"].startswith("rpt_")
    assert schemes["ingestToken"]["bearerFormat"].startswith("rpi_")
    push = schema["paths"]["/api/v1/clusters/{id}/snapshots"]["post"]
    assert push["security"] == [{"ingestToken": []}]


def test_the_interactive_docs_load_every_asset_from_rampart_itself(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(not source.startswith(("http://", "https://", "//")) for source in sources), sources
    assert "cdn" not in html.lower()
    assert "<style" not in html  # the CSP allows no inline style: its page styles are a static file
    for source in sources:
        if source.startswith("/static/"):
            assert client.get(source).status_code == 200, source


def test_no_operation_is_described_by_an_internal_docstring(schema):
    from posture.api.throttling import ThrottleFirstMixin

    internal = ThrottleFirstMixin.__doc__.split("(")[0].strip()
    described = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert internal not in operation.get("description", ""), (method, path)
                described[(method, path)] = operation.get("description", "")
    assert described[("get", "/api/v1/trends/")].startswith("Time series per cluster, team or the fleet")


def _query_parameters(schema, path) -> set[str]:
    return {p["name"] for p in schema["paths"][path]["get"].get("parameters", []) if p["in"] == "query"}


def test_both_exports_document_the_filters_of_the_finding_list(schema):
    filters = _query_parameters(schema, "/api/v1/findings/") - {"cursor", "ordering", "page_size"}
    assert {"severity", "status", "cluster", "q", "overdue"} <= filters
    for kind in ("csv", "json"):
        assert _query_parameters(schema, f"/api/v1/findings/export/{kind}/") == filters, kind


def test_a_clusters_ingest_tokens_document_no_parameter_of_the_cluster_list(schema):
    assert _query_parameters(schema, "/api/v1/clusters/{id}/ingest-tokens/") == set()


def test_a_findings_severity_category_and_status_are_documented_with_the_filters_values(schema):
    components = schema["components"]["schemas"]
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/findings/"]["get"]["parameters"]}
    for name in ("severity", "category", "status"):
        field = components["Finding"]["properties"][name]
        enum = components[field["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
        accepted = parameters[name].get("items", parameters[name])["enum"]
        assert sorted(enum) == sorted(accepted), name
