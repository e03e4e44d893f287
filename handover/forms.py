"""Forms of the handover: the access inventory founders fill in, the checklist tick and the publish note."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from django import forms

from audits.findings import ITEM_LABELS
from handover.credentials import states_a_password, where_statements_removed
from handover.models import AccessEntry
from launchready.logs import scrub_text

SECRET_WORDS = re.compile(r"\b(pass(word|wd|phrase)?|pwd|pin|2fa|otp|recovery code|api key|secret)\b\s*[:=]", re.I)
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
TOKEN = re.compile(r"[A-Za-z0-9_\-+/=.]{20,}")
SECRET_ERROR = (  # a message, not a password  # nosec B105
    "This looks like a password or key. Write down where the login lives (for example “1Password, Ops vault”), "
    "never the secret itself."
)
PASSWORD_ERROR = (  # a message, not a password  # nosec B105
    "This looks like a password. Write where the login lives (for example “1Password, Ops vault”), "
    "never the password itself."
)


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def secret_refusal(value: str) -> str:
    """Why this text may not be kept (a password stated, a key or token pasted in); "" when it may."""
    if not value:
        return ""
    if states_a_password(value):
        return PASSWORD_ERROR
    return SECRET_ERROR if looks_like_secret(value) else ""


def looks_like_secret(value: str) -> bool:
    """Keys and tokens, and passwords after a name for one, where a person's name or a vault's name belongs."""
    value = where_statements_removed(value)  # "password: in 1Password" says where it is
    if not value:
        return False
    if scrub_text(value) != value or SECRET_WORDS.search(value) or PRIVATE_KEY.search(value):
        return True
    for token in TOKEN.findall(value):
        mixed = sum(bool(re.search(p, token)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]")) >= 2
        if mixed and re.search(r"[0-9]", token) and _entropy(token) > 3.5 and "://" not in value:
            return True
    return False


EXAMPLES = {
    "registrar": "Namecheap, GoDaddy, Cloudflare Registrar",
    "dns": "Cloudflare, Route 53, the registrar",
    "cloudflare": "Cloudflare",
    "hosting": "Vercel, Render, Fly.io",
    "email": "Google Workspace, Postmark",
    "monitoring": "Launch Ready, Better Stack",
    "error_tracking": "Sentry, Bugsnag",
}
PLACEHOLDERS = {"owner": "e.g. Amelia Hart (CEO)", "login_location": "e.g. 1Password › Ops vault"}


class AccessInventoryForm(forms.Form):
    """One row per service: the provider, who holds the login and where it lives."""

    COLUMNS = (
        ("provider", "Service", 80),
        ("owner", "Who holds the login", 120),
        ("login_location", "Where the login lives", 200),
    )

    def __init__(self, *args: Any, entries: dict[str, AccessEntry], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[tuple[str, str, list[str]]] = []
        for kind, label in AccessEntry.Kind.choices:
            entry = entries.get(kind)
            names = []
            for column, column_label, max_length in self.COLUMNS:
                name = f"{kind}-{column}"
                self.fields[name] = forms.CharField(
                    label=column_label,
                    max_length=max_length,
                    required=False,
                    initial=getattr(entry, column) if entry else "",
                    widget=forms.TextInput(
                        attrs={"placeholder": PLACEHOLDERS.get(column, f"e.g. {EXAMPLES.get(kind, '')}")}
                    ),
                )
                names.append(name)
            self.rows.append((kind, str(label), names))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, value in list(cleaned.items()):
            value = " ".join(str(value).split())
            cleaned[name] = value
            if refusal := secret_refusal(value):
                self.add_error(name, refusal)
                data = self.data.copy()  # type: ignore[attr-defined]
                data[name] = ""  # never echo a secret back into the page
                self.data = data
        return cleaned

    def bound_rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(label, [self[n] for n in names]) for _, label, names in self.rows]

    def values(self, kind: str) -> dict[str, str]:
        return {column: self.cleaned_data.get(f"{kind}-{column}", "") for column, _, _ in self.COLUMNS}


class ChecklistTickForm(forms.Form):
    item = forms.ChoiceField(choices=[(i.value, label) for i, label in ITEM_LABELS.items()])
    done = forms.BooleanField(required=False)
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class PublishForm(forms.Form):
    note = forms.CharField(
        label="What changed in this version",
        required=False,
        max_length=300,
        help_text="Shown to the founder beside the version, e.g. “After the DMARC fix”.",
    )
    # The warnings the consultant confirmed, as publish_warnings named them: new ones ask again.
    confirm = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
