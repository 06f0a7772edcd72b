"""Broadcasts over the API: create and edit a draft, schedule it, cancel it, read one with
its progress, list them.

Marketers and admins write; any key may read (a CRM pulling what was sent is a read).
A test group too small for its plan answers 422 naming `test_percent` with the number
of recipients per variant the plan needs; send `accept_small_test: true` to go anyway.
"""

from __future__ import annotations

from typing import Annotated

from litestar import get, post, put
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.orm import Session

from campaigns.broadcasts import store
from campaigns.broadcasts.progress import progress_many
from nurture.models import Broadcast, BroadcastStatus, Role, utcnow
from nurture.web import broadcast_reading as reading
from nurture.web.api import broadcast_schemas as io
from nurture.web.api.bodies import MAX_ID, json_body_operation
from nurture.web.api.responses import errors_meaning
from nurture.web.auth import Principal, api_roles

READERS = api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)
WRITERS = api_roles(Role.ADMIN, Role.MARKETER)
_OWN_MEANING = {
    404: "No such broadcast",
    409: "The broadcast's state forbids this (only a draft is scheduled, only a broadcast "
    "not yet started is edited, an ended one cannot be cancelled)",
    422: "The input is invalid; `problems` name each field. A test group smaller than its "
    "plan names `test_percent` and the number needed (override with `accept_small_test`)",
}
Db = NamedDependency[Session]
Me = NamedDependency[Principal]
BroadcastId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The broadcast's id")]
Cursor = Annotated[
    str | None,
    QueryParameter(description="The `next_cursor` of the previous page", max_length=200),
]
StatusFilter = Annotated[
    BroadcastStatus | None, QueryParameter(description="Only broadcasts in this status")
]
Limit = Annotated[int, QueryParameter(ge=1, le=reading.MAX_PAGE, description="Broadcasts per page")]


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    return errors_meaning(_OWN_MEANING, *statuses)


def _full(db: Session, broadcast: Broadcast) -> io.BroadcastOut:
    db.flush()
    progress = progress_many(db, [broadcast.id])[broadcast.id]
    return io.broadcast_out(
        broadcast,
        progress,
        store.experiment_of(db, broadcast.id),
        store.variants_of(db, broadcast.id),
    )


@get(
    "/broadcasts",
    guards=[READERS],
    sync_to_thread=True,
    summary="List broadcasts, newest first, with their progress",
    responses=_errors(422),
)
def list_broadcasts(
    db: Db, cursor: Cursor = None, limit: Limit = 50, status: StatusFilter = None
) -> io.BroadcastPageOut:
    found = reading.page(
        db, cursor=cursor, limit=limit, status=None if status is None else status.value
    )
    progress = progress_many(db, [b.id for b in found.items])
    items = []
    for broadcast in found.items:
        experiment = store.experiment_of(db, broadcast.id) if broadcast.test_percent else None
        variants = store.variants_of(db, broadcast.id) if experiment is not None else []
        items.append(io.broadcast_out(broadcast, progress[broadcast.id], experiment, variants))
    return io.BroadcastPageOut(items, found.next_cursor)


@post(
    "/broadcasts",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Create a draft broadcast",
    description=(
        "Checked whole: a template, exactly one of a segment or a list, an audience that "
        "is not empty, a schedule not in the past, HH:MM times, a test phase of 1-50 % with "
        "two variants or more, each changing something of the control. Nothing is sent "
        "until it is scheduled."
    ),
    operation_class=json_body_operation(io.BroadcastIn, description="The broadcast"),
    responses=_errors(422),
)
def create_broadcast(data: JSONBody[io.BroadcastIn], db: Db, principal: Me) -> io.BroadcastOut:
    broadcast = store.create_broadcast(db, io.definition(data), actor=principal.actor, now=utcnow())
    return _full(db, broadcast)


@get(
    "/broadcasts/{broadcast_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="Read a broadcast with its progress and test phase",
    responses=_errors(404),
)
def read_broadcast(db: Db, broadcast_id: BroadcastId) -> io.BroadcastOut:
    return _full(db, store.get_broadcast(db, broadcast_id))


@put(
    "/broadcasts/{broadcast_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Rewrite a broadcast that has not started",
    description="The whole definition, as when creating it. A scheduled one keeps its status.",
    operation_class=json_body_operation(io.BroadcastIn, description="The broadcast"),
    responses=_errors(404, 409, 422),
)
def change_broadcast(
    data: JSONBody[io.BroadcastIn], db: Db, principal: Me, broadcast_id: BroadcastId
) -> io.BroadcastOut:
    broadcast = store.update_broadcast(
        db, broadcast_id, io.definition(data), actor=principal.actor, now=utcnow()
    )
    return _full(db, broadcast)


@post(
    "/broadcasts/{broadcast_id:int}/schedule",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Schedule a draft: it starts at its `send_at`, or now without one",
    responses=_errors(404, 409, 422),
)
def schedule_broadcast(db: Db, principal: Me, broadcast_id: BroadcastId) -> io.BroadcastOut:
    broadcast = store.schedule_broadcast(db, broadcast_id, actor=principal.actor, now=utcnow())
    return _full(db, broadcast)


@post(
    "/broadcasts/{broadcast_id:int}/cancel",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Cancel a broadcast: recipients not sent yet never will be",
    responses=_errors(404, 409),
)
def cancel_broadcast(db: Db, principal: Me, broadcast_id: BroadcastId) -> io.BroadcastOut:
    broadcast = store.cancel_broadcast(db, broadcast_id, actor=principal.actor, now=utcnow())
    return _full(db, broadcast)


HANDLERS = [
    list_broadcasts,
    create_broadcast,
    read_broadcast,
    change_broadcast,
    schedule_broadcast,
    cancel_broadcast,
]
