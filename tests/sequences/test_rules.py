"""Goals and exits, the frequency cap, send windows, splits, versions, enrolment rules, pausing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.email.pipeline import send_to_contact
from campaigns.sequences import control, versions
from campaigns.sequences.caps import FrequencyCap
from campaigns.sequences.engine import Limits, Mailer, Verdict, run_step, split_bucket
from campaigns.sequences.enrol import enrol_contacts, enrol_from_events
from campaigns.sequences.scheduler import claim_due
from campaigns.sequences.tasks import record_task_outcome
from nurture.contacts import suppress
from nurture.errors import Conflict, InvalidInput
from nurture.events import EventInput, ingest
from nurture.models import (
    EmailMessage,
    Enrolment,
    EnrolmentState,
    Event,
    SuppressionReason,
    Task,
    utcnow,
)
from tests.factories import make_contact
from tests.sequences.helpers import (
    captured_count,
    drive,
    enrol,
    enrolment_of,
    make_sequence,
    outcomes,
    reload,
)


def test_a_reply_exits_the_enrolment_before_the_next_step(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = make_sequence(
        db,
        [
            {"key": "one", "type": "email", "template_id": template_id},
            {"key": "gap", "type": "wait", "duration": {"days": 3}},
            {"key": "two", "type": "email", "template_id": template_id},
        ],
        goals=[{"event": "email.replied"}, {"lifecycle": ["customer", "sql"]}],
    )
    contact = make_contact(db)
    enrolment = enrol(db, sequence, contact.id, now)
    drive(db, enrolment, now, mailer)
    ingest(
        db,
        [(0, EventInput("email.replied", now + timedelta(days=1), {}, contact_id=contact.id))],
        source="test",
    )
    db.commit()

    drive(db, enrolment, now + timedelta(days=3), mailer)

    assert reload(db, enrolment).state == EnrolmentState.EXITED
    assert reload(db, enrolment).exit_reason == "goal:email.replied"
    assert captured_count(db) == 1


def test_becoming_a_customer_reaches_the_lifecycle_goal(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = make_sequence(
        db,
        [{"key": "one", "type": "email", "template_id": template_id}],
        goals=[{"lifecycle": ["customer", "sql"]}],
    )
    contact = make_contact(db)
    enrolment = enrol(db, sequence, contact.id, now)
    contact.lifecycle_stage = "sql"
    db.commit()

    drive(db, enrolment, now, mailer)

    assert reload(db, enrolment).exit_reason == "goal:lifecycle:sql"
    assert captured_count(db) == 0


def test_unsubscribed_contact_leaves_and_receives_nothing(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = make_sequence(db, [{"key": "one", "type": "email", "template_id": template_id}])
    contact = make_contact(db)
    enrolment = enrol(db, sequence, contact.id, now)
    assert contact.email is not None
    suppress(db, contact.email, reason=SuppressionReason.UNSUBSCRIBED)
    db.commit()

    drive(db, enrolment, now, mailer)

    assert reload(db, enrolment).exit_reason == "suppressed"
    assert captured_count(db) == 0


def test_frequency_cap_postpones_the_email_until_the_oldest_leaves_the_week(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    contact = make_contact(db)
    for n in range(2):
        send_to_contact(
            db,
            template_id,
            contact.id,
            idempotency_key=f"broadcast:{n}",
            transport=mailer.transport,
            config=mailer.config,
        )
    db.execute(
        update(EmailMessage)
        .where(EmailMessage.idempotency_key == "broadcast:0")
        .values(created_at=now - timedelta(days=5))
    )
    db.commit()
    sequence = make_sequence(db, [{"key": "one", "type": "email", "template_id": template_id}])
    enrolment = enrol(db, sequence, contact.id, now)
    limits = Limits(cap=FrequencyCap(limit=2))

    held = drive(db, enrolment, now, mailer, limits)[-1]
    sent = drive(db, enrolment, now + timedelta(days=2, seconds=1), mailer, limits)[-1]

    assert held.verdict is Verdict.POSTPONED
    assert held.outcome == "frequency_cap"
    assert held.next_run_at == now + timedelta(days=2, seconds=1)
    assert sent.state == EnrolmentState.COMPLETED
    assert captured_count(db) == 3


def test_quiet_hours_in_the_contacts_zone_hold_the_email(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    # 22:00 UTC on a Thursday: 23:00 in Berlin (quiet), 17:00 in New York (fine).
    late = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
    sequence = make_sequence(
        db,
        [{"key": "one", "type": "email", "template_id": template_id}],
        quiet_hours={"start": "20:00", "end": "08:00"},
    )
    berlin = enrol(db, sequence, make_contact(db, time_zone="Europe/Berlin").id, late)
    york = enrol(db, sequence, make_contact(db, time_zone="America/New_York").id, late)
    limits = Limits(cap=FrequencyCap(limit=0))

    held = drive(db, berlin, late, mailer, limits)[-1]
    sent = drive(db, york, late, mailer, limits)[-1]

    assert held.verdict is Verdict.POSTPONED
    assert held.next_run_at == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert sent.state == EnrolmentState.COMPLETED
    assert captured_count(db) == 1


def test_split_buckets_follow_the_percentages_over_many_contacts() -> None:
    counts = Counter(split_bucket(7, enrolment_id, "ab") < 30 for enrolment_id in range(10_000))
    assert counts[True] == pytest.approx(3000, abs=150)
    assert split_bucket(7, 42, "ab") == split_bucket(7, 42, "ab")


def test_split_step_sends_contacts_down_paths_by_percentage(db: Session, mailer: Mailer) -> None:
    now = utcnow()
    sequence = make_sequence(
        db,
        [
            {
                "key": "ab",
                "type": "split",
                "paths": [
                    {"percent": 25, "steps": [{"key": "a", "type": "goal"}]},
                    {"percent": 75, "steps": [{"key": "b", "type": "exit"}]},
                ],
            }
        ],
    )
    contacts = [make_contact(db).id for _ in range(120)]
    enrol_contacts(db, sequence, contacts, now=now)
    db.commit()
    paths: Counter[str] = Counter()
    for contact_id in contacts:
        enrolment = enrolment_of(db, sequence, contact_id)
        drive(db, enrolment.id, now, mailer)
        path = outcomes(db, enrolment.id)["ab"]
        assert path is not None
        bucket = split_bucket(sequence, enrolment.id, "ab")
        assert path == ("path:0" if bucket < 25 else "path:1")
        paths[path] += 1

    assert 15 <= paths["path:0"] <= 45
    assert paths["path:0"] + paths["path:1"] == 120


def test_editing_an_active_sequence_keeps_enrolled_people_on_their_version(
    db: Session, mailer: Mailer
) -> None:
    now = utcnow()
    old_steps: list[dict[str, Any]] = [
        {"key": "gap", "type": "wait", "duration": {"days": 1}},
        {"key": "old", "type": "task", "kind": "call"},
    ]
    sequence = make_sequence(db, old_steps)
    early = enrol(db, sequence, make_contact(db).id, now)
    drive(db, early, now, mailer)

    new_version = versions.edit_sequence(
        db,
        sequence,
        steps_definition={
            "steps": [
                {"key": "gap", "type": "wait", "duration": {"days": 1}},
                {"key": "new", "type": "task", "kind": "meeting"},
            ]
        },
    )
    db.commit()
    late = enrol(db, sequence, make_contact(db).id, now)
    drive(db, late, now, mailer)
    drive(db, early, now + timedelta(days=1), mailer)
    drive(db, late, now + timedelta(days=1), mailer)

    assert new_version.number == 2
    assert reload(db, early).version_id != reload(db, late).version_id == new_version.id
    assert set(outcomes(db, early)) == {"gap", "old"}
    assert set(outcomes(db, late)) == {"gap", "new"}


def test_enrolment_skips_suppressed_customers_and_people_already_in(
    db: Session, mailer: Mailer
) -> None:
    now = utcnow()
    sequence = make_sequence(db, [{"key": "call", "type": "task", "kind": "call"}])
    fine = make_contact(db)
    customer = make_contact(db, lifecycle_stage="customer")
    gone = make_contact(db)
    assert gone.email is not None
    suppress(db, gone.email, reason=SuppressionReason.UNSUBSCRIBED)
    first = enrol_contacts(db, sequence, [fine.id, customer.id, gone.id, 10**9], now=now)
    db.commit()
    drive(db, enrolment_of(db, sequence, fine.id).id, now, mailer)

    again = enrol_contacts(db, sequence, [fine.id], now=now)

    assert first.enrolled == [fine.id]
    assert first.skipped == {customer.id: "customer", gone.id: "suppressed", 10**9: "missing"}
    assert again.skipped == {fine.id: "enrolled_before"}


def test_entering_a_segment_enrols_through_the_trigger(db: Session) -> None:
    now = utcnow()
    sequence = make_sequence(
        db,
        [{"key": "call", "type": "task", "kind": "call"}],
        triggers=[{"event": "segment.entered", "segment_id": 5}],
    )
    inside = make_contact(db)
    other = make_contact(db)
    stored = ingest(
        db,
        [
            (0, EventInput("segment.entered", now, {"segment_id": 5}, contact_id=inside.id)),
            (1, EventInput("segment.entered", now, {"segment_id": 6}, contact_id=other.id)),
        ],
        source="test",
    )

    result = enrol_from_events(db, stored.stored_event_ids, now=now)

    assert result.enrolled == [inside.id]
    assert enrolment_of(db, sequence, inside.id).step_key == "call"


def test_paused_sequence_is_neither_claimed_nor_run_until_resumed(
    db: Session, mailer: Mailer
) -> None:
    now = utcnow()
    sequence = make_sequence(db, [{"key": "call", "type": "task", "kind": "call"}])
    enrolment = enrol(db, sequence, make_contact(db).id, now)
    assert claim_due(db, now=now) == [(enrolment, "call")]  # its message is on the way
    versions.pause(db, sequence)
    db.commit()

    assert claim_due(db, now=now) == []
    assert run_step(db, enrolment, "call", now=now, mailer=mailer).verdict is Verdict.SKIPPED

    control.resume_sequence(db, sequence)
    db.commit()
    assert claim_due(db, now=now) == [(enrolment, "call")]


def test_stopped_enrolment_runs_no_more_steps(db: Session, mailer: Mailer) -> None:
    now = utcnow()
    sequence = make_sequence(db, [{"key": "call", "type": "task", "kind": "call"}])
    enrolment = enrol(db, sequence, make_contact(db).id, now)
    control.pause_enrolment(db, enrolment)
    db.commit()
    assert run_step(db, enrolment, "call", now=now, mailer=mailer).verdict is Verdict.SKIPPED
    control.stop_enrolment(db, enrolment, now=now)
    db.commit()

    assert reload(db, enrolment).exit_reason == "stopped"
    with pytest.raises(Conflict):
        control.resume_enrolment(db, enrolment, now=now)
    assert drive(db, enrolment, now, mailer)[-1].verdict is Verdict.SKIPPED
    assert db.scalars(select(EmailMessage)).all() == []


def test_a_contact_has_at_most_one_live_enrolment_per_sequence(db: Session) -> None:
    now = utcnow()
    sequence = make_sequence(db, [{"key": "call", "type": "task", "kind": "call"}])
    contact = make_contact(db)
    enrol(db, sequence, contact.id, now)
    first = enrolment_of(db, sequence, contact.id)
    # What a racing second trigger would insert: the database refuses it.
    db.add(
        Enrolment(
            sequence_id=sequence,
            version_id=first.version_id,
            contact_id=contact.id,
            step_key="call",
            next_run_at=now,
            enrolled_at=now,
        )
    )
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


def test_stopping_a_sequence_exits_everyone_in_it(db: Session, mailer: Mailer) -> None:
    now = utcnow()
    sequence = make_sequence(db, [{"key": "call", "type": "task", "kind": "call"}])
    enrolments = [enrol(db, sequence, make_contact(db).id, now) for _ in range(3)]
    control.pause_enrolment(db, enrolments[0])

    stopped = control.stop_sequence(db, sequence, now=now)
    db.commit()

    assert stopped == 3
    assert {reload(db, e).exit_reason for e in enrolments} == {"stopped"}
    assert claim_due(db, now=now) == []
    with pytest.raises(Conflict):
        enrol_contacts(db, sequence, [make_contact(db).id], now=now)


def test_a_task_outcome_is_recorded_once(db: Session, mailer: Mailer) -> None:
    now = utcnow()
    sequence = make_sequence(db, [{"key": "call", "type": "task", "kind": "call"}])
    drive(db, enrol(db, sequence, make_contact(db).id, now), now, mailer)
    task = db.scalars(select(Task)).one()

    record_task_outcome(db, task.id, "no_answer", now=now)
    record_task_outcome(db, task.id, "no_answer", now=now)  # a double click
    db.commit()

    with pytest.raises(Conflict):
        record_task_outcome(db, task.id, "meeting_booked", now=now)
    with pytest.raises(InvalidInput):
        record_task_outcome(db, task.id, "maybe", now=now)
    events = db.scalars(select(Event.properties).where(Event.type == "task.completed")).all()
    assert events == [
        {
            "task_id": task.id,
            "outcome": "no_answer",
            "kind": "call",
            "enrolment_id": task.enrolment_id,
            "step_key": "call",
        }
    ]
