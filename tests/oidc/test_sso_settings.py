"""Mistakes in the single sign-on settings stop start-up with a message, not a login later."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.oidc.checks import oidc_settings_check
from tests.factories import make_team

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def configured(settings, db):
    settings.RAMPART_OIDC_ISSUER = "https://sso.example.com/realms/ops"
    settings.RAMPART_OIDC_CLIENT_ID = "rampart"
    settings.RAMPART_OIDC_CLIENT_SECRET = "secret"
    make_team("Payments")
    return settings


def messages() -> list[str]:
    return [f"{error.id} {error.msg}" for error in oidc_settings_check(None)]


def test_a_sound_configuration_has_no_errors(configured):
    configured.RAMPART_OIDC_TEAM_ROLES = {"k8s-payments-admins": {"payments": "admin"}}
    assert messages() == []


def test_nothing_is_checked_when_single_sign_on_is_off(settings):
    settings.RAMPART_OIDC_ISSUER = ""
    settings.RAMPART_OIDC_TEAM_ROLES = {"x": "nonsense"}
    assert messages() == []


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({"k8s": {"payments": "owner"}}, 'group "k8s", team "payments": unknown role \'owner\''),
        ({"k8s": "payments"}, 'group "k8s": expected an object of team slugs to roles'),
        ({"k8s": {}}, 'group "k8s": expected an object of team slugs to roles'),
        ({"k8s": {"paymnets": "viewer"}}, 'names team "paymnets", which does not exist'),
    ],
    ids=["unknown-role", "not-an-object", "empty", "unknown-team"],
)
def test_a_wrong_team_roles_mapping_is_an_error(configured, mapping, expected):
    configured.RAMPART_OIDC_TEAM_ROLES = mapping
    (message,) = messages()
    assert "RAMPART_OIDC_TEAM_ROLES" in message
    assert expected in message


@pytest.mark.parametrize(
    "issuer",
    [
        "http://sso.example.com",
        "ftp://sso.example.com",
        "sso.example.com",
        "https://sso.example.com/?realm=x",
    ],
)
def test_an_issuer_that_is_not_https_is_an_error(configured, issuer):
    configured.RAMPART_OIDC_ISSUER = issuer
    (message,) = messages()
    assert message.startswith("rampart.E111 RAMPART_OIDC_ISSUER must be an https:// URL")


def test_plain_http_is_accepted_on_the_loopback_address_only(configured):
    configured.RAMPART_OIDC_ISSUER = "http://127.0.0.1:8080/realms/dev"
    assert messages() == []


def test_the_client_id_and_secret_are_required(configured):
    configured.RAMPART_OIDC_CLIENT_SECRET = ""
    assert messages() == ["rampart.E112 RAMPART_OIDC_CLIENT_SECRET is required with RAMPART_OIDC_ISSUER."]


def test_sso_only_without_an_issuer_is_an_error(settings):
    settings.RAMPART_OIDC_ISSUER = ""
    settings.RAMPART_OIDC_ONLY = True
    assert messages() == [
        "rampart.E110 RAMPART_OIDC_ONLY is set but RAMPART_OIDC_ISSUER is not: nobody could log in."
    ]


def manage_check(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RAMPART_OIDC", "DATABASE_URL"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        RAMPART_DATA_DIR=str(tmp_path),
        RAMPART_OIDC_ISSUER="https://sso.example.com",
        RAMPART_OIDC_CLIENT_ID="rampart",
        RAMPART_OIDC_CLIENT_SECRET="secret",
        **env,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_malformed_json_stops_start_up(tmp_path):
    result = manage_check(tmp_path, RAMPART_OIDC_TEAM_ROLES='{"k8s-readers": {"payments": "viewer"')
    assert result.returncode != 0
    # ImproperlyConfigured, as for every setting that cannot be parsed: the last line says what.
    assert "RAMPART_OIDC_TEAM_ROLES must be a JSON object" in result.stderr.strip().splitlines()[-1]


def test_an_unknown_role_stops_start_up(tmp_path):
    result = manage_check(tmp_path, RAMPART_OIDC_TEAM_ROLES='{"k8s-readers": {"payments": "reader"}}')
    assert result.returncode != 0
    assert "rampart.E114" in result.stderr
    assert "unknown role 'reader'" in result.stderr
