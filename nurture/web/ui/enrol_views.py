"""The sequence page's enrolment box in words: a segment's preview (who would enter, who
would be skipped and why) and the report of an enrolment, read back from its record.
No session here: the reads live in campaigns/sequences."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from campaigns.sequences.enrol_record import ENROLLED, EnrolmentRecord, reason_code
from campaigns.sequences.enrol_segment import SegmentPreview
from nurture.web.ui.formatting import number
from nurture.web.ui.sequence_views import SKIP_REASONS

# "<how many>: <why>", for counts of people skipped for one reason.
COUNT_WORDS = {
    "missing": "no such contact",
    "erased": "erased",
    "suppressed": "unsubscribed or suppressed",
    "customer": "customers (this sequence leaves customers out)",
    "enrolled": "already in this sequence",
    "enrolled_before": "were in this sequence before (it does not take people twice)",
    "same_goal": "already in another live sequence with the same goal",
    "unknown_email": "no contact has the address",
    "invalid_email": "not an e-mail address",
    "duplicate": "repeated lines",
    "unreadable": "unreadable lines",
}
# The order reasons are listed in: the ones a marketer expects first.
_ORDER = list(COUNT_WORDS)


@dataclass(frozen=True, slots=True)
class PreviewView:
    segment_id: int
    segment_name: str
    headline: str
    reasons: list[str]
    entering: int


@dataclass(frozen=True, slots=True)
class ReportView:
    headline: str
    reasons: list[str]
    enrolled: list[str]
    skipped: list[tuple[str, str]]
    ok: bool
    more: bool  # the record names only the first people


def reason_lines(counts: Mapping[str, int]) -> list[str]:
    """Like ["3: already in this sequence", "1: unsubscribed or suppressed"]."""
    codes = sorted(counts, key=lambda c: (_ORDER.index(c) if c in _ORDER else len(_ORDER), c))
    return [f"{number(counts[c])}: {COUNT_WORDS.get(c, c.replace('_', ' '))}" for c in codes]


def preview_view(preview: SegmentPreview) -> PreviewView:
    skipped = sum(preview.skipped.values())
    if not preview.members:
        headline = f"“{preview.segment_name}” has no members now: nobody would enter."
    else:
        headline = (
            f"Of {_people(preview.members)} in “{preview.segment_name}”, "
            f"{number(preview.entering)} will enter and {number(skipped)} will be skipped."
        )
    return PreviewView(
        preview.segment_id,
        preview.segment_name,
        headline,
        reason_lines(preview.skipped),
        preview.entering,
    )


def report_view(record: EnrolmentRecord, emails: Mapping[int, str | None]) -> ReportView:
    """The report of an enrolment; `emails` maps the record's contact ids to addresses."""
    source = f" from “{record.segment}”" if record.segment else ""
    headline = f"{number(record.enrolled)} enrolled{source}"
    if record.skipped:
        headline += f", {number(record.skipped)} skipped"
    enrolled: list[str] = []
    skipped: list[tuple[str, str]] = []
    for person in record.people:
        if person.contact_id is not None:
            who = emails.get(person.contact_id) or "a contact without an address"
        else:
            who = person.typed or "a line"
        if person.reason == ENROLLED:
            enrolled.append(who)
        else:
            code = reason_code(person.reason)
            skipped.append((who, SKIP_REASONS.get(code, f"skipped, {person.reason}")))
    return ReportView(
        headline=headline + ".",
        reasons=reason_lines(record.reasons),
        enrolled=enrolled,
        skipped=skipped,
        ok=record.enrolled > 0,
        more=len(record.people) < record.enrolled + record.skipped,
    )


def _people(n: int) -> str:
    return f"{number(n)} {'person' if n == 1 else 'people'}"
