"""Hand-offs to sales over the API: list and read them, accept, reject or reassign one.

The handlers only translate: nurture.qualification.inbox checks who may act, decides
once (409 for a second decision) and stores the events, which are handed to the
workers here; a reassigned hand-off's new owner is e-mailed after the commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.orm import Session

from nurture.models import Contact, Handoff, Role, utcnow
from nurture.qualification import inbox
from nurture.qualification.inbox import InboxFilter
from nurture.qualification.inbox_summary import summary_view
from nurture.web.api.bodies import MAX_ID, json_body_operation
from nurture.web.api.responses import errors_meaning
from nurture.web.api.schemas import ContactOut, contact_out
from nurture.web.auth import Principal, api_roles
from nurture.web.handoff_access import caller_of, permitted
from workers.actors import hand_over
from workers.handoffs import notify_after_commit

Db = NamedDependency[Session]
Me = NamedDependency[Principal]
HandoffId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The hand-off's id")]
SELLING = api_roles(Role.ADMIN, Role.SALES)
_OWN_MEANING = {
    403: "The key's role may not do this, or it is not the hand-off's owner, team lead or an admin",
    404: "No such hand-off",
    409: "The hand-off was decided already (or changed meanwhile); nothing changed",
}


class HandoffOut(msgspec.Struct):
    id: int
    state: str
    owner_id: int | None
    team_id: int | None
    created_at: datetime
    due_at: datetime | None
    notified_at: datetime | None
    escalated_at: datetime | None
    escalated_to_id: int | None
    acted_at: datetime | None
    acted_by_id: int | None
    reason: str | None
    recycled_sequence_id: int | None
    why: list[str]
    summary: dict[str, Any]
    contact: ContactOut | None


class HandoffPageOut(msgspec.Struct):
    """One page: pending first (soonest due on top), then decided, latest first."""

    items: list[HandoffOut]
    total: int
    page: int
    pages: int


class RejectIn(msgspec.Struct, forbid_unknown_fields=True):
    """Why the lead is not ready (required), and optionally the sequence to recycle it
    into (default: the qualification settings' recycle sequence)."""

    reason: str
    sequence_id: int | None = None


class ReassignIn(msgspec.Struct, forbid_unknown_fields=True):
    """The active sales user who takes the hand-off over."""

    to_user_id: int


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    return errors_meaning(_OWN_MEANING, *statuses)


def handoff_out(db: Session, handoff: Handoff) -> HandoffOut:
    contact = db.get(Contact, handoff.contact_id)
    return HandoffOut(
        id=handoff.id,
        state=handoff.state,
        owner_id=handoff.owner_id,
        team_id=handoff.team_id,
        created_at=handoff.created_at,
        due_at=handoff.due_at,
        notified_at=handoff.notified_at,
        escalated_at=handoff.escalated_at,
        escalated_to_id=handoff.escalated_to_id,
        acted_at=handoff.acted_at,
        acted_by_id=handoff.acted_by_id,
        reason=handoff.reason,
        recycled_sequence_id=handoff.recycled_sequence_id,
        why=summary_view(handoff.summary).why,
        summary=dict(handoff.summary or {}),
        contact=None if contact is None else contact_out(contact),
    )


@get(
    "/handoffs",
    guards=[SELLING],
    sync_to_thread=True,
    summary="List hand-offs to sales: pending first, then decided",
    responses=_errors(422),
)
def list_handoffs(
    db: Db,
    principal: Me,
    whose: Annotated[
        str | None,
        QueryParameter(
            description="`mine` (the key's user), `team` (teams it leads), `all` or "
            "`unassigned` (admin keys; `all` is their default)",
            max_length=20,
        ),
    ] = None,
    status: Annotated[
        str, QueryParameter(description="`pending`, `decided`, or empty for both", max_length=20)
    ] = "",
    page: Annotated[int, QueryParameter(ge=1, le=1_000_000, description="Page number")] = 1,
    page_size: Annotated[
        int, QueryParameter(ge=1, le=inbox.MAX_PAGE_SIZE, description="Items per page")
    ] = inbox.PAGE_SIZE,
) -> HandoffPageOut:
    caller = caller_of(db, principal)
    chosen = whose or ("all" if caller.is_admin else "mine")
    found = permitted(
        lambda: inbox.list_handoffs(
            db, caller, InboxFilter(scope=chosen, state=status), page=page, page_size=page_size
        )
    )
    return HandoffPageOut(
        [handoff_out(db, h) for h in found.items], found.total, found.page, found.pages
    )


@get(
    "/handoffs/{handoff_id:int}",
    guards=[SELLING],
    sync_to_thread=True,
    summary="One hand-off with its summary and contact",
    responses=_errors(404),
)
def read_handoff(db: Db, principal: Me, handoff_id: HandoffId) -> HandoffOut:
    caller = caller_of(db, principal)
    return handoff_out(db, permitted(lambda: inbox.get_handoff(db, handoff_id, caller)))


@post(
    "/handoffs/{handoff_id:int}/accept",
    guards=[SELLING],
    sync_to_thread=True,
    status_code=200,
    summary="Accept a hand-off: the lead becomes an SQL owned by the hand-off's rep",
    description="Stores `handoff.accepted` and `lifecycle.changed`; sequences whose goal "
    "is SQL are left. A second decision answers 409.",
    responses=_errors(404, 409),
)
def accept_handoff(db: Db, principal: Me, handoff_id: HandoffId) -> HandoffOut:
    caller = caller_of(db, principal)
    decision = permitted(lambda: inbox.accept(db, handoff_id, user=caller, now=utcnow()))
    hand_over(db, decision.event_ids)
    return handoff_out(db, decision.handoff)


@post(
    "/handoffs/{handoff_id:int}/reject",
    guards=[SELLING],
    sync_to_thread=True,
    status_code=200,
    summary="Reject a hand-off with a reason: the lead is recycled into a nurture sequence",
    description="The contact goes back to `lead` without an owner, joins `sequence_id` (or "
    "the settings' recycle sequence) and its score is reset as configured. Stores "
    "`handoff.rejected`. A second decision answers 409.",
    operation_class=json_body_operation(RejectIn, description="Why, and where to recycle"),
    responses=_errors(404, 409, 422),
)
def reject_handoff(
    data: JSONBody[RejectIn], db: Db, principal: Me, handoff_id: HandoffId
) -> HandoffOut:
    caller = caller_of(db, principal)
    decision = permitted(
        lambda: inbox.reject(
            db,
            handoff_id,
            user=caller,
            reason=data.reason,
            now=utcnow(),
            sequence_id=data.sequence_id,
        )
    )
    hand_over(db, decision.event_ids)
    return handoff_out(db, decision.handoff)


@post(
    "/handoffs/{handoff_id:int}/reassign",
    guards=[SELLING],
    sync_to_thread=True,
    status_code=200,
    summary="Give a pending hand-off to another active sales user, with a fresh SLA",
    operation_class=json_body_operation(ReassignIn, description="The new owner"),
    responses=_errors(404, 409, 422),
)
def reassign_handoff(
    data: JSONBody[ReassignIn], db: Db, principal: Me, handoff_id: HandoffId
) -> HandoffOut:
    caller = caller_of(db, principal)
    handoff = permitted(
        lambda: inbox.reassign(db, handoff_id, to_user_id=data.to_user_id, by=caller, now=utcnow())
    )
    notify_after_commit(db, [handoff.id])
    return handoff_out(db, handoff)


HANDLERS = [list_handoffs, read_handoff, accept_handoff, reject_handoff, reassign_handoff]
