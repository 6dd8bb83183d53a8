import itertools

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.settings import api_settings

from tests.api.helpers import Api, assert_error, token_for

pytestmark = pytest.mark.django_db

_addresses = itertools.count(10)


def _rates(**rates):
    return override_settings(
        REST_FRAMEWORK={**api_settings.user_settings, "DEFAULT_THROTTLE_RATES": {**_base(), **rates}}
    )


def _base():
    return {"anon": "10000/min", "user": "10000/min", "export": "10000/min", "ingest": "10000/min"}


def _address() -> str:
    return f"198.51.100.{next(_addresses) % 250}"


def test_each_token_has_its_own_budget(client, viewer):
    cache.clear()
    first, second = token_for(viewer), token_for(viewer)
    address = _address()
    with _rates(user="3/min"):
        a = Api(client, first, REMOTE_ADDR=address)
        for _ in range(3):
            assert a.get("/api/v1/clusters/", REMOTE_ADDR=address).status_code == 200
        error = assert_error(client.get("/api/v1/clusters/", headers=a.headers, REMOTE_ADDR=address), 429)
        assert error["code"] == "throttled"
        assert Api(client, second).get("/api/v1/clusters/").status_code == 200


def test_anonymous_requests_are_limited_per_address(client):
    cache.clear()
    one, two = _address(), _address()
    with _rates(anon="2/min"):
        for _ in range(2):
            assert client.get("/api/v1/clusters/", REMOTE_ADDR=one).status_code == 401
        assert_error(client.get("/api/v1/clusters/", REMOTE_ADDR=one), 429, "throttled")
        assert client.get("/api/v1/clusters/", REMOTE_ADDR=two).status_code == 401


def test_exports_have_a_smaller_budget_of_their_own(client, viewer):
    cache.clear()
    raw = token_for(viewer)
    with _rates(export="1/min"):
        api = Api(client, raw)
        assert api.get("/api/v1/findings/export/csv/").status_code == 200
        assert_error(api.get("/api/v1/findings/export/csv/"), 429, "throttled")
        assert api.get("/api/v1/findings/").status_code == 200


def test_guessing_tokens_from_one_address_is_throttled_like_anonymous_traffic(client):
    cache.clear()
    address = _address()
    with _rates(anon="3/min"):
        for _ in range(3):
            response = client.get(
                "/api/v1/clusters/", headers={"Authorization": "Bearer rpt_x_y"}, REMOTE_ADDR=address
            )
            assert_error(response, 401, "authentication_failed")
        response = client.get(
            "/api/v1/clusters/", headers={"Authorization": "Bearer rpt_x_z"}, REMOTE_ADDR=address
        )
        assert_error(response, 429, "throttled")
