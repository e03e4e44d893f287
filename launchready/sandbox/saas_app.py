"""A fake SaaS app for journeys: a sign-in form with a CSRF token (double-submit, as Django does) and a
session cookie, a dashboard for the signed-in, a sign-up page and a password reset, a JSON API with bearer
tokens (static, or issued for the account's credentials) and a Stripe-style webhook that checks signatures.

Each `Flaw` turns one thing wrong, the way launches break: the session cookie set for one host while the
sign-in redirects to another, a redirect loop after sign-in, every form refused as a forgery, the dashboard
failing once signed in, a slow API, a webhook that redirects, and one that accepts unsigned posts.

Stateless: sessions and tokens are HMACs of the account with the app's key, CSRF tokens are checked
against their cookie, so the app needs no store and answers the same in every sandbox process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from enum import StrEnum
from html import escape
from urllib.parse import parse_qs

from launchready.sandbox.web import Page, Request

ACCOUNT_EMAIL = "founder@example.com"
# The sandbox account's password, with characters a form must encode (the redaction is tested on them).
ACCOUNT_PASSWORD = "Tr0ub4dor & 3 horses!"  # a fake app's test account, never a real credential  # nosec B105
SLOW_API_DELAY = 2.3  # seconds: over the smoke test's 2 s budget
JSON = [("Content-Type", "application/json")]
HTML = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "private, no-store")]


class Flaw(StrEnum):
    NONE = "none"
    COOKIE_WRONG_HOST = "cookie_wrong_host"  # the session is set for app.<apex>, the sign-in then goes to <apex>
    LOOP_AFTER_SIGN_IN = "loop_after_sign_in"  # /dashboard sends the signed-in to /login, which sends them back
    CSRF_REJECTED = "csrf_rejected"  # every form post fails the CSRF check
    DASHBOARD_500 = "dashboard_500"  # the dashboard fails for the signed-in
    SLOW_API = "slow_api"  # the API answers after SLOW_API_DELAY
    WEBHOOK_REDIRECTS = "webhook_redirects"  # the webhook answers a POST with a 301 to its trailing-slash twin
    WEBHOOK_UNSIGNED = "webhook_unsigned"  # the webhook accepts a post without a signature


def _key(apex: str, purpose: str) -> bytes:
    return hashlib.sha256(f"saas-app:{apex}:{purpose}".encode()).digest()


def api_token(apex: str) -> str:
    """The app's long-lived API token for the account (what a consultant keeps as a journey secret)."""
    return "sk_app_" + hmac.new(_key(apex, "api"), ACCOUNT_EMAIL.encode(), hashlib.sha256).hexdigest()[:32]


def webhook_secret(apex: str) -> str:
    return "whsec_" + hashlib.sha256(_key(apex, "webhook")).hexdigest()[:32]


