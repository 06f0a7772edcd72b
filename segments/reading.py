"""Reading who is in a segment: sizes, pages of members, and every member for export."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from nurture.errors import InvalidInput
from nurture.models import Contact, SegmentMember
from segments.store import get_segment

MAX_PAGE = 200
EXPORT_BATCH = 1000
_BAD_CURSOR = "is not a cursor this listing gave out"


@dataclass(frozen=True, slots=True)
class MemberPage:
    items: list[Contact]
    next_cursor: str | None


def sizes(session: Session) -> dict[int, int]:
    """Segment id -> number of members, for every segment that has any."""
    stmt = select(SegmentMember.segment_id, func.count()).group_by(SegmentMember.segment_id)
    return {segment_id: count for segment_id, count in session.execute(stmt)}


def size(session: Session, segment_id: int) -> int:
    stmt = select(func.count()).where(SegmentMember.segment_id == segment_id)
    return session.scalar(stmt) or 0


def member_page(
    session: Session, segment_id: int, *, cursor: str | None = None, limit: int = 50
) -> MemberPage:
    """Live members by contact id, `limit` at a time; pass `next_cursor` back for more."""
    get_segment(session, segment_id)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput.single("limit", f"must be between 1 and {MAX_PAGE}")
    stmt = _members(segment_id).options(joinedload(Contact.company))
    if cursor is not None:
        stmt = stmt.where(Contact.id > _decode(cursor))
    rows = list(session.scalars(stmt.order_by(Contact.id).limit(limit + 1)).unique())
    next_cursor = _encode(rows[limit - 1].id) if len(rows) > limit else None
    return MemberPage(rows[:limit], next_cursor)


def all_members(session: Session, segment_id: int) -> Iterator[list[Contact]]:
    """Every live member in batches, by contact id (keyset pages: memory stays flat)."""
    get_segment(session, segment_id)
    last = 0
    while True:
        stmt = (
            _members(segment_id)
            .options(joinedload(Contact.company))
            .where(Contact.id > last)
            .order_by(Contact.id)
            .limit(EXPORT_BATCH)
        )
        batch = list(session.scalars(stmt).unique())
        if not batch:
            return
        yield batch
        last = batch[-1].id
        session.expunge_all()


def _members(segment_id: int) -> Select[Contact]:
    return (
        select(Contact)
        .join(SegmentMember, SegmentMember.contact_id == Contact.id)
        .where(SegmentMember.segment_id == segment_id, Contact.erased_at.is_(None))
    )


def _encode(contact_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": contact_id}).encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidInput.single("cursor", _BAD_CURSOR) from None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise InvalidInput.single("cursor", _BAD_CURSOR)
    return value
