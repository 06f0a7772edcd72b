"""Waking event waits when their event arrives, instead of at the next poll.

An enrolment at a `{"event": T, "timeout": ...}` wait is looked at again every
`Limits.event_poll` until T happens. When events are processed, the active
enrolments of those contacts that sit at a wait for one of the events' types
are made due now; the engine then sees the event and moves on. Only
`next_run_at` changes, so a wake-up that races a running step is harmless: the
step's own compare-and-set decides, and at worst the poll finds the event.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from campaigns.sequences.definition import Flow
from campaigns.sequences.versions import flow_of
from nurture.errors import InvalidInput
from nurture.models import Enrolment, EnrolmentState, Event

_CHUNK = 1000


def event_waits(flow: Flow) -> dict[str, set[str]]:
    """Event type -> keys of the steps in this flow that wait for it."""
    waits: dict[str, set[str]] = defaultdict(set)
    for step in flow.steps.values():
        if step.type == "wait" and "event" in step.spec:
            waits[str(step.spec["event"])].add(step.key)
    return dict(waits)


def wake_event_waits(session: Session, event_ids: list[int], *, now: datetime) -> int:
    """Make due now the active enrolments waiting for these events; answers how many.

    One UPDATE per event type in the batch; the caller commits.
    """
    if not event_ids:
        return 0
    contacts_by_type: dict[str, set[int]] = defaultdict(set)
    for contact_id, kind in session.execute(
        select(Event.contact_id, Event.type).where(Event.id.in_(event_ids))
    ):
        contacts_by_type[kind].add(contact_id)
    everyone = sorted({cid for ids in contacts_by_type.values() for cid in ids})
    waiting = _waiting_steps(session, everyone)
    woken = 0
    for kind, contacts in contacts_by_type.items():
        steps = waiting.get(kind)
        if not steps:
            continue
        at_wait = or_(
            *(
                and_(Enrolment.version_id == version_id, Enrolment.step_key.in_(sorted(keys)))
                for version_id, keys in sorted(steps.items())
            )
        )
        ids = sorted(contacts)
        for start in range(0, len(ids), _CHUNK):
            result = session.execute(
                update(Enrolment)
                .where(
                    Enrolment.contact_id.in_(ids[start : start + _CHUNK]),
                    Enrolment.state == EnrolmentState.ACTIVE.value,
                    Enrolment.next_run_at > now,
                    at_wait,
                )
                .values(next_run_at=now)
                .execution_options(synchronize_session=False)
            )
            woken += int(getattr(result, "rowcount", 0) or 0)
    return woken


def _waiting_steps(session: Session, contact_ids: list[int]) -> dict[str, dict[int, set[str]]]:
    """Event type -> version id -> wait step keys, for the versions these contacts are on."""
    versions: set[int] = set()
    for start in range(0, len(contact_ids), _CHUNK):
        versions.update(
            session.scalars(
                select(Enrolment.version_id)
                .where(
                    Enrolment.contact_id.in_(contact_ids[start : start + _CHUNK]),
                    Enrolment.state == EnrolmentState.ACTIVE.value,
                )
                .distinct()
            )
        )
    found: dict[str, dict[int, set[str]]] = defaultdict(dict)
    for version_id in sorted(versions):
        try:
            flow = flow_of(session, version_id)
        except InvalidInput:  # pragma: no cover - stored versions were valid when published
            continue
        for kind, keys in event_waits(flow).items():
            found[kind][version_id] = keys
    return found
