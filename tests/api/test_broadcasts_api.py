"""Broadcasts over the API: create a draft with a test phase, read it with its progress,
list, edit, schedule and cancel; bad input names the field; the small-test warning
carries the number needed and gives way to `accept_small_test`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import AuditEntry, BroadcastRecipient, utcnow
from segments import changes, lists
from tests.api.conftest import Headers
from tests.email.conftest import make_template
from tests.factories import make_contact

Client = TestClient[Litestar]


def _segment(db: Session, size: int) -> int:
    segment = changes.create(
        db,
        actor="test",
        user_id=None,
        name=f"Readers ({size})",
        kind="static",
        rule=None,
        description=None,
    )
    if size:
        lists.add_members(db, segment.id, [make_contact(db).id for _ in range(size)])
    db.commit()
    return segment.id


def _body(template_id: int, **extra: Any) -> dict[str, Any]:
    return {"name": "March newsletter", "template_id": template_id, **extra}


def _fields(answer: Any) -> list[str]:
    return [p["field"] for p in answer.json()["error"]["problems"]]


def test_a_draft_with_a_test_phase_is_created_read_listed_and_scheduled(
    client: Client, db: Session, headers: Headers
) -> None:
    template_id = make_template(db)
    segment_id = _segment(db, 3)
    test = {
        "percent": 20,
        "hours": 4,
        "metric": "opens",
        "default_variant": "b",
        "variants": [{"name": "Plain"}, {"subject": "Big news, {{ contact.first_name }}"}],
    }
    body = _body(
        template_id,
        segment_id=segment_id,
        local_time="09:00",
        cap_policy="override",
        quiet_hours={"start": "21:00", "end": "08:00"},
        test=test,
        accept_small_test=True,
    )
    answer = client.post("/api/v1/broadcasts", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert made["status"] == "draft"
    assert made["cap_policy"] == "override"
    assert made["quiet_hours"] == {"start": "21:00", "end": "08:00"}
    assert made["progress"]["total"] == 0
    assert made["test"]["percent"] == 20
    assert made["test"]["default_variant"] == "b"
    assert [v["key"] for v in made["test"]["variants"]] == ["a", "b"]
    assert made["test"]["variants"][1]["subject"] == "Big news, {{ contact.first_name }}"
    assert made["test"]["experiment_id"] is not None

    read = client.get(f"/api/v1/broadcasts/{made['id']}", headers=headers)
    assert read.status_code == 200
    assert read.json() == made

    listed = client.get("/api/v1/broadcasts", headers=headers).json()
    assert [b["id"] for b in listed["items"]] == [made["id"]]
    assert listed["next_cursor"] is None

    scheduled = client.post(f"/api/v1/broadcasts/{made['id']}/schedule", headers=headers)
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["status"] == "scheduled"
    again = client.post(f"/api/v1/broadcasts/{made['id']}/schedule", headers=headers)
    assert again.status_code == 409

    actions = db.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "broadcast")
    ).all()
    assert sorted(actions) == ["broadcast.created", "broadcast.scheduled"]


def test_bad_input_names_each_field(client: Client, db: Session, headers: Headers) -> None:
    template_id = make_template(db)
    segment_id = _segment(db, 2)
    past = (utcnow() - timedelta(days=2)).isoformat()
    answer = client.post(
        "/api/v1/broadcasts",
        json=_body(
            template_id,
            segment_id=segment_id,
            contact_ids=[1],
            send_at=past,
            quiet_hours={"start": "25:00", "end": "08:00"},
            test={"percent": 80, "hours": 4, "variants": [{"name": "only"}]},
        ),
        headers=headers,
    )
    assert answer.status_code == 422
    assert set(_fields(answer)) >= {
        "segment_id",
        "send_at",
        "quiet_hours.start",
        "test_percent",
        "variants",
    }

    malformed = client.post(
        "/api/v1/broadcasts",
        json=_body(template_id, segment_id=segment_id, local_time="9 am"),
        headers=headers,
    )
    assert malformed.status_code == 422
    assert _fields(malformed) == ["local_time"]

    empty = client.post(
        "/api/v1/broadcasts",
        json=_body(template_id, segment_id=_segment(db, 0)),
        headers=headers,
    )
    assert empty.status_code == 422
    assert _fields(empty) == ["segment_id"]
    assert "empty" in empty.json()["error"]["problems"][0]["message"]


def test_a_test_group_too_small_is_a_warning_with_the_number_needed(
    client: Client, db: Session, headers: Headers
) -> None:
    template_id = make_template(db)
    contacts = [make_contact(db).id for _ in range(4)]
    db.commit()
    test = {"percent": 50, "hours": 2, "variants": [{}, {"subject": "Another subject"}]}
    body = _body(template_id, contact_ids=contacts, test=test)
    warned = client.post("/api/v1/broadcasts", json=body, headers=headers)
    assert warned.status_code == 422
    problem = warned.json()["error"]["problems"][0]
    assert problem["field"] == "test_percent"
    assert "needs" in problem["message"]
    assert "accept_small_test" in problem["message"]

    accepted = client.post(
        "/api/v1/broadcasts", json={**body, "accept_small_test": True}, headers=headers
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["contact_count"] == 4


def test_a_draft_is_edited_then_cancelled_and_an_ended_one_refuses_both(
    client: Client, db: Session, headers: Headers
) -> None:
    template_id = make_template(db)
    contacts = [make_contact(db).id for _ in range(2)]
    db.commit()
    made = client.post(
        "/api/v1/broadcasts", json=_body(template_id, contact_ids=contacts), headers=headers
    ).json()
    changed = client.put(
        f"/api/v1/broadcasts/{made['id']}",
        json=_body(template_id, contact_ids=contacts[:1], local_time="10:30"),
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["local_time"] == "10:30"
    assert changed.json()["contact_count"] == 1

    cancelled = client.post(f"/api/v1/broadcasts/{made['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert (
        client.post(f"/api/v1/broadcasts/{made['id']}/cancel", headers=headers).status_code == 409
    )
    edit = client.put(
        f"/api/v1/broadcasts/{made['id']}",
        json=_body(template_id, contact_ids=contacts),
        headers=headers,
    )
    assert edit.status_code == 409
    assert client.get("/api/v1/broadcasts/999999", headers=headers).status_code == 404


def test_progress_counts_recipients_by_phase_and_pages_go_newest_first(
    client: Client, db: Session, headers: Headers
) -> None:
    template_id = make_template(db)
    contacts = [make_contact(db).id for _ in range(3)]
    db.commit()
    ids = [
        client.post(
            "/api/v1/broadcasts",
            json=_body(template_id, contact_ids=contacts, name=f"Issue {n}"),
            headers=headers,
        ).json()["id"]
        for n in range(3)
    ]
    # Recipients as the audience freeze writes them: one sent, one skipped, one pending.
    for contact_id, state in zip(contacts, ("sent", "skipped", "pending"), strict=True):
        db.add(BroadcastRecipient(broadcast_id=ids[0], contact_id=contact_id, state=state))
    db.commit()
    progress = client.get(f"/api/v1/broadcasts/{ids[0]}", headers=headers).json()["progress"]
    assert progress["total"] == 3
    assert (progress["sent"], progress["skipped"], progress["pending"]) == (1, 1, 1)
    assert progress["phases"] == [
        {"phase": "all", "total": 3, "sent": 1, "skipped": 1, "pending": 1, "cancelled": 0}
    ]

    first = client.get("/api/v1/broadcasts?limit=2", headers=headers).json()
    assert [b["id"] for b in first["items"]] == [ids[2], ids[1]]
    rest = client.get(
        "/api/v1/broadcasts", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert [b["id"] for b in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None
    client.post(f"/api/v1/broadcasts/{ids[1]}/cancel", headers=headers)
    cancelled = client.get("/api/v1/broadcasts?status=cancelled", headers=headers).json()
    assert [b["id"] for b in cancelled["items"]] == [ids[1]]
    unknown = client.get("/api/v1/broadcasts?status=lost", headers=headers)
    assert unknown.status_code == 400
    bad = client.get("/api/v1/broadcasts", params={"cursor": "nonsense"}, headers=headers)
    assert bad.status_code == 422
    assert _fields(bad) == ["cursor"]


def test_sales_keys_read_but_do_not_write(
    client: Client, db: Session, headers_for: Callable[[str], Headers]
) -> None:
    sales = headers_for("sales")
    assert client.get("/api/v1/broadcasts", headers=sales).status_code == 200
    refused = client.post(
        "/api/v1/broadcasts", json=_body(make_template(db), contact_ids=[1]), headers=sales
    )
    assert refused.status_code == 403
