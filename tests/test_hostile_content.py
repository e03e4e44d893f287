"""The hostile-content matrix, the isolation matrix's twin: in a workspace where every text a consultant,
a founder, the deploy API or an audited domain controls is hostile (tests/hostile_world.py), every page
found by walking the URLconf, as every role, every email as sent and in preview, the pack's HTML, PDF
source and Markdown, and the JSON exports keep that text as text: never an element, never an attribute,
never a script, never an evaluated template, never a link that runs script.

A new page is covered because the URLconf is walked; a new text field because every text field of every
model is made hostile unless tests/hostile_world.py says why it cannot be; a new email because every
email template must be seen rendered while the world sends its mail.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse
from django.urls.converters import UUIDConverter
from django.utils.html import escape
from selectolax.lexbor import LexborHTMLParser

from audits.models import AuditFinding
from handover.models import PackVersion
from handover.pdf import pack_print_html
from launchready.bidi import neutralise
from launchready.markdown import md_code, md_escape
from launchready.sandbox.hostile_text import (
    ALL,
    ASCII,
    JAVASCRIPT_URL,
    LONG,
    MARKDOWN,
    MARKER,
    RIGHT_TO_LEFT,
    STRINGS,
    TEMPLATE,
)
from launchready.sandbox.runner import Sandbox
from monitoring.models import Deploy
from tests.conftest import login
from tests.hostile_checks import htmx_problems, json_problems, markdown_problems, markup_problems, text_problems
from tests.hostile_world import EXEMPT, HostileWorld, build_hostile_world, hostile_fields, models_without_rows
from tests.urlwalk import walk

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Page:
    name: str
    params: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


# Pages a walk cannot open, each with the reason (they take a secret from an email, or are Django's admin).
NOT_WALKED = {
    "admin": "Django's admin, for the operators only, escapes through Django's own templates",
    "account_reset_password_from_key": "needs a reset key from an email; its form shows no tenant text",
    "account_confirm_email": "needs a confirmation key from an email; shows only the address being confirmed",
}


def pages() -> list[Page]:
    found: dict[str, Page] = {}
    for name, converters in walk():
        if name.split(":")[0] in NOT_WALKED or name in NOT_WALKED:
            continue
        uuids = tuple(sorted(k for k, v in converters.items() if isinstance(v, UUIDConverter)))
        others = tuple(sorted(k for k, v in converters.items() if not isinstance(v, UUIDConverter)))
        found[name] = Page(name, uuids + others)
    return sorted(found.values(), key=lambda p: p.name)


PAGES = pages()

# Parameters that are not a tenant object's UUID: the token a visitor's link carries (tests/hostile_world.py).
OTHER_PARAMS = {"token"}


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any, world_sandbox: Sandbox) -> Iterator[HostileWorld]:
    """Built once and committed (the audit saves from a thread of its own), removed when the module ends."""
    saved = {key: os.environ.get(key) for key in world_sandbox.env()}
    os.environ.update(world_sandbox.env())
    with django_db_blocker.unblock():
        try:
            yield build_hostile_world(world_sandbox.net_config())
        finally:
            call_command("flush", interactive=False, verbosity=0)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _url(page: Page, world: HostileWorld) -> str | None:
    kwargs = {}
    for param in page.params:
        if param in world.objects:
            kwargs[param] = world.objects[param].code
        elif param == "token" and page.name in world.tokens:
            kwargs[param] = world.tokens[page.name]
        else:
            return None
    return reverse(page.name, kwargs=kwargs)


def _visitors(world: HostileWorld) -> dict[str, HttpClient]:
    return {"anonymous": HttpClient(), "owner": login(world.owner), "founder": login(world.founder)}


def problems_of(response: Any) -> list[str]:
    content_type = response.get("Content-Type", "")
    body = response.content
    if content_type.startswith("text/html"):
        return markup_problems(body.decode()) + htmx_problems(body.decode())
    if content_type.startswith("application/json"):
        return json_problems(body, content_type)
    if content_type.startswith("text/markdown"):
        return markdown_problems(body.decode())
    if content_type.startswith("text/plain"):
        return text_problems(body.decode())
    return []


def test_it_knows_how_to_open_every_page() -> None:
    from tests.test_isolation import OBJECT_FOR

    unknown = {p for page in PAGES for p in page.params if p not in OBJECT_FOR and p not in OTHER_PARAMS}
    assert not unknown, f"teach the hostile world to build {unknown}"


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES, ids=str)
def test_no_page_lets_hostile_text_become_markup(page: Page, world: HostileWorld) -> None:
    url = _url(page, world)
    assert url is not None, f"{page.name}: teach tests/hostile_world.py to build {page.params}"
    shown = 0
    for role, http in _visitors(world).items():
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = http.get(url, **headers)
            assert response.status_code != 500, f"{role} GET {page.name}"
            if response.status_code == 200:
                shown += 1
                found = problems_of(response)
                assert not found, f"{role} GET {url} ({page.name}): {found[:5]}"
                body = response.content.decode(errors="replace")
                if role != "anonymous" and page.params and "<html" in body:
                    # A tenant's page shows its (hostile) records: the check above had something to see.
                    assert MARKER in body, f"{role} GET {page.name}: no hostile text shown"
    if shown == 0:
        pytest.skip(f"{page.name} answers no one with a page on GET (an action, or a redirect)")


TEXT_INPUTS = {"text", "email", "url", "search", "tel", ""}


def _hostile_posts(html: str, url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Each POST form of a page, filled in as an attacker would: hostile text in every text field, the
    hidden fields and choices as the page gave them."""
    for form in LexborHTMLParser(html).css("form"):
        if (form.attributes.get("method") or "").lower() != "post":
            continue
        data: dict[str, str] = {}
        for field in form.css("input, textarea, select"):
            name = field.attributes.get("name")
            kind = (field.attributes.get("type") or "").lower()
            if not name or kind in ("file", "checkbox", "radio", "submit", "button", "password"):
                continue
            if field.tag == "select":
                option = field.css_first("option[selected]") or field.css_first("option")
                data[name] = (option.attributes.get("value") or "") if option is not None else ""
            elif field.tag == "textarea" or kind in TEXT_INPUTS:
                data[name] = LONG if field.tag == "textarea" else ALL
            else:
                data[name] = field.attributes.get("value") or ""
        yield form.attributes.get("action") or url, data


