"""Each report as a plain table (a header and rows of cells): what the CSV downloads hold.

Shares are fractions (0.25, not 25%) and days are decimal, so a spreadsheet can
compute with them; an empty cell means "no figure" (nobody to divide by).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nurture.reports.content import ContentReport
from nurture.reports.funnel import Funnel
from nurture.reports.movement import Movement
from nurture.reports.sequences import SequenceFigures

Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def funnel_table(report: Funnel) -> Table:
    return Table(
        ("stage", "reached", "went_on", "conversion", "median_days_in_stage", "stays_measured"),
        [
            (s.stage, s.reached, s.went_on, _share(s.conversion), _days(s.median_days), s.stays)
            for s in report.stages
        ],
    )


def movement_table(report: Movement) -> Table:
    return Table(
        (report.interval.value, *report.stages, "total"),
        [
            (b.start.isoformat(), *(b.moves.get(s, 0) for s in report.stages), b.total)
            for b in report.buckets
        ],
    )


def sequences_table(rows: Sequence[SequenceFigures]) -> Table:
    return Table(
        (
            "sequence_id",
            "sequence",
            "status",
            "enrolled",
            "delivered",
            "opened",
            "clicked",
            "replied",
            "qualified",
            "open_rate",
            "click_rate",
            "reply_rate",
            "qualified_rate",
        ),
        [
            (
                r.sequence_id,
                r.name,
                r.status,
                r.enrolled,
                r.delivered,
                r.opened,
                r.clicked,
                r.replied,
                r.qualified,
                _share(r.open_rate),
                _share(r.click_rate),
                _share(r.reply_rate),
                _share(r.qualified_rate),
            )
            for r in rows
        ],
    )


def content_table(report: ContentReport) -> Table:
    return Table(
        ("kind", "id", "title", "qualified_leads_reading", "reads", "share_of_qualified_leads"),
        [
            (i.kind, i.item_id, i.title, i.leads, i.reads, _share(report.share(i)))
            for i in report.items
        ],
    )


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
