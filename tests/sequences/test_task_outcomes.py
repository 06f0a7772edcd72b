"""A rep's task outcome steers the sequence: task -> wait for task.completed -> branch on it."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from dramatiq.brokers.stub import StubBroker
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences.engine import Limits, Mailer, Verdict
from campaigns.sequences.tasks import record_task_outcome
from nurture.db import session_scope
from nurture.errors import Conflict
from nurture.models import EnrolmentState, Event, Task, utcnow
from tests.factories import make_api_key, make_contact, make_task, make_user
from tests.sequences.helpers import drive, enrol, enrolment_of, make_sequence, outcomes, reload
from tests.stub_worker import drain
from workers.sequences import sequence_tick

# The marketer's flow: ask the rep to call, give them three days, then branch on the answer.
CALL_THEN_BRANCH: list[dict[str, Any]] = [
    {
        "key": "call",
        "type": "task",
        "kind": "call",
        "instructions": "Call {{ contact.first_name }} about the audit",
        "due_in_hours": 24,
    },
    {
        "key": "answer",
        "type": "wait",
        "event": "task.completed",
        "timeout": {"days": 3},
    },
    {
        "key": "booked",
        "type": "branch",
        "condition": {"task_outcome": ["meeting_booked"], "step": "call"},
        "then": [{"key": "won", "type": "goal"}],
        "else": [{"key": "nurture_more", "type": "exit"}],
    },
]
# Poll rarely, so a prompt branch can only come from the outcome waking the enrolment.
SLOW_POLL = Limits(event_poll=timedelta(days=1))


def _start(db: Session, mailer: Mailer) -> tuple[int, Task]:
    now = utcnow()
    rep = make_user(db, role="sales")
    contact = make_contact(db, first_name="Lena", owner_id=rep.id)
    sequence = make_sequence(db, CALL_THEN_BRANCH)
    enrolment = enrol(db, sequence, contact.id, now)
    results = drive(db, enrolment, now, mailer, SLOW_POLL)
    assert [r.verdict for r in results] == [Verdict.ADVANCED, Verdict.POSTPONED]
    task = db.scalars(select(Task)).one()
    assert task.assignee_id == rep.id
    assert task.instructions == "Call Lena about the audit"
    return enrolment, task


def test_meeting_booked_wakes_the_wait_and_takes_the_then_branch(
    db: Session, mailer: Mailer
) -> None:
    enrolment, task = _start(db, mailer)
    clicked = utcnow() + timedelta(hours=2)

    record_task_outcome(db, task.id, "meeting_booked", now=clicked, actor="user:1")
    db.commit()

    # Due at the click, not at the next poll a day later.
    assert reload(db, enrolment).next_run_at == clicked
    drive(db, enrolment, clicked, mailer, SLOW_POLL)
    assert outcomes(db, enrolment) == {
        "call": "created",
        "answer": "event",
        "booked": "then",
        "won": "goal",
    }
    finished = reload(db, enrolment)
    assert finished.state == EnrolmentState.COMPLETED
    assert finished.exit_reason == "goal:won"


def test_another_outcome_takes_the_else_branch(db: Session, mailer: Mailer) -> None:
    enrolment, task = _start(db, mailer)
    clicked = utcnow() + timedelta(hours=5)
    record_task_outcome(db, task.id, "not_interested", now=clicked)
    db.commit()

    drive(db, enrolment, clicked, mailer, SLOW_POLL)

    assert outcomes(db, enrolment)["booked"] == "else"
    assert reload(db, enrolment).exit_reason == "exit:nurture_more"


def test_no_outcome_by_the_timeout_takes_the_else_branch(db: Session, mailer: Mailer) -> None:
    enrolment, _ = _start(db, mailer)

    drive(db, enrolment, utcnow() + timedelta(days=3, minutes=1), mailer, SLOW_POLL)

    assert outcomes(db, enrolment)["answer"] == "timeout"
    assert outcomes(db, enrolment)["booked"] == "else"


def test_an_outcome_does_not_hurry_an_enrolment_on_a_timed_wait(
    db: Session, mailer: Mailer
) -> None:
    now = utcnow()
    sequence = make_sequence(
        db,
        [
            {"key": "call", "type": "task", "kind": "call"},
            {"key": "pause", "type": "wait", "duration": {"days": 4}},
            {"key": "done", "type": "goal"},
        ],
    )
    enrolment = enrol(db, sequence, make_contact(db).id, now)
    drive(db, enrolment, now, mailer)
    task = db.scalars(select(Task)).one()

    record_task_outcome(db, task.id, "done", now=now + timedelta(hours=1))
    db.commit()

    assert reload(db, enrolment).next_run_at == now + timedelta(days=4)


def test_an_outcome_recorded_over_the_api_steers_the_branch(
    db: Session, mailer: Mailer, client: TestClient[Litestar]
) -> None:
    enrolment, task = _start(db, mailer)
    _, secret = make_api_key(db, role="sales")
    db.commit()

    response = client.post(
        f"/api/v1/tasks/{task.id}/outcome",
        json={"outcome": "meeting_booked"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["sequence"]["name"] == "Nurture"
    assert response.json()["step_key"] == "call"

    woken = reload(db, enrolment).next_run_at
    assert woken is not None
    drive(db, enrolment, woken, mailer, SLOW_POLL)
    assert reload(db, enrolment).exit_reason == "goal:won"


def _tick(stub: StubBroker) -> None:
    sequence_tick.send()
    drain(stub)


def test_through_the_workers_a_booked_meeting_reaches_the_goal(
    db: Session, worker: StubBroker
) -> None:
    sequence = make_sequence(db, CALL_THEN_BRANCH)
    contact = make_contact(db, first_name="Lena", owner_id=make_user(db, role="sales").id)
    enrol(db, sequence, contact.id, utcnow())

    _tick(worker)  # creates the task; the enrolment waits for task.completed
    task = db.scalars(select(Task)).one()
    waiting = enrolment_of(db, sequence, contact.id)
    assert waiting.step_key == "answer"
    assert waiting.state == EnrolmentState.ACTIVE

    record_task_outcome(db, task.id, "meeting_booked", now=utcnow())
    db.commit()
    _tick(worker)

    finished = enrolment_of(db, sequence, contact.id)
    assert finished.state == EnrolmentState.COMPLETED
    assert finished.exit_reason == "goal:won"


def test_two_reps_clicking_different_outcomes_at_once_record_exactly_one(
    db: Session, db_url: str
) -> None:
    task = make_task(db, make_contact(db))
    db.commit()
    start = threading.Barrier(2)
    answers: dict[str, str] = {}

    def click(outcome: str) -> None:
        start.wait()
        try:
            with session_scope(db_url) as session:
                record_task_outcome(session, task.id, outcome, now=utcnow())
            answers[outcome] = "recorded"
        except Conflict:
            answers[outcome] = "conflict"

    threads = [
        threading.Thread(target=click, args=(outcome,))
        for outcome in ("meeting_booked", "not_interested")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(answers.values()) == ["conflict", "recorded"]
    db.expire_all()
    stored = db.get(Task, task.id)
    assert stored is not None
    assert answers[stored.outcome or ""] == "recorded"
    events = db.scalars(select(Event).where(Event.type == "task.completed")).all()
    assert [e.properties["outcome"] for e in events] == [stored.outcome]
