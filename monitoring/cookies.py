"""A journey's cookie jar, with a browser's rules (RFC 6265): a cookie is kept for the host that set it or
the domain it names, for its path, over https only when Secure, until it expires.

Every cookie held but not sent to a request is reported with the reason, and every Set-Cookie refused
with its own: that is how a session lost on a redirect to another host shows itself.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from launchready.psl import is_public_suffix

MAX_COOKIES = 50
MAX_COOKIE_BYTES = 4096


@dataclass
class Cookie:
    name: str
    value: str
    domain: str  # the host that set it (host_only) or the domain its Domain attribute named
    host_only: bool
    path: str
    secure: bool = False
    http_only: bool = False
    same_site: str = ""
    expires: float | None = None  # seconds since the epoch; None: a session cookie

    @property
    def scope(self) -> str:
        """Where the cookie goes, in words: 'app.example.com only' or 'example.com and its sub-domains'."""
        where = f"{self.domain} only" if self.host_only else f"{self.domain} and its sub-domains"
        return where if self.path == "/" else f"{where}, under {self.path}"

    def attributes(self) -> str:
        """Its attributes as a Set-Cookie line would carry them (the value never)."""
        parts = [f"Path={self.path}"]
        if not self.host_only:
            parts.append(f"Domain={self.domain}")
        if self.secure:
            parts.append("Secure")
        if self.http_only:
            parts.append("HttpOnly")
        if self.same_site:
            parts.append(f"SameSite={self.same_site}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Refusal:
    """A cookie not stored or not sent, and why, in plain words."""

    name: str
    reason: str
    host_mismatch: bool = False  # the reason is the host: the sign of a session lost between hosts


def parse_set_cookie(line: str) -> tuple[str, str, dict[str, str]] | None:
    """(name, value, attributes with lower-cased names) of one Set-Cookie value; None when it has no name."""
    first, *rest = line.split(";")
    name, eq, value = first.partition("=")
    name = name.strip()
    if not eq or not name:
        return None
    attributes: dict[str, str] = {}
    for part in rest:
        key, _, val = part.partition("=")
        key = key.strip().lower()
        if key:
            attributes[key] = val.strip()
    return name, value.strip().strip('"'), attributes


def domain_match(host: str, domain: str) -> bool:
    if host == domain:
        return True
    if _is_ip(host):
        return False
    return host.endswith("." + domain)


def default_path(path: str) -> str:
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rindex("/")]


def path_match(request_path: str, cookie_path: str) -> bool:
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _expiry(attributes: dict[str, str], now: float) -> float | None:
    if "max-age" in attributes:
        try:
            return now + int(attributes["max-age"])
        except ValueError:
            pass
    if attributes.get("expires"):
        try:
            return parsedate_to_datetime(attributes["expires"]).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return None


class CookieJar:
    """The cookies of one journey run. `store` takes a response's Set-Cookie lines; `header_for` gives the
    Cookie header of a request with what was held back."""

    def __init__(self) -> None:
        self._cookies: dict[tuple[str, str, str], Cookie] = {}

    def __len__(self) -> int:
        return len(self._cookies)

    def cookies(self) -> list[Cookie]:
        return list(self._cookies.values())

    def get(self, name: str) -> Cookie | None:
        """The cookie of that name (the most specific path first), expired ones left out."""
        now = time.time()
        found = [c for c in self._cookies.values() if c.name == name and (c.expires is None or c.expires > now)]
        return max(found, key=lambda c: len(c.path)) if found else None

    def store(self, url: str, lines: list[str], now: float | None = None) -> tuple[list[Cookie], list[Refusal]]:
        """Keep what a browser would keep of these Set-Cookie lines from `url`; (stored, refused)."""
        now = time.time() if now is None else now
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        stored: list[Cookie] = []
        refused: list[Refusal] = []
        for line in lines:
            parsed = parse_set_cookie(line)
            if parsed is None:
                refused.append(Refusal("(no name)", "a Set-Cookie line without a name=value pair"))
                continue
            name, value, attributes = parsed
            if len(name) + len(value) > MAX_COOKIE_BYTES:
                refused.append(Refusal(name, f"longer than {MAX_COOKIE_BYTES} bytes, which browsers drop"))
                continue
            domain = attributes.get("domain", "").lower().lstrip(".")
            if domain:
                if not domain_match(host, domain):
                    refused.append(
                        Refusal(
                            name,
                            f"{host} set it for Domain={domain}, a domain {host} is not part of: browsers refuse it",
                            host_mismatch=True,
                        )
                    )
                    continue
                if domain != host and is_public_suffix(domain):
                    refused.append(Refusal(name, f"Domain={domain} is a public suffix: browsers refuse it"))
                    continue
            secure = "secure" in attributes
            if secure and parts.scheme != "https":
                refused.append(Refusal(name, "marked Secure but set over plain http: browsers refuse it"))
                continue
            if name.startswith("__Host-") and (domain or not secure or attributes.get("path", "/") != "/"):
                refused.append(Refusal(name, "a __Host- cookie must be Secure, have Path=/ and no Domain"))
                continue
            path = attributes.get("path", "")
            cookie = Cookie(
                name=name,
                value=value,
                domain=domain or host,
                host_only=not domain,
                path=path if path.startswith("/") else default_path(parts.path or "/"),
                secure=secure,
                http_only="httponly" in attributes,
                same_site=attributes.get("samesite", ""),
                expires=_expiry(attributes, now),
            )
            key = (cookie.name, cookie.domain, cookie.path)
            if cookie.expires is not None and cookie.expires <= now:
                self._cookies.pop(key, None)  # an expiry in the past deletes it (a sign-out)
                continue
            if key not in self._cookies and len(self._cookies) >= MAX_COOKIES:
                refused.append(Refusal(name, f"the journey already holds {MAX_COOKIES} cookies"))
                continue
            self._cookies[key] = cookie
            stored.append(cookie)
        return stored, refused

    def header_for(self, url: str, now: float | None = None) -> tuple[str, list[Cookie], list[Refusal]]:
        """The Cookie header for a request to `url`, the cookies in it, and those held back with why."""
        now = time.time() if now is None else now
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        path = parts.path or "/"
        sent: list[Cookie] = []
        withheld: list[Refusal] = []
        for key, cookie in list(self._cookies.items()):
            if cookie.expires is not None and cookie.expires <= now:
                del self._cookies[key]
                continue
            if cookie.host_only and host != cookie.domain:
                withheld.append(
                    Refusal(
                        cookie.name,
                        f"set by {cookie.domain} for that host only (no Domain attribute), so {host} never gets it",
                        host_mismatch=True,
                    )
                )
            elif not cookie.host_only and not domain_match(host, cookie.domain):
                withheld.append(Refusal(cookie.name, f"kept for {cookie.domain}, not {host}", host_mismatch=True))
            elif not path_match(path, cookie.path):
                withheld.append(Refusal(cookie.name, f"kept for the path {cookie.path} only"))
            elif cookie.secure and parts.scheme != "https":
                withheld.append(Refusal(cookie.name, "marked Secure, so it is sent over https only"))
            else:
                sent.append(cookie)
        sent.sort(key=lambda c: -len(c.path))
        return "; ".join(f"{c.name}={c.value}" for c in sent), sent, withheld
