"""What even a draft sequence may not hold: the shapes the builder cannot draw.

A draft is stored with its problems (`definition.problems` lists them, activation
refuses them), but only when it has the shape the builder walks: an object with a
`steps` list, each step an object of a known type, every container of the right kind,
and a bounded size. Anything else is refused here, naming each place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from campaigns.sequences.definition import MAX_CONDITION_DEPTH, MAX_STEPS, STEP_TYPES
from nurture.errors import InvalidInput, Problem

# A valid definition stays far below this (200 steps of 5,000-character instructions
# is about 1 MB); it bounds what an unchecked draft may store.
MAX_DRAFT_CHARS = 2_000_000


def check_draft(definition: object) -> None:
    """Refuse what even a draft may not store (InvalidInput naming each place); anything
    else is kept, and `problems` says what still stands between the draft and activation."""
    found = shape_problems(definition)
    if found:
        raise InvalidInput(found)


def shape_problems(definition: object) -> list[Problem]:
    """The structural problems of a definition: an object with a `steps` list, at most
    MAX_STEPS steps and MAX_DRAFT_CHARS characters of JSON, each step an object of a
    known type, and every container the builder walks (arms, paths, conditions, waits,
    topics, triggers, goals, windows) of the right kind when given."""
    if not isinstance(definition, Mapping):
        return [Problem("definition", "must be an object")]
    try:
        size = len(json.dumps(definition, ensure_ascii=False, separators=(",", ":")))
    except (TypeError, ValueError):
        return [Problem("definition", "must hold only JSON values")]
    if size > MAX_DRAFT_CHARS:
        return [Problem("definition", f"is too large: at most {MAX_DRAFT_CHARS:,} characters")]
    found: list[Problem] = []
    if not isinstance(definition.get("steps"), list):
        found.append(Problem("steps", "must be a list of steps"))
    else:
        _Shape(found).steps(definition["steps"], "steps")
    for name in ("triggers", "goals"):
        _objects(definition.get(name), name, found)
    for index, goal in enumerate(_list(definition.get("goals"))):
        if isinstance(goal, Mapping):
            _kind(goal.get("lifecycle"), list, f"goals[{index}].lifecycle", found)
    for name in ("send_window", "quiet_hours"):
        window = definition.get(name)
        if _kind(window, Mapping, name, found) and isinstance(window, Mapping):
            _kind(window.get("days"), list, f"{name}.days", found)
    return found


class _Shape:
    """Walks step lists like the builder does (every step's then, else and paths)."""

    def __init__(self, found: list[Problem]) -> None:
        self.found = found
        self.count = 0

    def steps(self, raw: list[Any], path: str) -> None:
        for index, step in enumerate(raw):
            where = f"{path}[{index}]"
            self.count += 1
            if self.count > MAX_STEPS:
                self.found.append(Problem(where, f"a sequence holds at most {MAX_STEPS} steps"))
                return
            if not isinstance(step, Mapping):
                self.found.append(Problem(where, "must be an object"))
                continue
            self.step(step, where)

    def step(self, step: Mapping[str, Any], where: str) -> None:
        if step.get("type") not in STEP_TYPES:
            self.found.append(Problem(f"{where}.type", f"must be one of {', '.join(STEP_TYPES)}"))
        for arm in ("then", "else"):
            if _kind(step.get(arm), list, f"{where}.{arm}", self.found) and step.get(arm):
                self.steps(step[arm], f"{where}.{arm}")
        paths = step.get("paths")
        if _kind(paths, list, f"{where}.paths", self.found) and isinstance(paths, list):
            for index, split in enumerate(paths):
                at = f"{where}.paths[{index}]"
                if not isinstance(split, Mapping):
                    self.found.append(Problem(at, 'must be {"percent": N, "steps": [...]}'))
                elif _kind(split.get("steps"), list, f"{at}.steps", self.found) and split.get(
                    "steps"
                ):
                    self.steps(split["steps"], f"{at}.steps")
        for name in ("condition", "until", "duration", "timeout"):
            _kind(step.get(name), Mapping, f"{where}.{name}", self.found)
        _kind(step.get("topics"), list, f"{where}.topics", self.found)
        self.condition(step.get("condition"), f"{where}.condition", 0)

    def condition(self, condition: object, where: str, depth: int) -> None:
        """A test or an any/all group of them: the builder walks the groups' lists."""
        if not isinstance(condition, Mapping):
            return
        if depth > MAX_CONDITION_DEPTH:
            self.found.append(Problem(where, f"groups nest at most {MAX_CONDITION_DEPTH} deep"))
            return
        _kind(condition.get("task_outcome"), list, f"{where}.task_outcome", self.found)
        _kind(condition.get("where"), Mapping, f"{where}.where", self.found)
        for group in ("any", "all"):
            _objects(condition.get(group), f"{where}.{group}", self.found)
            for index, test in enumerate(_list(condition.get(group))):
                self.condition(test, f"{where}.{group}[{index}]", depth + 1)


def _kind(value: object, kind: type, where: str, found: list[Problem]) -> bool:
    """False (and a problem) when a given value is not of `kind`; absent or null is fine."""
    if value is None or isinstance(value, kind):
        return True
    found.append(Problem(where, "must be a list" if kind is list else "must be an object"))
    return False


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _objects(value: object, where: str, found: list[Problem]) -> None:
    if _kind(value, list, where, found):
        for index, item in enumerate(_list(value)):
            if not isinstance(item, Mapping):
                found.append(Problem(f"{where}[{index}]", "must be an object"))
