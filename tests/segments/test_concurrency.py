"""Concurrent incremental checks and refreshes announce each change exactly once (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from nurture.db import session_scope
from nurture.models import Contact, utcnow
from segments import membership, store
from tests.conftest import _empty_tables
from tests.factories import make_contact
from tests.segments.helpers import member_ids, rule, segment_events

THREADS = 8


@pytest.fixture
def pg_url(database_urls: dict[str, str]) -> Iterator[str]:
    url = database_urls["postgresql"]
    yield url
    _empty_tables(url)


def _race(url: str, segment_id: int, contact_ids: list[int]) -> list[BaseException]:
    """Every thread checks all contacts at once; one of them runs a full refresh instead."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            barrier.wait()
            for _attempt in range(5):
                try:
                    with session_scope(url) as db:
                        if index == 0:
                            membership.refresh_segment(db, segment_id)
                        else:
                            membership.check_contacts(
                                db, contact_ids[::-1] if index % 2 else contact_ids
                            )
                    return
                except OperationalError as exc:
                    # A deadlock victim is rolled back whole; the actor would retry the same way.
                    if "deadlock" not in str(exc):
                        raise
        except BaseException as exc:  # noqa: BLE001 - the main thread re-raises what a worker met
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_concurrent_checks_announce_each_entry_and_exit_once(pg_url: str) -> None:
    with session_scope(pg_url) as db:
        ids = [make_contact(db, title="Partner").id for _ in range(30)]
        segment_id = store.create_segment(
            db, name="Partners", rule=rule({"field": "title", "op": "contains", "value": "partner"})
        ).id

    assert _race(pg_url, segment_id, ids) == []
    with session_scope(pg_url) as db:
        assert member_ids(db, segment_id) == set(ids)
        assert segment_events(db, "segment.entered", segment_id) == sorted(ids)
        db.execute(update(Contact).values(title="Retired", updated_at=utcnow()))

    assert _race(pg_url, segment_id, ids) == []
    with session_scope(pg_url) as db:
        assert member_ids(db, segment_id) == set()
        assert segment_events(db, "segment.exited", segment_id) == sorted(ids)
        assert segment_events(db, "segment.entered", segment_id) == sorted(ids)
