"""A journey step as it ran: the request it sent, each hop with the cookies it carried, held back, set and
refused, the final answer, what it took into variables and what it checked."""

from __future__ import annotations

from dataclasses import dataclass, field

from launchready.net import FetchError, FetchResult
from monitoring.cookies import Cookie, Refusal
from monitoring.journey_steps import StepSpec


@dataclass(frozen=True)
class Explanation:
    summary: str  # one line: what failed
    detail: str  # what it means for a customer, and what was seen
    fix: str  # what to change


@dataclass
class HopRecord:
    method: str
    url: str
    status: int | None = None
    location: str | None = None
    ms: float = 0.0
    error: FetchError | None = None
    detail: str = ""
    sent: list[str] = field(default_factory=list)
    withheld: list[Refusal] = field(default_factory=list)
    set_cookies: list[Cookie] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    set_cookie_lines: list[str] = field(default_factory=list)


@dataclass
class Check:
    label: str
    ok: bool
    detail: str = ""
    kind: str = ""


@dataclass
class StepOutcome:
    """One step as it ran: what it sent, each hop, the final answer, what it took and what it checked."""

    index: int
    step: StepSpec
    url: str = ""
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: str = ""
    request_form: list[tuple[str, str]] = field(default_factory=list)
    hops: list[HopRecord] = field(default_factory=list)
    final: FetchResult | None = None
    body_text: str = ""
    extracted: list[tuple[str, bool, str]] = field(default_factory=list)  # (variable, found, value)
    checks: list[Check] = field(default_factory=list)
    problem: str = ""  # set when the step could not run at all (a missing variable, a refused address)
    loop: list[str] = field(default_factory=list)  # the addresses of a redirect loop, in order
    too_many_redirects: bool = False
    ms: float = 0.0
    queued_ms: float = 0.0  # of ms, how long answers waited for the monitor's own busy loop (not judged)
    explanation: Explanation | None = None
    ran: bool = True

    @property
    def ok(self) -> bool:
        if not self.ran or self.problem or self.loop or self.too_many_redirects or not self.hops:
            return False
        return self.error is None and all(c.ok for c in self.checks)

    @property
    def status(self) -> int | None:
        return self.hops[-1].status if self.hops else None

    @property
    def final_url(self) -> str:
        return self.hops[-1].url if self.hops else self.url

    @property
    def error(self) -> FetchError | None:
        return self.hops[-1].error if self.hops else None

    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]
