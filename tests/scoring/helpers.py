"""Building scoring test data: rules through the domain API, events stored as ingest does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.events import EventInput, store_known
from nurture.models import BehaviourRule, FitRule
from nurture.scoring import store


def behaviour_rule(db: Session, **fields: Any) -> BehaviourRule:
    document: dict[str, Any] = {"name": f"rule {fields.get('event_type', 'x')}", "points": 10}
    document.update(fields)
    return store.create_behaviour_rule(db, document, actor="test")


def fit_rule(db: Session, condition: dict[str, Any], points: int, **fields: Any) -> FitRule:
    document: dict[str, Any] = {"name": "fit", "condition": condition, "points": points}
    document.update(fields)
    return store.create_fit_rule(db, document, actor="test")


def add_events(
    db: Session, contact_id: int, kind: str, *times: datetime, **properties: Any
) -> list[int]:
    """One event of `kind` per time, with the same properties; their ids."""
    items = [EventInput(kind, when, dict(properties), None, contact_id) for when in times]
    ids = store_known(db, items, source="test")
    db.flush()
    return ids
