"""The points each behaviour rule awards, as one SQL query over the events.

Built from the active rules (no database look-ups here). A rule's points go to
every matching event, unless the rule has

- a threshold (`threshold_count` events within `threshold_days`): the days are cut
  into fixed windows counted from 1970-01-01 UTC, and a window holding at least
  that many matching events awards the points once, at its `threshold_count`-th
  event;
- a cap (`cap_points` per `cap_days`): within each fixed period the awards count
  up (earliest first) until their total reaches the cap; the award that crosses it
  is cut down to fit, later ones give nothing. Negative points are capped the same
  way by their size.

Fixed windows make every award a function of the set of events alone, not of the
order they arrived in: recomputing a contact from its events after each batch
gives what one pass over everything gives. The same query, restricted to a few
contacts, serves the incremental path; unrestricted, the full rescore. Either way
the events are read once: joined to the rules on their type (an event matching
two rules gives two rows), each rule's property conditions checked in one CASE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Float, Select, and_, case, func, literal, not_, select, true, union_all
from sqlalchemy.sql.elements import ColumnElement

from nurture.models import BehaviourRule, Event
from nurture.scoring.sqlmath import Epoch, floor_of
from segments.compiler import OPERATORS
from segments.fields import NEGATIONS
from segments.schema import JsonTest, Value
from segments.sqlfuncs import JsonValue

events = Event.__table__
rules_table = BehaviourRule.__table__
DAY = 86400.0
# Property operators never read the clock (only date fields do); the table wants one.
_NO_CLOCK = datetime(1970, 1, 1, tzinfo=UTC)
_DAY = literal(DAY, Float())


@dataclass(frozen=True, slots=True)
class LoadedRule:
    """An active behaviour rule with its parsed property tests."""

    id: int
    tests: tuple[JsonTest, ...]
    windowed: bool
    threshold: bool
    capped: bool


def award_rows(
    rules: Sequence[LoadedRule], *, contact_ids: Sequence[int] | None = None
) -> Select[tuple[int, int, int, float, float]] | None:
    """SELECT contact_id, rule_id, event_id, t (seconds since 1970), points: one row per
    award; None when there are no active rules."""
    # One pass over the events serves every rule once any rule needs the windows:
    # sorting the plain rules' rows too costs less than scanning the events twice.
    if any(r.windowed for r in rules):
        plain, windowed = [], list(rules)
    else:
        plain, windowed = list(rules), []
    parts: list[Select[tuple[int, int, int, float, float]]] = []
    if plain:
        m = _matched(plain, contact_ids).cte("plain_matched")
        parts.append(
            select(m.c.contact_id, m.c.rule_id, m.c.event_id, m.c.t, m.c.points.label("points"))
        )
    if windowed:
        parts.append(_windowed(windowed, contact_ids))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    whole = union_all(*parts).cte("awards_union")
    return select(whole.c.contact_id, whole.c.rule_id, whole.c.event_id, whole.c.t, whole.c.points)


def _matched(rules: Sequence[LoadedRule], contact_ids: Sequence[int] | None) -> Select:  # type: ignore[type-arg]
    """Events joined to the rules they match (an event may match several rules)."""
    r = rules_table
    ids = [rule.id for rule in rules]
    conditions = [(r.c.id == rule.id, _all_hold(rule.tests)) for rule in rules if rule.tests]
    where: list[ColumnElement[bool]] = [r.c.id.in_(ids)]
    if conditions:
        where.append(case(*conditions, else_=true()) == true())
    if contact_ids is not None:
        where.append(events.c.contact_id.in_(list(contact_ids)))
    return (
        select(
            events.c.contact_id,
            r.c.id.label("rule_id"),
            events.c.id.label("event_id"),
            Epoch(events.c.occurred_at).label("t"),
            r.c.points,
            r.c.cap_points,
            r.c.cap_days,
            r.c.threshold_count,
            r.c.threshold_days,
        )
        .select_from(events.join(r, r.c.event_type == events.c.type))
        .where(*where)
    )


def _windowed(
    rules: Sequence[LoadedRule], contact_ids: Sequence[int] | None
) -> Select[tuple[int, int, int, float, float]]:
    current = _matched(rules, contact_ids).cte("windowed_matched")
    if any(rule.threshold for rule in rules):
        bucket = floor_of(current.c.t / (current.c.threshold_days * _DAY))
        ranked = select(
            *current.c,
            func.row_number()
            .over(
                partition_by=(current.c.contact_id, current.c.rule_id, bucket),
                order_by=(current.c.t, current.c.event_id),
            )
            .label("nth"),
        ).cte("threshold_ranked")
        current = (
            select(*[c for c in ranked.c if c.key != "nth"])
            .where(
                (ranked.c.threshold_count.is_(None)) | (ranked.c.nth == ranked.c.threshold_count)
            )
            .cte("threshold_met")
        )
    if not any(rule.capped for rule in rules):
        return select(
            current.c.contact_id,
            current.c.rule_id,
            current.c.event_id,
            current.c.t,
            current.c.points.label("points"),
        )
    bucket = floor_of(current.c.t / (current.c.cap_days * _DAY))
    counted = select(
        *current.c,
        func.row_number()
        .over(
            partition_by=(current.c.contact_id, current.c.rule_id, bucket),
            order_by=(current.c.t, current.c.event_id),
        )
        .label("k"),
    ).cte("cap_ranked")
    size = func.abs(counted.c.points)
    before = (counted.c.k - 1) * size
    allowed = case(
        (counted.c.cap_points.is_(None), size),
        (before >= counted.c.cap_points, 0),
        (before + size > counted.c.cap_points, counted.c.cap_points - before),
        else_=size,
    )
    signed = case((counted.c.points < 0, -allowed), else_=allowed)
    capped = select(
        counted.c.contact_id,
        counted.c.rule_id,
        counted.c.event_id,
        counted.c.t,
        signed.label("points"),
    ).cte("capped")
    return select(
        capped.c.contact_id, capped.c.rule_id, capped.c.event_id, capped.c.t, capped.c.points
    ).where(capped.c.points != 0)


def _all_hold(tests: Sequence[JsonTest]) -> ColumnElement[bool]:
    return and_(*[_holds(events.c.properties, test) for test in tests])


def _holds(column: ColumnElement[object], test: JsonTest) -> ColumnElement[bool]:
    """A property test as segment rules mean it, on the event's properties: a value of
    another JSON type never matches (and so matches the negations)."""
    if test.op in NEGATIONS:
        return not_(_holds(column, JsonTest(test.key, NEGATIONS[test.op], test.kind, test.value)))
    if test.op == "is_set":
        return JsonValue(column, test.key, "present")
    typed = JsonValue(column, test.key, test.kind)
    value: Value | ColumnElement[float] | tuple[ColumnElement[float], ...] = test.value
    if test.kind == "number":
        value = _numbers(test.value)
    check = OPERATORS[test.op](typed, value, _NO_CLOCK)
    return and_(typed.is_not(None), check)


def _numbers(value: Value) -> ColumnElement[float] | tuple[ColumnElement[float], ...] | Value:
    # Typed binds, so a JSON number is compared as a float on both databases.
    if isinstance(value, tuple):
        return tuple(literal(v, Float()) for v in value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return literal(value, Float())
    return value
