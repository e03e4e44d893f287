"""What a journey's evidence may show: never a secret. Each secret's value (and the forms it takes on the
wire: percent-encoded in a form or a URL, escaped in JSON) becomes its name; sensitive headers, cookie values
and fields named like passwords or tokens are masked; the log scrubber's patterns catch the rest."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from launchready.logs import SENSITIVE_NAME, scrub_text
from monitoring.journey_steps import json_string_part

MASK = "•••"
MIN_SECRET = 3  # shorter values are not searched for in text (they would mask half the page); masked by name
SENSITIVE_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}


def is_sensitive_name(name: str) -> bool:
    return bool(SENSITIVE_NAME.search(name))


class Redactor:
    def __init__(self, secrets: Mapping[str, str] | None = None) -> None:
        self._forms: dict[str, str] = {}
        for name, value in (secrets or {}).items():
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        """Never show this value again, wherever it turns up."""
        if len(value) < MIN_SECRET:
            return
        label = f"[secret {name}]"
        for form in (value, quote_plus(value), quote(value, safe=""), json_string_part(value)):
            self._forms.setdefault(form, label)
        self._forms.setdefault(base64.b64encode(value.encode()).decode(), label)

    def text(self, text: str) -> str:
        for form in sorted(self._forms, key=len, reverse=True):
            if form in text:
                text = text.replace(form, self._forms[form])
        return scrub_text(text)

    def header(self, name: str, value: str) -> str:
        lower = name.lower()
        if lower == "set-cookie":
            return self.set_cookie(value)
        if lower in SENSITIVE_HEADERS or is_sensitive_name(lower):
            scheme = value.split(" ", 1)[0] if " " in value.strip() and lower.endswith("authorization") else ""
            return f"{scheme} {MASK}".strip()
        return self.text(value)

    def set_cookie(self, value: str) -> str:
        """A Set-Cookie line with its value masked and its attributes kept (they are the evidence)."""
        first, sep, rest = value.partition(";")
        name = first.partition("=")[0].strip()
        return self.text(f"{name}={MASK}{sep}{rest}")

    def field(self, name: str, value: str) -> str:
        return MASK if is_sensitive_name(name) else self.text(value)

    def value(self, value: Any, depth: int = 0) -> Any:
        """Every string inside a value of any shape, redacted."""
        if depth > 8:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v, depth + 1) for v in value]
        return value
