"""The repository upload form: what is checked before a scan is queued (size and format); the rest is the
worker's to judge, on the bytes themselves."""

from __future__ import annotations

from typing import Any

from django import forms

from audits.secrets.archive import sniff
from audits.secrets.scans import LIMITS

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
