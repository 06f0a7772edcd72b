"""The Reports page: the figures in its tables, empty states, bad filters and downloads."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_user
from tests.reports.dataset import build
from tests.ui.helpers import HTML, Client, login

MARCH = {"from": "2026-03-02", "to": "2026-03-31"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_sales_rep_sees_the_funnel_and_the_other_reports_with_the_same_figures(
    client: Client, db: Session
) -> None:
    data = build(db)
    rep = make_user(db, role="sales")
    db.commit()
    login(client, rep)
    page = client.get("/reports", params=MARCH, headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    # Stage, reached, went on, conversion, median days, stays measured.
    assert "Lead 6 4 66.7% 9.0 5" in text
    assert "SQL 2 2 100.0% 4.0 2" in text
    assert "Alpha active 3 3 2 66.7% 1 33.3% 1 33.3% 1 33.3%" in text
    assert "Bank cut audit time Case study 2" in text
    for chart in ("funnel-chart", "movement-chart", "sequences-chart"):
        assert f'id="{chart}-data"' in page.text
    assert 'href="/reports/content.csv?from=2026-03-02&amp;to=2026-03-31"' in page.text
    narrowed = client.get(
        "/reports", params={**MARCH, "segment": str(data.segment_id)}, headers=HTML
    )
    assert "Lead 2 1 50.0%" in _text(narrowed.text)
    assert f'<option value="{data.segment_id}" selected>Warm</option>' in narrowed.text


def test_with_nothing_recorded_each_section_says_what_will_fill_it(
    client: Client, db: Session
) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)
    text = _text(client.get("/reports", headers=HTML).text)
    assert "No contact reached a lifecycle stage yet." in text
    assert "No lifecycle changes yet. Leads move when scoring qualifies them" in text
    assert "No sequences yet." in text
    assert "No qualified leads yet." in text


@pytest.mark.parametrize(
    ("params", "field"),
    [({"from": "2026-02-30"}, "from"), ({"to": "soon"}, "to"), ({"interval": "year"}, "interval")],
)
def test_a_bad_filter_is_a_400_page_naming_the_parameter(
    client: Client, db: Session, params: dict[str, str], field: str
) -> None:
    user = make_user(db, role="admin")
    db.commit()
    login(client, user)
    page = client.get("/reports", params=params, headers=HTML)
    assert page.status_code == 400
    assert field in _text(page.text)
    assert "must be" in page.text


def test_the_page_downloads_each_report_as_csv(client: Client, db: Session) -> None:
    data = build(db)
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)
    answer = client.get("/reports/sequences.csv", params=MARCH, headers=HTML)
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    alpha = str(data.sequences["Alpha"])
    assert rows[1][:9] == [alpha, "Alpha", "active", "3", "3", "2", "1", "1", "1"]
    for name in ("funnel", "lifecycle", "content"):
        got = client.get(f"/reports/{name}.csv", params=MARCH, headers=HTML)
        assert got.status_code == 200, name
        assert got.text.count("\r\n") >= 2, name


def test_the_reports_page_is_no_longer_a_promise(client: Client, db: Session) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)
    page = client.get("/reports", headers=HTML)
    assert "coming in a later release" not in page.text
    assert client.get("/reviews", headers=HTML).status_code == 200
