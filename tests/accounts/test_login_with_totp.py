from datetime import timedelta

import pytest

from tests.accounts.conftest import START, enrol, is_logged_in, password_step, totp_code
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled(viewer, clock):
    enrol(viewer, START)
    clock.advance(seconds=60)  # past the step of the confirming code
    return viewer


def test_the_password_alone_does_not_log_in_a_user_with_two_factor(client, enrolled):
    response = password_step(client, "vera")
    assert response.status_code == 302
    assert response.url == "/accounts/login/verify/"
    assert not is_logged_in(client)
    assert client.get("/clusters/").status_code == 302  # still sent to the login page
    assert client.get("/api/v1/clusters/").status_code in (401, 403)


def test_a_current_code_completes_the_login(client, enrolled, clock):
    password_step(client, "vera")
    page = client.get("/accounts/login/verify/").content.decode()
    assert 'autocomplete="one-time-code"' in page
    assert 'inputmode="numeric"' in page
    response = client.post("/accounts/login/verify/", {"code": totp_code(enrolled, clock.now)})
    assert response.status_code == 302
    assert response.url == "/"
    assert is_logged_in(client)


def test_a_code_from_the_previous_step_is_still_accepted_for_clock_drift(client, enrolled, clock):
    password_step(client, "vera")
    earlier = clock.now - timedelta(seconds=30)
    response = client.post("/accounts/login/verify/", {"code": totp_code(enrolled, earlier)})
    assert response.status_code == 302
    assert is_logged_in(client)


def test_a_wrong_code_is_refused_and_the_user_stays_logged_out(client, enrolled):
    password_step(client, "vera")
    response = client.post("/accounts/login/verify/", {"code": "123456"})
    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    assert not is_logged_in(client)


def test_the_next_page_is_kept_across_both_steps(client, enrolled, clock):
    client.post("/accounts/login/", {"username": "vera", "password": TEST_PASSWORD, "next": "/findings/"})
    response = client.post("/accounts/login/verify/", {"code": totp_code(enrolled, clock.now)})
    assert response.url == "/findings/"


def test_an_outside_next_page_is_ignored(client, viewer):
    response = client.post(
        "/accounts/login/",
        {"username": "vera", "password": TEST_PASSWORD, "next": "https://evil.example/"},
    )
    assert response.url == "/"


def test_the_second_step_expires(client, enrolled, clock):
    password_step(client, "vera")
    clock.advance(minutes=11)
    response = client.post("/accounts/login/verify/", {"code": totp_code(enrolled, clock.now)})
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert not is_logged_in(client)


def test_the_second_step_cannot_be_reached_without_the_password(client, enrolled, clock):
    response = client.post("/accounts/login/verify/", {"code": totp_code(enrolled, clock.now)})
    assert response.url == "/accounts/login/"
    assert not is_logged_in(client)


def test_the_admin_site_logs_in_through_the_same_two_steps(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/admin/"


def test_a_signed_in_user_who_is_not_staff_is_refused_by_the_admin_not_sent_round_in_circles(client):
    from tests.factories import make_user

    client.force_login(make_user(username="erin"))
    page = client.get("/admin/", follow=True)
    assert page.status_code == 403
    assert len(page.redirect_chain) == 1  # /admin/ -> /admin/login/, then refused
