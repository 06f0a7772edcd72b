"""NPS reports on both databases: grouping, response rate, filters, comments and CSV.

The figures come from tests/reports/nps_dataset.py, worked out on paper there.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy.orm import Session

from nurture.csv_cells import csv_writer
from nurture.errors import InvalidInput
from nurture.reports.nps import (
    Group,
    all_comments,
    comments,
    comments_table,
    company_nps,
    contact_answers,
    groups_table,
    nps_report,
)
from nurture.reports.nps_filter import NpsFilter, Period, parse_nps_filter
from tests.reports.nps_dataset import build


def _figures(groups: list[Group]) -> dict[str, tuple[int, float | None, int, int]]:
    return {
        g.label: (
            g.result.answers,
            None if g.result.score is None else round(g.result.score, 1),
            g.sent,
            g.responded,
        )
        for g in groups
    }


def test_overall_nps_and_response_rate(db: Session) -> None:
    build(db)
    report = nps_report(db, NpsFilter())
    whole = report.overall
    assert whole.result.counts.promoters == 3
    assert whole.result.counts.passives == 2
    assert whole.result.counts.detractors == 3
    assert whole.result.score == 0.0
    assert (whole.sent, whole.responded) == (9, 8)
    assert whole.response_rate == pytest.approx(8 / 9)
    assert whole.result.small


def test_breakdowns_by_service_manager_member_and_industry(db: Session) -> None:
    build(db)
    report = nps_report(db, NpsFilter())
    assert _figures(report.breakdowns["service"]) == {
        "Audit": (4, 25.0, 5, 4),
        "Advisory": (3, -33.3, 3, 3),
        "No service": (1, 0.0, 1, 1),
    }
    assert _figures(report.breakdowns["manager"]) == {
        "Ann Manager": (4, 25.0, 5, 4),
        "Bob Manager": (3, -33.3, 3, 3),
        "No account manager": (1, 0.0, 1, 1),
    }
    # Cat worked on P1 and P2: 10, 9, 7, 3, 10, 5, 6 -> 3 promoters, 3 detractors.
    assert _figures(report.breakdowns["member"]) == {
        "Cat Member": (7, 0.0, 8, 7),
        "Ann Manager": (4, 25.0, 5, 4),
    }
    assert _figures(report.breakdowns["industry"]) == {
        "legal": (4, 25.0, 5, 4),
        "retail": (3, -33.3, 3, 3),
        "Industry not recorded": (1, 0.0, 1, 1),
    }


def test_the_trend_by_month_and_by_quarter(db: Session) -> None:
    build(db)
    months = nps_report(db, NpsFilter()).trend
    assert [g.key for g in months] == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    assert _figures(months) == {
        "2026-01": (2, 100.0, 5, 4),
        "2026-02": (2, -50.0, 0, 0),
        "2026-03": (2, 0.0, 3, 3),
        "2026-04": (2, -50.0, 1, 1),
    }
    quarters = nps_report(db, NpsFilter(by=Period.QUARTER)).trend
    # Q1: 10, 9, 7, 3, 10, 5 -> (3 - 2) / 6 = 16.7.
    assert _figures(quarters) == {"2026 Q1": (6, 16.7, 8, 7), "2026 Q2": (2, -50.0, 1, 1)}


def test_filters_narrow_every_figure(db: Session) -> None:
    data = build(db)
    # Answers given in February and March: 7, 3, 10, 5; surveys sent then: P2's three.
    spring = nps_report(db, NpsFilter(start=date(2026, 2, 1), end=date(2026, 3, 31)))
    assert _figures([spring.overall]) == {"All surveys": (4, -25.0, 3, 3)}
    audit = nps_report(db, NpsFilter(service_id=data.services["audit"]))
    assert _figures([audit.overall]) == {"All surveys": (4, 25.0, 5, 4)}
    bob = nps_report(db, NpsFilter(manager_id=data.users["bob"]))
    assert _figures([bob.overall]) == {"All surveys": (3, -33.3, 3, 3)}
    cat = nps_report(db, NpsFilter(member_id=data.users["cat"]))
    assert _figures([cat.overall]) == {"All surveys": (7, 0.0, 8, 7)}
    retail = nps_report(db, NpsFilter(industry="retail"))
    assert _figures([retail.overall]) == {"All surveys": (3, -33.3, 3, 3)}
    nothing = nps_report(db, NpsFilter(start=date(2027, 1, 1)))
    assert nothing.overall.result.score is None
    assert nothing.trend == []


def test_comments_are_filtered_by_category_text_and_service_and_paginated(db: Session) -> None:
    data = build(db)
    every = comments(db, NpsFilter())
    assert every.total == 4
    # Newest first: 8 (Apr 5), 5 (Mar 18), 3 (Feb 20), 10 (Jan 12).
    assert [c.score for c in every.items] == [8, 5, 3, 10]
    assert every.items[1].project == "Store rollout"
    assert every.items[1].contact == "Dora Client"
    detractors = comments(db, NpsFilter(category="detractor"))
    assert [c.score for c in detractors.items] == [5, 3]
    late = comments(db, NpsFilter(text="late"))
    assert [c.follow_up for c in late.items] == ["Invoices were LATE"]
    # A LIKE wildcard in the text is a plain character.
    assert comments(db, NpsFilter(text="%")).total == 0
    audit = comments(db, NpsFilter(service_id=data.services["audit"]))
    assert [c.score for c in audit.items] == [3, 10]
    second = comments(db, NpsFilter(page=2), per_page=3)
    assert (second.page, second.pages, [c.score for c in second.items]) == (2, 2, [10])
    beyond = comments(db, NpsFilter(page=9), per_page=3)
    assert beyond.page == 2


def test_a_contacts_answers_and_a_companys_nps(db: Session) -> None:
    data = build(db)
    answers = contact_answers(db, data.dora)
    assert [(a.project, a.score, a.category) for a in answers] == [
        ("Store rollout", 5, "detractor"),
        ("Ledger review", 3, "detractor"),
    ]
    assert answers[0].service == "Advisory"
    assert contact_answers(db, data.quiet_contact) == []
    acme = company_nps(db, data.companies["acme"])
    assert _figures([acme]) == {"All surveys": (4, 25.0, 5, 4)}


def test_csv_tables_keep_formulas_out_of_spreadsheets(db: Session) -> None:
    build(db)
    table = groups_table(nps_report(db, NpsFilter()))
    assert table.rows[0][:9] == ("overall", "All surveys", 8, 3, 2, 3, 0.0, -48.8, 48.8)
    assert table.rows[2][:7] == ("service", "Advisory", 3, 1, 0, 2, -33.3)
    out = io.StringIO()
    writer = csv_writer(out)
    for row in [
        comments_table(all_comments(db, NpsFilter())).header,
        *comments_table(all_comments(db, NpsFilter())).rows,
    ]:
        writer.writerow(row)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][9] == "follow_up"
    assert "'=SUM(A1) was slow to arrive" in [r[9] for r in rows[1:]]


def test_bad_parameters_are_named_one_by_one(db: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_nps_filter(
            db,
            {
                "from": "2026-13-01",
                "service": "abc",
                "manager": "999999",
                "by": "year",
                "category": "fan",
                "q": "x" * 201,
                "page": "0",
            },
        )
    fields = [p.field for p in caught.value.problems]
    assert fields == ["from", "service", "manager", "by", "category", "q", "page"]
    good = parse_nps_filter(db, {"from": "2026-01-01", "by": "quarter", "category": "passive"})
    assert good == NpsFilter(start=date(2026, 1, 1), by=Period.QUARTER, category="passive")
