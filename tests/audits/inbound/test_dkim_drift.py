"""DKIM drift: the DNS inventory reads the `_domainkey` names of the configured selectors and of those real sends
were signed with, the approved baseline keeps them, and the drift watch sees such a key removed or changed as
email-authentication drift. Sandbox DNS throughout; the real send comes through the real receiver."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from audits.checks.dns import dkim_key_names, record_inventory
from audits.inbound.addresses import address_text, send_test_address_issue
from audits.inbound.dkim_keys import sent_dkim_keys
from audits.models import MailAddress, ReceivedMessage
from audits.target import AuditTarget
from launchready.models import Domain
from launchready.net import Net
from launchready.sandbox.dns_server import ZoneData
from launchready.sandbox.mail_sender import SELECTOR, SELECTOR_1024, SENDER, add_sender_records, send, sender_keys
from launchready.sandbox.runner import Sandbox
from monitoring.models import WatchEvent
from monitoring.watches import baseline_approve, watch_drift
from tests.audits.inbound.conftest import MAIL_DOMAIN, Running
from tests.audits.inbound.test_receiver import verdict_of
from tests.conftest import Tenant, make_tenant
from tests.factories import DomainFactory

CONFIGURED = f"{SELECTOR_1024}._domainkey.{SENDER}"  # the selector the consultant entered
SENT = f"{SELECTOR}._domainkey.{SENDER}"  # the selector only the real send showed


def zone(*, drop: str = "", change: str = "") -> ZoneData:
    """The sending domain's records; without the key at `drop`, or with another key at `change`."""
    full = ZoneData()
    add_sender_records(full, sender_keys())
    out = ZoneData()
    for record in full.records:
        if record.name == drop:
            continue
        if record.name == change:
            out.add(record.name, record.rdtype, record.value.replace("p=MII", "p=MIJ"), record.ttl)
            continue
        out.add(record.name, record.rdtype, record.value, record.ttl)
    return out


@pytest.fixture
def sender_dns() -> Iterator[Sandbox]:
    with Sandbox(zone()) as sandbox:
        yield sandbox


@pytest.fixture
def sending(transactional_db: None) -> tuple[Tenant, Domain, str]:
    tenant = make_tenant()
    domain = DomainFactory(client=tenant.client, name=SENDER, dkim_selectors=[SELECTOR_1024], mail_providers=[])
    return tenant, domain, address_text(send_test_address_issue(client=tenant.client), MAIL_DOMAIN)


def inventory(domain: Domain, sandbox: Sandbox) -> list[dict[str, object]]:
    target = AuditTarget.from_domain(domain)  # as the lifecycle builds it, before the audit's event loop

    async def run() -> list[dict[str, object]]:
        async with Net(sandbox.net_config()) as net:
            records = await record_inventory(target, net)
        return [{"name": r.name, "type": r.rdtype, "value": r.value, "ttl": r.ttl} for r in records]

    return asyncio.run(run())


def approved_inventory(
    receiver: Running, sending: tuple[Tenant, Domain, str], sandbox: Sandbox
) -> list[dict[str, object]]:
    """A real send signed with SELECTOR, then the audit's inventory of the sending domain, approved as baseline."""
    tenant, domain, to = sending
    send("aligned", to, host="127.0.0.1", port=receiver.port, keys=sender_keys())
    verdict_of(receiver.stored[-1], sandbox)
    records = inventory(domain, sandbox)
    baseline_approve(domain=domain, inventory=records, user=tenant.consultant)
    return records


def drift_against(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> int:
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    return watch_drift()


def test_the_inventory_reads_configured_and_sent_dkim_keys(
    receiver: Running, sending: tuple[Tenant, Domain, str], sender_dns: Sandbox
) -> None:
    _, domain, _ = sending
    assert SENT not in dkim_key_names(AuditTarget.from_domain(domain))  # not a selector anyone configured
    records = approved_inventory(receiver, sending, sender_dns)
    assert sent_dkim_keys(domain.client_id, SENDER) == [SENT]
    keys = {r["name"]: r["value"] for r in records if r["type"] == "TXT" and "._domainkey." in str(r["name"])}
    assert set(keys) == {CONFIGURED, SENT}
    assert all(str(v).startswith("v=DKIM1; k=rsa; p=") for v in keys.values())


def test_a_removed_dkim_key_is_email_drift(
    receiver: Running,
    sending: tuple[Tenant, Domain, str],
    sender_dns: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    approved_inventory(receiver, sending, sender_dns)
    assert drift_against(sender_dns, monkeypatch) == 0  # as approved
    with Sandbox(zone(drop=CONFIGURED)) as changed:
        assert drift_against(changed, monkeypatch) == 1
    event = WatchEvent.objects.get()
    assert event.kind == WatchEvent.Kind.EMAIL_DRIFT
    assert [r.split(" ")[:2] for r in event.detail["removed"]] == [[CONFIGURED, "TXT"]]
    assert event.detail["added"] == []


def test_a_changed_dkim_key_is_email_drift(
    receiver: Running,
    sending: tuple[Tenant, Domain, str],
    sender_dns: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    approved_inventory(receiver, sending, sender_dns)
    with Sandbox(zone(change=SENT)) as changed:
        assert drift_against(changed, monkeypatch) == 1
    event = WatchEvent.objects.get()
    assert event.kind == WatchEvent.Kind.EMAIL_DRIFT
    assert [r.split(" ")[0] for r in event.detail["removed"]] == [SENT]
    assert [r.split(" ")[0] for r in event.detail["added"]] == [SENT]
    assert "p=MIJ" in event.detail["added"][0]


def test_only_the_clients_own_well_formed_signatures_count(sending: tuple[Tenant, Domain, str]) -> None:
    tenant, domain, _ = sending
    other = make_tenant()
    for client, signatures in (
        (
            tenant.client,
            [
                {"domain": f"mail.{SENDER}", "selector": "sub"},  # a name under the domain counts
                {"domain": "elsewhere.test", "selector": "x"},  # another domain's key is not this inventory's
                {"domain": SENDER, "selector": "bad selector\n"},  # s= noise is no name to ask
                {"domain": SENDER, "selector": "a" * 300},
            ],
        ),
        (other.client, [{"domain": SENDER, "selector": "theirs"}]),
    ):
        address = MailAddress.objects.create(client=client, kind=MailAddress.Kind.SEND_TEST)
        ReceivedMessage.objects.create(
            address=address,
            peer="127.0.77.10",
            recipient="x@" + MAIL_DOMAIN,
            wipe_after="2099-01-01T00:00:00Z",
            state=ReceivedMessage.State.VERIFIED,
            verdict={"results": {"dkim": signatures}},
        )
    assert sent_dkim_keys(tenant.client.id, SENDER) == [f"sub._domainkey.mail.{SENDER}"]
    assert sent_dkim_keys(domain.client_id, "elsewhere.test") == ["x._domainkey.elsewhere.test"]
