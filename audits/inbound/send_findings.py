"""A real send's verdict recorded as findings, the way an audit records its own: each finding's text from the
catalog, its rank, and its change since the client's real send before it (the findings that send had and this one
has not are carried over as fixed). The latest real send's findings are on the client's risk list."""

from __future__ import annotations

from django.db import transaction

from audits import client_status
from audits.findings import Finding
from audits.models import OPEN, ReceivedMessage, SendFinding
from audits.recording import History, fixed_copy, recorded
from audits.risk import judged_sends

Change = SendFinding.Change


@transaction.atomic
def send_findings_record(message: ReceivedMessage, findings: list[Finding]) -> list[SendFinding]:
    """Record a judged message's findings (again, if it is judged again) and refresh its client's status row."""
    client_id = message.address.client_id
    SendFinding.objects.filter(message=message).delete()
    earlier = (
        judged_sends()
        .filter(address__client_id=client_id, received__lte=message.received)
        .exclude(id=message.id)
        .exclude(received=message.received, id__gt=message.id)
    )
    before = earlier.first()
    previous_rows = list(SendFinding.objects.filter(message=before).filter(OPEN)) if before is not None else []
    previous = {(f.check_id, f.subject) for f in previous_rows}
    ever = set(SendFinding.objects.filter(message__in=earlier).filter(OPEN).values_list("check_id", "subject"))
    history = History(previous, ever)
    rows = [recorded(SendFinding, finding, history, message=message) for finding in findings]
    current = {(row.check_id, row.subject) for row in rows}
    gone = [f for f in previous_rows if (f.check_id, f.subject) not in current]
    rows += [fixed_copy(SendFinding, f, Change.FIXED, message=message) for f in gone]
    SendFinding.objects.bulk_create(rows)
    client_status.refresh([client_id])  # a blocker of the latest real send is the client's too
    return rows
