"""Pages for the consultant's dashboard, clients, domains, routes and sprints, and the health check."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.activity import record_activity
from accounts.forms import FounderInviteForm
from accounts.http import AuthedRequest
from accounts.sudo import require_sudo
from audits.findings import LaunchVerdict
from audits.models import AuditRun
from audits.risk import latest_scans, risk_list
from audits.runs import audit_runs_start
from audits.status import audit_status
from handover.checklist import sprint_checklist
from handover.models import PackVersion
from handover.pack import open_risk_count, uptime_30d
from launchready import health
from launchready.forms import ClientForm, ContactForm, DomainForm, RouteForm, SprintForm
from launchready.models import Client, Domain, Route, Sprint
from launchready.tenancy import (
    get_client_for_user,
    get_rw_client_for_user,
    get_rw_contact_for_user,
    get_rw_domain_for_user,
    get_rw_route_for_user,
    get_rw_sprint_for_user,
    get_sprint_for_user,
    is_staff_of,
)
from monitoring.alerts import unreachable_clients
from monitoring.models import Deploy, Monitor
from reports.models import WeeklyReport, with_covered_label

DASHBOARD_PAGE_SIZE = 50


@dataclass
class ClientRow:
    client: Client
    sprint: Sprint | None
    go: bool | None = None  # None: never audited
    blockers: int = 0
    verdict: str = ""  # go, no_go, unchecked; empty: never audited
    auditing: bool = False  # an audit of one of its domains is queued or running
    no_channel: bool = False  # its outages would reach nobody


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    membership = request.membership
    if membership is None:
        return redirect("workspace_new")
    if membership.client is not None:  # a founder's home is their company's page
        return redirect("client_detail", membership.client.code)
    return redirect("dashboard")


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    membership = request.membership
    if membership is None:
        return redirect("workspace_new")
    if membership.client is not None:  # a founder's home is their company's page
        return redirect("client_detail", membership.client.code)
    clients = Client.objects.visible_to(request.user).filter(workspace=membership.workspace)
    page = Paginator(soonest_deadline_first(clients), DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = dashboard_rows(page.object_list)
    verdicts = client_verdicts([row.client.id for row in rows])
    unreachable = unreachable_clients([row.client for row in rows])
    for row in rows:
        row.verdict, row.blockers, row.auditing = verdicts.get(row.client.id, ("", 0, False))
        row.go = None if not row.verdict else row.verdict == LaunchVerdict.GO
        row.no_channel = row.client.id in unreachable
    context = {"rows": rows, "page": page, "now": timezone.now()}
    if _is_htmx(request):
        return render(request, "launchready/_client_rows.html", context)
    return render(request, "launchready/dashboard.html", context)


def soonest_deadline_first(clients: QuerySet[Client]) -> QuerySet[Client]:
    """Clients in a sprint by its deadline, the soonest first, then the others by name; ordered in the
    database, and counted by subqueries that run only for the rows of the page asked for, so that a page
    of them costs the same whatever their number."""
    first_open = Sprint.objects.current().filter(client=OuterRef("pk")).order_by("started_at")
    domains = Domain.objects.filter(client=OuterRef("pk")).order_by().values("client")
    routes = Route.objects.filter(domain__client=OuterRef("pk")).order_by().values("domain__client")
    return clients.annotate(
        deadline=Subquery(first_open.values("deadline")[:1]),
        domain_count=Coalesce(Subquery(domains.annotate(n=Count("id")).values("n")), 0),
        route_count=Coalesce(Subquery(routes.annotate(n=Count("id")).values("n")), 0),
    ).order_by(F("deadline").asc(nulls_last=True), "name", "id")


def dashboard_rows(clients: Iterable[Client]) -> list[ClientRow]:
    """One row per client with its open sprint, in the order given."""
    clients = list(clients)
    prefetch_related_objects(
        clients,
        Prefetch("sprints", queryset=Sprint.objects.current().order_by("started_at"), to_attr="open_sprints"),
    )
    return [ClientRow(c, c.open_sprints[0] if c.open_sprints else None) for c in clients]  # type: ignore[attr-defined]


def client_verdicts(client_ids: list[int]) -> dict[int, tuple[str, int, bool]]:
    """The launch verdict (go, no_go, unchecked; empty: never audited) and open blockers per client, from
    the latest finished run of each of its domains, and whether an audit is under way (one query): a
    blocker anywhere (the latest repository scan's included) is no-go, a run that could not check keeps the
    others from saying go; two queries."""
    latest = AuditRun.objects.finished().filter(domain=OuterRef("pk")).order_by("-created")
    rows = Domain.objects.filter(client_id__in=client_ids).annotate(
        counts=Subquery(latest.values("counts")[:1]),
        verdict=Subquery(latest.values("verdict")[:1]),
        busy=Exists(AuditRun.objects.active().filter(domain=OuterRef("pk"))),
    )
    blockers: dict[int, int] = {}
    unchecked: set[int] = set()
    auditing: set[int] = set()
    for client_id, counts, verdict, busy in rows.values_list("client_id", "counts", "verdict", "busy"):
        if busy:
            auditing.add(client_id)
        if counts is None:  # never audited
            continue
        blockers[client_id] = blockers.get(client_id, 0) + int(counts.get("blocker", 0))
        if verdict in (LaunchVerdict.UNCHECKED, ""):  # "": a run cut short before it could judge
            unchecked.add(client_id)
    for client_id, scan in latest_scans(client_ids).items():  # its findings are on the risk list too
        blockers[client_id] = blockers.get(client_id, 0) + int(scan.counts.get("blocker", 0))
    verdicts = {cid: (LaunchVerdict.of(n, cid in unchecked).value, n, cid in auditing) for cid, n in blockers.items()}
    return {cid: ("", 0, True) for cid in auditing} | verdicts


@login_required
def client_new(request: AuthedRequest) -> HttpResponse:
    membership = request.membership
    if membership is None or not membership.is_staff_role:
        raise Http404
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        client = form.save(commit=False)
        client.workspace = membership.workspace
        client.save()
        messages.success(request, f"{client.name} added. Next: add their domain.")
        return redirect("domain_new", client.code)
    return render(request, "launchready/client_form.html", {"form": form})


@login_required
def client_detail(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_client_for_user(request.user, client_code)
    can_edit = is_staff_of(request.user, client.workspace_id)
    domains = client.domains.prefetch_related("routes")
    sprints = list(client.sprints.all()[:5])
    current = next((s for s in sprints if s.is_open), None)
    risks = risk_list(client)
    context: dict[str, Any] = {
        "client": client,
        "last_deploy": Deploy.objects.filter(client=client).first(),
        "down": Monitor.objects.filter(client=client, state=Monitor.State.DOWN).count(),
        "risks": risks,
        "top_risks": risks.findings[:5],
        "status": audit_status(client),
        "domains": domains,
        "sprint": current,
        "past_sprints": [s for s in sprints if s is not current],
        "contacts": client.contacts.all(),
        "can_edit": can_edit,
        "now": timezone.now(),
        "packs": list(PackVersion.objects.filter(client=client).defer("data", "html", "markdown")[:6]),
    }
    if not can_edit:  # the founder's home: status at a glance
        context["glance"] = uptime_30d(client)
        context["glance_open"] = open_risk_count(risks)
        context["glance_audited"] = max((r.finished_at for r in risks.runs if r.finished_at), default=None)
    if not can_edit:  # the founder portal lists the reports sent
        context["recent_reports"] = list(
            with_covered_label(
                WeeklyReport.objects.filter(client=client, state=WeeklyReport.State.SENT).defer("html", "text", "data")
            )[:4]
        )
    if can_edit:
        context["founders"] = client.founder_memberships.select_related("user")
        context["invitations"] = client.invitations.pending()
        context["invite_form"] = FounderInviteForm()
        context["contact_form"] = ContactForm()
    with timezone.override(client.timezone):
        return render(request, "launchready/client_detail.html", context)


@login_required
def client_edit(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Client details saved.")
        return redirect("client_detail", client.code)
    return render(request, "launchready/client_form.html", {"form": form, "client": client})


@login_required
@require_POST
def client_delete(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    if request.POST.get("confirm_name", "").strip() != client.name:
        messages.error(request, "Type the client's name exactly to delete it.")
        return redirect("client_edit", client.code)
    require_sudo(request)
    record_activity(client.workspace, request.user, "client.deleted", client, request)
    client.delete()
    messages.success(request, f"{client.name} and everything recorded for it were deleted.")
    return redirect("dashboard")


@login_required
@require_POST
def contact_new(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    form = ContactForm(request.POST)
    if form.is_valid():
        contact = form.save(commit=False)
        contact.client = client
        contact.save()
        messages.success(request, f"{contact.name} added to contacts.")
    else:
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, f"The contact was not added: {errors}")
    return redirect(reverse("client_detail", args=[client.code]) + "#contacts")


@login_required
@require_POST
def contact_delete(request: AuthedRequest, contact_code: UUID) -> HttpResponse:
    contact = get_rw_contact_for_user(request.user, contact_code)
    contact.delete()
    messages.success(request, f"{contact.name} removed from contacts.")
    return redirect(reverse("client_detail", args=[contact.client.code]) + "#contacts")


@login_required
def domain_new(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    form = DomainForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():  # the first audit is enqueued once the domain is committed
            domain = form.save()
            audit_runs_start(domains=[domain], user=request.user)
        messages.success(
            request,
            f"{domain.display_name} added, and its first audit has started. "
            "Now add the routes that must work at launch: the next audit checks them too.",
        )
        return redirect("route_new", domain.code)
    return render(request, "launchready/domain_form.html", {"form": form, "client": client})


@login_required
def domain_edit(request: AuthedRequest, domain_code: UUID) -> HttpResponse:
    domain = get_rw_domain_for_user(request.user, domain_code)
    form = DomainForm(request.POST or None, instance=domain, client=domain.client)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"{domain.display_name} saved.")
        return redirect("client_detail", domain.client.code)
    return render(request, "launchready/domain_form.html", {"form": form, "client": domain.client, "domain": domain})


@login_required
@require_POST
def domain_delete(request: AuthedRequest, domain_code: UUID) -> HttpResponse:
    domain = get_rw_domain_for_user(request.user, domain_code)
    domain.delete()
    messages.success(request, f"{domain.display_name} and its routes were removed.")
    return redirect("client_detail", domain.client.code)


@login_required
def route_new(request: AuthedRequest, domain_code: UUID) -> HttpResponse:
    domain = get_rw_domain_for_user(request.user, domain_code)
    form = RouteForm(request.POST or None, domain=domain)
    if request.method == "POST" and form.is_valid() and (route := form.save_unique()) is not None:
        messages.success(request, f"Route {route.display_url} added.{_host_added(form)}")
        if "add_another" in request.POST:
            return redirect("route_new", domain.code)
        return redirect("client_detail", domain.client.code)
    routes = domain.routes.all()
    return render(
        request,
        "launchready/route_form.html",
        {"form": form, "domain": domain, "client": domain.client, "routes": routes},
    )


def _host_added(form: RouteForm) -> str:
    if not form.added_host:
        return ""
    return f" {form.added_host} is now one of the hosts in use on {form.domain.display_name}, and is audited."


@login_required
def route_edit(request: AuthedRequest, route_code: UUID) -> HttpResponse:
    route = get_rw_route_for_user(request.user, route_code)
    form = RouteForm(request.POST or None, instance=route, domain=route.domain)
    if request.method == "POST" and form.is_valid() and (saved := form.save_unique()) is not None:
        route = saved
        messages.success(request, f"Route {route.display_url} saved.{_host_added(form)}")
        return redirect("client_detail", route.domain.client.code)
    context = {"form": form, "domain": route.domain, "client": route.domain.client, "route": route}
    return render(request, "launchready/route_form.html", context)


@login_required
@require_POST
def route_delete(request: AuthedRequest, route_code: UUID) -> HttpResponse:
    route = get_rw_route_for_user(request.user, route_code)
    route.delete()
    messages.success(request, f"Route {route.display_url} removed.")
    return redirect("client_detail", route.domain.client.code)


@login_required
def sprint_new(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    with timezone.override(client.timezone):
        form = SprintForm(request.POST or None, client=client, initial={"state": Sprint.State.ACTIVE})
        if request.method == "POST" and form.is_valid():
            sprint = form.save()
            messages.success(request, "Sprint started. The 48-hour countdown is on the client page.")
            return redirect("sprint_detail", sprint.code)
        return render(request, "launchready/sprint_form.html", {"form": form, "client": client})


@login_required
def sprint_detail(request: AuthedRequest, sprint_code: UUID) -> HttpResponse:
    sprint = get_sprint_for_user(request.user, sprint_code)
    context: dict[str, Any] = {"sprint": sprint, "client": sprint.client, "now": timezone.now()}
    with timezone.override(sprint.client.timezone):
        if _is_htmx(request):  # the countdown refreshing itself needs nothing else
            return render(request, "launchready/_countdown.html", context)
        risks = risk_list(sprint.client)
        context |= {
            "risks": risks,
            "status": audit_status(sprint.client),
            "top_risks": risks.findings[:8],
            "checklist": sprint_checklist(sprint),
            "can_edit": is_staff_of(request.user, sprint.client.workspace_id),
        }
        return render(request, "launchready/sprint_detail.html", context)


@login_required
def sprint_edit(request: AuthedRequest, sprint_code: UUID) -> HttpResponse:
    sprint = get_rw_sprint_for_user(request.user, sprint_code)
    with timezone.override(sprint.client.timezone):
        form = SprintForm(request.POST or None, instance=sprint, client=sprint.client)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(request, "Sprint saved.")
            return redirect("sprint_detail", sprint.code)
        return render(
            request, "launchready/sprint_form.html", {"form": form, "client": sprint.client, "sprint": sprint}
        )


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    report = health.check_all()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
