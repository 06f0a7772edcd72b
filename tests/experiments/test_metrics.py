"""The metrics refresh stamps what each exposure led to, from the events, incrementally."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.experiments import metrics, store
from campaigns.experiments.assign import Member, choose
from campaigns.experiments.results import arms_of
from campaigns.experiments.store import VariantInput
from nurture.models import Enrolment, Experiment, Exposure, Sequence, utcnow
from tests.experiments.expdomain_helpers import (
    event,
    expose,
    make_sequence,
    message_for,
    template,
)
from tests.factories import make_contact

TWO = [VariantInput("a"), VariantInput("b", content={"subject": "Ready?"})]


def _stamped(db: Session) -> dict[int, Exposure]:
    db.expire_all()  # the refresh writes with set-based statements
    return {x.contact_id: x for x in db.scalars(select(Exposure))}


def _running(db: Session, sequence: Sequence, *, now: datetime, **fields: object) -> Experiment:
    experiment = store.create_experiment(
        db,
        actor="mia",
        name="Subject test",
        kind="step",
        variants=TWO,
        sequence_id=sequence.id,
        step_key="intro",
        **fields,  # type: ignore[arg-type]
    )
    store.start_experiment(db, experiment.id, actor="mia", now=now)
    db.commit()
    return experiment


def test_mail_outcomes_are_stamped_by_message_and_only_peoples_count(db: Session) -> None:
    start = utcnow() - timedelta(days=1)
    experiment = _running(db, make_sequence(db, template(db)), now=start)
    people = [make_contact(db) for _ in range(4)]
    exposures = expose(db, experiment.id, [p.id for p in people], now=start)
    messages = {p.id: message_for(db, exposures[p.id]) for p in people[:3]}  # one never sent
    first, second, third = people[:3]
    t = start + timedelta(hours=1)
    for p in people[:3]:
        event(db, "email.sent", p.id, t, message_id=messages[p.id].id)
    event(db, "email.opened", first.id, t + timedelta(minutes=5), message_id=messages[first.id].id)
    event(db, "email.opened", first.id, t + timedelta(minutes=1), message_id=messages[first.id].id)
    event(db, "email.clicked", first.id, t + timedelta(minutes=6), message_id=messages[first.id].id)
    # A scanner opening and clicking everything is no person.
    for kind in ("email.opened", "email.clicked"):
        event(db, kind, second.id, t, message_id=messages[second.id].id, machine=True)
    event(db, "email.bounced", third.id, t, message_id=messages[third.id].id)
    event(db, "email.replied", second.id, t + timedelta(hours=2), message_id=messages[second.id].id)
    db.commit()

    assert metrics.refresh(db, experiment.id, now=utcnow()) > 0
    db.commit()
    stamped = _stamped(db)
    one = stamped[first.id]
    assert one.message_id == messages[first.id].id
    assert (one.delivered_at, one.opened_at, one.clicked_at) == (
        t,
        t + timedelta(minutes=1),  # the earliest open, whatever order they came in
        t + timedelta(minutes=6),
    )
    two = stamped[second.id]
    assert (two.delivered_at, two.opened_at, two.clicked_at) == (t, None, None)
    assert two.replied_at == t + timedelta(hours=2)
    assert stamped[third.id].bounced_at == t
    assert stamped[people[3].id].message_id is None
    # Read again (the watermark stays behind events not yet settled): nothing changes.
    assert metrics.refresh(db, experiment.id, now=utcnow()) == 0


def test_unsubscribes_complaints_and_conversions_count_within_the_window(db: Session) -> None:
    start = utcnow() - timedelta(days=30)
    experiment = _running(
        db,
        make_sequence(db, template(db)),
        now=start,
        metric="conversion",
        conversion_event="meeting.booked",
        window_days=7,
    )
    early, late, before = (make_contact(db) for _ in range(3))
    expose(db, experiment.id, [early.id, late.id, before.id], now=start)
    event(db, "meeting.booked", early.id, start + timedelta(days=2))
    event(db, "meeting.booked", late.id, start + timedelta(days=8))  # after the window
    event(db, "email.unsubscribed", late.id, start + timedelta(days=3))
    event(db, "email.complained", early.id, start + timedelta(days=6, hours=23))
    db.commit()
    # Read from the beginning of the log: an event from before the exposure is not its
    # outcome even when read.
    db.execute(update(Experiment).values(event_watermark=0))
    event(db, "meeting.booked", before.id, start - timedelta(days=1))
    db.commit()

    metrics.refresh(db, experiment.id, now=utcnow())
    db.commit()
    stamped = _stamped(db)
    assert stamped[early.id].converted_at == start + timedelta(days=2)
    assert stamped[early.id].complained_at == start + timedelta(days=6, hours=23)
    assert stamped[late.id].converted_at is None
    assert stamped[late.id].unsubscribed_at == start + timedelta(days=3)
    assert stamped[before.id].converted_at is None


def test_the_watermark_moves_past_settled_events_only_and_later_events_are_read(
    db: Session,
) -> None:
    start = utcnow() - timedelta(days=1)
    experiment = _running(db, make_sequence(db, template(db)), now=start)
    person = make_contact(db)
    exposure = expose(db, experiment.id, [person.id], now=start)[person.id]
    message = message_for(db, exposure)
    event(db, "email.sent", person.id, start, message_id=message.id)
    db.commit()
    watermark = experiment.event_watermark
    metrics.refresh(db, experiment.id, now=utcnow())
    db.commit()
    assert experiment.event_watermark == watermark  # stored just now: read again next time
    later = utcnow() + metrics.SETTLE + timedelta(seconds=1)
    metrics.refresh(db, experiment.id, now=later)
    db.commit()
    assert experiment.event_watermark > watermark
    event(db, "email.clicked", person.id, start + timedelta(hours=1), message_id=message.id)
    db.commit()
    metrics.refresh(db, experiment.id, now=later)
    db.commit()
    db.refresh(exposure)
    assert exposure.clicked_at == start + timedelta(hours=1)


def test_the_goal_metric_counts_enrolments_that_reached_a_goal(db: Session) -> None:
    start = utcnow() - timedelta(days=2)
    sequence = make_sequence(db, template(db))
    experiment = store.create_experiment(
        db,
        actor="mia",
        name="Which path",
        kind="split",
        variants=[VariantInput("0"), VariantInput("1")],
        sequence_id=sequence.id,
        step_key="fork",
        metric="goal",
    )
    store.start_experiment(db, experiment.id, actor="mia", now=start)
    db.commit()
    reached, left = make_contact(db), make_contact(db)
    enrolments = {}
    for person in (reached, left):
        enrolment = Enrolment(
            sequence_id=sequence.id, version_id=sequence.current_version_id, contact_id=person.id
        )
        db.add(enrolment)
        db.flush()
        enrolments[person.id] = enrolment
    choose(
        db,
        experiment.id,
        [Member(p.id, enrolment_id=enrolments[p.id].id) for p in (reached, left)],
        now=start,
    )
    done = utcnow()
    enrolments[reached.id].state, enrolments[reached.id].exit_reason = "completed", "goal:p0"
    enrolments[left.id].state, enrolments[left.id].exit_reason = "exited", "exit:p1"
    for enrolment in enrolments.values():
        enrolment.finished_at = done
    db.commit()

    metrics.refresh(db, experiment.id, now=utcnow())
    db.commit()
    stamped = {cid: x.converted_at for cid, x in _stamped(db).items()}
    assert stamped == {reached.id: done, left.id: None}


def test_the_arms_count_outcomes_among_delivered_messages(db: Session) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    experiment = _running(db, make_sequence(db, template(db)), now=start)
    people = [make_contact(db) for _ in range(3)]
    exposures = expose(db, experiment.id, [p.id for p in people], now=start)
    for x in exposures.values():
        x.variant_key = "b"
        x.delivered_at = x.opened_at = x.clicked_at = start
    bounced = exposures[people[0].id]
    bounced.bounced_at = start
    db.commit()
    arms = {a.key: a for a in arms_of(db, experiment.id, store.variants_of(db, experiment.id))}
    assert (arms["a"].exposed, arms["a"].delivered) == (0, 0)
    b = arms["b"]
    assert (b.exposed, b.delivered, b.opened, b.clicked, b.unsubscribed) == (3, 2, 2, 2, 0)
