"""Lifecycle movement over time: how many recorded changes moved contacts into each
stage, per UTC week (starting Monday) or calendar month. One grouped statement.

Only recorded moves count here (a row of `lifecycle_changes`); a contact's creation
in its first stage is not a move. Backward moves (a rejected SQL recycled to lead)
count as moves into the stage they go to.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Date, SQLColumnExpression, func, select, type_coerce
from sqlalchemy.orm import Session

from nurture.models import LifecycleChange
from nurture.reports.filters import ReportFilter, contact_matches
from nurture.reports.stages import FUNNEL, within


class Interval(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Bucket:
    start: date  # Monday of the week, or the first of the month
    moves: dict[str, int]  # stage moved into -> number of moves

    @property
    def total(self) -> int:
        return sum(self.moves.values())


@dataclass(frozen=True, slots=True)
class Movement:
    interval: Interval
    stages: tuple[str, ...]  # every stage with a move: the funnel's in order, then others
    buckets: tuple[Bucket, ...]  # consecutive, gaps filled with empty buckets

    @property
    def total(self) -> int:
        return sum(b.total for b in self.buckets)


def movement(session: Session, flt: ReportFilter, interval: Interval) -> Movement:
    """Moves into each stage per bucket over the filter's period and contacts."""
    postgres = session.get_bind().dialect.name == "postgresql"
    bucket = _bucket(LifecycleChange.occurred_at, interval, postgres=postgres).label("bucket")
    rows = session.execute(
        select(bucket, LifecycleChange.to_stage, func.count())
        .where(
            within(LifecycleChange.occurred_at, flt),
            contact_matches(flt, LifecycleChange.contact_id),
        )
        .group_by(bucket, LifecycleChange.to_stage)
    )
    counts: dict[date, dict[str, int]] = defaultdict(dict)
    for start, stage, number in rows:
        counts[_as_date(start)][str(stage)] = int(number)
    seen = {stage for moves in counts.values() for stage in moves}
    stages = tuple(s for s in FUNNEL if s in seen) + tuple(sorted(seen - set(FUNNEL)))
    starts = _consecutive(sorted(counts), interval)
    return Movement(
        interval, stages, tuple(Bucket(start, dict(counts.get(start, {}))) for start in starts)
    )


def _bucket(
    at: SQLColumnExpression[datetime], interval: Interval, *, postgres: bool
) -> ColumnElement[date]:
    if postgres:
        # timezone('UTC', ...) drops the zone after moving to UTC, so the session's
        # time zone cannot shift a change into a neighbouring bucket.
        return type_coerce(
            func.date_trunc(interval.value, func.timezone("UTC", at)).cast(Date), Date
        )
    if interval is Interval.WEEK:
        # To the coming Sunday (the day itself if it is one), then back six days: Monday.
        return type_coerce(func.date(at, "weekday 0", "-6 days"), Date)
    return type_coerce(func.date(at, "start of month"), Date)


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _consecutive(starts: list[date], interval: Interval) -> list[date]:
    """Every bucket from the first to the last, so a quiet week shows as zero."""
    if not starts:
        return []
    out = [starts[0]]
    while out[-1] < starts[-1]:
        out.append(_next(out[-1], interval))
    return out


def _next(start: date, interval: Interval) -> date:
    if interval is Interval.WEEK:
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)
