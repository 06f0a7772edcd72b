"""`POST /api/v1/projects` (201 create, 200 update, 422 naming fields) and reading projects."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Event, Service
from tests.api.conftest import Headers
from tests.factories import make_user

Client = TestClient[Litestar]


def body(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "external_id": "PRJ-7",
        "name": "Data platform, phase 1",
        "status": "completed",
        "clients": [{"email": "emma@client.example", "first_name": "Emma"}],
        "company": "Harbor Freight",
        "service": "data-platform",
        "account_manager": "am@firm.test",
        "team": ["am@firm.test"],
        "started_on": "2026-01-05",
        "ends_on": "2026-02-27",
    }
    data.update(fields)
    return data


def test_report_creates_then_updates_and_writes_the_event_once(
    client: Client, db: Session, headers: Headers
) -> None:
    db.add(Service(slug="data-platform", name="Data platform"))
    make_user(db, email="am@firm.test")
    db.commit()

    created = client.post("/api/v1/projects", json=body(status="active"), headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["created"] is True
    assert created.json()["events"] == 0

    done = client.post("/api/v1/projects", json=body(), headers=headers)
    assert done.status_code == 200, done.text
    answer = done.json()
    assert answer["completed_now"] is True
    assert answer["events"] == 1
    project = answer["project"]
    assert project["status"] == "completed"
    assert project["service"] == "data-platform"
    assert project["account_manager"] == "am@firm.test"
    assert project["company"] == "Harbor Freight"
    assert project["clients"] == 1

    again = client.post("/api/v1/projects", json=body(), headers=headers)
    assert again.status_code == 200
    assert again.json()["events"] == 0
    count = select(func.count()).select_from(Event).where(Event.type == "project.completed")
    assert db.scalar(count) == 1

    listed = client.get("/api/v1/projects", headers=headers)
    assert listed.status_code == 200
    assert [p["external_id"] for p in listed.json()["items"]] == ["PRJ-7"]
    one = client.get(f"/api/v1/projects/{project['id']}", headers=headers)
    assert one.status_code == 200
    detail = one.json()
    assert detail["team"] == ["am@firm.test"]
    assert detail["clients"][0]["email"] == "emma@client.example"
    assert detail["clients"][0]["survey_id"] is None
    assert client.get("/api/v1/projects/999999", headers=headers).status_code == 404


def test_a_bad_report_is_422_naming_each_field(client: Client, headers: Headers) -> None:
    answer = client.post(
        "/api/v1/projects",
        json={"external_id": 5, "status": "done", "clients": ["nope"], "service": "ghost"},
        headers=headers,
    )
    assert answer.status_code == 422, answer.text
    text = answer.text
    for name in ("external_id", "name", "status", "clients[0].email"):
        assert name in text
    unknown = client.post("/api/v1/projects", json=body(service="ghost"), headers=headers)
    assert unknown.status_code == 422
    assert "service" in unknown.text
    assert client.post("/api/v1/projects", content=b"[1]", headers=headers).status_code == 422
    assert client.post("/api/v1/projects", content=b"{", headers=headers).status_code == 400


def test_listing_pages_by_cursor_and_filters_by_status(
    client: Client, db: Session, headers: Headers
) -> None:
    for n in range(3):
        fields: dict[str, Any] = {
            "service": None,
            "account_manager": None,
            "team": [],
            "status": "active",
        }
        if n == 0:
            fields["status"] = "planned"
        reply = client.post(
            "/api/v1/projects", json=body(external_id=f"P-{n}", **fields), headers=headers
        )
        assert reply.status_code == 201, reply.text
    first = client.get("/api/v1/projects?limit=2", headers=headers).json()
    assert [p["external_id"] for p in first["items"]] == ["P-2", "P-1"]
    rest = client.get(
        "/api/v1/projects", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert [p["external_id"] for p in rest["items"]] == ["P-0"]
    assert rest["next_cursor"] is None
    planned = client.get("/api/v1/projects?status=planned", headers=headers).json()
    assert [p["external_id"] for p in planned["items"]] == ["P-0"]
    bad = client.get("/api/v1/projects?cursor=garbage", headers=headers)
    assert bad.status_code == 422
