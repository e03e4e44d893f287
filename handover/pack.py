"""The handover pack as plain data: built from the client's records, its latest audit and its monitors,
so that publishing can keep exactly what the founder was shown."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.selectors import workspace_owner
from audits import selectors as audits
from audits.findings import Item, Severity
from audits.selectors import RecordedFinding, RiskList
from handover.checklist import sprint_checklist
from handover.models import AccessEntry
from handover.rollback import deploy_plan
from launchready.domains import display_name
from launchready.formatting import (
    Observed,
    date_range,
    latency,
    local_date,
    percent,
    plural,
    uptime_span,
    uptime_text,
)
from launchready.models import Client, Domain, Route
from monitoring import selectors as monitoring

WINDOW_DAYS = 30
WINDOW = timedelta(days=WINDOW_DAYS)
WHOLE_WINDOW = f"last {WINDOW_DAYS} days"
NO_DATA = "no data yet"

HOST_PURPOSE = {
    Route.Kind.HOMEPAGE: "the public website",
    Route.Kind.LOGIN: "sign-in",
    Route.Kind.DASHBOARD: "the customer dashboard",
    Route.Kind.API_HEALTH: "the API",
    Route.Kind.CHECKOUT: "payments",
    Route.Kind.WEBHOOK: "webhooks from other services",
    Route.Kind.AUTH_CALLBACK: "sign-in callbacks",
}
LABEL_PURPOSE = {
    "www": "the website (www)",
    "app": "the web app",
    "api": "the API behind the app",
    "admin": "the admin area",
    "dashboard": "the customer dashboard",
    "portal": "the customer portal",
    "auth": "sign-in",
    "login": "sign-in",
    "status": "the status page",
    "docs": "documentation",
    "blog": "the blog",
    "mail": "email",
}
CNAME_TARGETS = {
    "vercel": "Vercel",
    "netlify": "Netlify",
    "onrender.com": "Render",
    "fly.dev": "Fly.io",
    "herokudns": "Heroku",
    "railway": "Railway",
    "cloudfront": "Amazon CloudFront",
    "github.io": "GitHub Pages",
    "pages.dev": "Cloudflare Pages",
    "azurewebsites": "Azure",
    "firebaseapp": "Firebase",
    "web.app": "Firebase",
}
STATUS_PAGES = {
    Domain.HostingProvider.VERCEL: "https://www.vercel-status.com",
    Domain.HostingProvider.NETLIFY: "https://www.netlifystatus.com",
    Domain.HostingProvider.RENDER: "https://status.render.com",
    Domain.HostingProvider.FLY: "https://status.flyio.net",
    Domain.HostingProvider.HEROKU: "https://status.heroku.com",
    Domain.HostingProvider.RAILWAY: "https://status.railway.com",
    Domain.HostingProvider.CLOUDFLARE_PAGES: "https://www.cloudflarestatus.com",
}


# --- DNS ------------------------------------------------------------------------------------------


def record_purpose(record: dict[str, Any], apex: str) -> str:
    """What a DNS record is for, in a founder's words."""
    name, kind, value = record["name"].rstrip("."), record["type"], str(record["value"])
    lower = value.lower()
    label = name[: -len(apex) - 1] if name.endswith("." + apex) else ""
    if kind == "NS":
        return "Name server: the company that answers DNS questions for this domain."
    if kind == "MX":
        provider = (
            "Google Workspace" if "google" in lower else "Microsoft 365" if "outlook" in lower else "your mail provider"
        )
        return f"Delivers email sent to @{display_name(apex)} to {provider}."
    if kind == "CAA":
        return "Says which certificate authorities may issue certificates for this name."
    if kind == "TXT":
        if lower.strip('"').startswith("v=spf1"):
            return "SPF: the services allowed to send email as this domain."
        if lower.strip('"').startswith("v=dmarc1"):
            return "DMARC: what mailboxes do with mail that fails the checks, and where reports go."
        if "._domainkey." in f".{name.lower()}" or lower.strip('"').startswith("v=dkim1"):
            return "DKIM: the public key mailboxes check this domain's email signatures with."
        if "verification" in lower or lower.strip('"').startswith(("ms=", "apple-domain", "facebook-domain")):
            return "Proves to a service that you own the domain. Keep it."
        return "Text record, usually a service's ownership check."
    if kind == "CNAME":
        for needle, provider in CNAME_TARGETS.items():
            if needle in lower:
                return f"Hands {display_name(name)} to {provider}."
        return f"Alias: {display_name(name)} is served wherever {value.rstrip('.')} points."
    where = LABEL_PURPOSE.get(label.split(".")[0], "this host") if label else "the bare domain"
    if kind in ("A", "AAAA"):
        return f"Points {where} to the server at this address."
    return f"{kind} record."


