"""Eight writers qualify the same leads at once: one hand-off and one lead.qualified each
(PostgreSQL, where the writers really run side by side)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from nurture.db import session_scope
from nurture.models import Event, Handoff
from nurture.qualification.qualify import check_contacts
from nurture.qualification.routing_rules import create_rule
from nurture.qualification.teams import create_team
from tests.conftest import _empty_tables
from tests.qualification.helpers import enable, lead, rep

THREADS = 8
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def pg_url(database_urls: dict[str, str]) -> Iterator[str]:
    url = database_urls["postgresql"]
    yield url
    _empty_tables(url)


def _race(url: str, contact_ids: list[int]) -> tuple[list[int], list[BaseException]]:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    won: list[int] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        try:
            barrier.wait()
            ids = contact_ids[::-1] if index % 2 else contact_ids
            for _attempt in range(5):
                try:
                    with session_scope(url) as db:
                        result = check_contacts(db, ids, now=NOW)
                    with lock:
                        won.extend(result.handoff_ids)
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
    return won, errors


def test_concurrent_checks_qualify_each_lead_exactly_once(pg_url: str) -> None:
    with session_scope(pg_url) as db:
        members = [rep(db) for _ in range(3)]
        team = create_team(
            db, {"name": "Inside sales", "member_ids": [m.id for m in members]}, actor="test"
        )
        create_rule(db, {"name": "Everyone", "team_id": team.id}, actor="test")
        enable(db)
        ids = [lead(db).id for _ in range(24)]

    won, errors = _race(pg_url, ids)

    assert errors == []
    with session_scope(pg_url) as db:
        per_contact = dict(
            (row.contact_id, row.n)
            for row in db.execute(
                select(Handoff.contact_id, func.count().label("n")).group_by(Handoff.contact_id)
            )
        )
        assert per_contact == dict.fromkeys(ids, 1)
        assert sorted(won) == sorted(db.scalars(select(Handoff.id)))
        qualified = db.scalars(select(Event.contact_id).where(Event.type == "lead.qualified")).all()
        assert sorted(qualified) == sorted(ids)
        moved = db.scalars(select(Event.contact_id).where(Event.type == "lifecycle.changed")).all()
        assert sorted(moved) == sorted(ids)
        # Round-robin under the team lock: 24 leads over 3 reps is 8 each.
        owners = db.scalars(select(Handoff.owner_id)).all()
        assert sorted(owners.count(m.id) for m in members) == [8, 8, 8]
