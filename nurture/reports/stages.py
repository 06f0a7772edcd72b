"""When each contact entered each lifecycle stage, as SQL the reports build on.

A contact's stages are its recorded `lifecycle_changes` plus one entry nobody
recorded: the stage it was created in, at `created_at`. That first stage is the
`from_stage` of its first change, or, with no change at all, the stage it is in
now. (A first change with no `from_stage` is the creation itself, so nothing is
added.) Without that entry every contact created before lifecycle history was
kept would be missing from the funnel.

Reaching a stage means entering it or any later stage of `FUNNEL`: a lead a rep
moves straight to SQL has passed MQL. So the counts only ever fall along the
funnel, and a contact's moment of reaching a stage is its first entry into that
stage or a later one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Integer,
    SQLColumnExpression,
    Subquery,
    and_,
    case,
    func,
    literal,
    select,
    union_all,
)

from nurture.models import Contact, LifecycleChange, LifecycleStage
from nurture.models.base import UTCDateTime
from nurture.reports.filters import ReportFilter, contact_matches

FUNNEL = tuple(
    stage.value
    for stage in (
        LifecycleStage.SUBSCRIBER,
        LifecycleStage.LEAD,
        LifecycleStage.MQL,
        LifecycleStage.SQL,
        LifecycleStage.OPPORTUNITY,
        LifecycleStage.CUSTOMER,
    )
)
# A qualified lead is one that reached this stage (or a later one).
QUALIFIED = LifecycleStage.MQL.value


def rank(stage: ColumnElement[str]) -> ColumnElement[int]:
    """1 for subscriber .. 6 for customer; NULL for stages outside the funnel."""
    return case(
        {name: position for position, name in enumerate(FUNNEL, start=1)},
        value=stage,
        else_=None,
    )


def instant(value: datetime) -> ColumnElement[datetime]:
    # Typed, so SQLite gets the naive UTC text its columns hold, not an aware literal.
    return literal(value, UTCDateTime())


def entries() -> Subquery:
    """(contact_id, stage, at, tie): every entry into a stage, the unrecorded first included.

    `tie` orders entries at the same instant: the creation (0) before any change (its id).
    """
    # Each contact's first recorded change, numbered in one pass rather than looked up
    # per contact: a hash join instead of a correlated subquery for every contact.
    order = func.row_number().over(
        partition_by=LifecycleChange.contact_id,
        order_by=(LifecycleChange.occurred_at, LifecycleChange.id),
    )
    numbered = select(
        LifecycleChange.contact_id, LifecycleChange.from_stage, order.label("n")
    ).subquery("numbered_changes")
    first = (
        select(numbered.c.contact_id, numbered.c.from_stage)
        .where(numbered.c.n == 1)
        .subquery("first_changes")
    )
    created = select(
        Contact.id.label("contact_id"),
        case(
            (first.c.contact_id.is_(None), Contact.lifecycle_stage), else_=first.c.from_stage
        ).label("stage"),
        Contact.created_at.label("at"),
        literal(0, Integer()).label("tie"),
    ).outerjoin(first, first.c.contact_id == Contact.id)
    changed = select(
        LifecycleChange.contact_id,
        LifecycleChange.to_stage,
        LifecycleChange.occurred_at,
        LifecycleChange.id,
    )
    return union_all(created, changed).subquery("stage_entries")


def reached(flt: ReportFilter) -> Subquery:
    """One row per contact the filter keeps: `contact_id` and `r1`..`r6`, the moment it
    first reached each funnel stage (NULL: not yet)."""
    e = entries()
    position = rank(e.c.stage)
    columns = [
        func.min(case((position >= k, e.c.at), else_=None)).label(f"r{k}")
        for k in range(1, len(FUNNEL) + 1)
    ]
    return (
        select(e.c.contact_id, *columns)
        .where(e.c.stage.is_not(None), contact_matches(flt, e.c.contact_id))
        .group_by(e.c.contact_id)
        .subquery("reached")
    )


def within(at: SQLColumnExpression[datetime], flt: ReportFilter) -> ColumnElement[bool]:
    """`at` falls in the filter's period (an unbounded end always holds)."""
    conditions: list[ColumnElement[bool]] = [at.is_not(None)]
    if flt.since is not None:
        conditions.append(at >= instant(flt.since))
    if flt.until is not None:
        conditions.append(at < instant(flt.until))
    return and_(*conditions)


def before_end(at: SQLColumnExpression[datetime], flt: ReportFilter) -> ColumnElement[bool]:
    """`at` happened, and before the period ended."""
    if flt.until is None:
        return at.is_not(None)
    return and_(at.is_not(None), at < instant(flt.until))
