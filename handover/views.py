"""Pages of the handover: the sprint checklist ticks, the pack (preview, publish, versions, exports) and
the access inventory founders fill in."""

from __future__ import annotations

import logging
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from accounts.activity import record_activity
from accounts.http import AuthedRequest
from audits.findings import Item
from handover.access import access_entries, access_inventory_save
from handover.checklist import checklist_tick, sprint_checklist
from handover.forms import AccessInventoryForm, ChecklistTickForm, PublishForm
from handover.models import PackVersion
from handover.pack import build_pack
from handover.pack_mail import founder_addresses
from handover.pdf import pack_pdf
from handover.publish import pack_publish, pack_render, publish_warnings, warnings_key
from handover.scoping import get_pack_version_for_user
from launchready.tenancy import get_client_for_user, get_rw_client_for_user, get_rw_sprint_for_user, is_staff_of

log = logging.getLogger(__name__)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _tick_error(form: ChecklistTickForm) -> str:
    """What was wrong with a tick, in words: the notes' own error when they were the problem."""
    if "notes" in form.errors:
        return f"The notes were not saved: {form.errors['notes'][0]}"
    return "Choose one of the ten Launch Ready items to tick."


@login_required
@require_POST
def checklist_tick_view(request: AuthedRequest, sprint_code: UUID) -> HttpResponse:
    sprint = get_rw_sprint_for_user(request.user, sprint_code)
    form = ChecklistTickForm(request.POST)
    if form.is_valid():
        item = Item(form.cleaned_data["item"])
        checklist_tick(
            sprint=sprint,
            item=item,
            done=form.cleaned_data["done"],
            notes=form.cleaned_data["notes"],
            user=request.user,
        )
    elif not _is_htmx(request):
        messages.error(request, _tick_error(form))
    if not _is_htmx(request):
        return redirect("sprint_detail", sprint.code)
    with timezone.override(sprint.client.timezone):
        context = {"sprint": sprint, "client": sprint.client, "checklist": sprint_checklist(sprint), "can_edit": True}
        if not form.is_valid():
            context["tick_error"] = _tick_error(form)
        return render(request, "handover/_checklist.html", context)


@login_required
def client_pack(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    """The consultant previews the pack as it would be published now; a founder reads the latest version."""
    client = get_client_for_user(request.user, client_code)
    versions = list(PackVersion.objects.filter(client=client).defer("data", "html", "markdown"))
    if not is_staff_of(request.user, client.workspace_id):
        if versions:
            return redirect("pack_version", versions[0].code)
        return render(request, "handover/pack_none.html", {"client": client})
    with timezone.override(client.timezone):
        data = build_pack(client)
        html, _ = pack_render(data)
        context = {
            "client": client,
            "versions": versions,
            "preview": html,
            "audited": bool(data["status"]["audited_on"]),
            "form": PublishForm(),
            "warnings": publish_warnings(data),
            "can_edit": True,
        }
        return render(request, "handover/pack.html", context)


@login_required
@require_POST
def pack_publish_view(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    form = PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not published: " + " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("client_pack", client.code)
    with timezone.override(client.timezone):
        warnings = publish_warnings(build_pack(client))
    if warnings and form.cleaned_data["confirm"] != warnings_key(warnings):
        number = PackVersion.objects.filter(client=client).count() + 1
        confirm = PublishForm(initial={"note": form.cleaned_data["note"], "confirm": warnings_key(warnings)})
        context = {"client": client, "warnings": warnings, "form": confirm, "number": number}
        return render(request, "handover/publish_confirm.html", context)
    version = pack_publish(client=client, user=request.user, note=form.cleaned_data["note"])
    record_activity(
        client.workspace, request.user, "pack.published", f"Handover pack v{version.number} of {client.name}", request
    )
    founders = len(founder_addresses(version))
    told = (
        f"{founders} founder{'s are' if founders != 1 else ' is'} emailed a link to it."
        if founders
        else "No founder has access yet: invite them from the client page and they will find it there."
    )
    messages.success(request, f"Handover pack v{version.number} published. {told}")
    return redirect("pack_version", version.code)


@login_required
def pack_version(request: AuthedRequest, pack_code: UUID) -> HttpResponse:
    version = get_pack_version_for_user(request.user, pack_code)
    client = version.client
    versions = list(PackVersion.objects.filter(client=client).defer("data", "html", "markdown"))
    context = {
        "client": client,
        "version": version,
        "versions": versions,
        "latest": versions[0] if versions else None,
        "can_edit": is_staff_of(request.user, client.workspace_id),
    }
    with timezone.override(client.timezone):
        return render(request, "handover/version.html", context)


def _record_export(request: AuthedRequest, version: PackVersion, kind: str) -> None:
    client = version.client
    target = f"Handover pack v{version.number} of {client.name} ({kind})"
    record_activity(client.workspace, request.user, "export.downloaded", target, request)


def _filename(version: PackVersion, extension: str) -> str:
    return f"{slugify(version.client.name) or 'client'}-handover-v{version.number}.{extension}"


@login_required
def pack_version_markdown(request: AuthedRequest, pack_code: UUID) -> HttpResponse:
    version = get_pack_version_for_user(request.user, pack_code)
    response = HttpResponse(version.markdown, content_type="text/markdown; charset=utf-8")
    _record_export(request, version, "Markdown")
    response["Content-Disposition"] = f'attachment; filename="{_filename(version, "md")}"'
    return response


@login_required
def pack_version_pdf(request: AuthedRequest, pack_code: UUID) -> HttpResponse:
    version = get_pack_version_for_user(request.user, pack_code)
    try:
        with timezone.override(version.client.timezone):
            pdf = pack_pdf(version)
    except Exception as exc:  # a PDF engine failure must not become an error page
        log.error("PDF of handover pack %s failed: %s", version.code, type(exc).__name__)
        messages.error(request, "The PDF could not be made just now. The Markdown export has the same content.")
        return redirect("pack_version", version.code)
    response = HttpResponse(pdf, content_type="application/pdf")
    _record_export(request, version, "PDF")
    response["Content-Disposition"] = f'inline; filename="{_filename(version, "pdf")}"'
    return response


@login_required
def access_inventory(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    """The one part of the pack founders edit: who holds each login and where it lives."""
    client = get_client_for_user(request.user, client_code)
    form = AccessInventoryForm(request.POST or None, entries=access_entries(client))
    if request.method == "POST" and form.is_valid():
        changed = access_inventory_save(client=client, form=form, user=request.user)
        messages.success(request, "Access inventory saved." if changed else "Nothing changed in the access inventory.")
        return redirect("access_inventory", client.code)
    context = {"client": client, "form": form, "can_edit": is_staff_of(request.user, client.workspace_id)}
    return render(request, "handover/access.html", context, status=400 if form.errors else 200)
