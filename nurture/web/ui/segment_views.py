"""What the segment pages show, computed from plain values: sparklines, chart data, forms."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nurture.errors import Problem
from nurture.models import Segment

SPARK_WIDTH = 120
SPARK_HEIGHT = 28
EMPTY_RULE: dict[str, Any] = {"version": 1, "rule": {"all": []}}


def sparkline(sizes: Sequence[int]) -> str:
    """SVG polyline points for sizes over time, scaled into a small box ('' under two points)."""
    if len(sizes) < 2:
        return ""
    low, high = min(sizes), max(sizes)
    span = (high - low) or 1
    step = SPARK_WIDTH / (len(sizes) - 1)
    points = []
    for i, value in enumerate(sizes):
        y = SPARK_HEIGHT - 2 - (value - low) / span * (SPARK_HEIGHT - 4)
        points.append(f"{i * step:.1f},{y:.1f}")
    return " ".join(points)


def chart_data(history: Sequence[tuple[datetime, int]]) -> dict[str, list[Any]]:
    """Size after each refresh, for Chart.js."""
    return {
        "labels": [at.strftime("%Y-%m-%d %H:%M") for at, _ in history],
        "sizes": [size for _, size in history],
    }


@dataclass(frozen=True, slots=True)
class SegmentForm:
    """The builder form as shown: its values (the rule as JSON text) and problems."""

    kind: str
    name: str = ""
    description: str = ""
    rule_json: str = field(default_factory=lambda: json.dumps(EMPTY_RULE))
    problems: tuple[Problem, ...] = ()

    @property
    def name_error(self) -> str | None:
        return next((p.message for p in self.problems if p.field == "name"), None)

    @property
    def description_error(self) -> str | None:
        return next((p.message for p in self.problems if p.field == "description"), None)

    @property
    def rule_problems(self) -> list[dict[str, str]]:
        """Problems inside the rule, by path (`rule.all[0].value`), for the builder to place."""
        return [
            {"path": p.field, "message": p.message}
            for p in self.problems
            if p.field not in ("name", "description")
        ]


def form_of(segment: Segment) -> SegmentForm:
    return SegmentForm(
        kind=segment.kind,
        name=segment.name,
        description=segment.description or "",
        rule_json=json.dumps(segment.rule if segment.rule is not None else EMPTY_RULE),
    )


def posted(form: Mapping[str, str], kind: str) -> tuple[SegmentForm, object, list[Problem]]:
    """The form as posted, the decoded rule (None for a static list) and decoding problems."""
    state = SegmentForm(
        kind=kind,
        name=form.get("name", ""),
        description=form.get("description", ""),
        rule_json=form.get("rule", ""),
    )
    if kind != "dynamic":
        return state, None, []
    try:
        return state, json.loads(state.rule_json), []
    except ValueError:
        return state, None, [Problem("rule", "is not a rule document (invalid JSON)")]


def with_problems(state: SegmentForm, problems: Sequence[Problem]) -> SegmentForm:
    return SegmentForm(state.kind, state.name, state.description, state.rule_json, tuple(problems))
