"""The pages that compose the apps: the consultant's dashboard, a client's page (the founder's home), the
client, contact, domain, route and sprint forms, the sprint page and the DNS baseline approval."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.activity import record_activity
from accounts.forms import FounderInviteForm
from accounts.http import AuthedRequest
from accounts.sudo import require_sudo
from audits.findings_html import findings_html
from audits.inbound.senders import senders_for
from audits.risk import risk_list
from audits.runs import audit_runs_start
from audits.scoping import get_audit_run_for_user
from audits.status import audit_status
from handover.checklist import sprint_checklist
from handover.models import PackVersion
from handover.pack import open_risk_count, uptime_30d
from launchready import status
from launchready.forms import ClientForm, ContactForm, DomainForm, RouteForm, SprintForm
from launchready.jinja import jinja_partial
from launchready.models import Client, Sprint
from launchready.status import status_of
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
from monitoring import deploy_latency
from monitoring.alerts import unreachable_clients
from monitoring.client_status import troubles
from monitoring.models import Deploy
from monitoring.watches import baseline_approve
from reports.models import WeeklyReport, with_covered_label
from web.dashboard import dashboard_rows, soonest_deadline_first

DASHBOARD_PAGE_SIZE = 50


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
    if membership is None or membership.client is not None:  # no dashboard: home says where they go instead
        return home(request)
    clients = Client.objects.visible_to(request.user).filter(workspace=membership.workspace)
    page = Paginator(soonest_deadline_first(clients), DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = dashboard_rows(page.object_list)
    unreachable = unreachable_clients([row.client for row in rows])
    for row in rows:
        row.no_channel = row.client.id in unreachable
    # The rows in Jinja2 (jinja/web/_client_rows.html): a page of fifty of them, three times faster than in
    # Django's template language; the page around them in Django's.
    rows_html = jinja_partial(request, "web/_client_rows.html", {"rows": rows, "now": timezone.now()})
    if _is_htmx(request):
        return HttpResponse(rows_html)
    return render(request, "web/dashboard.html", {"rows": rows, "rows_html": rows_html, "page": page})


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
    return render(request, "web/client_form.html", {"form": form})


@login_required
def client_detail(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_client_for_user(request.user, client_code)
    can_edit = is_staff_of(request.user, client.workspace_id)
    domains = list(client.domains.prefetch_related("routes"))
    sprints = list(client.sprints.all()[:5])
    current = next((s for s in sprints if s.is_open), None)
    risks = risk_list(client)
    row = status_of(client)
    last_deploy = Deploy.objects.filter(client=client).first()
    latency = deploy_latency.measure([last_deploy]) if last_deploy else {}
    context: dict[str, Any] = {
        "client": client,
        "last_deploy": last_deploy,
        # the routes the latest deploy made slower: its stored figures, or measured until they are stored
        "deploy_slower": deploy_latency.regression_words(latency.get(last_deploy.id, [])) if last_deploy else "",
        "down": row.down,
        "troubles": troubles(row, routes_down=row.down),  # routes down (paused ones too), jobs, journeys
        "risks": risks,
        "top_risks": risks.findings[:5],
        "top_risks_html": findings_html(request, risks.findings[:5]),
        "status": audit_status(client),
        "domains": domains,
        "sprint": current,
        "past_sprints": [s for s in sprints if s is not current],
        "contacts": client.contacts.all(),
        "can_edit": can_edit,
        "now": timezone.now(),
        "senders": senders_for(client),
        "packs": list(PackVersion.objects.filter(client=client).defer("data", "html", "markdown")[:6]),
    }
    # The domains and routes in Jinja2 (jinja/web/_domains.html), the page around them in Django's templates.
    context["domains_html"] = jinja_partial(request, "web/_domains.html", {"domains": domains, "can_edit": can_edit})
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
        return render(request, "web/client_detail.html", context)


@login_required
def client_edit(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Client details saved.")
        return redirect("client_detail", client.code)
    return render(request, "web/client_form.html", {"form": form, "client": client})


@login_required
@require_POST
def client_delete(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    if request.POST.get("confirm_name", "").strip() != client.name:
        messages.error(request, "Type the client's name exactly to delete it.")
        return redirect("client_edit", client.code)
    require_sudo(request)
    record_activity(client.workspace, request.user, "client.deleted", client, request)
    with status.batched():  # its status row goes with it: not refreshed once per monitor and domain on the way
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
    return render(request, "web/domain_form.html", {"form": form, "client": client})


@login_required
def domain_edit(request: AuthedRequest, domain_code: UUID) -> HttpResponse:
    domain = get_rw_domain_for_user(request.user, domain_code)
    form = DomainForm(request.POST or None, instance=domain, client=domain.client)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"{domain.display_name} saved.")
        return redirect("client_detail", domain.client.code)
    return render(request, "web/domain_form.html", {"form": form, "client": domain.client, "domain": domain})


@login_required
@require_POST
def domain_delete(request: AuthedRequest, domain_code: UUID) -> HttpResponse:
    domain = get_rw_domain_for_user(request.user, domain_code)
    with status.batched():  # the client's status row refreshed once, not once per route's monitor
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
        "web/route_form.html",
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
    return render(request, "web/route_form.html", context)


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
        return render(request, "web/sprint_form.html", {"form": form, "client": client})


@login_required
def sprint_detail(request: AuthedRequest, sprint_code: UUID) -> HttpResponse:
    sprint = get_sprint_for_user(request.user, sprint_code)
    context: dict[str, Any] = {"sprint": sprint, "client": sprint.client, "now": timezone.now()}
    with timezone.override(sprint.client.timezone):
        if _is_htmx(request):  # the countdown refreshing itself needs nothing else
            return render(request, "web/_countdown.html", context)
        risks = risk_list(sprint.client)
        context |= {
            "risks": risks,
            "status": audit_status(sprint.client),
            "top_risks": risks.findings[:8],
            "top_risks_html": findings_html(request, risks.findings[:8]),
            "checklist": sprint_checklist(sprint),
            "can_edit": is_staff_of(request.user, sprint.client.workspace_id),
        }
        return render(request, "web/sprint_detail.html", context)


@login_required
def sprint_edit(request: AuthedRequest, sprint_code: UUID) -> HttpResponse:
    sprint = get_rw_sprint_for_user(request.user, sprint_code)
    with timezone.override(sprint.client.timezone):
        form = SprintForm(request.POST or None, instance=sprint, client=sprint.client)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(request, "Sprint saved.")
            return redirect("sprint_detail", sprint.code)
        return render(request, "web/sprint_form.html", {"form": form, "client": sprint.client, "sprint": sprint})


@login_required
@require_POST
def approve_baseline(request: AuthedRequest, run_code: UUID) -> HttpResponse:
    """Make this run's DNS records the baseline that the drift watch compares against."""
    run = get_audit_run_for_user(request.user, run_code)
    if not is_staff_of(request.user, run.domain.client.workspace_id):
        raise PermissionDenied
    baseline_approve(domain=run.domain, inventory=run.inventory, user=request.user)
    count, name = len(run.inventory), run.domain.display_name
    messages.success(request, f"{count} records approved as the DNS baseline of {name}.")
    return redirect("audit_run_detail", run.code)
