"""/healthz reports the database and the broker as JSON, without secrets."""

from __future__ import annotations

import pytest
from django.test import override_settings

from launchready.celery import app


@pytest.mark.django_db
def test_it_reports_database_and_broker(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_it_answers_503_when_the_broker_is_down_and_keeps_its_address_secret(client) -> None:  # type: ignore[no-untyped-def]
    dead = "redis://:hunter2-secret@127.0.0.1:1/0"
    original = app.conf.broker_url
    app.conf.broker_url = dead
    try:
        with override_settings(CELERY_BROKER_URL=dead):
            response = client.get("/healthz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"
    assert "hunter2" not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()