@pytest.mark.django_db
@pytest.mark.parametrize("page", [p for p in PAGES if p.params], ids=str)
def test_no_form_shows_hostile_input_as_markup(page: Page, world: HostileWorld) -> None:
    """Every form of a tenant's page, posted with hostile text: the answer (an error, or the page it leads
    to) shows that text as text."""
    url = _url(page, world)
    assert url is not None
    posted = 0
    for role, http in _visitors(world).items():
        if role == "anonymous":
            continue
        response = http.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        for action, data in _hostile_posts(response.content.decode(), url):
            if action.endswith(("/delete/", "/logout/", "/remove/", "/withdraw/", "/revoke/")):
                continue  # a confirmed removal takes no text
            answer = http.post(action, data, follow=True)
            assert answer.status_code != 500, f"{role} POST {action}"
            posted += 1
            if answer["Content-Type"].startswith("text/html"):
                found = markup_problems(answer.content.decode())
                assert not found, f"{role} POST {action} ({page.name}): {found[:5]}"
    if posted == 0:
        pytest.skip(f"{page.name} has no form that takes text")


@pytest.mark.django_db
def test_hostile_text_from_the_audited_domain_reaches_the_pages(world: HostileWorld) -> None:
    """Each source of domain-controlled text made it into the findings, and the run page shows it escaped."""
    evidence = {f.check_id: json.dumps(f.evidence) for f in AuditFinding.objects.filter(run=world.objects["run_code"])}
    for check_id in ("email.spf.syntax", "email.dmarc.syntax", "headers.hsts_short", "edge.no_cdn", "tls.untrusted"):
        assert MARKER in evidence.get(check_id, ""), f"{check_id} carries the domain's hostile text"
    assert any(c.startswith("assistant.leak") for c in evidence), "the assistant's hostile reply is a finding"
    assert any(c == "headers.cookie_insecure" for c in evidence), "the hostile cookie's name is a finding"
    page = login(world.owner).get(reverse("audit_run_detail", args=[world.objects["run_code"].code])).content.decode()
    assert escape(ASCII[:40]) in page, "the hostile TXT record is shown, escaped"
    assert Deploy.objects.filter(client=world.client).exists(), "the deploy API took the hostile deploy"


