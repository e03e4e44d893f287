"""Clients, contacts, domains and routes onboarded in bulk from one CSV file, and exported in the same format.

Four plain steps: `csv_parse` reads the file (or says in plain English why it cannot), `onboarding_plan` checks
every row with the one-by-one forms' own validation against what the workspace already holds and says what
each row would do, `onboarding_apply` saves a plan without errors, and `onboarding_export` writes the
workspace back out. Matching, so that importing the same file twice changes nothing: a client by its name
within the workspace (letter case and extra spaces aside), a contact by its name within its client, a domain
by its apex within its client, a route by its host and path within its domain. An empty cell keeps what an
existing record has (a new one takes the default).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db import models, transaction

from accounts.models import User, Workspace
from audits.runs import audit_runs_start
from launchready.domains import DomainError, display_name, normalise_label, parse_domain
from launchready.forms import ClientForm, ContactForm, DomainForm, RouteForm
from launchready.models import Client, Contact, Domain, Route

MAX_BYTES = 1_000_000
MAX_ROWS = 2_000

CLIENT, CONTACT, DOMAIN, ROUTE = "client", "contact", "domain", "route"
KINDS = (CLIENT, CONTACT, DOMAIN, ROUTE)


@dataclass(frozen=True)
class Column:
    name: str
    kinds: tuple[str, ...]
    help: str
    field: str = ""  # the form field it fills, where that differs from the column's name


COLUMNS = (
    Column("kind", KINDS, "What the row adds: client, contact, domain or route."),
    Column(
        "client", KINDS, "The client's company name; contact, domain and route rows name the client they belong to."
    ),
    Column("product_kind", (CLIENT,), "One of: " + ", ".join(Client.ProductKind.values) + "."),
    Column("stage", (CLIENT,), "One of: " + ", ".join(Client.Stage.values) + "."),
    Column("timezone", (CLIENT,), "A time zone name such as Europe/London or America/New_York; UTC if empty."),
    Column("notes", (CLIENT,), "Free text about the client."),
    Column("contact_name", (CONTACT,), "The person's name.", "name"),
    Column("role", (CONTACT,), "Their role at the company, such as CTO."),
    Column("email", (CONTACT,), "Their email address."),
    Column("phone", (CONTACT,), "Their phone number: digits, spaces, + ( ) - only."),
    Column("primary", (CONTACT,), "yes if they are the primary contact, otherwise no.", "is_primary"),
    Column(
        "domain", (DOMAIN, ROUTE), "The domain, or any address on it; route rows name the domain of the route.", "name"
    ),
    Column("canonical_host", (DOMAIN,), "www or apex: where the site answers; www if empty."),
    Column("hosts", (DOMAIN,), "Sub-domains in use, separated by commas: app, api.", "hosts_text"),
    Column(
        "mail_providers",
        (DOMAIN,),
        "Mail-sending providers, separated by commas: " + ", ".join(Domain.MailProvider.values) + ".",
    ),
    Column("dkim_selectors", (DOMAIN,), "DKIM selectors, separated by commas: google, s1.", "selectors_text"),
    Column(
        "asset_hosts",
        (DOMAIN,),
        "Hosts outside the domain that serve its scripts, separated by commas.",
        "asset_hosts_text",
    ),
    Column("hosting_provider", (DOMAIN,), "One of: " + ", ".join(Domain.HostingProvider.values) + "."),
    Column("deploy_method", (DOMAIN,), "One of: " + ", ".join(Domain.DeployMethod.values) + "."),
    Column("hosting_app", (DOMAIN,), "The app or project name at the host."),
    Column("daily_audit", (DOMAIN,), "yes to re-audit the domain daily, no not to; yes if empty."),
    Column("host", (ROUTE,), "The sub-domain of the route (app, api); empty for the canonical host."),
    Column("path", (ROUTE,), "The path, such as /login, or the full https:// address."),
    Column("route_kind", (ROUTE,), "One of: " + ", ".join(Route.Kind.values) + ".", "kind"),
    Column(
        "expected_statuses",
        (ROUTE,),
        "HTTP status codes, separated by commas; the usual ones for the kind if empty.",
        "statuses_text",
    ),
    Column("keyword", (ROUTE,), "Text the response must contain."),
)
HEADER = [c.name for c in COLUMNS]
_BY_NAME = {c.name: c for c in COLUMNS}
# (kind of row, form field) -> the column that fills it
_FORM_FIELD = {(kind, c.field or c.name): c.name for c in COLUMNS[2:] for kind in c.kinds}

TEMPLATE_ROWS = [
    {"kind": CLIENT, "client": "Brightpath Coaching", "product_kind": "coaching_dashboard", "stage": "demo_to_launch",
     "timezone": "Europe/London", "notes": "Launching on 1 March"},
    {"kind": CONTACT, "client": "Brightpath Coaching", "contact_name": "Amelia Hart", "role": "Founder",
     "email": "amelia@brightpath-coaching.example", "phone": "+44 20 7946 0000", "primary": "yes"},
    {"kind": DOMAIN, "client": "Brightpath Coaching", "domain": "brightpath-coaching.example", "canonical_host": "www",
     "hosts": "app, api", "mail_providers": "google", "dkim_selectors": "google", "hosting_provider": "vercel",
     "deploy_method": "git_push", "hosting_app": "brightpath", "daily_audit": "yes"},
    {"kind": ROUTE, "client": "Brightpath Coaching", "domain": "brightpath-coaching.example", "host": "app",
     "path": "/login", "route_kind": "login", "expected_statuses": "200", "keyword": "Sign in"},
]  # fmt: skip

_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off", ""}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class ImportFileError(ValueError):
    """The file cannot be read as an import at all; the message says why in plain English."""


@dataclass
class CsvRow:
    number: int  # the row as a spreadsheet numbers it: the header is row 1
    cells: dict[str, str]


@dataclass
class RowPlan:
    number: int
    kind: str
    client: str
    label: str = ""
    action: str = ""  # "create", "update", "unchanged"; empty while the row has errors
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, what is wrong)
    record: Any = None
    original: Any = None  # the record as the database holds it, for an existing one

    def error(self, column: str, message: str) -> None:
        self.errors.append((column, message))

    @property
    def action_label(self) -> str:
        return {"create": "Add", "update": "Update", "unchanged": "No change"}.get(self.action, "Error")


@dataclass
class Plan:
    rows: list[RowPlan]
    new_domains: list[Domain] = field(default_factory=list)
    domain_updates: list[Domain] = field(default_factory=list)  # existing domains a route gives a new host

    @property
    def errors(self) -> list[RowPlan]:
        return [r for r in self.rows if r.errors]

    def count(self, action: str, kind: str | None = None) -> int:
        return sum(1 for r in self.rows if r.action == action and (kind is None or r.kind == kind))

    @property
    def changes(self) -> int:
        return self.count("create") + self.count("update")


# --- Reading the file -------------------------------------------------------------------------------------


def csv_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def csv_size_error(size: int) -> str | None:
    if size <= MAX_BYTES:
        return None
    return (
        f"The file is {size / 1_000_000:.1f} MB; the limit is {MAX_BYTES // 1_000_000} MB "
        f"(about {MAX_ROWS:,} rows). Split it into smaller files and import them one after the other."
    )


def csv_decode(data: bytes) -> str:
    """The file's text: UTF-8, with or without a byte-order mark; an ImportFileError for anything else."""
    if (too_large := csv_size_error(len(data))) is not None:
        raise ImportFileError(too_large)
    if not data.strip():
        raise ImportFileError("The file is empty. Download the template, fill it in and upload it again.")
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ImportFileError(
            "That is a spreadsheet workbook, not a CSV file. In Excel choose File, Save As, “CSV UTF-8”; "
            "in Google Sheets choose File, Download, “Comma-separated values”."
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError("The file is in UTF-16. Save it as “CSV UTF-8” and upload it again.")
    if b"\x00" in data:
        raise ImportFileError("That is not a CSV file: it holds binary data. Upload a CSV file saved as UTF-8.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The file is not UTF-8 text (byte {exc.start + 1} is not valid UTF-8; it may be Windows-1252 or "
            "Latin-1). Save it as “CSV UTF-8” (Excel) or export it as CSV from Google Sheets or Numbers, which "
            "use UTF-8, and upload it again."
        ) from None


def csv_parse(text: str) -> list[CsvRow]:
    """The rows of the file, each cell under its column's name; an ImportFileError if the file as a whole
    cannot be read (no header row, unknown or repeated columns, too many rows, broken quoting)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise ImportFileError("The file is empty. Download the template, fill it in and upload it again.")
        names = [cell.strip().lower() for cell in header]
        _check_header(names)
        rows: list[CsvRow] = []
        number = 1
        for cells in reader:
            number += 1
            if not any(cell.strip() for cell in cells):
                continue  # a blank line between blocks of rows
            if len(rows) == MAX_ROWS:
                raise ImportFileError(
                    f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files and import them "
                    "one after the other."
                )
            row = CsvRow(number, {name: _unquote(cell.strip()) for name, cell in zip(names, cells, strict=False)})
            if len(cells) > len(names) and any(c.strip() for c in cells[len(names) :]):
                row.cells["__extra__"] = str(len(cells))
            rows.append(row)
    except csv.Error as exc:
        raise ImportFileError(f"That is not a CSV file this import can read (row {reader.line_num}: {exc}).") from None
    if not rows:
        raise ImportFileError("The file has a header row but no rows under it.")
    return rows


def _check_header(names: list[str]) -> None:
    if len(names) == 1 and ";" in names[0] and "kind" in names[0]:
        raise ImportFileError(
            "The file separates its columns with semicolons; this import reads commas. Save it as “CSV UTF-8” "
            "(comma-separated) and upload it again."
        )
    if "kind" not in names or "client" not in names:
        raise ImportFileError(
            "The first row must be the header row naming the columns, with at least kind and client "
            f"(the template's header is: {', '.join(HEADER)}). Download the template to start from it."
        )
    unknown = [n for n in names if n and n not in _BY_NAME]
    if unknown or "" in names:
        shown = ", ".join(f"“{n}”" for n in unknown) or "a column without a name"
        raise ImportFileError(
            f"The header has columns this import does not know: {shown}. Remove them, or rename them to "
            f"one of: {', '.join(HEADER)}."
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ImportFileError(f"The header names {', '.join(repeated)} more than once; keep one of each.")


def _unquote(cell: str) -> str:
    """The value under the apostrophe the export puts in front of a cell a spreadsheet would run as a formula."""
    if cell.startswith("'") and cell[1:2] in _FORMULA and cell[1:2]:
        return cell[1:]
    return cell


# --- Checking the rows against the workspace -------------------------------------------------------------


class _ImportDomainForm(DomainForm):
    """The domain form, answering its questions from the records the import has loaded."""

    def __init__(self, *args: Any, known: dict[str, Domain], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known = known

    def _client_has_domain(self, apex: str) -> bool:
        other = self.known.get(apex)
        return other is not None and (other.pk is None or other.pk != self.instance.pk)

    def _warn_lookalike(self, apex: str) -> None:
        raise forms.ValidationError(
            f"{display_name(apex)} mixes scripts or is written in letters that pass for Latin ones: its ASCII "
            f"form is {apex}. If it really is the client's domain, add it on the domain form, where you can "
            "confirm it, and leave it out of the file."
        )


class _ImportRouteForm(RouteForm):
    """The route form; duplicates are found by the import itself, across the file and the database."""

    def __init__(self, *args: Any, siblings: list[Domain], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sibling_domains = siblings

    def _existing_route(self, host: str, path: str) -> Route | None:
        return None


@dataclass
class _Known:
    """What the workspace holds and what the file adds, keyed as rows are matched."""

    clients: dict[str, list[Client]]
    contacts: dict[tuple[int, str], Contact]
    domains: dict[int, dict[str, Domain]]
    routes: dict[tuple[int, str, str], Route]
    # what the file has planned so far: key -> (row number, record or None when that row has errors)
    planned_clients: dict[str, tuple[int, Client | None]] = field(default_factory=dict)
    planned_domains: dict[tuple[str, str], tuple[int, Domain | None]] = field(default_factory=dict)
    seen: dict[tuple[Any, ...], int] = field(default_factory=dict)
    domain_rows: dict[int, RowPlan] = field(default_factory=dict)  # id() of a domain -> the row that plans it
    # id() of a domain -> (the record as planned, as the database holds it or None for a new one)
    touched_domains: dict[int, tuple[Domain, Domain | None]] = field(default_factory=dict)


def _client_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _load(workspace: Workspace, user: User, rows: list[CsvRow]) -> _Known:
    """Four queries whatever the size of the file: the workspace's clients, and the contacts, domains and
    routes of those the file names."""
    clients: dict[str, list[Client]] = {}
    for client in Client.objects.editable_by(user).filter(workspace=workspace):
        clients.setdefault(_client_key(client.name), []).append(client)
    named = {_client_key(r.cells.get("client", "")) for r in rows}
    ids = [c.id for key in named for c in clients.get(key, [])]
    by_id = {c.id: c for found in clients.values() for c in found}
    contacts: dict[tuple[int, str], Contact] = {}
    for contact in Contact.objects.filter(client_id__in=ids).order_by("id"):
        contact.client = by_id[contact.client_id]
        contacts.setdefault((contact.client_id, _client_key(contact.name)), contact)
    domains: dict[int, dict[str, Domain]] = {}
    domain_by_id: dict[int, Domain] = {}
    for domain in Domain.objects.filter(client_id__in=ids):
        domain.client = by_id[domain.client_id]
        domains.setdefault(domain.client_id, {})[domain.name] = domain
        domain_by_id[domain.id] = domain
    routes: dict[tuple[int, str, str], Route] = {}
    for route in Route.objects.filter(domain_id__in=list(domain_by_id)):
        route.domain = domain_by_id[route.domain_id]
        routes[(route.domain_id, route.host, route.path)] = route
    return _Known(clients, contacts, domains, routes)


def onboarding_plan(*, workspace: Workspace, user: User, rows: list[CsvRow]) -> Plan:
    """What each row would do, or what is wrong with it; nothing is saved. Clients are planned first, then
    contacts and domains, then routes, so a row may name a client or domain that comes further down."""
    known = _load(workspace, user, rows)
    plans = {r.number: RowPlan(r.number, r.cells.get("kind", "").lower(), r.cells.get("client", "")) for r in rows}
    order = {CLIENT: 0, CONTACT: 1, DOMAIN: 1, ROUTE: 2}
    for row in sorted(rows, key=lambda r: order.get(plans[r.number].kind, 3)):
        plan = plans[row.number]
        if not _check_cells(row, plan):
            if plan.kind == CLIENT:
                known.planned_clients.setdefault(_client_key(plan.client), (row.number, None))
            continue
        {CLIENT: _plan_client, CONTACT: _plan_contact, DOMAIN: _plan_domain, ROUTE: _plan_route}[plan.kind](
            row, plan, known, workspace
        )
    result = Plan([plans[r.number] for r in rows])
    _settle_domains(result, known)
    return result


def _check_cells(row: CsvRow, plan: RowPlan) -> bool:
    """The checks every row takes before its kind's own: a kind, a client, no stray cells."""
    if "__extra__" in row.cells:
        plan.error(
            "",
            f"This row has {row.cells.pop('__extra__')} cells and the header {len(row.cells)} columns: a value "
            "with a comma in it needs double quotes around it.",
        )
    if plan.kind not in KINDS:
        shown = f"“{row.cells.get('kind', '')}” is not a kind of row" if row.cells.get("kind") else "It is empty"
        plan.error("kind", f"{shown}: use client, contact, domain or route.")
        return False
    if not " ".join(plan.client.split()):
        plan.error("client", "Enter the client's company name: every row names the client it belongs to.")
    for name, value in row.cells.items():
        if value and plan.kind not in _BY_NAME[name].kinds:
            kinds = " and ".join(_BY_NAME[name].kinds)
            plan.error(name, f"This column is for {kinds} rows; leave it empty on a {plan.kind} row.")
    return not plan.errors


def _data(row: CsvRow, kind: str, initial: dict[str, Any]) -> dict[str, Any]:
    """The form data of a row: its cells by form field, an empty cell taking the record's current value."""
    data: dict[str, Any] = {}
    for (k, form_field), column in _FORM_FIELD.items():
        if k != kind:
            continue
        value = row.cells.get(column, "")
        data[form_field] = value if value else initial.get(form_field, "")
    return data


def _bool(plan: RowPlan, row: CsvRow, column: str, current: bool) -> str | None:
    value = row.cells.get(column, "").strip().lower()
    if not value:
        return "on" if current else None
    if value in _YES:
        return "on"
    if value in _NO:
        return None
    plan.error(column, f"“{row.cells[column]}” is neither yes nor no.")
    return None


def _form_errors(plan: RowPlan, form: forms.BaseForm, kind: str) -> None:
    for name, errors in form.errors.items():
        column = _FORM_FIELD.get((kind, name), "")
        for error in errors.as_data():
            if error.code == "invalid_choice" and column:
                allowed = _BY_NAME[column].help
                plan.error(column, f"That is not one of the values this column takes. {allowed}")
            else:
                plan.error(column, " ".join(str(m) for m in error.messages))


def _changed(record: models.Model, original: models.Model | None, fields: Iterable[str]) -> str:
    if original is None:
        return "create"
    return "update" if any(getattr(record, f) != getattr(original, f) for f in fields) else "unchanged"


CLIENT_FIELDS = ["name", "product_kind", "stage", "timezone", "notes"]
CONTACT_FIELDS = ["name", "role", "email", "phone", "is_primary"]
DOMAIN_FIELDS = [
    "canonical_host", "hosts", "mail_providers", "dkim_selectors", "asset_hosts", "hosting_provider",
    "deploy_method", "hosting_app", "daily_audit",
]  # fmt: skip
ROUTE_FIELDS = ["host", "path", "kind", "expected_statuses", "keyword"]


def _plan_client(row: CsvRow, plan: RowPlan, known: _Known, workspace: Workspace) -> None:
    key = _client_key(plan.client)
    plan.label = " ".join(plan.client.split())
    if key in known.planned_clients:
        plan.error("client", f"{plan.label} already has a client row (row {known.planned_clients[key][0]}): keep one.")
        return
    existing = known.clients.get(key, [])
    if len(existing) > 1:
        plan.error(
            "client",
            f"{len(existing)} clients in this workspace are called {plan.label}: rename one of them so that the "
            "file can say which it means.",
        )
        known.planned_clients[key] = (row.number, None)
        return
    original = existing[0] if existing else None
    initial = {f: getattr(original, f) for f in CLIENT_FIELDS} if original else {"timezone": "UTC"}
    initial.setdefault("product_kind", Client.ProductKind.OTHER)
    initial.setdefault("stage", Client.Stage.DEMO_TO_LAUNCH)
    data = {"name": plan.client, **_data(row, CLIENT, initial)}
    if original is not None:
        data["name"] = original.name  # matched by name: the name as it was typed in stays
    form = ClientForm(data, instance=copy.copy(original) if original else None)
    if not form.is_valid():
        _form_errors(plan, form, CLIENT)
        known.planned_clients[key] = (row.number, None)
        return
    client = form.save(commit=False)
    client.workspace = workspace
    plan.record, plan.original, plan.action = client, original, _changed(client, original, CLIENT_FIELDS)
    known.planned_clients[key] = (row.number, client)


def _client_of(plan: RowPlan, known: _Known) -> Client | None:
    """The client a contact, domain or route row names: planned by a row of the file, or in the workspace."""
    key = _client_key(plan.client)
    name = " ".join(plan.client.split())
    if key in known.planned_clients:
        number, client = known.planned_clients[key]
        if client is None:
            plan.error("client", f"The row of client {name} (row {number}) has an error: fix that row first.")
        return client
    existing = known.clients.get(key, [])
    if len(existing) == 1:
        return existing[0]
    if existing:
        plan.error("client", f"{len(existing)} clients in this workspace are called {name}: rename one of them.")
    else:
        plan.error(
            "client", f"There is no client called {name} in this workspace or in the file: add a client row for it."
        )
    return None


def _plan_contact(row: CsvRow, plan: RowPlan, known: _Known, workspace: Workspace) -> None:
    client = _client_of(plan, known)
    name = " ".join(row.cells.get("contact_name", "").split())
    plan.label = name
    if not name:
        plan.error("contact_name", "Enter the contact's name.")
    if not name:
        return
    key = ("contact", _client_key(plan.client), name.casefold())
    if key in known.seen:
        plan.error("contact_name", f"{name} of {plan.client} is already on row {known.seen[key]}: keep one row.")
        return
    known.seen[key] = row.number
    # Without its client the row's own cells are still checked, so that one upload shows every mistake.
    original = known.contacts.get((client.pk, name.casefold())) if client and client.pk else None
    initial = {f: getattr(original, f) for f in CONTACT_FIELDS} if original else {}
    data = _data(row, CONTACT, initial)
    data["name"] = original.name if original else name
    primary = _bool(plan, row, "primary", bool(original and original.is_primary))
    if primary:
        data["is_primary"] = primary
    else:
        data.pop("is_primary", None)
    form = ContactForm(data, instance=copy.copy(original) if original else None)
    if not form.is_valid():
        _form_errors(plan, form, CONTACT)
    if plan.errors:
        return
    contact = form.save(commit=False)
    if client is None:
        return
    contact.client = client
    plan.record, plan.original, plan.action = contact, original, _changed(contact, original, CONTACT_FIELDS)


def _apex(plan: RowPlan, row: CsvRow) -> str | None:
    plan.label = row.cells.get("domain", "") if plan.kind == DOMAIN else row.cells.get("path", "")
    try:
        return parse_domain(row.cells.get("domain", "")).apex
    except DomainError as exc:
        plan.error("domain", str(exc))
        return None


def _domains_of(client: Client, known: _Known) -> dict[str, Domain]:
    """The client's domains, those the file adds included (a new client's are only those)."""
    domains = dict(known.domains.get(client.pk, {})) if client.pk else {}
    client_key = _client_key(client.name)
    for (key, apex), (_, domain) in known.planned_domains.items():
        if key == client_key and domain is not None:
            domains[apex] = domain
    return domains


def _plan_domain(row: CsvRow, plan: RowPlan, known: _Known, workspace: Workspace) -> None:
    found = _client_of(plan, known)
    apex = _apex(plan, row)
    if apex is None:
        return
    # Without its client the row's own cells are still checked, so that one upload shows every mistake.
    client = found or Client(workspace=workspace, name=plan.client)
    plan.label = display_name(apex)
    key = (_client_key(client.name), apex)
    if key in known.planned_domains:
        plan.error("domain", f"{plan.label} is already on row {known.planned_domains[key][0]}: keep one row.")
        return
    domains = _domains_of(client, known)
    original = domains.get(apex)
    initial: dict[str, Any] = {}
    if original is not None:
        initial = {f: getattr(original, f) for f in DOMAIN_FIELDS}
        initial |= {
            "hosts_text": ", ".join(original.hosts),
            "selectors_text": ", ".join(original.dkim_selectors),
            "asset_hosts_text": ", ".join(original.asset_hosts),
        }
    else:
        initial = {"canonical_host": Domain.CanonicalHost.WWW, "hosting_provider": Domain.HostingProvider.OTHER}
        initial["deploy_method"] = Domain.DeployMethod.GIT_PUSH
    data = _data(row, DOMAIN, initial)
    if row.cells.get("mail_providers"):
        data["mail_providers"] = [p.strip().lower() for p in row.cells["mail_providers"].replace(";", ",").split(",")]
        data["mail_providers"] = [p for p in data["mail_providers"] if p]
    else:
        data["mail_providers"] = list(initial.get("mail_providers", []))
    daily = _bool(plan, row, "daily_audit", original.daily_audit if original else True)
    if daily:
        data["daily_audit"] = daily
    else:
        data.pop("daily_audit", None)
    form = _ImportDomainForm(data, instance=copy.copy(original) if original else None, client=client, known=domains)
    if not form.is_valid():
        _form_errors(plan, form, DOMAIN)
    if plan.errors:
        known.planned_domains[key] = (row.number, None)
        return
    domain = form.save(commit=False)
    if found is None:
        known.planned_domains[key] = (row.number, None)
        return
    domain.client = client
    plan.record, plan.original = domain, original
    known.planned_domains[key] = (row.number, domain)
    known.domain_rows[id(domain)] = plan
    known.touched_domains[id(domain)] = (domain, original)


def _plan_route(row: CsvRow, plan: RowPlan, known: _Known, workspace: Workspace) -> None:
    client = _client_of(plan, known)
    apex = _apex(plan, row)
    if client is None or apex is None:
        return
    domains = _domains_of(client, known)
    key = (_client_key(client.name), apex)
    if key in known.planned_domains and known.planned_domains[key][1] is None:
        number = known.planned_domains[key][0]
        plan.error("domain", f"The row of domain {display_name(apex)} (row {number}) has an error: fix that row first.")
        return
    domain = domains.get(apex)
    if domain is None:
        plan.error(
            "domain",
            f"{display_name(apex)} is not a domain of {client.name} in this workspace or in the file: "
            "add a domain row for it.",
        )
        return
    host = row.cells.get("host", "").strip().lower().rstrip(".")
    try:
        host = ".".join(normalise_label(part) for part in host.split(".")) if host else ""
    except DomainError as exc:
        plan.error("host", str(exc))
        return
    path = row.cells.get("path", "") or "/"
    address = path
    if host and "://" not in path:
        address = f"https://{host}.{domain.name}{path if path.startswith('/') else '/' + path}"
    data = {
        "path": address,
        "host": "",
        "kind": row.cells.get("route_kind", ""),
        "keyword": row.cells.get("keyword", ""),
    }
    data["statuses_text"] = row.cells.get("expected_statuses", "")
    siblings = list(domains.values())
    form = _ImportRouteForm({**data, "kind": data["kind"] or Route.Kind.OTHER}, domain=domain, siblings=siblings)
    if not form.is_valid():
        _form_errors(plan, form, ROUTE)
        return
    cleaned_host, cleaned_path = form.cleaned_data["host"], form.cleaned_data["path"]
    seen = ("route", id(domain), cleaned_host, cleaned_path)
    plan.label = f"https://{display_name(domain.host_name(cleaned_host))}{cleaned_path}"
    if seen in known.seen:
        plan.error("path", f"{plan.label} is already on row {known.seen[seen]}: keep one row per route.")
        return
    known.seen[seen] = row.number
    original = known.routes.get((domain.pk, cleaned_host, cleaned_path)) if domain.pk else None
    if original is not None:  # empty cells keep the route's current values
        data["kind"] = data["kind"] or original.kind
        data["keyword"] = data["keyword"] or original.keyword
        data["statuses_text"] = data["statuses_text"] or original.expected_statuses_text
        form = _ImportRouteForm(data, instance=copy.copy(original), domain=domain, siblings=siblings)
        if not form.is_valid():
            _form_errors(plan, form, ROUTE)
            return
    route = form.save(commit=False)
    route.domain = domain
    if route.host and route.host not in domain.hosts:
        # A sub-domain first named by a route is in use, as on the route form: the audits look at it from now on.
        known.touched_domains.setdefault(id(domain), (domain, copy.copy(domain)))
        domain.hosts = [*domain.hosts, route.host]
        plan.label += f" (adds the host {route.host} to {domain.display_name})"
    plan.record, plan.original, plan.action = route, original, _changed(route, original, ROUTE_FIELDS)


def _settle_domains(plan: Plan, known: _Known) -> None:
    """A domain's action once its routes are planned: a route may add a host to it, so that a domain row
    without that host, imported again, leaves the domain as it is."""
    for domain, original in known.touched_domains.values():
        row = known.domain_rows.get(id(domain))
        action = _changed(domain, original, DOMAIN_FIELDS)
        if row is not None:
            row.action = action
        elif action == "update":
            plan.domain_updates.append(domain)
        if action == "create":
            plan.new_domains.append(domain)


# --- Saving ----------------------------------------------------------------------------------------------


@dataclass
class Applied:
    created: dict[str, int]
    updated: dict[str, int]
    audits_started: int


def onboarding_apply(*, plan: Plan, user: User) -> Applied:
    """Save a plan that has no errors, in one transaction and a handful of queries per kind; the first audit of
    each new domain is enqueued once everything is committed, as when a domain is added on its form."""
    if plan.errors:
        raise ValueError("A plan with errors is not saved.")
    fields = {CLIENT: CLIENT_FIELDS, CONTACT: CONTACT_FIELDS, DOMAIN: DOMAIN_FIELDS, ROUTE: ROUTE_FIELDS}
    model: dict[str, type[models.Model]] = {CLIENT: Client, CONTACT: Contact, DOMAIN: Domain, ROUTE: Route}
    created = {kind: 0 for kind in KINDS}
    updated = {kind: 0 for kind in KINDS}
    with transaction.atomic():
        for kind in KINDS:  # parents first: a new domain's routes need its id
            new = [r.record for r in plan.rows if r.kind == kind and r.action == "create"]
            changed = {id(r.record): r.record for r in plan.rows if r.kind == kind and r.action == "update"}
            if kind == DOMAIN:
                changed |= {id(d): d for d in plan.domain_updates}
            model[kind]._default_manager.bulk_create(new)
            if changed:
                model[kind]._default_manager.bulk_update(list(changed.values()), fields[kind])
            created[kind], updated[kind] = len(new), len(changed)
        runs = audit_runs_start(domains=plan.new_domains, user=user) if plan.new_domains else []
    return Applied(created, updated, len(runs))


# --- Writing the file ------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets an apostrophe in front, which the
    import takes off again."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _write(rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def onboarding_template() -> str:
    return _write(TEMPLATE_ROWS)


def onboarding_export(*, workspace: Workspace, user: User) -> str:
    """The workspace's clients, contacts, domains and routes as an import file: importing it changes nothing."""
    clients = list(Client.objects.editable_by(user).filter(workspace=workspace).order_by("name", "id"))
    ids = [c.id for c in clients]
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(client_id__in=ids).order_by("name", "id"):
        contacts.setdefault(contact.client_id, []).append(contact)
    domains: dict[int, list[Domain]] = {}
    for domain in Domain.objects.filter(client_id__in=ids).order_by("name"):
        domains.setdefault(domain.client_id, []).append(domain)
    routes: dict[int, list[Route]] = {}
    domain_ids = [d.id for found in domains.values() for d in found]
    for route in Route.objects.filter(domain_id__in=domain_ids).order_by("host", "path"):
        routes.setdefault(route.domain_id, []).append(route)
    return _write(_export_rows(clients, contacts, domains, routes))


def _export_rows(
    clients: list[Client],
    contacts: dict[int, list[Contact]],
    domains: dict[int, list[Domain]],
    routes: dict[int, list[Route]],
) -> Iterable[dict[str, Any]]:
    for client in clients:
        yield {"kind": CLIENT, "client": client.name, **{f: getattr(client, f) for f in CLIENT_FIELDS[1:]}}
        for contact in contacts.get(client.id, []):
            yield {
                "kind": CONTACT, "client": client.name, "contact_name": contact.name, "role": contact.role,
                "email": contact.email, "phone": contact.phone, "primary": contact.is_primary,
            }  # fmt: skip
        for domain in domains.get(client.id, []):
            yield {
                "kind": DOMAIN, "client": client.name, "domain": domain.name, "canonical_host": domain.canonical_host,
                "hosts": domain.hosts, "mail_providers": domain.mail_providers,
                "dkim_selectors": domain.dkim_selectors, "asset_hosts": domain.asset_hosts,
                "hosting_provider": domain.hosting_provider, "deploy_method": domain.deploy_method,
                "hosting_app": domain.hosting_app, "daily_audit": domain.daily_audit,
            }  # fmt: skip
            for route in routes.get(domain.id, []):
                yield {
                    "kind": ROUTE, "client": client.name, "domain": domain.name, "host": route.host,
                    "path": route.path, "route_kind": route.kind,
                    "expected_statuses": route.expected_statuses, "keyword": route.keyword,
                }  # fmt: skip
