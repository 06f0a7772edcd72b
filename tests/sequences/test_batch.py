"""A claimed batch run at once (campaigns.sequences.batch): the same outcomes as one by one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.email.pipeline import send_to_contact
from campaigns.sequences import versions
from campaigns.sequences.batch import BatchResults, run_steps
from campaigns.sequences.caps import FrequencyCap
from campaigns.sequences.conditions import effect_key
from campaigns.sequences.engine import Limits, Mailer, Verdict
from campaigns.sequences.scheduler import claim_due
from nurture.contacts import suppress
from nurture.db import session_scope
from nurture.events import EventInput, ingest
from nurture.models import (
    Contact,
    EmailMessage,
    Enrolment,
    EnrolmentState,
    SequenceVersion,
    StepRun,
    SuppressionReason,
    utcnow,
)
from tests.factories import make_contact
from tests.sequences.helpers import captured_count, enrol, make_sequence, outcomes, reload

NO_CAP = Limits(cap=FrequencyCap(limit=0))


def email_then_wait(db: Session, template_id: int, **settings: object) -> int:
    return make_sequence(
        db,
        [
            {"key": "intro", "type": "email", "template_id": template_id},
            {"key": "pause", "type": "wait", "duration": {"days": 2}},
            {"key": "done", "type": "goal"},
        ],
        **settings,
    )


def run_due(db: Session, now: datetime, mailer: Mailer, limits: Limits = NO_CAP) -> BatchResults:
    claimed = claim_due(db, now=now)
    db.commit()
    return run_steps(db, claimed, now=now, mailer=mailer, limits=limits)


def test_a_batch_sends_each_email_once_and_moves_everyone_on(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = email_then_wait(db, template_id)
    enrolments = [enrol(db, sequence, make_contact(db).id, now) for _ in range(6)]
    claimed = claim_due(db, now=now)
    db.commit()

    results = run_steps(db, claimed, now=now, mailer=mailer, limits=NO_CAP)
    again = run_steps(db, claimed, now=now, mailer=mailer, limits=NO_CAP)  # a duplicate

    assert {r.verdict for r in results.values()} == {Verdict.ADVANCED}
    assert {r.step_key for r in results.values()} == {"pause"}
    assert {r.verdict for r in again.values()} == {Verdict.SKIPPED}
    assert captured_count(db) == 6
    for enrolment_id in enrolments:
        assert reload(db, enrolment_id).step_key == "pause"
        assert reload(db, enrolment_id).claim_token is None
        run = db.scalars(
            select(StepRun).where(StepRun.enrolment_id == enrolment_id, StepRun.step_key == "intro")
        ).one()
        message = db.scalars(
            select(EmailMessage).where(EmailMessage.idempotency_key == run.effect_key)
        ).one()
        assert run.outcome == "sent"
        assert run.detail == {"message_id": message.id}
        assert message.contact_id == reload(db, enrolment_id).contact_id


def test_waits_start_together_and_end_together(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = email_then_wait(db, template_id)
    enrolments = [enrol(db, sequence, make_contact(db).id, now) for _ in range(3)]
    run_due(db, now, mailer)

    started = run_due(db, now, mailer)
    too_early = run_due(db, now + timedelta(days=1), mailer)
    ended = run_due(db, now + timedelta(days=2), mailer)
    finished = run_due(db, now + timedelta(days=2), mailer)

    assert {r.verdict for r in started.values()} == {Verdict.POSTPONED}
    assert {r.next_run_at for r in started.values()} == {now + timedelta(days=2)}
    assert too_early == {}
    assert {r.verdict for r in ended.values()} == {Verdict.ADVANCED}
    assert {r.state for r in finished.values()} == {EnrolmentState.COMPLETED.value}
    for enrolment_id in enrolments:
        assert outcomes(db, enrolment_id) == {"intro": "sent", "pause": "waited", "done": "goal"}


def test_exits_and_held_mail_take_the_one_by_one_path_in_a_batch(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = email_then_wait(
        db, template_id, goals=[{"lifecycle": ["customer"]}, {"event": "meeting.booked"}]
    )
    plain = [make_contact(db) for _ in range(2)]
    unsubscribed = make_contact(db)
    replied = make_contact(db)
    booked_before = make_contact(db)
    customer = make_contact(db)
    capped = make_contact(db)
    no_address = make_contact(db)
    db.execute(update(Contact).where(Contact.id == no_address.id).values(email=None))
    send_to_contact(
        db,
        template_id,
        capped.id,
        idempotency_key="broadcast:1",
        transport=mailer.transport,
        config=mailer.config,
    )
    booked = EventInput("meeting.booked", now - timedelta(days=1), {}, contact_id=booked_before.id)
    ingest(db, [(0, booked)], source="test")
    db.commit()
    everyone = [*plain, unsubscribed, replied, booked_before, customer, capped, no_address]
    ids = {c.id: enrol(db, sequence, c.id, now) for c in everyone}
    assert unsubscribed.email is not None
    suppress(db, unsubscribed.email, reason=SuppressionReason.UNSUBSCRIBED)
    ingest(db, [(0, EventInput("email.replied", now, {}, contact_id=replied.id))], source="test")
    # Won as a client after enrolling (customers are not enrolled at all).
    db.execute(update(Contact).where(Contact.id == customer.id).values(lifecycle_stage="customer"))
    db.commit()

    results = run_due(db, now, mailer, Limits(cap=FrequencyCap(limit=1)))

    def state(contact_id: int) -> tuple[str, str | None, str | None]:
        enrolment = reload(db, ids[contact_id])
        return enrolment.state, enrolment.exit_reason, enrolment.step_key

    for contact in plain:
        assert state(contact.id) == ("active", None, "pause")
    assert state(unsubscribed.id) == ("exited", "suppressed", "intro")
    assert state(replied.id) == ("exited", "replied", "intro")
    # The goal event came before the enrolment: it does not count.
    assert state(booked_before.id) == ("active", None, "pause")
    assert state(customer.id) == ("exited", "goal:lifecycle:customer", "intro")
    assert state(capped.id) == ("active", None, "intro")
    assert results[ids[capped.id]].outcome == "frequency_cap"
    assert state(no_address.id) == ("active", None, "pause")
    assert outcomes(db, ids[no_address.id]) == {"intro": "no_address"}
    # Two plain contacts, the early booker, and the capped contact's earlier broadcast.
    assert captured_count(db) == 4


def test_quiet_hours_hold_only_the_contacts_in_them(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    # 22:00 UTC on a Thursday: 23:00 in Berlin (quiet), 17:00 in New York (fine).
    late = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
    sequence = email_then_wait(db, template_id, quiet_hours={"start": "20:00", "end": "08:00"})
    berlin = [
        enrol(db, sequence, make_contact(db, time_zone="Europe/Berlin").id, late) for _ in range(2)
    ]
    tokyo = enrol(db, sequence, make_contact(db, time_zone="Asia/Tokyo").id, late)
    york = enrol(db, sequence, make_contact(db, time_zone="America/New_York").id, late)
    morning = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # 08:00 in Berlin

    results = run_due(db, late, mailer)
    still_night = run_due(db, late + timedelta(hours=1), mailer)
    at_eight = run_due(db, morning, mailer)

    for held in berlin:
        assert results[held].verdict is Verdict.POSTPONED
        assert results[held].next_run_at == morning
        assert results[held].outcome == "send_window"
        assert reload(db, held).next_run_at == morning
    # 07:00 in Tokyo: quiet until 08:00 there, 23:00 UTC.
    assert results[tokyo].next_run_at == datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    assert results[york].verdict is Verdict.ADVANCED
    assert still_night[tokyo].verdict is Verdict.ADVANCED
    assert not set(berlin) & set(still_night)
    assert {at_eight[i].verdict for i in berlin} == {Verdict.ADVANCED}
    assert captured_count(db) == 4
    # The step began at the first attempt, as one by one.
    started = db.scalars(
        select(StepRun.started_at).where(
            StepRun.enrolment_id == berlin[0], StepRun.step_key == "intro"
        )
    ).one()
    assert started == late


def test_a_batch_rerun_after_a_crash_sends_each_email_once(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = email_then_wait(db, template_id)
    contacts = [make_contact(db) for _ in range(4)]
    ids = [enrol(db, sequence, c.id, now) for c in contacts]
    # The first run wrote every key, sent the first e-mail and died.
    for enrolment_id in ids:
        db.add(StepRun(enrolment_id=enrolment_id, step_key="intro", started_at=now))
    db.flush()
    for enrolment_id in ids:
        db.execute(
            update(StepRun)
            .where(StepRun.enrolment_id == enrolment_id)
            .values(effect_key=effect_key(enrolment_id, "intro"))
        )
    send_to_contact(
        db,
        template_id,
        contacts[0].id,
        idempotency_key=effect_key(ids[0], "intro"),
        transport=mailer.transport,
        config=mailer.config,
    )
    db.commit()

    results = run_due(db, now, mailer)

    assert {r.verdict for r in results.values()} == {Verdict.ADVANCED}
    assert captured_count(db) == 4


def test_a_paused_sequence_in_a_batch_runs_nothing_and_drops_the_claims(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = email_then_wait(db, template_id)
    ids = [enrol(db, sequence, make_contact(db).id, now) for _ in range(3)]
    claimed = claim_due(db, now=now)
    db.commit()
    versions.pause(db, sequence)
    db.commit()

    results = run_steps(db, claimed, now=now, mailer=mailer, limits=NO_CAP)

    assert {r.verdict for r in results.values()} == {Verdict.SKIPPED}
    assert captured_count(db) == 0
    assert all(reload(db, i).claim_token is None for i in ids)


def test_two_workers_running_the_same_batch_at_once_send_each_email_once(
    db: Session, db_url: str, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    sequence = email_then_wait(db, template_id)
    ids = [enrol(db, sequence, make_contact(db).id, now) for _ in range(8)]
    claimed = claim_due(db, now=now)
    db.commit()
    start = threading.Barrier(2)
    verdicts: list[Verdict] = []

    def worker() -> None:
        start.wait()
        with session_scope(db_url) as session:
            results = run_steps(session, claimed, now=now, mailer=mailer, limits=NO_CAP)
            verdicts.extend(r.verdict for r in results.values())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert verdicts.count(Verdict.ADVANCED) == 8
    assert verdicts.count(Verdict.SKIPPED) == 8
    assert captured_count(db) == 8
    assert {reload(db, i).step_key for i in ids} == {"pause"}
    assert db.scalar(select(Enrolment.id).where(Enrolment.claim_token.is_not(None))) is None


def test_a_step_that_raises_is_listed_and_the_rest_of_the_batch_still_runs(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    fine = email_then_wait(db, template_id)
    broken = email_then_wait(db, template_id)
    ok = [enrol(db, fine, make_contact(db).id, now) for _ in range(3)]
    bad = enrol(db, broken, make_contact(db).id, now)
    # A stored version that no longer reads (say, written by a buggy migration).
    db.execute(
        update(SequenceVersion)
        .where(SequenceVersion.sequence_id == broken)
        .values(definition={"steps": "not a list"})
    )
    db.commit()

    results = run_due(db, now, mailer)

    assert set(results.errors) == {bad}
    assert {results[i].verdict for i in ok} == {Verdict.ADVANCED}
    assert captured_count(db) == 3
    assert reload(db, bad).step_key == "intro"
    assert reload(db, bad).claim_token is not None  # still claimed: retried, or after the lease
