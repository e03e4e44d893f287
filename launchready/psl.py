"""The Public Suffix List: registrable ("organizational") domains and public suffixes of a name."""

from __future__ import annotations

# One parsed list per process: launchready.domains already caches it, so both modules share that instance.
from launchready.domains import _psl


def _clean(name: str | None) -> str | None:
    """Lower-case, one trailing dot dropped; None for what cannot be a domain name (empty labels, a leading dot)."""
    if name is None:
        return None
    name = name.strip().lower()
    if name.endswith("."):
        name = name[:-1]
    if not name or any(label == "" for label in name.split(".")):
        return None
    return name


def registrable_domain(name: str | None) -> str | None:
    """The registrable domain of a name per the PSL (RFC 7489's "organizational domain"), None for a suffix.

    Unlisted TLDs count as public suffixes (the PSL's implicit "*" rule); IDNs come back in the form they
    were given (Unicode stays Unicode, punycode stays punycode), lower-cased.
    """
    clean = _clean(name)
    if clean is None:
        return None
    return _psl().privatesuffix(clean)


def public_suffix(name: str | None) -> str | None:
    """The public suffix a name ends with ("co.uk" for "shop.example.co.uk"), None when it is not a name."""
    clean = _clean(name)
    if clean is None:
        return None
    return _psl().publicsuffix(clean)


def is_public_suffix(name: str | None) -> bool:
    """True for names such as "com", "co.uk" or "github.io" that nobody owns as a registrable domain."""
    clean = _clean(name)
    return clean is not None and public_suffix(clean) == clean
