"""The names behind the ids in event properties ("segment_id": 4 -> the segment "Lawyers
in Berlin", linking to its page), read in one query per kind of object for a whole page of
events, so the timeline speaks of things a marketer knows instead of numbers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeGuard

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from nurture.models import (
    Broadcast,
    Company,
    EmailMessage,
    EmailTemplate,
    Event,
    Experiment,
    Segment,
    Sequence,
    User,
)
from nurture.web.ui.formatting import humanise


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of object an event property may name: its word, where its name is kept
    and its page (None: it has no page of its own)."""

    word: str
    id_column: InstrumentedAttribute[int]
    name_column: InstrumentedAttribute[Any]
    href: str | None
    # Shown when the object exists without a name (a message stopped before it was built).
    unnamed: str = "(no name)"


_TEMPLATE = Kind("Template", EmailTemplate.id, EmailTemplate.name, "/content/{}")
_SEQUENCE = Kind("Sequence", Sequence.id, Sequence.name, "/sequences/{}")
_USER = Kind("", User.id, User.name, None)
# Property key -> the kind of object it names. Keys not here are shown as they are.
KINDS: dict[str, Kind] = {
    "segment_id": Kind("Segment", Segment.id, Segment.name, "/segments/{}"),
    "template_id": _TEMPLATE,
    "thank_template_id": _TEMPLATE,
    "sequence_id": _SEQUENCE,
    "referral_sequence_id": _SEQUENCE,
    "recycle_sequence_id": _SEQUENCE,
    "experiment_id": Kind("Experiment", Experiment.id, Experiment.name, "/experiments/{}"),
    "broadcast_id": Kind("Broadcast", Broadcast.id, Broadcast.name, "/broadcasts/{}"),
    "message_id": Kind(
        "Message", EmailMessage.id, EmailMessage.subject, "/outbox/messages/{}", "the e-mail"
    ),
    "company_id": Kind("Company", Company.id, Company.name, None),
    "owner_id": _USER,
    "account_manager_id": _USER,
    "assignee_id": _USER,
    "escalated_to_id": _USER,
}
GONE = "(deleted)"


@dataclass(frozen=True, slots=True)
class Named:
    label: str
    name: str
    href: str | None


class ObjectNames:
    """Names of the objects a page of events mentions, looked up once."""

    def __init__(self, found: dict[tuple[str, int], str]) -> None:
        # (model, id) -> name; "" for an object that exists without a name yet.
        self._found = found

    def name(self, key: str, value: object) -> Named | None:
        """The named object behind property `key` = `value`, or None when `key` names no
        object (or `value` is not an id)."""
        kind = KINDS.get(key)
        if kind is None or not _is_id(value):
            return None
        label = kind.word or humanise(key.removesuffix("_id"))
        name = self._found.get((_model(kind), value))
        if name is None:
            return Named(label, GONE, None)
        href = kind.href.format(value) if kind.href else None
        return Named(label, name or kind.unnamed, href)


NONE = ObjectNames({})


def _model(kind: Kind) -> str:
    return kind.id_column.class_.__name__


def _is_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def object_names(session: Session, events: Iterable[Event]) -> ObjectNames:
    """Look up every object the events' properties name (one query per kind)."""
    wanted: dict[str, tuple[Kind, set[int]]] = {}
    for event in events:
        for key, value in (event.properties or {}).items():
            kind = KINDS.get(key)
            if kind is not None and _is_id(value):
                wanted.setdefault(_model(kind), (kind, set()))[1].add(value)
    found: dict[tuple[str, int], str] = {}
    for model, (kind, ids) in wanted.items():
        rows = session.execute(
            select(kind.id_column, kind.name_column).where(kind.id_column.in_(ids))
        )
        found.update(((model, int(object_id)), str(name or "")) for object_id, name in rows)
    return ObjectNames(found)