def webhook_signature(apex: str, body: bytes, timestamp: int) -> str:
    """A Stripe-Signature header value for this body."""
    mac = hmac.new(webhook_secret(apex).encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _page(title: str, body: str, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Page:
    html = f"<!doctype html><html><head><title>{escape(title)}</title></head><body>{body}</body></html>"
    return Page(status=status, body=html, headers=[*HTML, *(headers or [])], compress=False)


def _json(data: object, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Page:
    return Page(status=status, body=json.dumps(data), headers=[*JSON, *(headers or [])], compress=False)


@dataclass
class SaasApp:
    apex: str
    flaw: Flaw = Flaw.NONE

    @property
    def app_host(self) -> str:
        return f"app.{self.apex}"

    def session(self) -> str:
        return "s_" + hmac.new(_key(self.apex, "session"), ACCOUNT_EMAIL.encode(), hashlib.sha256).hexdigest()[:40]

    def issued_token(self) -> str:
        return "at_" + hmac.new(_key(self.apex, "issued"), ACCOUNT_EMAIL.encode(), hashlib.sha256).hexdigest()[:40]

    def signed_in(self, request: Request) -> bool:
        return hmac.compare_digest(request.cookies.get("sessionid", ""), self.session())

    # --- the web app (app.<apex>, and the apex, which serves the same app) -------------------------

    def web(self, request: Request) -> Page:
        path, method = request.path, request.method
        if path == "/":
            return _page(self.apex, f'<h1>{escape(self.apex)}</h1><a href="https://{self.app_host}/login">Sign in</a>')
        if path == "/login":
            return self._login_post(request) if method == "POST" else self._login_form(request)
        if path == "/dashboard":
            return self._dashboard(request)
        if path == "/signup":
            return self._form("Create your account", "/signup", "Start your free trial")
        if path == "/password/reset":
            if method == "POST":
                refused = self._csrf_refusal(request)
                if refused:
                    return refused
                return _page("Check your inbox", "<h1>Check your inbox</h1><p>If the address has an account, a link "
                             "to choose a new password is on its way.</p>")  # fmt: skip
            return self._form("Reset your password", "/password/reset", "Send me a link")
        if path == "/logout":
            return Page(status=302, location="/login", headers=[("Set-Cookie", "sessionid=; Path=/; Max-Age=0")])
        return _page("Not found", "<h1>Not found</h1>", status=404)

    def _form(self, title: str, action: str, button: str, error: str = "") -> Page:
        token = secrets.token_urlsafe(24)
        note = f'<p class="error">{escape(error)}</p>' if error else ""
        body = (
            f"<h1>{escape(title)}</h1>{note}<form method=post action={action}>"
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
            '<input type="email" name="email"><input type="password" name="password">'
            f"<button>{escape(button)}</button></form>"
        )
        cookie = f"csrftoken={token}; Path=/; Secure; SameSite=Lax"
        return _page(title, body, headers=[("Set-Cookie", cookie)])

    def _login_form(self, request: Request) -> Page:
        if self.signed_in(request):
            return Page(status=302, location="/dashboard", headers=HTML)
        return self._form("Sign in", "/login", "Sign in")

    def _csrf_refusal(self, request: Request) -> Page | None:
        form = parse_qs(request.body.decode("utf-8", "replace"))
        token = form.get("csrfmiddlewaretoken", [""])[0]
        cookie = request.cookies.get("csrftoken", "")
        if self.flaw == Flaw.CSRF_REJECTED or not token or not hmac.compare_digest(token, cookie):
            reason = "CSRF token from the form did not match" if token else "CSRF token missing"
            return _page(
                "403 Forbidden",
                f"<h1>Forbidden (403)</h1><p>CSRF verification failed. Request aborted.</p><p>{reason}.</p>",
                status=403,
            )
        return None

    def _login_post(self, request: Request) -> Page:
        refused = self._csrf_refusal(request)
        if refused:
            return refused
        form = parse_qs(request.body.decode("utf-8", "replace"))
        email, password = form.get("email", [""])[0], form.get("password", [""])[0]
        if email != ACCOUNT_EMAIL or not hmac.compare_digest(password, ACCOUNT_PASSWORD):
            return self._form("Sign in", "/login", "Sign in", error="Wrong email or password.")
        where = f"https://{self.apex}/dashboard" if self.flaw == Flaw.COOKIE_WRONG_HOST else "/dashboard"
        cookie = f"sessionid={self.session()}; Path=/; Secure; HttpOnly; SameSite=Lax"
        return Page(status=302, location=where, headers=[*HTML, ("Set-Cookie", cookie)])

    def _dashboard(self, request: Request) -> Page:
        if not self.signed_in(request):
            return Page(status=302, location="/login?next=/dashboard", headers=HTML)
        if self.flaw == Flaw.LOOP_AFTER_SIGN_IN:
            return Page(status=302, location="/login", headers=HTML)
        if self.flaw == Flaw.DASHBOARD_500:
            return _page("Server Error (500)", "<h1>Server Error (500)</h1>", status=500)
        return _page(
            "Dashboard",
            f"<h1>Dashboard</h1><p>Welcome back, {escape(ACCOUNT_EMAIL)}</p><ul><li>3 active clients</li></ul>",
        )

    # --- the API (api.<apex>) ----------------------------------------------------------------------

    def api(self, request: Request) -> Page:
        path, method = request.path, request.method
        if path == "/health":
            return _json({"status": "ok"})
        if path == "/v1/auth/token" and method == "POST":
            try:
                data = json.loads(request.body or b"{}")
            except ValueError:
                return _json({"error": "invalid_json"}, 400)
            if (
                not isinstance(data, dict)
                or data.get("email") != ACCOUNT_EMAIL
                or data.get("password") != ACCOUNT_PASSWORD
            ):
                return _json({"error": "invalid_credentials"}, 401)
            token = {"access_token": self.issued_token(), "token_type": "Bearer", "expires_in": 3600}  # nosec B105
            return _json(token)
        if path == "/v1/me":
            bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            valid = {api_token(self.apex), self.issued_token()}
            if bearer not in valid:
                return _json({"error": "unauthorized"}, 401, [("WWW-Authenticate", 'Bearer realm="api"')])
            page = _json(
                {"user": {"email": ACCOUNT_EMAIL, "plan": "pro"}, "projects": [{"name": "Launch", "live": True}]}
            )
            if self.flaw == Flaw.SLOW_API:
                page.delay = SLOW_API_DELAY
            return page
        if path == "/webhooks/stripe":
            return self._webhook(request)
        return _json({"error": "not_found"}, 404)

    def _webhook(self, request: Request) -> Page:
        if request.method != "POST":
            return _json({"error": "method_not_allowed"}, 405, [("Allow", "POST")])
        if self.flaw == Flaw.WEBHOOK_REDIRECTS:
            return Page(status=301, location=f"https://api.{self.apex}/webhooks/stripe/", headers=JSON)
        if self.flaw == Flaw.WEBHOOK_UNSIGNED:
            return _json({"received": True})
        header = request.headers.get("stripe-signature", "")
        fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        timestamp = fields.get("t", "")
        if not timestamp.isdigit():
            return _json({"error": "No signatures found matching the expected signature for payload"}, 400)
        expected = webhook_signature(self.apex, request.body, int(timestamp)).split("v1=", 1)[1]
        if not hmac.compare_digest(fields.get("v1", ""), expected):
            return _json({"error": "No signatures found matching the expected signature for payload"}, 400)
        return _json({"received": True})


# apex -> flaw: the healthy app and one domain for each way it breaks.
SAAS_APPS: dict[str, Flaw] = {
    "saas-app.test": Flaw.NONE,
    "saas-cookie-host.test": Flaw.COOKIE_WRONG_HOST,
    "saas-loop.test": Flaw.LOOP_AFTER_SIGN_IN,
    "saas-csrf.test": Flaw.CSRF_REJECTED,
    "saas-dashboard-500.test": Flaw.DASHBOARD_500,
    "saas-slow-api.test": Flaw.SLOW_API,
    "saas-webhook-redirect.test": Flaw.WEBHOOK_REDIRECTS,
    "saas-webhook-unsigned.test": Flaw.WEBHOOK_UNSIGNED,
}
APEX_OF = {flaw: apex for apex, flaw in SAAS_APPS.items()}
