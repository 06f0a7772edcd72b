"""Mapping people from an older version onto the current one, step by step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from campaigns.sequences import control, versions
from campaigns.sequences.batch import run_steps
from campaigns.sequences.engine import Mailer, Verdict, run_step
from campaigns.sequences.mapping import map_enrolments
from nurture.db import get_engine
from nurture.errors import InvalidInput
from nurture.models import Enrolment, EnrolmentState, Sequence, utcnow
from tests.factories import make_contact
from tests.sequences.helpers import captured_count, drive, enrol, make_sequence, outcomes, reload


def wait(key: str, days: int) -> dict[str, Any]:
    return {"key": key, "type": "wait", "duration": {"days": days}}


def publish(db: Session, sequence_id: int, steps: list[dict[str, Any]]) -> int:
    version = versions.edit_sequence(db, sequence_id, steps_definition={"steps": steps})
    db.commit()
    return version.id


def first_version(db: Session, sequence_id: int) -> int:
    sequence = db.get(Sequence, sequence_id)
    assert sequence is not None
    assert sequence.current_version_id is not None
    return sequence.current_version_id


def test_mapped_people_go_on_in_the_new_version_and_the_others_finish_the_old(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    start = utcnow()
    intro = {"key": "intro", "type": "email", "template_id": template_id}
    call = {"key": "call", "type": "task", "kind": "call"}
    sequence = make_sequence(db, [intro, wait("pause", 2), call])
    v1 = first_version(db, sequence)
    waiting = enrol(db, sequence, make_contact(db).id, start)
    drive(db, waiting, start, mailer)  # intro sent, now in the two-day pause
    fresh = enrol(db, sequence, make_contact(db).id, start)  # not started yet
    guide = {"key": "guide", "type": "email", "template_id": template_id}
    v2 = publish(db, sequence, [intro, wait("pause", 2), guide, call])

    result = map_enrolments(db, sequence, v1, {"pause": "pause"}, now=start + timedelta(hours=1))
    db.commit()

    assert (result.moved, result.kept) == ({"pause": 1}, {"pause": 0})
    assert reload(db, waiting).version_id == v2
    assert reload(db, fresh).version_id == v1
    # The pause keeps its clock: still two days from when it began, not from the mapping.
    held = drive(db, waiting, start + timedelta(days=1), mailer)[-1]
    assert held.verdict is Verdict.POSTPONED
    assert held.next_run_at == start + timedelta(days=2)
    drive(db, waiting, start + timedelta(days=2), mailer)
    assert outcomes(db, waiting) == {
        "intro": "sent",
        "pause": "waited",
        "guide": "sent",
        "call": "created",
    }
    drive(db, fresh, start, mailer)
    drive(db, fresh, start + timedelta(days=2), mailer)
    assert outcomes(db, fresh) == {"intro": "sent", "pause": "waited", "call": "created"}
    assert captured_count(db) == 3


def test_people_who_already_ran_a_step_ahead_of_their_new_step_stay_where_they_are(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    start = utcnow()
    hello = {"key": "hello", "type": "email", "template_id": template_id}
    sequence = make_sequence(db, [hello, wait("one", 1), wait("two", 1)])
    v1 = first_version(db, sequence)
    far = enrol(db, sequence, make_contact(db).id, start)
    drive(db, far, start, mailer)
    drive(db, far, start + timedelta(days=1), mailer)  # at "two", having run hello and one
    near = enrol(db, sequence, make_contact(db).id, start)
    drive(db, near, start, mailer)  # at "one", having run hello
    v2 = publish(db, sequence, [hello, wait("one", 1), wait("two", 1)])
    moved_at = start + timedelta(days=1, hours=1)

    # Back to the start would find hello's e-mail key spent: `far` is kept on v1.
    result = map_enrolments(db, sequence, v1, {"two": "hello", "one": "two"}, now=moved_at)
    db.commit()

    assert result.moved == {"one": 1, "two": 0}
    assert result.kept == {"one": 0, "two": 1}
    assert (reload(db, far).version_id, reload(db, far).step_key) == (v1, "two")
    assert (reload(db, near).version_id, reload(db, near).step_key) == (v2, "two")
    # `two` is new to `near`: its wait starts at the mapping, not before.
    held = drive(db, near, moved_at, mailer)[-1]
    assert held.next_run_at == moved_at + timedelta(days=1)
    drive(db, near, moved_at + timedelta(days=1), mailer)
    assert reload(db, near).state == EnrolmentState.COMPLETED
    assert captured_count(db) == 2


def test_a_step_that_changed_type_under_the_same_key_is_not_continued(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    start = utcnow()
    sequence = make_sequence(db, [wait("next", 3)])
    v1 = first_version(db, sequence)
    started = enrol(db, sequence, make_contact(db).id, start)
    drive(db, started, start, mailer)  # the wait has begun
    publish(db, sequence, [{"key": "next", "type": "email", "template_id": template_id}])

    result = map_enrolments(db, sequence, v1, {"next": "next"}, now=start)

    assert (result.moved, result.kept) == ({"next": 0}, {"next": 1})


def test_paused_enrolments_are_mapped_and_stay_paused(db: Session, mailer: Mailer) -> None:
    start = utcnow()
    sequence = make_sequence(db, [wait("one", 1), {"key": "call", "type": "task", "kind": "call"}])
    v1 = first_version(db, sequence)
    enrolment = enrol(db, sequence, make_contact(db).id, start)
    control.pause_enrolment(db, enrolment)
    db.commit()
    v2 = publish(db, sequence, [{"key": "call", "type": "task", "kind": "call"}])

    result = map_enrolments(db, sequence, v1, {"one": "call"}, now=start)
    db.commit()

    assert result.moved == {"one": 1}
    paused = reload(db, enrolment)
    assert (paused.version_id, paused.step_key, paused.state) == (v2, "call", "paused")


def test_mapping_problems_name_each_key(db: Session, mailer: Mailer) -> None:
    sequence = make_sequence(db, [wait("one", 1)])
    v1 = first_version(db, sequence)
    other_v = first_version(db, make_sequence(db, [wait("one", 1)]))
    publish(db, sequence, [wait("uno", 1)])

    with pytest.raises(InvalidInput) as caught:
        map_enrolments(db, sequence, v1, {"nope": "uno", "one": "one"}, now=utcnow())
    with pytest.raises(InvalidInput) as foreign:
        map_enrolments(db, sequence, other_v, {"one": "uno"}, now=utcnow())
    with pytest.raises(InvalidInput) as empty:
        map_enrolments(db, sequence, v1, {}, now=utcnow())
    with pytest.raises(InvalidInput) as number:
        map_enrolments(db, sequence, v1, {"one": 7}, now=utcnow())

    assert [p.describe() for p in caught.value.problems] == [
        "step_map.nope: version 1 has no step 'nope'",
        "step_map.one: version 2 has no step 'one'",
    ]
    assert [p.field for p in foreign.value.problems] == ["from_version_id"]
    assert [p.field for p in empty.value.problems] == ["step_map"]
    assert [p.describe() for p in number.value.problems] == [
        "step_map.one: must be the key of a step in the current version"
    ]


def test_the_current_version_cannot_be_mapped_onto_itself(db: Session) -> None:
    sequence = make_sequence(db, [wait("one", 1)])

    with pytest.raises(InvalidInput) as caught:
        map_enrolments(db, sequence, first_version(db, sequence), {"one": "one"}, now=utcnow())

    assert caught.value.problems[0].message == "is the current version: nothing to map"


@pytest.mark.parametrize("runner", ["one by one", "batch"])
def test_a_step_whose_enrolment_changed_version_meanwhile_moves_nothing(
    db: Session, db_url: str, mailer: Mailer, template_id: int, runner: str
) -> None:
    """The engine's compare-and-set pins the version read when the step began: an
    enrolment moved onto another version mid-step (here, the instant before the step's
    final UPDATE, on the step's own connection) must not take the old flow's next step."""
    now = utcnow()
    sequence = make_sequence(
        db,
        [
            {"key": "intro", "type": "email", "template_id": template_id},
            wait("old_pause", 2),
        ],
    )
    old = first_version(db, sequence)
    new = publish(db, sequence, [{"key": "intro", "type": "email", "template_id": template_id}])
    enrolment = enrol(db, sequence, make_contact(db).id, now)
    db.execute(update(Enrolment).where(Enrolment.id == enrolment).values(version_id=old))
    db.commit()
    moved = False

    def remap(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        nonlocal moved
        if not moved and statement.startswith("UPDATE sequence_enrolments SET step_key"):
            moved = True
            cursor.execute(
                "UPDATE sequence_enrolments SET version_id = %s WHERE id = %s"
                if db_url.startswith("postgresql")
                else "UPDATE sequence_enrolments SET version_id = ? WHERE id = ?",
                (new, enrolment),
            )

    engine = get_engine(db_url)
    event.listen(engine, "before_cursor_execute", remap)
    try:
        if runner == "batch":
            verdict = run_steps(db, [(enrolment, "intro")], now=now, mailer=mailer)[enrolment]
        else:
            verdict = run_step(db, enrolment, "intro", now=now, mailer=mailer)
    finally:
        event.remove(engine, "before_cursor_execute", remap)

    assert moved
    # One by one, the failed compare-and-set rolls back (the injected change with it);
    # the batch commits the change and hands the enrolment to the one-by-one path,
    # which finds the e-mail sent and goes on in the new version. Neither may take the
    # old version's next step.
    assert verdict.verdict is not Verdict.ADVANCED
    assert reload(db, enrolment).step_key != "old_pause"
    assert captured_count(db) == 1
