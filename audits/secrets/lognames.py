"""What a logged name stands for: the words of an identifier, attribute, key or header name, and the log-hygiene
rule it falls under (a password, a token, an API key or other secret, an Authorization header, a cookie, whole
request headers or a whole request body, a card number, an email address), or none.

Names only: a value is never looked at. The noun that ends a name decides (`access_token` is a token,
`token_count` is a count), and a word before it can take it back (`hashed_password`, `masked_token`,
`next_page_token`, `from_email`)."""

from __future__ import annotations

import re

PASSWORD = "secrets.log.password"  # a rule id  # nosec B105
TOKEN = "secrets.log.token"  # a rule id  # nosec B105
API_KEY = "secrets.log.api_key"
AUTHORIZATION = "secrets.log.authorization"
COOKIE = "secrets.log.cookie"
HEADERS = "secrets.log.headers"
BODY = "secrets.log.request_body"
CARD = "secrets.log.card"
EMAIL = "secrets.log.email"
# rule id -> what a finding says is logged
RULES: dict[str, str] = {
    PASSWORD: "a password",
    TOKEN: "a token",
    API_KEY: "an API key or secret",
    AUTHORIZATION: "an Authorization header",
    COOKIE: "a cookie or session id",
    HEADERS: "whole request headers",
    BODY: "a whole request body",
    CARD: "a card number",
    EMAIL: "an email address",
}
LOG_RULE_IDS = frozenset(RULES)
# Not a rule: the finding that names the source files too large for the rules to read.
UNCHECKED = "secrets.log.unchecked"

_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# A word anywhere in the name that says the value is not the secret itself.
_NOT_THE_VALUE = {
    "hash", "hashed", "digest", "mask", "masked", "redact", "redacted", "obfuscated", "truncated", "encrypted",
    "has", "is", "count", "len", "length", "min", "max", "should", "can", "needs", "require", "required",
    "requires", "use", "uses", "valid", "invalid", "validate", "fake", "dummy", "example", "sample",
    "placeholder", "mock",
}  # fmt: skip
_PAGING = {"page", "next", "prev", "previous", "cursor", "continuation", "sync", "pagination", "paging"}
_NOT_PERSONAL = {"from", "sender", "support", "default", "noreply", "system", "site", "smtp", "template", "server"}
_KEY_KINDS = {
    "api", "secret", "private", "access", "signing", "sign", "encryption", "enc", "master", "auth", "service",
    "app", "client", "license", "licence", "webhook", "hmac", "jwt", "stripe", "openai", "anthropic", "aws",
    "gcp", "google", "gemini", "github", "sendgrid", "twilio", "mailgun", "supabase", "firebase",
}  # fmt: skip
_PASSWORDS = {"password", "passwords", "passwd", "passphrase", "pwd", "pw"}
_TOKENS = {"token", "jwt", "bearer", "accesstoken", "refreshtoken", "idtoken", "authtoken", "sessiontoken"}
_SECRETS = {"apikey", "secretkey", "privatekey", "accesskey", "secret", "clientsecret", "credentials", "credential"}
_CARDS = {"pan", "cvv", "cvc", "ccnum", "ccnumber", "cardnumber", "creditcard", "creditcardnumber", "cardno", "ccn"}
_COOKIES = {"cookie", "cookies", "sessionid", "sessid", "phpsessid"}
# A cookie read from the request's cookies by a name with one of these words (`req.cookies.session`,
# `cookies[:remember_token]`, `$_COOKIE['connect.sid']`) is a session's or a sign-in's: a theme or consent cookie
# is not.
_SESSION_WORDS = {
    "session", "sess", "sid", "ssid", "auth", "remember", "login", "signin", "jwt", "identity", "access", "refresh",
    "connect",
}  # fmt: skip
_EMAILS = {"email", "emails", "emailaddress"}
# Connection strings with the database's password in them.
_HOLD_A_PASSWORD = {("database", "url"), ("db", "url"), ("connection", "string"), ("conn", "string"), ("conn", "str")}

# The part of a request that holds everything sent: its body, its headers (Authorization and Cookie among them).
_REQUESTS = {"request", "req", "rq", "httprequest"}
_BODIES = {
    "body", "rawbody", "data", "post", "form", "json", "getjson", "values", "rawpost", "postform", "all", "input",
    "getcontent", "getparsedbody", "content", "payload", "text",
}  # fmt: skip
_HEADER_SETS = {"headers", "header", "meta", "environ", "env", "rawheaders", "getheaders", "allheaders"}
_WHOLE_HEADERS = {"headers", "getallheaders", "apacherequestheaders"}  # a name that is all the headers on its own
_PHP_BODIES = {"$_POST", "$_REQUEST", "$_GET"}
# The whole environment, every key the app was given among it.
_ENVIRONMENTS = {("process", "env"), ("os", "environ"), ("$_ENV",), ("os", "Environ"), ("getenv",)}


