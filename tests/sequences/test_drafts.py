"""Drafts are stored with their problems; activation and publishing refuse them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.sequences import changes, versions
from campaigns.sequences.enrol import enrol_contacts
from nurture.errors import Conflict, InvalidInput
from nurture.models import AuditEntry, Sequence, SequenceStatus, SequenceVersion, utcnow
from tests.email.conftest import make_template
from tests.factories import make_contact

HALF_DONE: dict[str, Any] = {
    "steps": [
        {"key": "intro", "type": "email"},
        {"key": "check", "type": "branch", "condition": {"event": "email.clicked"}, "then": []},
    ]
}


def _valid(template_id: int) -> dict[str, Any]:
    return {"steps": [{"key": "intro", "type": "email", "template_id": template_id}]}


def test_a_half_done_draft_is_stored_and_names_its_problems(db: Session) -> None:
    sequence = changes.create(db, actor="user:1", name="Half done", body=HALF_DONE)
    db.commit()

    assert sequence.status == SequenceStatus.DRAFT.value
    assert versions.current_version(db, sequence).definition == HALF_DONE
    assert [p.describe() for p in versions.problems_of(db, sequence)] == [
        "steps[0].template_id: must be a template id (a positive integer)",
        "steps[1].else: is required",
        "steps[1].then: is empty: add at least one step",
        "steps[1].else: must be a list of steps",
    ]
    with pytest.raises(InvalidInput) as refused:
        changes.activate(db, sequence.id, actor="user:1")
    assert {p.field for p in refused.value.problems} >= {"steps[0].template_id"}
    db.rollback()
    assert versions.get_sequence(db, sequence.id).status == SequenceStatus.DRAFT.value
    # A draft takes nobody: the status is checked before its flow is read.
    with pytest.raises(Conflict):
        enrol_contacts(db, sequence.id, [make_contact(db).id], now=utcnow())


def test_a_draft_edit_keeps_problems_and_fixing_them_lets_it_start(db: Session) -> None:
    template_id = make_template(db)
    sequence = changes.create(db, actor="user:1", name="Draft", body=_valid(template_id))
    db.commit()

    changes.update_definition(db, sequence.id, actor="user:1", body=HALF_DONE)
    db.commit()
    assert versions.problems_of(db, sequence)
    changes.update_definition(db, sequence.id, actor="user:1", body=_valid(template_id))
    changes.activate(db, sequence.id, actor="user:1")
    db.commit()

    assert sequence.status == SequenceStatus.ACTIVE.value
    assert versions.problems_of(db, sequence) == []
    count = db.scalar(select(func.count()).select_from(SequenceVersion))
    assert count == 1
    actions = db.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "sequence")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "sequence.created",
        "sequence.draft_edited",
        "sequence.draft_edited",
        "sequence.activated",
    ]


def test_a_running_sequence_publishes_no_version_with_problems(db: Session) -> None:
    template_id = make_template(db)
    sequence = changes.create(db, actor="user:1", name="Live", body=_valid(template_id))
    changes.activate(db, sequence.id, actor="user:1")
    db.commit()

    with pytest.raises(InvalidInput) as refused:
        changes.update_definition(db, sequence.id, actor="user:1", body=HALF_DONE)
    db.rollback()

    assert refused.value.problems[0].field == "steps[0].template_id"
    assert versions.current_version(db, sequence).definition == _valid(template_id)
    assert db.scalar(select(func.count()).select_from(SequenceVersion)) == 1


def test_a_shape_no_draft_may_hold_stores_nothing(db: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        changes.create(db, actor="user:1", name="Broken", body={"steps": {"intro": {}}})
    db.rollback()

    assert [p.describe() for p in refused.value.problems] == ["steps: must be a list of steps"]
    assert db.scalar(select(func.count()).select_from(Sequence)) == 0
