"""Every page, found by walking the URLconf as the public, a founder and a consultant, in a real browser at
desktop (1280 px) and phone (390 px) width: nothing sticks out sideways on a phone, and axe-core finds no
serious or critical accessibility violation. A screenshot of each page at each width is kept under
tests/e2e/screenshots/ (pages-<role>-<url name>-<width>.png) for people to look at.

A new page is covered without anyone adding it here. Pages that are not HTML (PDF, Markdown, JSON), that
only redirect, or that the role may not open (403/404/405) are passed over; the test checks that the pages
a founder and a consultant are known to read are among those it visited, so an empty walk cannot pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.db import connections
from django.urls import get_resolver, resolve, reverse
from django.urls.converters import UUIDConverter
from django.utils import timezone

from accounts.models import Membership, Role, hash_token
from audits.inbound.source_hosts import sources_look_up
from audits.models import AuditRun
from handover.models import PackVersion
from handover.publish import pack_publish
from launchready.models import Domain, Route
from launchready.sandbox.runner import Sandbox
from monitoring import lateness
from monitoring.journeys import create_from_template, run_journey_now, set_secret
from monitoring.models import Heartbeat, Journey
from monitoring.pings import heartbeat_create, ping_token, record_ping
from reports.digest import digest_token
from reports.mail import opt_out_token
from tests.conftest import Tenant
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_handover import _brightpath
from tests.factories import PASSWORD, InvitationFactory
from tests.test_isolation import OBJECT_FOR
from tests.urlwalk import walk
from web.demo_dmarc import seed_dmarc_reports

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
INVITATION_TOKEN = "an-invitation-token-for-the-page-walk"

# Email bodies served for a frame of the report pages: mail clients, not browsers, are their readers; and the
# deploy verdict, JSON for a CI job holding the client's deploy token (tests/test_isolation.py walks it).
NOT_PAGES = {"report_email", "report_preview_email", "api_deploy_detail"}


@dataclass
class World:
    tenant: Tenant
    tokens: dict[tuple[str, str], str]

    def path(self, name: str, params: dict[str, Any]) -> str | None:
        kwargs: dict[str, Any] = {}
        for param, converter in params.items():
            if isinstance(converter, UUIDConverter):
                kwargs[param] = OBJECT_FOR_PAGES.get(param, OBJECT_FOR[param])(self.tenant).code
            elif (name, param) in self.tokens:
                kwargs[param] = self.tokens[name, param]
            else:
                return None
        return reverse(name, kwargs=kwargs)


def _pages() -> list[tuple[str, dict[str, Any]]]:
    """Every named URL with its parameters: path converters, and the groups of regular-expression URLs."""
    found = []
    for name, converters in walk():
        groups = {
            param
            for possibilities, _, _, _ in get_resolver().reverse_dict.getlist(name)
            for _, params in possibilities
            for param in params
        }
        found.append((name, {**{g: None for g in groups}, **converters}))
    return sorted(found, key=lambda page: page[0])


def _latest_run(t: Tenant) -> AuditRun:
    return AuditRun.objects.filter(domain=t.domain).latest("created")


def _pack(t: Tenant) -> PackVersion:
    return PackVersion.objects.filter(client=t.client).first() or pack_publish(client=t.client, user=t.consultant)


def _journey(t: Tenant) -> Journey:
    """The sign-in journey from its template, run once against the sandbox (its sign-in fails: brightpath.test's
    form has no CSRF field and takes no post), so that the pages show a real run with its hops."""
    journey = Journey.objects.filter(client=t.client).first()
    if journey is None:
        journey = create_from_template(t.client, "sign_in")
        set_secret(journey, "password", "a-test-password")
        with ThreadPoolExecutor(1) as pool:  # Playwright's event loop runs in this thread
            pool.submit(run_journey_now, journey).result()
    return journey


def _heartbeat(t: Tenant) -> Heartbeat:
    heartbeat = Heartbeat.objects.filter(client=t.client).first()
    assert heartbeat is not None, "the world has its heartbeats"
    return heartbeat


# The world's own objects where the isolation matrix would make bare ones: the audited run, one pack, a journey
# with its steps and a run, the heartbeat that failed.
OBJECT_FOR_PAGES: dict[str, Callable[[Tenant], Any]] = {
    "run_code": _latest_run,
    "pack_code": _pack,
    "journey_code": _journey,
    "step_code": lambda t: _journey(t).steps.order_by("order").first(),
    "journey_run_code": lambda t: _journey(t).runs.first(),
    "heartbeat_code": _heartbeat,
}


def _ping(heartbeat: Heartbeat, kind: str, body: str, at: datetime) -> None:
    record_ping(Heartbeat.objects.select_related("client").get(pk=heartbeat.pk), kind, body, at)


def _world(sandbox_env: Sandbox) -> World:
    try:
        consultant, founder, sprint = _brightpath(sandbox_env)
        client = sprint.client  # type: ignore[attr-defined]
        domain = Domain.objects.get(client=client)
        route = Route.objects.filter(domain=domain).order_by("path").first()
        assert route is not None
        tenant = Tenant(consultant, consultant, founder, client, domain, route, sprint)  # type: ignore[arg-type]
        seed_dmarc_reports(client)  # "who sends as you" with its sources, on the client page and its own
        sources_look_up(client.id, config=sandbox_env.net_config())  # named as the worker names them
        pack_publish(client=client, user=consultant)
        InvitationFactory(
            workspace=client.workspace,
            email="sam@brightpath.example",
            role=Role.FOUNDER,
            client=client,
            token_hash=hash_token(INVITATION_TOKEN),
        )
        owner = Membership.objects.get(user=consultant, workspace=client.workspace)
        # Heartbeats in every state on the monitoring page; the failing one's ping URLs are walked (plain text).
        failing = heartbeat_create(client=client, name="Image resizer", kind=Heartbeat.Kind.JOB)
        _ping(failing, "fail", "cannot identify image file", timezone.now())
        for name, hours_ago in (("Nightly backup", 1), ("Weekly digest", 200)):
            pinged = timezone.now() - timedelta(hours=hours_ago)
            _ping(heartbeat_create(client=client, name=name), "success", "", pinged)
        heartbeat_create(client=client, name="Invoice emails")
        lateness.sweep()
        ping = ping_token(failing)
        address = EmailAddress.objects.get_or_create(user=founder, email=founder.email)[0]  # type: ignore[attr-defined]
        tokens = {
            ("invitation_accept", "token"): INVITATION_TOKEN,
            ("report_opt_out", "token"): opt_out_token(client, founder.email),  # type: ignore[attr-defined]
            ("report_digest_opt_out", "token"): digest_token(owner),
            ("account_confirm_email", "key"): EmailConfirmationHMAC(address).key,
            ("account_reset_password_from_key", "uidb36"): user_pk_to_url_str(founder),
            ("account_reset_password_from_key", "key"): default_token_generator.make_token(founder),
            ("heartbeat_ping", "token"): ping,
            ("heartbeat_ping_start", "token"): ping,
            ("heartbeat_ping_fail", "token"): ping,
        }
        return World(tenant, tokens)
    finally:
        connections.close_all()


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + reverse("account_login"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def _axe(page: Any) -> list[str]:
    # Evaluated through the DevTools protocol, which the page's CSP (no inline script) does not stop.
    page.evaluate(AXE.read_text())
    results = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({"
        "id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(' '))})))"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {json.dumps(v['targets'][:5])}"
        for v in results
        if v["impact"] in ("serious", "critical")
    ]


def _overflow(page: Any) -> str | None:
    wide = page.evaluate(
        """() => {
          const width = window.innerWidth;
          if (document.documentElement.scrollWidth <= width) return null;
          const out = [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > width + 1)
            .filter(e => !e.closest('.table-wrap, pre, .scroll'));
          return {scroll: document.documentElement.scrollWidth, width,
                  culprits: out.slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))};
        }"""
    )
    return None if wide is None else f"{wide['scroll']} px wide at {wide['width']} px: {wide['culprits']}"


def _clipped(page: Any) -> list[str]:
    """Tables made to stack as cards on a phone (.responsive) that still hide cells off to the side of their box:
    the page does not scroll sideways, but the founder sees URLs cut and empty columns."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap')]
          .filter(box => box.querySelector('table.responsive') && box.scrollWidth > box.clientWidth + 1)
          .map(box => `${box.closest('[id]') ? '#' + box.closest('[id]').id + ' ' : ''}table ${box.scrollWidth} px`
                      + ` in a box of ${box.clientWidth} px`)"""
    )


def _page_at(request: Any, base: str, path: str, name: str) -> str | None:
    """The path of the whole HTML page `path` answers with, or None: not HTML (a PDF, a download, JSON), an
    htmx fragment (checked inside the page it is swapped into), a refusal, or a redirect to another page
    (visited on its own). allauth's key pages redirect to themselves, without the key in the address."""
    for _ in range(3):
        response = request.get(base + path, max_redirects=0)
        if response.status in (301, 302) and resolve(urlsplit(response.headers["location"]).path).url_name == name:
            path = urlsplit(response.headers["location"]).path
            continue
        html = response.headers.get("content-type", "").startswith("text/html")
        whole = html and response.text().lstrip()[:15].lower() == "<!doctype html>"
        return path if response.status == 200 and whole else None
    return None


