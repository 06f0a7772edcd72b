"""A sequence definition's problems in the builder's words.

The definition checks (campaigns.sequences.definition) name each problem by its JSON
path, like `steps[1].then: is empty: add at least one step`; the API keeps that form.
A marketer reads "Step 2 (branch): the 'yes' path has no steps" instead: the step by its
place and kind, the part of it by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nurture.errors import Problem

_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
STEP_WORDS = {
    "email": "e-mail",
    "case_study": "case study e-mail",
    "webinar_invite": "webinar invitation",
    "review_email": "review e-mail",
    "task": "task",
    "wait": "wait",
    "branch": "branch",
    "split": "A/B split",
    "goal": "goal",
    "exit": "exit",
}
ARM_WORDS = {"then": "the 'yes' path", "else": "the 'no' path"}
# A step's settings by name, as the builder's panel labels them.
FIELD_WORDS = {
    "key": "the key",
    "type": "the step type",
    "template_id": "the template",
    "service": "the service",
    "topics": "the topics",
    "ask": "what it asks for",
    "kind": "the kind of task",
    "instructions": "the instructions",
    "due_in_hours": "the hours it is due in",
    "due_in_working_days": "the working days it is due in",
    "assign_to": "who it is assigned to",
    "escalate": "the team lead alert",
    "duration": "how long to wait",
    "until": "the weekday and time",
    "weekday": "the weekday",
    "time": "the time",
    "event": "the event",
    "timeout": "the timeout",
    "since": "when events count from",
    "condition": "the condition",
    "paths": "the paths",
    "percent": "the share",
    "segment_id": "the segment",
    "task_outcome": "the task outcomes",
    "where": "the event's details",
    "step": "the step it checks",
    "start": "the start",
    "end": "the end",
    "days": "the days",
    "lifecycle": "the lifecycle stages",
}
TOP_WORDS = {
    "steps": "The sequence",
    "triggers": "Trigger",
    "goals": "Exit goal",
    "send_window": "Send window",
    "quiet_hours": "Quiet hours",
    "reenrol": "Re-enrolment",
    "exclude_customers": "Leave out customers",
    "goal_group": "Goal group",
    "definition": "The definition (JSON)",
}
_EMPTY = "is empty: add at least one step"


def plain(problem: Problem, body: object) -> str:
    """One problem as a sentence that names the step by place and kind, not by path."""
    tokens: list[str | int] = [
        name if name else int(index) for name, index in _TOKEN.findall(problem.field)
    ]
    if not tokens or tokens[0] != "steps" or len(tokens) == 1:
        return _top(tokens, problem.message)
    steps: object = body.get("steps") if isinstance(body, Mapping) else None
    where = ""
    rest = tokens[1:]
    while rest and isinstance(rest[0], int):
        index = rest[0]
        step = steps[index] if isinstance(steps, list) and index < len(steps) else {}
        kind = step.get("type") if isinstance(step, Mapping) else None
        named = f"step {index + 1} ({STEP_WORDS.get(str(kind), 'step')})"
        where = f"{where}, {named}" if where else named.capitalize()
        rest = rest[1:]
        arm, length = _arm(rest)
        if arm is None or not isinstance(step, Mapping):
            break
        inner = _follow(step, rest[:length])
        if len(rest) > length and isinstance(rest[length], int):
            where = f"{where}, {arm}"
            steps, rest = inner, rest[length:]
            continue
        return f"{where}: {_arm_message(arm, problem.message)}"
    return f"{where}: {_part(rest, problem.message)}"


def _arm(rest: list[str | int]) -> tuple[str | None, int]:
    """The words for a branch arm (`then`) or split path (`paths[1].steps`) at the start
    of `rest`, and how many tokens it takes."""
    if rest and rest[0] in ARM_WORDS:
        return ARM_WORDS[str(rest[0])], 1
    if len(rest) >= 3 and rest[0] == "paths" and isinstance(rest[1], int) and rest[2] == "steps":
        return f"path {chr(65 + rest[1] % 26)}", 3
    return None, 0


def _follow(step: Mapping[str, Any], path: list[str | int]) -> object:
    found: object = step
    for token in path:
        if isinstance(token, int):
            found = found[token] if isinstance(found, list) and token < len(found) else None
        else:
            found = found.get(token) if isinstance(found, Mapping) else None
    return found


def _arm_message(arm: str, message: str) -> str:
    if message == _EMPTY:
        return f"{arm} has no steps"
    if message == "is required":
        return f"{arm} is missing"
    return f"{arm} {message}"


def _part(rest: list[str | int], message: str) -> str:
    """The part of a step a problem is about, then what is wrong with it."""
    if not rest:
        return message
    if rest[0] == "template_id":
        if message.startswith("no such template"):
            return "the chosen template no longer exists; choose another"
        return "choose a template"
    if rest[0] == "condition":
        return _condition(rest[1:], message)
    if rest[0] == "paths" and len(rest) >= 2 and isinstance(rest[1], int):
        path = f"path {chr(65 + rest[1] % 26)}"
        return f"{path}: {_part(rest[2:], message)}" if len(rest) > 2 else f"{path} {message}"
    if message.startswith("is not a field"):
        return f"“{rest[-1]}” is not a setting of this step"
    return (
        f"{_words(rest)} {message}" if message.startswith("is ") else f"{_words(rest)}: {message}"
    )


def _condition(rest: list[str | int], message: str) -> str:
    """Inside a branch condition: `any[1].step` is "the condition's test 2, the step it
    checks"."""
    said = "the condition"
    while len(rest) >= 2 and rest[0] in ("any", "all") and isinstance(rest[1], int):
        said = f"{said}, test {rest[1] + 1}"
        rest = rest[2:]
    if rest and rest[0] in ("any", "all"):
        return f"{said}: {message}"
    if not rest:
        return f"{said} {message}" if message.startswith("is ") else f"{said}: {message}"
    if message.startswith("is not a field"):
        return f"{said}: “{rest[-1]}” is not part of this test"
    return f"{said}, {_words(rest)}: {message}"


def _words(rest: list[str | int]) -> str:
    names = [str(t) for t in rest if isinstance(t, str)]
    return FIELD_WORDS.get(names[-1], f"“{names[-1]}”") if names else "this"


def _top(tokens: list[str | int], message: str) -> str:
    """Problems outside the steps: triggers, goals, windows, the sequence as a whole."""
    if not tokens:
        return message.capitalize()
    first = str(tokens[0])
    if first == "steps":
        if message == "must hold at least one step":
            return "The sequence has no steps yet: add one"
        return f"The sequence's steps {message}"
    name = TOP_WORDS.get(first, f"“{first}”")
    rest = tokens[1:]
    if rest and isinstance(rest[0], int):
        name = f"{name} {rest[0] + 1}"
        rest = rest[1:]
    if rest:
        return f"{name}, {_words(rest)}: {message}"
    return f"{name} {message}" if message.startswith("is ") else f"{name}: {message}"
