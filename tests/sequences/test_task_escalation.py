"""Overdue tasks that asked to escalate: the assignee's team lead is alerted once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery.capture import CaptureTransport
from campaigns.email.mailconfig import MailConfig
from campaigns.sequences import task_escalation
from campaigns.sequences.tasks import record_task_outcome
from nurture.config import Settings
from nurture.db import session_scope
from nurture.models import (
    CapturedEmail,
    EmailMessage,
    EmailTemplate,
    Event,
    SalesRep,
    SalesTeam,
    SalesTeamMember,
    Task,
    User,
)
from tests.factories import make_contact, make_task, make_user

DUE = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


@pytest.fixture
def mail(settings: Settings) -> tuple[CaptureTransport, MailConfig]:
    return CaptureTransport(settings.database_url), MailConfig.from_settings(settings)


def team(db: Session, name: str, lead: User | None, *members: User) -> SalesTeam:
    row = SalesTeam(name=name, lead_id=lead.id if lead else None)
    db.add(row)
    db.flush()
    db.add_all(SalesTeamMember(team_id=row.id, user_id=m.id) for m in members)
    db.commit()
    return row


def overdue_task(
    db: Session, assignee: User | None, *, escalate: bool = True, due_at: datetime = DUE
) -> Task:
    contact = make_contact(db, first_name="Emma", last_name="Lawson", phone="+44 161 496 0754")
    task = make_task(
        db,
        contact,
        due_at=due_at,
        instructions="Call about the 4/10",
        assignee_id=assignee.id if assignee else None,
    )
    task.escalate = escalate
    db.commit()
    return task


def sweep(db: Session, mail: tuple[CaptureTransport, MailConfig], now: datetime) -> list[int]:
    transport, config = mail
    return task_escalation.escalate_overdue(db, now=now, transport=transport, config=config)


def captured(db: Session) -> list[CapturedEmail]:
    db.expire_all()
    return list(db.scalars(select(CapturedEmail).order_by(CapturedEmail.id)))


def text_of(raw: bytes) -> str:
    part = message_from_bytes(raw, policy=policy.default).get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_an_overdue_task_alerts_the_assignees_team_lead_once(
    db: Session, mail: tuple[CaptureTransport, MailConfig]
) -> None:
    rep = make_user(db, role="sales", email="sophie@nurture.test")
    lead = make_user(db, role="sales", email="oliver@nurture.test")
    db.add(SalesRep(user_id=lead.id, time_zone="Europe/London"))
    team(db, "UK", lead, rep, lead)
    task = overdue_task(db, rep)

    assert sweep(db, mail, DUE) == []  # due, not yet overdue
    assert captured(db) == []
    now = DUE + timedelta(hours=5, minutes=10)
    assert sweep(db, mail, now) == [task.id]
    assert sweep(db, mail, now + timedelta(hours=1)) == []

    db.refresh(task)
    assert (task.escalated_at, task.escalated_to_id) == (now, lead.id)
    mails = captured(db)
    assert [m.recipients for m in mails] == ["oliver@nurture.test"]
    assert mails[0].subject is not None
    assert "Emma Lawson" in mails[0].subject
    body = text_of(mails[0].raw)
    assert "Call about the 4/10" in body
    assert "2026-12-07 14:00 (Europe/London)" in body
    assert "5 hours" in body
    assert rep.name in body
    message = db.scalars(select(EmailMessage)).one()
    assert message.idempotency_key == f"task:{task.id}:escalated:{lead.id}"
    assert message.contact_id is None  # internal mail, not to the contact
    starter = db.scalars(select(EmailTemplate).where(EmailTemplate.id == message.template_id)).one()
    assert starter.starter_name == "task_overdue"
    events = db.scalars(select(Event).where(Event.type == "task.escalated")).all()
    assert [(e.contact_id, e.properties) for e in events] == [
        (task.contact_id, {"task_id": task.id, "escalated_to": lead.id})
    ]


def test_tasks_that_did_not_ask_or_have_an_outcome_never_escalate(
    db: Session, mail: tuple[CaptureTransport, MailConfig]
) -> None:
    rep, lead = make_user(db, role="sales"), make_user(db, role="sales")
    team(db, "UK", lead, rep)
    quiet = overdue_task(db, rep, escalate=False)
    done = overdue_task(db, rep)
    record_task_outcome(db, done.id, "done", now=DUE - timedelta(hours=1))
    db.commit()
    later = overdue_task(db, rep, due_at=DUE + timedelta(days=1))

    assert sweep(db, mail, DUE + timedelta(hours=2)) == []
    for task in (quiet, done, later):
        db.refresh(task)
        assert task.escalated_at is None
    assert captured(db) == []


def test_without_a_team_lead_the_task_is_marked_but_nobody_is_mailed(
    db: Session, mail: tuple[CaptureTransport, MailConfig]
) -> None:
    rep, boss, gone = (make_user(db, role="sales") for _ in range(3))
    gone.is_active = False
    team(db, "Leaderless", None, rep)
    team(db, "Self-led", rep, rep)  # the assignee leads it: no alert to themselves
    team(db, "Departed", gone, rep)  # a deactivated lead is nobody
    lone = overdue_task(db, rep)
    unassigned = overdue_task(db, None)
    team(db, "Real", boss, make_user(db, role="sales"))  # a lead of another team only

    now = DUE + timedelta(minutes=1)
    assert sweep(db, mail, now) == sorted([lone.id, unassigned.id])
    assert sweep(db, mail, now + timedelta(hours=1)) == []

    for task in (lone, unassigned):
        db.refresh(task)
        assert (task.escalated_at, task.escalated_to_id) == (now, None)
    assert captured(db) == []
    events = db.scalars(select(Event.properties).where(Event.type == "task.escalated")).all()
    assert sorted(e["task_id"] for e in events) == sorted([lone.id, unassigned.id])
    assert {e["escalated_to"] for e in events} == {None}


def test_an_assignee_in_two_teams_alerts_the_lead_who_is_not_themselves(
    db: Session, mail: tuple[CaptureTransport, MailConfig]
) -> None:
    rep, lead = make_user(db, role="sales"), make_user(db, role="sales")
    team(db, "Own", rep, rep)
    team(db, "Led", lead, rep)
    task = overdue_task(db, rep)

    sweep(db, mail, DUE + timedelta(minutes=1))

    db.refresh(task)
    assert task.escalated_to_id == lead.id
    assert [m.recipients for m in captured(db)] == [lead.email]


def test_an_alert_lost_after_its_claim_is_sent_by_the_next_sweep(
    db: Session, mail: tuple[CaptureTransport, MailConfig]
) -> None:
    rep, lead = make_user(db, role="sales"), make_user(db, role="sales")
    team(db, "UK", lead, rep)
    task = overdue_task(db, rep)
    now = DUE + timedelta(minutes=1)
    # A worker claimed the task and died before sending.
    claimed = task_escalation.claim_overdue(db, now=now)
    db.commit()
    assert claimed.task_ids == [task.id]
    event = db.scalars(select(Event).where(Event.type == "task.escalated")).one()
    assert claimed.event_ids == [event.id]

    assert sweep(db, mail, now + timedelta(minutes=5)) == []
    assert sweep(db, mail, now + timedelta(minutes=10)) == []

    assert [m.recipients for m in captured(db)] == [lead.email]


def test_two_sweeps_racing_alert_each_task_exactly_once(
    db: Session, db_url: str, settings: Settings
) -> None:
    if db_url.startswith("sqlite"):
        # A second SQLite writer whose read began before the first one's commit fails
        # (SQLITE_BUSY_SNAPSHOT) instead of racing it; its alerts go at the next sweep.
        pytest.skip("SQLite refuses the second writer instead of racing it")
    rep, lead = make_user(db, role="sales"), make_user(db, role="sales")
    team(db, "UK", lead, rep)
    ids = [overdue_task(db, rep).id for _ in range(12)]
    start = threading.Barrier(2, timeout=60)
    claimed: list[list[int]] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            with session_scope(db_url) as session:
                transport = CaptureTransport(settings.database_url)
                config = MailConfig.from_settings(settings)
                claimed.append(
                    task_escalation.escalate_overdue(
                        session, now=DUE + timedelta(hours=1), transport=transport, config=config
                    )
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sorted(claimed[0] + claimed[1]) == ids
    mails = captured(db)
    assert len(mails) == len(ids)
    assert {m.recipients for m in mails} == {lead.email}
    keys = sorted(db.scalars(select(EmailMessage.idempotency_key)))
    assert keys == sorted(f"task:{i}:escalated:{lead.id}" for i in ids)
    events = db.scalars(select(Event.properties).where(Event.type == "task.escalated")).all()
    assert sorted(e["task_id"] for e in events) == ids
