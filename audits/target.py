"""What one audit looks at: a domain's apex, its canonical host, its hosts, routes and mail setup."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from audits.assistant import AssistantSpec, assistant_domain
from audits.inbound.addresses import address_text, dmarc_address_for
from audits.inbound.dkim_keys import sent_dkim_keys
from audits.models import AssistantProbe
from launchready.models import Domain, Route

# Hosts whose failure stops the launch (besides the canonical host): people sign in and call the API there.
CRITICAL_LABELS = {"app", "api", "login", "auth", "dashboard"}
CRITICAL_ROUTE_KINDS = {Route.Kind.LOGIN, Route.Kind.DASHBOARD, Route.Kind.API_HEALTH}
# The app's own pages besides the homepage: their scripts, caching and mixed content are checked too.
PAGE_KINDS = {Route.Kind.LOGIN, Route.Kind.DASHBOARD, Route.Kind.CHECKOUT}
# Routes that must answer themselves: whoever calls them (a payment provider, a sign-in provider) does not
# follow redirects.
CALLBACK_KINDS = {Route.Kind.WEBHOOK, Route.Kind.AUTH_CALLBACK}
USUAL_LABELS = ["app", "api", "admin", "portal", "dashboard"]


@dataclass(frozen=True)
class RouteSpec:
    url: str
    kind: str = Route.Kind.OTHER
    expected_statuses: tuple[int, ...] = (200,)
    keyword: str = ""


@dataclass
class AuditTarget:
    apex: str
    canonical: str = "www"  # "www" or "apex"
    labels: list[str] = field(default_factory=list)  # sub-domain labels in use: app, api …
    routes: list[RouteSpec] = field(default_factory=list)
    mail_providers: list[str] = field(default_factory=list)
    dkim_selectors: list[str] = field(default_factory=list)
    sent_dkim_keys: list[str] = field(default_factory=list)  # the `_domainkey` names real sends were signed with
    probe_usual_labels: bool = False  # the shell audit looks for app., api. … that exist
    canonical_known: bool = True  # False: take the canonical host from where the apex settles
    assistant: AssistantSpec | None = None  # the client's AI assistant, probed with this domain's audit
    asset_hosts: list[str] = field(default_factory=list)  # CDN hosts the client serves its scripts from
    dmarc_rua: str = ""  # the product's rua= mailbox for the client, named in the DMARC record a finding proposes

    @property
    def canonical_name(self) -> str:
        return f"www.{self.apex}" if self.canonical == "www" else self.apex

    @property
    def other_name(self) -> str:
        return self.apex if self.canonical == "www" else f"www.{self.apex}"

    def host(self, label: str) -> str:
        return f"{label}.{self.apex}" if label else self.apex

    @property
    def hosts(self) -> list[str]:
        """Every host name to look at: apex, www and the configured labels."""
        names = [self.apex, f"www.{self.apex}"] + [self.host(label) for label in self.labels]
        return list(dict.fromkeys(names))

    @property
    def homepage(self) -> str:
        return f"https://{self.canonical_name}/"

    @classmethod
    def from_domain(cls, domain: Domain) -> AuditTarget:
        routes = [
            RouteSpec(route.url, route.kind, tuple(route.expected_statuses or [200]), route.keyword)
            for route in domain.routes.all()
        ]
        return cls(
            apex=domain.name,
            canonical=domain.canonical_host,
            labels=list(domain.hosts),
            routes=routes,
            mail_providers=list(domain.mail_providers),
            dkim_selectors=list(domain.dkim_selectors),
            sent_dkim_keys=sent_dkim_keys(domain.client_id, domain.name),
            assistant=_assistant_for(domain),
            asset_hosts=list(domain.asset_hosts),
            dmarc_rua=_rua_for(domain),
        )


def _rua_for(domain: Domain) -> str:
    """mailto: the client's DMARC report address on this installation's receiver; "" when it takes no mail."""
    config = settings.LAUNCHREADY_MAIL_RECEIVER
    if not config.enabled:
        return ""
    return f"mailto:{address_text(dmarc_address_for(domain.client), config.domain)}"


def _assistant_for(domain: Domain) -> AssistantSpec | None:
    """The client's assistant, when it is configured and this is the domain that carries its findings."""
    probe = AssistantProbe.objects.filter(client_id=domain.client_id, enabled=True).first()
    if probe is None or assistant_domain(probe, list(domain.client.domains.all())) != domain:
        return None
    return AssistantSpec.from_probe(probe)
