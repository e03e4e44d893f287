"""The access inventory: who holds each of the company's logins and where it lives, kept by founders and consultants."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from handover.forms import AccessInventoryForm
from handover.models import AccessEntry
from launchready.models import Client


def access_entries(client: Client) -> dict[str, AccessEntry]:
    return {e.kind: e for e in AccessEntry.objects.filter(client=client)}


@transaction.atomic
def access_inventory_save(*, client: Client, form: AccessInventoryForm, user: User) -> int:
    """Save the rows that changed; returns how many did."""
    entries = access_entries(client)
    changed = 0
    for kind, _ in AccessEntry.Kind.choices:
        values = form.values(kind)
        entry = entries.get(kind)
        if entry is None and not any(values.values()):
            continue
        if entry is not None and all(getattr(entry, k) == v for k, v in values.items()):
            continue
        AccessEntry.objects.update_or_create(
            client=client, kind=kind, defaults={**values, "updated_by": user, "updated_at": timezone.now()}
        )
        changed += 1
    return changed
