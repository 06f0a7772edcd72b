"""What the reports API answers (documented in /schema), built from the report dataclasses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import msgspec

from nurture.reports.content import ContentReport
from nurture.reports.filters import ReportFilter
from nurture.reports.funnel import Funnel
from nurture.reports.movement import Movement
from nurture.reports.sequences import SequenceFigures


class FilterOut(msgspec.Struct):
    """The period (UTC days, both included; null: unbounded) and the contacts counted."""

    start: date | None
    end: date | None
    source: str | None
    segment_id: int | None
    sequence_id: int | None


class StageOut(msgspec.Struct):
    stage: str
    reached: int
    went_on: int
    conversion: float | None
    median_days_in_stage: float | None
    stays_measured: int


class FunnelOut(msgspec.Struct):
    filter: FilterOut
    stages: list[StageOut]


class BucketOut(msgspec.Struct):
    start: date
    moves: dict[str, int]
    total: int


class LifecycleOut(msgspec.Struct):
    filter: FilterOut
    interval: str
    stages: list[str]
    buckets: list[BucketOut]
    total: int


class SequenceReportOut(msgspec.Struct):
    id: int
    name: str
    status: str
    enrolled: int
    delivered: int
    opened: int
    clicked: int
    replied: int
    qualified: int
    open_rate: float | None
    click_rate: float | None
    reply_rate: float | None
    qualified_rate: float | None


class SequencesOut(msgspec.Struct):
    filter: FilterOut
    sequences: list[SequenceReportOut]


class ContentItemOut(msgspec.Struct):
    kind: str
    id: int
    title: str
    qualified_leads: int
    reads: int
    share_of_qualified_leads: float | None


class ContentOut(msgspec.Struct):
    filter: FilterOut
    qualified_leads: int
    items: list[ContentItemOut]


def filter_out(flt: ReportFilter) -> FilterOut:
    return FilterOut(flt.start, flt.end, flt.source, flt.segment_id, flt.sequence_id)


def funnel_out(flt: ReportFilter, report: Funnel) -> FunnelOut:
    return FunnelOut(
        filter_out(flt),
        [
            StageOut(s.stage, s.reached, s.went_on, s.conversion, s.median_days, s.stays)
            for s in report.stages
        ],
    )


def lifecycle_out(flt: ReportFilter, report: Movement) -> LifecycleOut:
    return LifecycleOut(
        filter_out(flt),
        report.interval.value,
        list(report.stages),
        [BucketOut(b.start, dict(b.moves), b.total) for b in report.buckets],
        report.total,
    )


def sequences_out(flt: ReportFilter, rows: Sequence[SequenceFigures]) -> SequencesOut:
    return SequencesOut(
        filter_out(flt),
        [
            SequenceReportOut(
                r.sequence_id,
                r.name,
                r.status,
                r.enrolled,
                r.delivered,
                r.opened,
                r.clicked,
                r.replied,
                r.qualified,
                r.open_rate,
                r.click_rate,
                r.reply_rate,
                r.qualified_rate,
            )
            for r in rows
        ],
    )


def content_out(flt: ReportFilter, report: ContentReport) -> ContentOut:
    return ContentOut(
        filter_out(flt),
        report.qualified,
        [
            ContentItemOut(i.kind, i.item_id, i.title, i.leads, i.reads, report.share(i))
            for i in report.items
        ],
    )
