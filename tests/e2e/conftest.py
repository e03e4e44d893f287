"""Headless Chromium (Debian's package) driven by Playwright, with screenshots kept for people to look at."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    # Playwright's sync API keeps an event loop in the test thread; the ORM calls the tests make are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium package is missing: `make test` installs it, or apt-get install chromium")
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        # The test's queries ran on a connection of their own while Playwright's loop was up; close it
        # while that loop still runs, so the test database can be dropped at the end of the session.
        connections.close_all()
        browser.close()


class Screens:
    """Saves numbered screenshots of each page visited, so a person can look at them afterwards."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0

    def shot(self, page: object, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{name}.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.fixture
def screens(request: pytest.FixtureRequest) -> Screens:
    return Screens(request.node.name.removeprefix("test_"))
