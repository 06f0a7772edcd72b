"""Broadcasts a page at a time for the list page and the API, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput
from nurture.models import Broadcast
from nurture.validation import BAD_CURSOR, decode_cursor, encode_cursor, is_id

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Broadcast]
    next_cursor: str | None


def page(session: Session, *, cursor: str | None, limit: int, status: str | None = None) -> Page:
    """Up to `limit` broadcasts older than the cursor's (only those in `status` when
    given); InvalidInput names `cursor`."""
    query = select(Broadcast).order_by(Broadcast.id.desc()).limit(limit + 1)
    if status is not None:
        query = query.where(Broadcast.status == status)
    if cursor is not None:
        before = decode_cursor(cursor, "id")
        if not is_id(before):
            raise InvalidInput.single("cursor", BAD_CURSOR)
        query = query.where(Broadcast.id < before)
    items = list(session.scalars(query))
    more = len(items) > limit
    items = items[:limit]
    return Page(items, encode_cursor({"id": items[-1].id}) if more else None)


def list_size(broadcast: Broadcast) -> int | None:
    """How many contacts a list broadcast names (None for a segment's)."""
    if broadcast.contact_ids is None:
        return None
    ids = broadcast.contact_ids.get("ids", [])
    return len(ids) if isinstance(ids, list) else 0
