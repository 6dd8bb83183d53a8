import logging
import sys

import pytest
from django.urls import path
from rest_framework.decorators import api_view

from posture.request_id import ClientErrorTracebackFilter, RequestIdLogFilter
from posture.urls import urlpatterns as project_urlpatterns

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("database password is hunter2")


@api_view(["GET"])
def api_boom(request):
    raise RuntimeError("secret detail")


# This module doubles as a URLconf: the project's URLs plus two that fail.
urlpatterns = [path("boom/", boom), path("api/v1/boom/", api_boom), *project_urlpatterns]
handler400 = "posture.request_id.bad_request"
handler403 = "posture.request_id.permission_denied"
handler404 = "posture.request_id.page_not_found"
handler500 = "posture.request_id.server_error"


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False


def test_every_response_carries_a_request_id(client):
    response = client.get("/accounts/login/")
    assert len(response.headers["X-Request-ID"]) == 32


def test_a_sane_incoming_request_id_is_kept(client):
    response = client.get("/accounts/login/", headers={"X-Request-ID": "lb-2f1c9a7e-0001"})
    assert response.headers["X-Request-ID"] == "lb-2f1c9a7e-0001"


@pytest.mark.parametrize(
    "incoming", ["short", "bad id with spaces", "x" * 200, "<script>alert(1)</script>", "a\nb-injected-line"]
)
def test_an_odd_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/accounts/login/", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] != incoming
    assert len(response.headers["X-Request-ID"]) == 32


def test_the_404_page_shows_the_request_id_and_nothing_else(client, viewer):
    client.force_login(viewer)
    response = client.get("/no-such-page/", headers={"X-Request-ID": "req-404-abcdef12"})
    assert response.status_code == 404
    html = response.content.decode()
    assert "req-404-abcdef12" in html
    assert "Page not found" in html
    assert "Using the URLconf" not in html


def test_the_403_page_shows_the_request_id(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/accounts/audit/", headers={"X-Request-ID": "req-403-abcdef12"})
    assert response.status_code == 403
    assert "req-403-abcdef12" in response.content.decode()


def test_the_500_page_shows_the_request_id_and_no_traceback_with_debug_off(client, failing_urls, viewer):
    client.raise_request_exception = False
    client.force_login(viewer)
    response = client.get("/boom/", headers={"X-Request-ID": "req-500-abcdef12"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "req-500-abcdef12"
    html = response.content.decode()
    assert "req-500-abcdef12" in html
    assert "Something went wrong" in html
    for leak in ("Traceback", "RuntimeError", "hunter2", "boom"):
        assert leak not in html


def test_the_500_page_falls_back_to_plain_text_if_its_template_fails(client, failing_urls, monkeypatch):
    client.raise_request_exception = False

    def broken(name):
        raise RuntimeError("template engine down")

    monkeypatch.setattr("posture.request_id.loader.get_template", broken)
    response = client.get("/boom/", headers={"X-Request-ID": "req-500-fallback"})
    assert response.status_code == 500
    assert (
        response.content.decode() == "Internal error. Quote request id req-500-fallback when you report it.\n"
    )


def test_an_api_500_carries_the_request_id_in_its_body(client, failing_urls, viewer):
    client.force_login(viewer)
    response = client.get("/api/v1/boom/", headers={"X-Request-ID": "req-api-abcdef12"})
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "Internal error. It has been logged.",
            "request_id": "req-api-abcdef12",
        }
    }


def test_log_lines_carry_the_request_id(client, failing_urls, caplog):
    client.raise_request_exception = False
    handler_filter = RequestIdLogFilter()
    caplog.handler.addFilter(handler_filter)
    with caplog.at_level(logging.ERROR):
        client.get("/boom/", headers={"X-Request-ID": "req-log-abcdef12"})
    assert any(getattr(r, "request_id", None) == "req-log-abcdef12" for r in caplog.records)


def test_the_not_found_warning_carries_the_request_id_too(client, caplog):
    caplog.handler.addFilter(RequestIdLogFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/no-such-page/", headers={"X-Request-ID": "req-404-logged01"})
    assert [r.request_id for r in caplog.records if r.name == "django.request"] == ["req-404-logged01"]


def test_outside_a_request_the_log_filter_says_dash():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, sys.exc_info())
    RequestIdLogFilter().filter(record)
    assert record.request_id == "-"


def test_the_logging_settings_print_the_request_id(settings):
    assert "%(request_id)s" in settings.LOGGING["formatters"]["plain"]["format"]
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["request_id", "client_errors"]
    # Django's own loggers go through that handler only (its DEBUG console printed tracebacks twice).
    assert settings.LOGGING["loggers"]["django"] == {"handlers": [], "level": "INFO", "propagate": True}


def test_a_refused_request_is_logged_in_one_line_and_a_server_error_with_its_traceback(
    client, admin_user, failing_urls, caplog
):
    caplog.handler.addFilter(ClientErrorTracebackFilter())
    client.force_login(admin_user)
    client.raise_request_exception = False
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/accounts/audit/").status_code == 403
        assert client.get("/boom/").status_code == 500
    forbidden, failed = [r for r in caplog.records if r.name == "django.request"]
    assert "Forbidden" in forbidden.getMessage()
    assert forbidden.exc_info is None
    assert failed.exc_info is not None
    assert caplog.text.count("Traceback") == 1
