"""Reading sequences for the API and pages: a page of sequences, counts per state, versions
with the people still on them (and where), enrolment pages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.sequences.failures import failed_by_sequence
from campaigns.sequences.versions import get_sequence
from nurture.errors import InvalidInput
from nurture.models import (
    LIVE_ENROLMENT_STATES,
    AuditEntry,
    Enrolment,
    EnrolmentState,
    Sequence,
    SequenceVersion,
)
from nurture.validation import parse_id

MAX_PAGE = 500
STATES = tuple(state.value for state in EnrolmentState)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: SequenceVersion
    # Enrolments still walking this version (active or paused).
    live: int


def state_counts(
    session: Session, sequence_ids: list[int] | None = None
) -> dict[int, dict[str, int]]:
    """Sequence id -> enrolments per state (every state present, zeros included)."""
    query = select(Enrolment.sequence_id, Enrolment.state, func.count()).group_by(
        Enrolment.sequence_id, Enrolment.state
    )
    if sequence_ids is not None:
        query = query.where(Enrolment.sequence_id.in_(sequence_ids))
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATES, 0))
    for sequence_id, state, number in session.execute(query):
        counts[sequence_id][state] = int(number)
    return counts


def failed_counts(session: Session, sequence_ids: list[int]) -> dict[int, int]:
    """Sequence id -> failures, counted as the step table counts them (see failures.py):
    a person whose e-mail failed counts even though their enrolment went on."""
    return failed_by_sequence(session, sequence_ids)


@dataclass(frozen=True, slots=True)
class ListedSequence:
    sequence: Sequence
    # The current version's number (0 only if a sequence somehow has none).
    version: int


def sequence_page(session: Session, *, offset: int, limit: int) -> tuple[list[ListedSequence], int]:
    """Sequences, most recently changed first, with their current version number; and how
    many sequences there are in all."""
    total = int(session.scalar(select(func.count()).select_from(Sequence)) or 0)
    rows = session.execute(
        select(Sequence, SequenceVersion.number)
        .join(SequenceVersion, SequenceVersion.id == Sequence.current_version_id, isouter=True)
        .order_by(Sequence.updated_at.desc(), Sequence.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [ListedSequence(sequence, number or 0) for sequence, number in rows], total


def all_sequences(session: Session) -> list[tuple[Sequence, dict[str, int]]]:
    """Every sequence by id, with its enrolments per state."""
    sequences = list(session.scalars(select(Sequence).order_by(Sequence.id)))
    counts = state_counts(session)
    return [(s, counts[s.id]) for s in sequences]


def versions_of(session: Session, sequence_id: int) -> list[VersionInfo]:
    """The sequence's versions, newest first, with how many people are still on each."""
    live: dict[int, int] = {
        version_id: int(number)
        for version_id, number in session.execute(
            select(Enrolment.version_id, func.count())
            .where(Enrolment.sequence_id == sequence_id, Enrolment.state.in_(LIVE_ENROLMENT_STATES))
            .group_by(Enrolment.version_id)
        )
    }
    rows = session.scalars(
        select(SequenceVersion)
        .where(SequenceVersion.sequence_id == sequence_id)
        .order_by(SequenceVersion.number.desc())
    )
    return [VersionInfo(v, int(live.get(v.id, 0))) for v in rows]


# Audit actions that write a version: creating the sequence writes version 1; the others
# name the version they wrote.
_VERSION_WRITES = ("sequence.created", "sequence.published", "sequence.draft_edited")


def version_authors(session: Session, sequence_id: int) -> dict[int, str]:
    """Version number -> the actor (audit style, "user:2") who last wrote it, read from
    the audit log; versions it has no record of are left out."""
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.actor, AuditEntry.changes)
        .where(
            AuditEntry.entity_type == "sequence",
            AuditEntry.entity_id == str(sequence_id),
            AuditEntry.action.in_(_VERSION_WRITES),
        )
        .order_by(AuditEntry.id)
    )
    authors: dict[int, str] = {}
    for action, actor, changes in rows:
        number = 1 if action == "sequence.created" else (changes or {}).get("version")
        if isinstance(number, int):
            authors[number] = actor
    return authors


def live_by_step(session: Session, *, sequence_id: int, version_id: int) -> dict[str, int]:
    """Step key -> live (active or paused) enrolments of the sequence at that step of the
    version; steps nobody is at are left out."""
    rows = session.execute(
        select(Enrolment.step_key, func.count())
        .where(
            Enrolment.sequence_id == sequence_id,
            Enrolment.version_id == version_id,
            Enrolment.state.in_(LIVE_ENROLMENT_STATES),
            Enrolment.step_key.is_not(None),
        )
        .group_by(Enrolment.step_key)
    )
    return {str(step_key): int(number) for step_key, number in rows}


def enrolment_page(
    session: Session,
    sequence_id: int,
    *,
    state: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Enrolment], str | None]:
    """A page of the sequence's enrolments by id, optionally in one state; answers the
    items and the cursor of the next page (None: no more)."""
    get_sequence(session, sequence_id)
    if state is not None and state not in STATES:
        raise InvalidInput.single("state", f"must be one of {', '.join(STATES)}")
    after = None if cursor is None else parse_id(cursor)
    if cursor is not None and after is None:
        raise InvalidInput.single("cursor", "is not a cursor this API gave out")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput.single("limit", f"must be from 1 to {MAX_PAGE}")
    query = select(Enrolment).where(Enrolment.sequence_id == sequence_id)
    if state is not None:
        query = query.where(Enrolment.state == state)
    if after is not None:
        query = query.where(Enrolment.id > after)
    items = list(session.scalars(query.order_by(Enrolment.id).limit(limit)))
    return items, str(items[-1].id) if len(items) == limit else None
