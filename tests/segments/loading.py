"""Loading a reference Dataset into the database with the same ids, for comparisons."""

from __future__ import annotations

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from nurture.models import (
    Company,
    Contact,
    Event,
    Segment,
    SegmentMember,
    Suppression,
    User,
)
from tests.segments.reference import Dataset
from tests.segments.strategies import MOMENTS, SEGMENT_IDS, USER_IDS

_TABLES = (SegmentMember, Segment, Event, Contact, Company, Suppression, User)


def clear(session: Session) -> None:
    for model in _TABLES:
        session.execute(delete(model))


def load(session: Session, data: Dataset) -> None:
    """Replace the tables' rows by the dataset (plus the users and segments it refers to)."""
    clear(session)
    session.execute(
        insert(User),
        [
            {"id": i, "email": f"u{i}@nurture.test", "role": "marketer", "password_hash": "x"}
            for i in USER_IDS
        ],
    )
    if data.companies:
        session.execute(insert(Company), list(data.companies.values()))
    if data.contacts:
        session.execute(insert(Contact), data.contacts)
    if data.events:
        session.execute(
            insert(Event), [{**e, "received_at": MOMENTS[0], "source": "test"} for e in data.events]
        )
    if data.suppressed_hashes:
        session.execute(
            insert(Suppression),
            [{"email_hash": h, "reason": "unsubscribed"} for h in sorted(data.suppressed_hashes)],
        )
    session.execute(
        insert(Segment), [{"id": i, "name": f"list {i}", "kind": "static"} for i in SEGMENT_IDS]
    )
    rows = [
        {"segment_id": sid, "contact_id": cid, "since": MOMENTS[0]}
        for sid, ids in data.members.items()
        for cid in sorted(ids)
    ]
    if rows:
        session.execute(insert(SegmentMember), rows)
    session.flush()
