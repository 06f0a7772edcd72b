"""Movement over time, sequence performance and content read, against `dataset`."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from nurture.reports.content import content_read
from nurture.reports.filters import ReportFilter
from nurture.reports.movement import Interval, movement
from nurture.reports.sequences import sequence_performance
from tests.reports.dataset import build

MARCH = ReportFilter(start=date(2026, 3, 2), end=date(2026, 3, 31))


def test_weekly_movement_counts_recorded_moves_into_each_stage(db: Session) -> None:
    build(db)
    report = movement(db, MARCH, Interval.WEEK)
    assert report.stages == ("subscriber", "lead", "mql", "sql", "opportunity")
    # F's move late on Sunday 8 March belongs to the week of Monday 2 March.
    assert [(b.start, b.moves) for b in report.buckets] == [
        (date(2026, 3, 2), {"subscriber": 1, "lead": 1, "mql": 2}),
        (date(2026, 3, 9), {"lead": 1, "mql": 2, "sql": 1, "opportunity": 1}),
        (date(2026, 3, 16), {"sql": 1, "opportunity": 1}),
    ]
    assert report.total == 12 - 1  # C's move to customer on 11 April is after the period


def test_monthly_movement_without_a_period_and_quiet_weeks_as_zero(db: Session) -> None:
    build(db)
    monthly = movement(db, ReportFilter(), Interval.MONTH)
    assert [(b.start, b.moves) for b in monthly.buckets] == [
        (date(2026, 3, 1), {"subscriber": 1, "lead": 2, "mql": 4, "sql": 2, "opportunity": 2}),
        (date(2026, 4, 1), {"customer": 1}),
    ]
    weekly = movement(db, ReportFilter(), Interval.WEEK)
    assert [b.start.day for b in weekly.buckets] == [2, 9, 16, 23, 30, 6]
    assert [b.total for b in weekly.buckets] == [4, 5, 2, 0, 0, 1]


def test_movement_narrows_to_a_source(db: Session) -> None:
    build(db)
    report = movement(db, ReportFilter(source="linkedin"), Interval.MONTH)
    assert [(b.start, b.moves) for b in report.buckets] == [
        (date(2026, 3, 1), {"mql": 1, "sql": 1, "opportunity": 1}),
    ]


def test_sequence_performance_counts_people_not_machines_and_credits_qualified_leads(
    db: Session,
) -> None:
    data = build(db)
    rows = {r.name: r for r in sequence_performance(db, MARCH)}
    assert list(rows) == ["Alpha", "Beta", "Gamma"]
    alpha = rows["Alpha"]
    assert alpha.sequence_id == data.sequences["Alpha"]
    # m1, m2, m4 delivered (m3 bounced); m2's open and click were a machine's.
    assert (alpha.enrolled, alpha.delivered, alpha.opened, alpha.clicked, alpha.replied) == (
        3,
        3,
        2,
        1,
        1,
    )
    # A qualified after enrolling; B had qualified before Alpha enrolled them; D never did.
    assert alpha.qualified == 1
    assert alpha.open_rate == pytest.approx(2 / 3)
    beta = rows["Beta"]
    # C joined Beta after the period: not in March's cohort.
    assert (beta.enrolled, beta.delivered, beta.opened, beta.qualified) == (2, 0, 0, 2)
    assert beta.open_rate is None
    gamma = rows["Gamma"]
    assert (gamma.status, gamma.enrolled, gamma.qualified) == ("draft", 0, 0)


def test_sequence_performance_without_a_period_follows_every_enrolment(db: Session) -> None:
    build(db)
    rows = {r.name: r for r in sequence_performance(db, ReportFilter())}
    assert (rows["Beta"].enrolled, rows["Beta"].qualified) == (3, 3)
    assert (rows["Alpha"].enrolled, rows["Alpha"].qualified) == (3, 1)


def test_content_read_by_qualified_leads_before_they_qualified(db: Session) -> None:
    data = build(db)
    report = content_read(db, MARCH)
    assert report.qualified == 4  # A, B, F and G reached MQL in March
    assert [(i.kind, i.item_id, i.title, i.leads, i.reads) for i in report.items] == [
        ("case_study", data.case_studies["bank"], "Bank cut audit time", 2, 3),
        ("article", data.article_id, "DSAR playbook", 1, 1),
        ("webinar", data.webinar_id, "GDPR in practice", 1, 1),
        ("case_study", data.case_studies["retail"], "Retailer found stock", 1, 1),
    ]
    assert report.share(report.items[0]) == pytest.approx(0.5)


def test_content_read_narrows_and_is_empty_without_qualified_leads(db: Session) -> None:
    data = build(db)
    warm = content_read(db, ReportFilter(MARCH.start, MARCH.end, segment_id=data.segment_id))
    assert warm.qualified == 1
    assert [(i.title, i.leads) for i in warm.items] == [("Bank cut audit time", 1)]
    assert content_read(db, ReportFilter(date(2025, 1, 1), date(2025, 1, 31))).items == ()
