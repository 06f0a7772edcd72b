"""Task steps: who gets the task (assign_to and its resolvers), when it is due in
working days, and whether it escalates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences import definition, tasks
from campaigns.sequences.engine import Mailer
from campaigns.sequences.waits import add_working_days
from nurture.errors import InvalidInput
from nurture.models import Contact, Enrolment, SalesRep, Task
from tests.factories import make_contact, make_user
from tests.sequences.helpers import drive, enrol, make_sequence

BERLIN = ZoneInfo("Europe/Berlin")


def local(
    year: int, month: int, day: int, hour: int, minute: int, tz: ZoneInfo = BERLIN
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


@pytest.mark.parametrize(
    ("made", "days", "due"),
    [
        # Friday 15:00 plus one working day is Monday 15:00.
        (local(2026, 12, 4, 15, 0), 1, local(2026, 12, 7, 15, 0)),
        # Wednesday plus three: Thursday, Friday, Monday.
        (local(2026, 12, 2, 10, 30), 3, local(2026, 12, 7, 10, 30)),
        (local(2026, 12, 2, 10, 30), 5, local(2026, 12, 9, 10, 30)),
        # Made at the weekend, the count starts on Monday at 09:00.
        (local(2026, 12, 5, 23, 0), 1, local(2026, 12, 8, 9, 0)),
        (local(2026, 12, 6, 1, 0), 2, local(2026, 12, 9, 9, 0)),
        # Across the clocks going forward: the same local time, an hour less in UTC.
        (local(2026, 3, 27, 15, 0), 1, local(2026, 3, 30, 15, 0)),
        # Thirty working days are six weeks.
        (local(2026, 12, 1, 8, 0), 30, local(2027, 1, 12, 8, 0)),
    ],
)
def test_working_days_skip_the_weekend_at_the_same_local_time(
    made: datetime, days: int, due: datetime
) -> None:
    result = add_working_days(made.astimezone(UTC), days, BERLIN)
    assert result == due
    assert result.tzinfo is not None
    assert result.astimezone(BERLIN).hour == due.hour


def test_working_days_are_counted_in_the_zone_given() -> None:
    # Friday 23:30 in UTC is already Saturday in Tokyo: a weekend start there.
    made = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    assert add_working_days(made, 1, UTC) == datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    tokyo = ZoneInfo("Asia/Tokyo")
    assert add_working_days(made, 1, tokyo) == local(2026, 12, 8, 9, 0, tz=tokyo)


def task_step(**fields: Any) -> dict[str, Any]:
    return {"key": "call", "type": "task", "kind": "call", **fields}


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"assign_to": "boss"}, ("assign_to", "must be one of owner, account_manager")),
        ({"assign_to": None}, ("assign_to", "must be one of owner, account_manager")),
        ({"due_in_working_days": 0}, ("due_in_working_days", "must be a whole number")),
        ({"due_in_working_days": 31}, ("due_in_working_days", "must be a whole number")),
        ({"due_in_working_days": True}, ("due_in_working_days", "must be a whole number")),
        ({"due_in_working_days": "1"}, ("due_in_working_days", "must be a whole number")),
        (
            {"due_in_working_days": 1, "due_in_hours": 24},
            ("due_in_working_days", "give either due_in_hours or this"),
        ),
        ({"escalate": "yes"}, ("escalate", "must be true or false")),
        ({"escalate": 1}, ("escalate", "must be true or false")),
    ],
)
def test_task_options_name_what_is_wrong(fields: dict[str, Any], problem: tuple[str, str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        definition.parse({"steps": [task_step(**fields)]})
    found = [(p.field, p.message) for p in caught.value.problems]
    assert len(found) == 1
    assert found[0][0] == f"steps[0].{problem[0]}"
    assert found[0][1].startswith(problem[1])


def test_task_options_that_are_valid_parse() -> None:
    flow = definition.parse(
        {
            "steps": [
                task_step(assign_to="account_manager", due_in_working_days=30, escalate=True),
                {**task_step(assign_to="owner", escalate=False), "key": "again"},
            ]
        }
    )
    assert flow.steps["call"].spec["escalate"] is True


@pytest.fixture
def resolvers(monkeypatch: pytest.MonkeyPatch) -> dict[str, tasks.Assignee]:
    fresh: dict[str, tasks.Assignee] = {}
    # The registry is process-wide: what a test registers must not outlive it.
    monkeypatch.setattr(tasks, "_ASSIGNEES", fresh)
    return fresh


def made_task(db: Session, mailer: Mailer, contact: Contact, now: datetime, **fields: Any) -> Task:
    sequence = make_sequence(db, [task_step(**fields)])
    drive(db, enrol(db, sequence, contact.id, now), now, mailer)
    return db.scalars(
        select(Task).where(Task.contact_id == contact.id).execution_options(populate_existing=True)
    ).one()


def test_an_account_manager_task_goes_to_whom_the_resolver_names(
    db: Session, mailer: Mailer, resolvers: dict[str, tasks.Assignee]
) -> None:
    owner, manager = make_user(db, role="sales"), make_user(db, role="sales")
    asked: list[tuple[int, int]] = []

    def account_manager(session: Session, contact: Contact, enrolment: Enrolment) -> int | None:
        asked.append((contact.id, enrolment.id))
        return manager.id if contact.first_name == "Client" else None

    tasks.register_assignee("account_manager", account_manager)
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    client = make_contact(db, first_name="Client", owner_id=owner.id)
    other = make_contact(db, first_name="Other", owner_id=owner.id)

    mine = made_task(db, mailer, client, now, assign_to="account_manager")
    # The resolver knows nobody: the owner rule, as before.
    fallback = made_task(db, mailer, other, now, assign_to="account_manager")

    assert (mine.assignee_id, fallback.assignee_id) == (manager.id, owner.id)
    assert [contact_id for contact_id, _ in asked] == [client.id, other.id]


def test_with_no_resolver_registered_an_account_manager_task_goes_to_the_owner(
    db: Session, mailer: Mailer, resolvers: dict[str, tasks.Assignee]
) -> None:
    owner = make_user(db, role="sales")
    contact = make_contact(db, owner_id=owner.id)
    task = made_task(
        db, mailer, contact, datetime(2026, 12, 2, 9, 0, tzinfo=UTC), assign_to="account_manager"
    )
    assert task.assignee_id == owner.id


def test_a_working_day_task_is_due_in_its_assignees_zone_and_escalates(
    db: Session, mailer: Mailer
) -> None:
    rep = make_user(db, role="sales")
    db.add(SalesRep(user_id=rep.id, time_zone="Europe/Berlin"))
    db.commit()
    friday_afternoon = local(2026, 12, 4, 15, 0).astimezone(UTC)
    contact = make_contact(db, owner_id=rep.id)

    task = made_task(db, mailer, contact, friday_afternoon, due_in_working_days=1, escalate=True)

    assert task.due_at == local(2026, 12, 7, 15, 0)
    assert task.escalate is True
    assert (task.escalated_at, task.escalated_to_id) == (None, None)


def test_an_assignee_without_a_zone_counts_working_days_in_utc(db: Session, mailer: Mailer) -> None:
    rep = make_user(db, role="sales")
    saturday = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
    task = made_task(db, mailer, make_contact(db, owner_id=rep.id), saturday, due_in_working_days=2)
    assert task.due_at == datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
    assert task.escalate is False


def test_tasks_keep_their_hours_and_do_not_escalate_unless_asked(
    db: Session, mailer: Mailer
) -> None:
    now = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
    task = made_task(db, mailer, make_contact(db), now, due_in_hours=24)
    assert task.due_at == now + timedelta(hours=24)
    assert task.escalate is False
