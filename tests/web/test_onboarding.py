"""Onboarding in bulk: the template, the preview with an error per row, the import (idempotent), the export
(re-importable, formula cells neutralised), bad files answered plainly, and only the consultancy's staff."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse

from audits.models import AuditRun
from launchready.models import Client, Contact, Domain, Route
from tests.conftest import Tenant, login, make_tenant
from tests.factories import ClientFactory, ContactFactory, DomainFactory, RouteFactory
from web.onboarding import HEADER, MAX_ROWS, csv_decode, csv_parse, onboarding_apply, onboarding_export, onboarding_plan

pytestmark = pytest.mark.django_db


def _csv(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header or HEADER)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


GOOD = [
    {"kind": "client", "client": "Northwind Health", "product_kind": "b2b_dashboard", "stage": "demo_to_launch",
     "timezone": "Europe/Berlin", "notes": "Board demo in March"},
    {"kind": "contact", "client": "Northwind Health", "contact_name": "Lena Vogel", "role": "CTO",
     "email": "lena@northwind.example", "phone": "+49 30 1234567", "primary": "yes"},
    {"kind": "domain", "client": "Northwind Health", "domain": "https://www.northwind-health.example/pricing",
     "hosts": "app, api", "mail_providers": "google, postmark", "dkim_selectors": "google",
     "hosting_provider": "render", "deploy_method": "ci_pipeline", "daily_audit": "yes"},
    {"kind": "route", "client": "Northwind Health", "domain": "northwind-health.example", "host": "app",
     "path": "/login", "route_kind": "login", "keyword": "Sign in"},
    {"kind": "route", "client": "Northwind Health", "domain": "northwind-health.example", "host": "eu",
     "path": "/api/health", "route_kind": "api_health"},
    {"kind": "route", "client": "Northwind Health", "domain": "northwind-health.example", "path": "/"},
]  # fmt: skip


def _upload(http: HttpClient, data: bytes, name: str = "clients.csv") -> Any:
    return http.post(reverse("onboarding_import"), {"file": SimpleUploadedFile(name, data, "text/csv")})


def _apply(http: HttpClient, preview: Any) -> Any:
    return http.post(reverse("onboarding_apply"), {"digest": preview.context["digest"]})


def _counts(workspace: Any) -> tuple[int, int, int, int]:
    clients = Client.objects.filter(workspace=workspace)
    return (
        clients.count(),
        Contact.objects.filter(client__in=clients).count(),
        Domain.objects.filter(client__in=clients).count(),
        Route.objects.filter(domain__client__in=clients).count(),
    )


def _snapshot(workspace: Any) -> list[Any]:
    clients = Client.objects.filter(workspace=workspace)
    return [
        list(clients.order_by("id").values()),
        list(Contact.objects.filter(client__in=clients).order_by("id").values()),
        list(Domain.objects.filter(client__in=clients).order_by("id").values()),
        list(Route.objects.filter(domain__client__in=clients).order_by("id").values()),
    ]


def test_the_template_has_a_header_and_one_example_row_per_kind(tenant: Tenant) -> None:
    response = login(tenant.consultant).get(reverse("onboarding_template"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["kind"] for r in rows] == ["client", "contact", "domain", "route"]
    assert list(rows[0]) == HEADER
    plan = onboarding_plan(
        workspace=tenant.workspace, user=tenant.consultant, rows=csv_parse(response.content.decode())
    )
    assert not plan.errors and plan.count("create") == 4, "the template imports as it is"


def test_a_good_file_is_previewed_then_imported_and_its_new_domains_audited(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    before = _counts(tenant.workspace)
    preview = _upload(http, _csv(GOOD))
    assert preview.status_code == 200
    assert _counts(tenant.workspace) == before, "the preview saves nothing"
    plan = preview.context["plan"]
    assert not plan.errors and [r.action for r in plan.rows] == ["create"] * 6
    assert "starts the first audit of each new domain (1)" in preview.content.decode()
    done = _apply(http, preview)
    assert done.status_code == 302 and done["Location"] == reverse("dashboard")
    client = Client.objects.get(workspace=tenant.workspace, name="Northwind Health")
    assert client.timezone == "Europe/Berlin" and client.product_kind == "b2b_dashboard"
    contact = client.contacts.get()
    assert contact.is_primary and contact.phone == "+49 30 1234567"
    domain = client.domains.get()
    assert domain.name == "northwind-health.example" and domain.hosts == ["app", "api", "eu"]
    assert domain.mail_providers == ["google", "postmark"] and domain.deploy_method == "ci_pipeline"
    routes = {(r.host, r.path): r for r in domain.routes.all()}
    assert set(routes) == {("app", "/login"), ("eu", "/api/health"), ("", "/")}
    assert routes[("", "/")].kind == "other" and routes[("app", "/login")].expected_statuses == [200]
    assert AuditRun.objects.filter(domain=domain).count() == 1, "the new domain's first audit"
    message = next(str(m) for m in done.wsgi_request._messages)
    assert "1 client, 1 contact, 1 domain, 3 routes added" in message and "first audit of 1 new domain" in message


def test_the_same_file_twice_changes_nothing_and_a_changed_row_updates(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    _apply(http, _upload(http, _csv(GOOD)))
    snapshot = _snapshot(tenant.workspace)
    again = _upload(http, _csv(GOOD))
    assert [r.action for r in again.context["plan"].rows] == ["unchanged"] * 6
    assert "would change nothing" in again.content.decode()
    assert _snapshot(tenant.workspace) == snapshot
    changed = [dict(r) for r in GOOD]
    changed[0]["stage"] = "launch_to_first_customers"
    changed[3]["keyword"] = "Welcome back"
    changed[1]["role"] = ""  # an empty cell keeps what the record has
    preview = _upload(http, _csv(changed))
    assert [r.action for r in preview.context["plan"].rows] == ["update", "unchanged", "unchanged", "update"] + [
        "unchanged"
    ] * 2
    _apply(http, preview)
    client = Client.objects.get(workspace=tenant.workspace, name="Northwind Health")
    assert client.stage == "launch_to_first_customers" and client.contacts.get().role == "CTO"
    assert client.domains.get().routes.get(path="/login").keyword == "Welcome back"
    assert AuditRun.objects.filter(domain__client=client).count() == 1, "an updated domain is not audited again"


def test_the_export_imports_back_as_no_change(tenant: Tenant) -> None:
    ContactFactory(client=tenant.client, name='=HYPERLINK("http://evil.example")', phone="+44 20 1234 5678")
    tenant.client.notes = "-2+3"
    tenant.client.save()
    other = make_tenant()  # another workspace: never in this one's export
    response = login(tenant.consultant).get(reverse("onboarding_export"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    assert other.client.name not in text and other.domain.name not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["kind"] for r in rows} == {"client", "contact", "domain", "route"}
    risky = [v for r in rows for v in r.values() if v and v[0] in "=+-@"]
    assert not risky, f"cells a spreadsheet would run as formulas: {risky}"
    assert any(r["contact_name"] == '\'=HYPERLINK("http://evil.example")' for r in rows)
    plan = onboarding_plan(workspace=tenant.workspace, user=tenant.consultant, rows=csv_parse(text))
    assert not plan.errors, [r.errors for r in plan.errors]
    assert {r.action for r in plan.rows} == {"unchanged"}, [(r.number, r.action) for r in plan.rows]
    assert len(plan.rows) == len(rows)


def test_the_export_of_an_imported_file_round_trips(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    _apply(http, _upload(http, _csv(GOOD)))
    snapshot = _snapshot(tenant.workspace)
    exported = http.get(reverse("onboarding_export")).content
    preview = _upload(http, exported)
    assert {r.action for r in preview.context["plan"].rows} == {"unchanged"}
    assert _snapshot(tenant.workspace) == snapshot


def _errors(http: HttpClient, rows: list[dict[str, str]]) -> dict[int, list[tuple[str, str]]]:
    response = _upload(http, _csv(rows))
    assert response.status_code == 200
    return {r.number: r.errors for r in response.context["plan"].rows if r.errors}


def test_each_bad_row_says_which_column_and_what_is_wrong(tenant: Tenant) -> None:
    tenant.domain.name = "taken.example"
    tenant.domain.save()
    c = tenant.client.name
    rows = [
        {"kind": "client", "client": "Acme", "timezone": "Mars/Olympus"},
        {"kind": "domain", "client": "Acme", "domain": "not a domain"},
        {"kind": "domain", "client": "Acme", "domain": "10.0.0.1"},
        {"kind": "domain", "client": "Acme", "domain": "app.127.0.0.1.nip.io"},
        {"kind": "domain", "client": c, "domain": "xn--80ak6aa92e.com"},  # Cyrillic аррӏе.com
        {"kind": "route", "client": c, "domain": "taken.example", "path": "/a"},
        {"kind": "route", "client": c, "domain": "taken.example", "path": "/a"},
        {"kind": "route", "client": c, "domain": "taken.example", "path": tenant.route.path, "host": "app"},
        {"kind": "contact", "client": "Nobody Ltd", "contact_name": "Jo"},
        {"kind": "contact", "client": c, "contact_name": "Jo", "email": "not-an-email", "primary": "maybe"},
        {"kind": "widget", "client": c},
        {"kind": "client", "client": "Stray Co", "domain": "stray.example"},
        {"kind": "route", "client": c, "domain": "taken.example", "path": "/b", "expected_statuses": "200, 999"},
    ]
    errors = _errors(login(tenant.consultant), rows)
    columns = {n: [col for col, _ in e] for n, e in errors.items()}
    text = {n: " ".join(m for _, m in e) for n, e in errors.items()}
    assert columns[2] == ["timezone"] and "time zone" in text[2]
    assert columns[2] == ["timezone"] and "time zone" in text[2]
    assert columns[3] == ["client", "domain"] and "row 2" in text[3] and "spaces" in text[3]
    assert "IP address" in text[4] and "127.0.0.1 spelt as a name" in text[5]
    assert columns[6] == ["domain"] and "pass for Latin" in text[6] and "domain form" in text[6]
    assert columns[8] == ["path"] and "row 7" in text[8], "the same route twice in the file"
    assert 9 not in errors, "a route already in the workspace is matched (and updated), not refused"
    assert columns[10] == ["client"] and "no client called Nobody Ltd" in text[10]
    assert columns[11] == ["primary", "email"] and "neither yes nor no" in text[11]
    assert columns[12] == ["kind"] and "widget" in text[12]
    assert columns[13] == ["domain"] and "domain and route rows" in text[13]
    assert columns[14] == ["expected_statuses"] and "999" in text[14]
    assert 7 not in errors


def test_ip_spellings_and_malformed_domains_of_a_known_client_are_refused(tenant: Tenant) -> None:
    c = tenant.client.name
    rows = [
        {"kind": "domain", "client": c, "domain": "10.0.0.1"},
        {"kind": "domain", "client": c, "domain": "app-10-0-0-1.sslip.io"},
        {"kind": "domain", "client": c, "domain": "exa mple.com"},
        {"kind": "domain", "client": c, "domain": "co.uk"},
    ]
    errors = _errors(login(tenant.consultant), rows)
    assert {n: [c for c, _ in e] for n, e in errors.items()} == {
        2: ["domain"],
        3: ["domain"],
        4: ["domain"],
        5: ["domain"],
    }
    assert "IP address" in errors[2][0][1] and "10.0.0.1" in errors[3][0][1] and "spaces" in errors[4][0][1]
    assert "public suffix" in errors[5][0][1]


def test_nothing_is_saved_while_any_row_has_an_error(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    rows = [
        *GOOD,
        {"kind": "route", "client": "Northwind Health", "domain": "northwind-health.example", "path": "/a b"},
    ]
    preview = _upload(http, _csv(rows))
    assert preview.context["plan"].errors and 'action="/dashboard/import/apply/"' not in preview.content.decode()
    before = _counts(tenant.workspace)
    response = _apply(http, preview)
    assert response.status_code == 200 and response.context["plan"].errors
    assert _counts(tenant.workspace) == before


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00rest-of-a-workbook", "spreadsheet workbook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("kind,client\nclient,Caf\u00e9 M\u00fcller\n".encode("cp1252"), "not UTF-8"),
        ("kind,client\nclient,Acme\n".encode("utf-16"), "UTF-16"),
        (b"", "empty"),
        (b"client,Acme,,\nroute,Acme,,/login\n", "header row"),
        (b"kind,client,colour\nclient,Acme,blue\n", "\u201ccolour\u201d"),
        (b"kind,client,client\nclient,Acme,Acme\n", "more than once"),
        (b"kind;client\nclient;Acme\n", "semicolons"),
        (b"kind,client\n", "no rows"),
        (b'kind,client\nclient,"Acme\n', "row"),
    ],
    ids=["xlsx", "png", "cp1252", "utf16", "empty", "no-header", "extra-column", "repeated", "semicolons",
         "header-only", "broken-quote"],
)  # fmt: skip
def test_a_file_that_cannot_be_read_gets_a_clear_answer(tenant: Tenant, data: bytes, said: str) -> None:
    response = _upload(login(tenant.consultant), data)
    assert response.status_code == 200
    assert said in response.context["file_error"], response.context["file_error"]
    assert "plan" not in response.context


def test_utf8_with_and_without_a_byte_order_mark_is_read(tenant: Tenant) -> None:
    text = "kind,client\nclient,Café Müller\n"
    for data in (text.encode(), b"\xef\xbb\xbf" + text.encode()):
        response = _upload(login(tenant.consultant), data)
        assert [r.label for r in response.context["plan"].rows] == ["Café Müller"]
    assert csv_decode(b"\xef\xbb\xbfkind") == "kind"


def test_too_large_a_file_or_too_many_rows_is_refused(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    big = b"kind,client,notes\n" + b"client,Acme,%s\n" % (b"x" * 1_000_100)
    assert "limit is 1 MB" in _upload(http, big).context["file_error"]
    many = b"kind,client\n" + b"".join(b"client,Client %d\n" % n for n in range(MAX_ROWS + 1))
    assert f"more than {MAX_ROWS:,} rows" in _upload(http, many).context["file_error"]


def test_a_row_with_more_cells_than_the_header_is_an_error(tenant: Tenant) -> None:
    response = _upload(login(tenant.consultant), b"kind,client\nclient,Acme, Inc\n")
    row = response.context["plan"].rows[0]
    assert row.errors and "double quotes" in row.errors[0][1]


def test_hostile_text_is_escaped_in_the_preview(tenant: Tenant) -> None:
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    rows = [
        {"kind": "client", "client": hostile, "notes": hostile},
        {"kind": "domain", "client": hostile, "domain": hostile},
        {"kind": hostile, "client": hostile},
    ]
    response = _upload(login(tenant.consultant), _csv(rows), name=f"{hostile}.csv")
    body = response.content.decode()
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_founders_and_anonymous_visitors_are_kept_out(tenant: Tenant) -> None:
    names = ["onboarding_import", "onboarding_template", "onboarding_export", "onboarding_apply"]
    founder = login(tenant.founder)
    for name in names:
        assert founder.get(reverse(name)).status_code in (404, 405), name
        assert founder.post(reverse(name), {"digest": "x"}).status_code == 404, name
        assert HttpClient().get(reverse(name)).status_code in (302, 405), name


def test_a_consultant_only_matches_and_exports_their_own_workspace(tenant: Tenant) -> None:
    other = make_tenant()
    http = login(tenant.consultant)
    rows = [{"kind": "domain", "client": other.client.name, "domain": "x.example"}]
    errors = _errors(http, rows)
    assert "no client called" in errors[2][0][1], "another workspace's client is not found"
    assert other.client.name not in http.get(reverse("onboarding_export")).content.decode()


def test_a_preview_from_another_session_or_workspace_is_not_imported(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    preview = _upload(http, _csv(GOOD))
    other = login(make_tenant().consultant)
    response = other.post(reverse("onboarding_apply"), {"digest": preview.context["digest"]})
    assert response.status_code == 302 and response["Location"] == reverse("onboarding_import")
    assert not Client.objects.filter(name="Northwind Health").exists()


def _hundred_rows(workspace: Any) -> list[dict[str, str]]:
    rows = []
    for n in range(10):
        name = f"Bulk Client {n}"
        rows.append({"kind": "client", "client": name, "stage": "demo_to_launch"})
        rows.append({"kind": "contact", "client": name, "contact_name": f"Person {n}", "email": f"p{n}@bulk.example"})
        rows.append({"kind": "domain", "client": name, "domain": f"bulk{n}.example", "hosts": "app"})
        for r in range(7):
            rows.append({"kind": "route", "client": name, "domain": f"bulk{n}.example", "host": "app",
                         "path": f"/page-{r}"})  # fmt: skip
    return rows


def test_preview_and_import_of_a_hundred_rows_take_a_bounded_number_of_queries(
    tenant: Tenant, django_assert_max_num_queries: Any
) -> None:
    for n in range(5):  # half of them exist already, with a route each
        client = ClientFactory(workspace=tenant.workspace, name=f"Bulk Client {n}")
        RouteFactory(domain=DomainFactory(client=client, name=f"bulk{n}.example"), host="app", path="/page-0")
    rows = csv_parse(_csv(_hundred_rows(tenant.workspace)).decode())
    assert len(rows) == 100
    with django_assert_max_num_queries(4):
        plan = onboarding_plan(workspace=tenant.workspace, user=tenant.consultant, rows=rows)
    assert not plan.errors and len(plan.new_domains) == 5
    # a handful per kind, plus one audit run per new domain (the audit service creates them one by one), plus
    # the clients' status rows made and refreshed once for all the audits queued (ten with the journeys' findings,
    # for any number of them), and one look for cron heartbeats to re-time when a client's time zone was set
    with django_assert_max_num_queries(16 + len(plan.new_domains) + 11):
        onboarding_apply(plan=plan, user=tenant.consultant)
    assert Route.objects.filter(domain__name__startswith="bulk").count() == 70
    with django_assert_max_num_queries(4):
        again = onboarding_plan(workspace=tenant.workspace, user=tenant.consultant, rows=rows)
    assert {r.action for r in again.rows} == {"unchanged"}


def test_the_export_takes_four_queries_whatever_the_workspace_holds(
    tenant: Tenant, django_assert_max_num_queries: Any
) -> None:
    for _n in range(20):
        RouteFactory(domain=DomainFactory(client=ClientFactory(workspace=tenant.workspace)))
    with django_assert_max_num_queries(4):
        text = onboarding_export(workspace=tenant.workspace, user=tenant.consultant)
    assert text.count("\nroute,") == 21
