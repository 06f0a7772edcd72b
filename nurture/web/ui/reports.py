"""The Reports page: the funnel, lifecycle movement, sequence performance and the content
qualified leads read, with charts, tables and CSV downloads of the same figures.

Every signed-in role may open it: counts over many contacts, nobody's personal data.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.response import Template

from nurture.reports.content import content_read
from nurture.reports.filters import ReportFilter, filter_choices
from nurture.reports.funnel import Funnel, funnel
from nurture.reports.movement import Interval, Movement, movement
from nurture.reports.sequences import SequenceFigures, sequence_performance
from nurture.reports.tables import content_table, funnel_table, movement_table, sequences_table
from nurture.web.auth import ui_roles
from nurture.web.report_requests import FILTER, INTERVAL, csv_response
from nurture.web.ui.params import Db, Me
from nurture.web.ui.render import NAVIGATION, page

GUARD = [ui_roles(*next(item.roles for item in NAVIGATION if item.key == "reports"))]
Flt = NamedDependency[ReportFilter]
Every = NamedDependency[Interval]


@get("/reports", guards=GUARD, dependencies={**FILTER, **INTERVAL}, sync_to_thread=True)
def reports_page(db: Db, principal: Me, flt: Flt, interval_of: Every) -> Template:
    stages = funnel(db, flt)
    moves = movement(db, flt, interval_of)
    sequences = sequence_performance(db, flt)
    content = content_read(db, flt)
    query = flt.query()
    return page(
        "reports/page.html",
        principal,
        "reports",
        flt=flt,
        interval=interval_of.value,
        choices=filter_choices(db),
        funnel=stages,
        movement=moves,
        sequences=sequences,
        content=content,
        funnel_chart=_funnel_chart(stages),
        movement_chart=_movement_chart(moves),
        sequences_chart=_sequences_chart(sequences),
        filtered=bool(query),
        downloads={
            name: f"/reports/{name}.csv?{urlencode(extra)}".rstrip("?")
            for name, extra in (
                ("funnel", query),
                ("lifecycle", {**query, "interval": interval_of.value}),
                ("sequences", query),
                ("content", query),
            )
        },
    )


@get("/reports/funnel.csv", guards=GUARD, dependencies=FILTER, sync_to_thread=True)
def funnel_csv(db: Db, flt: Flt) -> Response[str]:
    return csv_response("funnel", flt, funnel_table(funnel(db, flt)))


@get(
    "/reports/lifecycle.csv", guards=GUARD, dependencies={**FILTER, **INTERVAL}, sync_to_thread=True
)
def lifecycle_csv(db: Db, flt: Flt, interval_of: Every) -> Response[str]:
    return csv_response("lifecycle", flt, movement_table(movement(db, flt, interval_of)))


@get("/reports/sequences.csv", guards=GUARD, dependencies=FILTER, sync_to_thread=True)
def sequences_csv(db: Db, flt: Flt) -> Response[str]:
    return csv_response("sequences", flt, sequences_table(sequence_performance(db, flt)))


@get("/reports/content.csv", guards=GUARD, dependencies=FILTER, sync_to_thread=True)
def content_csv(db: Db, flt: Flt) -> Response[str]:
    return csv_response("content", flt, content_table(content_read(db, flt)))


def _funnel_chart(report: Funnel) -> dict[str, Any]:
    return {
        "labels": [s.stage for s in report.stages],
        "reached": [s.reached for s in report.stages],
        "went_on": [s.went_on for s in report.stages],
    }


def _movement_chart(report: Movement) -> dict[str, Any]:
    return {
        "interval": report.interval.value,
        "labels": [b.start.isoformat() for b in report.buckets],
        # Pairs, not a mapping: `tojson` sorts keys, and the stack should follow the funnel.
        "stages": [[s, [b.moves.get(s, 0) for b in report.buckets]] for s in report.stages],
    }


def _sequences_chart(rows: list[SequenceFigures]) -> dict[str, Any]:
    shown = [r for r in rows if r.enrolled or r.delivered]
    return {
        "labels": [r.name for r in shown],
        "series": [
            ["delivered", [r.delivered for r in shown]],
            ["opened", [r.opened for r in shown]],
            ["clicked", [r.clicked for r in shown]],
            ["replied", [r.replied for r in shown]],
            ["qualified", [r.qualified for r in shown]],
        ],
    }


handlers = [reports_page, funnel_csv, lifecycle_csv, sequences_csv, content_csv]
