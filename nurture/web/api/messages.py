"""A sent (or suppressed, deferred, bounced...) message: its status and its events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import PathParameter
from sqlalchemy.orm import Session

from campaigns.email.machines import human_counts
from campaigns.email.messages import message_with_events
from nurture.models import EmailTemplateVersion
from nurture.web.api.bodies import MAX_ID
from nurture.web.api.responses import errors
from nurture.web.api.schemas import EventOut, event_out
from nurture.web.auth import api_roles


class EngagementOut(msgspec.Struct):
    """People and machines (privacy prefetch, link scanners) counted apart."""

    human: int
    machine: int


class MessageOut(msgspec.Struct):
    id: int
    status: str
    kind: str
    template_id: int | None
    template_version: int | None
    locale: str | None
    topic: str | None
    contact_id: int | None
    to_email: str | None
    subject: str | None
    message_id_header: str | None
    attempts: int
    last_error: str | None
    links: list[str]
    created_at: datetime
    sent_at: datetime | None
    updated_at: datetime
    opens: EngagementOut
    clicks: EngagementOut
    events: list[EventOut]


@get(
    "/messages/{message_id:int}",
    guards=[api_roles()],
    sync_to_thread=True,
    summary="A message's status and events",
    responses=errors(404),
)
def read_message(
    db: NamedDependency[Session],
    message_id: Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The message's id")],
) -> MessageOut:
    view = message_with_events(db, message_id)
    message = view.message
    version = (
        db.get(EmailTemplateVersion, message.template_version_id)
        if message.template_version_id is not None
        else None
    )
    opens = human_counts(view.events, "email.opened")
    clicks = human_counts(view.events, "email.clicked")
    return MessageOut(
        id=message.id,
        status=message.status,
        kind=message.kind,
        template_id=message.template_id,
        template_version=version.number if version is not None else None,
        locale=message.locale,
        topic=message.topic,
        contact_id=message.contact_id,
        to_email=message.to_email,
        subject=message.subject,
        message_id_header=message.message_id_header,
        attempts=message.attempts,
        last_error=message.last_error,
        links=list(message.links or []),
        created_at=message.created_at,
        sent_at=message.sent_at,
        updated_at=message.updated_at,
        opens=EngagementOut(opens.human, opens.machine),
        clicks=EngagementOut(clicks.human, clicks.machine),
        events=[event_out(e) for e in view.events],
    )


HANDLERS = [read_message]
