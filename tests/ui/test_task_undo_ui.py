"""The task card offers to undo an outcome for a few minutes after it is recorded."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.sequences.task_undo import UNDO_WINDOW
from nurture.models import AuditEntry, Task, utcnow
from tests.factories import make_contact, make_task, make_user
from tests.ui.helpers import HTML, Client, csrf_token, login, post_form

HTMX = {**HTML, "hx-request": "true"}


def _post(client: Client, path: str, data: dict[str, str] | None = None) -> str:
    response = client.post(
        path, data=data or {}, headers={**HTMX, "x-csrftoken": csrf_token(client)}
    )
    assert response.status_code == 200, response.text
    return response.text


def _signed_in_task(client: Client, db: Session) -> Task:
    rep = make_user(db, role="sales")
    task = make_task(db, make_contact(db), assignee_id=rep.id)
    db.commit()
    login(client, rep)
    return task


def test_a_recorded_outcome_can_be_undone_from_its_card(client: Client, db: Session) -> None:
    task = _signed_in_task(client, db)

    recorded = _post(client, f"/tasks/{task.id}/outcome", {"outcome": "meeting_booked"})
    assert f'hx-post="/tasks/{task.id}/undo"' in recorded
    assert "undo it for 10 minutes" in recorded

    reopened = _post(client, f"/tasks/{task.id}/undo")

    assert "Outcome undone. The task is open again." in reopened
    assert 'name="outcome"' in reopened  # the outcome buttons are back
    assert "Outcome recorded" not in reopened
    db.expire_all()
    stored = db.get(Task, task.id)
    assert stored is not None
    assert stored.outcome is None
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "task.outcome_undone")).one()
    assert entry.entity_id == str(task.id)


def test_an_outcome_older_than_the_window_offers_no_undo_and_refuses_one(
    client: Client, db: Session
) -> None:
    task = _signed_in_task(client, db)
    _post(client, f"/tasks/{task.id}/outcome", {"outcome": "done"})
    long_ago = utcnow() - UNDO_WINDOW - timedelta(minutes=1)
    db.execute(update(Task).where(Task.id == task.id).values(outcome_at=long_ago))
    db.commit()

    card = client.get("/tasks?status=done", headers=HTML).text
    refused = _post(client, f"/tasks/{task.id}/undo")
    plain = post_form(client, f"/tasks/{task.id}/undo", {})

    assert f"/tasks/{task.id}/undo" not in card
    assert 'role="alert"' in refused
    assert "can be undone for 10 minutes" in refused
    assert plain.status_code == 409


def test_a_form_post_without_javascript_undoes_and_goes_back_to_the_queue(
    client: Client, db: Session
) -> None:
    task = _signed_in_task(client, db)
    post_form(client, f"/tasks/{task.id}/outcome", {"outcome": "done"})

    response = post_form(client, f"/tasks/{task.id}/undo", {})

    assert response.status_code == 303
    assert response.headers["location"] == "/tasks"
    db.expire_all()
    stored = db.get(Task, task.id)
    assert stored is not None
    assert stored.outcome is None


def test_a_rep_cannot_undo_another_reps_task(client: Client, db: Session) -> None:
    other = make_user(db, role="sales")
    task = make_task(db, make_contact(db), assignee_id=other.id)
    me = make_user(db, role="sales")
    db.commit()
    login(client, me)

    assert post_form(client, f"/tasks/{task.id}/undo", {}).status_code == 403