def ttl_note(ttl: int) -> str:
    if ttl <= 300:
        return "Short: changes spread within 5 min."
    if ttl <= 3600:
        return f"Normal: changes spread within {max(1, ttl // 60)} min."
    return f"Long ({ttl / 3600:.0f} h): lower to 300 a day before a change."


TYPE_ORDER = ["NS", "A", "AAAA", "CNAME", "MX", "TXT", "CAA"]


def relative_name(name: str, apex: str) -> str:
    """A record's name as DNS dashboards show it: @ for the domain itself, else the part before it."""
    name = name.rstrip(".").lower()
    if name == apex:
        return "@"
    return display_name(name[: -len(apex) - 1]) if name.endswith("." + apex) else display_name(name)


def _record_order(record: dict[str, Any], apex: str) -> tuple[int, str, int, str]:
    name = relative_name(record["name"], apex)
    group = 0 if name == "@" else 1 if name == "www" else 3 if name.startswith("_") else 2
    kind = TYPE_ORDER.index(record["type"]) if record["type"] in TYPE_ORDER else len(TYPE_ORDER)
    return group, name, kind, str(record["value"])


def _dns_section(domain: Domain, run: Any) -> dict[str, Any]:
    apex = domain.name.rstrip(".").lower()
    records = sorted(run.inventory if run else [], key=lambda r: _record_order(r, apex))
    return {
        "domain": domain.display_name,
        "checked": local_date(run.finished_at) if run else "",
        "records": [
            {
                "name": relative_name(r["name"], apex),
                "type": r["type"],
                "value": str(r["value"]),
                "ttl": r["ttl"],
                "ttl_note": ttl_note(int(r["ttl"])),
                "purpose": record_purpose(r, domain.name),
            }
            for r in records
        ],
    }


# --- Email authentication --------------------------------------------------------------------------


def _email_section(domain: Domain, run: Any, open_here: list[RecordedFinding]) -> list[dict[str, Any]]:
    """`open_here`: the open findings of this domain's audit."""
    inventory = run.inventory if run else []
    apex = domain.name.rstrip(".")
    problems = defaultdict(list)
    for f in open_here:
        if f.check_id.startswith("email.") and f.severity != Severity.INFO:
            problems[f.check_id.split(".")[1]].append(f.title)

    def txt(name: str, prefix: str) -> str:
        for r in inventory:
            value = str(r["value"]).strip('"')
            if r["type"] == "TXT" and r["name"].rstrip(".") == name and value.lower().startswith(prefix):
                return value
        return ""

    checked = local_date(run.finished_at) if run else ""
    rows = []
    for mechanism, key, record_name, record in (
        ("SPF", "spf", apex, txt(apex, "v=spf1")),
        ("DMARC", "dmarc", f"_dmarc.{apex}", txt(f"_dmarc.{apex}", "v=dmarc1")),
    ):
        rows.append(_email_row(domain, mechanism, record_name, record, problems[key], checked))
    selectors = ", ".join(domain.dkim_selectors) or "the common providers' selectors"
    dkim_ok = run is not None and not problems["dkim"]
    rows.append(
        {
            "domain": domain.display_name,
            "mechanism": "DKIM",
            "name": f"<selector>._domainkey.{display_name(apex)}",
            "record": f"Signing keys checked for {selectors}.",
            "live": dkim_ok,
            "status": f"Confirmed live on {checked}" if dkim_ok else ("; ".join(problems["dkim"]) or "Not checked yet"),
        }
    )
    return rows


def _email_row(
    domain: Domain, mechanism: str, name: str, record: str, problems: list[str], checked: str
) -> dict[str, Any]:
    live = bool(record) and not problems and bool(checked)
    if live:
        status = f"Confirmed live on {checked}"
    elif problems:
        status = "; ".join(problems)
    else:
        status = "Not found in the last audit" if checked else "Not checked yet"
    return {
        "domain": domain.display_name,
        "mechanism": mechanism,
        "name": display_name(name),
        "record": record,
        "live": live,
        "status": status,
    }


