"""Text that states a password: "password is Winter2026!!", "pw: letmein", "login: bob / hunter2",
"bob:hunter2", or just "Winter2026!!". The access inventory keeps where each login lives, never the
login itself, so such text is refused, while sentences that only say where a password is ("the
password is in Bitwarden", "Password manager: 1Password") are not."""

from __future__ import annotations

import re

# A word that names a password: "password", "passwords", "pass", "passphrase", "pw", "pwd", "PIN"...
_PASSWORD_WORD = r"(?:pass(?:word|wd|phrase|code)?s?|pw|pwd|pin|secret)"  # a pattern, not a password  # nosec B105
# ... stated: "password: x", "password=x", "password is x", "password was: x".
STATEMENT = re.compile(rf"\b{_PASSWORD_WORD}\s*(?:[:=]|\s(?:is|was)\b\s*[:=]?)\s*(?P<value>\S+)", re.I)
# "login: bob / hunter2", "credentials: amelia@x.co | Winter2026!!", "user = bob:hunter2".
LOGIN_PAIR = re.compile(
    r"\b(?:log\s?in|user(?:\s?name)?|account|credentials?|creds)\s*(?:[:=]|\s(?:is|are)\b)\s*"
    r"(?P<user>[^\s/:|]+)\s*[/:|]\s*(?P<value>\S+)",
    re.I,
)
# "bob:hunter2", "amelia@brightpath.co:Winter2026!!": a user name, a colon, a secret, with no space.
USER_COLON = re.compile(r"(?<![\w:/.@-])(?P<user>[A-Za-z][\w.+-]*(?:@[\w-]+(?:\.[\w-]+)+)?):(?P<value>[^\s/][^\s]{3,})")

# First words after "password is" that say where it is (or that there is none), not what it is.
_WHERE_WORDS = """in inside within on at under behind kept stored saved held shared managed handled owned set sent known
    reset rotated changed generated via with from through see ask the our a an my his her their its same each
    every not never none n/a unknown only whoever sso 1password bitwarden lastpass dashlane keeper keepass
    keepassxc proton vault google okta apple icloud"""
WHERE = frozenset(_WHERE_WORDS.split())


def _says_where(word: str) -> bool:
    return word.strip(".,;:!?'\"()[]“”‘’«»").lower() in WHERE


def _secretish(word: str) -> bool:
    """A word written like a password: a digit or a symbol in it, and it is no address or URL."""
    if "://" in word or re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", word):
        return False
    return bool(re.search(r"[0-9!#$%^&*+=?~@]", word))


def _bare_password(value: str) -> bool:
    """The whole answer is one word shaped like a password ("Winter2026!!", "P4ssw0rdX"), not like the name
    of a product or a vault ("1Password", "Route53", "AWS-Prod-2"). Longer ones are the key detector's."""
    if not 8 <= len(value) < 20 or re.search(r"\s", value) or _says_where(value) or not _secretish(value):
        return False
    if re.search(r"\.[A-Za-z]{2,}$", value):  # a domain: fly.io, vault.example.com
        return False
    if re.search(r"[!#$%^&*?~+=@]", value):
        return bool(re.search(r"[A-Za-z]", value) and re.search(r"[0-9]", value))
    classes = (r"[a-z]", r"[A-Z]", r"[0-9]")
    return all(re.search(c, value) for c in classes) and not re.search(r"[-_.]", value)


def where_statements_removed(value: str) -> str:
    """The text without its "password is in …" sentences, so that only statements of a password remain."""
    return STATEMENT.sub(lambda m: "" if _says_where(m["value"]) else m[0], value)


def states_a_password(value: str) -> bool:
    value = value.strip()
    if _bare_password(value):
        return True
    if any(not _says_where(m["value"]) for m in STATEMENT.finditer(value)):
        return True
    if any(not _says_where(m["value"]) for m in LOGIN_PAIR.finditer(value)):
        return True
    pairs = [m for m in USER_COLON.finditer(value) if not re.fullmatch(r"\d{1,5}", m["value"])]  # host:port
    if len(pairs) == 1 and pairs[0].span() == (0, len(value)) and not _says_where(pairs[0]["value"]):
        return True  # the whole answer is user:secret
    return any(_secretish(m["value"]) or "@" in m["user"] for m in pairs)
