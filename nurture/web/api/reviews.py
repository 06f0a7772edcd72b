"""NPS reports in JSON and CSV: the figures of the Reviews page.

Every role may read them (sales keys included), as the Reviews page is open to every
signed-in user: sales reps see the same answers on the contacts they work with.
"""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy.orm import Session

from nurture.models import Role
from nurture.reports.nps import comments, groups_table, nps_report
from nurture.reports.nps_filter import NpsFilter
from nurture.web.api.nps_schemas import NpsReportOut, nps_out
from nurture.web.api.responses import errors
from nurture.web.auth import api_roles
from nurture.web.nps_requests import NPS_FILTER, nps_csv

READERS = api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)
Db = NamedDependency[Session]
Flt = NamedDependency[NpsFilter]
_HOW = (
    " `from`/`to` bound the period (UTC days, both included); `service`, `manager`, "
    "`member` and `industry` narrow the surveys; `by` is `month` or `quarter`. "
    "Definitions and the interval's formula: docs/reviews.md."
)


@get(
    "/reviews/nps",
    guards=[READERS],
    dependencies=NPS_FILTER,
    sync_to_thread=True,
    summary="NPS with its interval, response rate, breakdowns, trend and comments",
    description="NPS = % promoters - % detractors of the answers given in the period, "
    "with a 95% interval; the response rate is over the surveys sent in the period. "
    "Overall, by service, account manager, team member, client industry and month or "
    "quarter; then a page of comments (`category`, `q`, `page` choose them)." + _HOW,
    responses=errors(),
)
def nps_api(db: Db, flt: Flt) -> NpsReportOut:
    return nps_out(flt, nps_report(db, flt), comments(db, flt))


@get(
    "/reviews/nps.csv",
    guards=[READERS],
    dependencies=NPS_FILTER,
    sync_to_thread=True,
    summary="NPS breakdowns as CSV",
    description="One row per group: overall, each service, account manager, team member, "
    "industry and period." + _HOW,
    responses=errors(),
    media_type="text/csv; charset=utf-8",
)
def nps_api_csv(db: Db, flt: Flt) -> Response[str]:
    return nps_csv("nps", flt, groups_table(nps_report(db, flt)))


HANDLERS = [nps_api, nps_api_csv]
