"""The audit forms: the AI-assistant probe (the endpoint, the request template, where the answer is, secret
headers) and the repository upload (size and format checked before a scan is queued; the rest is the
worker's to judge, on the bytes themselves)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import timezone

from audits.assistant import ANSWER_PATH, FORBIDDEN_HEADERS, AssistantConfigError, check_template
from audits.models import AssistantProbe, new_canary
from audits.secrets.archive import sniff
from audits.secrets.lifecycle import LIMITS
from launchready.domains import DomainError, normalise_hostname

CANARY = re.compile(r"^LR-CANARY-[0-9A-F]{12}$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
MAX_HEADERS = 8


def parse_headers(text: str) -> dict[str, str]:
    """`Name: value` lines into a dict; raises ValidationError naming the line that is wrong."""
    headers: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not HEADER_NAME.match(name) or not value:
            raise forms.ValidationError(f"Line {n}: write each header as Name: value.")
        if name.lower() in FORBIDDEN_HEADERS:
            raise forms.ValidationError(f"Line {n}: {name} is set by the probe itself.")
        if any(c in value for c in "\r\n\x00"):
            raise forms.ValidationError(f"Line {n}: the value has characters a header cannot carry.")
        headers[name] = value
    if len(headers) > MAX_HEADERS:
        raise forms.ValidationError(f"At most {MAX_HEADERS} headers.")
    return headers


class AssistantProbeForm(forms.ModelForm[AssistantProbe]):
    url = forms.URLField(
        label="Chat endpoint", max_length=500, assume_scheme="https", help_text="The address the chat widget posts to."
    )
    canary = forms.CharField(required=False, widget=forms.HiddenInput())
    headers_text = forms.CharField(
        label="Headers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text="One per line, e.g. Authorization: Bearer … Stored encrypted; never shown again. "
        "Leave empty to keep the headers already saved.",
    )
    clear_headers = forms.BooleanField(required=False, label="Remove the saved headers")

    class Meta:
        model = AssistantProbe
        fields = ["url", "method", "body_format", "request_template", "answer_path", "enabled", "canary"]
        labels = {"answer_path": "Where the answer is", "enabled": "Probe it with every audit"}
        help_texts = {
            "request_template": "The request body, with {{message}} where the visitor's message goes.",
            "answer_path": "A dotted path in the JSON response (reply, data.answer, choices.0.message.content); "
            "empty: the whole body.",
        }
        widgets = {
            "request_template": forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        }

    def clean_canary(self) -> str:
        """The canary shown beside the form is the one saved with it: the consultant may paste it first."""
        if self.instance.pk:
            return self.instance.canary
        canary: str = self.cleaned_data.get("canary", "")
        if not CANARY.match(canary):
            return new_canary()
        return canary

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        if not url.startswith(("https://", "http://")):
            raise forms.ValidationError("Enter the http(s):// address of the chat endpoint.")
        try:
            normalise_hostname(url)
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def clean_answer_path(self) -> str:
        path: str = self.cleaned_data.get("answer_path", "").strip()
        if path and not ANSWER_PATH.match(path):
            raise forms.ValidationError("Use names and numbers separated by dots, e.g. choices.0.message.content.")
        return path

    def clean_headers_text(self) -> dict[str, str]:
        return parse_headers(self.cleaned_data.get("headers_text", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        template, body_format = cleaned.get("request_template", ""), cleaned.get("body_format", "")
        if template and body_format:
            try:
                check_template(template, body_format)
            except AssistantConfigError as exc:
                self.add_error("request_template", str(exc))
        if cleaned.get("method") == AssistantProbe.Method.GET and body_format == AssistantProbe.BodyFormat.JSON:
            self.add_error("body_format", "A GET request carries the message in form fields (the query string).")
        return cleaned

    def save(self, commit: bool = True) -> AssistantProbe:
        probe = super().save(commit=False)
        headers = self.cleaned_data.get("headers_text") or {}
        if headers:
            probe.headers = headers
        elif self.cleaned_data.get("clear_headers"):
            probe.headers = {}
        probe.updated = timezone.now()
        if commit:
            probe.save()
        return probe


KIND_LABELS = {"zip": "zip", "tar.gz": "tar.gz", "tar": "tar", "bundle": "git bundle"}


class RepoUploadForm(forms.Form):
    archive = forms.FileField(
        label="Repository",
        help_text=(
            f"A zip or tar.gz of the project folder (include .git to scan the history), or a git bundle "
            f"(git bundle create repo.bundle --all). Up to {LIMITS.upload_bytes // 2**20} MB. The file is deleted "
            "as soon as the scan ends."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,.tar.gz,.tgz,.tar,.bundle"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = ""

    def clean_archive(self) -> Any:
        upload = self.cleaned_data["archive"]
        if upload.size > LIMITS.upload_bytes:
            raise forms.ValidationError(
                f"The file is {upload.size / 2**20:.0f} MB; the limit is {LIMITS.upload_bytes // 2**20} MB. "
                "Leave out node_modules and build folders, or upload a git bundle."
            )
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        upload.seek(0)
        kind = sniff(upload.read(512))
        upload.seek(0)
        if kind is None:
            raise forms.ValidationError("This is not a zip, tar.gz or git bundle.")
        self.kind = kind
        return upload


class KeyRotationForm(forms.Form):
    """'I rotated this key': an optional short note (the key's finding is named by its id)."""

    note = forms.CharField(
        max_length=500,
        required=False,
        strip=True,
        error_messages={"max_length": "The note is too long: 500 characters at most."},
    )
