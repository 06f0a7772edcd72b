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
from nurture.errors import InvalidInput, Problem
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
from nurture.web.auth import Principal, api_roles
from nurture.web.errors import ForbiddenInput
from workers.actors import hand_over

log = logging.getLogger(__name__)
TRIES = 3
# Types Nurture records itself (sending, suppression, segment and sequence changes,
# lifecycle, qualified leads and hand-offs): from a client they would forge history and
# trigger automations, so only admin keys may post them (an import of past e-mail
# activity, say).
SYSTEM_TYPE_PREFIXES = (
    "email.",
    "segment.",
    "sequence.",
    "lifecycle.",
    "contact.",
    "task.",
    "lead.",
    "handoff.",
)


def refuse_system_types(items: list[object]) -> None:
    """ForbiddenInput naming each item whose type is one of the system's own."""
    problems = [
        Problem(
            "type",
            f"{item['type']!r} is recorded by Nurture itself; only admin keys may send it",
            index,
        )
        for index, item in enumerate(items)
        if isinstance(item, dict)
        and isinstance(item.get("type"), str)
        and item["type"].startswith(SYSTEM_TYPE_PREFIXES)
    ]
    if problems:
        raise ForbiddenInput("this API key may not send system event types", problems)


@post(
    "/events",
    guards=[api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)],
    sync_to_thread=True,
    status_code=202,
    summary="Record events",
    description=(
        "Stores each valid item (a repeated `idempotency_key` is stored once) and answers "
        "202 with every item's outcome; processing (scoring, segments, sequences) follows in "
        "the background. When no item is valid the answer is 422 naming each item's problem. "
        "Types Nurture records itself (email.*, segment.*, sequence.*, lifecycle.*, contact.*, "
        "task.*, lead.*, handoff.*) are refused with 403 unless the key is an admin's."
    ),
    operation_class=json_body_operation(
        EventIn, EventBatch, description="One event, or a batch of up to 1,000"
    ),
    responses=errors(422),
)
def record_events(
    body: RawBody, db: NamedDependency[Session], principal: NamedDependency[Principal]
) -> IngestAnswer:
    items = event_items(decode_json(body))
    if principal.role != Role.ADMIN:
        refuse_system_types(items)
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
