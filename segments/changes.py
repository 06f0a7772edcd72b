"""Segment edits made by a person or an API key: the store's functions plus an audit entry."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from nurture import audit
from nurture.models import Segment
from segments import store


def create(
    session: Session,
    *,
    actor: str,
    user_id: int | None,
    name: str,
    kind: str,
    rule: object,
    description: str | None,
) -> Segment:
    """Create a segment (see store.create_segment) and record who did it."""
    segment = store.create_segment(
        session, name=name, kind=kind, rule=rule, description=description, user_id=user_id
    )
    _record(session, actor, "segment.created", segment, _summary(segment))
    return segment


def update(
    session: Session,
    segment_id: int,
    *,
    actor: str,
    user_id: int | None,
    name: str | None = None,
    description: str | None = None,
    rule: object = None,
) -> Segment:
    """Change a segment (see store.update_segment) and record what changed."""
    before = _summary(store.get_segment(session, segment_id))
    segment = store.update_segment(
        session, segment_id, name=name, description=description, rule=rule, user_id=user_id
    )
    after = _summary(segment)
    changed = {k: {"from": before[k], "to": v} for k, v in after.items() if before[k] != v}
    if changed:
        _record(session, actor, "segment.updated", segment, changed)
    return segment


def duplicate(
    session: Session, segment_id: int, *, actor: str, user_id: int | None, name: str
) -> Segment:
    """Copy a segment's definition under a new name, recorded as a creation."""
    copy = store.duplicate_segment(session, segment_id, name=name, user_id=user_id)
    _record(session, actor, "segment.created", copy, {**_summary(copy), "copied_from": segment_id})
    return copy


def delete(session: Session, segment_id: int, *, actor: str) -> None:
    """Delete a segment (refused while another rule uses it) and record it."""
    name = store.get_segment(session, segment_id).name
    store.delete_segment(session, segment_id)
    audit.record(
        session,
        actor=actor,
        action="segment.deleted",
        entity_type="segment",
        entity_id=segment_id,
        changes={"name": name},
    )


def _summary(segment: Segment) -> dict[str, Any]:
    return {
        "name": segment.name,
        "kind": segment.kind,
        "description": segment.description,
        "rule": segment.rule,
    }


def _record(
    session: Session, actor: str, action: str, segment: Segment, changes: dict[str, Any]
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="segment",
        entity_id=segment.id,
        changes=changes,
    )
