from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_login_then_profile_shows_the_users_roles_and_areas(client, world):
    user = world.users["baita_cadre"]
    user.set_password("correct horse battery")
    user.save()
    response = client.post("/accounts/login/", {"username": "baita_cadre",
                                                "password": "correct horse battery"})
    assert response.status_code == 302
    page = client.get("/accounts/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Village cadre" in page.content.decode()
    assert "白塔村" in page.content.decode()


def test_a_wrong_password_is_refused_with_a_message(client, world):
    response = client.post("/accounts/login/", {"username": "baita_cadre", "password": "x"},
                           HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_pages_need_a_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_password_change_and_logout(client, world):
    user = world.users["east_officer"]
    user.set_password("old password 123")
    user.save()
    client.force_login(user)
    response = client.post("/accounts/password/", {
        "old_password": "old password 123",
        "new_password1": "a much longer new pass 9",
        "new_password2": "a much longer new pass 9",
    })
    assert response.status_code == 302
    assert get_user_model().objects.get(pk=user.pk).check_password("a much longer new pass 9")
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302