def real_send_summary(client: Client) -> dict[str, Any]:
    """What the latest real send showed: "Tested with a real send on <date>: <result>", and what it found."""
    send = audits.latest_real_send(client.id)
    if send is None:
        return {
            "tested": False,
            "passed": None,
            "text": "Not tested with a real send yet: the records above say how mail should be authenticated, "
            "not that the app's emails pass.",
            "findings": [],
        }
    if send.passed:
        result = f"passed DMARC for {send.domain}" if send.domain else "passed"
    else:
        result = f"failed: {send.problem or 'see the real-send page'}"
    return {
        "tested": True,
        "passed": send.passed,
        "text": f"Tested with a real send on {local_date(send.received_at)}: {result}.",
        "findings": [{"title": f.title, "severity": f.severity} for f in send.findings],
    }


def senders_section(client: Client) -> dict[str, Any] | None:
    """Who sent as the client in the last 30 days of DMARC reports; None when no report has come."""
    shown = audits.senders_for(client)
    if not shown.has_data:
        return None
    return {
        "messages": shown.messages,
        "source_count": shown.source_count,
        "reports": shown.reports,
        "reporters": shown.reporters,
        "dmarc_rate": shown.dmarc_rate,
        "days": date_range(shown.first_day, shown.last_day) if shown.first_day and shown.last_day else "",
        "sources": [
            {
                "name": s.name,
                "ip": s.source_ip,
                "messages": s.messages,
                "spf_rate": s.spf_rate,
                "dkim_rate": s.dkim_rate,
                "dmarc_rate": s.dmarc_rate,
                "failing": s.failing,
                "advice": s.advice if s.failing else "",
            }
            for s in shown.sources[:15]
        ],
        "more": shown.source_count - min(len(shown.sources), 15),
        "policy_advice": shown.policy_advice,
    }


# --- Monitoring ------------------------------------------------------------------------------------


def open_risk_count(risks: RiskList) -> int:
    """Open risks as founders count them: every open finding but the informational ones."""
    return sum(1 for f in risks.all_open if f.severity != Severity.INFO)


def uptime_label(observed: Observed) -> str:
    """The words under the uptime figure: 'uptime over 5 minutes', 'uptime, last 30 days'."""
    if observed.uptime is None:
        return "uptime: no monitoring data yet"
    return f"uptime, {WHOLE_WINDOW}" if observed.whole_window else f"uptime {uptime_span(observed, WHOLE_WINDOW)}"


@dataclass
class Uptime:
    routes: list[dict[str, Any]]
    observed: Observed
    p95: float | None

    @property
    def uptime(self) -> float | None:
        return self.observed.uptime

    @property
    def probes(self) -> int:
        return self.observed.probes

    @property
    def figure(self) -> str:
        return percent(self.observed.uptime)

    @property
    def label(self) -> str:
        return uptime_label(self.observed)

    @property
    def text(self) -> str:
        return uptime_text(self.observed, WHOLE_WINDOW)

    @property
    def p95_text(self) -> str:
        return latency(self.p95, none=NO_DATA)


def uptime_30d(client: Client, now: datetime | None = None) -> Uptime:
    """Uptime and p95 over the last 30 days, or over the part of them the monitors actually watched, per route
    and overall, from the rollups' merged histograms."""
    now = now or timezone.now()
    monitors = monitoring.monitors([client.id])
    by_monitor = monitoring.windows([m.id for m in monitors], now - WINDOW, now, now)
    windows = [(m, by_monitor[m.id]) for m in monitors]
    routes = []
    for m, w in windows:
        seen = monitoring.observed([(w.probes, w.failures, m.interval)], WINDOW)
        routes.append(
            {
                "url": m.route.display_url,
                "kind": m.route.get_kind_display(),
                "interval": m.interval,
                "state": m.state_label,
                "paused": m.paused,
                "uptime": seen.uptime,
                "uptime_text": uptime_text(seen, WHOLE_WINDOW),
                "uptime_figure": percent(seen.uptime),
                "uptime_span": uptime_span(seen, f"in the {WHOLE_WINDOW}"),
                "p95": w.percentile(0.95),
                "p95_text": latency(w.percentile(0.95), none=NO_DATA),
                "budget_ms": m.latency_budget_ms,
            }
        )
    total = monitoring.observed(((w.probes, w.failures, m.interval) for m, w in windows), WINDOW)
    return Uptime(routes, total, monitoring.merged_percentile((w for _, w in windows), 0.95))


# --- The pack --------------------------------------------------------------------------------------


