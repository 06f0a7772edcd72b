"""What the NPS API answers (documented in /schema), built from the report dataclasses."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from nurture.reports.nps import CommentPage, Group, NpsReport
from nurture.reports.nps_filter import NpsFilter


class NpsFilterOut(msgspec.Struct):
    """The period (UTC days, both included; null: unbounded), the surveys counted, and
    the comments listed."""

    start: date | None
    end: date | None
    service_id: int | None
    manager_id: int | None
    member_id: int | None
    industry: str | None
    by: str
    category: str | None
    text: str | None
    page: int


class NpsGroupOut(msgspec.Struct):
    """NPS in points (-100..100) with its 95% interval; shares are fractions."""

    key: str
    label: str
    answers: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    ci95_low: float | None
    ci95_high: float | None
    interval_method: str | None
    small_sample: bool
    sent: int
    answered_of_sent: int
    response_rate: float | None


class NpsCommentOut(msgspec.Struct):
    survey_id: int
    contact_id: int
    contact: str
    company: str | None
    project: str | None
    service: str | None
    account_manager: str | None
    score: int | None
    category: str | None
    follow_up: str | None
    comment: str | None
    at: datetime | None


class NpsCommentsOut(msgspec.Struct):
    total: int
    page: int
    pages: int
    items: list[NpsCommentOut]


class NpsReportOut(msgspec.Struct):
    filter: NpsFilterOut
    overall: NpsGroupOut
    by_service: list[NpsGroupOut]
    by_account_manager: list[NpsGroupOut]
    by_team_member: list[NpsGroupOut]
    by_industry: list[NpsGroupOut]
    trend: list[NpsGroupOut]
    comments: NpsCommentsOut


def nps_out(flt: NpsFilter, report: NpsReport, listed: CommentPage) -> NpsReportOut:
    return NpsReportOut(
        filter=NpsFilterOut(
            flt.start,
            flt.end,
            flt.service_id,
            flt.manager_id,
            flt.member_id,
            flt.industry,
            flt.by.value,
            flt.category,
            flt.text,
            listed.page,
        ),
        overall=_group(report.overall),
        by_service=[_group(g) for g in report.breakdowns["service"]],
        by_account_manager=[_group(g) for g in report.breakdowns["manager"]],
        by_team_member=[_group(g) for g in report.breakdowns["member"]],
        by_industry=[_group(g) for g in report.breakdowns["industry"]],
        trend=[_group(g) for g in report.trend],
        comments=NpsCommentsOut(
            listed.total,
            listed.page,
            listed.pages,
            [
                NpsCommentOut(
                    c.survey_id,
                    c.contact_id,
                    c.contact,
                    c.company,
                    c.project,
                    c.service,
                    c.manager,
                    c.score,
                    c.category,
                    c.follow_up,
                    c.comment,
                    c.at,
                )
                for c in listed.items
            ],
        ),
    )


def _group(g: Group) -> NpsGroupOut:
    r = g.result
    rate = g.response_rate
    return NpsGroupOut(
        key=g.key,
        label=g.label,
        answers=r.answers,
        promoters=r.counts.promoters,
        passives=r.counts.passives,
        detractors=r.counts.detractors,
        nps=_points(r.score),
        ci95_low=_points(r.low),
        ci95_high=_points(r.high),
        interval_method=r.method or None,
        small_sample=bool(r.answers) and r.small,
        sent=g.sent,
        answered_of_sent=g.responded,
        response_rate=None if rate is None else round(rate, 4),
    )


def _points(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