@pytest.mark.django_db
def test_hostile_heartbeats_reach_every_surface(world: HostileWorld) -> None:
    """The heartbeats' hostile names and ping bodies made it to the page, the alerts, the pack, the weekly report
    and the deploy's job checks: the checks above had them to read."""
    subjects = [m.subject for m in world.sent]
    for prefix in ("Failed: ", "Late: ", "Running again: "):
        assert any(s.startswith(f"[Launch Ready] {prefix}") and MARKER in s for s in subjects), prefix
    page = login(world.owner).get(reverse("client_monitoring", args=[world.client.code])).content.decode()
    assert page.count('class="monitor heartbeat"') == 4 and escape(ALL[:40]) in page
    pack = PackVersion.objects.get(pk=world.objects["pack_code"].pk)
    assert len(pack.data["jobs"]["heartbeats"]) == 4 and MARKER in pack.markdown.split("How to tell the jobs run")[1]
    report = world.objects["report_code"]
    assert report.data["jobs"] and all(MARKER in j["name"] for j in report.data["jobs"])
    deploy = Deploy.objects.get(client=world.client)
    assert deploy.job_checks and all(MARKER in c["name"] for c in deploy.job_checks)


@pytest.mark.django_db
def test_a_hostile_dmarc_report_reaches_every_surface(world: HostileWorld) -> None:
    """The DMARC report's hostile reporter and source names made it to the senders page, the client page, the
    weekly report and the pack: the checks above had them to read."""
    for name in ("dmarc_senders", "client_detail"):
        page = login(world.founder).get(reverse(name, args=[world.client.code])).content.decode()
        assert "Who sends as you" in page and MARKER in page.split("Who sends as you", 1)[1], name
    report = world.objects["report_code"]
    assert report.data["senders"] and all(MARKER in s["name"] for s in report.data["senders"]["failing"])
    assert MARKER in report.html.split("Who sends as you", 1)[1]
    pack = PackVersion.objects.get(pk=world.objects["pack_code"].pk)
    assert MARKER in pack.markdown.split("### Who sends as you", 1)[1]


@pytest.mark.django_db
def test_every_email_keeps_hostile_text_as_text(world: HostileWorld) -> None:
    assert world.sent, "the world sent its mail"
    for message in world.sent:
        assert "\n" not in message.subject and not text_problems(message.subject), message.subject
        assert not text_problems(message.body), (message.subject, text_problems(message.body))
        htmls = [content for content, kind in getattr(message, "alternatives", []) if kind == "text/html"]
        assert htmls, f"{message.subject!r} has an HTML part"
        for html in htmls:
            assert not markup_problems(html), (message.subject, markup_problems(html))
    assert any(MARKER in m.body for m in world.sent), "hostile text reached the mail"


def _email_templates() -> set[str]:
    base = ROOT / "templates"
    return {
        str(path.relative_to(base))
        for path in base.rglob("*")
        if path.is_file() and "email" in path.relative_to(base).parts[:-1]
    }


@pytest.mark.django_db
def test_the_world_sends_every_email_the_product_has(world: HostileWorld) -> None:
    """A new email template must be sent by the hostile world, so the matrix reads it."""
    missing = _email_templates() - world.email_templates
    assert not missing, f"make tests/hostile_world.py send the emails of {sorted(missing)}"


@pytest.mark.django_db
def test_the_published_pack_keeps_hostile_text_as_text(world: HostileWorld) -> None:
    version = PackVersion.objects.get(pk=world.objects["pack_code"].pk)
    assert MARKER in version.markdown and MARKER in version.html
    assert not markup_problems(version.html)
    assert not markup_problems(pack_print_html(version)), "the PDF's source"
    assert not markdown_problems(version.markdown)


@pytest.mark.django_db
def test_every_model_has_a_row_in_the_world(world: HostileWorld) -> None:
    assert not models_without_rows(), "give these models a row in tests/hostile_world.py, or a reason"


def test_every_exempt_field_exists() -> None:
    """An exemption outlives its field only by mistake."""
    from django.apps import apps

    for label in EXEMPT:
        app_model, name = label.rsplit(".", 1)
        apps.get_model(app_model)._meta.get_field(name)
    assert len(list(hostile_fields())) > 40


# --- The checker itself: it sees each way hostile text becomes markup ------------------------------------


@pytest.mark.parametrize(
    "hostile", [s for s in STRINGS if s not in (RIGHT_TO_LEFT, JAVASCRIPT_URL, TEMPLATE, MARKDOWN)]
)
def test_the_checker_sees_hostile_text_printed_raw(hostile: str) -> None:
    raw = Template('{% autoescape off %}<p title="{{ v }}">{{ v }}</p>{% endautoescape %}')
    escaped = Template('<p title="{{ v }}">{{ v }}</p>')
    assert markup_problems(raw.render(Context({"v": hostile})))
    assert not markup_problems(escaped.render(Context({"v": hostile})))


