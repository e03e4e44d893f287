"""Secrets at rest: channel credentials and received mail are encrypted with Fernet keys from
LAUNCHREADY_ENCRYPTION_KEYS (newest first; MultiFernet decrypts with any of them, so a key can be rotated in)."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret cannot be read with any configured key."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.LAUNCHREADY_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("a stored secret cannot be decrypted with the configured keys") from None


def encrypt_bytes(data: bytes) -> str:
    return fernet().encrypt(data).decode()


def decrypt_bytes(token: str) -> bytes:
    try:
        return fernet().decrypt(token.encode())
    except InvalidToken:
        raise DecryptionError("a stored secret cannot be decrypted with the configured keys") from None


def rotate(token: str) -> str:
    """Re-encrypt with the newest key (MultiFernet.rotate keeps the original timestamp)."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("a stored secret cannot be decrypted with the configured keys") from None
