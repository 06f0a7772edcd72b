"""Claiming due enrolments: each due step goes to one claimer, a lost claim comes back."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.orm import Session

from campaigns.sequences.enrol import enrol_contacts
from campaigns.sequences.scheduler import claim_due, claim_ids
from nurture.db import session_scope
from nurture.models import utcnow
from tests.factories import make_contact
from tests.sequences.helpers import make_sequence


def enrol_many(db: Session, count: int) -> int:
    sequence = make_sequence(db, [{"key": "call", "type": "task", "kind": "call"}])
    contacts = [make_contact(db).id for _ in range(count)]
    enrol_contacts(db, sequence, contacts, now=utcnow() - timedelta(minutes=1))
    db.commit()
    return sequence


def test_a_claimed_enrolment_is_not_claimed_again_until_its_lease_ends(db: Session) -> None:
    enrol_many(db, 3)
    now = utcnow()

    first = claim_due(db, now=now, limit=2)
    db.commit()
    second = claim_due(db, now=now, limit=10)
    db.commit()
    after_lease = claim_due(db, now=now + timedelta(minutes=11), limit=10)

    assert len(first) == 2
    assert len(second) == 1
    assert not set(first) & set(second)
    assert sorted(after_lease) == sorted(first + second)


def test_claim_ids_takes_only_due_unclaimed_enrolments(db: Session) -> None:
    enrol_many(db, 1)
    now = utcnow()
    [(enrolment_id, step_key)] = claim_due(db, now=now)
    db.commit()

    assert claim_ids(db, [enrolment_id], now=now) == []
    assert claim_ids(db, [enrolment_id], now=now + timedelta(minutes=11)) == [
        (enrolment_id, step_key)
    ]


def test_concurrent_claimers_never_share_an_enrolment(db: Session, db_url: str) -> None:
    """Real threads: SKIP LOCKED on PostgreSQL, the repeated claim condition on SQLite."""
    enrol_many(db, 400)
    now = utcnow()
    claimed: list[list[tuple[int, str]]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def claimer(index: int) -> None:
        start.wait()
        while True:
            with session_scope(db_url) as session:
                batch = claim_due(session, now=now, limit=25)
            if not batch:
                return
            claimed[index].extend(batch)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    every = [item for batch in claimed for item in batch]
    assert len(every) == 400
    assert len(set(every)) == 400
    if db_url.startswith("postgresql"):  # SQLite may let one writer win every round
        assert sum(1 for batch in claimed if batch) > 1
