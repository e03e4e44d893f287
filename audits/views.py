"""Pages for audits: start a run, watch its progress, the risk list with go/no-go, the JSON export."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from accounts.activity import record_activity
from accounts.http import AuthedRequest
from accounts.sudo import sudo_redirect
from audits import ci
from audits.findings import ITEM_LABELS, Area, Severity
from audits.findings_html import findings_html
from audits.forms import AssistantProbeForm, KeyRotationForm, RepoUploadForm
from audits.inbound.addresses import send_test_address_issue
from audits.inbound.limits import ReceiverLimits
from audits.inbound.send_tests import send_test_for
from audits.inbound.senders import report_address_for, senders_for
from audits.models import AssistantProbe, MailAddress, RepoScan
from audits.risk import export, risk_list
from audits.runs import audit_client
from audits.scans import repo_scan_start
from audits.scoping import get_audit_run_for_user
from audits.secrets.lifecycle import LIMITS
from audits.secrets.rotation import key_finding, key_rotated_mark, key_rotation_undo, leaked_keys
from audits.status import audit_status
from launchready.models import Client
from launchready.tenancy import get_client_for_user, get_rw_client_for_user, is_staff_of


@login_required
@require_POST
def audit_start(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    runs = audit_client(client=client, user=request.user)
    if runs:
        messages.success(request, f"Audit started for {len(runs)} domain{'s' if len(runs) != 1 else ''}.")
    else:
        messages.info(request, "An audit is already running, or the client has no domain yet.")
    return redirect("client_risks", client.code)


@login_required
def client_risks(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_client_for_user(request.user, client_code)
    area, severity = request.GET.get("area", ""), request.GET.get("severity", "")
    area = area if area in Area._value2member_map_ else ""
    severity = severity if severity in Severity._value2member_map_ else ""
    risks = risk_list(client, area=area, severity=severity)
    context = {
        "client": client,
        "risks": risks,
        "findings_html": findings_html(request, risks.findings),
        "status": audit_status(client),
        "area": area,
        "severity": severity,
        "areas": [a for a in Area if a != Area.AUDIT],
        "severities": list(Severity),
        "items": ITEM_LABELS,
        "can_edit": is_staff_of(request.user, client.workspace_id),
    }
    return render(request, "audits/risks.html", context)


@login_required
def audit_progress(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    """The audit's state and verdict, polled while a run is under way: once none is, the answer carries no
    trigger (the polling stops) and tells the page to refresh its findings in place."""
    client = get_client_for_user(request.user, client_code)
    status = audit_status(client)
    show_banner = request.GET.get("banner") != "0"
    context = {"client": client, "status": status, "show_banner": show_banner}
    if show_banner:
        context["risks"] = risk_list(client)
    response = render(request, "audits/_status.html", context)
    if not status.active and request.GET.get("watching"):
        response["HX-Trigger"] = "audit-finished"
    return response


@login_required
def client_risks_json(request: AuthedRequest, client_code: UUID) -> JsonResponse:
    client = get_client_for_user(request.user, client_code)
    response = JsonResponse(export(client), json_dumps_params={"indent": 2})
    record_activity(client.workspace, request.user, "export.downloaded", f"Risk list (JSON) of {client.name}", request)
    response["Content-Disposition"] = f'attachment; filename="{slugify(client.name) or "client"}-risks.json"'
    return response


@login_required
def audit_run_detail(request: AuthedRequest, run_code: UUID) -> HttpResponse:
    run = get_audit_run_for_user(request.user, run_code)
    findings = list(run.findings.all())
    context = {
        "run": run,
        "client": run.domain.client,
        "findings": findings,
        "findings_html": findings_html(request, findings),
        "inventory": run.inventory,
        "can_edit": is_staff_of(request.user, run.domain.client.workspace_id),
    }
    return render(request, "audits/run_detail.html", context)


@login_required
def assistant_probe(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    """Configure the client's AI-assistant probe. The page takes secrets (auth headers), so it asks for
    the password first; the secret is never parked in the session while the person confirms."""
    client = get_rw_client_for_user(request.user, client_code)
    if reauth := sudo_redirect(request, reverse("assistant_probe", args=[client.code])):
        return reauth
    probe = AssistantProbe.objects.filter(client=client).first()
    form = AssistantProbeForm(request.POST or None, instance=probe or AssistantProbe(client=client))
    if request.method == "POST" and form.is_valid():
        probe = form.save()
        record_activity(client.workspace, request.user, "assistant.configured", f"Assistant of {client.name}", request)
        messages.success(request, "Assistant probe saved. It runs with the next audit; start one to probe it now.")
        return redirect("assistant_probe", client.code)
    context = {"client": client, "form": form, "probe": probe}
    return render(request, "audits/assistant.html", context)


@login_required
@require_POST
def assistant_probe_delete(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    if reauth := sudo_redirect(request, reverse("assistant_probe", args=[client.code])):
        return reauth
    deleted, _ = AssistantProbe.objects.filter(client=client).delete()
    if deleted:
        record_activity(client.workspace, request.user, "assistant.removed", f"Assistant of {client.name}", request)
        messages.success(request, "Assistant probe removed, with its saved headers.")
    return redirect("client_detail", client.code)


@login_required
def repo_scans(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    """Upload a client repository to scan, and the scans so far. Founders may look; only staff upload."""
    client = get_client_for_user(request.user, client_code)
    can_edit = is_staff_of(request.user, client.workspace_id)
    form = RepoUploadForm()
    if request.method == "POST":
        client = get_rw_client_for_user(request.user, client_code)
        form = _upload_form(request)
        if form.is_valid():
            upload = form.cleaned_data["archive"]
            scan = repo_scan_start(client=client, upload=upload, kind=form.kind, user=request.user)
            messages.success(request, f"{scan.filename} uploaded. The scan runs now; the file is deleted when it ends.")
            return redirect("repo_scans", client.code)
    api_url = request.build_absolute_uri(reverse("api_scans"))
    context = {
        "client": client,
        "form": form,
        "can_edit": can_edit,
        "ci_shell": ci.shell(api_url),
        "ci_workflow": ci.github_actions(api_url),
        "pre_commit": ci.pre_commit_config(settings.PRE_COMMIT_REPO, settings.PRE_COMMIT_REV),
        "hook_id": ci.HOOK_ID,
        "leaked_keys": leaked_keys(client),
        **_scans(client),
    }
    return render(request, "audits/repo_scans.html", context, status=400 if form.errors else 200)


def _upload_form(request: AuthedRequest) -> RepoUploadForm:
    # A body far over the limit is refused before Django reads it into a temporary file.
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > LIMITS.upload_bytes + 1024 * 1024:
        form = RepoUploadForm(data={})
        # The file was sent: the error is its size, said next to the field, not that the field was left empty.
        form.errors["archive"] = form.error_class(
            [f"The file is too large: the limit is {LIMITS.upload_bytes // 2**20} MB."]
        )
        return form
    return RepoUploadForm(request.POST, request.FILES)


def _scans(client: Client) -> dict[str, object]:
    scans = list(RepoScan.objects.filter(client=client).order_by("-created")[:10])
    busy = any(s.state in (RepoScan.State.QUEUED, RepoScan.State.RUNNING) for s in scans)
    return {"scans": scans, "busy": busy}


@login_required
@require_POST
def key_rotated(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    """'I rotated this key', on an open leaked-key finding of the latest scan; staff only."""
    client = get_rw_client_for_user(request.user, client_code)
    form = KeyRotationForm(request.POST)
    finding = key_finding(client, request.POST.get("finding", ""))
    if finding is None or not finding.is_open:
        messages.error(request, "This key is not open in the latest scan: the page was out of date.")
    elif form.is_valid():
        key_rotated_mark(client=client, finding=finding, user=request.user, note=form.cleaned_data["note"])
        messages.success(request, "Marked as rotated: the key no longer counts as open.")
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(reverse("repo_scans", args=[client.code]) + "#leaked-keys")


@login_required
@require_POST
def key_rotation_undone(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    """Take back a mistaken 'I rotated this key'; staff only."""
    client = get_rw_client_for_user(request.user, client_code)
    finding = key_finding(client, request.POST.get("finding", ""))
    if finding is None or not key_rotation_undo(client=client, finding=finding):
        messages.error(request, "This key of the latest scan is not marked rotated: the page was out of date.")
    else:
        messages.success(request, "The mark is undone: the key counts as open again.")
    return redirect(reverse("repo_scans", args=[client.code]) + "#leaked-keys")


@login_required
def repo_scans_status(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    """The scans list alone, polled while a scan is queued or running."""
    client = get_client_for_user(request.user, client_code)
    return render(request, "audits/_repo_scans.html", {"client": client, **_scans(client)})


@login_required
def send_test(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    """The real-send test: the address to send the app's sign-up or reset email to, and the verdict on what came.
    Staff issue a new address (POST); founders see the test and its verdict."""
    client = get_client_for_user(request.user, client_code)
    if request.method == "POST":
        client = get_rw_client_for_user(request.user, client_code)
        if not send_test_for(client).receiver_on:
            messages.error(request, "The mail receiver is not set up on this installation.")
        else:
            send_test_address_issue(client=client, user=request.user)
            messages.success(request, "A new test address is ready: send one email to it.")
        return redirect("send_test", client.code)
    can_edit = is_staff_of(request.user, client.workspace_id)
    context = {
        "client": client,
        "test": send_test_for(client),
        "can_edit": can_edit,
        "retention_days": settings.LAUNCHREADY_MAIL_RECEIVER.retention_days,
        "per_hour": ReceiverLimits().messages_per_address_per_hour[MailAddress.Kind.SEND_TEST],
        "sandbox_sender": can_edit and not settings.PRODUCTION,  # development: the sandbox stands in for the app
    }
    return render(request, "audits/send_test.html", context)


@login_required
def send_test_status(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    """The test's state and verdict alone, polled while mail may still arrive or is being judged."""
    client = get_client_for_user(request.user, client_code)
    return render(request, "audits/_send_test.html", {"client": client, "test": send_test_for(client)})


@login_required
def dmarc_senders(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    """Who sends as the client's domains, from the DMARC aggregate reports its rua= address received."""
    client = get_client_for_user(request.user, client_code)
    context = {
        "client": client,
        "senders": senders_for(client),
        "rua": report_address_for(client),
        "can_edit": is_staff_of(request.user, client.workspace_id),
    }
    return render(request, "audits/senders.html", context)
