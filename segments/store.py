"""Segments as stored things: create, change, duplicate, delete, read, preview, history.

The web layer calls these; they validate rules (with references and cycles),
keep `revision` counting rule edits, and mark a changed dynamic segment due
for refresh at once (the periodic worker picks it up on its next tick).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.errors import Conflict, InvalidInput, NotFound, Problem
from nurture.models import Contact, Segment, SegmentKind, SegmentSizeHistory, utcnow
from segments.compiler import matching_contacts
from segments.sqlfuncs import prepare_connection
from segments.validation import dependency_graph, validate_rule

MAX_NAME = 200
MAX_DESCRIPTION = 2000


@dataclass(frozen=True, slots=True)
class Preview:
    count: int
    contacts: list[Contact]


def create_segment(
    session: Session,
    *,
    name: str,
    kind: str = SegmentKind.DYNAMIC.value,
    rule: object = None,
    description: str | None = None,
    user_id: int | None = None,
) -> Segment:
    """A new dynamic segment (with a rule) or static list (without); due for refresh now."""
    problems = _check_name(name) + _check_description(description)
    if kind not in (k.value for k in SegmentKind):
        problems.append(Problem("kind", "must be dynamic or static"))
    elif kind == SegmentKind.STATIC.value and rule is not None:
        problems.append(Problem("rule", "a static list has no rule"))
    elif kind == SegmentKind.DYNAMIC.value and rule is None:
        problems.append(Problem("rule", "is required for a dynamic segment"))
    if problems:
        raise InvalidInput(problems)
    if rule is not None:
        validate_rule(session, rule)
    segment = Segment(
        name=name.strip(),
        kind=kind,
        rule=rule,
        description=description,
        created_by_id=user_id,
        updated_by_id=user_id,
        next_refresh_at=utcnow() if kind == SegmentKind.DYNAMIC.value else None,
    )
    session.add(segment)
    _flush_unique_name(session, segment)
    return segment


def update_segment(
    session: Session,
    segment_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    rule: object = None,
    user_id: int | None = None,
) -> Segment:
    """Change the given parts; a new rule bumps `revision` and makes the segment due now."""
    segment = get_segment(session, segment_id)
    problems = (_check_name(name) if name is not None else []) + _check_description(description)
    if rule is not None and segment.kind == SegmentKind.STATIC.value:
        problems.append(Problem("rule", "a static list has no rule"))
    if problems:
        raise InvalidInput(problems)
    if rule is not None:
        validate_rule(session, rule, segment_id=segment_id)
        if rule != segment.rule:
            segment.rule = rule  # type: ignore[assignment]
            segment.revision += 1
            segment.next_refresh_at = utcnow()
    if name is not None:
        segment.name = name.strip()
    if description is not None:
        segment.description = description or None
    segment.updated_by_id = user_id
    _flush_unique_name(session, segment)
    return segment


def duplicate_segment(
    session: Session, segment_id: int, *, name: str, user_id: int | None = None
) -> Segment:
    """A copy of the segment's definition under a new name (a static list copies no members)."""
    original = get_segment(session, segment_id)
    return create_segment(
        session,
        name=name,
        kind=original.kind,
        rule=original.rule,
        description=original.description,
        user_id=user_id,
    )


def delete_segment(session: Session, segment_id: int) -> None:
    """Delete a segment and its members; refused while another segment's rule uses it."""
    segment = get_segment(session, segment_id)
    users = sorted(s for s, refs in dependency_graph(session).items() if segment_id in refs)
    if users:
        listed = ", ".join(str(s) for s in users)
        raise Conflict(f"segment {segment_id} is used by the rules of segments {listed}")
    session.delete(segment)
    session.flush()


def get_segment(session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("segment", segment_id)
    return segment


def list_segments(session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(Segment.name)))


def preview(
    session: Session, document: object, *, now: datetime | None = None, limit: int = 20
) -> Preview:
    """Count and the first `limit` contacts (by id) matching an unsaved rule."""
    rule = validate_rule(session, document)
    prepare_connection(session)
    ids = matching_contacts(rule, now=now or utcnow()).subquery()
    count = session.scalar(select(func.count()).select_from(ids)) or 0
    sample = session.scalars(
        select(Contact).where(Contact.id.in_(select(ids.c.id))).order_by(Contact.id).limit(limit)
    )
    return Preview(count, list(sample))


def size_history(
    session: Session, segment_id: int, *, since: datetime | None = None
) -> list[tuple[datetime, int]]:
    """(time, size) after each full refresh, oldest first."""
    stmt = select(SegmentSizeHistory.at, SegmentSizeHistory.size).where(
        SegmentSizeHistory.segment_id == segment_id
    )
    if since is not None:
        stmt = stmt.where(SegmentSizeHistory.at >= since)
    return [(at, size) for at, size in session.execute(stmt.order_by(SegmentSizeHistory.at))]


def _check_name(name: Any) -> list[Problem]:
    if not isinstance(name, str) or not name.strip():
        return [Problem("name", "is required")]
    if len(name.strip()) > MAX_NAME:
        return [Problem("name", f"must be at most {MAX_NAME} characters")]
    return []


def _check_description(description: Any) -> list[Problem]:
    if description is not None and (
        not isinstance(description, str) or len(description) > MAX_DESCRIPTION
    ):
        return [Problem("description", f"must be text of at most {MAX_DESCRIPTION} characters")]
    return []


def _flush_unique_name(session: Session, segment: Segment) -> None:
    # Checked first for a clear message; the unique index still guards against races.
    same_name = select(Segment.id).where(Segment.name == segment.name)
    if segment.id is not None:
        same_name = same_name.where(Segment.id != segment.id)
    with session.no_autoflush:
        taken = session.scalar(same_name)
    if taken is not None:
        if segment in session.new:
            session.expunge(segment)
        raise InvalidInput.single("name", f"a segment named {segment.name!r} exists")
    session.flush()
