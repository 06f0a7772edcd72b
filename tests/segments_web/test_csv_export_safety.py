"""The member CSV opens safely in a spreadsheet and downloads under any segment name."""

from __future__ import annotations

import csv
import io
from urllib.parse import unquote

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from tests.api.conftest import Headers
from tests.factories import make_contact

Client = TestClient[Litestar]
LEGAL_RULE = {
    "version": 1,
    "rule": {"field": "company.industry", "op": "equals", "value": "legal"},
}
LEGAL = {"name": "Kanzlei", "domain": "kanzlei.example", "industry": "legal", "country": "DE"}


def _export(client: Client, headers: Headers, name: str) -> tuple[str, list[dict[str, str]]]:
    sid = client.post(
        "/api/v1/segments", json={"name": name, "rule": LEGAL_RULE}, headers=headers
    ).json()["id"]
    client.post(f"/api/v1/segments/{sid}/refresh", headers=headers)
    answer = client.get(f"/api/v1/segments/{sid}/contacts.csv", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.headers["content-disposition"], list(csv.DictReader(io.StringIO(answer.text)))


def test_cells_that_would_start_a_formula_are_exported_as_text(
    client: Client, db: Session, headers: Headers
) -> None:
    make_contact(
        db,
        email="formula@example.com",
        first_name='=HYPERLINK("http://evil.example","x")',
        last_name="+1+1",
        title="@SUM(A1)",
        company={**LEGAL, "name": "-2+3", "domain": "minus.example"},
    )
    make_contact(
        db,
        email="tabs@example.com",
        first_name="=1+1",
        last_name="-2",
        title="Partner = boss",
        company=LEGAL,
    )
    db.commit()
    _, rows = _export(client, headers, "Legal")
    by_email = {row["email"]: row for row in rows}
    formula = by_email["formula@example.com"]
    assert formula["first_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert formula["last_name"] == "'+1+1"
    assert formula["title"] == "'@SUM(A1)"
    assert formula["company"] == "'-2+3"
    tabs = by_email["tabs@example.com"]
    assert tabs["first_name"] == "'=1+1"
    # A plain negative number is a number to a spreadsheet, not a formula: it stays.
    assert tabs["last_name"] == "-2"
    assert tabs["title"] == "Partner = boss"
    assert tabs["company"] == "Kanzlei"


def test_a_segment_named_outside_latin_1_downloads_under_its_own_name(
    client: Client, db: Session, headers: Headers
) -> None:
    make_contact(db, email="one@example.com", company=LEGAL)
    db.commit()
    disposition, rows = _export(client, headers, "Résumé 日本 export")
    assert [row["email"] for row in rows] == ["one@example.com"]
    assert disposition.startswith('attachment; filename="Resume--export.csv"; ')
    assert disposition.encode("ascii")
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded, encoding="utf-8") == "Résumé 日本 export.csv"
