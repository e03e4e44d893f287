"""The journey cookie jar keeps and sends cookies by a browser's rules, and says why it refused or held one back."""

from __future__ import annotations

from monitoring.cookies import CookieJar, default_path, parse_set_cookie, path_match

APP = "https://app.example.com/login"


def _jar(*lines: str, url: str = APP) -> tuple[CookieJar, list[str]]:
    jar = CookieJar()
    _, refused = jar.store(url, list(lines))
    return jar, [r.reason for r in refused]


def test_a_host_only_cookie_goes_to_its_host_alone() -> None:
    jar, refused = _jar("sessionid=s1; Path=/; Secure; HttpOnly")
    assert refused == []
    assert jar.header_for("https://app.example.com/dashboard")[0] == "sessionid=s1"
    header, sent, withheld = jar.header_for("https://example.com/dashboard")
    assert header == "" and sent == []
    assert withheld[0].host_mismatch
    assert withheld[0].reason == (
        "set by app.example.com for that host only (no Domain attribute), so example.com never gets it"
    )


def test_a_domain_cookie_covers_the_domain_and_its_sub_domains() -> None:
    jar, _ = _jar("sessionid=s1; Domain=.example.com; Path=/")
    for url in ("https://example.com/", "https://www.example.com/a", "https://app.example.com/"):
        assert jar.header_for(url)[0] == "sessionid=s1", url
    assert jar.header_for("https://example.org/")[0] == ""
    assert jar.header_for("https://notexample.com/")[0] == ""


def test_cookies_a_browser_refuses_are_refused_with_the_reason() -> None:
    _, refused = _jar(
        "a=1; Domain=other.com",
        "b=2; Domain=com",
        "c=3; Domain=www.app.example.com",
        "__Host-d=4; Path=/; Domain=example.com; Secure",
        "no-equals-sign",
    )
    assert refused[0] == (
        "app.example.com set it for Domain=other.com, a domain app.example.com is not part of: browsers refuse it"
    )
    assert "Domain=com" in refused[1] and "browsers refuse it" in refused[1]
    assert "Domain=www.app.example.com" in refused[2]
    assert refused[3] == "a __Host- cookie must be Secure, have Path=/ and no Domain"
    assert refused[4] == "a Set-Cookie line without a name=value pair"
    _, insecure = _jar("s=1; Secure", url="http://app.example.com/")
    assert insecure == ["marked Secure but set over plain http: browsers refuse it"]


def test_path_secure_and_expiry_rules() -> None:
    jar, _ = _jar("admin=1; Path=/admin", "s=2; Secure; Path=/")
    assert jar.header_for("https://app.example.com/admin/users")[0] == "admin=1; s=2"  # longest path first
    header, _, withheld = jar.header_for("https://app.example.com/administrator")
    assert header == "s=2" and withheld[0].reason == "kept for the path /admin only"
    header, _, withheld = jar.header_for("http://app.example.com/")
    assert header == "" and {r.name: r.reason for r in withheld}["s"] == "marked Secure, so it is sent over https only"
    jar.store(APP, ["s=; Path=/; Max-Age=0"])  # a sign-out deletes it
    assert jar.get("s") is None
    jar.store(APP, ["t=1; Path=/; Expires=Wed, 21 Oct 2015 07:28:00 GMT"])
    assert jar.get("t") is None
    jar.store(APP, ["u=1; Path=/; Max-Age=3600"])
    assert jar.get("u") is not None and jar.get("u").expires is not None  # type: ignore[union-attr]


def test_a_cookie_set_again_replaces_itself_and_the_jar_is_bounded() -> None:
    jar, _ = _jar("s=1; Path=/")
    jar.store(APP, ["s=2; Path=/"])
    assert jar.header_for(APP)[0] == "s=2" and len(jar) == 1
    _, refused = jar.store(APP, [f"c{i}=x" for i in range(60)])
    assert len(jar) == 50 and refused[-1].reason == "the journey already holds 50 cookies"
    _, refused = jar.store(APP, ["big=" + "x" * 5000])
    assert "longer than 4096 bytes" in refused[0].reason


def test_the_parts_of_a_set_cookie_line_and_default_paths() -> None:
    assert parse_set_cookie('id="a b"; Path=/x; SameSite=Lax; HttpOnly') == (
        "id",
        "a b",
        {"path": "/x", "samesite": "Lax", "httponly": ""},
    )
    assert default_path("/account/login") == "/account"
    assert default_path("/login") == "/"
    assert path_match("/docs/", "/docs") and path_match("/docs/a", "/docs/") and not path_match("/docsx", "/docs")
