"""A plain-Python statement of what the scoring SQL computes, for comparing against it.

Written from docs/scoring.md, not from the SQL: per rule, the matching events in
time order; a threshold keeps the n-th event of each fixed window holding n or more;
a cap clamps the running total per fixed period; every award decays with its age.
Property tests cover the operators the tests use (contains, equals).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DAY = 86400.0


@dataclass(frozen=True)
class Ev:
    id: int
    contact_id: int
    type: str
    occurred_at: datetime
    properties: dict[str, Any]


@dataclass(frozen=True)
class Rule:
    event_type: str
    points: int
    where: tuple[tuple[str, str, Any], ...] = ()
    cap_points: int | None = None
    cap_days: int | None = None
    threshold_count: int | None = None
    threshold_days: int | None = None

    def document(self) -> dict[str, Any]:
        return {
            "name": f"{self.event_type} {self.points}",
            "event_type": self.event_type,
            "points": self.points,
            "where": [{"property": k, "op": op, "value": v} for k, op, v in self.where],
            "cap_points": self.cap_points,
            "cap_days": self.cap_days,
            "threshold_count": self.threshold_count,
            "threshold_days": self.threshold_days,
        }


def _holds(rule: Rule, properties: dict[str, Any]) -> bool:
    for key, op, value in rule.where:
        found = properties.get(key)
        if op == "contains":
            if not isinstance(found, str) or value.lower() not in found.lower():
                return False
        elif op == "equals":
            if found != value or isinstance(found, bool) != isinstance(value, bool):
                return False
        else:
            raise ValueError(op)
    return True


def awards(rules: list[Rule], events: list[Ev]) -> list[tuple[int, float, float]]:
    """(contact id, points, t) of every award."""
    out: list[tuple[int, float, float]] = []
    for rule in rules:
        per_contact: dict[int, list[tuple[float, int]]] = defaultdict(list)
        for e in events:
            if e.type == rule.event_type and _holds(rule, e.properties):
                per_contact[e.contact_id].append((e.occurred_at.timestamp(), e.id))
        for contact_id, matched in per_contact.items():
            matched.sort()
            candidates = matched
            if rule.threshold_count is not None and rule.threshold_days is not None:
                windows: dict[int, list[tuple[float, int]]] = defaultdict(list)
                for item in matched:
                    windows[math.floor(item[0] / (rule.threshold_days * DAY))].append(item)
                candidates = sorted(
                    w[rule.threshold_count - 1]
                    for w in windows.values()
                    if len(w) >= rule.threshold_count
                )
            if rule.cap_points is None or rule.cap_days is None:
                out += [(contact_id, float(rule.points), t) for t, _ in candidates]
                continue
            used: dict[int, int] = defaultdict(int)
            for t, _ in candidates:
                period = math.floor(t / (rule.cap_days * DAY))
                give = min(abs(rule.points), max(0, rule.cap_points - used[period]))
                used[period] += give
                if give:
                    out.append((contact_id, float(math.copysign(give, rule.points)), t))
    return out


def scores(
    rules: list[Rule], events: list[Ev], *, now: datetime, half_life_days: float
) -> dict[int, int]:
    """Contact id -> score, for contacts with at least one award."""
    totals: dict[int, float] = defaultdict(float)
    moment = now.timestamp()
    for contact_id, points, t in awards(rules, events):
        age_days = max(0.0, moment - t) / DAY
        totals[contact_id] += points * 2 ** (-age_days / half_life_days)
    return {c: round_half_away(v) for c, v in totals.items()}


def round_half_away(value: float) -> int:
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
