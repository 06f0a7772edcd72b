"""Scoring rules and settings: what is accepted, what is refused (naming the field), and
that a refused change leaves everything as it was."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput
from nurture.models import AuditEntry, BehaviourRule
from nurture.scoring import store
from nurture.scoring.rules import check_behaviour_rule, check_fit_rule, check_settings, grade_for
from tests.scoring.helpers import behaviour_rule

PRICING = [{"property": "url", "op": "contains", "value": "pricing"}]


def fields_of(error: pytest.ExceptionInfo[InvalidInput]) -> set[str]:
    return {p.field for p in error.value.problems}


def test_a_pricing_click_rule_with_a_cap_is_accepted() -> None:
    spec = check_behaviour_rule(
        {
            "name": "Pricing click",
            "event_type": "email.clicked",
            "where": PRICING,
            "points": 10,
            "cap_points": 30,
            "cap_days": 30,
        }
    )
    assert spec.tests[0].op == "contains"
    assert (spec.cap_points, spec.cap_days) == (30, 30)


def test_negative_points_and_a_threshold_are_accepted() -> None:
    assert (
        check_behaviour_rule(
            {"name": "Unsub", "event_type": "email.unsubscribed", "points": -50}
        ).points
        == -50
    )
    spec = check_behaviour_rule(
        {
            "name": "Case studies",
            "event_type": "case_study.viewed",
            "points": 8,
            "threshold_count": 3,
            "threshold_days": 7,
        }
    )
    assert (spec.threshold_count, spec.threshold_days) == (3, 7)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"event_type": "Not An Event"}, "event_type"),
        ({"event_type": None}, "event_type"),
        ({"cap_points": -1, "cap_days": 30}, "cap_points"),
        ({"cap_points": 30}, "cap_days"),
        ({"threshold_days": 7}, "threshold_count"),
        ({"threshold_count": 1, "threshold_days": 7}, "threshold_count"),
        ({"points": "ten"}, "points"),
        ({"points": 0}, "points"),
        ({"points": 1.5}, "points"),
        ({"where": [{"property": "url", "op": "resembles", "value": "x"}]}, "where[0].op"),
        ({"where": [{"property": "url", "op": "contains", "value": 3}]}, "where[0].value"),
        ({"where": {"url": "x"}}, "where"),
        ({"colour": "red"}, "colour"),
        ({"name": ""}, "name"),
        ({"active": "yes"}, "active"),
    ],
)
def test_a_bad_behaviour_rule_names_the_field(document: dict[str, Any], field: str) -> None:
    base: dict[str, Any] = {"name": "r", "event_type": "email.clicked", "points": 5}
    with pytest.raises(InvalidInput) as error:
        check_behaviour_rule({**base, **document})
    assert field in fields_of(error)


def test_fit_rules_take_contact_and_company_fields_and_attributes() -> None:
    spec = check_fit_rule(
        {
            "name": "Senior at a mid-size target firm",
            "points": 20,
            "condition": {
                "all": [
                    {"field": "title", "op": "contains", "value": "partner"},
                    {"field": "company.size_band", "op": "at_least", "value": "51-200"},
                    {"field": "company.industry", "op": "in", "value": ["legal", "finance"]},
                    {"field": "company.country", "op": "equals", "value": "DE"},
                    {"field": "attributes.plan", "op": "equals", "value": "pro"},
                ]
            },
        }
    )
    assert spec.points == 20


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"field": "score", "op": "gt", "value": 10}, "condition.field"),
        ({"field": "favourite_colour", "op": "equals", "value": "red"}, "condition.field"),
        ({"all": [{"event": "email.clicked", "op": "at_least", "times": 1}]}, "condition.all[0]"),
        ({"any": [{"segment": 3}]}, "condition.any[0]"),
        ({"field": "title", "op": "gt", "value": 3}, "condition.op"),
        ("partner", "condition"),
    ],
)
def test_a_bad_fit_condition_names_its_path(condition: object, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        check_fit_rule({"name": "f", "points": 5, "condition": condition})
    assert field in fields_of(error)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"half_life_days": 0}, "half_life_days"),
        ({"half_life_days": -3}, "half_life_days"),
        ({"half_life_days": "soon"}, "half_life_days"),
        ({"grade_b": 40}, "grade_b"),
        ({"grade_c": 30}, "grade_c"),
        ({"grade_a": None}, "grade_a"),
    ],
)
def test_bad_settings_name_the_field(document: dict[str, Any], field: str) -> None:
    base: dict[str, Any] = {"half_life_days": 30, "grade_a": 40, "grade_b": 25, "grade_c": 10}
    with pytest.raises(InvalidInput) as error:
        check_settings({**base, **document})
    assert field in fields_of(error)


def test_grades_map_fit_points_by_the_thresholds() -> None:
    settings = check_settings({"half_life_days": 30, "grade_a": 40, "grade_b": 25, "grade_c": 10})
    assert [grade_for(p, settings) for p in (55, 40, 39, 25, 24, 10, 9, -5)] == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "C",
        "D",
        "D",
    ]


def test_a_refused_change_leaves_the_rule_as_it_was(db: Session) -> None:
    rule = behaviour_rule(db, event_type="webinar.attended", points=15)
    db.commit()
    with pytest.raises(InvalidInput) as error:
        store.update_behaviour_rule(
            db, rule.id, {"points": 20, "cap_points": -1, "cap_days": 30}, actor="test"
        )
    assert fields_of(error) == {"cap_points"}
    db.rollback()
    stored = db.scalars(select(BehaviourRule)).one()
    assert (stored.points, stored.cap_points) == (15, None)


def test_changes_are_audited_and_ask_for_a_rescore(db: Session) -> None:
    rule = behaviour_rule(db, event_type="webinar.attended", points=15)
    store.update_behaviour_rule(db, rule.id, {"points": 20}, actor="user:7")
    store.delete_behaviour_rule(db, rule.id, actor="user:7")
    store.update_settings(db, {"half_life_days": 14}, actor="user:7")
    actions = [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == [
        "scoring.behaviour_rule_created",
        "scoring.behaviour_rule_updated",
        "scoring.behaviour_rule_deleted",
        "scoring.settings_updated",
    ]
    updated = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "scoring.behaviour_rule_updated")
    ).one()
    assert updated.changes == {"points": {"from": 15, "to": 20}}
    assert store.get_settings(db).rules_changed_at is not None


def test_an_unchanged_update_records_nothing(db: Session) -> None:
    rule = behaviour_rule(db, event_type="webinar.attended", points=15)
    store.update_behaviour_rule(db, rule.id, {"points": 15}, actor="test")
    assert len(db.scalars(select(AuditEntry)).all()) == 1
