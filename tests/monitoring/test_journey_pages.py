"""The journey pages: a consultant builds the sign-in journey from the template prefilled with the client's
routes, writes its secrets (never shown again), runs it and reads each step; a step's form answers bad input
with a form error; a founder may not edit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from launchready.models import Route
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.saas_app import ACCOUNT_EMAIL, ACCOUNT_PASSWORD, APEX_OF, Flaw, api_token
from monitoring.journey_steps import Assertion, Extraction
from monitoring.journey_text import (
    assertions_text,
    extractions_text,
    parse_assertions,
    parse_extractions,
    parse_form,
    parse_headers,
)
from monitoring.journeys import RUNS_KEPT, journey_spec, run_journey_now, set_secret
from monitoring.models import Journey, JourneyRun, JourneySecret
from tests.conftest import Tenant, login
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db


def _client_with_routes(tenant: Tenant, flaw: Flaw = Flaw.NONE) -> str:
    tenant.domain.delete()
    apex = APEX_OF[flaw]
    domain = DomainFactory(client=tenant.client, name=apex, hosts=["app", "api"])
    Route.objects.create(domain=domain, host="app", path="/login", kind=Route.Kind.LOGIN, expected_statuses=[200])
    Route.objects.create(
        domain=domain, host="app", path="/dashboard", kind=Route.Kind.DASHBOARD, expected_statuses=[200]
    )
    Route.objects.create(domain=domain, host="api", path="/v1/me", kind=Route.Kind.API_HEALTH, expected_statuses=[200])
    return apex


def _build(tenant: Tenant, flaw: Flaw = Flaw.NONE) -> tuple[Journey, str]:
    apex = _client_with_routes(tenant, flaw)
    http = login(tenant.consultant)
    page = http.get(reverse("journeys", args=[tenant.client.code]))
    assert page.status_code == 200
    assert f"POST https://app.{apex}/login" in page.content.decode()  # the template is prefilled from the routes
    created = http.post(reverse("journey_new", args=[tenant.client.code]), {"template": "sign_in"})
    journey = Journey.objects.get(client=tenant.client)
    assert created["Location"] == reverse("journey_detail", args=[journey.code])
    for name, value in (("email", ACCOUNT_EMAIL), ("password", ACCOUNT_PASSWORD), ("api_token", api_token(apex))):
        saved = http.post(reverse("journey_secret", args=[journey.code]), {"name": name, "value": value})
        assert saved.status_code == 302
    return journey, apex


def test_a_consultant_builds_the_sign_in_journey_and_watches_it_pass(sandbox_env: Sandbox, tenant: Tenant) -> None:
    journey, apex = _build(tenant)
    http = login(tenant.consultant)
    editor = http.get(reverse("journey_detail", args=[journey.code])).content.decode()
    assert "Open the sign-in page" in editor and "Call the API" in editor
    assert ACCOUNT_PASSWORD not in editor and api_token(apex) not in editor  # secrets are written, never shown
    assert "{{password}}" in editor
    ran = http.post(reverse("journey_run", args=[journey.code]), HTTP_HX_REQUEST="true")
    html = ran.content.decode()
    assert ran.status_code == 200 and "All 4 steps passed" in html
    assert f"set sessionid (app.{apex} only; Path=/; Secure; HttpOnly; SameSite=Lax)" in html
    assert f"so api.{apex} never gets it" in html  # the API is called with its token, not the session
    assert ACCOUNT_PASSWORD not in html and "Tr0ub4dor" not in html and api_token(apex) not in html
    run = JourneyRun.objects.get(journey=journey)
    page = http.get(reverse("journey_run_detail", args=[run.code])).content.decode()
    assert "Welcome back" in page  # the answer's body, kept truncated
    assert ACCOUNT_PASSWORD not in page


def test_a_failed_run_explains_itself_on_the_page(sandbox_env: Sandbox, tenant: Tenant) -> None:
    journey, apex = _build(tenant, Flaw.COOKIE_WRONG_HOST)
    http = login(tenant.consultant)
    ran = http.post(reverse("journey_run", args=[journey.code]))
    run = JourneyRun.objects.get(journey=journey)
    assert ran["Location"] == reverse("journey_run_detail", args=[run.code])
    html = http.get(ran["Location"]).content.decode()
    assert f"the session is lost on the way to {apex}" in html
    assert "held back sessionid: set by app." in html
    assert "not run" in html  # the steps after the failing one


def test_the_step_form_answers_bad_input_with_form_errors(tenant: Tenant) -> None:
    tenant.domain.delete()
    DomainFactory(client=tenant.client, name="saas-app.test")
    journey = Journey.objects.create(client=tenant.client, name="Sign in")
    http = login(tenant.consultant)
    url = reverse("journey_step_new", args=[journey.code])
    data = {
        "name": "Elsewhere",
        "method": "GET",
        "url": "https://launch-ready.test/",
        "body_kind": "none",
        "extractions_text": "token = xpath //input",
        "assertions_text": "status 200\nlatency soon",
        "follow_redirects": "on",
    }
    page = http.post(url, data)
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert "line 1: write variable = source what" in errors["extractions_text"][0]
    data["extractions_text"] = "token = regex (a+)+$"
    page = http.post(url, data)
    errors = page.context["form"].errors
    assert "launch-ready.test is not on this client's domains (saas-app.test)" in errors["url"][0]
    assert "can run for ever" in errors["extractions_text"][0]
    assert "a number of milliseconds" in errors["assertions_text"][0]
    assert not journey.steps.exists()
    data |= {"url": "https://app.saas-app.test/login", "extractions_text": "csrf = css input[name=csrf] @value"}
    data["assertions_text"] = "status 200\ncookie csrftoken Secure"
    assert http.post(url, data).status_code == 302
    (step,) = journey.steps.all()
    assert step.extractions == [
        {"variable": "csrf", "source": "css", "expression": "input[name=csrf]", "attribute": "value"}
    ]
    assert journey_spec(journey).steps[0].assertions[1] == Assertion("cookie", "Secure", "csrftoken")


def test_a_founder_may_not_open_the_editor_and_a_bad_secret_is_refused(tenant: Tenant) -> None:
    journey = Journey.objects.create(client=tenant.client, name="Sign in")
    assert login(tenant.founder).get(reverse("journeys", args=[tenant.client.code])).status_code == 403
    assert login(tenant.founder).get(reverse("journey_detail", args=[journey.code])).status_code == 403
    http = login(tenant.consultant)
    answer = http.post(
        reverse("journey_secret", args=[journey.code]), {"name": "not a name", "value": "x"}, follow=True
    )
    assert "The secret was not saved" in answer.content.decode()
    assert not JourneySecret.objects.exists()


def test_the_editor_reads_a_bounded_number_of_queries(tenant: Tenant, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    _client_with_routes(tenant)
    http = login(tenant.consultant)
    http.post(reverse("journey_new", args=[tenant.client.code]), {"template": "sign_in"})
    journey = Journey.objects.get(client=tenant.client)
    with django_assert_max_num_queries(15):
        assert http.get(reverse("journey_detail", args=[journey.code])).status_code == 200


@pytest.mark.parametrize(
    "text",
    [
        "csrf_token = css input[name=csrfmiddlewaretoken], input[name=_token] @value\ntoken = json data.items[0].id\n"
        "session = cookie sessionid\nnext = header Location\norder = regex Order #(\\d+)",
    ],
)
def test_extraction_lines_read_back_unchanged(text: str) -> None:
    parsed = parse_extractions(text)
    assert parsed[0] == Extraction("csrf_token", "css", "input[name=csrfmiddlewaretoken], input[name=_token]", "value")
    assert extractions_text(parsed) == text


def test_assertion_header_and_form_lines_read_back() -> None:
    text = 'status 200, 302\ncontains Welcome back\nnot_contains type="password"\njson user.plan = pro\n'
    text += "json user.email\nheader Cache-Control no-store\ncookie sessionid Secure; HttpOnly\nlatency 2000"
    assert assertions_text(parse_assertions(text)) == text
    assert parse_headers("Authorization: Bearer {{t}}\n# a note\nAccept: */*") == [
        ("Authorization", "Bearer {{t}}"),
        ("Accept", "*/*"),
    ]
    assert parse_form("email={{email}}\nnext=/a=b") == [("email", "{{email}}"), ("next", "/a=b")]


def test_a_journey_is_deleted_with_its_secrets_and_runs(tenant: Tenant) -> None:
    journey = Journey.objects.create(client=tenant.client, name="Sign in")
    set_secret(journey, "password", "s3cret-value")
    JourneyRun.objects.create(journey=journey, summary="x")
    http = login(tenant.consultant)
    assert login(tenant.founder).post(reverse("journey_delete", args=[journey.code])).status_code == 403
    answer = http.post(reverse("journey_delete", args=[journey.code]))
    assert answer["Location"] == reverse("journeys", args=[tenant.client.code])
    assert not Journey.objects.exists() and not JourneySecret.objects.exists() and not JourneyRun.objects.exists()


def test_only_the_latest_runs_are_kept(tenant: Tenant) -> None:
    journey = Journey.objects.create(client=tenant.client, name="Empty")
    for _ in range(RUNS_KEPT + 3):
        run_journey_now(journey)
    assert journey.runs.count() == RUNS_KEPT


def test_the_monitoring_page_lists_the_journeys_with_their_state(tenant: Tenant) -> None:
    failing = Journey.objects.create(client=tenant.client, name="Sign in", state="down")
    JourneyRun.objects.create(journey=failing, summary="“Sign in” answered 500 (Internal Server Error)")
    Journey.objects.create(client=tenant.client, name="Sign-up page", enabled=False)
    url = reverse("client_monitoring", args=[tenant.client.code])
    staff = login(tenant.consultant).get(url).content.decode()
    assert "“Sign in” answered 500 (Internal Server Error)" in staff and 'badge-stop">Failing' in staff
    assert reverse("journey_detail", args=[failing.code]) in staff and 'class="badge">Off' in staff
    founder = login(tenant.founder).get(url).content.decode()
    assert "Failing" in founder and reverse("journey_detail", args=[failing.code]) not in founder