def test_the_checker_sees_htmx_left_able_to_run_script() -> None:
    script = '<script src="/static/js/htmx.min.js"></script>'
    page = f'<head><meta name="htmx-config" content=\'{{"allowEval": true}}\'>{script}'
    assert len(htmx_problems(page)) == 4
    assert htmx_problems(script) == ["htmx is loaded without its hardened configuration"]


def test_the_checker_sees_a_right_to_left_override_left_raw() -> None:
    assert markup_problems(f"<p>{RIGHT_TO_LEFT}</p>") == ["a raw bidirectional control U+202E"]
    assert text_problems(RIGHT_TO_LEFT) and not text_problems(neutralise(RIGHT_TO_LEFT))


def test_the_checker_sees_a_link_that_runs_script_and_an_evaluated_template() -> None:
    assert markup_problems(f'<a href="{JAVASCRIPT_URL}">x</a>')
    assert markup_problems(Template(TEMPLATE).render(Context({})))
    assert text_problems("Client &lt;img src=x&gt;")
    assert markdown_problems('<img src=x onerror="alert(1)">')
    assert not markdown_problems("Client &lt;img src=x&gt; and `<b>`")
    assert markdown_problems(f"| `{MARKDOWN}` |")
    assert not markdown_problems(f"| {md_code(MARKDOWN)} | {md_escape(MARKDOWN)} |")


@pytest.mark.django_db
def test_the_matrix_fails_when_autoescaping_is_off(world: HostileWorld) -> None:
    """The mutation the matrix exists to catch: turn autoescaping off and the client page is markup."""
    django_templates = settings.TEMPLATES[0]
    templates = [
        {**django_templates, "OPTIONS": {**django_templates["OPTIONS"], "autoescape": False}},
        settings.TEMPLATES[1],
    ]
    url = reverse("client_detail", args=[world.client.code])
    assert not markup_problems(login(world.owner).get(url).content.decode())
    with override_settings(TEMPLATES=templates):
        assert markup_problems(login(world.owner).get(url).content.decode())


@pytest.mark.django_db
def test_the_matrix_fails_when_the_jinja2_partials_do_not_escape(world: HostileWorld) -> None:
    """The same mutation for the row-heavy partials rendered by Jinja2 (jinja/): the dashboard's rows, the
    overview's lines, a client's monitors, its findings and its domains are markup once its autoescaping is off."""
    jinja = settings.TEMPLATES[1]
    templates = [settings.TEMPLATES[0], {**jinja, "OPTIONS": {**jinja["OPTIONS"], "autoescape": False}}]
    urls = [
        reverse("dashboard"),
        reverse("monitoring_overview"),
        reverse("client_monitoring", args=[world.client.code]),
        reverse("client_risks", args=[world.client.code]),
        reverse("client_detail", args=[world.client.code]),
    ]
    for url in urls:
        assert not markup_problems(login(world.owner).get(url).content.decode()), url
    with override_settings(TEMPLATES=templates):
        for url in urls:
            assert markup_problems(login(world.owner).get(url).content.decode()), url


def test_plain_text_templates_are_rendered_as_plain_text() -> None:
    """A subject or a text part rendered the HTML way is HTML-escaped ("A &amp; B") and comes back marked
    safe, so a page that shows it prints it raw: they go through launchready/plaintext.py."""
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        for call in re.findall(r"render_to_string\(\s*[\"']([^\"']+)[\"']", source):
            if call.endswith(".txt"):
                offenders.append(f"{path.relative_to(ROOT)}: {call}")
    assert not offenders, offenders


@pytest.mark.django_db
def test_the_csv_export_and_its_import_preview_keep_hostile_text_as_text(world: HostileWorld) -> None:
    """The workspace exported to CSV carries its hostile text as data, no cell a spreadsheet would run as a
    formula; uploaded back, the preview (and each row's error) shows that text as text."""
    http = login(world.owner)
    exported = http.get(reverse("onboarding_export"))
    assert exported["Content-Type"].startswith("text/csv")
    text = exported.content.decode()
    assert MARKER in text
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], "a formula cell in the export"
    upload = SimpleUploadedFile(f"{ALL[:60]}.csv", exported.content, "text/csv")
    preview = http.post(reverse("onboarding_import"), {"file": upload})
    assert preview.status_code == 200
    body = preview.content.decode()
    assert MARKER in body
    found = markup_problems(body)
    assert not found, found[:5]
