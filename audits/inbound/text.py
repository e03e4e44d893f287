"""Text from a received message made safe to keep: valid Unicode, no control characters, bounded length."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str, limit: int = 500) -> str:
    """Undecodable bytes (kept as surrogates by the email parser) become U+FFFD, control characters a space,
    and the text is cut to `limit` characters (with an ellipsis)."""
    try:
        data = text.encode("utf-8", errors="surrogateescape")  # the parser's stand-ins for undecodable bytes
    except UnicodeEncodeError:
        data = text.encode("utf-8", errors="surrogatepass")  # any other lone surrogate
    text = data.decode("utf-8", errors="replace")
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
