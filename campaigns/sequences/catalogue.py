"""What a sequence's steps can name, read for the builder and the sequence page: e-mail
templates (with the starter each came from, so a review e-mail step can propose the one
made for its ask), segments, services, and recent contacts to preview an e-mail step as.

Plain values only; the pages put their own labels on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email.store import list_templates
from nurture.contacts import preview_contacts
from nurture.models import Segment, Service

PREVIEW_CONTACTS = 100


@dataclass(frozen=True, slots=True)
class Choice:
    """Something a step can name: its key (an id, or a service's slug) and its name;
    for a template loaded from the starter library, that starter's name."""

    key: int | str
    name: str
    starter: str | None = None


@dataclass(frozen=True, slots=True)
class SampleContact:
    id: int
    email: str
    first_name: str | None
    last_name: str | None


@dataclass(frozen=True, slots=True)
class Choices:
    """Everything the builder offers to pick from, each list by name (contacts newest first)."""

    templates: list[Choice]
    segments: list[Choice]
    services: list[Choice]
    contacts: list[SampleContact]


def choices(session: Session) -> Choices:
    """The templates (archived ones left out), segments, services and sample contacts."""
    return Choices(
        templates=[Choice(t.id, t.name, t.starter_name) for t in list_templates(session)],
        segments=[
            Choice(sid, name)
            for sid, name in session.execute(
                select(Segment.id, Segment.name).order_by(Segment.name)
            )
        ],
        services=[
            Choice(slug, name)
            for slug, name in session.execute(
                select(Service.slug, Service.name).order_by(Service.name)
            )
        ],
        contacts=sample_contacts(session),
    )


def segment_names(session: Session) -> dict[int, str]:
    """Segment id -> name, for a branch that asks whether a contact is in one."""
    return {sid: name for sid, name in session.execute(select(Segment.id, Segment.name))}


def template_names(session: Session) -> dict[int, str]:
    """Template id -> name, archived ones included: an older step may still name one."""
    return {t.id: t.name for t in list_templates(session, include_archived=True)}


def sample_contacts(session: Session, *, limit: int = PREVIEW_CONTACTS) -> list[SampleContact]:
    """The most recent contacts that have an address and are not erased, newest first."""
    return [
        SampleContact(c.id, c.email, c.first_name, c.last_name)
        for c in preview_contacts(session, limit=limit)
        # preview_contacts leaves out contacts without an address; the test narrows the type.
        if c.email is not None
    ]
