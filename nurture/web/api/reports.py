"""The reports over the API: the same figures as the Reports page, as JSON or CSV.

Every role may read them (sales keys included): they are counts over many
contacts, with no one's personal data, and the Reports page is open to every
signed-in user too.
"""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy.orm import Session

from nurture.models import Role
from nurture.reports.content import content_read
from nurture.reports.filters import ReportFilter
from nurture.reports.funnel import funnel
from nurture.reports.movement import Interval, movement
from nurture.reports.sequences import sequence_performance
from nurture.reports.tables import content_table, funnel_table, movement_table, sequences_table
from nurture.web.api.report_schemas import (
    ContentOut,
    FunnelOut,
    LifecycleOut,
    SequencesOut,
    content_out,
    funnel_out,
    lifecycle_out,
    sequences_out,
)
from nurture.web.api.responses import errors
from nurture.web.auth import api_roles
from nurture.web.report_requests import FILTER, INTERVAL, csv_response

READERS = api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)
Db = NamedDependency[Session]
Flt = NamedDependency[ReportFilter]
Every = NamedDependency[Interval]
_PERIOD = (
    " `from`/`to` bound the period (UTC days, both included); `source`, `segment` and "
    "`sequence` narrow the contacts counted. Definitions: docs/reports.md."
)
CSV = "text/csv; charset=utf-8"


@get(
    "/reports/funnel",
    guards=[READERS],
    dependencies=FILTER,
    sync_to_thread=True,
    summary="The lifecycle funnel",
    description="Per stage: contacts that reached it in the period, how many went on to "
    "the next stage, and the median days people stay in it." + _PERIOD,
    responses=errors(),
)
def funnel_report(db: Db, flt: Flt) -> FunnelOut:
    return funnel_out(flt, funnel(db, flt))


@get(
    "/reports/funnel.csv",
    guards=[READERS],
    dependencies=FILTER,
    sync_to_thread=True,
    summary="The lifecycle funnel as CSV",
    responses=errors(),
    media_type=CSV,
)
def funnel_csv(db: Db, flt: Flt) -> Response[str]:
    return csv_response("funnel", flt, funnel_table(funnel(db, flt)))


@get(
    "/reports/lifecycle",
    guards=[READERS],
    dependencies={**FILTER, **INTERVAL},
    sync_to_thread=True,
    summary="Lifecycle movement over time",
    description="Recorded moves into each stage per UTC week (from Monday) or month; quiet "
    "buckets between the first and the last are zeros." + _PERIOD,
    responses=errors(),
)
def lifecycle_report(db: Db, flt: Flt, interval_of: Every) -> LifecycleOut:
    return lifecycle_out(flt, movement(db, flt, interval_of))


@get(
    "/reports/lifecycle.csv",
    guards=[READERS],
    dependencies={**FILTER, **INTERVAL},
    sync_to_thread=True,
    summary="Lifecycle movement over time as CSV",
    responses=errors(),
    media_type=CSV,
)
def lifecycle_csv(db: Db, flt: Flt, interval_of: Every) -> Response[str]:
    return csv_response("lifecycle", flt, movement_table(movement(db, flt, interval_of)))


@get(
    "/reports/sequences",
    guards=[READERS],
    dependencies=FILTER,
    sync_to_thread=True,
    summary="Sequence performance",
    description="Per sequence, for the enrolments begun in the period: e-mails delivered, "
    "opened and clicked by a person, replied to, and the enrolled contacts that later "
    "reached MQL." + _PERIOD,
    responses=errors(),
)
def sequences_report(db: Db, flt: Flt) -> SequencesOut:
    return sequences_out(flt, sequence_performance(db, flt))


@get(
    "/reports/sequences.csv",
    guards=[READERS],
    dependencies=FILTER,
    sync_to_thread=True,
    summary="Sequence performance as CSV",
    responses=errors(),
    media_type=CSV,
)
def sequences_csv(db: Db, flt: Flt) -> Response[str]:
    return csv_response("sequences", flt, sequences_table(sequence_performance(db, flt)))


@get(
    "/reports/content",
    guards=[READERS],
    dependencies=FILTER,
    sync_to_thread=True,
    summary="Content qualified leads read most",
    description="Case studies, articles and webinars read by the contacts that reached MQL "
    "in the period, before they reached it; the 20 read by most." + _PERIOD,
    responses=errors(),
)
def content_report(db: Db, flt: Flt) -> ContentOut:
    return content_out(flt, content_read(db, flt))


@get(
    "/reports/content.csv",
    guards=[READERS],
    dependencies=FILTER,
    sync_to_thread=True,
    summary="Content qualified leads read most, as CSV",
    responses=errors(),
    media_type=CSV,
)
def content_csv(db: Db, flt: Flt) -> Response[str]:
    return csv_response("content", flt, content_table(content_read(db, flt)))


HANDLERS = [
    funnel_report,
    funnel_csv,
    lifecycle_report,
    lifecycle_csv,
    sequences_report,
    sequences_csv,
    content_report,
    content_csv,
]
