"""Dynamic membership: full refresh, incremental checks, enter/exit events exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from nurture.contacts import erase_contact
from nurture.events import EventInput, ingest
from nurture.models import SegmentMember, utcnow
from segments import membership, store
from tests.factories import make_contact
from tests.segments.helpers import NOW, member_ids, rule, segment_events, set_contact


def _partners(db: Session) -> int:
    return store.create_segment(
        db, name="Partners", rule=rule({"field": "title", "op": "contains", "value": "partner"})
    ).id


def test_full_refresh_adds_matching_contacts_and_announces_each_once(db: Session) -> None:
    alice = make_contact(db, title="Managing Partner")
    bob = make_contact(db, title="Associate")
    segment_id = _partners(db)

    first = membership.refresh_segment(db, segment_id, now=NOW)
    membership.refresh_segment(db, segment_id, now=NOW + timedelta(minutes=5))

    assert first.entered == [alice.id]
    assert first.size == 1
    assert member_ids(db, segment_id) == {alice.id}
    assert segment_events(db, "segment.entered", segment_id) == [alice.id]
    assert bob.id not in member_ids(db, segment_id)


def test_contact_who_stops_matching_leaves_once_on_refresh(db: Session) -> None:
    alice = make_contact(db, title="Partner")
    segment_id = _partners(db)
    membership.refresh_segment(db, segment_id, now=NOW)
    set_contact(db, alice.id, title="Retired")

    left = membership.refresh_segment(db, segment_id, now=NOW + timedelta(minutes=1))
    again = membership.refresh_segment(db, segment_id, now=NOW + timedelta(minutes=2))

    assert left.exited == [alice.id]
    assert again.exited == []
    assert member_ids(db, segment_id) == set()
    assert segment_events(db, "segment.exited", segment_id) == [alice.id]


def test_rejoining_is_announced_again_with_its_own_key(db: Session) -> None:
    alice = make_contact(db, title="Partner")
    segment_id = _partners(db)
    membership.refresh_segment(db, segment_id, now=NOW)
    set_contact(db, alice.id, title="Retired")
    membership.refresh_segment(db, segment_id, now=NOW + timedelta(minutes=1))
    set_contact(db, alice.id, title="Partner")
    membership.refresh_segment(db, segment_id, now=NOW + timedelta(minutes=2))

    assert segment_events(db, "segment.entered", segment_id) == [alice.id, alice.id]
    assert segment_events(db, "segment.exited", segment_id) == [alice.id]


def test_erased_contact_leaves_the_segment_at_once_and_never_returns(db: Session) -> None:
    alice = make_contact(db, title="Partner")
    bob = make_contact(db, title="Partner")
    segment_id = _partners(db)
    membership.refresh_segment(db, segment_id, now=NOW)

    erase_contact(db, alice.id, actor="test")
    members = db.scalars(
        select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment_id)
    )
    assert list(members) == [bob.id]
    change = membership.refresh_segment(db, segment_id, now=NOW + timedelta(minutes=1))

    assert (change.entered, change.exited, change.size) == ([], [], 1)


def test_each_full_refresh_records_the_size(db: Session) -> None:
    make_contact(db, title="Partner")
    make_contact(db, title="Partner")
    segment_id = _partners(db)

    membership.refresh_segment(db, segment_id, now=NOW)
    membership.refresh_segment(db, segment_id, now=NOW + timedelta(hours=1))

    assert store.size_history(db, segment_id) == [(NOW, 2), (NOW + timedelta(hours=1), 2)]


def test_relative_dates_follow_the_given_now(db: Session) -> None:
    alice = make_contact(db)
    set_contact(db, alice.id, last_activity_at=NOW - timedelta(days=10))
    segment_id = store.create_segment(
        db,
        name="Active",
        rule=rule({"field": "last_activity_at", "op": "within_last_days", "value": 14}),
    ).id

    early = membership.refresh_segment(db, segment_id, now=NOW)
    late = membership.refresh_segment(db, segment_id, now=NOW + timedelta(days=5))

    assert early.entered == [alice.id]
    assert late.exited == [alice.id]


def _ingest(db: Session, contact_id: int, kind: str, **properties: object) -> list[int]:
    item = EventInput(kind, NOW - timedelta(hours=1), dict(properties), contact_id=contact_id)
    return ingest(db, [(0, item)], source="test").stored_event_ids


def test_incremental_check_enters_the_contact_an_event_touches(db: Session) -> None:
    alice = make_contact(db)
    bob = make_contact(db)
    segment_id = store.create_segment(
        db,
        name="Attendees",
        rule=rule({"event": "webinar.attended", "op": "at_least", "times": 1}),
    ).id

    changes = membership.check_after_events(db, _ingest(db, alice.id, "webinar.attended"), now=NOW)

    assert [c.entered for c in changes] == [[alice.id]]
    assert member_ids(db, segment_id) == {alice.id}
    assert bob.id not in member_ids(db, segment_id)
    assert segment_events(db, "segment.entered", segment_id) == [alice.id]


def test_events_of_unrelated_types_check_nothing(db: Session) -> None:
    alice = make_contact(db)
    store.create_segment(
        db, name="Attendees", rule=rule({"event": "webinar.attended", "op": "at_least", "times": 1})
    )

    assert membership.check_after_events(db, _ingest(db, alice.id, "email.opened"), now=NOW) == []


def test_segment_events_never_trigger_another_check(db: Session) -> None:
    alice = make_contact(db)
    store.create_segment(
        db, name="Everyone active", rule=rule({"field": "last_activity_at", "op": "is_set"})
    )
    set_contact(db, alice.id, last_activity_at=NOW)
    changes = membership.check_after_events(db, _ingest(db, alice.id, "page.visited"), now=NOW)
    emitted = [i for c in changes for i in c.event_ids]

    assert len(emitted) == 1
    assert membership.check_after_events(db, emitted, now=NOW) == []


def test_dependent_segment_is_checked_after_its_dependency(db: Session) -> None:
    alice = make_contact(db)
    set_contact(db, alice.id, score=50)
    attendees = store.create_segment(
        db, name="Attendees", rule=rule({"event": "webinar.attended", "op": "at_least", "times": 1})
    ).id
    hot = store.create_segment(
        db,
        name="Hot attendees",
        rule=rule(
            {
                "all": [
                    {"segment": attendees, "op": "member"},
                    {"field": "score", "op": "gt", "value": 40},
                ]
            }
        ),
    ).id

    changes = membership.check_after_events(db, _ingest(db, alice.id, "webinar.attended"), now=NOW)

    assert [c.segment_id for c in changes] == [attendees, hot]
    assert member_ids(db, hot) == {alice.id}


def test_full_refresh_order_puts_dependencies_first(db: Session) -> None:
    base = store.create_segment(db, name="Base", rule=rule({"all": []})).id
    top = store.create_segment(db, name="Top", rule=rule({"segment": base, "op": "member"})).id
    store.update_segment(db, base, rule=rule({"field": "score", "op": "gte", "value": 0}))

    assert membership.refresh_order(db, [top, base]) == [base, top]


def test_due_segments_are_claimed_once(db: Session) -> None:
    segment_id = _partners(db)
    every = timedelta(minutes=10)

    soon = utcnow() + timedelta(seconds=1)

    first = membership.claim_due_segments(db, now=soon, every=every)
    second = membership.claim_due_segments(db, now=soon, every=every)
    later = membership.claim_due_segments(db, now=soon + timedelta(minutes=11), every=every)

    assert (first, second, later) == ([segment_id], [], [segment_id])


def test_a_missing_membership_row_is_restored_without_a_second_exit(db: Session) -> None:
    alice = make_contact(db, title="Partner")
    segment_id = _partners(db)
    membership.refresh_segment(db, segment_id, now=NOW)
    db.execute(delete(SegmentMember))

    change = membership.refresh_segment(db, segment_id, now=NOW + timedelta(minutes=1))

    assert change.entered == [alice.id]
    assert segment_events(db, "segment.exited", segment_id) == []
