"""The sales inbox: a rep's hand-offs, each with the lead's story and accept / reject /
reassign buttons (plain POST forms with CSRF, answered by a redirect: Post/Redirect/Get)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from litestar import get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromQuery, PathParameter, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from nurture.errors import Conflict, InvalidInput, Problem
from nurture.models import Contact, Handoff, Sequence, User, utcnow
from nurture.qualification import inbox
from nurture.qualification.inbox import Caller, InboxFilter
from nurture.qualification.inbox_summary import summary_view
from nurture.validation import MAX_ID, parse_id
from nurture.web.auth import Principal, ui_roles
from nurture.web.handoff_access import caller_of, permitted
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import SELLING, fragment, page
from workers.actors import hand_over
from workers.handoffs import notify_after_commit

HandoffId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, QueryParameter(name="page", ge=1, le=1_000_000)]
# Shown after the redirect that follows a decision.
DONE = {
    "accepted": "Accepted: the lead is now an SQL and yours to call.",
    "rejected": "Rejected: the lead went back to nurturing.",
    "reassigned": "Reassigned: the new owner has been told.",
}
SCOPE_LABELS = {"mine": "Mine", "team": "My teams", "all": "Everyone's", "unassigned": "Unassigned"}
STATE_LABELS = {"": "Pending and decided", "pending": "Pending", "decided": "Decided"}


@dataclass(frozen=True, slots=True)
class Row:
    handoff: Handoff
    contact: Contact | None
    owner: User | None
    score: int | None
    grade: str | None
    why: str


def _rows(db: Session, handoffs: list[Handoff]) -> list[Row]:
    contact_ids = {h.contact_id for h in handoffs}
    user_ids = {h.owner_id for h in handoffs if h.owner_id is not None}
    contacts = {c.id: c for c in db.query(Contact).filter(Contact.id.in_(contact_ids))}
    users = {u.id: u for u in db.query(User).filter(User.id.in_(user_ids))} if user_ids else {}
    rows = []
    for handoff in handoffs:
        view = summary_view(handoff.summary)
        rows.append(
            Row(
                handoff,
                contacts.get(handoff.contact_id),
                users.get(handoff.owner_id) if handoff.owner_id is not None else None,
                view.score,
                view.grade,
                view.why[0] if view.why else "",
            )
        )
    return rows


@get("/inbox", guards=[ui_roles(*SELLING)], sync_to_thread=True)
def inbox_list(
    db: Db,
    principal: Me,
    whose: FromQuery[str] = "",
    status: FromQuery[str] = "",
    page_number: PageNumber = 1,
) -> Template:
    caller = caller_of(db, principal)
    # Admins start with everyone's hand-offs, reps with their own.
    whose = whose or ("all" if caller.is_admin else "mine")
    filters = InboxFilter(scope=whose, state=status)
    found = permitted(lambda: inbox.list_handoffs(db, caller, filters, page=page_number))
    scopes = ("mine", "team", "all", "unassigned") if caller.is_admin else ("mine", "team")
    return page(
        "inbox/list.html",
        principal,
        "inbox",
        rows=_rows(db, found.items),
        found=found,
        filters=filters,
        scope_options=[(s, SCOPE_LABELS[s]) for s in scopes],
        state_options=list(STATE_LABELS.items()),
        link=lambda **extra: urlencode(
            {k: v for k, v in {"whose": whose, "status": status, **extra}.items() if v}
        ),
        pending=inbox.pending_count(db, principal.id),
        now=utcnow(),
    )


def _detail(
    db: Session,
    principal: Principal,
    caller: Caller,
    handoff: Handoff,
    *,
    status_code: int = 200,
    done: str = "",
    error: str | None = None,
    problems: list[Problem] | None = None,
    form: dict[str, str] | None = None,
) -> Template:
    contact = db.get(Contact, handoff.contact_id)
    owner = db.get(User, handoff.owner_id) if handoff.owner_id is not None else None
    acted_by = db.get(User, handoff.acted_by_id) if handoff.acted_by_id is not None else None
    escalated_to = (
        db.get(User, handoff.escalated_to_id) if handoff.escalated_to_id is not None else None
    )
    recycled = (
        db.get(Sequence, handoff.recycled_sequence_id)
        if handoff.recycled_sequence_id is not None
        else None
    )
    settings = inbox.settings_row(db)
    may_act = inbox.may_act(db, handoff, caller) and handoff.state == "pending"
    return page(
        "inbox/detail.html",
        principal,
        "inbox",
        status_code=status_code,
        handoff=handoff,
        contact=contact,
        owner=owner,
        acted_by=acted_by,
        escalated_to=escalated_to,
        recycled=recycled,
        view=summary_view(handoff.summary),
        may_act=may_act,
        sequences=inbox.recycle_sequences(db) if may_act else [],
        default_sequence_id=settings.recycle_sequence_id,
        reps=[u for u in inbox.sales_users(db) if u.id != handoff.owner_id] if may_act else [],
        done=DONE.get(done),
        error=error,
        problems={p.field: p.message for p in problems or []},
        form=form or {},
        now=utcnow(),
    )


@get("/inbox/{handoff_id:int}", guards=[ui_roles(*SELLING)], sync_to_thread=True)
def inbox_detail(
    db: Db, principal: Me, handoff_id: HandoffId, done: FromQuery[str] = ""
) -> Template:
    caller = caller_of(db, principal)
    handoff = permitted(lambda: inbox.get_handoff(db, handoff_id, caller))
    return _detail(db, principal, caller, handoff, done=done)


@post("/inbox/{handoff_id:int}/accept", guards=[ui_roles(*SELLING)], sync_to_thread=True)
def inbox_accept(db: Db, principal: Me, handoff_id: HandoffId) -> Template | Redirect:
    caller = caller_of(db, principal)
    try:
        decision = permitted(lambda: inbox.accept(db, handoff_id, user=caller, now=utcnow()))
    except Conflict as exc:
        return _refused(db, principal, caller, handoff_id, exc, {})
    hand_over(db, decision.event_ids)
    return Redirect(f"/inbox/{handoff_id}?done=accepted", status_code=303)


@post("/inbox/{handoff_id:int}/reject", guards=[ui_roles(*SELLING)], sync_to_thread=True)
def inbox_reject(
    db: Db, principal: Me, handoff_id: HandoffId, data: FormData
) -> Template | Redirect:
    caller = caller_of(db, principal)
    raw_sequence = data.get("sequence_id", "").strip()
    sequence_id = parse_id(raw_sequence) if raw_sequence else None
    try:
        if raw_sequence and sequence_id is None:
            raise InvalidInput.single("sequence_id", "choose a sequence from the list")
        decision = permitted(
            lambda: inbox.reject(
                db,
                handoff_id,
                user=caller,
                reason=data.get("reason", ""),
                now=utcnow(),
                sequence_id=sequence_id,
            )
        )
    except (InvalidInput, Conflict) as exc:
        return _refused(db, principal, caller, handoff_id, exc, data)
    hand_over(db, decision.event_ids)
    return Redirect(f"/inbox/{handoff_id}?done=rejected", status_code=303)


@post("/inbox/{handoff_id:int}/reassign", guards=[ui_roles(*SELLING)], sync_to_thread=True)
def inbox_reassign(
    db: Db, principal: Me, handoff_id: HandoffId, data: FormData
) -> Template | Redirect:
    caller = caller_of(db, principal)
    to_user_id = parse_id(data.get("to_user_id", "").strip())
    try:
        if to_user_id is None:
            raise InvalidInput.single("to_user_id", "choose a sales rep")
        target = to_user_id
        handoff = permitted(
            lambda: inbox.reassign(db, handoff_id, to_user_id=target, by=caller, now=utcnow())
        )
    except (InvalidInput, Conflict) as exc:
        return _refused(db, principal, caller, handoff_id, exc, data)
    notify_after_commit(db, [handoff.id])
    return Redirect(f"/inbox/{handoff_id}?done=reassigned", status_code=303)


@get("/inbox/badge", guards=[ui_roles(*SELLING)], sync_to_thread=True)
def inbox_badge(db: Db, principal: Me) -> Template:
    """The number beside "Sales inbox" in the navigation: pending hand-offs of the caller."""
    return fragment("inbox/_badge.html", count=inbox.pending_count(db, principal.id))


def _refused(
    db: Session,
    principal: Principal,
    caller: Caller,
    handoff_id: int,
    exc: InvalidInput | Conflict,
    form: dict[str, str],
) -> Template:
    """The hand-off page again, saying why nothing changed (nothing half-saved: rolled back)."""
    db.rollback()
    try:
        handoff = inbox.get_handoff(db, handoff_id, caller)
    except inbox.Forbidden as denied:
        raise PermissionDeniedException(str(denied)) from None
    if isinstance(exc, InvalidInput):
        return _detail(
            db, principal, caller, handoff, status_code=422, problems=exc.problems, form=form
        )
    return _detail(db, principal, caller, handoff, status_code=409, error=str(exc), form=form)


handlers = [inbox_list, inbox_badge, inbox_detail, inbox_accept, inbox_reject, inbox_reassign]
