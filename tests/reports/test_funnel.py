"""The funnel against the hand-built history of `dataset` (figures worked out there)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from nurture.models import LifecycleChange
from nurture.reports.filters import ReportFilter
from nurture.reports.funnel import funnel
from tests.reports.dataset import build, day

MARCH = ReportFilter(start=date(2026, 3, 2), end=date(2026, 3, 31))


def _figures(db: Session, flt: ReportFilter) -> dict[str, tuple[int, int]]:
    return {s.stage: (s.reached, s.went_on) for s in funnel(db, flt).stages}


def test_the_funnel_counts_who_reached_each_stage_in_the_period_and_went_on(db: Session) -> None:
    build(db)
    assert _figures(db, MARCH) == {
        "subscriber": (6, 6),
        "lead": (6, 4),
        "mql": (4, 2),
        "sql": (2, 2),
        "opportunity": (2, 0),
        "customer": (0, 0),
    }
    assert funnel(db, MARCH).stage("lead").conversion == pytest.approx(4 / 6)
    assert funnel(db, MARCH).stage("customer").conversion is None


def test_without_a_period_every_entry_counts_and_a_jump_passes_the_stages_between(
    db: Session,
) -> None:
    build(db)
    # C jumped from lead to customer, E was created a customer: both passed MQL..opportunity.
    assert _figures(db, ReportFilter()) == {
        "subscriber": (7, 7),
        "lead": (7, 6),
        "mql": (6, 4),
        "sql": (4, 4),
        "opportunity": (4, 2),
        "customer": (2, 0),
    }


def test_median_days_in_stage_takes_the_finished_stays_begun_in_the_period(db: Session) -> None:
    build(db)
    report = funnel(db, MARCH)
    medians = {s.stage: (s.median_days, s.stays) for s in report.stages}
    # lead: 4 (B), 6.98 (F), 9 (G), 10 (A), 37 (C, ends after the period): odd count.
    assert medians["lead"][0] == pytest.approx(9.0)
    assert medians["lead"][1] == 5
    # mql: 1.5 (G), 2 (B), 4 (A); F is still an MQL and is not measured.
    assert medians["mql"][0] == pytest.approx(2.0)
    assert medians["mql"][1] == 3
    # sql: 2 (G), 6 (A): an even count takes the mean of the middle two.
    assert medians["sql"][0] == pytest.approx(4.0)
    assert medians["sql"][1] == 2
    assert medians["subscriber"][0] == pytest.approx(1.0)
    assert medians["subscriber"][1] == 1
    assert medians["opportunity"] == (None, 0)
    assert medians["customer"] == (None, 0)


def test_a_narrow_period_counts_only_what_began_in_it(db: Session) -> None:
    build(db)
    # 6..10 March: B and F reached MQL; nobody went on to SQL before the 11th.
    narrow = ReportFilter(start=date(2026, 3, 6), end=date(2026, 3, 10))
    report = funnel(db, narrow)
    assert _figures(db, narrow)["mql"] == (2, 0)
    assert _figures(db, narrow)["lead"] == (0, 0)
    assert report.stage("mql").median_days == pytest.approx(2.0)
    assert report.stage("mql").stays == 1
    assert report.stage("lead").stays == 0


def test_the_funnel_narrows_to_a_source_a_segment_and_a_sequence(db: Session) -> None:
    data = build(db)
    website = _figures(db, ReportFilter(MARCH.start, MARCH.end, source="website"))
    assert website["lead"] == (3, 3)
    assert website["mql"] == (3, 1)
    warm = _figures(db, ReportFilter(MARCH.start, MARCH.end, segment_id=data.segment_id))
    assert warm["lead"] == (2, 1)
    assert warm["mql"] == (1, 0)
    alpha = ReportFilter(MARCH.start, MARCH.end, sequence_id=data.sequences["Alpha"])
    assert _figures(db, alpha)["lead"] == (3, 2)
    assert funnel(db, alpha).stage("lead").median_days == pytest.approx(7.0)  # 4 (B), 10 (A)


def test_a_first_change_from_another_stage_says_what_the_contact_was_created_as(
    db: Session,
) -> None:
    data = build(db)
    # D, created a lead, is made an MQL by hand: the stay as a lead counts from creation.
    db.add(
        LifecycleChange(
            contact_id=data.contacts["D"], from_stage="lead", to_stage="mql", occurred_at=day(8)
        )
    )
    db.commit()
    figures = funnel(db, MARCH)
    assert figures.stage("lead").stays == 6
    assert figures.stage("mql").reached == 5


def test_an_empty_database_gives_zeros(db: Session) -> None:
    report = funnel(db, MARCH)
    assert [(s.reached, s.went_on, s.median_days, s.stays) for s in report.stages] == [
        (0, 0, None, 0)
    ] * 6
