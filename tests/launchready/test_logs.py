"""Logs are structured and never carry a password, token, cookie or secret."""

from __future__ import annotations

import io
import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter

from launchready.logs import REDACTED, RequestIdFilter, ScrubFilter, scrub_text


@pytest.fixture
def capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s"))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(ScrubFilter())
    logger = logging.getLogger("tests.scrub")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


@pytest.mark.parametrize(
    "secret_line",
    [
        "login failed for password=hunter2-very-secret",
        'payload {"password": "hunter2-very-secret"}',
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXZhbHVl",
        "Cookie: sessionid=hunter2-very-secret; csrftoken=abc",
        "connecting to postgres://app:hunter2-very-secret@db:5432/launchready",
        "stripe key sk_live_hunter2verysecret0000 leaked",
        "api_key: hunter2-very-secret",
        "slack token xoxb-1234567890-hunter2verysecret",
    ],
)
def test_it_scrubs_secrets_from_messages(capture: tuple[logging.Logger, io.StringIO], secret_line: str) -> None:
    logger, stream = capture
    logger.info(secret_line)
    line = json.loads(stream.getvalue())
    assert "hunter2" not in stream.getvalue()
    assert "verysecret" not in stream.getvalue()
    assert REDACTED in line["message"]


def test_it_scrubs_arguments_and_extra_fields(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.warning(
        "sign-in for %s with %s",
        "founder@example.com",
        "password=hunter2-very-secret",
        extra={"token": "tok-hunter2", "headers": {"Authorization": "Basic aHVudGVyMjpzZWNyZXQ=", "Accept": "json"}},
    )
    line = json.loads(stream.getvalue())
    assert "hunter2" not in stream.getvalue()
    assert line["token"] == REDACTED
    assert line["headers"] == {"Authorization": REDACTED, "Accept": "json"}
    assert line["request_id"] == "-"


def test_it_scrubs_tracebacks(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    try:
        raise RuntimeError("could not connect to redis://:hunter2-very-secret@cache:6379/0")
    except RuntimeError:
        logger.exception("broker down")
    assert "RuntimeError" in stream.getvalue()
    assert "hunter2" not in stream.getvalue()


def test_it_leaves_ordinary_text_alone() -> None:
    text = "audit of example.com finished: 3 findings, tokenizer ok"
    assert scrub_text(text) == text


def test_a_bad_format_string_keeps_the_line(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info("count %d of %d", "x")
    assert "count" in stream.getvalue()


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/accounts/login/")
    assert len(response["X-Request-ID"]) == 32
    assert client.get("/accounts/login/", headers={"X-Request-ID": "abc12345-run"})["X-Request-ID"] == "abc12345-run"
    assert client.get("/accounts/login/", headers={"X-Request-ID": "<script>"})["X-Request-ID"] != "<script>"


@pytest.mark.django_db
def test_a_form_post_too_large_to_read_is_a_page_and_one_warning_line(client, settings) -> None:  # type: ignore[no-untyped-def]
    """Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE: the visitor reads why, the log gets one line
    (through the console handler's own filters, as settings.LOGGING configures them)."""
    from django.utils.module_loading import import_string

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    for name in settings.LOGGING["handlers"]["console"]["filters"]:
        handler.addFilter(import_string(settings.LOGGING["filters"][name]["()"])())
    django_logger = logging.getLogger("django")
    django_logger.addHandler(handler)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    try:
        response = client.post("/accounts/login/", {"login": "a@b.test", "password": "x" * 5000})
    finally:
        django_logger.removeHandler(handler)
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    lines = stream.getvalue().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("WARNING django.security.RequestDataTooBig"), lines
    assert "Traceback" not in stream.getvalue() and "x" * 100 not in stream.getvalue()


def test_request_lines_keep_no_ping_secret(settings) -> None:  # type: ignore[no-untyped-def]
    """runserver's request lines go through the scrubbed console handler, and gunicorn's access log through the
    product's logger class: a heartbeat's ping URL names its secret in the path."""
    from gunicorn.config import Config

    from launchready.gunicorn_logging import ScrubbedLogger

    token = "wzf_nazX2We_fg8boEfWGWuD"
    server = settings.LOGGING["loggers"]["django.server"]
    assert server["handlers"] == ["console"] and server["propagate"] is False
    assert "scrub" in settings.LOGGING["handlers"]["console"]["filters"]

    cfg = Config()
    cfg.set("accesslog", "-")
    log = ScrubbedLogger(cfg)
    stream = io.StringIO()
    for handler in log.access_log.handlers:
        handler.setStream(stream)  # type: ignore[attr-defined]
    log.access_log.info('%(h)s "%(r)s" %(s)s', {"h": "127.0.0.1", "r": f"GET /ping/{token}/start HTTP/1.1", "s": "200"})
    line = stream.getvalue()
    assert "/ping/" in line and '" 200' in line
    assert token not in line
