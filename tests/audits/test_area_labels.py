"""Areas are named as people write them: DNS, TLS, HTTP headers; never the value title-cased ("Dns")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audits.findings import AREA_LABELS, Area
from tests.conftest import Tenant, login


def test_it_has_a_label_for_every_area() -> None:
    assert set(AREA_LABELS) == set(Area)
    assert all(AREA_LABELS.values())


@pytest.mark.parametrize(
    ("area", "label"), [(Area.DNS, "DNS"), (Area.TLS, "TLS"), (Area.EMAIL, "Email"), (Area.HEADERS, "HTTP headers")]
)
def test_it_writes_acronyms_in_capitals(area: Area, label: str) -> None:
    assert area.label == label


@pytest.mark.django_db
def test_the_risk_list_filter_names_the_areas_in_words(tenant: Tenant) -> None:
    page = login(tenant.consultant).get(reverse("client_risks", args=[tenant.client.code])).content.decode()
    assert '<option value="dns">DNS</option>' in page and '<option value="tls">TLS</option>' in page
    assert ">HTTP headers</option>" in page
    assert ">Dns<" not in page and ">Tls<" not in page
