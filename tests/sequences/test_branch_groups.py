"""Branch conditions that combine tests with any/all, like segment rules do."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences import definition, draft_shape
from campaigns.sequences.engine import Mailer, run_step
from nurture.errors import InvalidInput
from nurture.events import EventInput, ingest
from nurture.models import EmailMessage, utcnow
from tests.factories import make_contact
from tests.sequences.helpers import drive, enrol, make_sequence, outcomes

OPENED_OR_CLICKED = {
    "any": [
        {"event": "email.opened", "step": "intro"},
        {"event": "email.clicked", "step": "intro"},
    ]
}


def flow_with(condition: object, template_id: int = 1) -> dict[str, Any]:
    return {
        "steps": [
            {"key": "intro", "type": "email", "template_id": template_id},
            {
                "key": "engaged",
                "type": "branch",
                "condition": condition,
                "then": [{"key": "won", "type": "goal"}],
                "else": [{"key": "gone", "type": "exit"}],
            },
        ]
    }


def problems_of(body: dict[str, Any]) -> set[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        definition.parse(body)
    return {(p.field, p.message) for p in caught.value.problems}


def test_an_any_group_of_tests_is_a_valid_condition() -> None:
    flow = definition.parse(flow_with(OPENED_OR_CLICKED))

    assert flow.steps["engaged"].spec["condition"] == OPENED_OR_CLICKED


def test_groups_nest_like_segment_rules() -> None:
    nested = {"all": [OPENED_OR_CLICKED, {"event": "page.visited"}]}

    assert definition.parse(flow_with(nested)).steps["engaged"].type == "branch"


@pytest.mark.parametrize(
    ("condition", "field", "message"),
    [
        ({"any": []}, "steps[1].condition.any", "must list 1 to 10 tests"),
        ({"all": "email.opened"}, "steps[1].condition.all", "must list 1 to 10 tests"),
        (
            {"any": [{"event": "email.opened"}], "step": "intro"},
            "steps[1].condition",
            'must be {"any": [...]} or {"all": [...]} and nothing else',
        ),
        (
            {"any": [{"event": "email.opened", "step": "nowhere"}]},
            "steps[1].condition.any[0].step",
            "no step with key 'nowhere'",
        ),
        (
            {"all": [{"event": "email.clicked"}, {"event": "not an event"}]},
            "steps[1].condition.all[1].event",
            "must be an event type, like email.clicked",
        ),
        (
            {"any": [{"all": [{"any": [{"all": [{"event": "email.opened"}]}]}]}]},
            "steps[1].condition.any[0].all[0].any[0].all",
            "groups nest at most 3 deep",
        ),
    ],
)
def test_a_bad_group_names_the_test_that_is_wrong(
    condition: object, field: str, message: str
) -> None:
    assert (field, message) in problems_of(flow_with(condition))


def test_a_draft_may_not_hold_a_group_the_builder_cannot_walk() -> None:
    found = draft_shape.shape_problems(flow_with({"any": ["email.opened"]}))

    assert [p.describe() for p in found] == ["steps[1].condition.any[0]: must be an object"]


def _clicked_or_opened(db: Session, mailer: Mailer, template_id: int, kind: str | None) -> str:
    """The arm a contact takes on "opened or clicked" after doing `kind` (or nothing)."""
    now = utcnow()
    sequence = make_sequence(db, flow_with(OPENED_OR_CLICKED, template_id)["steps"])
    contact = make_contact(db)
    enrolment = enrol(db, sequence, contact.id, now)
    run_step(db, enrolment, "intro", now=now, mailer=mailer)
    if kind is not None:
        message_id = db.scalar(select(EmailMessage.id).where(EmailMessage.contact_id == contact.id))
        _event(db, contact.id, kind, now, message_id=message_id)
    drive(db, enrolment, now, mailer)
    return str(outcomes(db, enrolment)["engaged"])


def _event(db: Session, contact_id: int, kind: str, when: datetime, **props: object) -> None:
    ingest(db, [(0, EventInput(kind, when, dict(props), contact_id=contact_id))], source="test")
    db.commit()


@pytest.mark.parametrize("kind", ["email.opened", "email.clicked"])
def test_opened_or_clicked_takes_yes_for_either(
    db: Session, mailer: Mailer, template_id: int, kind: str
) -> None:
    assert _clicked_or_opened(db, mailer, template_id, kind) == "then"


def test_opened_or_clicked_takes_no_for_neither(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    assert _clicked_or_opened(db, mailer, template_id, None) == "else"


def test_an_all_group_needs_every_test(db: Session, mailer: Mailer, template_id: int) -> None:
    now = utcnow()
    both = {"all": [{"event": "email.opened", "step": "intro"}, {"event": "webinar.attended"}]}
    sequence = make_sequence(db, flow_with(both, template_id)["steps"])
    only_opened, did_both = make_contact(db), make_contact(db)
    arms = {}
    for contact in (only_opened, did_both):
        enrolment = enrol(db, sequence, contact.id, now)
        run_step(db, enrolment, "intro", now=now, mailer=mailer)
        message_id = db.scalar(select(EmailMessage.id).where(EmailMessage.contact_id == contact.id))
        _event(db, contact.id, "email.opened", now, message_id=message_id)
        if contact is did_both:
            _event(db, contact.id, "webinar.attended", now)
        drive(db, enrolment, now, mailer)
        arms[contact.id] = outcomes(db, enrolment)["engaged"]

    assert arms == {only_opened.id: "else", did_both.id: "then"}
