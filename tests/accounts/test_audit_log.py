import pytest

from accounts import audit
from accounts.models import AuditEvent
from tests.accounts.conftest import START, enrol, password_step, sign_in, totp_code
from tests.factories import TEST_PASSWORD, create_token_on_page

pytestmark = pytest.mark.django_db


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def test_a_login_and_a_logout_are_recorded_with_the_address_and_request_id(client, viewer):
    response = password_step(client, "vera", REMOTE_ADDR="198.51.100.7")
    client.post("/accounts/logout/")
    login, logout = AuditEvent.objects.order_by("id")
    assert (login.action, logout.action) == ("login.succeeded", "logout")
    assert login.actor == viewer
    assert login.ip == "198.51.100.7"
    assert login.request_id == response.headers["X-Request-ID"]
    assert login.details == {"second_factor": "none"}  # a password alone


def test_a_login_with_a_second_factor_records_which_one(client, viewer, clock):
    enrol(viewer, START)
    clock.advance(minutes=1)
    password_step(client, "vera")
    client.post("/accounts/login/verify/", {"code": totp_code(viewer, clock.now)})
    assert actions() == ["mfa.enabled", "login.succeeded"]
    assert AuditEvent.objects.get(action="login.succeeded").details == {"second_factor": "totp"}


def test_a_failed_login_is_recorded_without_the_password(client, viewer):
    password_step(client, "vera", "hunter2-is-my-password")
    event = AuditEvent.objects.get()
    assert event.action == "login.failed"
    assert event.actor is None
    assert event.details == {"username": "vera", "reason": "bad_credentials"}
    assert "hunter2" not in str(event.details)


def test_a_wrong_second_factor_is_recorded(client, viewer, clock):
    enrol(viewer, START)
    clock.advance(minutes=1)
    password_step(client, "vera")
    client.post("/accounts/login/verify/", {"code": "000000"})
    event = AuditEvent.objects.get(action="login.mfa_failed")
    assert event.target_id == str(viewer.pk)
    assert event.details == {"username": "vera", "method": "totp"}


def test_turning_two_factor_on_and_off_and_new_codes_are_recorded(client, viewer, clock):
    codes = enrol(viewer, START)
    sign_in(client, viewer)
    client.post("/accounts/security/mfa/recovery-codes/", {"regenerate-password": TEST_PASSWORD})
    client.post("/accounts/security/mfa/disable/", {"disable-password": TEST_PASSWORD})
    assert actions() == ["mfa.enabled", "mfa.recovery_codes_regenerated", "mfa.disabled"]
    assert all(code not in str(AuditEvent.objects.values_list("details")) for code in codes)


def test_token_creation_and_revocation_are_recorded_without_the_token(client, viewer):
    sign_in(client, viewer)
    response = create_token_on_page(client, name="ci", scope="read")
    token = response.context["new_token"]
    client.post(f"/accounts/tokens/{token.pk}/revoke/")
    created, revoked = AuditEvent.objects.order_by("id")
    assert (created.action, revoked.action) == ("token.created", "token.revoked")
    assert created.target_type == "accounts.apitoken"
    assert created.target_id == str(token.pk)
    assert created.details == {
        "token_id": token.token_id,
        "token_name": "ci",
        "scope": "read",
        "expires_at": None,
    }
    secret = response.context["plaintext"].split("_", 2)[2]
    assert secret not in str(created.details) + created.target_label


def test_record_keeps_the_target_described_after_it_is_deleted(cluster, admin_user):
    event = audit.record("cluster.updated", actor=admin_user, target=cluster, fields=["schedule"])
    cluster_id = cluster.pk
    cluster.delete()
    event.refresh_from_db()
    assert (event.target_type, event.target_id, event.target_label) == (
        "posture.cluster",
        str(cluster_id),
        "prod-eu",
    )
    assert event.actor_label == "ada"
    assert event.details == {"fields": ["schedule"]}


def test_record_redacts_details_that_look_like_secrets(admin_user):
    event = audit.record(
        "cluster.credentials_changed",
        actor=admin_user,
        password="p",
        bearer_token="t",
        api_key="k",
        client_secret="s",
        credentials="c",
        recovery_code="r",
        token_id="kept",
        mode="token",
    )
    assert event.details == {
        "password": "[redacted]",
        "bearer_token": "[redacted]",
        "api_key": "[redacted]",
        "client_secret": "[redacted]",
        "credentials": "[redacted]",
        "recovery_code": "[redacted]",
        "token_id": "kept",
        "mode": "token",
    }


def test_record_without_an_actor_is_a_system_event_and_dates_are_stored_as_text():
    event = audit.record("finding.risk_expired", until=START)
    assert event.actor is None
    assert event.actor_label == ""
    assert event.details == {"until": "2026-03-02T09:00:00Z"}
    assert event.ip is None


def test_a_password_change_is_recorded(client, viewer):
    sign_in(client, viewer)
    client.post(
        "/accounts/password/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "a-much-longer-passphrase-42",
            "new_password2": "a-much-longer-passphrase-42",
        },
    )
    assert actions() == ["password.changed"]
