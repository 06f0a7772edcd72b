"""The sequence builder form as posted and as shown again, and pasted e-mail addresses."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nurture.errors import Problem
from nurture.web.ui.sequence_problems import plain

MAX_PASTED = 5000
EMPTY_DEFINITION: dict[str, Any] = {"steps": [], "goals": [], "triggers": []}
_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class SequenceForm:
    """The builder's values (the definition as JSON text) and the problems to show."""

    name: str = ""
    definition_json: str = field(default_factory=lambda: json.dumps(EMPTY_DEFINITION))
    problems: tuple[Problem, ...] = ()

    @property
    def name_error(self) -> str | None:
        return next((p.message for p in self.problems if p.field == "name"), None)

    @property
    def flow_problems(self) -> list[dict[str, str]]:
        """Problems inside the definition, by path (`steps[2].then[0].template_id`, where
        the builder marks them) and in words (`text`, what the marketer reads)."""
        try:
            body = json.loads(self.definition_json)
        except ValueError:
            body = None
        return [
            {"path": p.field, "message": p.message, "text": plain(p, body)}
            for p in self.problems
            if p.field != "name"
        ]


def form_of(name: str, body: Mapping[str, Any]) -> SequenceForm:
    return SequenceForm(name=name, definition_json=json.dumps(body))


def posted(data: Mapping[str, str]) -> tuple[SequenceForm, dict[str, Any] | None, list[Problem]]:
    """The form as posted, its decoded definition (None when undecodable) and problems."""
    state = SequenceForm(name=data.get("name", ""), definition_json=data.get("definition", ""))
    problems: list[Problem] = []
    if not state.name.strip():
        problems.append(Problem("name", "give the sequence a name"))
    try:
        body = json.loads(state.definition_json)
    except ValueError:
        return state, None, [*problems, Problem("definition", "is not valid JSON")]
    if not isinstance(body, dict):
        return state, None, [*problems, Problem("definition", "must be a JSON object")]
    return state, body, problems


def with_problems(state: SequenceForm, problems: Sequence[Problem]) -> SequenceForm:
    return SequenceForm(state.name, state.definition_json, tuple(problems))


def pasted_addresses(text: str) -> list[str]:
    """What was pasted, split on spaces, commas, semicolons and lines, each once, in order.

    Addresses are checked (and unknown ones reported) by the enrolment itself.
    """
    tokens = (token.strip().strip("<>\"'") for token in _SEPARATORS.split(text))
    return list(dict.fromkeys(token for token in tokens if token))[:MAX_PASTED]