def words(name: str) -> list[str]:
    """`HTTP_AUTHORIZATION` -> http, authorization; `apiKey` -> api, key; `x-api-key` -> x, api, key."""
    return [part.lower() for part in _PART.findall(name) if not part.isdigit()]


def rule_of_words(parts: list[str]) -> str | None:
    """The rule a name made of these words falls under, or None."""
    if not parts or any(word in _NOT_THE_VALUE for word in parts):
        return None
    last = parts[-1]
    pair = (parts[-2], last) if len(parts) > 1 else ("", last)
    if last in _CARDS or pair in {("card", "number"), ("card", "num"), ("card", "no"), ("cc", "number"),
                                  ("cc", "num"), ("credit", "card")}:  # fmt: skip
        return CARD
    if last in {"authorization", "authheader"} or pair in {("auth", "header"), ("authorization", "header")}:
        return AUTHORIZATION
    if last in _COOKIES or pair in {("session", "id"), ("session", "key")}:
        return COOKIE
    if (
        last in _PASSWORDS
        or pair in _HOLD_A_PASSWORD
        or (last == "pass" and len(parts) > 1)
        or (last == "confirmation" and "password" in parts)
        or (len(parts) == 1 and last.endswith("password"))
    ):
        return PASSWORD
    if last in _TOKENS or (len(parts) == 1 and last.endswith("token")):
        return None if pair[0] in _PAGING else TOKEN
    if last in _SECRETS or (last == "key" and pair[0] in _KEY_KINDS) or parts[-3:] == ["secret", "key", "base"]:
        return API_KEY
    if last in _EMAILS or pair in {("email", "address"), ("email", "addr"), ("e", "mail"), ("mail", "address")}:
        return None if any(word in _NOT_PERSONAL for word in parts) else EMAIL
    return None


# The last word of a name that says what the value is, whatever the label before it ("credential: %s", cred_id).
_OWN_KIND = {"id", "ids", "uuid", "pk", "name", "names", "type", "kind", "count", "size", "index", "idx", "status"}


def speaks_for_itself(name: str) -> bool:
    """Whether a name says what its value is (an id, a name, a count), so that a label before it does not count."""
    parts = words(name)
    return bool(parts) and (parts[-1] in _OWN_KIND or any(word in _NOT_THE_VALUE for word in parts))


def _bare(segment: str) -> str:
    return segment.lstrip("$@:").replace("_", "").lower()


def _is_cookie_jar(segment: str) -> bool:
    """`cookies`, `COOKIES`, `$_COOKIE`, `signedCookies`: the request's cookies, read one by one after it."""
    parts = words(segment)
    return bool(parts) and parts[-1] in ("cookie", "cookies")


def rule_of_path(path: list[str], language: str) -> str | None:
    """The rule for a name expression given as its segments (`request.headers` is request, headers;
    `params[:password]` is params, password; `[]` stands for an index that is not a name), or None."""
    entry = path
    while entry and entry[-1] == "[]":
        entry = entry[:-1]  # passwords[0] is one of the passwords
    if not entry:
        return None
    found = rule_of_words(words(entry[-1]))
    if found is None and len(entry) > 1 and any(_is_cookie_jar(segment) for segment in entry[:-1]):
        parts = words(entry[-1])
        if _SESSION_WORDS.intersection(parts) and not _NOT_THE_VALUE.intersection(parts):
            return COOKIE  # one cookie of the request's, read by its name
    if found or entry is not path:
        return found  # headers[name] is one header, which one is not known
    last = path[-1]
    if tuple(path) in _ENVIRONMENTS or (language == "ruby" and path == ["ENV"]):
        return API_KEY
    bare = _bare(last)
    base = _bare(path[-2]) if len(path) > 1 else ""
    if base in _REQUESTS or (language == "go" and base == "r") or base == "event":
        if bare in _HEADER_SETS:
            return HEADERS
        if bare in _BODIES and (base != "event" or bare == "body"):
            return BODY
        if bare == "params" and language in ("ruby", "php", "python"):
            return BODY
    if len(path) == 1:
        if last in _PHP_BODIES or (language == "ruby" and last == "params"):
            return BODY
        if last == "$_SERVER" or bare in _WHOLE_HEADERS:
            return HEADERS
    return None
