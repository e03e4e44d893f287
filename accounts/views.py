"""Pages for workspaces, members, invitations and the workspace switcher."""

from __future__ import annotations

from uuid import UUID

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from accounts.activity import VERBS, activities_for, record_activity
from accounts.forms import ColleagueInviteForm, FounderInviteForm, WorkspaceForm, WorkspaceSettingsForm
from accounts.http import AuthedRequest
from accounts.invitations import (
    InvitationError,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_label,
    invitation_revoke,
)
from accounts.middleware import SESSION_KEY
from accounts.models import Invitation, Membership, Role
from accounts.ratelimits import invitation_limited
from accounts.sudo import require_sudo
from launchready.tenancy import get_rw_client_for_user


def _owner_membership(request: AuthedRequest) -> Membership:
    membership = request.membership
    if membership is None or not membership.is_owner:
        raise Http404
    return membership


def _founder_everywhere(request: AuthedRequest) -> Membership | None:
    """The founder's membership of someone who is only ever a founder (no consultancy of their own)."""
    if not request.memberships or any(m.is_staff_role for m in request.memberships):
        return None
    membership = request.membership
    return membership if membership is not None and membership.client is not None else request.memberships[0]


@login_required
def workspace_new(request: AuthedRequest) -> HttpResponse:
    # A founder was invited to follow one client: a workspace of their own would make them a consultancy
    # and move their home away from that client. Refused, saying what to do instead.
    if founder := _founder_everywhere(request):
        messages.info(
            request,
            f"Workspaces are for consultancies. This account follows the launch of {founder.client}; "
            "to run launch sprints of your own, sign up with another email address.",
        )
        return redirect("home")
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            workspace = form.save()
            Membership.objects.create(user=request.user, workspace=workspace, role=Role.OWNER)
        request.session[SESSION_KEY] = str(workspace.code)
        messages.success(request, f"{workspace.name} is ready. Add your first client.")
        return redirect("dashboard")
    return render(request, "accounts/workspace_new.html", {"form": form})


@login_required
@require_POST
def workspace_switch(request: AuthedRequest) -> HttpResponse:
    code = request.POST.get("workspace", "")
    membership = next((m for m in request.memberships if str(m.workspace.code) == code), None)
    if membership is None:
        raise Http404
    request.session[SESSION_KEY] = code
    return redirect("home")


@login_required
def workspace_settings(request: AuthedRequest) -> HttpResponse:
    membership = _owner_membership(request)
    workspace = membership.workspace
    form = WorkspaceSettingsForm(request.POST or None, instance=workspace)
    if request.method == "POST" and form.is_valid():
        if "require_mfa" in form.changed_data:
            require_sudo(request)
            verb = "workspace.mfa_required" if workspace.require_mfa else "workspace.mfa_optional"
            record_activity(workspace, request.user, verb, workspace, request)
        form.save()
        messages.success(request, "Workspace settings saved.")
        return redirect("workspace_settings")
    context = {
        "form": form,
        "workspace": workspace,
        "members": workspace.memberships.select_related("user", "client").order_by("role", "user__email"),
        "invitations": workspace.invitations.pending().select_related("client"),
        "invite_form": ColleagueInviteForm(),
    }
    return render(request, "accounts/workspace_settings.html", context)


@login_required
@require_POST
def colleague_invite(request: AuthedRequest) -> HttpResponse:
    membership = _owner_membership(request)
    if limited := invitation_limited(request):
        return limited
    form = ColleagueInviteForm(request.POST)
    if form.is_valid():
        invitation_create(
            workspace=membership.workspace,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
        )
        messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
    else:
        messages.error(request, "Enter a valid email address to invite.")
    return redirect("workspace_settings")


@login_required
@require_POST
def founder_invite(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    if limited := invitation_limited(request):
        return limited
    form = FounderInviteForm(request.POST)
    if form.is_valid():
        invitation_create(
            workspace=client.workspace,
            email=form.cleaned_data["email"],
            role=Role.FOUNDER,
            client=client,
            invited_by=request.user,
        )
        messages.success(request, f"Invitation sent to {form.cleaned_data['email']}. They will see {client.name} only.")
    else:
        messages.error(request, "Enter a valid email address to invite.")
    return redirect(reverse("client_detail", args=[client.code]) + "#people")


def _invitation_for_staff(request: AuthedRequest, invitation_code: UUID) -> Invitation:
    staff_workspaces = Membership.objects.filter(user=request.user).staff().values("workspace_id")
    return get_object_or_404(Invitation.objects.filter(workspace__in=staff_workspaces), code=invitation_code)


@login_required
@require_POST
def invitation_withdraw(request: AuthedRequest, invitation_code: UUID) -> HttpResponse:
    invitation = _invitation_for_staff(request, invitation_code)
    invitation_revoke(invitation)
    record_activity(invitation.workspace, request.user, "invitation.withdrawn", invitation_label(invitation), request)
    messages.success(request, f"Invitation for {invitation.email} withdrawn.")
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("workspace_settings")


@login_required
@require_POST
def member_remove(request: AuthedRequest, membership_code: UUID) -> HttpResponse:
    owner = _owner_membership(request)
    member = get_object_or_404(Membership.objects.filter(workspace=owner.workspace), code=membership_code)
    if member.role == Role.OWNER and owner.workspace.memberships.filter(role=Role.OWNER).count() == 1:
        messages.error(request, "A workspace needs at least one owner.")
    else:
        member.delete()
        record_activity(owner.workspace, request.user, "member.removed", f"{member.get_role_display()}", request)
        messages.success(request, f"{member.user.email} no longer has access to {owner.workspace.name}.")
    return redirect("workspace_settings")


def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_for_token(token)
    except InvitationError as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=404)
    if not request.user.is_authenticated:
        # Following the emailed link proves the address: sign-up with it needs no second email.
        get_adapter(request).stash_verified_email(request, invitation.email)
        return render(request, "accounts/invitation_accept.html", {"invitation": invitation, "token": token})
    email_matches = request.user.email.lower() == invitation.email
    if request.method == "POST" and email_matches:
        try:
            membership = invitation_accept(invitation=invitation, user=request.user)
        except InvitationError as exc:
            return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=409)
        request.session[SESSION_KEY] = str(membership.workspace.code)
        messages.success(request, f"Welcome to {membership.workspace.name}.")
        return redirect("home")
    context = {"invitation": invitation, "token": token, "email_matches": email_matches}
    return render(request, "accounts/invitation_accept.html", context)


ACTIVITY_PAGE_SIZE = 50


@login_required
def activity_log(request: AuthedRequest) -> HttpResponse:
    """Who did what in the workspace: the owner's page, filterable by kind of event and by person."""
    membership = _owner_membership(request)
    workspace = membership.workspace
    verb, actor = request.GET.get("verb", ""), request.GET.get("actor", "")
    groups = sorted({v.split(".")[0] for v in VERBS})
    verb = verb if verb in VERBS or verb in groups else ""
    people = list(
        workspace.activities.exclude(actor_email="")
        .order_by("actor_email")
        .values_list("actor_email", flat=True)
        .distinct()
    )
    actor = actor if actor in people else ""
    page = Paginator(activities_for(workspace, verb=verb, actor=actor), ACTIVITY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for activity in page.object_list:
        activity.label = VERBS.get(activity.verb, activity.verb)
    query = urlencode({k: v for k, v in (("verb", verb), ("actor", actor)) if v})
    context = {
        "workspace": workspace,
        "page": page,
        "verbs": VERBS,
        "verb": verb,
        "actor": actor,
        "people": people,
        "query": query,
    }
    return render(request, "accounts/activity.html", context)
