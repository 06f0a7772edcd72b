"""What the Reports page and the reports API share: reading the query and answering CSV.

Bad query parameters are a 400 naming each one (`from: must be a valid date written
YYYY-MM-DD`), as Litestar answers a query parameter of the wrong type.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Protocol

from litestar import Response
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.params import QueryParameter
from sqlalchemy.orm import Session

from nurture.csv_cells import csv_writer
from nurture.errors import InvalidInput, Problem
from nurture.reports.filters import ReportFilter, parse_filter
from nurture.reports.movement import Interval
from nurture.reports.tables import Table
from nurture.web.downloads import attachment

DAY_HELP = "A UTC day written YYYY-MM-DD, included in the period; leave out for no bound"


def read_filter(
    db: NamedDependency[Session],
    start: Annotated[
        str | None, QueryParameter(name="from", description=f"First day. {DAY_HELP}", max_length=40)
    ] = None,
    end: Annotated[
        str | None, QueryParameter(name="to", description=f"Last day. {DAY_HELP}", max_length=40)
    ] = None,
    source: Annotated[
        str | None,
        QueryParameter(
            description="Only contacts whose `source` attribute is this", max_length=400
        ),
    ] = None,
    segment: Annotated[
        str | None,
        QueryParameter(description="Only current members of this segment (id)", max_length=40),
    ] = None,
    sequence: Annotated[
        str | None,
        QueryParameter(
            description="Only contacts ever enrolled in this sequence (id)", max_length=40
        ),
    ] = None,
) -> ReportFilter:
    """The report filter of a request's query (a dependency: `flt`)."""
    params = {"from": start, "to": end, "source": source, "segment": segment, "sequence": sequence}
    return report_filter(db, params)


def read_interval(
    interval: Annotated[
        str | None, QueryParameter(description="`week` (default) or `month`", max_length=40)
    ] = None,
) -> Interval:
    """The bucket size of the lifecycle report (a dependency: `interval`)."""
    return report_interval(interval)


FILTER = {"flt": Provide(read_filter, sync_to_thread=True)}
INTERVAL = {"interval_of": Provide(read_interval, sync_to_thread=False)}


def report_filter(db: Session, params: Mapping[str, str | None]) -> ReportFilter:
    """The filter `from`, `to`, `source`, `segment` and `sequence` ask for."""
    try:
        return parse_filter(db, params)
    except InvalidInput as exc:
        raise bad_query(exc.problems) from None


def report_interval(value: str | None) -> Interval:
    """`week` (the default) or `month`."""
    text = (value or "").strip() or Interval.WEEK.value
    try:
        return Interval(text)
    except ValueError:
        raise bad_query([Problem("interval", "must be `week` or `month`")]) from None


class Period(Protocol):
    """A report filter's period: UTC days, both included, None for no bound."""

    @property
    def start(self) -> date | None: ...

    @property
    def end(self) -> date | None: ...


def csv_response(
    report: str, flt: Period, table: Table, *, default: str = "report"
) -> Response[str]:
    """`table` as a CSV download named after the report and its period (`default` is
    the ASCII name offered when the report's name is not)."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow(row)
    period = "-".join(d.isoformat() for d in (flt.start, flt.end) if d is not None)
    name = f"{report}-{period}.csv" if period else f"{report}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": attachment(name, default=default)},
    )


def bad_query(problems: list[Problem]) -> ValidationException:
    """The 400 naming each bad query parameter, as Litestar answers a wrong type."""
    return ValidationException(
        "invalid query parameter",
        extra=[{"key": p.field, "message": p.message, "source": "query"} for p in problems],
    )
