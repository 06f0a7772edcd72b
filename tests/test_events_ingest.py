"""Event ingest in the domain: idempotency, contact resolution, per-item outcomes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.events import Outcome, ingest_raw, mark_processed
from nurture.models import Contact, Event
from tests.factories import make_contact


def test_repeated_idempotency_key_stores_one_event(db: Session) -> None:
    item = {"type": "page.visited", "email": "Ada@Example.com", "idempotency_key": "k1"}
    first = ingest_raw(db, [item], source="test")
    second = ingest_raw(db, [item, {**item}], source="test")
    assert [r.status for r in first.items] == [Outcome.STORED]
    assert [r.status for r in second.items] == [Outcome.DUPLICATE, Outcome.DUPLICATE]
    assert db.scalar(select(func.count()).select_from(Event)) == 1


def test_unknown_email_creates_one_contact_case_insensitively(db: Session) -> None:
    result = ingest_raw(
        db,
        [
            {"type": "form.submitted", "email": "new@example.com"},
            {"type": "x.y", "email": "NEW@example.com"},
        ],
        source="test",
    )
    assert len(result.created_contact_ids) == 1
    assert db.scalar(select(func.count()).select_from(Contact)) == 1
    assert {r.contact_id for r in result.items} == {result.created_contact_ids[0]}


def test_bad_items_are_rejected_by_field_and_good_ones_kept(db: Session) -> None:
    contact = make_contact(db)
    result = ingest_raw(
        db,
        [
            {"type": "email.opened", "contact_id": contact.id},
            {"type": "email.opened", "contact_id": contact.id + 1000},
            {"type": "Bad Type!", "contact_id": contact.id},
            {"type": "email.opened", "email": "not-an-address"},
            {"type": "email.opened", "contact_id": contact.id, "colour": "red"},
            {
                "type": "email.opened",
                "contact_id": contact.id,
                "occurred_at": "2026-01-01T10:00:00",
            },
            "just a string",
        ],
        source="test",
    )
    statuses = [r.status for r in result.items]
    assert statuses == [Outcome.STORED] + [Outcome.REJECTED] * 6
    fields = [r.problem.field for r in result.items[1:] if r.problem]
    assert fields == ["contact_id", "type", "email", "colour", "occurred_at", ""]
    assert [r.index for r in result.items] == list(range(7))
    assert db.scalar(select(func.count()).select_from(Event)) == 1


def test_mark_processed_is_idempotent_and_moves_last_activity(db: Session) -> None:
    contact = make_contact(db)
    result = ingest_raw(
        db,
        [
            {
                "type": "page.visited",
                "contact_id": contact.id,
                "occurred_at": "2026-03-01T09:00:00Z",
            },
            {
                "type": "page.visited",
                "contact_id": contact.id,
                "occurred_at": "2026-03-02T09:00:00+01:00",
            },
        ],
        source="test",
    )
    ids = result.stored_event_ids
    assert mark_processed(db, ids) == ids
    assert mark_processed(db, ids) == []
    db.refresh(contact)
    assert contact.last_activity_at is not None
    assert contact.last_activity_at.isoformat() == "2026-03-02T08:00:00+00:00"


def test_concurrent_batches_sharing_keys_store_each_once_without_deadlock(db_url: str) -> None:
    """Two writers post the same keys in opposite orders, many times over."""
    import threading

    from nurture.db import session_scope

    keys = [f"shared-{n}" for n in range(200)]
    failures: list[BaseException] = []
    # Both writers start each round together, so their inserts overlap in time.
    start_round = threading.Barrier(2, timeout=60)

    def writer(order: list[str]) -> None:
        try:
            for round_ in range(5):
                items = [
                    {
                        "type": "page.visited",
                        "email": f"reader{n % 40}@example.com",
                        "idempotency_key": f"{key}-{round_}",
                    }
                    for n, key in enumerate(order)
                ]
                start_round.wait()
                with session_scope(db_url) as db:
                    ingest_raw(db, items, source="test")
        except BaseException as exc:  # noqa: BLE001 - the main thread re-raises what a worker met
            failures.append(exc)

    threads = [
        threading.Thread(target=writer, args=(keys,)),
        threading.Thread(target=writer, args=(list(reversed(keys)),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with session_scope(db_url) as db:
        assert db.scalar(select(func.count()).select_from(Event)) == 200 * 5
        assert db.scalar(select(func.count()).select_from(Contact)) == 40
