"""Approving an audit run's DNS records as the baseline the drift watch compares against."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audits.models import AuditRun
from monitoring.models import DnsBaseline
from tests.conftest import Tenant, login

pytestmark = pytest.mark.django_db


def test_the_consultant_approves_a_run_as_the_baseline(tenant: Tenant) -> None:
    run = AuditRun.objects.create(
        domain=tenant.domain,
        state="done",
        inventory=[{"name": "www.example.com", "type": "A", "value": "192.0.2.1", "ttl": 300}],
    )
    assert login(tenant.founder).post(reverse("approve_baseline", args=[run.code])).status_code == 403
    login(tenant.consultant).post(reverse("approve_baseline", args=[run.code]))
    assert DnsBaseline.objects.get(domain=tenant.domain).records == [["www.example.com", "A", "192.0.2.1"]]
