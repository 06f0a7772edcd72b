"""A hand-off's frozen summary as short lines a rep can read (the page, the e-mail, the API).

The summary is JSON written at hand-off time by qualification; its lists may hold plain
sentences or small objects (`{"rule": "Webinar attended", "points": 15}`), so each item
is read tolerantly: whatever names the thing, then its points or its time.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_LABEL_KEYS = (
    "text", "label", "rule", "name", "title", "what", "subject", "type", "url", "path", "ref",
)  # fmt: skip
_WHEN_KEYS = ("when", "occurred_at", "at", "date")
MAX_ITEMS = 20


@dataclass(frozen=True, slots=True)
class Activity:
    when: str
    what: str


@dataclass(frozen=True, slots=True)
class SummaryView:
    score: int | None
    grade: str | None
    probability: float | None
    threshold: str
    why: list[str]
    activities: list[Activity]
    content: list[str]
    sequences: list[str]
    company: dict[str, str]
    nps: str | None


def summary_view(summary: dict[str, Any] | None) -> SummaryView:
    """The summary's parts, each item turned into a line; missing parts are empty.

    Reads qualification's names (`fit_grade`, `predicted_probability`,
    `score_explanation`, `content_consumed`, `nps` as a list of answers) and the short
    ones (`grade`, `probability`, `why`, `content`) alike.
    """
    data = summary if isinstance(summary, dict) else {}
    score = data.get("score")
    grade = _first(data, "grade", "fit_grade")
    probability = _first(data, "probability", "predicted_probability")
    company = data.get("company")
    return SummaryView(
        score=int(score) if isinstance(score, int | float) and _is_number(score) else None,
        grade=str(grade) if isinstance(grade, str) and grade else None,
        probability=float(probability) if _is_number(probability) else None,
        threshold=_text(data.get("threshold")) or "the qualification rule",
        why=_lines(_explanation(_first(data, "why", "score_explanation"))),
        activities=[_activity(item) for item in _items(data.get("recent_activity"))],
        content=_lines(_first(data, "content", "content_consumed")),
        sequences=_lines(data.get("sequences")),
        company={
            str(k): _text(v)
            for k, v in (company.items() if isinstance(company, dict) else [])
            if _text(v) and k != "id"
        },
        nps=_nps(data.get("nps")),
    )


def _first(data: dict[str, Any], *keys: str) -> Any:
    return next((data[k] for k in keys if data.get(k) is not None), None)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _explanation(value: object) -> object:
    """A list of reasons as it is; an explanation object by its list of rules."""
    if isinstance(value, dict):
        for key in ("rules", "items", "lines", "reasons", "contributions"):
            if isinstance(value.get(key), list):
                return value[key]
        return []
    return value


def _nps(value: object) -> str | None:
    if isinstance(value, list):
        answers = [a for a in value if isinstance(a, dict) and _is_number(a.get("score"))]
        if not answers:
            return None
        latest = answers[0]
        comment = _text(latest.get("comment"))
        return f"{latest['score']:g}" + (f" — {comment}" if comment else "")
    return _text(value) or None


def _items(value: object) -> list[Any]:
    return list(value[:MAX_ITEMS]) if isinstance(value, list) else []


def _lines(value: object) -> list[str]:
    return [line for line in (_line(item) for item in _items(value)) if line]


def _line(item: object) -> str:
    if not isinstance(item, dict):
        return _text(item)
    label = next((_text(item[k]) for k in _LABEL_KEYS if _text(item.get(k))), "")
    kind = _text(item.get("kind"))
    if kind and label:
        label = f"{kind.replace('_', ' ').capitalize()}: {label}"
    points = item.get("points")
    if _is_number(points):
        return f"{label} ({points:+g})" if label else f"{points:+g} points"
    state = _text(item.get("state"))
    if state and label:
        label = f"{label} ({state})"
    step = _text(item.get("step"))
    if step:
        return f"{label}, step {step}" if label else f"step {step}"
    return label


def _activity(item: object) -> Activity:
    if not isinstance(item, dict):
        return Activity("", _text(item))
    when = next((item[k] for k in _WHEN_KEYS if item.get(k)), "")
    if isinstance(when, str):
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(when)
    shown = f"{when:%d %b %H:%M}" if isinstance(when, datetime) else _text(when)
    what = _line({k: v for k, v in item.items() if k not in _WHEN_KEYS and k != "properties"})
    properties = item.get("properties")
    detail = _line(properties) if isinstance(properties, dict) else ""
    if detail and detail != what:
        what = f"{what}: {detail}" if what else detail
    return Activity(shown, what)


def _text(value: object) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()
