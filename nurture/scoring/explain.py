"""Why a lead has its score: every award and adjustment with its decayed share, the
fit rules it matches, and the score history for the chart.

The shares are computed by the same SQL as the score (nurture.scoring.engine), so
they add up to it: `round(sum of contributions) == score` at the same `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, literal, select
from sqlalchemy.orm import Session

from nurture.errors import NotFound
from nurture.models import BehaviourRule, Contact, Event, FitRule, ScoreAdjustment, ScoreHistory
from nurture.scoring.engine import contacts, decay_factor, load_model, point_rows
from nurture.scoring.rules import grade_for
from segments.compiler import RULE_FROM, compile_node
from segments.schema import Node


@dataclass(frozen=True, slots=True)
class Contribution:
    """One award (a rule's points for an event, or for the event that met its
    threshold) or adjustment, and what it is worth now."""

    kind: str  # "rule" or "adjustment"
    points: float
    contribution: float
    occurred_at: datetime
    rule_id: int | None = None
    rule_name: str | None = None
    event_id: int | None = None
    event_type: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RuleShare:
    """A rule's (or the adjustments', rule_id None) awards summed."""

    rule_id: int | None
    name: str
    awards: int
    points: float
    contribution: float


@dataclass(frozen=True, slots=True)
class FitMatch:
    rule_id: int
    name: str
    points: int


@dataclass(frozen=True, slots=True)
class Explanation:
    contact_id: int
    now: datetime
    half_life_days: float
    # round(total), halves away from zero: what contacts.score holds at `now`.
    score: int
    total: float
    # Largest share first.
    by_rule: list[RuleShare]
    # Newest first.
    items: list[Contribution]
    fit_points: int
    grade: str | None
    fit_matches: list[FitMatch] = field(default_factory=list)
    thresholds: dict[str, int] = field(default_factory=dict)


def explain(session: Session, contact_id: int, *, now: datetime) -> Explanation:
    """The rules, events and adjustments behind a contact's score and grade at `now`."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.erased_at is not None:
        raise NotFound("contact", contact_id)
    model = load_model(session)
    rows = point_rows(model, contact_ids=[contact_id]).cte("explained")
    share = rows.c.points * decay_factor(rows.c.t, now, model.settings.half_life_days)
    found = session.execute(
        select(
            rows.c.rule_id, rows.c.event_id, rows.c.adjustment_id, rows.c.points, share
        ).order_by(rows.c.t.desc())
    ).all()
    rule_names = dict(session.execute(select(BehaviourRule.id, BehaviourRule.name)).all())
    event_ids = [r.event_id for r in found if r.event_id is not None]
    event_info = {
        e.id: (e.type, e.occurred_at)
        for e in session.execute(
            select(Event.id, Event.type, Event.occurred_at).where(Event.id.in_(event_ids))
        )
    }
    adjustment_ids = [r.adjustment_id for r in found if r.adjustment_id is not None]
    adjustment_info = {
        a.id: (a.reason, a.occurred_at)
        for a in session.execute(
            select(ScoreAdjustment.id, ScoreAdjustment.reason, ScoreAdjustment.occurred_at).where(
                ScoreAdjustment.id.in_(adjustment_ids)
            )
        )
    }
    items: list[Contribution] = []
    for rule_id, event_id, adjustment_id, points, value in found:
        if adjustment_id is not None:
            reason, when = adjustment_info[adjustment_id]
            items.append(
                Contribution("adjustment", float(points), float(value), when, reason=reason)
            )
        else:
            kind, when = event_info[event_id]
            items.append(
                Contribution(
                    "rule",
                    float(points),
                    float(value),
                    when,
                    rule_id=rule_id,
                    rule_name=rule_names.get(rule_id, f"rule {rule_id}"),
                    event_id=event_id,
                    event_type=kind,
                )
            )
    total = sum(item.contribution for item in items)
    fit_matches = _fit_matches(session, contact_id, model_fit=model.fit, now=now)
    fit_points = sum(m.points for m in fit_matches)
    settings = model.settings
    return Explanation(
        contact_id=contact_id,
        now=now,
        half_life_days=settings.half_life_days,
        score=round_half_away(total),
        total=total,
        by_rule=_by_rule(items),
        items=items,
        fit_points=fit_points,
        grade=grade_for(fit_points, settings) if model.fit else None,
        fit_matches=fit_matches,
        thresholds={"A": settings.grade_a, "B": settings.grade_b, "C": settings.grade_c},
    )


def score_history(
    session: Session, contact_id: int, *, since: date | None = None
) -> list[tuple[date, int]]:
    """(day, score at the end of that day) for each UTC day the score changed, oldest first."""
    stmt = select(ScoreHistory.day, ScoreHistory.score).where(ScoreHistory.contact_id == contact_id)
    if since is not None:
        stmt = stmt.where(ScoreHistory.day >= since)
    return [(day, score) for day, score in session.execute(stmt.order_by(ScoreHistory.day))]


def round_half_away(value: float) -> int:
    """Rounding as the database does it for scores: halves away from zero."""
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _by_rule(items: list[Contribution]) -> list[RuleShare]:
    groups: dict[int | None, list[Contribution]] = {}
    for item in items:
        groups.setdefault(item.rule_id, []).append(item)
    shares = [
        RuleShare(
            rule_id=rule_id,
            name=group[0].rule_name or "Adjustments",
            awards=len(group),
            points=sum(i.points for i in group),
            contribution=sum(i.contribution for i in group),
        )
        for rule_id, group in groups.items()
    ]
    return sorted(shares, key=lambda s: -abs(s.contribution))


def _fit_matches(
    session: Session,
    contact_id: int,
    *,
    model_fit: tuple[tuple[int, int, Node], ...],
    now: datetime,
) -> list[FitMatch]:
    if not model_fit:
        return []
    flags = [
        case((compile_node(node, now), literal(1)), else_=literal(0)).label(f"r{i}")
        for i, (_, _, node) in enumerate(model_fit)
    ]
    row = session.execute(
        select(*flags).select_from(RULE_FROM).where(contacts.c.id == contact_id)
    ).one()
    names = dict(session.execute(select(FitRule.id, FitRule.name)).all())
    return [
        FitMatch(rule_id, names.get(rule_id, f"rule {rule_id}"), points)
        for (rule_id, points, _), matched in zip(model_fit, row, strict=True)
        if matched
    ]
