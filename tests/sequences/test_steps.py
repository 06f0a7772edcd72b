"""Each step type run by the engine against a real database and the capture mailbox."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.email.pipeline import send_to_contact
from campaigns.sequences.conditions import effect_key
from campaigns.sequences.engine import Mailer, Verdict, run_step
from campaigns.sequences.tasks import record_task_outcome
from nurture.db import session_scope
from nurture.events import EventInput, ingest
from nurture.models import EmailMessage, EnrolmentState, StepRun, Task, utcnow
from tests.factories import make_contact, make_user
from tests.sequences.helpers import (
    captured_count,
    drive,
    enrol,
    make_sequence,
    outcomes,
    reload,
)


def add_event(db: Session, contact_id: int, kind: str, when: datetime, **props: object) -> None:
    ingest(db, [(0, EventInput(kind, when, dict(props), contact_id=contact_id))], source="test")
    db.commit()


def test_email_step_sends_once_when_its_message_runs_twice(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = make_sequence(
        db,
        [
            {"key": "intro", "type": "email", "template_id": template_id},
            {"key": "later", "type": "wait", "duration": {"days": 2}},
        ],
    )
    enrolment = enrol(db, sequence, make_contact(db).id, now)

    first = run_step(db, enrolment, "intro", now=now, mailer=mailer)
    again = run_step(db, enrolment, "intro", now=now, mailer=mailer)  # a duplicate message

    assert first.verdict is Verdict.ADVANCED
    assert first.step_key == "later"
    assert again.verdict is Verdict.SKIPPED
    assert captured_count(db) == 1
    assert outcomes(db, enrolment) == {"intro": "sent"}


def test_a_step_whose_mail_went_out_before_a_crash_sends_nothing_more(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    contact = make_contact(db)
    sequence = make_sequence(db, [{"key": "intro", "type": "email", "template_id": template_id}])
    enrolment = enrol(db, sequence, contact.id, now)
    # The worker sent the e-mail and died before recording the step.
    send_to_contact(
        db,
        template_id,
        contact.id,
        idempotency_key=effect_key(enrolment, "intro"),
        transport=mailer.transport,
        config=mailer.config,
    )

    result = run_step(db, enrolment, "intro", now=now, mailer=mailer)

    assert result.verdict is Verdict.FINISHED
    assert result.state == EnrolmentState.COMPLETED
    assert captured_count(db) == 1


def test_task_step_goes_to_the_contacts_owner_with_rendered_instructions(
    db: Session, mailer: Mailer
) -> None:
    now = utcnow()
    rep = make_user(db, role="sales")
    contact = make_contact(db, first_name="Ada", owner_id=rep.id)
    sequence = make_sequence(
        db,
        [
            {
                "key": "connect",
                "type": "task",
                "kind": "linkedin_connect",
                "instructions": "Connect with {{ contact.first_name }}",
                "due_in_hours": 24,
            }
        ],
    )
    enrolment = enrol(db, sequence, contact.id, now)

    drive(db, enrolment, now, mailer)
    run_step(db, enrolment, "connect", now=now, mailer=mailer)  # redelivered

    tasks = db.scalars(select(Task)).all()
    assert len(tasks) == 1
    assert tasks[0].assignee_id == rep.id
    assert tasks[0].instructions == "Connect with Ada"
    assert tasks[0].due_at == now + timedelta(hours=24)
    assert reload(db, enrolment).state == EnrolmentState.COMPLETED


def test_tasks_without_an_owner_go_round_robin_over_sales_reps(db: Session, mailer: Mailer) -> None:
    now = utcnow()
    reps = [make_user(db, role="sales").id, make_user(db, role="sales").id]
    make_user(db, role="marketer")
    sequence = make_sequence(db, [{"key": "call", "type": "task", "kind": "call"}])
    for _ in range(4):
        drive(db, enrol(db, sequence, make_contact(db).id, now), now, mailer)

    assignees = db.scalars(select(Task.assignee_id).order_by(Task.id)).all()
    assert assignees == [reps[0], reps[1], reps[0], reps[1]]


def test_wait_for_a_duration_postpones_then_moves_on(db: Session, mailer: Mailer) -> None:
    now = utcnow()
    sequence = make_sequence(
        db,
        [
            {"key": "pause", "type": "wait", "duration": {"days": 4}},
            {"key": "done", "type": "goal"},
        ],
    )
    enrolment = enrol(db, sequence, make_contact(db).id, now)

    waiting = drive(db, enrolment, now, mailer)
    too_early = run_step(db, enrolment, "pause", now=now + timedelta(days=3), mailer=mailer)
    finished = drive(db, enrolment, now + timedelta(days=4), mailer)

    assert waiting[-1].verdict is Verdict.POSTPONED
    assert waiting[-1].next_run_at == now + timedelta(days=4)
    assert too_early.verdict is Verdict.SKIPPED
    assert finished[-1].state == EnrolmentState.COMPLETED
    assert reload(db, enrolment).exit_reason == "goal:done"


def test_wait_until_tuesday_ten_in_the_contacts_zone(db: Session, mailer: Mailer) -> None:
    thursday = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    sequence = make_sequence(
        db,
        [
            {"key": "tue", "type": "wait", "until": {"weekday": "tuesday", "time": "10:00"}},
            {"key": "call", "type": "task", "kind": "call"},
        ],
    )
    tokyo = enrol(db, sequence, make_contact(db, time_zone="Asia/Tokyo").id, thursday)
    york = enrol(db, sequence, make_contact(db, time_zone="America/New_York").id, thursday)

    assert drive(db, tokyo, thursday, mailer)[-1].next_run_at == datetime(
        2026, 12, 1, 1, 0, tzinfo=UTC
    )
    assert drive(db, york, thursday, mailer)[-1].next_run_at == datetime(
        2026, 12, 1, 15, 0, tzinfo=UTC
    )
    drive(db, tokyo, datetime(2026, 12, 1, 1, 0, tzinfo=UTC), mailer)
    assert reload(db, tokyo).state == EnrolmentState.COMPLETED
    assert reload(db, york).state == EnrolmentState.ACTIVE


def test_wait_for_an_event_moves_on_when_it_happens_or_at_the_timeout(
    db: Session, mailer: Mailer
) -> None:
    now = utcnow() - timedelta(days=5)
    steps = [{"key": "w", "type": "wait", "event": "webinar.attended", "timeout": {"days": 3}}]
    sequence = make_sequence(db, steps)
    attends = make_contact(db)
    silent = make_contact(db)
    attending = enrol(db, sequence, attends.id, now)
    waiting = enrol(db, sequence, silent.id, now)
    drive(db, attending, now, mailer)
    drive(db, waiting, now, mailer)

    add_event(db, attends.id, "webinar.attended", now + timedelta(hours=1))
    drive(db, attending, now + timedelta(hours=2), mailer)
    drive(db, waiting, now + timedelta(days=3), mailer)

    assert outcomes(db, attending) == {"w": "event"}
    assert outcomes(db, waiting) == {"w": "timeout"}


def branch_on_click(template_id: int) -> list[dict[str, object]]:
    return [
        {"key": "intro", "type": "email", "template_id": template_id},
        {
            "key": "clicked",
            "type": "branch",
            "condition": {"event": "email.clicked", "step": "intro"},
            "then": [{"key": "invite", "type": "goal"}],
            "else": [{"key": "call", "type": "task", "kind": "call"}],
        },
    ]


def test_branch_takes_then_when_the_steps_message_was_clicked(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = make_sequence(db, branch_on_click(template_id))
    clicker = make_contact(db)
    enrolment = enrol(db, sequence, clicker.id, now)
    run_step(db, enrolment, "intro", now=now, mailer=mailer)
    message_id = db.scalar(select(EmailMessage.id).where(EmailMessage.contact_id == clicker.id))
    add_event(db, clicker.id, "email.clicked", now, message_id=message_id)

    drive(db, enrolment, now, mailer)

    assert outcomes(db, enrolment) == {"intro": "sent", "clicked": "then", "invite": "goal"}
    assert db.scalars(select(Task)).all() == []


def test_branch_takes_else_when_only_another_message_was_clicked(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = make_sequence(db, branch_on_click(template_id))
    contact = make_contact(db)
    enrolment = enrol(db, sequence, contact.id, now)
    run_step(db, enrolment, "intro", now=now, mailer=mailer)
    add_event(db, contact.id, "email.clicked", now, message_id=999_999)

    drive(db, enrolment, now, mailer)

    assert outcomes(db, enrolment)["clicked"] == "else"
    assert len(db.scalars(select(Task)).all()) == 1


def test_branch_reads_the_outcome_a_rep_recorded_on_the_task(db: Session, mailer: Mailer) -> None:
    now = utcnow()
    sequence = make_sequence(
        db,
        [
            {"key": "call", "type": "task", "kind": "call"},
            {"key": "later", "type": "wait", "duration": {"days": 2}},
            {
                "key": "booked",
                "type": "branch",
                "condition": {"task_outcome": ["meeting_booked"], "step": "call"},
                "then": [{"key": "won", "type": "goal"}],
                "else": [{"key": "lost", "type": "exit"}],
            },
        ],
    )
    enrolment = enrol(db, sequence, make_contact(db).id, now)
    drive(db, enrolment, now, mailer)
    task = db.scalars(select(Task)).one()
    record_task_outcome(db, task.id, "meeting_booked", now=now + timedelta(days=1))
    db.commit()

    drive(db, enrolment, now + timedelta(days=2), mailer)

    assert outcomes(db, enrolment)["booked"] == "then"
    assert reload(db, enrolment).exit_reason == "goal:won"


def test_two_workers_running_the_same_email_step_at_once_send_one_email(
    db: Session, db_url: str, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = make_sequence(
        db,
        [
            {"key": "intro", "type": "email", "template_id": template_id},
            {"key": "call", "type": "task", "kind": "call"},
        ],
    )
    enrolment = enrol(db, sequence, make_contact(db).id, now)
    start = threading.Barrier(2)
    verdicts: list[Verdict] = []

    def worker() -> None:
        start.wait()
        with session_scope(db_url) as session:
            verdicts.append(run_step(session, enrolment, "intro", now=now, mailer=mailer).verdict)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(verdicts) == [Verdict.ADVANCED, Verdict.SKIPPED]
    assert captured_count(db) == 1
    assert reload(db, enrolment).step_key == "call"


def test_a_step_killed_after_writing_its_key_sends_once_on_the_rerun(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = make_sequence(
        db,
        [{"key": "intro", "type": "email", "template_id": template_id}],
        # Quiet from an hour ago to an hour ahead (UTC: the contact has no zone).
        quiet_hours={
            "start": f"{(now - timedelta(hours=1)):%H:%M}",
            "end": f"{(now + timedelta(hours=1)):%H:%M}",
        },
    )
    enrolment = enrol(db, sequence, make_contact(db).id, now)
    # The worker wrote the effect key, then died before the pipeline sent anything;
    # the quiet hours that began since must not hold back a send already decided.
    db.add(StepRun(enrolment_id=enrolment, step_key="intro", started_at=now))
    db.flush()
    db.execute(update(StepRun).values(effect_key=effect_key(enrolment, "intro")))
    db.commit()

    result = run_step(db, enrolment, "intro", now=now, mailer=mailer)
    run_step(db, enrolment, "intro", now=now, mailer=mailer)

    assert result.state == EnrolmentState.COMPLETED
    assert captured_count(db) == 1
