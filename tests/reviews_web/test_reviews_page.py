"""The Reviews NPS page, its CSV downloads, the NPS API and the contact page's panel.

Figures come from tests/reports/nps_dataset.py (worked out there): 8 answers, NPS 0,
9 surveys sent and 8 of them answered.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_api_key, make_user
from tests.reports.nps_dataset import build
from tests.ui.helpers import HTML, Client, login


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _signed_in(client: Client, db: Session, role: str = "sales") -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


def _key(db: Session, role: str = "sales") -> dict[str, str]:
    _, secret = make_api_key(db, role=role)
    db.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_page_says_the_nps_its_interval_and_response_rate_in_words(
    client: Client, db: Session
) -> None:
    build(db)
    _signed_in(client, db)
    page = client.get("/reviews", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    # 3 promoters, 2 passives, 3 detractors of 8; adjusted interval -48.8 to 48.8.
    assert "NPS 0 (95% CI -49 to 49), 8 answers of 9 sent: 89%" in text
    assert "Only 8 answers: with fewer than 30 the interval is wide" in text
    assert "Promoters (9-10): 3 (38%)" in text
    assert "Audit 4 few answers 25" in text
    assert "Cat Member 7 few answers 0" in text
    assert "Industry not recorded" in text
    assert 'id="nps-trend-data"' in page.text
    assert 'aria-current="page">NPS</a>' in page.text
    assert "Invoices were LATE" in text
    assert "coming in a later release" not in text


def test_with_no_surveys_the_page_says_how_they_start(client: Client, db: Session) -> None:
    _signed_in(client, db, "marketer")
    page = client.get("/reviews", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    assert "No NPS answers yet" in text
    assert "project tool reports it completed" in text
    assert 'href="/reviews/projects"' in page.text
    assert "No comments yet." in text


def test_filters_narrow_the_figures_and_the_comments(client: Client, db: Session) -> None:
    data = build(db)
    _signed_in(client, db)
    audit = client.get("/reviews", params={"service": str(data.services["audit"])}, headers=HTML)
    text = _text(audit.text)
    assert "NPS 25 (95% CI" in text
    assert "4 answers of 5 sent: 80%" in text
    assert f'<option value="{data.services["audit"]}" selected>Audit</option>' in audit.text
    assert "Invoices were LATE" not in text
    late = _text(client.get("/reviews", params={"q": "late"}, headers=HTML).text)
    assert "Invoices were LATE" in late
    assert "Great audit team" not in late
    promoters = _text(client.get("/reviews", params={"category": "promoter"}, headers=HTML).text)
    assert "Great audit team" in promoters
    assert "Fine" not in promoters


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"by": "year"}, "by"),
        ({"service": "x"}, "service"),
        ({"manager": "99999"}, "manager"),
        ({"category": "fan"}, "category"),
        ({"page": "-1"}, "page"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_parameter(
    client: Client, db: Session, params: dict[str, str], field: str
) -> None:
    _signed_in(client, db)
    page = client.get("/reviews", params=params, headers=HTML)
    assert page.status_code == 400
    assert field in _text(page.text)
    api = client.get("/api/v1/reviews/nps", params=params, headers=_key(db))
    assert api.status_code == 400
    assert [p["field"] for p in api.json()["error"]["problems"]] == [field]


def test_the_downloads_are_csv_with_formula_safe_cells(client: Client, db: Session) -> None:
    build(db)
    _signed_in(client, db)
    groups = client.get("/reviews/nps.csv", params={"from": "2026-01-01"}, headers=HTML)
    assert groups.status_code == 200
    assert groups.headers["content-type"].startswith("text/csv")
    assert 'filename="nps-2026-01-01.csv"' in groups.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(groups.text)))
    assert rows[0][:7] == [
        "breakdown",
        "group",
        "answers",
        "promoters",
        "passives",
        "detractors",
        "nps",
    ]
    assert rows[1][:9] == ["overall", "All surveys", "8", "3", "2", "3", "0.0", "-48.8", "48.8"]
    said = client.get("/reviews/comments.csv", headers=HTML)
    assert said.status_code == 200
    lines = list(csv.reader(io.StringIO(said.text)))
    assert len(lines) == 5
    assert "'=SUM(A1) was slow to arrive" in [line[9] for line in lines]


def test_the_api_gives_the_same_figures(client: Client, db: Session) -> None:
    data = build(db)
    answer = client.get(
        "/api/v1/reviews/nps", params={"by": "quarter", "category": "detractor"}, headers=_key(db)
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["overall"]["nps"] == 0.0
    assert body["overall"]["ci95_low"] == pytest.approx(-48.8, abs=0.01)
    assert body["overall"]["sent"] == 9
    assert body["overall"]["answered_of_sent"] == 8
    assert body["overall"]["small_sample"] is True
    assert [g["label"] for g in body["trend"]] == ["2026 Q1", "2026 Q2"]
    assert {g["label"]: g["nps"] for g in body["by_service"]}["Advisory"] == pytest.approx(-33.33)
    assert [c["score"] for c in body["comments"]["items"]] == [5, 3]
    assert body["filter"]["category"] == "detractor"
    csv_answer = client.get(
        "/api/v1/reviews/nps.csv",
        params={"service": str(data.services["advisory"])},
        headers=_key(db),
    )
    assert csv_answer.status_code == 200
    assert "overall,All surveys,3,1,0,2,-33.3" in csv_answer.text
    assert client.get("/api/v1/reviews/nps").status_code == 401


def test_the_contact_page_shows_their_answers_and_their_companys_nps(
    client: Client, db: Session
) -> None:
    data = build(db)
    _signed_in(client, db)
    page = client.get(f"/contacts/{data.dora}", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    assert "Past-client NPS" in text
    assert "5 Store rollout · Advisory · detractor" in text
    assert "3 Ledger review · Audit · detractor" in text
    assert "Invoices were LATE" in text
    assert "Acme : NPS 25 (95% CI" in text
    quiet = _text(client.get(f"/contacts/{data.quiet_contact}", headers=HTML).text)
    assert "Past-client NPS" not in quiet
