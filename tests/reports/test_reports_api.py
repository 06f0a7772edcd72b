"""The reports API answers the domain's figures, as JSON and CSV, and names bad parameters."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from tests.reports.dataset import build

Client = TestClient[Litestar]
Headers = dict[str, str]
MARCH = {"from": "2026-03-02", "to": "2026-03-31"}


@pytest.fixture
def sales(headers_for: Callable[[str], Headers]) -> Headers:
    return headers_for("sales")


def test_the_funnel_over_the_api_gives_the_hand_worked_figures(
    client: Client, db: Session, sales: Headers
) -> None:
    build(db)
    answer = client.get("/api/v1/reports/funnel", params=MARCH, headers=sales)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["filter"] == {
        "start": "2026-03-02",
        "end": "2026-03-31",
        "source": None,
        "segment_id": None,
        "sequence_id": None,
    }
    stages = {s["stage"]: s for s in body["stages"]}
    assert [s["stage"] for s in body["stages"]] == [
        "subscriber",
        "lead",
        "mql",
        "sql",
        "opportunity",
        "customer",
    ]
    assert (stages["lead"]["reached"], stages["lead"]["went_on"]) == (6, 4)
    assert stages["lead"]["conversion"] == pytest.approx(4 / 6)
    assert stages["lead"]["median_days_in_stage"] == pytest.approx(9.0)
    assert stages["sql"]["median_days_in_stage"] == pytest.approx(4.0)
    assert stages["customer"]["conversion"] is None


def test_the_other_reports_over_the_api(client: Client, db: Session, headers: Headers) -> None:
    data = build(db)
    lifecycle = client.get(
        "/api/v1/reports/lifecycle", params={**MARCH, "interval": "week"}, headers=headers
    ).json()
    assert lifecycle["interval"] == "week"
    assert [(b["start"], b["total"]) for b in lifecycle["buckets"]] == [
        ("2026-03-02", 4),
        ("2026-03-09", 5),
        ("2026-03-16", 2),
    ]
    sequences = client.get("/api/v1/reports/sequences", params=MARCH, headers=headers).json()
    alpha = sequences["sequences"][0]
    assert (alpha["id"], alpha["delivered"], alpha["opened"], alpha["clicked"]) == (
        data.sequences["Alpha"],
        3,
        2,
        1,
    )
    assert (alpha["replied"], alpha["qualified"]) == (1, 1)
    content = client.get(
        "/api/v1/reports/content",
        params={**MARCH, "segment": str(data.segment_id)},
        headers=headers,
    ).json()
    assert content["qualified_leads"] == 1
    assert [
        (i["title"], i["qualified_leads"], i["share_of_qualified_leads"]) for i in content["items"]
    ] == [("Bank cut audit time", 1, 1.0)]


def test_each_report_downloads_as_csv_with_the_same_figures(
    client: Client, db: Session, headers: Headers
) -> None:
    data = build(db)
    answer = client.get("/api/v1/reports/funnel.csv", params=MARCH, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="funnel-2026-03-02-2026-03-31.csv"' in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == [
        "stage",
        "reached",
        "went_on",
        "conversion",
        "median_days_in_stage",
        "stays_measured",
    ]
    assert rows[2] == ["lead", "6", "4", "0.6667", "9.0", "5"]
    assert rows[6] == ["customer", "0", "0", "", "", "0"]
    lifecycle = list(
        csv.reader(
            io.StringIO(
                client.get(
                    "/api/v1/reports/lifecycle.csv",
                    params={"interval": "month"},
                    headers=headers,
                ).text
            )
        )
    )
    assert lifecycle == [
        ["month", "subscriber", "lead", "mql", "sql", "opportunity", "customer", "total"],
        ["2026-03-01", "1", "2", "4", "2", "2", "0", "11"],
        ["2026-04-01", "0", "0", "0", "0", "0", "1", "1"],
    ]
    sequences = list(
        csv.reader(io.StringIO(client.get("/api/v1/reports/sequences.csv", headers=headers).text))
    )
    assert [row[1] for row in sequences] == ["sequence", "Alpha", "Beta", "Gamma"]
    content = client.get("/api/v1/reports/content.csv", params=MARCH, headers=headers).text
    bank = data.case_studies["bank"]
    assert content.splitlines()[1] == f"case_study,{bank},Bank cut audit time,2,3,0.5"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "20260301"}, "from"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"segment": "abc"}, "segment"),
        ({"segment": "999999"}, "segment"),
        ({"sequence": "0"}, "sequence"),
        ({"sequence": "²"}, "sequence"),
        ({"interval": "day"}, "interval"),
        ({"source": "x" * 500}, "source"),
        ({"source": "web\x00site"}, "source"),
        ({"segment": "99999999999999999999"}, "segment"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(
    client: Client, headers: Headers, params: dict[str, str], field: str
) -> None:
    for path in ("/api/v1/reports/lifecycle", "/api/v1/reports/lifecycle.csv"):
        answer = client.get(path, params=params, headers=headers)
        assert answer.status_code == 400, answer.text
        problems = answer.json()["error"]["problems"]
        assert [p["field"] for p in problems] == [field], problems


def test_reports_need_an_api_key(client: Client) -> None:
    assert client.get("/api/v1/reports/funnel").status_code == 401
