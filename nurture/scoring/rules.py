"""Checking scoring rules and settings: pure functions from JSON-like values to checked
specs, naming the field of every problem (`where[0].value`, `cap_days`).

A behaviour rule:

    {"name": "Clicked a pricing link", "event_type": "email.clicked",
     "where": [{"property": "url", "op": "contains", "value": "pricing"}],
     "points": 10, "cap_points": 30, "cap_days": 30}
    {"name": "Read 3 case studies in a week", "event_type": "case_study.viewed",
     "points": 8, "threshold_count": 3, "threshold_days": 7}

`where` is the property-condition list of segment rules (segments.schema), so the
operators (equals, in, contains, starts_with, gt..., is_set and their negations) mean
the same everywhere. A fit rule's `condition` is one segment-rule node over contact and
company fields and custom attributes (no events, segments or scores):

    {"name": "Partner or director", "points": 20,
     "condition": {"any": [{"field": "title", "op": "contains", "value": "partner"},
                           {"field": "title", "op": "contains", "value": "director"}]}}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from nurture.errors import InvalidInput, Problem
from nurture.validation import holds_nul
from segments.schema import (
    AttributeCondition,
    EventCondition,
    FieldCondition,
    Group,
    JsonTest,
    Node,
    Not,
    parse_rule,
    walk,
)

MAX_POINTS = 1000
MAX_DAYS = 3650
MAX_COUNT = 1000
MAX_NAME = 200
MAX_HALF_LIFE_DAYS = 3650.0
GRADES = ("A", "B", "C", "D")

BEHAVIOUR_FIELDS = (
    "name",
    "event_type",
    "where",
    "points",
    "cap_points",
    "cap_days",
    "threshold_count",
    "threshold_days",
    "active",
)
FIT_FIELDS = ("name", "condition", "points", "active")
SETTINGS_FIELDS = ("half_life_days", "grade_a", "grade_b", "grade_c")

# Fields a fit rule may test: what a contact and their company are, not what they did
# (events score as behaviour) nor what scoring itself writes.
FIT_CONTACT_FIELDS = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "title",
        "lifecycle_stage",
        "owner_id",
        "locale",
        "time_zone",
        "company.name",
        "company.domain",
        "company.industry",
        "company.size_band",
        "company.country",
    }
)


@dataclass(frozen=True, slots=True)
class BehaviourSpec:
    name: str
    event_type: str
    where: list[dict[str, Any]]
    points: int
    cap_points: int | None
    cap_days: int | None
    threshold_count: int | None
    threshold_days: int | None
    active: bool
    # The parsed property tests of `where`, for the engine.
    tests: tuple[JsonTest, ...]


@dataclass(frozen=True, slots=True)
class FitSpec:
    name: str
    condition: dict[str, Any]
    points: int
    active: bool
    node: Node


@dataclass(frozen=True, slots=True)
class SettingsSpec:
    half_life_days: float
    grade_a: int
    grade_b: int
    grade_c: int


def check_behaviour_rule(document: Mapping[str, object]) -> BehaviourSpec:
    """A behaviour rule document checked whole; InvalidInput names every bad field."""
    problems = _unknown(document, BEHAVIOUR_FIELDS)
    name = _name(document, problems)
    event_type = document.get("event_type")
    where = document.get("where", [])
    if where is None:
        where = []
    tests = _property_tests(event_type, where, problems)
    points = _whole(document, "points", problems, low=-MAX_POINTS, high=MAX_POINTS)
    cap_points = _optional_whole(document, "cap_points", problems, low=1, high=100 * MAX_POINTS)
    cap_days = _optional_whole(document, "cap_days", problems, low=1, high=MAX_DAYS)
    threshold_count = _optional_whole(document, "threshold_count", problems, low=2, high=MAX_COUNT)
    threshold_days = _optional_whole(document, "threshold_days", problems, low=1, high=MAX_DAYS)
    _paired(document, "cap_points", "cap_days", problems)
    _paired(document, "threshold_count", "threshold_days", problems)
    if points == 0:
        problems.append(Problem("points", "must not be 0"))
    active = _flag(document, problems)
    if problems:
        raise InvalidInput(problems)
    return BehaviourSpec(
        name=name,
        event_type=cast(str, event_type),
        where=cast(list[dict[str, Any]], where),
        points=cast(int, points),
        cap_points=cap_points,
        cap_days=cap_days,
        threshold_count=threshold_count,
        threshold_days=threshold_days,
        active=active,
        tests=tests,
    )


def check_fit_rule(document: Mapping[str, object]) -> FitSpec:
    """A fit rule document checked whole; InvalidInput names every bad field."""
    problems = _unknown(document, FIT_FIELDS)
    name = _name(document, problems)
    condition = document.get("condition")
    node = fit_condition(condition, problems)
    points = _whole(document, "points", problems, low=-MAX_POINTS, high=MAX_POINTS)
    active = _flag(document, problems)
    if problems:
        raise InvalidInput(problems)
    return FitSpec(
        name=name,
        condition=cast(dict[str, Any], condition),
        points=cast(int, points),
        active=active,
        node=cast(Node, node),
    )


def check_settings(document: Mapping[str, object]) -> SettingsSpec:
    """The settings checked whole: a half-life above 0 days, grade thresholds A > B > C."""
    problems = _unknown(document, SETTINGS_FIELDS)
    half_life = document.get("half_life_days")
    if (
        isinstance(half_life, bool)
        or not isinstance(half_life, int | float)
        or not math.isfinite(half_life)
        or not 0 < half_life <= MAX_HALF_LIFE_DAYS
    ):
        problems.append(
            Problem(
                "half_life_days",
                f"must be a number of days above 0, at most {MAX_HALF_LIFE_DAYS:g}",
            )
        )
    grades = [
        _whole(document, f"grade_{g}", problems, low=-100 * MAX_POINTS, high=100 * MAX_POINTS)
        for g in "abc"
    ]
    a, b, c = grades
    if a is not None and b is not None and not a > b:
        problems.append(Problem("grade_b", "must be below grade_a"))
    if b is not None and c is not None and not b > c:
        problems.append(Problem("grade_c", "must be below grade_b"))
    if problems:
        raise InvalidInput(problems)
    return SettingsSpec(
        half_life_days=float(cast(float, half_life)),
        grade_a=cast(int, a),
        grade_b=cast(int, b),
        grade_c=cast(int, c),
    )


def grade_for(points: int, settings: SettingsSpec) -> str:
    """The grade that `points` of fit earn (the SQL in the engine says the same)."""
    if points >= settings.grade_a:
        return "A"
    if points >= settings.grade_b:
        return "B"
    if points >= settings.grade_c:
        return "C"
    return "D"


def property_tests(event_type: object, where: object) -> tuple[JsonTest, ...]:
    """The parsed property tests of a stored behaviour rule (raises InvalidInput)."""
    problems: list[Problem] = []
    tests = _property_tests(event_type, where, problems)
    if problems:
        raise InvalidInput(problems)
    return tests


def fit_condition(condition: object, problems: list[Problem]) -> Node | None:
    """The parsed node of a fit condition, adding a problem (under `condition`) per fault."""
    if not isinstance(condition, dict):
        problems.append(Problem("condition", 'must be an object like {"field": "title", ...}'))
        return None
    if holds_nul(condition):
        problems.append(Problem("condition", "must not contain NUL (\\u0000) characters"))
        return None
    behaviour = _behaviour_nodes(condition, "condition")
    if behaviour:
        problems.extend(
            Problem(path, "fit rules test contact and company fields and attributes only")
            for path in behaviour
        )
        return None
    try:
        rule = parse_rule({"version": 1, "rule": condition})
    except InvalidInput as error:
        problems.extend(_moved(p, "rule", "condition") for p in error.problems)
        return None
    found = len(problems)
    for path, node in walk(rule.root, "condition"):
        if isinstance(node, FieldCondition) and node.field not in FIT_CONTACT_FIELDS:
            problems.append(
                Problem(f"{path}.field", f"{node.field!r} is not a contact or company field")
            )
        elif not isinstance(node, FieldCondition | AttributeCondition | Group | Not):
            problems.append(
                Problem(path, "fit rules test contact and company fields and attributes only")
            )
    return rule.root if len(problems) == found else None


def _behaviour_nodes(raw: object, path: str) -> list[str]:
    """Paths of event and segment conditions in a raw condition (before parsing, whose
    messages about their parts would only confuse here)."""
    if isinstance(raw, dict):
        if "event" in raw or "segment" in raw:
            return [path]
        found: list[str] = []
        for kind in ("all", "any"):
            if isinstance(raw.get(kind), list):
                for i, child in enumerate(raw[kind]):
                    found += _behaviour_nodes(child, f"{path}.{kind}[{i}]")
        if "not" in raw:
            found += _behaviour_nodes(raw["not"], f"{path}.not")
        return found
    return []


def _property_tests(
    event_type: object, where: object, problems: list[Problem]
) -> tuple[JsonTest, ...]:
    if holds_nul(where) or holds_nul(event_type):
        problems.append(Problem("where", "must not contain NUL (\\u0000) characters"))
        return ()
    try:
        rule = parse_rule({"version": 1, "rule": {"event": event_type, "times": 1, "where": where}})
    except InvalidInput as error:
        for problem in error.problems:
            if problem.field == "rule.event":
                problems.append(Problem("event_type", "must be an event type like email.clicked"))
            else:
                problems.append(_moved(problem, "rule.", ""))
        return ()
    root = rule.root
    return root.where if isinstance(root, EventCondition) else ()


def _moved(problem: Problem, old: str, new: str) -> Problem:
    field = problem.field
    if field.startswith(old):
        field = new + field[len(old) :]
    return Problem(field or "condition", problem.message, problem.index)


def _unknown(document: Mapping[str, object], known: tuple[str, ...]) -> list[Problem]:
    return [
        Problem(str(key), "is not a field of this form")
        for key in sorted(str(k) for k in document if k not in known)
    ]


def _name(document: Mapping[str, object], problems: list[Problem]) -> str:
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem("name", "is required"))
        return ""
    if len(name) > MAX_NAME or holds_nul(name):
        problems.append(Problem("name", f"must be at most {MAX_NAME} characters, without NUL"))
        return ""
    return name.strip()


def _whole(
    document: Mapping[str, object], field: str, problems: list[Problem], *, low: int, high: int
) -> int | None:
    value = document.get(field)
    if value is None:
        problems.append(Problem(field, "is required"))
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(Problem(field, "must be an integer"))
        return None
    if not low <= value <= high:
        problems.append(Problem(field, f"must be from {low} to {high}"))
        return None
    return value


def _optional_whole(
    document: Mapping[str, object], field: str, problems: list[Problem], *, low: int, high: int
) -> int | None:
    if document.get(field) is None:
        return None
    return _whole(document, field, problems, low=low, high=high)


def _paired(
    document: Mapping[str, object], first: str, second: str, problems: list[Problem]
) -> None:
    has_first, has_second = document.get(first) is not None, document.get(second) is not None
    if has_first and not has_second:
        problems.append(Problem(second, f"is required with {first}"))
    elif has_second and not has_first:
        problems.append(Problem(first, f"is required with {second}"))


def _flag(document: Mapping[str, object], problems: list[Problem]) -> bool:
    value = document.get("active", True)
    if not isinstance(value, bool):
        problems.append(Problem("active", "must be true or false"))
        return True
    return value
