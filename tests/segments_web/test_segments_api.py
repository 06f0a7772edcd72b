"""Segments over the API: CRUD with audit, preview with paths, members, CSV, lists, roles."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import AuditEntry
from tests.api.conftest import Headers
from tests.factories import make_contact

Client = TestClient[Litestar]
LEGAL = {"name": "Kanzlei", "domain": "kanzlei.example", "industry": "legal", "country": "DE"}
SOFT = {"name": "Soft", "domain": "soft.example", "industry": "software", "country": "AT"}


def _rule(node: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "rule": node}


LEGAL_PARTNERS = _rule(
    {
        "all": [
            {"field": "company.industry", "op": "equals", "value": "legal"},
            {
                "any": [
                    {"field": "title", "op": "contains", "value": "partner"},
                    {"field": "title", "op": "contains", "value": "director"},
                ]
            },
        ]
    }
)


def _people(db: Session) -> dict[str, int]:
    ids = {
        "partner": make_contact(db, title="Senior Partner", company=LEGAL).id,
        "director": make_contact(db, title="Director of Legal Ops", company=LEGAL).id,
        "clerk": make_contact(db, title="Clerk", company=LEGAL).id,
        "coder": make_contact(db, title="Partner engineer", company=SOFT).id,
    }
    db.commit()
    return ids


def test_a_segment_is_created_read_changed_and_deleted_with_audit_entries(
    client: Client, db: Session, headers: Headers
) -> None:
    people = _people(db)
    created = client.post(
        "/api/v1/segments",
        json={"name": "Legal partners", "rule": LEGAL_PARTNERS, "description": "DACH"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["kind"] == "dynamic"
    assert segment["rule"] == LEGAL_PARTNERS
    sid = segment["id"]

    refreshed = client.post(f"/api/v1/segments/{sid}/refresh", headers=headers)
    assert refreshed.status_code == 200
    assert sorted(refreshed.json()["entered"]) == sorted([people["partner"], people["director"]])
    assert client.get(f"/api/v1/segments/{sid}", headers=headers).json()["size"] == 2

    changed = client.patch(
        f"/api/v1/segments/{sid}",
        json={"rule": _rule({"field": "title", "op": "contains", "value": "partner"})},
        headers=headers,
    )
    assert changed.status_code == 200
    assert changed.json()["revision"] == 2
    listed = client.get("/api/v1/segments", headers=headers).json()["items"]
    assert [s["name"] for s in listed] == ["Legal partners"]

    assert client.delete(f"/api/v1/segments/{sid}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/segments/{sid}", headers=headers).status_code == 404
    actions = db.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "segment").order_by(AuditEntry.id)
    ).all()
    assert actions == ["segment.created", "segment.updated", "segment.deleted"]


def test_preview_counts_and_samples_without_saving(
    client: Client, db: Session, headers: Headers
) -> None:
    people = _people(db)
    answer = client.post("/api/v1/segments/preview", json=LEGAL_PARTNERS, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["count"] == 2
    assert [c["id"] for c in body["sample"]] == sorted([people["partner"], people["director"]])
    assert client.get("/api/v1/segments", headers=headers).json()["items"] == []


def test_an_invalid_rule_is_refused_naming_the_exact_path(
    client: Client, db: Session, headers: Headers
) -> None:
    bad = _rule(
        {
            "all": [
                {"field": "company.industry", "op": "equals", "value": "legal"},
                {"any": [{"field": "score", "op": "gt", "value": "forty"}]},
            ]
        }
    )
    answer = client.post("/api/v1/segments/preview", json=bad, headers=headers)
    assert answer.status_code == 422
    fields = [p["field"] for p in answer.json()["error"]["problems"]]
    assert fields == ["rule.all[1].any[0].value"]
    create = client.post("/api/v1/segments", json={"name": "Bad", "rule": bad}, headers=headers)
    assert create.status_code == 422
    assert create.json()["error"]["problems"][0]["field"] == "rule.all[1].any[0].value"


def test_deleting_a_segment_another_rule_uses_is_refused(
    client: Client, db: Session, headers: Headers
) -> None:
    base = client.post(
        "/api/v1/segments", json={"name": "Base", "rule": LEGAL_PARTNERS}, headers=headers
    ).json()
    on_top = _rule({"segment": base["id"], "op": "member"})
    client.post("/api/v1/segments", json={"name": "On top", "rule": on_top}, headers=headers)
    answer = client.delete(f"/api/v1/segments/{base['id']}", headers=headers)
    assert answer.status_code == 409
    assert "used by" in answer.json()["error"]["message"]


def test_duplicate_copies_the_rule_under_a_new_name(
    client: Client, db: Session, headers: Headers
) -> None:
    sid = client.post(
        "/api/v1/segments", json={"name": "Original", "rule": LEGAL_PARTNERS}, headers=headers
    ).json()["id"]
    copy = client.post(f"/api/v1/segments/{sid}/duplicate", json={"name": "Copy"}, headers=headers)
    assert copy.status_code == 201
    assert copy.json()["rule"] == LEGAL_PARTNERS
    assert copy.json()["id"] != sid
    same = client.post(
        f"/api/v1/segments/{sid}/duplicate", json={"name": "Original"}, headers=headers
    )
    assert same.status_code == 422
    assert same.json()["error"]["problems"][0]["field"] == "name"


def test_members_page_by_cursor_each_exactly_once(
    client: Client, db: Session, headers: Headers
) -> None:
    ids = [make_contact(db, title="Partner", company=LEGAL).id for _ in range(7)]
    db.commit()
    sid = client.post(
        "/api/v1/segments", json={"name": "Legal", "rule": LEGAL_PARTNERS}, headers=headers
    ).json()["id"]
    client.post(f"/api/v1/segments/{sid}/refresh", headers=headers)
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/api/v1/segments/{sid}/contacts", params=params, headers=headers)
        assert page.status_code == 200
        seen += [c["id"] for c in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids)
    bad = client.get(
        f"/api/v1/segments/{sid}/contacts", params={"cursor": "nonsense"}, headers=headers
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["field"] == "cursor"


def test_csv_export_holds_every_member_with_company_columns(
    client: Client, db: Session, headers: Headers
) -> None:
    people = _people(db)
    sid = client.post(
        "/api/v1/segments", json={"name": "Legal & co", "rule": LEGAL_PARTNERS}, headers=headers
    ).json()["id"]
    client.post(f"/api/v1/segments/{sid}/refresh", headers=headers)
    answer = client.get(f"/api/v1/segments/{sid}/contacts.csv", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="Legal---co.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [int(r["id"]) for r in rows] == sorted([people["partner"], people["director"]])
    assert {r["industry"] for r in rows} == {"legal"}
    assert rows[0]["company"] == "Kanzlei"


def test_static_list_add_remove_and_csv_import_report(
    client: Client, db: Session, headers: Headers
) -> None:
    a = make_contact(db, email="a@firm.example")
    b = make_contact(db, email="b@firm.example")
    db.commit()
    sid = client.post(
        "/api/v1/segments", json={"name": "Hand-picked", "kind": "static"}, headers=headers
    ).json()["id"]
    added = client.post(
        f"/api/v1/segments/{sid}/members", json={"contact_ids": [a.id]}, headers=headers
    )
    assert added.status_code == 200
    assert added.json()["entered"] == [a.id]
    unknown = client.post(
        f"/api/v1/segments/{sid}/members", json={"contact_ids": [a.id, 999999]}, headers=headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["problems"][0] == {
        "field": "contact_ids",
        "message": "no contact with id 999999",
        "index": 1,
    }
    report = client.post(
        f"/api/v1/segments/{sid}/import",
        content=b"email,name\nA@firm.example,A\nb@firm.example,B\nnobody@x.example,N\nnot-mail,X\n",
        headers={**headers, "content-type": "text/csv"},
    )
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["added"] == [b.id]
    assert body["already_members"] == 1
    assert body["unknown"] == [{"line": 4, "value": "nobody@x.example"}]
    assert [i["line"] for i in body["invalid"]] == [5]
    removed = client.post(
        f"/api/v1/segments/{sid}/members/remove", json={"contact_ids": [a.id]}, headers=headers
    )
    assert removed.json()["exited"] == [a.id]
    members = client.get(f"/api/v1/segments/{sid}/contacts", headers=headers).json()["items"]
    assert [m["id"] for m in members] == [b.id]


def test_a_dynamic_segment_refuses_hand_added_members(
    client: Client, db: Session, headers: Headers
) -> None:
    contact = make_contact(db)
    db.commit()
    sid = client.post(
        "/api/v1/segments", json={"name": "Rules", "rule": LEGAL_PARTNERS}, headers=headers
    ).json()["id"]
    answer = client.post(
        f"/api/v1/segments/{sid}/members", json={"contact_ids": [contact.id]}, headers=headers
    )
    assert answer.status_code == 409


def test_fields_describe_operators_and_suggest_values_in_use(
    client: Client, db: Session, headers: Headers
) -> None:
    _people(db)
    body = client.get("/api/v1/segments/fields", headers=headers).json()
    stage = next(f for f in body["fields"] if f["name"] == "lifecycle_stage")
    assert stage["type"] == "enum"
    assert "customer" in stage["choices"]
    assert body["suggestions"]["company.industry"] == ["legal", "software"]
    assert "webinar.attended" in body["event_types"]


def test_sales_may_read_but_not_change_and_no_key_is_401(
    client: Client, db: Session, headers_for: Callable[[str], Headers]
) -> None:
    marketer, sales = headers_for("marketer"), headers_for("sales")
    sid = client.post(
        "/api/v1/segments", json={"name": "Legal", "rule": LEGAL_PARTNERS}, headers=marketer
    ).json()["id"]
    assert client.get("/api/v1/segments", headers=sales).status_code == 200
    assert client.get(f"/api/v1/segments/{sid}/contacts", headers=sales).status_code == 200
    assert (
        client.post("/api/v1/segments/preview", json=LEGAL_PARTNERS, headers=sales).status_code
        == 200
    )
    for method, url, body in [
        ("POST", "/api/v1/segments", {"name": "X", "rule": LEGAL_PARTNERS}),
        ("PATCH", f"/api/v1/segments/{sid}", {"name": "Y"}),
        ("DELETE", f"/api/v1/segments/{sid}", None),
        ("POST", f"/api/v1/segments/{sid}/refresh", None),
    ]:
        answer = client.request(method, url, json=body, headers=sales)
        assert answer.status_code == 403, (method, url)
    assert client.get("/api/v1/segments").status_code == 401
