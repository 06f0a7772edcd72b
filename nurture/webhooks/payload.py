"""The JSON body of a delivery, built from its event when it is sent.

Built at send time rather than stored: the delivery table holds no copy of personal
data, so erasing a contact (which empties its e-mail and event properties) reaches
the webhooks that have not gone out yet. The contact part holds only who the person
is (id, e-mail, name), not fields that move every minute such as the score: the
event's own properties say what happened, and every retry and replay of a message
carries the same body unless the person was renamed or erased in between.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.errors import NotFound
from nurture.models import Contact, Event


def body_for_event(session: Session, event_id: int) -> bytes:
    """`{"type", "timestamp", "data": {event_id, contact, properties}}` as UTF-8 JSON."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound("event", event_id)
    contact = session.get(Contact, event.contact_id)
    document = {
        "type": event.type,
        "timestamp": _iso(event.occurred_at),
        "data": {
            "event_id": event.id,
            "contact": _contact(contact, event.contact_id),
            "properties": event.properties or {},
        },
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _contact(contact: Contact | None, contact_id: int) -> dict[str, Any]:
    if contact is None:
        return {"id": contact_id}
    return {
        "id": contact.id,
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
