"""The lifecycle funnel: who reached each stage in a period, who went on, and how long
people stay in each stage. Two grouped statements, whatever the number of contacts.

- `reached`: contacts that first reached the stage (see `stages`) in the period.
- `went_on`: of those, the ones that reached the next stage before the period ended;
  `conversion` is their share. A cohort, so it never exceeds 1.
- `median_days`: the median length of the stays in the stage that began in the
  period and have ended (the contact moved on, forward or back). A stay still
  running has no length yet and is left out; `stays` says how many were measured.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from nurture.reports.filters import ReportFilter, contact_matches
from nurture.reports.stages import FUNNEL, before_end, entries, reached, within


@dataclass(frozen=True, slots=True)
class StageFigures:
    stage: str
    reached: int
    went_on: int  # of `reached`, how many reached the next stage (0 for the last)
    median_days: float | None  # None: no finished stay in the period
    stays: int  # finished stays the median is taken over

    @property
    def conversion(self) -> float | None:
        """Share of `reached` that went on to the next stage (None: nobody reached it)."""
        return self.went_on / self.reached if self.reached else None


@dataclass(frozen=True, slots=True)
class Funnel:
    stages: tuple[StageFigures, ...]

    def stage(self, name: str) -> StageFigures:
        return next(s for s in self.stages if s.stage == name)


def funnel(session: Session, flt: ReportFilter) -> Funnel:
    """The funnel for the filter's period and contacts."""
    r = reached(flt)
    moments = [r.c[f"r{k}"] for k in range(1, len(FUNNEL) + 1)]
    sums: list[ColumnElement[int]] = []
    for k, moment in enumerate(moments):
        entered = within(moment, flt)
        sums.append(func.coalesce(func.sum(case((entered, 1), else_=0)), 0))
        if k + 1 < len(moments):
            onward = and_(entered, before_end(moments[k + 1], flt))
            sums.append(func.coalesce(func.sum(case((onward, 1), else_=0)), 0))
        else:
            sums.append(literal(0))
    row = session.execute(select(*sums).select_from(r)).one()
    medians = median_days(session, flt)
    return Funnel(
        tuple(
            StageFigures(
                stage=name,
                reached=int(row[2 * k]),
                went_on=int(row[2 * k + 1]),
                median_days=medians.get(name, (None, 0))[0],
                stays=medians.get(name, (None, 0))[1],
            )
            for k, name in enumerate(FUNNEL)
        )
    )


def median_days(session: Session, flt: ReportFilter) -> dict[str, tuple[float | None, int]]:
    """Per funnel stage: (median length in days, number) of the finished stays begun in
    the period. PostgreSQL takes `percentile_cont`; SQLite, which has none, averages
    the one or two middle rows of each stage's ordered stays (the same definition)."""
    e = entries()
    left_at = func.lead(e.c.at).over(partition_by=e.c.contact_id, order_by=(e.c.at, e.c.tie))
    stays = (
        select(e.c.contact_id, e.c.stage, e.c.at, left_at.label("left_at"))
        .where(e.c.stage.is_not(None))
        .subquery("stays")
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        days = func.extract("epoch", stays.c.left_at - stays.c.at) / 86400.0
    else:
        days = func.julianday(stays.c.left_at) - func.julianday(stays.c.at)
    finished = (
        select(stays.c.stage, days.label("days"))
        .where(
            stays.c.left_at.is_not(None),
            stays.c.stage.in_(FUNNEL),
            within(stays.c.at, flt),
            contact_matches(flt, stays.c.contact_id),
        )
        .subquery("finished")
    )
    if postgres:
        query = select(
            finished.c.stage,
            func.percentile_cont(0.5).within_group(finished.c.days).label("median"),
            func.count(),
        ).group_by(finished.c.stage)
    else:
        order = func.row_number().over(partition_by=finished.c.stage, order_by=finished.c.days)
        size = func.count().over(partition_by=finished.c.stage)
        ranked = select(
            finished.c.stage, finished.c.days, order.label("n"), size.label("size")
        ).subquery("ranked")
        # Integer division: the middle row of an odd count, the two middle rows of an even one.
        middle = and_(
            ranked.c.n >= (ranked.c.size + 1) // 2, ranked.c.n <= (ranked.c.size + 2) // 2
        )
        query = (
            select(ranked.c.stage, func.avg(ranked.c.days), func.max(ranked.c.size))
            .where(middle)
            .group_by(ranked.c.stage)
        )
    return {
        str(stage): (None if median is None else float(median), int(count))
        for stage, median, count in session.execute(query)
    }
