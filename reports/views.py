"""Pages of the weekly report: a client's report history and schedule, the preview, a sent report as it
was sent, the consultant's digest of every client, and the opt-out page reached from the email."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.http import AuthedRequest
from launchready.models import Client
from launchready.tenancy import get_client_for_user, get_rw_client_for_user, is_staff_of
from reports.digest import digest_rows, read_digest_token, subscribe, unsubscribe
from reports.forms import ReportScheduleForm
from reports.mail import opt_in, opt_out, preview, read_opt_out_token, recipients
from reports.models import DigestSubscription, ReportOptOut, ReportSchedule, WeeklyReport, with_covered_label
from reports.schedule import next_send, preview_week
from reports.scoping import get_report_for_user

# The email's own HTML, shown in a sandboxed frame of our pages: its inline styles are the point of it.
EMAIL_CSP = {
    "default-src": ["'none'"],
    "script-src": ["'none'"],
    "connect-src": ["'none'"],
    "font-src": ["'none'"],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "frame-ancestors": ["'self'"],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
}


def _email_response(html: str) -> HttpResponse:
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response._csp_replace = EMAIL_CSP  # type: ignore[attr-defined]  # read by django-csp's middleware
    return response


@login_required
def report_history(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_client_for_user(request.user, client_code)
    can_edit = is_staff_of(request.user, client.workspace_id)
    schedule = ReportSchedule.objects.filter(client=client).first() or ReportSchedule(client=client)
    if request.method == "POST":
        client = get_rw_client_for_user(request.user, client_code)
    form = ReportScheduleForm(request.POST or None, instance=schedule) if can_edit else None
    if form is not None and request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Weekly report schedule saved.")
        return redirect("report_history", client.code)
    reports = with_covered_label(
        WeeklyReport.objects.filter(client=client, period_end__gt=client.created).defer("html", "text", "data")
    )
    if not can_edit:
        reports = reports.filter(state=WeeklyReport.State.SENT)
    context: dict[str, Any] = {
        "client": client,
        "can_edit": can_edit,
        "form": form,
        "reports": reports,
        "next_send": next_send(client),
        "people": recipients(client) if can_edit else None,
    }
    return render(request, "reports/history.html", context)


@login_required
def report_preview(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    data, rendered = preview(client, preview_week(client))
    context = {
        "client": client,
        "data": data,
        "so_far": data["week"]["end"] > timezone.now().isoformat(),
        "rendered": rendered,
        "people": recipients(client),
        "next_send": next_send(client),
    }
    return render(request, "reports/preview.html", context)


@login_required
@xframe_options_sameorigin
def report_preview_email(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    _, rendered = preview(client, preview_week(client))
    return _email_response(rendered.html)


@login_required
def report_detail(request: AuthedRequest, report_code: UUID) -> HttpResponse:
    report = get_report_for_user(request.user, report_code)
    can_edit = is_staff_of(request.user, report.client.workspace_id)
    if report.state != WeeklyReport.State.SENT and not can_edit:
        raise Http404
    context = {"report": report, "client": report.client, "can_edit": can_edit}
    return render(request, "reports/detail.html", context)


@login_required
@xframe_options_sameorigin
def report_email(request: AuthedRequest, report_code: UUID) -> HttpResponse:
    report = get_report_for_user(request.user, report_code)
    if report.state != WeeklyReport.State.SENT and not is_staff_of(request.user, report.client.workspace_id):
        raise Http404
    if not report.html:
        raise Http404
    return _email_response(report.html)


@login_required
def report_digest(request: AuthedRequest) -> HttpResponse:
    membership = request.membership
    if membership is None or not membership.is_staff_role:
        raise Http404
    if request.method == "POST":
        if request.POST.get("action") == "subscribe":
            subscribe(membership)
            messages.success(request, f"The digest will reach {request.user.email} every Monday.")
        else:
            unsubscribe(membership)
            messages.success(request, "No more digest emails.")
        return redirect("report_digest")
    clients = list(
        Client.objects.visible_to(request.user).filter(workspace=membership.workspace).select_related("report_schedule")
    )
    subscribed = DigestSubscription.objects.filter(membership=membership).exists()
    return render(request, "reports/digest.html", {"rows": digest_rows(clients), "subscribed": subscribed})


@never_cache
@csrf_exempt  # the signed token is the credential; RFC 8058 one-click posts come from mail providers
@require_http_methods(["GET", "POST"])
def report_digest_opt_out(request: HttpRequest, token: str) -> HttpResponse:
    membership = read_digest_token(token)
    if membership is None:
        return render(request, "reports/opt_out_invalid.html", status=400)
    if request.method == "POST":
        unsubscribe(membership)
    subscribed = DigestSubscription.objects.filter(membership=membership).exists()
    return render(request, "reports/digest_opt_out.html", {"subscriber": membership, "subscribed": subscribed})


@never_cache
@csrf_exempt  # the signed token is the credential; RFC 8058 one-click posts come from mail providers
@require_http_methods(["GET", "POST"])
def report_opt_out(request: HttpRequest, token: str) -> HttpResponse:
    found = read_opt_out_token(token)
    if found is None:
        return render(request, "reports/opt_out_invalid.html", status=400)
    client, email = found
    done = ""
    if request.method == "POST":
        if request.POST.get("action") == "opt_in":
            opt_in(client, email)
            done = "opted_in"
        else:  # the page's button, or a mail provider's "List-Unsubscribe=One-Click"
            opt_out(client, email)
            done = "opted_out"
    opted_out = ReportOptOut.objects.filter(client=client, email=email).exists()
    context = {"client": client, "email": email, "opted_out": opted_out, "done": done}
    return render(request, "reports/opt_out.html", context)
