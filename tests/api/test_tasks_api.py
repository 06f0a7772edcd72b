"""Sales tasks over the API: listing with filters and pages, recording an outcome once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import AuditEntry, Event, Task, TaskOutcome, utcnow
from tests.api.conftest import Headers
from tests.factories import make_contact, make_task, make_user

Client = TestClient[Litestar]


def _ids(body: dict[str, object]) -> list[int]:
    items = body["items"]
    assert isinstance(items, list)
    return [item["id"] for item in items]


def test_open_tasks_are_listed_by_due_time_with_their_contact(
    client: Client, db: Session, headers: Headers
) -> None:
    rep = make_user(db, role="sales")
    now = utcnow()
    contact = make_contact(db, first_name="Lena", company={"name": "Brandt", "industry": "legal"})
    later = make_task(db, contact, assignee_id=rep.id, due_at=now + timedelta(days=1))
    overdue = make_task(db, make_contact(db), kind="linkedin_connect", due_at=now - timedelta(1))
    db.commit()

    response = client.get("/api/v1/tasks", headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert _ids(body) == [overdue.id, later.id]
    assert body["next_cursor"] is None
    first, second = body["items"]
    assert first["overdue"] is True
    assert first["kind"] == "linkedin_connect"
    assert second["overdue"] is False
    assert second["assignee_id"] == rep.id
    assert second["contact"]["first_name"] == "Lena"
    assert second["contact"]["company"]["industry"] == "legal"
    assert second["outcome"] is None
    assert second["sequence"] is None


def test_filters_by_assignee_kind_due_time_and_status(
    client: Client, db: Session, headers: Headers
) -> None:
    rep = make_user(db, role="sales")
    now = utcnow()
    mine = make_task(db, make_contact(db), assignee_id=rep.id, due_at=now - timedelta(hours=1))
    later = make_task(db, make_contact(db), kind="meeting", assignee_id=rep.id)
    later.due_at = now + timedelta(days=5)
    nobody = make_task(db, make_contact(db), due_at=now - timedelta(hours=2))
    done = make_task(db, make_contact(db), assignee_id=rep.id)
    done.outcome, done.outcome_at = "done", now
    db.commit()

    def listed(**params: str) -> list[int]:
        response = client.get("/api/v1/tasks", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return _ids(response.json())

    assert listed(assignee=str(rep.id)) == [mine.id, later.id]
    assert listed(assignee="unassigned") == [nobody.id]
    assert listed(kind="meeting") == [later.id]
    assert listed(due_before=(now + timedelta(days=1)).isoformat()) == [nobody.id, mine.id]
    assert listed(status="done") == [done.id]


def test_pages_follow_the_cursor_without_repeats(
    client: Client, db: Session, headers: Headers
) -> None:
    now = utcnow()
    made = [
        make_task(db, make_contact(db), due_at=now + timedelta(minutes=n // 2)) for n in range(7)
    ]
    db.commit()
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/tasks", params=params, headers=headers).json()
        seen += _ids(body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [t.id for t in made]


def test_bad_filters_name_the_parameter(client: Client, headers: Headers) -> None:
    cases = {
        "assignee=someone": "assignee",
        "kind=fax": "kind",
        "status=later": "status",
        "due_before=2026-01-01T10:00:00": "due_before",
        "cursor=xyz": "cursor",
        "limit=0": "limit",
    }
    for query, field in cases.items():
        response = client.get(f"/api/v1/tasks?{query}", headers=headers)
        assert response.status_code in (400, 422), (query, response.text)
        assert field in response.text, (query, response.text)


def test_recording_an_outcome_adds_one_event_and_an_audit_entry(
    client: Client, db: Session, headers_for: Callable[[str], Headers]
) -> None:
    task = make_task(db, make_contact(db))
    db.commit()
    sales = headers_for("sales")
    url = f"/api/v1/tasks/{task.id}/outcome"

    first = client.post(url, json={"outcome": "meeting_booked"}, headers=sales)
    again = client.post(url, json={"outcome": "meeting_booked"}, headers=sales)

    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "meeting_booked"
    assert first.json()["outcome_at"] is not None
    assert again.status_code == 200
    assert again.json()["outcome_at"] == first.json()["outcome_at"]
    events = db.scalars(select(Event).where(Event.type == "task.completed")).all()
    assert [e.properties["outcome"] for e in events] == ["meeting_booked"]
    audit = db.scalars(select(AuditEntry).where(AuditEntry.entity_type == "task")).all()
    assert len(audit) == 1
    assert audit[0].actor.startswith("apikey:")


def test_a_different_second_outcome_is_a_conflict_that_keeps_the_first(
    client: Client, db: Session, headers: Headers
) -> None:
    task = make_task(db, make_contact(db))
    db.commit()
    url = f"/api/v1/tasks/{task.id}/outcome"
    client.post(url, json={"outcome": "no_answer"}, headers=headers)

    response = client.post(url, json={"outcome": "done"}, headers=headers)

    assert response.status_code == 409
    assert "already marked 'no answer'" in response.json()["error"]["message"]
    db.expire_all()
    stored = db.get(Task, task.id)
    assert stored is not None
    assert stored.outcome == "no_answer"


def test_bad_outcome_bodies_are_refused_naming_the_field(
    client: Client, db: Session, headers: Headers
) -> None:
    task = make_task(db, make_contact(db))
    db.commit()
    url = f"/api/v1/tasks/{task.id}/outcome"
    cases = [
        ({"outcome": "maybe"}, "outcome"),
        ({}, "outcome"),
        ({"outcome": 3}, "outcome"),
        ({"outcome": "done", "note": "x"}, "note"),
        ([], "body"),
    ]
    for body, field in cases:
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["problems"][0]["field"] == field
    broken = client.post(url, content=b"{", headers={**headers, "content-type": "application/json"})
    assert broken.status_code == 400
    missing = client.post("/api/v1/tasks/99999/outcome", json={"outcome": "done"}, headers=headers)
    assert missing.status_code == 404
    db.expire_all()
    stored = db.get(Task, task.id)
    assert stored is not None
    assert stored.outcome is None


def test_tasks_need_an_api_key(client: Client) -> None:
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.post("/api/v1/tasks/1/outcome", json={"outcome": "done"}).status_code == 401


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(max_size=16)
    | st.sampled_from([o.value for o in TaskOutcome]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
bodies = json_values | st.fixed_dictionaries({}, optional={"outcome": json_values})
query_values = st.text(max_size=30) | st.sampled_from(
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "unassigned", "9" * 25, "-1"]
)


@FUZZ
@given(body=bodies)
def test_any_outcome_body_gets_an_answer_or_a_4xx_never_a_500(
    client: Client, headers: Headers, body: object
) -> None:
    response = client.post("/api/v1/tasks/1/outcome", json=body, headers=headers)
    assert response.status_code in (200, 400, 404, 409, 422), response.text


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["assignee", "kind", "status", "due_before", "cursor", "limit"]),
        query_values,
        max_size=4,
    )
)
def test_any_list_query_gets_a_page_or_a_4xx_never_a_500(
    client: Client, headers: Headers, params: dict[str, str]
) -> None:
    response = client.get("/api/v1/tasks", params=params, headers=headers)
    assert response.status_code in (200, 400, 422), response.text
