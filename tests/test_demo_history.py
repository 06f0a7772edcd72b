"""The demo's history fills every report: funnel times, movement, sequences and content."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.demo.content import seed_demo_content, seed_demo_library
from nurture.demo.history import seed_demo_history
from nurture.demo.loader import load_demo
from nurture.demo.sequences import demo_mailer, seed_demo_sequences
from nurture.models import Contact, Event, LifecycleChange
from nurture.reports.content import content_read
from nurture.reports.filters import ReportFilter
from nurture.reports.funnel import funnel
from nurture.reports.movement import Interval, movement
from nurture.reports.sequences import sequence_performance
from nurture.reports.stages import FUNNEL

SMALL = 0.04


def load(db: Session, settings: Settings) -> int:
    """Every step of `nurture demo`, in its order; returns the lifecycle changes added."""
    seed_demo_library(db)
    db.commit()
    load_demo(db, scale=SMALL)
    seed_demo_content(db)
    seed_demo_sequences(db, mailer=demo_mailer(settings))
    return seed_demo_history(db)


def changes(db: Session) -> list[tuple[int, str | None, str, str, str]]:
    db.expire_all()
    rows = db.execute(
        select(
            LifecycleChange.contact_id,
            LifecycleChange.from_stage,
            LifecycleChange.to_stage,
            LifecycleChange.reason,
            LifecycleChange.source,
        ).order_by(LifecycleChange.contact_id, LifecycleChange.occurred_at, LifecycleChange.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_every_report_has_figures_after_the_demo(db: Session, settings: Settings) -> None:
    added = load(db, settings)
    assert added > 100
    everyone = ReportFilter()

    stages = funnel(db, everyone)
    # Each stage up to opportunity has finished stays, so a median time in it.
    for name in FUNNEL[:-1]:
        figures = stages.stage(name)
        assert figures.reached > figures.went_on > 0, figures
        assert figures.median_days is not None, figures
        assert figures.median_days > 0, figures
    assert stages.stage("customer").reached > 0

    moves = movement(db, everyone, Interval.MONTH)
    # Six months of history: moves in at least six calendar months, into every stage.
    assert len([b for b in moves.buckets if b.total]) >= 6
    assert set(FUNNEL[1:]) <= set(moves.stages)

    sequences = sequence_performance(db, everyone)
    assert sum(s.delivered for s in sequences) > 0
    assert sum(s.opened for s in sequences) > 0
    assert sum(s.clicked for s in sequences) > 0
    assert sum(s.qualified for s in sequences) > 0

    content = content_read(db, everyone)
    assert content.qualified > 0
    assert {item.kind for item in content.items} >= {"webinar", "article"}

    # The source filter narrows the funnel to a real share of it.
    source = db.scalar(select(Contact.attributes["source"].as_string()).limit(1))
    assert source
    narrowed = funnel(db, ReportFilter(source=source)).stage("lead").reached
    assert 0 < narrowed < stages.stage("lead").reached


def test_each_contact_history_ends_in_its_stage_with_reasons_for_steps_back(
    db: Session, settings: Settings
) -> None:
    load(db, settings)
    current = {
        contact_id: stage
        for contact_id, stage in db.execute(select(Contact.id, Contact.lifecycle_stage))
    }
    last: dict[int, str] = {}
    previous: dict[int, str] = {}
    backwards = 0
    for contact_id, before, after, reason, source in changes(db):
        assert source == "demo"
        assert before is not None
        assert before != after
        # Each change starts where the previous one of the contact ended.
        assert previous.get(contact_id, before) == before
        previous[contact_id] = after
        last[contact_id] = after
        if before in FUNNEL and after in FUNNEL and FUNNEL.index(after) < FUNNEL.index(before):
            backwards += 1
            assert reason
    assert last
    assert all(current[contact_id] == stage for contact_id, stage in last.items())
    assert backwards > 0
    # The changes happen over the six months, not all at once.
    first, latest = db.execute(
        select(func.min(LifecycleChange.occurred_at), func.max(LifecycleChange.occurred_at))
    ).one()
    assert (latest - first).days > 120


def test_webinar_attendances_name_the_library_webinar(db: Session, settings: Settings) -> None:
    load(db, settings)
    attended = db.scalars(select(Event.properties).where(Event.type == "webinar.attended")).all()
    assert attended
    assert all(isinstance(p.get("webinar_id"), int) for p in attended)


def test_a_second_run_adds_nothing_and_the_history_is_the_same_each_time(
    db: Session, settings: Settings
) -> None:
    load(db, settings)
    first = changes(db)
    assert load(db, settings) == 0
    assert changes(db) == first
    # From scratch, the same seed writes the same paths (contact ids aside).
    db.execute(delete(LifecycleChange))
    db.commit()
    assert seed_demo_history(db) == len(first)
    again = changes(db)
    assert [row[1:] for row in again] == [row[1:] for row in first]
