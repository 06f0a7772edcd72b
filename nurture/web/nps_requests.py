"""What the NPS page, its downloads and the NPS API share: reading the query and
answering CSV.

Bad query parameters are a 400 naming each one (`by: must be month or quarter`), as
Litestar answers a query parameter of the wrong type.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Response
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput
from nurture.reports.nps_filter import NpsFilter, parse_nps_filter
from nurture.reports.tables import Table
from nurture.web.report_requests import DAY_HELP, bad_query, csv_response


def read_nps_filter(
    db: NamedDependency[Session],
    start: Annotated[
        str | None, QueryParameter(name="from", description=f"First day. {DAY_HELP}", max_length=40)
    ] = None,
    end: Annotated[
        str | None, QueryParameter(name="to", description=f"Last day. {DAY_HELP}", max_length=40)
    ] = None,
    service: Annotated[
        str | None,
        QueryParameter(description="Only surveys about this service (id)", max_length=40),
    ] = None,
    manager: Annotated[
        str | None,
        QueryParameter(description="Only projects this user managed (user id)", max_length=40),
    ] = None,
    member: Annotated[
        str | None,
        QueryParameter(description="Only projects this user worked on (user id)", max_length=40),
    ] = None,
    industry: Annotated[
        str | None,
        QueryParameter(description="Only client companies of this industry", max_length=400),
    ] = None,
    by: Annotated[
        str | None,
        QueryParameter(
            description="The trend's periods: `month` (default) or `quarter`", max_length=40
        ),
    ] = None,
    category: Annotated[
        str | None,
        QueryParameter(
            description="Comments of `promoter`, `passive` or `detractor` answers only",
            max_length=40,
        ),
    ] = None,
    q: Annotated[
        str | None,
        QueryParameter(description="Comments holding this text (any case)", max_length=1000),
    ] = None,
    page: Annotated[
        str | None, QueryParameter(description="The page of comments, from 1", max_length=40)
    ] = None,
) -> NpsFilter:
    """The NPS filter of a request's query (a dependency: `flt`)."""
    params = {
        "from": start,
        "to": end,
        "service": service,
        "manager": manager,
        "member": member,
        "industry": industry,
        "by": by,
        "category": category,
        "q": q,
        "page": page,
    }
    try:
        return parse_nps_filter(db, params)
    except InvalidInput as exc:
        raise bad_query(exc.problems) from None


NPS_FILTER = {"flt": Provide(read_nps_filter, sync_to_thread=True)}


def nps_csv(name: str, flt: NpsFilter, table: Table) -> Response[str]:
    """`table` as a CSV download named after what it holds and its period."""
    return csv_response(name, flt, table, default="nps")
