"""Forms for workspaces, members and invitations."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Role, Workspace


class WorkspaceForm(forms.ModelForm[Workspace]):
    class Meta:
        model = Workspace
        fields = ["name"]
        labels = {"name": "Name of your consultancy"}


class WorkspaceSettingsForm(forms.ModelForm[Workspace]):
    class Meta:
        model = Workspace
        fields = ["name", "require_mfa"]
        labels = {"require_mfa": "Require two-factor authentication for every member"}


class ColleagueInviteForm(forms.Form):
    email = forms.EmailField(label="Colleague's email")
    role = forms.ChoiceField(
        choices=[
            (Role.CONSULTANT.value, "Consultant: works on every client"),
            (Role.OWNER.value, "Owner: also manages members"),
        ],
        initial=Role.CONSULTANT,
    )


class FounderInviteForm(forms.Form):
    email = forms.EmailField(label="Founder's email", help_text="They will see this client only.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The client page also holds the contact form, whose email field would take the same id.
        kwargs.setdefault("auto_id", "id_invite_%s")
        super().__init__(*args, **kwargs)
