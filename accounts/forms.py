"""Forms for workspaces, members and invitations."""

from __future__ import annotations

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