def _watch_list(client: Client, risks: RiskList, up: Uptime, now: datetime) -> list[str]:
    watch: list[str] = []
    certs = [f for f in risks.all_open if f.check_id == "tls.certificate"]
    if certs:
        earliest = min(certs, key=lambda f: str(f.evidence.get("not_after", "")))
        hosts = ", ".join(sorted({display_name(f.subject) for f in certs}))
        watch.append(f"Certificates ({hosts}): {earliest.explanation} Monitoring warns 14 days before any expiry.")
    for route in up.routes:
        if route["p95"] is not None and route["p95"] > route["budget_ms"]:
            watch.append(
                f"{route['url']} answers slowly: p95 {route['p95_text']} against a budget of {route['budget_ms']} ms."
            )
        if route["uptime"] is not None and route["uptime"] < 99.5:
            watch.append(
                f"{route['url']} was up {route['uptime_figure']} {route['uptime_span']}: "
                "find out why before it costs customers."
            )
    recent = monitoring.recent_incident_count(client.id, now - timedelta(days=7))
    if recent:
        watch.append(f"{plural(recent, 'incident')} in the last 7 days: read the timelines under Monitoring.")
    for event in monitoring.recent_watch_events(client.id, now - timedelta(days=14), limit=5):
        watch.append(f"{event.title} (seen {local_date(event.created)}).")
    mediums = [f for f in risks.all_open if f.severity == Severity.MEDIUM]
    if mediums:
        watch.append(f"{plural(len(mediums), 'medium-risk item')} left to fix; the top one: {mediums[0].title}.")
    if any(f.check_id == "email.dmarc.none_with_reports" for f in risks.all_open):
        watch.append("Read the DMARC reports; when only your own services appear, move the policy to p=quarantine.")
    watch.append("Read the weekly status report, and reply to it if anything looks wrong.")
    return watch


def _checked_off(client: Client) -> list[dict[str, str]]:
    """The Launch Ready items the latest sprint settled, and how: the audit, the monitors or the consultant's notes."""
    sprint = client.sprints.order_by("-started_at").first()
    if sprint is None:
        return []
    rows = []
    for item in sprint_checklist(sprint).items:
        if not item.done or item.item == Item.HANDOVER:
            continue
        if item.source == "consultant" and item.tick is not None:
            who = item.tick.ticked_by.name if item.tick.ticked_by and item.tick.ticked_by.name else "Checked by hand"
            how = f"{who}: {item.tick.notes}" if item.tick.notes else f"{who}, {local_date(item.tick.ticked_at)}."
        else:
            how = item.reason
        rows.append({"label": item.label, "how": how})
    return rows


def _access(client: Client) -> list[dict[str, Any]]:
    entries = {e.kind: e for e in AccessEntry.objects.filter(client=client)}
    rows = []
    for kind, label in AccessEntry.Kind.choices:
        entry = entries.get(kind)
        rows.append(
            {
                "kind": kind,
                "label": str(label),
                "provider": entry.provider if entry else "",
                "owner": entry.owner if entry else "",
                "login_location": entry.login_location if entry else "",
                "recorded": bool(entry and (entry.owner or entry.login_location)),
            }
        )
    return rows


def _secrets(domains: list[Domain], access: list[dict[str, Any]], risks: RiskList) -> dict[str, Any]:
    hosting = next((a for a in access if a["kind"] == AccessEntry.Kind.HOSTING), None)
    who = (
        f"{hosting['owner']}, who holds the hosting login ({hosting['login_location'] or 'location not recorded'})"
        if hosting and hosting["owner"]
        else "Whoever holds the hosting login: record who that is in the access inventory."
    )
    places = []
    seen = set()
    for domain in domains:
        how = deploy_plan(domain)["secrets"]
        if how not in seen:
            seen.add(how)
            places.append({"where": domain.get_hosting_provider_display(), "how": how})
    places.append(
        {
            "where": "Other services (payments, email sending, AI APIs)",
            "how": "Each provider's dashboard. To rotate a key: create the new one there, put it in the hosting's "
            "variables, redeploy, check the app works, then delete the old key.",
        }
    )
    findings = [f.title for f in risks.all_open if f.item == Item.SECRETS and f.severity != Severity.INFO]
    return {"places": places, "who": who, "findings": findings}


