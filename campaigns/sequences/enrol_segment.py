"""Enrolling a segment's current members by hand: a preview first, then the enrolment.

Both walk the members in keyset batches by contact id, so memory and each statement
stay small whatever the segment's size; the enrolment hands each batch to the
caller (`each_batch`, e.g. a commit) so a big segment is enrolled step by step, and
a second run only takes whoever the first one did not. Who is skipped, and why, is
`enrol.enrol_contacts`'s rule; the preview asks the same rule without writing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences import enrol_record
from campaigns.sequences.enrol import enrol_contacts, screen_contacts
from campaigns.sequences.enrol_record import Person, Tally
from nurture.models import AuditEntry, Segment, SegmentMember
from segments.store import get_segment

BATCH = 1000
SOURCE = "segment"


@dataclass(frozen=True, slots=True)
class SegmentPreview:
    segment_id: int
    segment_name: str
    members: int
    entering: int
    skipped: dict[str, int]  # reason -> how many


def preview_segment(session: Session, sequence_id: int, segment_id: int) -> SegmentPreview:
    """Who of the segment's members would enter the sequence now and who would be skipped,
    by reason. NotFound for no such segment; Conflict when the sequence takes nobody."""
    segment = get_segment(session, segment_id)
    members = entering = 0
    skipped: Counter[str] = Counter()
    for batch in _member_batches(session, segment_id):
        members += len(batch)
        result = screen_contacts(session, sequence_id, batch)
        skipped.update(result.skipped.values())
        entering += len(result.enrolled)
    return SegmentPreview(segment.id, segment.name, members, entering, dict(skipped))


def enrol_segment(
    session: Session,
    sequence_id: int,
    segment_id: int,
    *,
    actor: str,
    now: datetime,
    each_batch: Callable[[], None] = lambda: None,
) -> AuditEntry:
    """Enrol the segment's current members, batch by batch, calling `each_batch` after
    each; answers the audit entry that tells what happened (see enrol_record), kept up
    to date batch by batch. NotFound / Conflict as `preview_segment`."""
    segment = _segment(session, segment_id)
    # An empty segment still checks that the sequence takes people (Conflict if not).
    enrol_contacts(session, sequence_id, [], now=now)
    tally = Tally()
    entry = enrol_record.record(
        session, actor=actor, sequence_id=sequence_id, source=SOURCE, tally=tally, segment=segment
    )
    for batch in _member_batches(session, segment_id):
        result = enrol_contacts(session, sequence_id, batch, now=now)
        tally.add(
            result.enrolled,
            (Person(reason, contact_id=cid) for cid, reason in sorted(result.skipped.items())),
        )
        enrol_record.update(entry, tally)
        each_batch()
    return entry


def _segment(session: Session, segment_id: int) -> tuple[int, str]:
    segment: Segment = get_segment(session, segment_id)
    return segment.id, segment.name


def _member_batches(session: Session, segment_id: int) -> Iterator[list[int]]:
    last = 0
    while True:
        batch = list(
            session.scalars(
                select(SegmentMember.contact_id)
                .where(SegmentMember.segment_id == segment_id, SegmentMember.contact_id > last)
                .order_by(SegmentMember.contact_id)
                .limit(BATCH)
            )
        )
        if not batch:
            return
        yield batch
        last = batch[-1]
