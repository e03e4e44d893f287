"""Keys in public bundles and source maps, on the sandbox: found, classified, redacted, with rotation steps."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from audits.catalog import render, severity_of
from audits.checks.secrets import check_bundles, inline_map, map_sources, script_urls, source_map_ref
from audits.findings import Finding, Severity
from audits.secrets.detector import Kind, scan_text
from audits.target import AuditTarget
from launchready.net import FetchResult, Hop, Net
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import (
    FAKE_AWS_KEY_ID,
    FAKE_FIREBASE_KEY,
    FAKE_GOOGLE_KEY,
    FAKE_STRIPE_SECRET,
    HEALTHY,
)
from tests.audits.conftest import target_for


def bundles(sandbox: Sandbox, apex: str) -> list[Finding]:
    async def run() -> list[Finding]:
        async with Net(sandbox.net_config(), deadline=30) as net:
            return await check_bundles(target_for(apex), net)

    return asyncio.run(run())


def test_a_secret_key_in_a_bundle_is_a_blocker_shown_redacted(world_sandbox: Sandbox) -> None:
    (finding,) = bundles(world_sandbox, "bundle-key.test")
    assert finding.check_id == "secrets.bundle.key"
    assert severity_of(finding) == Severity.BLOCKER
    text = render(finding)
    assert text["title"] == "A Stripe secret key is public in https://www.bundle-key.test/static/app.3f9a1c.js"
    assert "Developers → API keys" in text["fix"]
    shown = json.dumps(finding.evidence) + json.dumps(text) + finding.subject
    assert FAKE_STRIPE_SECRET not in shown and FAKE_STRIPE_SECRET[:12] not in shown
    assert finding.evidence["key"].startswith("sk_live_••••")


def test_a_key_in_a_source_map_names_the_map(world_sandbox: Sandbox) -> None:
    (finding,) = bundles(world_sandbox, "map-key.test")
    assert finding.check_id == "secrets.source_map.key"
    assert finding.evidence["file"].endswith("/static/app.3f9a1c.js.map")
    assert finding.evidence["provider"] == "AWS access key"
    assert FAKE_AWS_KEY_ID not in json.dumps(finding.evidence)
    assert "build.sourcemap: false" in render(finding)["fix"]


def test_a_publishable_key_alone_is_only_info(world_sandbox: Sandbox) -> None:
    (finding,) = bundles(world_sandbox, "publishable-key.test")
    assert finding.check_id == "secrets.bundle.publishable"
    assert severity_of(finding) == Severity.INFO
    assert render(finding)["title"].startswith("A publishable Stripe key (pk_live_) is in")


def test_a_google_key_in_a_page_is_one_to_restrict(world_sandbox: Sandbox) -> None:
    (finding,) = bundles(world_sandbox, "google-key.test")
    assert finding.check_id == "secrets.bundle.google_key" and severity_of(finding) == Severity.MEDIUM
    text = render(finding)
    url = "https://www.google-key.test/static/app.3f9a1c.js"
    assert text["title"] == f"A Google API key is public in {url}: restrict it"
    assert "Application restrictions" in text["fix"] and "API restrictions" in text["fix"]
    assert FAKE_GOOGLE_KEY not in json.dumps(finding.evidence) + json.dumps(text) + finding.subject


def test_a_firebase_web_config_key_is_one_to_restrict_at_low(world_sandbox: Sandbox) -> None:
    (finding,) = bundles(world_sandbox, "firebase-key.test")
    assert finding.check_id == "secrets.bundle.firebase_key" and severity_of(finding) == Severity.LOW
    text = render(finding)
    assert (
        text["title"]
        == "A Firebase web API key is public in https://www.firebase-key.test/static/app.3f9a1c.js: restrict it"
    )
    assert "Browser key (auto created by Firebase)" in text["fix"] and "App Check" in text["fix"]
    assert "Firebase APIs" in text["fix"] and "HTTP referrers" in text["fix"]
    assert FAKE_FIREBASE_KEY not in json.dumps(finding.evidence) + json.dumps(text) + finding.subject


# (what is around the key, who it is for, what the finding is): one table for the bundle and the repository scans
GOOGLE_CONTEXTS = [
    pytest.param(
        'initializeApp({apiKey:"%s",authDomain:"acme.firebaseapp.com"})', "firebase_web", Kind.RESTRICT, id="firebase"
    ),
    pytest.param(
        '{\n  "apiKey": "%s",\n  "projectId": "acme-web",\n  "appId": "1:1:web:2"\n}', "firebase_web", Kind.RESTRICT,
        id="firebase-json",
    ),
    pytest.param(
        "NEXT_PUBLIC_FIREBASE_API_KEY=%s\nNEXT_PUBLIC_FIREBASE_AUTH_DOMAIN=acme.firebaseapp.com\n", "firebase_web",
        Kind.RESTRICT, id="firebase-env",
    ),
    pytest.param('new google.maps.Map(el);load("/js?key=%s")', "gcp_api_key", Kind.RESTRICT, id="maps"),
    # The word Firebase nearby is not a Firebase config: the key is not its apiKey, or nothing of a config is there.
    pytest.param(
        'import "firebase/app";\nconst MAPS_KEY = "%s";\nloadMaps(MAPS_KEY);', "gcp_api_key", Kind.RESTRICT,
        id="firebase-word-only",
    ),
    pytest.param('const config = { apiKey: "%s" };', "gcp_api_key", Kind.RESTRICT, id="api-key-alone"),
    pytest.param('fetch(GEMINI_URL+"?key=%s",{body:prompt})', "google_ai", Kind.SECRET, id="gemini"),
]  # fmt: skip


@pytest.mark.parametrize(("script", "provider", "kind"), GOOGLE_CONTEXTS)
def test_what_is_around_a_google_key_says_what_it_is(script: str, provider: str, kind: Kind) -> None:
    """A Maps or bare key, or one only near the word Firebase, is one to restrict; a Firebase config's apiKey is
    one to restrict too, at a lower severity; with Gemini around it, the key bills per call and is a leak."""
    (hit,) = scan_text(script % FAKE_GOOGLE_KEY)
    assert (hit.provider, hit.kind) == (provider, kind)


def test_the_healthy_domain_leaks_nothing(world_sandbox: Sandbox) -> None:
    assert bundles(world_sandbox, HEALTHY) == []


def _page(html: str, url: str = "https://www.acme.test/") -> FetchResult:
    return FetchResult([Hop(url, status=200, headers=[("content-type", "text/html")])], body=html.encode())


def test_only_same_site_and_declared_cdn_scripts_are_fetched() -> None:
    html = (
        '<script src="/static/app.js"></script><script src="https://app.acme.test/chunk.js"></script>'
        '<script src="https://cdn.evil.test/x.js"></script><script src="//cdn.acme-assets.test/lib.js"></script>'
        "<script src=data:text/javascript,alert(1)></script><script>inline()</script>"
    )
    target = AuditTarget(apex="acme.test")
    assert script_urls(_page(html), target) == ["https://www.acme.test/static/app.js", "https://app.acme.test/chunk.js"]
    target.asset_hosts = ["cdn.acme-assets.test"]
    assert "https://cdn.acme-assets.test/lib.js" in script_urls(_page(html), target)


def test_source_maps_are_found_by_comment_header_or_inline() -> None:
    script = FetchResult([Hop("https://www.acme.test/a.js", status=200)], body=b"x()\n//# sourceMappingURL=a.js.map\n")
    assert source_map_ref(script) == "a.js.map"
    with_header = FetchResult([Hop("https://www.acme.test/a.js", status=200, headers=[("SourceMap", "/m/a.map")])])
    assert source_map_ref(with_header) == "/m/a.map"
    payload = {"version": 3, "sourcesContent": ['const k = "' + FAKE_STRIPE_SECRET + '";']}
    encoded = base64.b64encode(json.dumps(payload).encode()).decode()
    inline = inline_map(f"data:application/json;charset=utf-8;base64,{encoded}")
    assert inline is not None and FAKE_STRIPE_SECRET in map_sources(inline)
    assert inline_map("a.js.map") is None
    assert map_sources("not json") == "not json"


@pytest.mark.django_db
def test_a_domain_declares_the_cdn_hosts_its_scripts_come_from(tenant) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    from launchready.models import Domain
    from tests.conftest import login

    http = login(tenant.consultant)
    url = reverse("domain_edit", args=[tenant.domain.code])
    form = {
        "name": tenant.domain.name,
        "canonical_host": "www",
        "hosting_provider": "vercel",
        "deploy_method": "git_push",
    }
    bad = http.post(url, {**form, "asset_hosts_text": "d1a2.cloudfront.net, not a host!"})
    assert bad.status_code == 200 and "not a host!" in bad.content.decode()
    assert http.post(url, {**form, "asset_hosts_text": "D1A2.CloudFront.net, d1a2.cloudfront.net."}).status_code == 302
    domain = Domain.objects.get(id=tenant.domain.id)
    assert domain.asset_hosts == ["d1a2.cloudfront.net"]
    assert AuditTarget.from_domain(domain).asset_hosts == ["d1a2.cloudfront.net"]
