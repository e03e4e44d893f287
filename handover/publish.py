"""Publishing a handover pack: render it once, keep the data and the rendered document as a numbered version."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from handover.models import PackVersion
from handover.pack import build_pack
from launchready.markdown import for_markdown
from launchready.models import Client


def pack_render(data: dict[str, Any], *, number: int | None = None, published_on: str = "") -> tuple[str, str]:
    """The document body (HTML) and the Markdown export of a pack."""
    context = {"pack": data, "number": number, "published_on": published_on}
    html = render_to_string("handover/_document.html", context)
    markdown = render_to_string("handover/pack.md", for_markdown(context))
    return html, markdown


@transaction.atomic
def pack_publish(*, client: Client, user: User | None, note: str = "") -> PackVersion:
    """Freeze the pack as it stands now: later changes to the records never alter a published version."""
    Client.objects.select_for_update().filter(pk=client.pk).values_list("pk", flat=True).first()
    number = (PackVersion.objects.filter(client=client).aggregate(n=Max("number"))["n"] or 0) + 1
    now = timezone.now()
    with timezone.override(client.timezone):
        data = build_pack(client, now)
        published_on = f"{timezone.localtime(now):%-d %B %Y}"
        html, markdown = pack_render(data, number=number, published_on=published_on)
    return PackVersion.objects.create(
        client=client,
        number=number,
        published_at=now,
        published_by=user,
        note=note.strip()[:300],
        data=data,
        html=html,
        markdown=markdown,
    )
