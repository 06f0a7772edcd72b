"""What a report looks at: a period of UTC days and the contacts it is narrowed to.

Query strings from the page and the API are read here, once, so both answer the
same bad input with the same problem naming the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, exists, select, true
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput, Problem
from nurture.models import Contact, Enrolment, Segment, SegmentMember, Sequence
from nurture.validation import NUL_MESSAGE, holds_nul, parse_id

# The query parameters every report reads; anything else is ignored.
PARAMETERS = ("from", "to", "source", "segment", "sequence")
MAX_SOURCE = 200
MAX_SOURCES = 100


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """A period `start`..`end` (UTC days, both included; None: unbounded) and who counts."""

    start: date | None = None
    end: date | None = None
    source: str | None = None
    segment_id: int | None = None
    sequence_id: int | None = None

    @property
    def since(self) -> datetime | None:
        """The first instant of the period."""
        return None if self.start is None else datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime | None:
        """The first instant after the period (its last day is included)."""
        if self.end is None:
            return None
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    def query(self) -> dict[str, str]:
        """The query parameters that select this filter again (for links and downloads)."""
        values = {
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
            "source": self.source or "",
            "segment": str(self.segment_id) if self.segment_id else "",
            "sequence": str(self.sequence_id) if self.sequence_id else "",
        }
        return {key: value for key, value in values.items() if value}


def parse_filter(session: Session, raw: Mapping[str, str | None]) -> ReportFilter:
    """The filter the query parameters ask for; InvalidInput names every bad parameter.

    A segment or sequence that does not exist is bad input, not an empty report: a
    typo in a bookmarked link should say so rather than show zeros.
    """
    problems: list[Problem] = []
    start, end = read_period(raw, problems)
    source = (raw.get("source") or "").strip() or None
    if source is not None and len(source) > MAX_SOURCE:
        problems.append(Problem("source", f"must be at most {MAX_SOURCE} characters"))
    elif source is not None and holds_nul(source):
        problems.append(Problem("source", NUL_MESSAGE))
    segment_id = read_id(raw.get("segment"), "segment", problems)
    sequence_id = read_id(raw.get("sequence"), "sequence", problems)
    if segment_id is not None and session.get(Segment, segment_id) is None:
        problems.append(Problem("segment", f"no segment with id {segment_id}"))
    if sequence_id is not None and session.get(Sequence, sequence_id) is None:
        problems.append(Problem("sequence", f"no sequence with id {sequence_id}"))
    if problems:
        raise InvalidInput(problems)
    return ReportFilter(start, end, source, segment_id, sequence_id)


def contact_matches(flt: ReportFilter, contact_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """True for the contacts the filter keeps (by source, segment membership, enrolment)."""
    conditions: list[ColumnElement[bool]] = []
    if flt.source is not None:
        conditions.append(
            exists().where(
                Contact.id == contact_id,
                Contact.attributes["source"].as_string() == flt.source,
            )
        )
    if flt.segment_id is not None:
        conditions.append(
            exists().where(
                SegmentMember.segment_id == flt.segment_id,
                SegmentMember.contact_id == contact_id,
            )
        )
    if flt.sequence_id is not None:
        conditions.append(
            exists().where(
                Enrolment.sequence_id == flt.sequence_id, Enrolment.contact_id == contact_id
            )
        )
    return and_(*conditions) if conditions else true()


def known_sources(session: Session) -> list[str]:
    """The `source` attribute values contacts carry, for the filter's choices."""
    source = Contact.attributes["source"].as_string()
    rows = session.scalars(
        select(source)
        .where(source.is_not(None))
        .group_by(source)
        .order_by(source)
        .limit(MAX_SOURCES)
    )
    return [str(value) for value in rows if str(value).strip()]


def read_period(
    raw: Mapping[str, str | None], problems: list[Problem]
) -> tuple[date | None, date | None]:
    """The `from` and `to` days of a report's query (each optional), adding a problem
    for each bad one and for `to` before `from`; every report reads its period here."""
    start = _date(raw.get("from"), "from", problems)
    end = _date(raw.get("to"), "to", problems)
    if start is not None and end is not None and start > end:
        problems.append(Problem("to", "must not be before `from`"))
    return start, end


def _date(value: str | None, name: str, problems: list[Problem]) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        parsed = None
    # fromisoformat also takes "20260105" and week dates; a report link spells days out.
    if parsed is None or len(text) != len("2026-01-31"):
        problems.append(Problem(name, "must be a valid date written YYYY-MM-DD"))
        return None
    return parsed


def read_id(value: str | None, name: str, problems: list[Problem]) -> int | None:
    """An optional id parameter; a problem naming it when it is not an id."""
    text = (value or "").strip()
    if not text:
        return None
    found = parse_id(text)
    if found is None:
        problems.append(Problem(name, "must be a positive whole number (an id)"))
    return found


@dataclass(frozen=True, slots=True)
class FilterChoices:
    """What the filter form offers: known sources, segments and sequences (id, name)."""

    sources: list[str]
    segments: list[tuple[int, str]]
    sequences: list[tuple[int, str]]


def filter_choices(session: Session) -> FilterChoices:
    segments = session.execute(select(Segment.id, Segment.name).order_by(Segment.name))
    sequences = session.execute(
        select(Sequence.id, Sequence.name).order_by(Sequence.name, Sequence.id)
    )
    return FilterChoices(
        known_sources(session),
        [(int(i), str(n)) for i, n in segments],
        [(int(i), str(n)) for i, n in sequences],
    )
