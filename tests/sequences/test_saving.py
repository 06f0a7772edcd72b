"""Saving a whole sequence as the builder does: rename, store the definition (in place for
a draft, a new version for a running one) and, if asked, activate; each part audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.sequences import changes, versions
from nurture.errors import Conflict, InvalidInput
from nurture.models import AuditEntry, Sequence, SequenceStatus, SequenceVersion, utcnow

ACTOR = "user:7"
HALF_DONE: dict[str, Any] = {"steps": [{"key": "intro", "type": "email"}]}


def _valid(template_id: int, key: str = "intro") -> dict[str, Any]:
    return {"steps": [{"key": key, "type": "email", "template_id": template_id}]}


def _actions(db: Session, sequence_id: int) -> list[str]:
    return list(
        db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "sequence", AuditEntry.entity_id == str(sequence_id))
            .order_by(AuditEntry.id)
        )
    )


def _version_count(db: Session, sequence_id: int) -> int:
    count = select(func.count()).where(SequenceVersion.sequence_id == sequence_id)
    return int(db.scalar(count) or 0)


def _running(db: Session, template_id: int, *, paused: bool = False) -> Sequence:
    sequence = changes.create(db, actor=ACTOR, name="Running", body=_valid(template_id))
    changes.activate(db, sequence.id, actor=ACTOR)
    if paused:
        changes.pause(db, sequence.id, actor=ACTOR)
    db.commit()
    return sequence


def test_saving_a_draft_renames_it_and_replaces_its_definition_in_place(
    db: Session, template_id: int
) -> None:
    draft = changes.create(db, actor=ACTOR, name="Draft", body=HALF_DONE)
    db.commit()

    saved = changes.save(
        db,
        sequence_id=draft.id,
        actor=ACTOR,
        name="  Welcome series ",
        body=_valid(template_id),
        then_activate=False,
    )
    db.commit()

    assert (saved.published, saved.activated, saved.problems) == (None, False, [])
    assert saved.sequence.name == "Welcome series"
    assert saved.sequence.status == SequenceStatus.DRAFT.value
    assert versions.current_version(db, saved.sequence).definition == _valid(template_id)
    assert _version_count(db, draft.id) == 1
    assert _actions(db, draft.id) == [
        "sequence.created",
        "sequence.renamed",
        "sequence.draft_edited",
    ]


def test_a_draft_saved_with_problems_says_what_stops_it(db: Session) -> None:
    draft = changes.create(db, actor=ACTOR, name="Draft", body=HALF_DONE)
    db.commit()

    saved = changes.save(
        db, sequence_id=draft.id, actor=ACTOR, name="Draft", body=HALF_DONE, then_activate=False
    )

    assert [p.field for p in saved.problems] == ["steps[0].template_id"]
    # Same name, same definition: nothing changed, so nothing is recorded.
    assert _actions(db, draft.id) == ["sequence.created"]


def test_saving_a_draft_and_activating_it_starts_it(db: Session, template_id: int) -> None:
    draft = changes.create(db, actor=ACTOR, name="Draft", body=HALF_DONE)
    db.commit()

    saved = changes.save(
        db,
        sequence_id=draft.id,
        actor=ACTOR,
        name="Draft",
        body=_valid(template_id),
        then_activate=True,
    )
    db.commit()

    assert (saved.published, saved.activated, saved.problems) == (None, True, [])
    assert versions.get_sequence(db, draft.id).status == SequenceStatus.ACTIVE.value
    assert _actions(db, draft.id)[-2:] == ["sequence.draft_edited", "sequence.activated"]


def test_a_draft_activation_refuses_keeps_the_saved_draft(db: Session) -> None:
    draft = changes.create(db, actor=ACTOR, name="Draft", body={"steps": []})
    db.commit()

    saved = changes.save(
        db, sequence_id=draft.id, actor=ACTOR, name="Renamed", body=HALF_DONE, then_activate=True
    )
    db.commit()

    assert saved.activated is False
    assert [p.field for p in saved.problems] == ["steps[0].template_id"]
    stored = versions.get_sequence(db, draft.id)
    assert (stored.name, stored.status) == ("Renamed", SequenceStatus.DRAFT.value)
    assert versions.current_version(db, stored).definition == HALF_DONE
    assert "sequence.activated" not in _actions(db, draft.id)


def test_a_running_sequence_publishes_a_version_only_when_its_definition_changed(
    db: Session, template_id: int
) -> None:
    sequence = _running(db, template_id)

    changed = changes.save(
        db,
        sequence_id=sequence.id,
        actor=ACTOR,
        name="Running",
        body=_valid(template_id, key="hello"),
        then_activate=False,
    )
    unchanged = changes.save(
        db,
        sequence_id=sequence.id,
        actor=ACTOR,
        name="Running",
        body=_valid(template_id, key="hello"),
        then_activate=True,
    )
    db.commit()

    assert (changed.published, changed.activated) == (2, False)
    # Already active: asking to activate changes nothing and says nothing was activated.
    assert (unchanged.published, unchanged.activated, unchanged.problems) == (None, False, [])
    assert _version_count(db, sequence.id) == 2
    assert _actions(db, sequence.id).count("sequence.published") == 1


def test_saving_a_paused_sequence_and_activating_it_resumes_it(
    db: Session, template_id: int
) -> None:
    sequence = _running(db, template_id, paused=True)

    saved = changes.save(
        db,
        sequence_id=sequence.id,
        actor=ACTOR,
        name="Back again",
        body=_valid(template_id, key="again"),
        then_activate=True,
    )
    db.commit()

    assert (saved.published, saved.activated) == (2, True)
    assert versions.get_sequence(db, sequence.id).status == SequenceStatus.ACTIVE.value
    assert _actions(db, sequence.id)[-3:] == [
        "sequence.renamed",
        "sequence.published",
        "sequence.resumed",
    ]


def test_saving_a_paused_sequence_without_activating_keeps_it_paused(
    db: Session, template_id: int
) -> None:
    sequence = _running(db, template_id, paused=True)

    saved = changes.save(
        db,
        sequence_id=sequence.id,
        actor=ACTOR,
        name="Still paused",
        body=_valid(template_id),
        then_activate=False,
    )
    db.commit()

    assert (saved.published, saved.activated) == (None, False)
    assert versions.get_sequence(db, sequence.id).status == SequenceStatus.PAUSED.value
    assert _actions(db, sequence.id)[-1] == "sequence.renamed"


def test_a_running_sequence_refuses_a_new_version_with_problems(
    db: Session, template_id: int
) -> None:
    sequence = _running(db, template_id)

    with pytest.raises(InvalidInput) as refused:
        changes.save(
            db,
            sequence_id=sequence.id,
            actor=ACTOR,
            name="Running",
            body=HALF_DONE,
            then_activate=False,
        )
    db.rollback()

    assert refused.value.problems[0].field == "steps[0].template_id"
    assert _version_count(db, sequence.id) == 1


def test_a_stopped_sequence_refuses_a_new_definition(db: Session, template_id: int) -> None:
    sequence = _running(db, template_id)
    changes.stop(db, sequence.id, actor=ACTOR, now=utcnow())
    db.commit()

    with pytest.raises(Conflict):
        changes.save(
            db,
            sequence_id=sequence.id,
            actor=ACTOR,
            name="Stopped",
            body=_valid(template_id, key="other"),
            then_activate=True,
        )
    db.rollback()

    # The same definition under a new name is only a rename, and activation does not apply.
    saved = changes.save(
        db,
        sequence_id=sequence.id,
        actor=ACTOR,
        name="Stopped",
        body=_valid(template_id),
        then_activate=True,
    )
    assert (saved.published, saved.activated, saved.problems) == (None, False, [])
    assert saved.sequence.status == SequenceStatus.STOPPED.value


def test_a_blank_name_is_refused_by_field(db: Session, template_id: int) -> None:
    sequence = _running(db, template_id)

    with pytest.raises(InvalidInput) as refused:
        changes.save(
            db,
            sequence_id=sequence.id,
            actor=ACTOR,
            name="   ",
            body=_valid(template_id),
            then_activate=False,
        )

    assert [p.field for p in refused.value.problems] == ["name"]


def test_a_new_sequence_is_activated_only_when_asked_and_valid(
    db: Session, template_id: int
) -> None:
    kept = changes.save_new(
        db, actor=ACTOR, name="Kept", body=_valid(template_id), then_activate=False
    )
    started = changes.save_new(
        db, actor=ACTOR, name="Started", body=_valid(template_id), then_activate=True
    )
    refused = changes.save_new(db, actor=ACTOR, name="Refused", body=HALF_DONE, then_activate=True)
    db.commit()

    assert (kept.sequence.status, kept.activated, kept.problems) == ("draft", False, [])
    assert (started.sequence.status, started.activated) == ("active", True)
    assert (refused.sequence.status, refused.activated) == ("draft", False)
    assert [p.field for p in refused.problems] == ["steps[0].template_id"]
    assert _actions(db, started.sequence.id) == ["sequence.created", "sequence.activated"]
    assert _actions(db, refused.sequence.id) == ["sequence.created"]


def test_a_new_sequence_with_a_shape_no_draft_may_hold_stores_nothing(db: Session) -> None:
    with pytest.raises(InvalidInput):
        changes.save_new(
            db, actor=ACTOR, name="Broken", body={"steps": {"a": {}}}, then_activate=True
        )
    db.rollback()

    assert db.scalar(select(func.count()).select_from(Sequence)) == 0
