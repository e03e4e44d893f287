"""The DKIM keys a client's real sends were signed with: the `<selector>._domainkey` names under a domain that the
latest judged messages' signatures point at (d= and s=), so that the DNS inventory reads them and the drift watch
sees such a key removed or changed even when no one configured its selector."""

from __future__ import annotations

import re

from audits.models import MailAddress, ReceivedMessage

MESSAGES_READ = 50  # the latest judged real sends of the client
KEYS_KEPT = 10  # names per domain, at most
# A selector is one or more DNS labels (RFC 6376 3.1); anything else in s= is the sender's noise, not a name to ask.
SELECTOR = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?)*")


def sent_dkim_keys(client_id: int, apex: str) -> list[str]:
    """The key names (`<selector>._domainkey.<d=>`) of signatures whose d= is `apex` or a name under it, newest
    message first, without repeats."""
    apex = apex.lower().rstrip(".")
    verdicts = (
        ReceivedMessage.objects.filter(
            address__client_id=client_id,
            address__kind=MailAddress.Kind.SEND_TEST,
            state=ReceivedMessage.State.VERIFIED,
        )
        .order_by("-received", "-id")
        .values_list("verdict", flat=True)[:MESSAGES_READ]
    )
    names: list[str] = []
    for verdict in verdicts:
        results = verdict.get("results") if isinstance(verdict, dict) else None
        signatures = results.get("dkim") if isinstance(results, dict) else None
        for signature in signatures if isinstance(signatures, list) else []:
            if not isinstance(signature, dict):
                continue
            domain = str(signature.get("domain", "")).lower().rstrip(".")
            selector = str(signature.get("selector", "")).lower()
            if domain != apex and not domain.endswith(f".{apex}"):
                continue
            name = f"{selector}._domainkey.{domain}"
            if SELECTOR.fullmatch(selector) and len(name) < 254 and name not in names:
                names.append(name)
    return names[:KEYS_KEPT]
