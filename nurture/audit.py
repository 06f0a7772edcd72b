"""Recording who changed what."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from nurture.models import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the session; it commits with the change it describes."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        changes=changes or {},
    )
    session.add(entry)
    return entry
