import pytest

from accounts.models import AuditEvent
from tests.accounts.conftest import is_logged_in, password_step
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def spray(client, count, **extra):
    # A different username each time: only the address ties the attempts together.
    for n in range(count):
        password_step(client, f"guess{n}", "wrong password", **extra)


def test_many_failures_from_one_address_lock_that_address(client, viewer, clock, settings):
    settings.RAMPART_LOGIN_IP_MAX_FAILURES = 10
    spray(client, 10, REMOTE_ADDR="198.51.100.7")
    response = password_step(client, "vera", TEST_PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert "Too many failed attempts" in response.content.decode()
    assert not is_logged_in(client)
    assert AuditEvent.objects.get(action="login.locked").details == {
        "scope": "address",
        "subject": "198.51.100.7",
    }


def test_another_address_is_not_affected(client, viewer, clock, settings):
    settings.RAMPART_LOGIN_IP_MAX_FAILURES = 10
    spray(client, 10, REMOTE_ADDR="198.51.100.7")
    password_step(client, "vera", TEST_PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert is_logged_in(client)


def test_a_successful_login_does_not_reset_the_address(client, viewer, clock, settings):
    settings.RAMPART_LOGIN_IP_MAX_FAILURES = 10
    spray(client, 9, REMOTE_ADDR="198.51.100.7")
    password_step(client, "vera", TEST_PASSWORD, REMOTE_ADDR="198.51.100.7")
    client.post("/accounts/logout/")
    spray(client, 1, REMOTE_ADDR="198.51.100.7")
    password_step(client, "vera", TEST_PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert not is_logged_in(client)


def test_behind_one_proxy_the_client_address_comes_from_x_forwarded_for(client, viewer, clock, settings):
    settings.RAMPART_LOGIN_IP_MAX_FAILURES = 5
    settings.RAMPART_PROXY_HOPS = 1
    # The proxy appends the real client; a forged entry further left is ignored.
    spray(client, 5, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    password_step(client, "vera", TEST_PASSWORD, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert is_logged_in(client)
    client.post("/accounts/logout/")
    password_step(
        client, "vera", TEST_PASSWORD, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="5.6.7.8, 198.51.100.7"
    )
    assert not is_logged_in(client)


def test_without_a_proxy_x_forwarded_for_is_ignored(client, viewer, clock, settings):
    settings.RAMPART_LOGIN_IP_MAX_FAILURES = 5
    settings.RAMPART_PROXY_HOPS = 0
    for n in range(5):
        password_step(
            client, f"guess{n}", "wrong", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        )
    password_step(client, "vera", TEST_PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert not is_logged_in(client)
