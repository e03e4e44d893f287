"""The pages of onboarding in bulk: the template and the export to download, the upload with its preview, and
the import of a previewed file. Only the consultancy's staff see them, for their own workspace."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from accounts.http import AuthedRequest
from accounts.models import Membership
from web.onboarding import (
    CLIENT,
    COLUMNS,
    CONTACT,
    DOMAIN,
    MAX_BYTES,
    MAX_ROWS,
    ROUTE,
    Applied,
    ImportFileError,
    Plan,
    csv_decode,
    csv_digest,
    csv_parse,
    csv_size_error,
    onboarding_apply,
    onboarding_export,
    onboarding_plan,
    onboarding_template,
)

SESSION_KEY = "onboarding_csv"  # the previewed file's text, until it is imported or another replaces it


def _staff(request: AuthedRequest) -> Membership:
    membership = request.membership
    if membership is None or not membership.is_staff_role:
        raise Http404
    return membership


def _csv(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def onboarding_template_csv(request: AuthedRequest) -> HttpResponse:
    _staff(request)
    return _csv(onboarding_template(), "launch-ready-import-template.csv")


@login_required
def onboarding_export_csv(request: AuthedRequest) -> HttpResponse:
    membership = _staff(request)
    name = slugify(membership.workspace.name)[:40] or "workspace"
    filename = f"launch-ready-{name}-{timezone.localdate():%Y-%m-%d}.csv"
    return _csv(onboarding_export(workspace=membership.workspace, user=request.user), filename)


def _page(request: AuthedRequest, **context: Any) -> HttpResponse:
    context |= {"columns": COLUMNS, "max_mb": MAX_BYTES // 1_000_000, "max_rows": MAX_ROWS}
    return render(request, "web/onboarding.html", context)


def _preview(request: AuthedRequest, plan: Plan, text: str, filename: str) -> HttpResponse:
    kinds = (("Clients", CLIENT), ("Contacts", CONTACT), ("Domains", DOMAIN), ("Routes", ROUTE))
    summary = [
        {"label": label, "create": plan.count("create", kind), "update": plan.count("update", kind),
         "unchanged": plan.count("unchanged", kind), "errors": sum(1 for r in plan.errors if r.kind == kind)}
        for label, kind in kinds
    ]  # fmt: skip
    return _page(request, plan=plan, summary=summary, filename=filename, digest=csv_digest(text))


@login_required
def onboarding_import(request: AuthedRequest) -> HttpResponse:
    """GET: the upload form and the columns explained. POST: the file checked row by row, nothing saved."""
    membership = _staff(request)
    if request.method != "POST":
        return _page(request)
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, file_error="Choose a CSV file to upload.")
    filename = upload.name or "the file"
    if (too_large := csv_size_error(upload.size or 0)) is not None:
        return _page(request, file_error=too_large, filename=filename)
    try:
        text = csv_decode(upload.read(MAX_BYTES + 1))
        rows = csv_parse(text)
    except ImportFileError as exc:
        return _page(request, file_error=str(exc), filename=filename)
    plan = onboarding_plan(workspace=membership.workspace, user=request.user, rows=rows)
    request.session[SESSION_KEY] = {"text": text, "name": filename, "workspace": membership.workspace_id}
    return _preview(request, plan, text, filename)


@login_required
@require_POST
def onboarding_apply_csv(request: AuthedRequest) -> HttpResponse:
    """Import the file last previewed, checked again as it is saved: nothing is saved while a row has an error."""
    membership = _staff(request)
    stored = request.session.get(SESSION_KEY)
    if (
        not stored
        or stored.get("workspace") != membership.workspace_id
        or csv_digest(stored["text"]) != request.POST.get("digest")
    ):
        messages.error(request, "That preview is no longer the last file uploaded here: upload the file again.")
        return redirect("onboarding_import")
    plan = onboarding_plan(workspace=membership.workspace, user=request.user, rows=csv_parse(stored["text"]))
    if plan.errors:  # the workspace changed since the preview
        return _preview(request, plan, stored["text"], stored["name"])
    applied = onboarding_apply(plan=plan, user=request.user)
    del request.session[SESSION_KEY]
    messages.success(request, _done(applied))
    return redirect("dashboard")


def _done(applied: Applied) -> str:
    def counted(counts: dict[str, int]) -> str:
        names = {CLIENT: "client", CONTACT: "contact", DOMAIN: "domain", ROUTE: "route"}
        parts = [f"{n} {names[k]}{'s' if n != 1 else ''}" for k, n in counts.items() if n]
        return ", ".join(parts) or "nothing"

    text = f"Import done: {counted(applied.created)} added; {counted(applied.updated)} updated."
    if applied.audits_started:
        plural = "s" if applied.audits_started != 1 else ""
        text += f" The first audit of {applied.audits_started} new domain{plural} has started."
    else:
        text += " No new domain, so no audit was started."
    return text
