"""The route form keeps the host of a pasted address (or says why it cannot), and never saves one address
twice: not by the form, not by an edit, not in the database."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from launchready.domains import DomainError
from launchready.forms import RouteForm, route_host_label
from launchready.models import Domain, Route
from tests.conftest import Tenant, login
from tests.factories import DomainFactory, RouteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def studiokit(tenant: Tenant) -> Domain:
    return DomainFactory(client=tenant.client, name="studiokit.test", canonical_host="www", hosts=["app"])


def _form(domain: Domain, path: str, host: str = "", instance: Route | None = None) -> RouteForm:
    return RouteForm({"host": host, "path": path, "kind": "login"}, domain=domain, instance=instance)


@pytest.mark.parametrize(
    ("pasted", "host", "path"),
    [
        ("https://app.studiokit.test/login", "app", "/login"),
        ("https://APP.studiokit.test./login?next=/x#top", "app", "/login?next=/x"),
        ("app.studiokit.test/login", "app", "/login"),
        ("https://www.studiokit.test/pricing", "", "/pricing"),
        ("https://www.studiokit.test:443/", "", "/"),
        ("https://eu.api.studiokit.test/health", "eu.api", "/health"),
        ("/login", "", "/login"),
        ("login", "", "/login"),
        ("robots.txt", "", "/robots.txt"),
    ],
)
def test_it_keeps_the_host_of_a_pasted_address(studiokit: Domain, pasted: str, host: str, path: str) -> None:
    form = _form(studiokit, pasted)
    assert form.is_valid(), form.errors
    route = form.save()
    assert (route.host, route.path) == (host, path)
    assert route.url == f"https://{studiokit.host_name(host)}{path.split('#')[0]}"


def test_it_keeps_the_pasted_host_over_the_host_chosen_in_the_list(studiokit: Domain) -> None:
    form = _form(studiokit, "https://app.studiokit.test/login", host="")
    assert form.is_valid(), form.errors
    assert form.save().url == "https://app.studiokit.test/login"


def test_a_sub_domain_first_named_by_a_route_joins_the_hosts_in_use(tenant: Tenant, studiokit: Domain) -> None:
    response = login(tenant.consultant).post(
        reverse("route_new", args=[studiokit.code]),
        {"host": "", "path": "https://portal.studiokit.test/sign-in", "kind": "login"},
        follow=True,
    )
    assert Route.objects.get(domain=studiokit, host="portal").url == "https://portal.studiokit.test/sign-in"
    studiokit.refresh_from_db()
    assert studiokit.hosts == ["app", "portal"]
    assert "portal is now one of the hosts in use on studiokit.test" in response.content.decode()


@pytest.mark.parametrize(
    ("pasted", "error"),
    [
        ("https://app.other.test/login", "app.other.test is not on studiokit.test"),
        ("https://studiokit.test.evil.test/", "studiokit.test.evil.test is not on studiokit.test"),
        ("https://studiokit.test/login", "routes on studiokit.test are watched there"),
        ("http://app.studiokit.test/login", "Routes are watched over https://"),
        ("https://app.studiokit.test:8443/login", "standard https port"),
        ("https://user:pw@app.studiokit.test/login", "without a user name or password"),
        ("https://192.0.2.1/login", "IP address"),
    ],
)
def test_a_host_the_domain_does_not_have_is_refused_saying_so(studiokit: Domain, pasted: str, error: str) -> None:
    form = _form(studiokit, pasted)
    assert not form.is_valid()
    assert error in " ".join(form.errors["path"])
    assert not Route.objects.filter(domain=studiokit).exists()


def test_a_host_of_another_of_the_clients_domains_points_there(tenant: Tenant, studiokit: Domain) -> None:
    DomainFactory(client=tenant.client, name="studiokit.dev")
    with pytest.raises(DomainError, match=r"on studiokit\.dev, another of this client.s domains"):
        route_host_label(studiokit, "app.studiokit.dev")


def test_the_apex_is_the_route_host_when_the_apex_is_canonical(tenant: Tenant) -> None:
    domain = DomainFactory(client=tenant.client, name="apex.test", canonical_host="apex")
    assert route_host_label(domain, "apex.test") == ""
    with pytest.raises(DomainError, match=r"apex\.test is the canonical host"):
        route_host_label(domain, "www.apex.test")


def test_a_duplicate_route_is_a_form_error_naming_the_existing_route(tenant: Tenant, studiokit: Domain) -> None:
    Route.objects.create(domain=studiokit, host="", path="/login", kind="login", expected_statuses=[200])
    response = login(tenant.consultant).post(
        reverse("route_new", args=[studiokit.code]),
        {"host": "", "path": "https://www.studiokit.test/login", "kind": "dashboard"},
    )
    assert response.status_code == 200
    assert "https://www.studiokit.test/login is already a route of this domain (Login)" in response.content.decode()
    assert Route.objects.filter(domain=studiokit).count() == 1


def test_the_same_path_on_another_host_is_not_a_duplicate(studiokit: Domain) -> None:
    Route.objects.create(domain=studiokit, host="", path="/login", kind="login", expected_statuses=[200])
    form = _form(studiokit, "https://app.studiokit.test/login")
    assert form.is_valid(), form.errors
    form.save()
    assert Route.objects.filter(domain=studiokit, path="/login").count() == 2


def test_editing_a_route_into_a_duplicate_is_a_form_error(tenant: Tenant, studiokit: Domain) -> None:
    RouteFactory(domain=studiokit, host="app", path="/login")
    other = RouteFactory(domain=studiokit, host="app", path="/dashboard")
    response = login(tenant.consultant).post(
        reverse("route_edit", args=[other.code]), {"host": "app", "path": "/login", "kind": "dashboard"}
    )
    assert "https://app.studiokit.test/login is already a route of this domain" in response.content.decode()
    other.refresh_from_db()
    assert other.path == "/dashboard"


def test_saving_a_route_unchanged_is_not_a_duplicate_of_itself(studiokit: Domain) -> None:
    route = RouteFactory(domain=studiokit, host="app", path="/login")
    form = _form(studiokit, "https://app.studiokit.test/login", host="app", instance=route)
    assert form.is_valid(), form.errors


def test_the_database_refuses_a_second_route_for_one_address(studiokit: Domain) -> None:
    RouteFactory(domain=studiokit, host="app", path="/login")
    with pytest.raises(IntegrityError), transaction.atomic():
        RouteFactory(domain=studiokit, host="app", path="/login")


def test_a_route_saved_twice_at_once_is_a_form_error_not_a_crash(studiokit: Domain) -> None:
    first, second = _form(studiokit, "https://app.studiokit.test/login"), _form(studiokit, "/login", host="app")
    assert first.is_valid() and second.is_valid()  # both checked before either is saved
    assert first.save_unique() is not None
    assert second.save_unique() is None
    assert "just added as a route of this domain" in " ".join(second.errors["path"])
    assert Route.objects.filter(domain=studiokit, host="app", path="/login").count() == 1
    studiokit.refresh_from_db()
    assert studiokit.hosts == ["app"]
