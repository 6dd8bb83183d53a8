import re

import pytest
from django.contrib.auth import get_user_model

from tests.accounts.conftest import password_step

pytestmark = pytest.mark.django_db


def visible_error(response) -> str:
    html = response.content.decode()
    return re.search(r'<p class="error" role="alert">(.*?)</p>', html).group(1)


def test_an_unknown_user_and_a_wrong_password_get_the_same_message(client, viewer):
    unknown = password_step(client, "nobody-here", "wrong password")
    wrong = password_step(client, "vera", "wrong password")
    assert unknown.status_code == wrong.status_code == 200
    assert visible_error(unknown) == visible_error(wrong)
    assert "did not match" in visible_error(wrong)


def test_an_inactive_user_gets_the_same_message_too(client, viewer):
    get_user_model().objects.filter(pk=viewer.pk).update(is_active=False)
    inactive = password_step(client, "vera")
    unknown = password_step(client, "nobody-here", "wrong password")
    assert visible_error(inactive) == visible_error(unknown)


def test_the_login_page_labels_its_fields_for_password_managers(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<label for="id_username">' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html


def test_logging_out_says_so_on_the_login_page(client, viewer):
    client.force_login(viewer)
    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "You are logged out." in response.content.decode()
    assert "_auth_user_id" not in client.session
