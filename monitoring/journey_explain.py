"""A failing journey step in plain English: what the customer meets, why (from the hops, the cookies they
carried and held back, and the answer), and what to change. The first matching reason wins, from the most
specific (a session lost between hosts, a redirect loop, a forged-request refusal) to the most general."""

from __future__ import annotations

from urllib.parse import urlsplit

from launchready.formatting import latency, status_words
from launchready.net import FetchError
from launchready.psl import registrable_domain
from monitoring.journey_results import Explanation, StepOutcome
from monitoring.journey_steps import SOURCES, variables_in

SIGN_IN_WORDS = ("login", "log-in", "signin", "sign-in", "sign_in", "auth")
CSRF_WORDS = ("csrf", "forgery", "xsrf", "authenticity token")


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _path(url: str) -> str:
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return "/"


def _short(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return f"{parts.hostname}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


NETWORK = {
    FetchError.DNS: ("does not resolve", "Check the host's DNS record (A, AAAA or CNAME) at the DNS provider."),
    FetchError.TLS: (
        "fails its TLS handshake",
        "Renew or fix the certificate so that it is valid for the host and sent with its full chain.",
    ),
    FetchError.CONNECT: (
        "refuses the connection",
        "Check that the server or platform is up and listening on the port.",
    ),
    FetchError.TIMEOUT: (
        "did not answer in time",
        "Find what holds the answer up (a stuck server, a slow dependency).",
    ),
    FetchError.PROTOCOL: ("answered with something that is not HTTP", "Check the server or proxy in front of the app."),
    FetchError.REFUSED: (
        "resolves to a private or reserved address, which is never probed",
        "Point the host at the app's public address.",
    ),
    FetchError.BAD_URL: ("is not a valid address", "Correct the step's address."),
}


def explain(outcome: StepOutcome, earlier: list[StepOutcome]) -> Explanation:
    name = f"“{outcome.step.name}”"
    reasons = (
        _could_not_run,
        _network,
        _lost_session,
        _loop,
        _too_many,
        _csrf,
        _server_error,
        _signed_out,
        _form_again,
    )
    for reason in reasons:
        found = reason(outcome, earlier, name)
        if found is not None:
            return found
    return _failed_checks(outcome, name)


def _could_not_run(outcome: StepOutcome, earlier: list[StepOutcome], name: str) -> Explanation | None:
    if not outcome.problem:
        return None
    return Explanation(
        f"{name} could not run: {outcome.problem}",
        f"The step was not sent: {outcome.problem}. The steps after it did not run either.",
        "Edit the step (or the step that should provide its variable) and run the journey again.",
    )


def _network(outcome: StepOutcome, earlier: list[StepOutcome], name: str) -> Explanation | None:
    error = outcome.error
    if error is None or error in (FetchError.REDIRECT_LOOP, FetchError.TOO_MANY_REDIRECTS):
        return None
    hop = outcome.hops[-1]
    words, fix = NETWORK.get(error, ("could not be reached", "Check the host."))
    host = _host(hop.url)
    after = f" (after {len(outcome.hops) - 1} redirects)" if len(outcome.hops) > 1 else ""
    return Explanation(
        f"{name}: {host} {words}",
        f"{host}{after} {words}: {hop.detail}. A customer gets an error page instead of the app.",
        fix,
    )


def _session_cookie_lost(outcome: StepOutcome) -> tuple[str, str, str] | None:
    """(cookie, why it was held back, the host that did not get it) of a cookie held back for its host: one
    set in this very step first (the session a sign-in just set), then one named like a session."""
    set_here = {c.name for h in outcome.hops for c in h.set_cookies}
    lost = [(r, _host(h.url)) for h in outcome.hops for r in h.withheld if r.host_mismatch]
    if not lost:
        return None
    refusal, host = min(lost, key=lambda item: (item[0].name not in set_here, "sess" not in item[0].name.lower()))
    return refusal.name, refusal.reason, host


def _cookie_origin(outcome: StepOutcome, earlier: list[StepOutcome], cookie: str) -> tuple[str, str] | None:
    """(the host that set the cookie, the step it did so in)."""
    for step in [*earlier, outcome]:
        for hop in step.hops:
            if any(c.name == cookie for c in hop.set_cookies):
                return _host(hop.url), step.step.name
    return None


def _lost_session(outcome: StepOutcome, earlier: list[StepOutcome], name: str) -> Explanation | None:
    refused = next((r for h in outcome.hops for r in h.refused if r.host_mismatch), None)
    if refused is not None:
        return Explanation(
            f"{name}: the cookie {refused.name} is refused by browsers",
            f"The cookie {refused.name} is never kept: {refused.reason}. Whatever it carries (the session, the "
            "form's token) is gone by the next request, so the customer is signed out again.",
            "Set the cookie's Domain to the host itself or to a domain it belongs to, or leave Domain out.",
        )
    lost = _session_cookie_lost(outcome)
    if lost is None or not _looks_signed_out(outcome):
        return None
    cookie, reason, target = lost
    origin = _cookie_origin(outcome, earlier, cookie)
    setter, where = origin if origin else ("another host", "an earlier step")
    landed = outcome.hops[-1]
    ending = f"{_short(landed.url)} answered {status_words(landed.status)}"
    if outcome.loop:
        ending = "the browser then goes round a redirect loop"
    parent = registrable_domain(target) or target
    scope = "for that host only (no Domain attribute)" if "for that host only" in reason else reason
    return Explanation(
        f"{name}: the session is lost on the way to {target}: {cookie} was set for {setter} only",
        f"The cookie {cookie} was set by {setter} in “{where}”, {scope}. The journey was then sent to {target}, "
        f"which never receives it, and {ending}: a customer who signs in lands signed out.",
        f"Set {cookie} with Domain={parent} so that every host of the domain receives it, or keep the redirect "
        f"after sign-in on {setter} (check the app's base or canonical URL setting after a domain change).",
    )


def _looks_signed_out(outcome: StepOutcome) -> bool:
    """The step failed the way a missing session fails: sent to sign in, refused, looping, or shown the form
    again; and it did not rely on a bearer token instead of cookies."""
    if any(n.lower() == "authorization" for n, _ in outcome.request_headers):
        return False
    on_sign_in = any(w in _path(outcome.final_url).lower() for w in SIGN_IN_WORDS)
    return bool(outcome.loop) or on_sign_in or outcome.status in (401, 403) or 'type="password"' in outcome.body_text


def _loop(outcome: StepOutcome, earlier: list[StepOutcome], name: str) -> Explanation | None:
    if not outcome.loop:
        return None
    cycle = " → ".join(_short(u) for u in outcome.loop)
    signed_in = any(h.sent for h in outcome.hops)
    carried = sorted({c for h in outcome.hops for c in h.sent})
    detail = f"The answers go round in a circle: {cycle}. A browser stops with “too many redirects”."
    if signed_in:
        detail += (
            f" The browser carries its cookies ({', '.join(carried)}) on every hop, so one page takes the customer "
            "as signed in and sends them on, and the other does not and sends them back: "
            "a customer who signs in never reaches the page."
        )
    return Explanation(
        f"{name} ends in a redirect loop: {cycle}",
        detail,
        "Make every page read the session the same way (the same cookie name, domain and signing key on each "
        "host and server), and make the page for signed-in people never redirect to the sign-in page and back.",
    )


def _too_many(outcome: StepOutcome, earlier: list[StepOutcome], name: str) -> Explanation | None:
    if not outcome.too_many_redirects:
        return None
    return Explanation(
        f"{name} is redirected more than {len(outcome.hops) - 1} times",
        f"Each answer sends the browser somewhere else ({_short(outcome.hops[0].url)} to "
        f"{_short(outcome.hops[-1].url)} and on); browsers give up long before a customer gets anywhere.",
        "Send the browser to its final address in one redirect.",
    )


def _csrf(outcome: StepOutcome, earlier: list[StepOutcome], name: str) -> Explanation | None:
    status = outcome.status
    if outcome.step.method == "GET" or status not in (400, 403, 419, 422):
        return None
    if not any(word in outcome.body_text.lower() for word in CSRF_WORDS):
        return None
    sent_back = [
        v for v in _variables_used(outcome) if any(v == var for e in earlier for var, ok, _ in e.extracted if ok)
    ]
    token = (
        f" The form's own token ({', '.join('{{' + v + '}}' for v in sent_back)}, taken from the page before) "
        "was sent back with the cookies the page had set, as a browser sends it."
        if sent_back
        else ""
    )
    host = _host(outcome.url)
    return Explanation(
        f"{name} was refused as a cross-site request forgery: {status_words(status)}",
        f"{_short(outcome.url)} answered {status_words(status)} and says the request failed its CSRF check.{token} "
        "Every customer's form is refused the same way: nobody can sign in.",
        f"Add https://{host} to the app's trusted origins (Django's CSRF_TRUSTED_ORIGINS, for one), and check "
        "that a proxy in front of the app keeps the Origin and Referer headers and the CSRF cookie.",
    )


def _variables_used(outcome: StepOutcome) -> list[str]:
    step = outcome.step
    texts = [step.url, step.json_body, *(v for _, v in step.form), *(v for _, v in step.headers)]
    return [name for text in texts for name in variables_in(text)]


def _signed_in_cookies(outcome: StepOutcome) -> list[str]:
    return sorted({c for h in outcome.hops for c in h.sent})


def _server_error(outcome: StepOutcome, earlier: list[StepOutcome], name: str) -> Explanation | None:
    status = outcome.status
    if status is None or status < 500:
        return None
    cookies = _signed_in_cookies(outcome)
    who = " for a signed-in customer" if cookies and earlier else ""
    after = " The steps before it passed: the sign-in works, the page after it does not." if earlier else ""
    return Explanation(
        f"{name} answered {status_words(status)}{who}",
        f"{_short(outcome.final_url)} failed on the server{who}.{after}",
        f"Look in the app's error tracker or logs for the error on {_path(outcome.final_url)} at the time of this run.",
    )


def _signed_out(outcome: StepOutcome, earlier: list[StepOutcome], name: str) -> Explanation | None:
    final_path = _path(outcome.final_url).lower()
    asked_path = _path(outcome.url).lower()
    if len(outcome.hops) < 2 or not any(w in final_path for w in SIGN_IN_WORDS):
        return None
    if any(w in asked_path for w in SIGN_IN_WORDS):
        return None
    cookies = _signed_in_cookies(outcome)
    carried = f" though it carried {', '.join(cookies)}" if cookies else " and carried no session cookie"
    return Explanation(
        f"{name} was sent back to the sign-in page ({_short(outcome.final_url)})",
        f"{_short(outcome.url)} redirected to the sign-in page{carried}: the app did not take the session, so a "
        "customer who has just signed in is asked to sign in again.",
        "Check that the step before signs in (its assertions should show it) and that the session cookie it "
        "sets is sent to this host and path.",
    )


def _form_again(outcome: StepOutcome, earlier: list[StepOutcome], name: str) -> Explanation | None:
    if outcome.step.method != "POST" or 'type="password"' not in outcome.body_text:
        return None
    text = outcome.body_text.lower()
    refused = any(w in text for w in ("wrong", "invalid", "incorrect", "not match", "try again"))
    why = (
        "the app refused the test account's email or password"
        if refused
        else "the app did not sign the account in and shows no reason"
    )
    return Explanation(
        f"{name} answered with the sign-in form again: {why}",
        f"{_short(outcome.final_url)} shows the password field again after the form was posted: {why}.",
        "Check the test account's email and password in the journey's secrets (and that the account exists "
        "and is not locked), then run the journey again."
        if refused
        else "Open the answer below; check the form's field names against the page's form.",
    )


REASONS = (_could_not_run, _network, _lost_session, _loop, _too_many, _csrf, _server_error, _signed_out, _form_again)


def _failed_checks(outcome: StepOutcome, name: str) -> Explanation:
    failed = outcome.failed_checks()
    first = failed[0] if failed else None
    if first is not None and first.kind == "latency":
        return Explanation(
            f"{name} took {latency(outcome.ms)}: {first.detail}",
            f"{_short(outcome.final_url)} answered, but slowly: {first.detail}. A customer waits that long for it; "
            "past a few seconds people leave, and callers with a timeout give up.",
            "Find what the endpoint does on every request (a slow query, a call to another service, a cold start) "
            "or raise the budget if the wait is expected.",
        )
    if first is not None and first.kind == "extraction":
        missing = [
            e for e in outcome.step.extractions if (e.variable, False) in {(v, f) for v, f, _ in outcome.extracted}
        ]
        item = missing[0] if missing else None
        what = f"the {SOURCES.get(item.source, item.source)} {item.expression}" if item else "the extraction"
        variable = f"{{{{{item.variable}}}}}" if item else "a variable"
        return Explanation(
            f"{name} found no value for {variable}",
            f"{what[0].upper()}{what[1:]} matched nothing in the answer from "
            f"{_short(outcome.final_url)}, which answered {status_words(outcome.status)}: the page changed or the "
            "step landed somewhere else, and the next steps need the value.",
            "Open the answer below and correct the selector, path or pattern.",
        )
    if first is not None and first.kind == "status":
        status = outcome.status
        extra = ""
        if status == 401 and any(n.lower() == "authorization" for n, _ in outcome.request_headers):
            extra = " The token sent in the Authorization header was not accepted."
        elif status in (401, 403) and _signed_in_cookies(outcome):
            extra = " The session cookies sent were not accepted."
        return Explanation(
            f"{name} answered {status_words(status)}, where {first.label.removeprefix('Status is ')} was expected",
            f"{_short(outcome.final_url)} answered {status_words(status)}.{extra}",
            "Open the answer below: it usually says what the app expected.",
        )
    details = "; ".join(f"{c.label}: {c.detail}" for c in failed) or "a check failed"
    return Explanation(
        f"{name}: {failed[0].label} failed" if failed else f"{name} failed",
        f"{details}.",
        "Open the answer below to see what the app sent instead.",
    )
