"""The usual journeys as steps to start from: sign in (the form's CSRF token taken and posted back with the
test account's credentials), the dashboard, an authenticated API call; the sign-up page reachable; a password
reset request accepted. The secrets they use are named in SECRETS; the consultant fills them in."""

from __future__ import annotations

from monitoring.journey_steps import Assertion, Extraction, StepSpec

# The hidden fields frameworks put their CSRF token in: Django, Flask-WTF, Express (csurf), Rails, Laravel.
CSRF_FIELDS = ("csrfmiddlewaretoken", "csrf_token", "_csrf", "authenticity_token", "_token")
CSRF_SELECTOR = ", ".join(f"input[name={name}]" for name in CSRF_FIELDS)
# The page after a sign-in that worked shows no password field.
NO_PASSWORD_FIELD = Assertion("not_contains", 'type="password"')
# The secrets the templates use, with what each is: descriptions, not values.
SECRETS = {
    "email": "The test account's email address",
    "password": "The test account's password",  # a description  # nosec B105
    "api_token": "A bearer token for the API (sent as Authorization: Bearer …)",  # a description  # nosec B105
}


def sign_in(
    login_url: str, dashboard_url: str, api_url: str = "", *, csrf_field: str = CSRF_FIELDS[0]
) -> list[StepSpec]:
    """Sign in through the form, open the dashboard, then (given `api_url`) call the API with a token."""
    steps = [
        StepSpec(
            name="Open the sign-in page",
            url=login_url,
            extractions=(Extraction("csrf_token", "css", CSRF_SELECTOR, "value"),),
            assertions=(Assertion("status", "200"), Assertion("contains", "<form")),
        ),
        StepSpec(
            name="Sign in",
            url=login_url,
            method="POST",
            body_kind="form",
            form=((csrf_field, "{{csrf_token}}"), ("email", "{{email}}"), ("password", "{{password}}")),
            assertions=(Assertion("status", "200"), NO_PASSWORD_FIELD),
        ),
        StepSpec(
            name="Open the dashboard",
            url=dashboard_url,
            assertions=(Assertion("status", "200"), NO_PASSWORD_FIELD, Assertion("latency", "2000")),
        ),
    ]
    if api_url:
        steps.append(api_call(api_url))
    return steps


def api_call(api_url: str) -> StepSpec:
    return StepSpec(
        name="Call the API",
        url=api_url,
        headers=(("Authorization", "Bearer {{api_token}}"), ("Accept", "application/json")),
        assertions=(Assertion("status", "200"), Assertion("latency", "2000")),
    )


def sign_up_reachable(signup_url: str) -> list[StepSpec]:
    return [
        StepSpec(
            name="Open the sign-up page",
            url=signup_url,
            assertions=(Assertion("status", "200"), Assertion("contains", "<form"), Assertion("latency", "2000")),
        )
    ]


def password_reset(reset_url: str, *, csrf_field: str = CSRF_FIELDS[0]) -> list[StepSpec]:
    return [
        StepSpec(
            name="Open the password reset page",
            url=reset_url,
            extractions=(Extraction("csrf_token", "css", CSRF_SELECTOR, "value"),),
            assertions=(Assertion("status", "200"),),
        ),
        StepSpec(
            name="Ask for a reset link",
            url=reset_url,
            method="POST",
            body_kind="form",
            form=((csrf_field, "{{csrf_token}}"), ("email", "{{email}}")),
            assertions=(Assertion("status", "200"),),
        ),
    ]
