"""The audit entry of an enrolment made by hand (pasted addresses, a CSV, a segment).

Besides who acted, it keeps counts by reason and the first people by contact id, so
the sequence page can show what happened after the form's redirect, and again on a
reload, from the record itself. Addresses are not copied into it: a contact is kept by
id (an erased contact then shows without its address); only what was typed and matched
no contact is kept as typed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from campaigns.sequences.enrol_lists import ListEnrolment
from nurture import audit
from nurture.models import AuditEntry

ACTION = "sequence.enrolled"
ENROLLED = "enrolled"
# People named in the record: enough for a pasted list, not a copy of a segment.
MAX_PEOPLE = 100


def reason_code(reason: str) -> str:
    """ "invalid_email: no @" -> "invalid_email"; "duplicate of line 4" -> "duplicate"."""
    code = reason.partition(":")[0]
    return "duplicate" if code.startswith("duplicate") else code


@dataclass(frozen=True, slots=True)
class Person:
    """One person of the record: `reason` is ENROLLED or why they were skipped."""

    reason: str
    contact_id: int | None = None
    typed: str | None = None


@dataclass(slots=True)
class Tally:
    """What an enrolment did so far; a segment's batches add to one tally."""

    enrolled: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    people: list[Person] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return sum(self.reasons.values())

    def add(self, enrolled: Iterable[int], skipped: Iterable[Person]) -> None:
        for cid in enrolled:
            self.enrolled += 1
            self._name(Person(ENROLLED, contact_id=cid))
        for person in skipped:
            self.reasons[reason_code(person.reason)] += 1
            self._name(person)

    def add_list(self, result: ListEnrolment) -> None:
        """A list enrolment: a skipped contact is kept by id, anything else as typed."""
        self.add(
            result.enrolled,
            (
                Person(s.reason, contact_id=s.contact_id)
                if s.contact_id is not None
                else Person(s.reason, typed=s.email)
                for s in result.skipped
            ),
        )

    def _name(self, person: Person) -> None:
        if len(self.people) < MAX_PEOPLE:
            self.people.append(person)


@dataclass(frozen=True, slots=True)
class EnrolmentRecord:
    entry_id: int
    at: datetime
    source: str
    segment: str | None
    enrolled: int
    skipped: int
    reasons: dict[str, int]
    people: list[Person]


def record(
    session: Session,
    *,
    actor: str,
    sequence_id: int,
    source: str,
    tally: Tally,
    segment: tuple[int, str] | None = None,
) -> AuditEntry:
    """Add the entry to the session (flushed, so it has its id); the caller commits."""
    changes: dict[str, Any] = {"source": source}
    if segment is not None:
        changes["segment_id"], changes["segment"] = segment
    entry = audit.record(
        session,
        actor=actor,
        action=ACTION,
        entity_type="sequence",
        entity_id=sequence_id,
        changes=_with_tally(changes, tally),
    )
    session.flush()
    return entry


def update(entry: AuditEntry, tally: Tally) -> None:
    """Bring the entry up to the tally (a new dict: JSON columns track assignment only)."""
    entry.changes = _with_tally(dict(entry.changes), tally)


def read(session: Session, sequence_id: int, entry_id: int) -> EnrolmentRecord | None:
    """The enrolment record `entry_id` of this sequence; None when it is anything else."""
    entry = session.get(AuditEntry, entry_id)
    if (
        entry is None
        or entry.action != ACTION
        or entry.entity_type != "sequence"
        or entry.entity_id != str(sequence_id)
    ):
        return None
    changes = entry.changes or {}
    reasons = changes.get("reasons")
    people = changes.get("people")
    return EnrolmentRecord(
        entry_id=entry.id,
        at=entry.at,
        source=str(changes.get("source", "")),
        segment=changes.get("segment"),
        enrolled=int(changes.get("enrolled", 0)),
        skipped=int(changes.get("skipped", 0)),
        reasons={str(k): int(v) for k, v in reasons.items()} if isinstance(reasons, dict) else {},
        people=[
            Person(str(p.get("reason", "")), p.get("contact_id"), p.get("typed"))
            for p in people
            if isinstance(p, dict)
        ]
        if isinstance(people, list)
        else [],
    )


def _with_tally(changes: dict[str, Any], tally: Tally) -> dict[str, Any]:
    return {
        **changes,
        "enrolled": tally.enrolled,
        "skipped": tally.skipped,
        "reasons": dict(sorted(tally.reasons.items())),
        "people": [
            {
                key: value
                for key, value in (
                    ("reason", p.reason),
                    ("contact_id", p.contact_id),
                    ("typed", p.typed),
                )
                if value is not None
            }
            for p in tally.people
        ],
    }
