"""The product holds up against the attacks it warns clients about: CSRF on every form, no open
redirects through `next`, and uploads never served back."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, UUIDConverter

from tests.conftest import Tenant, login
from tests.factories import PASSWORD, InvitationFactory, UserFactory
from tests.test_isolation import OBJECT_FOR

ROOT = Path(__file__).resolve().parents[1]
# Views that take no cookie-authenticated POST: the deploy and scan APIs authenticate by their bearer token.
# The token APIs (bearer token, no cookie) and the report opt-outs: mail providers POST those one-click links
# (RFC 8058) with no session and no form, and the signed token in the URL is what protects them. The heartbeat
# pings: a job's curl posts them, they read no session, and the secret in the URL is all they go by.
CSRF_EXEMPT = {
    "api_deploys",
    "api_deploy_detail",
    "api_scans",
    "report_opt_out",
    "report_digest_opt_out",
    "heartbeat_ping",
    "heartbeat_ping_start",
    "heartbeat_ping_fail",
}
EVIL = ["//evil.example/", "https://evil.example/", "/\\evil.example", "http:evil.example", "\\\\evil.example"]


def _patterns(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            found += _patterns(pattern.url_patterns, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            found.append((prefix + pattern.name, pattern.callback, pattern.pattern.converters))
    return found


def _url(name: str, converters: dict[str, Any], tenant: Tenant) -> str | None:
    kwargs: dict[str, Any] = {}
    for key, converter in converters.items():
        if isinstance(converter, UUIDConverter):
            kwargs[key] = OBJECT_FOR[key](tenant).code if key in OBJECT_FOR else uuid.uuid4()
        elif isinstance(converter, IntConverter):
            kwargs[key] = 1
        else:
            kwargs[key] = "x"
    try:
        return reverse(name, kwargs=kwargs)
    except Exception:  # admin's regex patterns take values this walk does not make up
        return None


def test_only_the_token_api_and_the_one_click_opt_outs_are_exempt_from_csrf() -> None:
    exempt = {name for name, view, _ in _patterns(get_resolver().url_patterns) if getattr(view, "csrf_exempt", False)}
    assert exempt == CSRF_EXEMPT


@pytest.mark.django_db
def test_every_post_without_a_csrf_token_is_refused(tenant: Tenant) -> None:
    signed_in = HttpClient(enforce_csrf_checks=True)
    signed_in.force_login(tenant.owner)
    anonymous = HttpClient(enforce_csrf_checks=True)
    tried = 0
    for name, _view, converters in _patterns(get_resolver().url_patterns):
        if name in CSRF_EXEMPT:
            continue
        url = _url(name, converters, tenant)
        if url is None:
            continue
        for browser in (signed_in, anonymous):
            response = browser.post(url, {"name": "x", "email": "x@example.com", "password": PASSWORD})
            assert response.status_code == 403, f"POST {name} ({url}) without a CSRF token: {response.status_code}"
        tried += 1
    assert tried > 60  # the walk really covered the URLconf


def test_every_post_form_in_the_templates_carries_a_csrf_token() -> None:
    """Django's templates and the Jinja2 partials (jinja/, where the token is `{{ csrf_input }}`)."""
    form = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)
    missing, forms = [], 0
    for folder, tokens in (
        ("templates", ("{% csrf_token %}", '{% include "_form.html" %}')),
        ("jinja", ("{{ csrf_input }}",)),
    ):
        for path in (ROOT / folder).rglob("*.html"):
            for body in form.findall(path.read_text()):
                forms += 1
                if not any(token in body for token in tokens):
                    missing.append(str(path.relative_to(ROOT)))
    assert missing == []
    assert forms > 30


@pytest.mark.django_db
@pytest.mark.parametrize("target", EVIL)
def test_sign_in_never_redirects_off_site(target: str) -> None:
    user = UserFactory()
    response = HttpClient().post(
        reverse("account_login") + "?next=" + target, {"login": user.email, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    location = response["Location"]
    assert "evil.example" not in location, location
    assert location.startswith("/") and not location.startswith(("//", "/\\"))


@pytest.mark.django_db
@pytest.mark.parametrize("target", EVIL)
def test_other_next_parameters_stay_on_site(tenant: Tenant, target: str) -> None:
    http = login(tenant.owner)
    invitation = InvitationFactory(workspace=tenant.workspace)
    response = http.post(reverse("invitation_withdraw", args=[invitation.code]), {"next": target})
    assert response.status_code == 302 and "evil.example" not in response["Location"]
    stale = login(tenant.owner, authenticated_ago=3600)
    page = stale.post(reverse("account_reauthenticate") + "?next=" + target, {"password": PASSWORD})
    assert page.status_code == 302 and "evil.example" not in page["Location"]
    logout = http.post(reverse("account_logout") + "?next=" + target, {"next": target})
    assert "evil.example" not in logout.get("Location", "")


@pytest.mark.django_db
def test_a_same_site_next_is_honoured(tenant: Tenant) -> None:
    response = HttpClient().post(
        reverse("account_login"), {"login": tenant.owner.email, "password": PASSWORD, "next": "/monitoring/"}
    )
    assert response["Location"] == "/monitoring/"


@pytest.mark.django_db
def test_uploaded_files_are_never_served_back(tenant: Tenant, tmp_path: Path) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    with override_settings(MEDIA_ROOT=str(tmp_path)):
        name = default_storage.save("uploads/repo.zip", ContentFile(b"PK client source"))
        assert (tmp_path / name).exists()
        for browser in (HttpClient(), login(tenant.owner)):
            for path in (f"/media/{name}", f"/{name}", f"/static/../media/{name}", f"{settings.MEDIA_URL}{name}"):
                response = browser.get(path)
                assert response.status_code == 404, path
                assert b"client source" not in b"".join(getattr(response, "streaming_content", [response.content]))
    views = [view for _, view, _ in _patterns(get_resolver().url_patterns)]
    assert not any(getattr(v, "__module__", "") == "django.views.static" for v in views)
