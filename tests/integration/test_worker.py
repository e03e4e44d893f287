"""Invitations travel through the real broker, a real worker and a real SMTP server."""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from accounts.invitations import invitation_create, invitation_for_token
from accounts.models import Invitation, Role
from launchready.sandbox.smtp import SmtpSink, html_body, text_body
from tests.conftest import make_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_invitation_is_emailed_by_the_worker_after_commit(worker, smtp_sink: SmtpSink) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()

    with pytest.raises(RuntimeError), transaction.atomic():
        invitation_create(
            workspace=tenant.client.workspace,
            email="rolled-back@example.com",
            role=Role.CONSULTANT,
            invited_by=tenant.owner,
        )
        raise RuntimeError("the request failed after the invitation was made")

    with transaction.atomic():
        invitation = invitation_create(
            workspace=tenant.client.workspace,
            email="founder@newco.example",
            role=Role.FOUNDER,
            client=tenant.client,
            invited_by=tenant.consultant,
        )

    messages = smtp_sink.wait_for(1, timeout=30)
    assert [m["To"] for m in messages] == ["founder@newco.example"]  # the rolled-back one was never queued
    text, html = text_body(messages[0]), html_body(messages[0])
    token = re.search(r"/invitations/([\w\-]+)/", text).group(1)  # type: ignore[union-attr]
    assert f"/invitations/{token}/" in html
    assert invitation_for_token(token).pk == invitation.pk
    assert Invitation.objects.get(pk=invitation.pk).sent_at is not None
    assert not Invitation.objects.filter(email="rolled-back@example.com").exists()
