"""Small builders for test data: real rows through the domain functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from campaigns.sequences.tasks import create_task
from nurture import accounts
from nurture.contacts import upsert_contact
from nurture.models import ApiKey, Contact, Task, User

_seq = count(1)
PASSWORD = "correct horse battery"


def make_user(db: Session, *, role: str = "marketer", email: str | None = None) -> User:
    n = next(_seq)
    return accounts.create_user(
        db,
        email=email or f"user{n}@nurture.test",
        password=PASSWORD,
        role=role,
        name=f"User {n}",
        actor="test",
    )


def make_api_key(db: Session, *, role: str = "marketer") -> tuple[ApiKey, str]:
    return accounts.create_api_key(db, name=f"key {next(_seq)}", role=role, actor="test")


def make_contact(db: Session, **fields: object) -> Contact:
    n = next(_seq)
    data: dict[str, object] = {"email": f"person{n}@example.com", "first_name": f"Person{n}"}
    data.update(fields)
    contact, _ = upsert_contact(db, data, actor="test")
    return contact


def make_task(
    db: Session,
    contact: Contact,
    *,
    kind: str = "call",
    due_at: datetime | None = None,
    instructions: str = "",
    assignee_id: int | None = None,
) -> Task:
    """A rep's task outside any sequence, due when asked (default: in an hour)."""
    now = datetime.now(UTC)
    task = create_task(
        db,
        key=f"test-task:{next(_seq)}",
        contact=contact,
        enrolment_id=None,
        step_key=None,
        spec={"kind": kind, "instructions": instructions, "due_in_hours": 0},
        now=now,
    )
    task.due_at = due_at or now + timedelta(hours=1)
    task.assignee_id = assignee_id
    db.flush()
    return task
