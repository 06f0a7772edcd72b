"""Who may enter a sequence on their own: trigger rules and the sequence's goal group.

A trigger names an event type and, optionally, conditions on the event's
properties; every condition must hold:

    {"event": "form.submitted", "where": {"form": "whitepaper"}}           equals
    {"event": "page.visited", "where": {"path": {"in": ["/pricing", "/demo"]}}}
    {"event": "webinar.attended", "where": {"recording": {"exists": false}}}
    {"event": "segment.entered", "segment_id": 7}     entering a segment
    {"segment_id": 7}                                 the same, shorter

Manual, API and CSV enrolment need no trigger: they are the enrolment calls.
Equality is strict about JSON types: `1` does not equal `true` or `"1"`.
This module is pure and imports nothing of the definition, which uses it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nurture.errors import Problem
from nurture.validation import is_event_type, is_id

SEGMENT_ENTERED = "segment.entered"
MAX_CONDITIONS = 20
MAX_CHOICES = 100
MAX_GOAL_GROUP = 60
_PROPERTY = re.compile(r"[A-Za-z0-9_.-]{1,100}\Z")
_GOAL_GROUP = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}\Z")
_FIELDS = frozenset({"event", "where", "segment_id"})
Scalar = str | int | float | bool | None


def parse_triggers(raw: object, problems: list[Problem]) -> list[dict[str, Any]]:
    """The triggers in a normal form (`event` always set), adding a problem per bad part.

    Problems name the path, like `triggers[1].where.form.in`.
    """
    if not isinstance(raw, list):
        problems.append(Problem("triggers", "must be a list"))
        return []
    parsed: list[dict[str, Any]] = []
    for index, trigger in enumerate(raw):
        where = f"triggers[{index}]"
        if not isinstance(trigger, Mapping):
            problems.append(Problem(where, 'must be an object like {"event": "form.submitted"}'))
            continue
        found = len(problems)
        for name in sorted(str(k) for k in trigger if k not in _FIELDS):
            problems.append(Problem(f"{where}.{name}", "is not a field of a trigger"))
        event = trigger.get("event", SEGMENT_ENTERED if "segment_id" in trigger else None)
        if not is_event_type(event):
            problems.append(Problem(f"{where}.event", "must be an event type, like form.submitted"))
        if "segment_id" in trigger and not _positive_int(trigger["segment_id"]):
            problems.append(Problem(f"{where}.segment_id", "must be a segment id"))
        conditions = _conditions(trigger.get("where", {}), f"{where}.where", problems)
        if len(problems) == found:
            normal: dict[str, Any] = {"event": event}
            if "segment_id" in trigger:
                normal["segment_id"] = trigger["segment_id"]
            if conditions:
                normal["where"] = conditions
            parsed.append(normal)
    return parsed


def matches(trigger: Mapping[str, Any], kind: str, properties: Mapping[str, Any]) -> bool:
    """Whether an event of type `kind` with these properties fires this (parsed) trigger."""
    if trigger["event"] != kind:
        return False
    if "segment_id" in trigger and not _same(properties.get("segment_id"), trigger["segment_id"]):
        return False
    return all(
        _holds(test, name in properties, properties.get(name))
        for name, test in trigger.get("where", {}).items()
    )


def parse_goal_group(raw: object, problems: list[Problem]) -> str | None:
    """The sequence's goal group (None when not set); a contact is in at most one
    live sequence per goal group."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not _GOAL_GROUP.match(raw):
        problems.append(
            Problem("goal_group", f"must be 1-{MAX_GOAL_GROUP} of a-z, 0-9, '_' or '-'")
        )
        return None
    return raw


def _conditions(raw: object, where: str, problems: list[Problem]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, 'must be an object like {"form": "whitepaper"}'))
        return {}
    if len(raw) > MAX_CONDITIONS:
        problems.append(Problem(where, f"holds at most {MAX_CONDITIONS} conditions"))
        return {}
    checked: dict[str, Any] = {}
    for name, test in raw.items():
        at = f"{where}.{name}"
        if not isinstance(name, str) or not _PROPERTY.match(name):
            problems.append(Problem(at, "must be a property name (letters, digits, _ . -)"))
        elif _condition(test, at, problems):
            checked[name] = test
    return checked


def _condition(test: object, at: str, problems: list[Problem]) -> bool:
    if _is_scalar(test):
        return True
    if isinstance(test, Mapping) and set(test) == {"in"}:
        choices = test["in"]
        if (
            isinstance(choices, list)
            and 0 < len(choices) <= MAX_CHOICES
            and all(_is_scalar(c) for c in choices)
        ):
            return True
        problems.append(Problem(f"{at}.in", f"must list 1 to {MAX_CHOICES} plain values"))
        return False
    if isinstance(test, Mapping) and set(test) == {"exists"}:
        if isinstance(test["exists"], bool):
            return True
        problems.append(Problem(f"{at}.exists", "must be true or false"))
        return False
    problems.append(
        Problem(at, 'must be a plain value (equals), {"in": [...]} or {"exists": true|false}')
    )
    return False


def _holds(test: Any, present: bool, value: Any) -> bool:
    if isinstance(test, Mapping) and "exists" in test:
        return present is test["exists"]
    if not present:
        return False
    if isinstance(test, Mapping):
        return any(_same(value, choice) for choice in test["in"])
    return _same(value, test)


def _same(value: Any, expected: Any) -> bool:
    # Python says True == 1 == 1.0; JSON data does not mean that, so bool stays apart.
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value is expected
    if isinstance(value, (int, float)) and isinstance(expected, (int, float)):
        return value == expected
    return type(value) is type(expected) and bool(value == expected)


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _positive_int(value: object) -> bool:
    return is_id(value)
