"""Event triggers with property conditions: validation by path, and who they enrol."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from campaigns.sequences import definition
from campaigns.sequences.engine import Mailer
from campaigns.sequences.enrol import enrol_from_events
from campaigns.sequences.triggers import matches, parse_triggers
from nurture.errors import InvalidInput, Problem
from nurture.events import EventInput, ingest
from nurture.models import utcnow
from tests.factories import make_contact
from tests.sequences.helpers import drive, enrolment_of, make_sequence, outcomes

STEPS = [{"key": "call", "type": "task", "kind": "call"}]


def problems_of(raw: object) -> list[str]:
    found: list[Problem] = []
    parse_triggers(raw, found)
    return [f"{p.field}: {p.message}" for p in found]


def events(db: Session, *items: tuple[int, str, dict[str, Any]]) -> list[int]:
    now = utcnow()
    stored = ingest(
        db,
        [
            (i, EventInput(kind, now, props, contact_id=cid))
            for i, (cid, kind, props) in enumerate(items)
        ],
        source="test",
    )
    db.commit()
    return [i for i in stored.stored_event_ids if i is not None]


def test_bad_trigger_parts_are_named_by_their_path() -> None:
    found = problems_of(
        [
            {"event": "form.submitted", "where": {"form": {"in": []}}},
            {"event": "Form Submitted"},
            {"event": "page.visited", "where": {"path": {"starts": "/x"}, "bad name": 1}},
            {"event": "x.y", "colour": "red", "where": {"seen": {"exists": "yes"}}},
            {"segment_id": 0},
            "form.submitted",
        ]
    )

    assert found == [
        "triggers[0].where.form.in: must list 1 to 100 plain values",
        "triggers[1].event: must be an event type, like form.submitted",
        'triggers[2].where.path: must be a plain value (equals), {"in": [...]} or '
        '{"exists": true|false}',
        "triggers[2].where.bad name: must be a property name (letters, digits, _ . -)",
        "triggers[3].colour: is not a field of a trigger",
        "triggers[3].where.seen.exists: must be true or false",
        "triggers[4].segment_id: must be a segment id",
        'triggers[5]: must be an object like {"event": "form.submitted"}',
    ]


def test_a_definition_with_a_bad_trigger_names_the_trigger_path() -> None:
    with pytest.raises(InvalidInput) as caught:
        definition.parse(
            {"steps": STEPS, "triggers": [{"event": "form.submitted", "where": {"form": []}}]}
        )

    assert [p.field for p in caught.value.problems] == ["triggers[0].where.form"]


def test_segment_id_alone_means_entering_that_segment() -> None:
    flow = definition.parse({"steps": STEPS, "triggers": [{"segment_id": 4}]})

    assert flow.triggers == ({"event": "segment.entered", "segment_id": 4},)
    assert matches(flow.triggers[0], "segment.entered", {"segment_id": 4})
    assert not matches(flow.triggers[0], "segment.entered", {"segment_id": 5})


def test_conditions_compare_json_values_strictly() -> None:
    trigger = parse_triggers(
        [{"event": "form.submitted", "where": {"pages": 1, "paid": True, "size": {"in": [2.5]}}}],
        [],
    )[0]

    assert matches(trigger, "form.submitted", {"pages": 1.0, "paid": True, "size": 2.5})
    assert not matches(trigger, "form.submitted", {"pages": True, "paid": True, "size": 2.5})
    assert not matches(trigger, "form.submitted", {"pages": "1", "paid": True, "size": 2.5})
    assert not matches(trigger, "form.submitted", {"pages": 1, "paid": 1, "size": 2.5})
    assert not matches(trigger, "form.submitted", {"pages": 1, "paid": True})
    assert not matches(trigger, "page.visited", {"pages": 1, "paid": True, "size": 2.5})


def test_form_trigger_enrols_only_the_contacts_whose_event_meets_every_condition(
    db: Session, mailer: Mailer
) -> None:
    sequence = make_sequence(
        db,
        STEPS,
        triggers=[
            {
                "event": "form.submitted",
                "where": {
                    "form": "whitepaper",
                    "topic": {"in": ["gdpr", "dora"]},
                    "test": {"exists": False},
                },
            }
        ],
    )
    reader, wrong_form, wrong_topic, a_test, no_topic = (make_contact(db) for _ in range(5))
    ids = events(
        db,
        (reader.id, "form.submitted", {"form": "whitepaper", "topic": "dora"}),
        (wrong_form.id, "form.submitted", {"form": "contact", "topic": "dora"}),
        (wrong_topic.id, "form.submitted", {"form": "whitepaper", "topic": "tax"}),
        (a_test.id, "form.submitted", {"form": "whitepaper", "topic": "gdpr", "test": None}),
        (no_topic.id, "form.submitted", {"form": "whitepaper"}),
    )

    result = enrol_from_events(db, ids, now=utcnow())
    db.commit()

    assert result.enrolled == [reader.id]
    enrolment = enrolment_of(db, sequence, reader.id).id
    drive(db, enrolment, utcnow(), mailer)
    assert outcomes(db, enrolment) == {"call": "created"}


def test_exists_true_needs_the_property_whatever_its_value(db: Session) -> None:
    sequence = make_sequence(
        db,
        STEPS,
        triggers=[{"event": "webinar.attended", "where": {"recording": {"exists": True}}}],
    )
    watched, live = make_contact(db), make_contact(db)
    ids = events(
        db,
        (watched.id, "webinar.attended", {"recording": None}),
        (live.id, "webinar.attended", {}),
    )

    assert enrol_from_events(db, ids, now=utcnow()).enrolled == [watched.id]
    assert enrolment_of(db, sequence, watched.id).step_key == "call"
