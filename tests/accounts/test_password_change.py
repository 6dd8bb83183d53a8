import pytest
from django.test import Client

from tests.accounts.conftest import is_logged_in, password_step
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW = "a-much-longer-passphrase-42"


def change(client, old=TEST_PASSWORD, new=NEW, confirm=None):
    return client.post(
        "/accounts/password/", {"old_password": old, "new_password1": new, "new_password2": confirm or new}
    )


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("short-pw1", "at least 12 characters"),
        ("password1234", "too common"),
        ("839201746583", "entirely numeric"),
        ("vera-example-com", "too similar"),
        # Longer than any sign-in form takes: it was accepted here and then locked its owner out.
        ("a-long-passphrase-" * 300, "at most 4,096 characters"),
    ],
)
def test_the_password_validators_apply(client, viewer, new, message):
    viewer.email = "vera@example.com"
    viewer.save()
    client.force_login(viewer)
    response = change(client, new=new)
    assert response.status_code == 200
    assert message in response.content.decode()
    viewer.refresh_from_db()
    assert viewer.check_password(TEST_PASSWORD)


def test_the_old_password_is_needed(client, viewer):
    client.force_login(viewer)
    response = change(client, old="not it")
    assert response.status_code == 200
    viewer.refresh_from_db()
    assert viewer.check_password(TEST_PASSWORD)


def test_a_good_new_password_is_set_and_this_session_stays_logged_in(client, viewer):
    client.force_login(viewer)
    response = change(client)
    assert response.url == "/accounts/security/"
    viewer.refresh_from_db()
    assert viewer.check_password(NEW)
    assert client.get("/accounts/security/").status_code == 200


def test_other_sessions_are_logged_out_by_a_password_change(client, viewer):
    other = Client()
    password_step(other, "vera")
    assert is_logged_in(other)
    client.force_login(viewer)
    change(client)
    assert other.get("/clusters/").status_code == 302


def test_the_form_names_the_account_for_password_managers_without_sending_it(client, viewer):
    client.force_login(viewer)
    page = client.get("/accounts/password/").text
    assert f'<input type="text" autocomplete="username" value="{viewer.username}" hidden readonly>' in page
