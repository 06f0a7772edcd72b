"""Bad rules are refused with the path of the offending condition; cycles are refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from nurture.errors import Conflict, InvalidInput
from segments import store
from segments.schema import MAX_DEPTH, parse_rule
from tests.segments.helpers import rule

_SCORE = {"field": "score", "op": "gt", "value": 40}


@pytest.mark.parametrize(
    ("node", "where", "message"),
    [
        (
            {"all": [_SCORE, _SCORE, {"any": [{"field": "score", "op": "gt", "value": "x"}]}]},
            "rule.all[2].any[0].value",
            "must be a number",
        ),
        ({"field": "shoe_size", "op": "equals", "value": 1}, "rule.field", "is not a field"),
        ({"field": "title", "op": "gt", "value": 1}, "rule.op", "must be one of"),
        ({"not": {"field": "title", "op": "in", "value": []}}, "rule.not.value", "non-empty"),
        (
            {"field": "created_at", "op": "before", "value": "2025-01-01T10:00"},
            "rule.value",
            "zone",
        ),
        ({"field": "company.size_band", "op": "at_least", "value": "50+"}, "rule.value", "one of"),
        ({"field": "score", "op": "between", "value": [9, 1]}, "rule.value", "not be after"),
        ({"field": "attributes.a-b", "op": "is_set"}, "rule.field", "attribute names"),
        ({"field": "attributes.plan", "op": "in", "value": ["a", 1]}, "rule.value[1]", "string"),
        ({"field": "title", "op": "is_set", "value": "x"}, "rule.value", "takes no value"),
        ({"field": "title", "op": "equals", "value": "x", "extra": 1}, "rule.extra", "not a known"),
        ({"event": "Email Clicked", "times": 1}, "rule.event", "event type"),
        ({"event": "email.clicked", "op": "at_least", "times": 0}, "rule.times", "from 1"),
        ({"event": "email.clicked", "op": "never", "times": 2}, "rule.times", "no count"),
        (
            {
                "event": "email.clicked",
                "times": 1,
                "within_last_days": 5,
                "between": ["2025-01-01", "2025-02-01"],
            },
            "rule.between",
            "not both",
        ),
        (
            {
                "event": "email.clicked",
                "times": 1,
                "where": [{"property": "url", "op": "gt", "value": "a"}],
            },
            "rule.where[0].value",
            "must be a number",
        ),
        ({"segment": "seven"}, "rule.segment", "segment id"),
        ({"all": [{"field": "title"}, {"any": 3}]}, "rule.all[0].op", "must be one of"),
        ({"all": [], "any": []}, "rule", "exactly one"),
    ],
)
def test_bad_rule_is_refused_naming_the_condition(
    node: dict[str, Any], where: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rule(rule(node))
    fields = {p.field: p.message for p in caught.value.problems}
    assert where in fields, caught.value.problems
    assert message in fields[where]


def test_every_problem_is_reported_at_once() -> None:
    document = rule({"all": [{"field": "nope"}, {"field": "score", "op": "gt", "value": "x"}]})
    with pytest.raises(InvalidInput) as caught:
        parse_rule(document)
    assert [p.field for p in caught.value.problems] == ["rule.all[0].field", "rule.all[1].value"]


def test_document_needs_version_one() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rule({"version": 2, "rule": {"all": []}})
    assert caught.value.problems[0].field == "version"


def test_groups_nested_too_deep_are_refused() -> None:
    node: dict[str, Any] = _SCORE
    for _ in range(MAX_DEPTH + 1):
        node = {"all": [node]}
    with pytest.raises(InvalidInput, match="nest at most"):
        parse_rule(rule(node))


def test_reference_to_a_missing_segment_is_refused(db: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        store.create_segment(
            db, name="X", rule=rule({"all": [_SCORE, {"segment": 999, "op": "member"}]})
        )
    assert caught.value.problems[0].field == "rule.all[1].segment"


def test_segment_referring_to_itself_is_refused(db: Session) -> None:
    own = store.create_segment(db, name="Own", rule=rule(_SCORE)).id
    with pytest.raises(InvalidInput, match="cycle"):
        store.update_segment(db, own, rule=rule({"segment": own, "op": "member"}))


def test_cycle_through_other_segments_is_refused(db: Session) -> None:
    a = store.create_segment(db, name="A", rule=rule(_SCORE)).id
    b = store.create_segment(db, name="B", rule=rule({"segment": a, "op": "member"})).id
    c = store.create_segment(db, name="C", rule=rule({"segment": b, "op": "not_member"})).id

    with pytest.raises(InvalidInput) as caught:
        store.update_segment(db, a, rule=rule({"any": [_SCORE, {"segment": c, "op": "member"}]}))

    problem = caught.value.problems[0]
    assert problem.field == "rule.any[1].segment"
    assert f"{c} → {b} → {a}" in problem.message


def test_segment_used_by_another_cannot_be_deleted(db: Session) -> None:
    a = store.create_segment(db, name="A", rule=rule(_SCORE)).id
    store.create_segment(db, name="B", rule=rule({"segment": a, "op": "member"}))
    with pytest.raises(Conflict, match="used by"):
        store.delete_segment(db, a)


def test_segment_names_are_unique(db: Session) -> None:
    store.create_segment(db, name="A", rule=rule(_SCORE))
    with pytest.raises(InvalidInput, match="exists"):
        store.create_segment(db, name="A", kind="static")
