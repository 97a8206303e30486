from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any query here would fail the test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_readyz_answers_while_the_database_does(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "up"


@pytest.mark.django_db
def test_readyz_answers_503_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("gone")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503


def _settings_in_production(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update({"BIHUAN_ENV": "production", "DJANGO_SETTINGS_MODULE": "bihuan.settings",
                        **env})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=environment, capture_output=True, text=True, check=False,
    )


GOOD_KEY = "k" * 64
# A well-formed personal-data keyring (bihuan.core.crypto): an encryption key, a look-up key.
PII_KEYS = "k1:" + "A" * 43 + "=,hash:" + "B" * 43 + "="


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": GOOD_KEY}, "PostgreSQL"),
        ({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "postgres://x@127.0.0.1/x", "DEBUG": "1"},
         "DEBUG"),
        ({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "postgres://x@127.0.0.1/x",
          "ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "postgres://x@127.0.0.1/x",
          "ALLOWED_HOSTS": "bihuan.example.gov.cn"}, "BIHUAN_PII_KEYS"),
        ({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "postgres://x@127.0.0.1/x",
          "ALLOWED_HOSTS": "bihuan.example.gov.cn", "BIHUAN_PII_KEYS": "k1:short,hash:x"},
         "BIHUAN_PII_KEYS"),
    ],
)
def test_production_refuses_an_unsafe_configuration(env, complaint):
    result = _settings_in_production(**env)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_accepts_a_safe_configuration():
    result = _settings_in_production(SECRET_KEY=GOOD_KEY,
                                     DATABASE_URL="postgres://x@127.0.0.1/x",
                                     ALLOWED_HOSTS="bihuan.example.gov.cn",
                                     BIHUAN_PII_KEYS=PII_KEYS)
    assert result.returncode == 0, result.stderr
