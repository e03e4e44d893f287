"""Deploy markers: per-client API tokens (stored as a prefix and an HMAC, shown once), and recording a
deploy from the client's CI, which queues its smoke test once the deploy is committed."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from launchready.models import Client
from monitoring.models import ApiToken, Deploy
from monitoring.tasks import smoke_test_task


def _digest(secret: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


def token_create(*, client: Client, name: str, user: User | None) -> tuple[ApiToken, str]:
    """A new token; the full value is returned once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(30)
    token = ApiToken.objects.create(client=client, name=name, prefix=prefix, digest=_digest(secret), created_by=user)
    return token, f"lr_{prefix}_{secret}"


@dataclass(frozen=True)
class TokenCheck:
    """What a presented token turned out to be: a live token, or why it was refused (never its secret).
    `prefix` is set only when the prefix belongs to a live token and the secret did not match."""

    token: ApiToken | None = None
    refusal: str = ""
    prefix: str = ""


def token_check(value: str) -> TokenCheck:
    """The live token this value belongs to, compared in constant time, or the reason it is refused."""
    parts = value.strip().split("_", 2)
    if not value.strip():
        return TokenCheck(refusal="no token")
    if len(parts) != 3 or parts[0] != "lr" or not parts[1] or not parts[2]:
        return TokenCheck(refusal="not a Launch Ready token")
    token = ApiToken.objects.select_related("client").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if token is None:
        return TokenCheck(refusal="unknown or revoked token")
    if not hmac.compare_digest(token.digest, _digest(parts[2])):
        return TokenCheck(refusal=f"wrong secret for token #{token.pk}", prefix=token.prefix)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return TokenCheck(token=token)


def deploy_record(*, token: ApiToken, version: str, commit: str, environment: str) -> Deploy:
    deploy = Deploy.objects.create(
        client=token.client, token=token, version=version, commit=commit, environment=environment or "production"
    )
    transaction.on_commit(lambda: smoke_test_task.delay(deploy.id))
    return deploy
