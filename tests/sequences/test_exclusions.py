"""Enrolment policies: one live sequence per goal group, and the configurable frequency cap."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from campaigns.sequences import control, definition, versions
from campaigns.sequences.caps import FrequencyCap
from campaigns.sequences.engine import Limits, Mailer, Verdict
from campaigns.sequences.enrol import enrol_contacts, enrol_from_events
from nurture.config import DEFAULT_FREQUENCY_CAP, Settings, SettingsError
from nurture.db import session_scope
from nurture.errors import InvalidInput
from nurture.events import EventInput, ingest
from nurture.models import Enrolment, EnrolmentState, utcnow
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
from workers import context
from workers.sequences import run_enrolment_step

CALL = [{"key": "call", "type": "task", "kind": "call"}]
WAITING_ON_ADVISORY_LOCK = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
)


def test_contact_live_in_a_sequence_of_the_same_goal_is_skipped(db: Session) -> None:
    now = utcnow()
    legal = make_sequence(db, CALL, goal_group="legal-compliance")
    also_legal = make_sequence(db, CALL, goal_group="legal-compliance")
    other_goal = make_sequence(db, CALL, goal_group="webinars")
    no_goal = make_sequence(db, CALL)
    busy, free = make_contact(db), make_contact(db)
    enrol(db, legal, busy.id, now)

    same = enrol_contacts(db, also_legal, [busy.id, free.id], now=now)
    other = enrol_contacts(db, other_goal, [busy.id], now=now)
    plain = enrol_contacts(db, no_goal, [busy.id], now=now)

    assert same.enrolled == [free.id]
    assert same.skipped == {busy.id: "same_goal"}
    assert other.enrolled == [busy.id]
    assert plain.enrolled == [busy.id]


def test_two_enrolments_racing_into_one_goal_group_let_only_one_in(
    db: Session, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time: there is no such race to lose")
    now = utcnow()
    first = make_sequence(db, CALL, goal_group="legal")
    second = make_sequence(db, CALL, goal_group="legal")
    contact = make_contact(db).id
    db.commit()
    outcome: list[dict[int, str]] = []

    def rival() -> None:
        with session_scope(db_url) as session:
            outcome.append(enrol_contacts(session, second, [contact], now=now).skipped)

    with session_scope(db_url) as holder:
        # The first enrolment is written but not committed when the second one starts.
        assert enrol_contacts(holder, first, [contact], now=now).enrolled == [contact]
        thread = threading.Thread(target=rival)
        thread.start()
        waiting = False
        for _ in range(200):
            waiting = bool(holder.scalar(WAITING_ON_ADVISORY_LOCK))
            if waiting or not thread.is_alive():
                break
            time.sleep(0.05)
    thread.join(timeout=30)

    assert waiting, "the second enrolment did not wait for the first one's commit"
    assert outcome == [{contact: "same_goal"}]
    live = db.scalars(select(Enrolment.sequence_id).where(Enrolment.contact_id == contact)).all()
    assert live == [first]


def test_leaving_the_other_sequence_frees_the_contact_for_the_same_goal(
    db: Session, mailer: Mailer
) -> None:
    now = utcnow()
    first = make_sequence(db, CALL, goal_group="legal")
    second = make_sequence(db, CALL, goal_group="legal")
    contact = make_contact(db)
    enrolment = enrol(db, first, contact.id, now)
    drive(db, enrolment, now, mailer)  # the one task step completes the enrolment

    assert enrol_contacts(db, second, [contact.id], now=now).enrolled == [contact.id]


def test_a_paused_sequence_still_holds_its_people_for_the_goal(db: Session) -> None:
    now = utcnow()
    first = make_sequence(db, CALL, goal_group="legal")
    second = make_sequence(db, CALL, goal_group="legal")
    contact = make_contact(db)
    enrol(db, first, contact.id, now)
    versions.pause(db, first)
    db.commit()

    assert enrol_contacts(db, second, [contact.id], now=now).skipped == {contact.id: "same_goal"}

    control.stop_sequence(db, first, now=now)
    db.commit()
    assert enrol_contacts(db, second, [contact.id], now=now).enrolled == [contact.id]


def test_goal_group_must_be_a_slug() -> None:
    with pytest.raises(InvalidInput) as caught:
        definition.parse({"steps": CALL, "goal_group": "Legal Compliance"})

    assert [p.field for p in caught.value.problems] == ["goal_group"]


def test_frequency_cap_setting_defaults_and_accepts_zero(tmp_path: object) -> None:
    env = {"NURTURE_DATA_DIR": str(tmp_path), "NURTURE_SECRET_KEY": "k" * 40}

    assert Settings.from_env(env).frequency_cap == DEFAULT_FREQUENCY_CAP
    assert Settings.from_env({**env, "NURTURE_FREQUENCY_CAP": "0"}).frequency_cap == 0
    assert Settings.from_env({**env, "NURTURE_FREQUENCY_CAP": "5"}).frequency_cap == 5
    with pytest.raises(SettingsError, match="NURTURE_FREQUENCY_CAP"):
        Settings.from_env({**env, "NURTURE_FREQUENCY_CAP": "-1"})
    with pytest.raises(SettingsError, match="NURTURE_FREQUENCY_CAP"):
        Settings.from_env({**env, "NURTURE_FREQUENCY_CAP": "many"})


def test_the_worker_applies_the_configured_cap_to_the_second_email_of_the_week(
    db: Session, template_id: int, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context, "_settings", replace(settings, frequency_cap=1))
    now = utcnow()
    first = make_sequence(db, [{"key": "hello", "type": "email", "template_id": template_id}])
    second = make_sequence(db, [{"key": "again", "type": "email", "template_id": template_id}])
    contact = make_contact(db)
    one = enrol(db, first, contact.id, now)
    two = enrol(db, second, contact.id, now)

    run_enrolment_step.fn(one, "hello")
    run_enrolment_step.fn(two, "again")

    held = reload(db, two)
    assert reload(db, one).state == EnrolmentState.COMPLETED
    assert held.state == EnrolmentState.ACTIVE
    assert held.next_run_at is not None
    assert held.next_run_at > now + timedelta(days=6)
    assert outcomes(db, two) == {"again": None}
    assert captured_count(db) == 1


def test_cap_from_settings_of_zero_turns_the_cap_off(
    db: Session, mailer: Mailer, template_id: int, settings: Settings
) -> None:
    now = utcnow()
    limits = Limits(cap=FrequencyCap.from_settings(replace(settings, frequency_cap=0)))
    steps = [{"key": f"mail{n}", "type": "email", "template_id": template_id} for n in range(5)]
    enrolment = enrol(db, make_sequence(db, steps), make_contact(db).id, now)

    results = drive(db, enrolment, now, mailer, limits)

    assert results[-1].verdict is Verdict.FINISHED
    assert captured_count(db) == 5


def test_one_event_triggering_two_sequences_of_one_goal_enrols_in_the_first_only(
    db: Session,
) -> None:
    trigger = [{"event": "form.submitted", "where": {"form": "whitepaper"}}]
    first = make_sequence(db, CALL, goal_group="legal", triggers=trigger)
    second = make_sequence(db, CALL, goal_group="legal", triggers=trigger)
    contact = make_contact(db)
    stored = ingest(
        db,
        [
            (
                0,
                EventInput(
                    "form.submitted", utcnow(), {"form": "whitepaper"}, contact_id=contact.id
                ),
            )
        ],
        source="test",
    )

    result = enrol_from_events(db, stored.stored_event_ids, now=utcnow())

    assert result.enrolled == [contact.id]
    assert result.skipped == {contact.id: "same_goal"}
    assert enrolment_of(db, first, contact.id).state == EnrolmentState.ACTIVE
    assert db.scalars(select(Enrolment.id).where(Enrolment.sequence_id == second)).all() == []