def _walk_pages(browser: Any, base: str, world: World, role: str, email: str | None) -> tuple[set[str], list[str]]:
    """Visits every page the role can open at both widths; returns the names of those pages and the problems."""
    for old in SCREENSHOTS.glob(f"pages-{role}-*.png"):
        old.unlink()
    seen: set[str] = set()
    problems: list[str] = []
    contexts = {}
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport, is_mobile=width == "phone")
        contexts[width] = (context, context.new_page())
        if email:
            _sign_in(contexts[width][1], base, email)
    for name, params in _pages():
        if name.startswith("admin:") or name in NOT_PAGES or (name == "account_login" and email):
            continue
        path = world.path(name, params)
        if path is None:
            problems.append(f"{name}: teach the page walk how to build its {sorted(params)}")
            continue
        path = _page_at(contexts["desktop"][1].request, base, path, name)
        if path is None:
            continue
        seen.add(name)
        for width, (_, page) in contexts.items():
            response = page.goto(base + path)
            assert response is not None and response.status == 200, f"{name} at {width} width: {response}"
            page.screenshot(path=str(SCREENSHOTS / f"pages-{role}-{name}-{width}.png"), full_page=True)
            if width == "phone" and (wide := _overflow(page)):
                problems.append(f"{name} on a phone scrolls sideways: {wide}")
            if width == "phone":
                problems += [f"{name} on a phone cuts a table: {cut}" for cut in _clipped(page)]
            problems += [f"{name} at {width} width: {v}" for v in _axe(page)]
    for context, _ in contexts.values():
        context.close()
    return seen, problems


