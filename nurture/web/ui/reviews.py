"""The Reviews page: NPS with its interval and response rate, by service, account
manager, team member, industry and period, a trend chart, the clients' comments, and
CSV downloads of the same figures.

Every signed-in role may open it, as the contact pages that show the same answers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.response import Template

from nurture.reports.nps import (
    DIMENSIONS,
    NpsReport,
    all_comments,
    comments,
    comments_table,
    groups_table,
    nps_choices,
    nps_report,
)
from nurture.reports.nps_filter import NpsFilter
from nurture.web.auth import ui_roles
from nurture.web.nps_requests import NPS_FILTER, nps_csv
from nurture.web.ui import nps_words
from nurture.web.ui.params import Db, Me
from nurture.web.ui.render import NAVIGATION, page

GUARD = [ui_roles(*next(item.roles for item in NAVIGATION if item.key == "reviews"))]
Flt = NamedDependency[NpsFilter]
TITLES = {
    "service": "By service",
    "manager": "By account manager",
    "member": "By team member",
    "industry": "By client industry",
}
COLUMN = {
    "service": "Service",
    "manager": "Account manager",
    "member": "Team member",
    "industry": "Industry",
}


@get("/reviews", guards=GUARD, dependencies=NPS_FILTER, sync_to_thread=True)
def nps_page(db: Db, principal: Me, flt: Flt) -> Template:
    report = nps_report(db, flt)
    listed = comments(db, flt)
    query = flt.query(page=False)
    return page(
        "reviews/nps.html",
        principal,
        "reviews",
        tab="nps",
        flt=flt,
        report=report,
        comments=listed,
        choices=nps_choices(db),
        words=nps_words,
        dimensions=[(d, TITLES[d], COLUMN[d], report.breakdowns[d]) for d in DIMENSIONS],
        trend_chart=_trend_chart(report),
        split=_split(report),
        anything=bool(report.overall.sent or report.overall.result.answers or listed.total),
        narrowed=flt.narrowed,
        commented=bool(flt.category or flt.text),
        downloads={
            "nps": _link("/reviews/nps.csv", query),
            "comments": _link("/reviews/comments.csv", query),
        },
        pages={
            "previous": _link("/reviews", flt.on_page(listed.page - 1).query()) + "#comments"
            if listed.page > 1
            else None,
            "next": _link("/reviews", flt.on_page(listed.page + 1).query()) + "#comments"
            if listed.page < listed.pages
            else None,
        },
    )


@get("/reviews/nps.csv", guards=GUARD, dependencies=NPS_FILTER, sync_to_thread=True)
def nps_download(db: Db, flt: Flt) -> Response[str]:
    return nps_csv("nps", flt, groups_table(nps_report(db, flt)))


@get("/reviews/comments.csv", guards=GUARD, dependencies=NPS_FILTER, sync_to_thread=True)
def comments_download(db: Db, flt: Flt) -> Response[str]:
    return nps_csv("nps-comments", flt, comments_table(all_comments(db, flt)))


def _link(path: str, query: dict[str, str]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def _trend_chart(report: NpsReport) -> dict[str, Any]:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "labels": [g.label for g in report.trend],
        "nps": [rounded(g.result.score) for g in report.trend],
        "low": [rounded(g.result.low) for g in report.trend],
        "high": [rounded(g.result.high) for g in report.trend],
        "answers": [g.result.answers for g in report.trend],
    }


def _split(report: NpsReport) -> list[tuple[str, str, int, float]]:
    """(category, label, answers, % of answers) for the split bar, promoters first."""
    counts = report.overall.result.counts
    total = counts.answers or 1
    return [
        ("promoter", "Promoters (9-10)", counts.promoters, 100 * counts.promoters / total),
        ("passive", "Passives (7-8)", counts.passives, 100 * counts.passives / total),
        ("detractor", "Detractors (0-6)", counts.detractors, 100 * counts.detractors / total),
    ]


handlers = [nps_page, nps_download, comments_download]
