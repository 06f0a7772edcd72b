"""The per-step funnel: counts grouped in SQL on a sequence people really walked through."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences.conditions import effect_key
from campaigns.sequences.control import pause_enrolment
from campaigns.sequences.engine import Mailer
from campaigns.sequences.funnel import funnel
from nurture.events import EventInput, ingest
from nurture.models import EmailMessage, utcnow
from tests.factories import make_contact, make_user
from tests.sequences.helpers import drive, enrol, make_sequence


def _steps(template_id: int) -> list[dict[str, object]]:
    return [
        {"key": "intro", "type": "email", "template_id": template_id},
        {"key": "settle", "type": "wait", "duration": {"days": 1}},
        {
            "key": "opened",
            "type": "branch",
            "condition": {"event": "email.opened", "step": "intro"},
            "then": [{"key": "call", "type": "task", "kind": "call"}],
            "else": [{"key": "pause", "type": "wait", "duration": {"days": 3}}],
        },
        {"key": "won", "type": "goal"},
    ]


def _track(
    db: Session, contact_id: int, enrolment_id: int, kind: str, when: datetime, **extra: object
) -> None:
    message_id = db.scalar(
        select(EmailMessage.id).where(
            EmailMessage.idempotency_key == effect_key(enrolment_id, "intro")
        )
    )
    props = {"message_id": message_id, **extra}
    ingest(db, [(0, EventInput(kind, when, props, contact_id=contact_id))], source="test")
    db.commit()


def test_funnel_counts_reach_outcomes_engagement_and_goals_per_step(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    make_user(db, role="sales")
    now = utcnow()
    sequence = make_sequence(db, _steps(template_id))
    reader, skimmer, scanned, newcomer = (make_contact(db).id for _ in range(4))
    enrolments = {
        cid: enrol(db, sequence, cid, now) for cid in (reader, skimmer, scanned, newcomer)
    }
    for cid in (reader, skimmer, scanned):
        run = drive(db, enrolments[cid], now, mailer)
        assert run[0].step_key == "settle"  # the e-mail went out
    soon = now + timedelta(minutes=5)
    _track(db, reader, enrolments[reader], "email.opened", soon)
    _track(db, reader, enrolments[reader], "email.clicked", soon)
    _track(db, reader, enrolments[reader], "email.opened", soon)  # a second open: one person
    _track(db, scanned, enrolments[scanned], "email.clicked", soon, machine=True)
    for cid in (reader, skimmer, scanned):
        drive(db, enrolments[cid], now + timedelta(days=2), mailer)

    result = funnel(db, sequence)

    assert result.enrolled == 4
    assert result.states == {"completed": 1, "active": 3}
    assert result.goals == 1
    assert result.conversion == 0.25
    intro = result.step("intro")
    assert (intro.reached, intro.waiting) == (4, 1)  # the newcomer sits there, not yet run
    assert intro.outcomes == {"sent": 3}
    assert (intro.opened, intro.clicked) == (1, 1)  # the scanner's click is a machine's
    assert intro.converted == 1
    assert result.step("settle").outcomes == {"waited": 3}
    assert result.step("opened").outcomes == {"then": 1, "else": 2}
    assert result.step("call").reached == 1
    assert result.step("call").outcomes == {"created": 1}
    assert (result.step("pause").reached, result.step("pause").waiting) == (2, 2)
    assert result.step("won").reached == 1
    assert result.step("won").conversion == 1.0
    assert result.step("pause").conversion == 0.0


def test_paused_enrolments_still_count_as_waiting_at_their_step(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = make_sequence(db, _steps(template_id))
    enrolment = enrol(db, sequence, make_contact(db).id, now)
    pause_enrolment(db, enrolment)
    db.commit()

    result = funnel(db, sequence)

    assert result.states == {"paused": 1}
    assert result.step("intro").waiting == 1
    assert result.step("won").reached == 0
    assert result.step("won").conversion is None