def _domain_map(
    domains: list[Domain], open_by_domain: dict[int, list[RecordedFinding]], runs: dict[int, Any]
) -> list[dict[str, Any]]:
    result = []
    for domain in domains:
        open_here = open_by_domain.get(domain.id, [])
        issues = sorted({f.title for f in open_here if f.item == Item.REDIRECTS})  # a webhook's redirect too
        kinds: dict[str, list[str]] = defaultdict(list)
        for route in domain.routes.all():
            purpose = HOST_PURPOSE.get(route.kind)  # type: ignore[call-overload]
            if purpose and purpose not in kinds[route.host]:
                kinds[route.host].append(purpose)
        other = domain.name if domain.canonical_host == Domain.CanonicalHost.WWW else f"www.{domain.name}"
        hosts = [{"name": display_name(domain.canonical_name), "purpose": ", ".join(kinds[""]) or "the public website"}]
        for label in domain.hosts:
            purpose = ", ".join(kinds[label]) or LABEL_PURPOSE.get(label, "in use")
            hosts.append({"name": display_name(f"{label}.{domain.name}"), "purpose": purpose})
        result.append(
            {
                "domain": domain.display_name,
                "canonical": display_name(domain.canonical_name),
                "hosts": hosts,
                "redirects": [
                    f"http://{display_name(other)} and https://{display_name(other)} → "
                    f"https://{display_name(domain.canonical_name)} (permanent, 301)",
                    "Every http:// address → the same address on https://",
                ],
                "redirects_checked": local_date(runs[domain.id].finished_at) if domain.id in runs else "",
                "redirect_issues": issues,
                "hosting": domain.get_hosting_provider_display(),
                "mail": domain.mail_provider_labels,
            }
        )
    return result


def _contacts(client: Client) -> dict[str, Any]:
    owner = workspace_owner(workspace_id=client.workspace_id)
    return {
        "client": [
            {"name": c.name, "role": c.role, "email": c.email, "phone": c.phone, "primary": c.is_primary}
            for c in client.contacts.all()
        ],
        "consultancy": client.workspace.name,
        "consultant": {"name": owner.user.name or owner.user.email, "email": owner.user.email} if owner else None,
    }


def incident_checklist(domains: list[Domain], channels: list[str], contacts: dict[str, Any]) -> list[str]:
    status_pages = {str(k): v for k, v in STATUS_PAGES.items()}
    pages = sorted({status_pages[d.hosting_provider] for d in domains if d.hosting_provider in status_pages})
    consultant = contacts["consultant"]
    call = f"{consultant['name']} ({consultant['email']})" if consultant else contacts["consultancy"]
    steps = [
        "Confirm it: open the site in a private window, then on your phone over mobile data (not Wi-Fi).",
        "Open Launch Ready → Monitoring: see which routes are down and the cause shown "
        "(DNS, TLS, timeout, status, keyword).",
        "Check your providers' status pages" + (f": {', '.join(pages)}." if pages else "."),
        "If it started right after a deploy, roll back first and investigate afterwards (see Rollback steps).",
        "If the error is about DNS or a certificate, do not edit DNS records in a hurry: "
        "a wrong change takes hours to undo. Call us.",
        "Tell customers early: a short, honest note (“Sign-in is failing; we are on it; next update in 30 minutes”).",
        f"Call {call} if it is not clear within 15 minutes.",
        "Write down the times: first alert, what you tried, when it recovered. It makes the follow-up quick.",
        "When it is back: check every monitor shows Up and that alerts stopped"
        + (f" ({', '.join(channels)})." if channels else "."),
    ]
    return steps


def verify_monitoring_steps(up: Uptime, channels: list[str]) -> list[str]:
    slowest = max((r["interval"] for r in up.routes), default=60)
    return [
        "Open Launch Ready → Monitoring.",
        f"Within {2 * slowest // 60 or 1} minutes of the change, every route should show Up "
        "with a “last checked” time after it.",
        "Compare the p95 line with the deploy marker: a line that jumps after the marker "
        "means the change made the app slower.",
        "If you added or renamed a page that must work (a new sign-in path, a new API), ask us to add it as a route.",
        (
            f"Alerts go to: {', '.join(channels)}. Ask us to send a test alert after changing who receives them."
            if channels
            else "No alert channel is set up: ask us to add one, or outages will go unnoticed."
        ),
    ]


