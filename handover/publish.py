"""Publishing a handover pack: render it once, keep the data and the rendered document as a numbered version;
warn before a pack that should not reassure a founder goes out, and tell the founders when one does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from handover.models import PackVersion
from handover.pack import build_pack
from handover.tasks import notify_pack_published
from launchready.bidi import neutralise
from launchready.formatting import local_date, plural
from launchready.markdown import for_markdown
from launchready.models import Client


def pack_render(data: dict[str, Any], *, number: int | None = None, published_on: str = "") -> tuple[str, str]:
    """The document body (HTML) and the Markdown export of a pack."""
    context = {"pack": data, "number": number, "published_on": published_on}
    html = render_to_string("handover/_document.html", context)
    markdown = render_to_string("handover/pack.md", for_markdown(context))
    return neutralise(html), neutralise(markdown)


@dataclass(frozen=True)
class PublishWarning:
    key: str  # what the confirmation names, so a warning that appears after it still asks again
    text: str


def publish_warnings(data: dict[str, Any]) -> list[PublishWarning]:
    """What a founder reading this pack should not be reassured about: each needs the consultant's confirm."""
    status = data["status"]
    warnings = []
    if status["go"] is None:
        warnings.append(
            PublishWarning("unaudited", "No audit has finished: the pack has no risks, DNS inventory or email checks.")
        )
    elif status["go"] is False:
        warnings.append(PublishWarning("nogo", "The launch verdict is No-go."))
    if status["blockers"]:
        titles = "; ".join(r["title"] for r in data["risky"] if r["severity"] == "blocker")
        warnings.append(
            PublishWarning(
                "blockers",
                f"{plural(status['blockers'], 'launch blocker')} open" + (f": {titles}." if titles else "."),
            )
        )
    if not any(entry["recorded"] for entry in data["access"]):
        warnings.append(
            PublishWarning("access", "The access inventory is empty: nobody is recorded as holding any login.")
        )
    return warnings


def warnings_key(warnings: list[PublishWarning]) -> str:
    return ",".join(sorted(w.key for w in warnings))


@transaction.atomic
def pack_publish(*, client: Client, user: User | None, note: str = "") -> PackVersion:
    """Freeze the pack as it stands now: later changes to the records never alter a published version."""
    Client.objects.select_for_update().filter(pk=client.pk).values_list("pk", flat=True).first()
    number = (PackVersion.objects.filter(client=client).aggregate(n=Max("number"))["n"] or 0) + 1
    now = timezone.now()
    with timezone.override(client.timezone):
        data = build_pack(client, now)
        published_on = local_date(now)
        html, markdown = pack_render(data, number=number, published_on=published_on)
    version = PackVersion.objects.create(
        client=client,
        number=number,
        published_at=now,
        published_by=user,
        note=note.strip()[:300],
        data=data,
        html=html,
        markdown=markdown,
    )
    transaction.on_commit(lambda: _notify(version.id))
    return version


def _notify(version_id: int) -> None:
    notify_pack_published.delay(version_id)
