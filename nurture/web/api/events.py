"""Event ingest over HTTP: one event or a batch of up to 1,000, each stored or rejected."""

from __future__ import annotations

import logging

from litestar import post
from litestar.di import NamedDependency
from litestar.params import RawBody
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from nurture import events
from nurture.db import is_transient
from nurture.errors import InvalidInput
from nurture.models import Role
from nurture.web.api.bodies import (
    EventBatch,
    EventIn,
    decode_json,
    event_items,
    json_body_operation,
)
from nurture.web.api.responses import errors
from nurture.web.api.schemas import IngestAnswer, ingest_answer
from nurture.web.auth import api_roles
from workers.actors import hand_over

log = logging.getLogger(__name__)
TRIES = 3


@post(
    "/events",
    guards=[api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)],
    sync_to_thread=True,
    status_code=202,
    summary="Record events",
    description=(
        "Stores each valid item (a repeated `idempotency_key` is stored once) and answers "
        "202 with every item's outcome; processing (scoring, segments, sequences) follows in "
        "the background. When no item is valid the answer is 422 naming each item's problem."
    ),
    operation_class=json_body_operation(
        EventIn, EventBatch, description="One event, or a batch of up to 1,000"
    ),
    responses=errors(422),
)
def record_events(body: RawBody, db: NamedDependency[Session]) -> IngestAnswer:
    items = event_items(decode_json(body))
    # JSON can carry a NUL character only as the escape \u0000; without one in
    # the body, the per-item walk through properties looking for it is skipped.
    may_hold_nul = body.find(b"\\u0000") >= 0
    for attempt in range(1, TRIES + 1):
        try:
            result = events.ingest_raw(db, items, source="api", may_hold_nul=may_hold_nul)
            break
        except DBAPIError as exc:
            # Concurrent batches creating the same contacts can still deadlock in
            # rare orders; the loser rolls back and goes again from scratch.
            db.rollback()
            if attempt == TRIES or not is_transient(exc):
                raise
    if items and result.count(events.Outcome.REJECTED) == len(items):
        raise InvalidInput([r.problem for r in result.items if r.problem is not None])
    hand_over(db, result.stored_event_ids)
    db.commit()
    return ingest_answer(result)
