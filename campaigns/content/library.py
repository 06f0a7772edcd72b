"""Create, read, update and delete library items of any kind, validated and audited.

Functions take a `Kind` (see kinds.py) and plain values, flush but never
commit: the caller's transaction decides, so a refused change stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from campaigns.content.kinds import Kind, M
from nurture.audit import record
from nurture.errors import Conflict, InvalidInput, NotFound
from nurture.models import Service, Webinar

MAX_PAGE = 200


def get(session: Session, kind: Kind[M], item_id: int) -> M:
    """The item with this id, or NotFound."""
    item = session.get(kind.model, item_id)
    if item is None:
        raise NotFound(kind.name, item_id)
    return item


def page(session: Session, kind: Kind[M], *, after: int | None = None, limit: int = 50) -> list[M]:
    """Up to `limit` items with ids above `after`, by id (a stable cursor for the API)."""
    query = select(kind.model).order_by(kind.model.id).limit(max(1, min(limit, MAX_PAGE)))
    if after is not None:
        query = query.where(kind.model.id > after)
    return list(session.scalars(query))


def listing(session: Session, kind: Kind[M], *, limit: int = 500) -> list[M]:
    """Items in the order people read them (webinars by start, stories newest first)."""
    return list(session.scalars(select(kind.model).order_by(*kind.order).limit(limit)))


def create(session: Session, kind: Kind[M], *, actor: str, data: Mapping[str, Any]) -> M:
    """Validate `data` and add a new item; InvalidInput names each bad field,
    Conflict says which unique value is taken."""
    values = kind.clean(data, partial=False)
    _check_references(session, values)
    _check_unique(session, kind, values, None)
    item = kind.model(**{k: v for k, v in values.items() if v is not None})
    session.add(item)
    session.flush()
    record(
        session,
        actor=actor,
        action=f"{_slug(kind)}.created",
        entity_type=_slug(kind),
        entity_id=item.id,
        changes=_jsonable(values),
    )
    return item


def update(
    session: Session, kind: Kind[M], item_id: int, *, actor: str, data: Mapping[str, Any]
) -> M:
    """Change the fields present in `data` (null clears an optional one); others keep
    their value. The audit entry lists each changed field's old and new value."""
    item = get(session, kind, item_id)
    values = kind.clean(data, partial=True)
    _check_references(session, values)
    _check_capacity(item, values)
    merged = {name: getattr(item, name) for name in _unique_columns(kind)} | values
    _check_unique(session, kind, merged, item_id)
    changed: dict[str, Any] = {}
    for name, value in values.items():
        if value is None and _has_default(kind, name):
            continue
        before = getattr(item, name)
        if before != value:
            changed[name] = {"from": before, "to": value}
            setattr(item, name, value)
    if changed:
        session.flush()
        # Reload, so relationships (a case study's service) follow changed foreign keys.
        session.refresh(item)
        record(
            session,
            actor=actor,
            action=f"{_slug(kind)}.updated",
            entity_type=_slug(kind),
            entity_id=item.id,
            changes=_jsonable(changed),
        )
    return item


def delete(session: Session, kind: Kind[M], item_id: int, *, actor: str) -> None:
    """Remove the item (case studies of a deleted service keep their story, without it)."""
    item = get(session, kind, item_id)
    session.delete(item)
    session.flush()
    record(
        session,
        actor=actor,
        action=f"{_slug(kind)}.deleted",
        entity_type=_slug(kind),
        entity_id=item_id,
    )


def _slug(kind: Kind[Any]) -> str:
    return kind.name.replace(" ", "_")


def _has_default(kind: Kind[Any], name: str) -> bool:
    # A cleared field with a column default (a duration, a publication time) keeps its value.
    column = kind.model.__table__.columns[name]
    return column.default is not None or not column.nullable


def _unique_columns(kind: Kind[Any]) -> set[str]:
    return {name for group in kind.unique for name in group}


def _check_references(session: Session, values: Mapping[str, Any]) -> None:
    service_id = values.get("service_id")
    if service_id is not None and session.get(Service, service_id) is None:
        raise InvalidInput.single("service_id", f"no service with id {service_id}")


def _check_capacity(item: object, values: Mapping[str, Any]) -> None:
    # Seats already given away stay given: a webinar cannot shrink below them.
    capacity = values.get("capacity")
    if isinstance(item, Webinar) and capacity is not None and capacity < item.seats_taken:
        raise InvalidInput.single(
            "capacity", f"{item.seats_taken} seats are already taken; it cannot be lower"
        )


def _check_unique(
    session: Session, kind: Kind[Any], values: Mapping[str, Any], item_id: int | None
) -> None:
    for group in kind.unique:
        if any(values.get(name) is None for name in group):
            continue
        model = kind.model
        query = select(model.id).where(and_(*(getattr(model, n) == values[n] for n in group)))
        if item_id is not None:
            query = query.where(model.id != item_id)
        if session.scalar(query.limit(1)) is not None:
            shown = ", ".join(f"{n} {values[n]!s}" for n in group)
            raise Conflict(f"a {kind.name} with {shown} already exists")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
