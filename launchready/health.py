"""Readiness of the parts the product needs: the database and the broker. Reports no secrets."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import connection

from launchready.celery import app

log = logging.getLogger(__name__)


def _timed(check: Any) -> dict[str, Any]:
    started = time.monotonic()
    try:
        check()
    except Exception as exc:
        # The exception text can carry a DSN; only its kind is reported.
        log.warning("health check %s failed: %s", check.__name__, type(exc).__name__)
        return {"status": "error", "error": type(exc).__name__}
    return {"status": "ok", "ms": round((time.monotonic() - started) * 1000, 1)}


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def check_all() -> dict[str, Any]:
    checks = {"database": _timed(check_database), "broker": _timed(check_broker)}
    status = "ok" if all(c["status"] == "ok" for c in checks.values()) else "error"
    return {"status": status, "checks": checks}