def jobs_section(client: Client, channels: list[str], now: datetime) -> dict[str, Any]:
    """How to tell the jobs run: the client's heartbeats (never their ping URLs: whoever holds one can report a
    run) and how to read them."""
    beats = monitoring.heartbeats([client.id], now)
    rows = [
        {
            "name": b.name,
            "kind": b.kind_label,
            "schedule": b.schedule_text,
            "state": b.state_label,
            "state_key": b.state,
            # A moment, not "5 minutes ago": the published pack is read long after it was built.
            "last_ping": b.last_ping_moment,
            "run": b.run_text,
        }
        for b in beats
    ]
    if not beats:
        steps = [
            "No background job reports to Launch Ready yet. If the app has any (nightly backups, scheduled emails, "
            "queue workers), ask us for a heartbeat for each: a job that stops is otherwise noticed by a customer "
            "first."
        ]
        return {"heartbeats": [], "steps": steps, "example": ""}
    told = (
        f"Launch Ready tells {', '.join(channels)} once when a job is late, reports a failure or starts and never "
        "finishes, and once more when it runs again."
        if channels
        else "No alert channel is set up, so a job that stops would go unnoticed: ask us to add one."
    )
    steps = [
        "Each job below calls its own ping URL when it finishes well, with /start when it begins (so its run time is "
        "measured) and /fail when it fails. Launch Ready expects each ping on the schedule shown, plus its grace.",
        "To tell the jobs run: open Launch Ready → Monitoring → Heartbeats. Each should show Up, with a last ping "
        "after its latest scheduled time.",
        told,
        "After a deploy, its smoke test waits for each job's first ping and names any that did not come in time.",
        "The ping URLs are on the monitoring page, not in this pack: whoever holds one can report a run. If one has "
        "been shared too widely, ask us for a new one.",
        "For a new job, ask us for a heartbeat and add its ping to the job, as in this crontab line:",
    ]
    return {"heartbeats": rows, "steps": steps, "example": monitoring.ping_example()}


def build_pack(client: Client, now: datetime | None = None) -> dict[str, Any]:
    """The pack as plain, JSON-ready data."""
    now = now or timezone.now()
    domains = list(client.domains.prefetch_related("routes"))
    risks = audits.risk_list(client)
    runs = {run.domain_id: run for run in risks.runs}
    audited = max((r.finished_at for r in risks.runs if r.finished_at), default=None)
    up = uptime_30d(client, now)
    open_findings = risks.all_open
    by_domain = audits.open_by_domain(risks)
    still_open = {(f.check_id, f.subject) for f in open_findings}
    fixed, seen = [], set()
    for f in audits.fixed_findings(client):
        key = (f.check_id, f.subject)
        if key not in seen and key not in still_open:
            seen.add(key)
            fixed.append({"title": f.title, "severity": f.severity, "domain": f.domain})
    access = _access(client)
    channels = monitoring.routed_channel_names(client.id)
    contacts = _contacts(client)
    serious = [f for f in open_findings if f.severity in (Severity.BLOCKER, Severity.HIGH, Severity.MEDIUM)]
    counts = risks.counts
    return {
        "client": client.name,
        "product": client.get_product_kind_display(),
        "consultancy": client.workspace.name,
        "built_at": now.isoformat(),
        "built_on": local_date(now),
        "status": {
            "go": risks.go,
            "verdict": "Not audited yet" if risks.verdict is None else risks.verdict.label,
            "blockers": counts[Severity.BLOCKER.value],
            "open": open_risk_count(risks),
            "low": counts[Severity.LOW.value],
            "audited_on": local_date(audited),
            "uptime": up.uptime,
            "uptime_text": up.text,
            "uptime_figure": up.figure,
            "uptime_label": up.label,
            "p95": up.p95,
            "p95_text": latency(up.p95, none=NO_DATA),
            "window_days": WINDOW_DAYS,
        },
        "fixed": fixed[:40],
        "checked": _checked_off(client),
        "risky": [
            {
                "title": f.title,
                "severity": f.severity,
                "explanation": f.explanation,
                "fix": f.fix,
                "domain": f.source,
                "evidence": f.evidence,
            }
            for f in serious[:25]
        ],
        "watch": _watch_list(client, risks, up, now),
        "domains": _domain_map(domains, by_domain, runs),
        "dns": [_dns_section(d, runs.get(d.id)) for d in domains],
        "email": [row for d in domains for row in _email_section(d, runs.get(d.id), by_domain.get(d.id, []))],
        "real_send": real_send_summary(client),
        "senders": senders_section(client),
        "access": access,
        "secrets": _secrets(domains, access, risks),
        "deploys": [deploy_plan(d) for d in domains],
        "monitoring": {"routes": up.routes, "channels": channels, "steps": verify_monitoring_steps(up, channels)},
        "jobs": jobs_section(client, channels, now),
        "incident": incident_checklist(domains, channels, contacts),
        "contacts": contacts,
    }
