"""Compile a validated rule into one SQLAlchemy boolean expression over `contacts`.

Pure: no database look-ups, no clock (the caller passes `now`), no special
cases outside the operator table. Every condition compiles to a two-valued
expression (never SQL NULL), so `not` and the negated operators are exact
complements: `not_equals X` matches contacts whose field is missing too.

Company fields are read through one outer join (RULE_FROM). Behaviour,
membership and suppression tests are correlated EXISTS
subqueries; at the top level of a rule PostgreSQL turns them into semi- and
anti-joins, and for a handful of contacts (the incremental check) they are
index probes on events(contact_id, type, occurred_at).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Interval,
    Select,
    String,
    and_,
    case,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from nurture.models import Company, Contact, Event, SegmentMember, Suppression
from segments.fields import FIELDS, NEGATIONS, FieldType
from segments.schema import (
    AttributeCondition,
    EventCondition,
    FieldCondition,
    Group,
    JsonTest,
    Node,
    Not,
    Rule,
    SegmentCondition,
    Value,
)
from segments.sqlfuncs import EmailHash, JsonValue

contacts = Contact.__table__
companies = Company.__table__
events = Event.__table__
members = SegmentMember.__table__
suppressions = Suppression.__table__

Expr = ColumnElement[Any]
# `now` is a datetime, or a bound parameter when a statement is built once and reused.
Now = datetime | ColumnElement[datetime]
Test = Callable[[Expr, Any, Now], ColumnElement[bool]]

# Positive operators only; each negated operator is NOT of its positive twin
# (fields.NEGATIONS), and presence tests are handled where the column is known.
OPERATORS: dict[str, Test] = {
    "equals": lambda col, v, _: col == v,
    "in": lambda col, v, _: col.in_(v),
    "contains": lambda col, v, _: col.icontains(v, autoescape=True),
    "starts_with": lambda col, v, _: col.istartswith(v, autoescape=True),
    "gt": lambda col, v, _: col > v,
    "gte": lambda col, v, _: col >= v,
    "lt": lambda col, v, _: col < v,
    "lte": lambda col, v, _: col <= v,
    "between": lambda col, v, _: col.between(v[0], v[1]),
    "before": lambda col, v, _: col < v,
    "after": lambda col, v, _: col > v,
    "within_last_days": lambda col, v, now: col >= _days_before(now, v),
    "more_than_days_ago": lambda col, v, now: col < _days_before(now, v),
}


def _days_before(now: Now, days: int) -> Any:
    if isinstance(now, datetime):
        return now - timedelta(days=days)
    # A bound `now`: explicit interval arithmetic, which the UTC date type does not infer.
    return now - literal(timedelta(days=days), Interval())


# NPS answers map to categories by the `score` property of the latest nps.answered event.
NPS_EVENT = "nps.answered"

_CONTACT_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "title",
    "lifecycle_stage",
    "owner_id",
    "locale",
    "time_zone",
    "created_at",
    "last_activity_at",
    "score",
    "fit_grade",
    "predicted_probability",
)
_NOT_NULL = frozenset({"score"})
_INTEGER_COLUMNS = frozenset({"score"})


# What a compiled rule reads: each contact with its company (if any). One join,
# rather than a subquery per company condition, keeps PostgreSQL's planning short,
# which is most of the cost of an incremental check.
RULE_FROM = contacts.outerjoin(companies, companies.c.id == contacts.c.company_id)


def compile_rule(rule: Rule, *, now: Now, whole: bool = False) -> ColumnElement[bool]:
    """The rule as a boolean SQL expression over RULE_FROM (contacts left-joined to
    their company), relative to `now`. Select from RULE_FROM when using it.

    `whole` says the expression will be evaluated for every contact (a full refresh,
    a preview) rather than for a handful: counted behaviour conditions then become
    one grouped pass over the events instead of a count per contact.
    """
    return compile_node(rule.root, now, whole=whole)


def matching_contacts(
    rule: Rule, *, now: Now, contact_ids: Sequence[int] | None = None
) -> Select[int]:
    """SELECT contacts.id of live (not erased) contacts matching the rule.

    `contact_ids` restricts the answer to those contacts (the incremental check).
    """
    stmt = (
        select(contacts.c.id)
        .select_from(RULE_FROM)
        .where(
            contacts.c.erased_at.is_(None),
            compile_rule(rule, now=now, whole=contact_ids is None),
        )
    )
    if contact_ids is not None:
        stmt = stmt.where(contacts.c.id.in_(list(contact_ids)))
    return stmt


def compile_node(node: Node, now: Now, *, whole: bool = False) -> ColumnElement[bool]:
    if isinstance(node, Group):
        if not node.children:
            return true()
        parts = [compile_node(child, now, whole=whole) for child in node.children]
        return and_(*parts) if node.kind == "all" else or_(*parts)
    if isinstance(node, Not):
        return not_(compile_node(node.child, now, whole=whole))
    if isinstance(node, FieldCondition):
        return _field(node, now, whole=whole)
    if isinstance(node, AttributeCondition):
        return _json(contacts.c.attributes, node.test, now)
    if isinstance(node, EventCondition):
        return _event(node, now, whole=whole)
    if isinstance(node, SegmentCondition):
        return _segment(node)
    raise TypeError(f"not a rule node: {node!r}")


def _field(cond: FieldCondition, now: Now, *, whole: bool = False) -> ColumnElement[bool]:
    spec = FIELDS[cond.field]
    op, value = cond.op, cond.value
    if spec.type is FieldType.ORDERED and op in ("at_least", "at_most"):
        rank = spec.choices.index(str(value))
        op, value = "in", spec.choices[rank:] if op == "at_least" else spec.choices[: rank + 1]
    if spec.type is FieldType.NUMBER:
        value = _numbers(value, integer_column=cond.field in _INTEGER_COLUMNS)
    text = spec.type is FieldType.STRING
    if cond.field == "suppressed":
        return _suppressed() if value else not_(_suppressed())
    if cond.field == "nps_category":
        if whole:
            return _nps_category_whole(op, value, now)
        return _test(_nps_category(), op, value, now, nullable=False, text=True)
    if cond.field.startswith("company."):
        # Read through RULE_FROM's outer join: a contact without a company has
        # NULL here, which no positive test matches.
        column = companies.c[cond.field.removeprefix("company.")]
        return _test(column, op, value, now, nullable=True, text=text)
    if cond.field not in _CONTACT_COLUMNS:
        raise ValueError(f"no column for field {cond.field!r}")
    column = contacts.c[cond.field]
    return _test(column, op, value, now, nullable=cond.field not in _NOT_NULL, text=text)


def _test(
    column: Expr, op: str, value: Value, now: Now, *, nullable: bool, text: bool
) -> ColumnElement[bool]:
    """A two-valued test of one column; negated operators are NOT of the positive."""
    if op in NEGATIONS:
        return not_(_test(column, NEGATIONS[op], value, now, nullable=nullable, text=text))
    if op == "is_set":
        present: ColumnElement[bool] = column.is_not(None) if nullable else true()
        return and_(present, column != "") if text else present
    try:
        operator = OPERATORS[op]
    except KeyError:
        raise ValueError(f"unknown operator {op!r}") from None
    test = operator(column, value, now)
    return and_(column.is_not(None), test) if nullable else test


def _numbers(value: Value, *, integer_column: bool = False) -> Any:
    # Typed binds: comparing an integer column with a float parameter must stay numeric.
    # A whole number against an integer column binds as an integer: the same answer,
    # and PostgreSQL then compares integers instead of casting every row to numeric
    # (which also ranks the test after costlier ones in a scan's filter).
    if isinstance(value, tuple):
        return tuple(_number(v, integer_column) for v in value)
    if isinstance(value, float):
        return _number(value, integer_column)
    return value


def _number(value: Any, integer_column: bool) -> Any:
    if integer_column and isinstance(value, float) and value.is_integer():
        return literal(int(value), Integer())
    if isinstance(value, float | int) and not isinstance(value, bool):
        return literal(value, Float())
    return value


def _json(column: Expr, test: JsonTest, now: Now) -> ColumnElement[bool]:
    if test.op in NEGATIONS:
        positive = JsonTest(test.key, NEGATIONS[test.op], test.kind, test.value)
        return not_(_json(column, positive, now))
    if test.op == "is_set":
        return JsonValue(column, test.key, "present")
    value = _numbers(test.value) if test.kind == "number" else test.value
    typed = JsonValue(column, test.key, test.kind)
    return _test(typed, test.op, value, now, nullable=True, text=False)


def _event(cond: EventCondition, now: Now, *, whole: bool) -> ColumnElement[bool]:
    ev = events.alias()
    where: list[ColumnElement[bool]] = [
        ev.c.contact_id == contacts.c.id,
        ev.c.type == cond.event_type,
    ]
    if cond.within_last_days is not None:
        where.append(ev.c.occurred_at >= _days_before(now, cond.within_last_days))
    if cond.between is not None:
        where.append(ev.c.occurred_at.between(*cond.between))
    where.extend(_json(ev.c.properties, test, now) for test in cond.where)
    low, high = cond.min_count, cond.max_count
    if high is None and low <= 0:
        return true()
    matching = select(literal(1)).select_from(ev).where(*where).correlate(contacts)
    if high is None and low == 1:
        return matching.exists()
    if high == 0:
        return not_(matching.exists())
    if whole and low >= 1:
        # Over every contact, one grouped scan of the events (hash-joined) beats a
        # correlated count per contact; for a few contacts the count is cheaper.
        having = func.count() >= low if high is None else func.count().between(low, high)
        grouped = select(ev.c.contact_id).where(*where[1:]).group_by(ev.c.contact_id).having(having)
        return contacts.c.id.in_(grouped)
    counted = (
        select(func.count()).select_from(ev).where(*where).correlate(contacts).scalar_subquery()
    )
    if high is None:
        return counted >= low
    if low == high:
        return counted == low
    return counted <= high if low <= 0 else counted.between(low, high)


def _segment(cond: SegmentCondition) -> ColumnElement[bool]:
    # An alias: the refresh's DELETE works on segment_members itself and must not correlate.
    sm = members.alias()
    found = (
        select(literal(1))
        .select_from(sm)
        .where(sm.c.segment_id == cond.segment_id, sm.c.contact_id == contacts.c.id)
        .correlate(contacts)
        .exists()
    )
    return found if cond.member else not_(found)


def _suppressed() -> ColumnElement[bool]:
    return (
        select(literal(1))
        .select_from(suppressions)
        .where(suppressions.c.email_hash == EmailHash(contacts.c.email))
        .correlate(contacts)
        .exists()
    )


def _nps_category() -> Expr:
    """The category of the latest NPS answer, or '' without one (never NULL)."""
    ev = events.alias()
    latest = (
        select(_category(ev))
        .where(ev.c.contact_id == contacts.c.id, ev.c.type == NPS_EVENT)
        .order_by(ev.c.occurred_at.desc(), ev.c.id.desc())
        .limit(1)
        .correlate(contacts)
        .scalar_subquery()
    )
    return func.coalesce(latest, literal("", String()))


def _nps_category_whole(op: str, value: Value, now: Now) -> ColumnElement[bool]:
    """The same test over every contact: one ranked pass over the NPS answers, joined
    by hash, instead of a latest-answer probe per contact (220,000 probes, a second,
    for the customers of 1M contacts)."""
    if op in NEGATIONS:
        return not_(_nps_category_whole(NEGATIONS[op], value, now))
    # A positive test (equals, in, is_set) with the catalogue's values never passes
    # the '' of a contact who never answered, so only answers can match: a plain
    # IN, which PostgreSQL turns into a semi-join from the answers to contacts.
    ev = events.alias()
    ranked = (
        select(
            ev.c.contact_id,
            _category(ev).label("category"),
            func.row_number()
            .over(partition_by=ev.c.contact_id, order_by=(ev.c.occurred_at.desc(), ev.c.id.desc()))
            .label("rank"),
        )
        .where(ev.c.type == NPS_EVENT)
        .subquery()
    )
    passing = select(ranked.c.contact_id).where(
        ranked.c.rank == 1, _test(ranked.c.category, op, value, now, nullable=False, text=True)
    )
    return contacts.c.id.in_(passing)


def _category(ev: Any) -> Expr:
    score = JsonValue(ev.c.properties, "score", "number")
    return case(
        ((score >= 9) & (score <= 10), "promoter"),
        ((score >= 7) & (score < 9), "passive"),
        ((score >= 0) & (score < 7), "detractor"),
        else_="",
    )
