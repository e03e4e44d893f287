"""What a check returns: a finding with its check id, the subject it is about and the evidence seen."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit


class Severity(StrEnum):
    BLOCKER = "blocker"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class LaunchVerdict(StrEnum):
    """What an audit says about the launch. "Could not check" is never a go: no blocker was seen, but
    part of what a launch needs could not be looked at."""

    GO = "go"
    NO_GO = "no_go"
    UNCHECKED = "unchecked"

    @property
    def label(self) -> str:
        return {"go": "Go", "no_go": "No-go", "unchecked": "Could not check"}[self.value]

    @classmethod
    def of(cls, blockers: int, unchecked: bool) -> LaunchVerdict:
        """A blocker anywhere is no-go; otherwise anything that could not be checked keeps it from go."""
        if blockers:
            return cls.NO_GO
        return cls.UNCHECKED if unchecked else cls.GO


class Area(StrEnum):
    DNS = "dns"
    TLS = "tls"
    REDIRECTS = "redirects"
    ROUTES = "routes"
    EDGE = "edge"
    HEADERS = "headers"
    EMAIL = "email"
    ASSISTANT = "assistant"
    SECRETS = "secrets"
    AUDIT = "audit"

    @property
    def label(self) -> str:
        """The area as people write it ("DNS", "HTTP headers"), never the value title-cased ("Dns")."""
        return AREA_LABELS[self]


class Item(StrEnum):
    """The ten Launch Ready items a finding can belong to."""

    DOMAIN_SETUP = "domain_setup"
    EMAIL_AUTH = "email_authentication"
    CLOUDFLARE = "cloudflare"
    SSL = "ssl"
    REDIRECTS = "redirects"
    CACHING = "caching"
    ENV_VARS = "environment_variables"
    SECRETS = "secrets"
    UPTIME = "uptime_monitoring"
    HANDOVER = "handover"


AREA_LABELS = {
    Area.DNS: "DNS",
    Area.TLS: "TLS",
    Area.REDIRECTS: "Redirects",
    Area.ROUTES: "Routes",
    Area.EDGE: "Edge and caching",
    Area.HEADERS: "HTTP headers",
    Area.EMAIL: "Email",
    Area.ASSISTANT: "AI assistant",
    Area.SECRETS: "Secrets",
    Area.AUDIT: "The audit itself",
}

ITEM_LABELS = {
    Item.DOMAIN_SETUP: "Domain setup",
    Item.EMAIL_AUTH: "Email authentication",
    Item.CLOUDFLARE: "Cloudflare configuration",
    Item.SSL: "SSL",
    Item.REDIRECTS: "Redirects and subdomains",
    Item.CACHING: "Caching basics",
    Item.ENV_VARS: "Environment variables",
    Item.SECRETS: "Secrets handling",
    Item.UPTIME: "Uptime monitoring",
    Item.HANDOVER: "Handover",
}


@dataclass
class Finding:
    """One problem (or one fact worth knowing) that a check saw.

    `subject` says what it is about (a host, a route, a selector) so that the same finding on the next
    run is recognised; `params` fill the catalog's title, explanation and fix; `severity` overrides the
    catalog's default where the check knows better (a login route is worse than a blog route). `host` is the
    host it is about and `route_kind` the kind of route (a `Route.Kind`), when there is one: within a
    severity, the risk list puts sign-in, payment and the API first.
    """

    check_id: str
    subject: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    severity: Severity | None = None
    host: str = field(default="", kw_only=True)
    route_kind: str = field(default="", kw_only=True)


def host_of(url: str) -> str:
    """The host a URL is on, as a finding names it ("" when there is none to read)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # a malformed address from a hostile page is no host
        return ""