def _contrast(one: str, two: str) -> float:
    """WCAG contrast of two computed colours ("rgb(45, 91, 255)")."""

    def luminance(css: str) -> float:
        r, g, b = (int(float(c)) / 255 for c in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


FOCUSED = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  let back = el.parentElement;
  const clear = (e) => ['rgba(0, 0, 0, 0)', 'transparent'].includes(getComputedStyle(e).backgroundColor);
  while (back && clear(back)) back = back.parentElement;
  const box = el.getBoundingClientRect();
  return {text: el.textContent.trim().slice(0, 40), tag: el.tagName, style: style.outlineStyle,
          width: parseFloat(style.outlineWidth), colour: style.outlineColor,
          behind: back ? getComputedStyle(back).backgroundColor : 'rgb(255, 255, 255)', top: box.top, left: box.left};
}"""


@contextmanager
def _api_request(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    try:
        yield context.request
    finally:
        context.close()


def _keyboard(browser: Any, base: str, world: World) -> list[str]:
    """The skip link comes first and leads to the main landmark; every focused control shows a ring of at
    least 3:1 against what is behind it; "Copied" is said in a live region."""
    problems = []
    context = browser.new_context(viewport=WIDTHS["desktop"])
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    _sign_in(page, base, world.tenant.consultant.email)
    page.goto(base + reverse("client_risks", args=[world.tenant.client.code]))
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED)
    if first["text"] != "Skip to content" or first["top"] < 0:
        problems.append(f"the first Tab reaches {first['text']!r} at {first['top']} px, not a visible skip link")
    page.keyboard.press("Enter")
    if page.evaluate("document.activeElement.id") != "main":
        problems.append("the skip link does not move the focus to the main landmark")
    for _ in range(25):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUSED)
        if ring["tag"] == "BODY":  # past the last control of the page
            break
        if ring["style"] == "none" or ring["width"] < 2 or _contrast(ring["colour"], ring["behind"]) < 3:
            problems.append(f"focus ring on {ring['tag']} {ring['text']!r}: {ring}")
    if page.locator("main [role=status][aria-live=polite] #audit-progress").count() != 1:
        problems.append("the audit progress of the risk list is not inside a live region")
    page.locator("details.finding summary").first.click()
    page.locator("details.finding [data-copy]").first.click()
    status = page.locator("body > [role=status][aria-live=polite]")
    status.filter(has_text="Copied to the clipboard").wait_for(timeout=3000)
    page.screenshot(path=str(SCREENSHOTS / "pages-keyboard-copied.png"))
    page.evaluate("document.querySelectorAll('details.finding').forEach(d => d.open = true)")
    page.screenshot(path=str(SCREENSHOTS / "pages-consultant-client_risks-evidence.png"), full_page=True)
    if page.locator("details.finding .evidence table").count() == 0:
        problems.append("no finding of the audit shows its evidence as a table")
    context.close()
    return problems


def test_every_page_fits_a_phone_and_passes_axe(sandbox_env: Sandbox, live_server, browser) -> None:  # type: ignore[no-untyped-def]
    assert AXE.exists(), "axe-core is missing: `make browser` installs it (npm ci)"
    # The audit and the probes run their own event loops: not in this thread, where Playwright's loop runs.
    with ThreadPoolExecutor(1) as pool:
        world = pool.submit(_world, sandbox_env).result()
    base = live_server.url
    t = world.tenant
    # axe is injected under the product's own CSP, which forbids inline script: the check runs as people browse.
    with _api_request(browser) as request:
        policy = request.get(base + reverse("account_login")).headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, policy
    visits = {
        "public": _walk_pages(browser, base, world, "public", None),
        "founder": _walk_pages(browser, base, world, "founder", t.founder.email),
        "consultant": _walk_pages(browser, base, world, "consultant", t.consultant.email),
        "keyboard": (set(), _keyboard(browser, base, world)),
    }
    assert {"account_login", "account_reset_password", "report_opt_out", "invitation_accept"} <= visits["public"][0]
    assert {"client_detail", "pack_version", "client_monitoring", "access_inventory", "report_history"} <= visits[
        "founder"
    ][0]
    assert {"dashboard", "client_detail", "client_risks", "audit_run_detail", "sprint_detail", "route_edit"} <= visits[
        "consultant"
    ][0]
    problems = [f"{role}: {p}" for role, (_, found) in visits.items() for p in found]
    assert not problems, "\n".join(["", *problems])
