"""An arriving event wakes the enrolments waiting for it, without waiting for the poll."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy.orm import Session

from campaigns.sequences import definition, versions
from campaigns.sequences.engine import Mailer, Verdict
from campaigns.sequences.wakeups import event_waits, wake_event_waits
from nurture.config import Settings
from nurture.events import EventInput, ingest
from nurture.models import EnrolmentState, utcnow
from tests.factories import make_contact
from tests.sequences.helpers import drive, enrol, enrolment_of, make_sequence, outcomes, reload
from tests.stub_worker import drain
from workers import actors, context
from workers.sequences import sequence_tick

WAIT_FOR_CLICK: list[dict[str, Any]] = [
    {"key": "clicked", "type": "wait", "event": "email.clicked", "timeout": {"days": 3}},
    {"key": "call", "type": "task", "kind": "call"},
]


def event(db: Session, contact_id: int, kind: str, **props: object) -> list[int]:
    stored = ingest(
        db, [(0, EventInput(kind, utcnow(), dict(props), contact_id=contact_id))], source="test"
    )
    db.commit()
    return [i for i in stored.stored_event_ids if i is not None]


def test_event_waits_are_found_in_nested_arms() -> None:
    flow = definition.parse(
        {
            "steps": [
                {
                    "key": "fork",
                    "type": "split",
                    "paths": [
                        {"percent": 50, "steps": WAIT_FOR_CLICK},
                        {
                            "percent": 50,
                            "steps": [
                                {"key": "pause", "type": "wait", "duration": {"days": 1}},
                                {
                                    "key": "form",
                                    "type": "wait",
                                    "event": "form.submitted",
                                    "timeout": {"days": 1},
                                },
                            ],
                        },
                    ],
                }
            ]
        }
    )

    assert event_waits(flow) == {"email.clicked": {"clicked"}, "form.submitted": {"form"}}


def test_processing_a_click_wakes_the_wait_for_it_and_the_step_moves_on(
    db: Session, mailer: Mailer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context, "_settings", settings)
    start = utcnow()
    sequence = make_sequence(db, WAIT_FOR_CLICK)
    contact = make_contact(db)
    enrolment = enrol(db, sequence, contact.id, start)
    polled = drive(db, enrolment, start, mailer)[-1]
    assert polled.verdict is Verdict.POSTPONED
    assert polled.next_run_at == start + timedelta(minutes=15)

    actors.process_events.fn(event(db, contact.id, "email.clicked"))

    woken = reload(db, enrolment).next_run_at
    assert woken is not None
    assert woken < start + timedelta(minutes=1)
    results = drive(db, enrolment, utcnow(), mailer)
    assert outcomes(db, enrolment) == {"clicked": "event", "call": "created"}
    assert results[-1].verdict is Verdict.FINISHED


def test_only_waits_for_that_event_type_and_that_contact_are_woken(
    db: Session, mailer: Mailer
) -> None:
    start = utcnow()
    later = start + timedelta(minutes=15)
    clicks = make_sequence(db, WAIT_FOR_CLICK)
    days = make_sequence(
        db,
        [
            {"key": "clicked", "type": "wait", "duration": {"days": 2}},
            {"key": "call", "type": "task", "kind": "call"},
        ],
    )
    clicker, bystander = make_contact(db), make_contact(db)
    waiting = enrol(db, clicks, clicker.id, start)
    sleeping = enrol(db, days, clicker.id, start)
    other = enrol(db, clicks, bystander.id, start)
    for enrolment in (waiting, sleeping, other):
        drive(db, enrolment, start, mailer)

    ids = event(db, clicker.id, "email.clicked") + event(db, bystander.id, "form.submitted")
    woken = wake_event_waits(db, ids, now=start + timedelta(minutes=1))
    db.commit()

    assert woken == 1
    assert reload(db, waiting).next_run_at == start + timedelta(minutes=1)
    assert reload(db, sleeping).next_run_at == start + timedelta(days=2)
    assert reload(db, other).next_run_at == later


def test_a_wait_on_an_older_version_is_woken_by_its_own_step_key(
    db: Session, mailer: Mailer
) -> None:
    start = utcnow()
    sequence = make_sequence(db, WAIT_FOR_CLICK)
    contact = make_contact(db)
    old = enrol(db, sequence, contact.id, start)
    drive(db, old, start, mailer)
    # Version 2 waits for a form instead, under another key: the old enrolment keeps v1.
    versions.edit_sequence(
        db,
        sequence,
        steps_definition={
            "steps": [
                {"key": "form", "type": "wait", "event": "form.submitted", "timeout": {"days": 1}}
            ]
        },
    )
    db.commit()

    ignored = wake_event_waits(db, event(db, contact.id, "form.submitted"), now=start)
    woken = wake_event_waits(db, event(db, contact.id, "email.clicked"), now=start)
    db.commit()

    assert (ignored, woken) == (0, 1)
    assert reload(db, old).next_run_at == start


def test_through_the_workers_a_form_enrols_and_a_click_moves_the_wait_on_at_once(
    db: Session, worker: StubBroker
) -> None:
    sequence = make_sequence(
        db,
        WAIT_FOR_CLICK,
        triggers=[{"event": "form.submitted", "where": {"form": "whitepaper"}}],
    )
    contact = make_contact(db)

    actors.process_events.send(event(db, contact.id, "form.submitted", form="whitepaper"))
    drain(worker)
    sequence_tick.send()  # runs the wait once: it polls again in 15 minutes
    drain(worker)
    enrolment = enrolment_of(db, sequence, contact.id)
    assert enrolment.next_run_at is not None
    assert enrolment.next_run_at > utcnow() + timedelta(minutes=10)
    actors.process_events.send(event(db, contact.id, "email.clicked"))
    drain(worker)
    sequence_tick.send()
    drain(worker)

    assert outcomes(db, enrolment.id) == {"clicked": "event", "call": "created"}
    assert enrolment_of(db, sequence, contact.id).state == EnrolmentState.COMPLETED
