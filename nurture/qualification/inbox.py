"""The sales inbox: what a rep sees of their hand-offs, and accept / reject / reassign.

Each decision is a compare-and-set on the hand-off's state (`pending` → `accepted` or
`rejected`), so of two clicks racing exactly one wins and the other is a Conflict that
says what happened. Accepting makes the lead an SQL (sequences whose goal is SQL are
left at once by `change_stage`); rejecting sends it back to `lead` with the rep's
reason and recycles it into a nurture sequence, its score reset as configured.
Functions return the ids of the events they stored; the caller commits and hands
them to the workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, or_, select, update
from sqlalchemy.orm import Session

from campaigns.sequences.enrol import enrol_contacts
from nurture import audit
from nurture.errors import Conflict, DomainError, InvalidInput, NotFound
from nurture.events import EventInput, store_known
from nurture.models import (
    Contact,
    Handoff,
    HandoffState,
    LifecycleStage,
    QualificationSettings,
    Role,
    SalesRep,
    SalesTeam,
    SalesTeamMember,
    Sequence,
    SequenceStatus,
    User,
)
from nurture.qualification.lifecycle import MAX_REASON, change_stage
from nurture.scoring.engine import set_score
from nurture.validation import is_id

ACCEPTED = "handoff.accepted"
REJECTED = "handoff.rejected"
PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
_RUNNING = (SequenceStatus.ACTIVE.value, SequenceStatus.PAUSED.value)
_PENDING = HandoffState.PENDING.value


class Forbidden(DomainError):
    """The caller may not act on this hand-off (not its owner, team lead or an admin).
    The web layer answers 403."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who acts: a user (`user_id`) or an integration (`user_id` None), and whether
    with an admin's rights. `actor` is how the audit log names them."""

    user_id: int | None
    is_admin: bool
    actor: str


@dataclass(frozen=True, slots=True)
class Decision:
    """A hand-off after a decision, the events stored, and for a rejection where the
    lead was recycled (`enrol_skipped`: why the sequence did not take it, if it did not)."""

    handoff: Handoff
    event_ids: list[int]
    recycled_sequence_id: int | None = None
    enrol_skipped: str | None = None


@dataclass(frozen=True, slots=True)
class InboxPage:
    items: list[Handoff]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True, slots=True)
class InboxFilter:
    """`scope`: `mine` (owned by, or escalated to, the caller), `team` (hand-offs of the
    teams the caller leads), `all` or `unassigned` (admins). `state`: `pending`,
    `decided` or '' for both."""

    scope: str = "mine"
    state: str = ""
    contact_id: int | None = None


SCOPES = ("mine", "team", "all", "unassigned")
STATES = ("", "pending", "decided")


def settings_row(session: Session) -> QualificationSettings:
    """The one settings row (defaults when none is stored yet; not added to the session)."""
    row = session.get(QualificationSettings, 1)
    if row is None:
        row = QualificationSettings(
            id=1,
            enabled=True,
            mql_rule={},
            sla_hours=8,
            work_start="09:00",
            work_end="17:00",
            work_days={},
            default_time_zone="UTC",
        )
    return row


def list_handoffs(
    session: Session,
    caller: Caller,
    filters: InboxFilter,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> InboxPage:
    """One page of hand-offs: pending ones first (the soonest due on top), then the
    decided ones, the latest first. Reps see only their own and their teams'."""
    if filters.scope not in SCOPES:
        raise InvalidInput.single("whose", f"must be one of {', '.join(SCOPES)}")
    if filters.state not in STATES:
        raise InvalidInput.single("status", "must be pending, decided or empty")
    if page < 1:
        raise InvalidInput.single("page", "must be 1 or more")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput.single("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
    if filters.scope in ("all", "unassigned") and not caller.is_admin:
        raise Forbidden("only admins see every hand-off; reps see theirs and their teams'")
    query = _scoped(select(Handoff), caller, filters)
    total = int(session.scalar(_scoped(select(func.count(Handoff.id)), caller, filters)) or 0)
    pending_first = case((Handoff.state == _PENDING, 0), else_=1)
    soonest_due = case(
        (Handoff.state == _PENDING, func.coalesce(Handoff.due_at, Handoff.created_at)),
        else_=None,
    )
    latest = func.coalesce(Handoff.acted_at, Handoff.created_at)
    items = session.scalars(
        query.order_by(pending_first, soonest_due, latest.desc(), Handoff.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return InboxPage(list(items), total, page, page_size)


def pending_count(session: Session, user_id: int) -> int:
    """Pending hand-offs owned by, or escalated to, this user (the navigation badge)."""
    return int(
        session.scalar(
            select(func.count(Handoff.id)).where(
                Handoff.state == _PENDING,
                or_(Handoff.owner_id == user_id, Handoff.escalated_to_id == user_id),
            )
        )
        or 0
    )


def get_handoff(session: Session, handoff_id: int, caller: Caller) -> Handoff:
    """One hand-off the caller may see (NotFound, Forbidden)."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound("hand-off", handoff_id)
    if not _may_see(session, handoff, caller):
        raise Forbidden("this hand-off is another rep's")
    return handoff


def may_act(session: Session, handoff: Handoff, caller: Caller) -> bool:
    """The owner, the lead of the hand-off's team, whoever it was escalated to, an admin."""
    if caller.is_admin:
        return True
    if caller.user_id is None:
        return False
    if caller.user_id in (handoff.owner_id, handoff.escalated_to_id):
        return True
    return caller.user_id in _team_leads(session, handoff)


def accept(session: Session, handoff_id: int, *, user: Caller, now: datetime) -> Decision:
    """The rep takes the lead: the hand-off is accepted, the contact becomes an SQL owned
    by the hand-off's owner, and a `handoff.accepted` event is stored."""
    handoff = _claim(session, handoff_id, user, HandoffState.ACCEPTED, now=now, reason=None)
    owner_id = handoff.owner_id or user.user_id
    session.execute(
        update(Contact)
        .where(Contact.id == handoff.contact_id)
        .values(owner_id=owner_id)
        .execution_options(synchronize_session=False)
    )
    event_ids = change_stage(
        session,
        handoff.contact_id,
        LifecycleStage.SQL.value,
        reason="hand-off accepted",
        source="rep",
        now=now,
        user_id=user.user_id,
        actor=user.actor,
    )
    event_ids += _event(
        session, handoff, ACCEPTED, now, {"owner_id": owner_id, "acted_by_id": user.user_id}
    )
    audit.record(
        session,
        actor=user.actor,
        action="handoff.accepted",
        entity_type="handoff",
        entity_id=handoff.id,
        changes={"state": [_PENDING, handoff.state], "contact_id": handoff.contact_id},
    )
    return Decision(handoff, event_ids)


def reject(
    session: Session,
    handoff_id: int,
    *,
    user: Caller,
    reason: str,
    now: datetime,
    sequence_id: int | None = None,
) -> Decision:
    """The rep turns the lead down, saying why: the contact goes back to `lead` without
    an owner, joins the chosen nurture sequence (or the settings' recycle sequence),
    its score is reset when the settings say so, and `handoff.rejected` is stored."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.single("reason", "is required: say why the lead is not ready")
    if len(reason) > MAX_REASON:
        raise InvalidInput.single("reason", f"must be at most {MAX_REASON} characters")
    settings = settings_row(session)
    recycle_to = sequence_id if sequence_id is not None else settings.recycle_sequence_id
    if sequence_id is not None:
        _check_recycle_sequence(session, sequence_id)
    handoff = _claim(session, handoff_id, user, HandoffState.REJECTED, now=now, reason=reason)
    contact_id = handoff.contact_id
    event_ids = change_stage(
        session,
        contact_id,
        LifecycleStage.LEAD.value,
        reason=reason,
        source="rep",
        now=now,
        user_id=user.user_id,
        actor=user.actor,
    )
    session.execute(
        update(Contact)
        .where(Contact.id == contact_id)
        .values(owner_id=None)
        .execution_options(synchronize_session=False)
    )
    if settings.recycle_score_to is not None:
        set_score(session, [contact_id], settings.recycle_score_to, now=now, reason=reason)
    skipped = None
    if recycle_to is not None and _is_running(session, recycle_to):
        result = enrol_contacts(session, recycle_to, [contact_id], now=now)
        skipped = result.skipped.get(contact_id)
        handoff.recycled_sequence_id = recycle_to
    elif recycle_to is not None:
        # The configured sequence was stopped since: the lead is recycled to `lead` only.
        skipped = "sequence_not_running"
        recycle_to = None
    session.flush()
    # The sequence's name rides along so the contact's timeline can say where it went.
    recycled = None if recycle_to is None else session.get(Sequence, recycle_to)
    event_ids += _event(
        session,
        handoff,
        REJECTED,
        now,
        {
            "reason": reason,
            "sequence": None if recycled is None else recycled.name,
            "sequence_id": recycle_to,
        },
    )
    audit.record(
        session,
        actor=user.actor,
        action="handoff.rejected",
        entity_type="handoff",
        entity_id=handoff.id,
        changes={
            "state": [_PENDING, handoff.state],
            "contact_id": contact_id,
            "reason": reason,
            "sequence_id": recycle_to,
        },
    )
    return Decision(handoff, event_ids, recycle_to, skipped)


def reassign(
    session: Session, handoff_id: int, *, to_user_id: int, by: Caller, now: datetime
) -> Handoff:
    """Give a pending hand-off to another active sales user, with a fresh SLA from now
    in their time zone (escalation and notification start over for the new owner)."""
    target = session.get(User, to_user_id) if is_id(to_user_id) else None
    if target is None or not target.is_active or target.role != Role.SALES.value:
        raise InvalidInput.single("to_user_id", "must be an active sales user")
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound("hand-off", handoff_id)
    if not may_act(session, handoff, by):
        raise Forbidden("only the owner, the team lead or an admin may reassign this hand-off")
    if handoff.state != _PENDING:
        raise Conflict(f"this hand-off was {handoff.state} already; only a pending one moves")
    if handoff.owner_id == to_user_id:
        raise Conflict("this hand-off is with that rep already")
    previous = handoff.owner_id
    due = sla_due_at(session, to_user_id, now)
    moved = session.execute(
        update(Handoff)
        .where(
            Handoff.id == handoff_id,
            Handoff.state == _PENDING,
            Handoff.owner_id.is_(None) if previous is None else Handoff.owner_id == previous,
        )
        .values(
            owner_id=to_user_id,
            due_at=due,
            notified_at=None,
            escalated_at=None,
            escalated_to_id=None,
        )
        .execution_options(synchronize_session=False)
    )
    if int(getattr(moved, "rowcount", 0) or 0) != 1:
        raise Conflict("this hand-off changed while you were looking; reload and try again")
    session.execute(
        update(Contact)
        .where(Contact.id == handoff.contact_id)
        .values(owner_id=to_user_id)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        actor=by.actor,
        action="handoff.reassigned",
        entity_type="handoff",
        entity_id=handoff_id,
        changes={"owner_id": [previous, to_user_id], "due_at": due.isoformat()},
    )
    session.refresh(handoff)
    return handoff


def sales_users(session: Session) -> list[User]:
    """Active sales users, by name: who a hand-off can be reassigned to."""
    return list(
        session.scalars(
            select(User)
            .where(User.role == Role.SALES.value, User.is_active.is_(True))
            .order_by(User.name, User.id)
        )
    )


def recycle_sequences(session: Session) -> list[Sequence]:
    """Sequences a rejected lead can be recycled into (active or paused), by name."""
    return list(
        session.scalars(
            select(Sequence).where(Sequence.status.in_(_RUNNING)).order_by(Sequence.name)
        )
    )


def sla_due_at(session: Session, user_id: int, start: datetime) -> datetime:
    """When a hand-off given to `user_id` at `start` is due: the settings' SLA hours
    counted in working hours in the rep's time zone (or the firm's default)."""
    settings = settings_row(session)
    zone = session.scalar(select(SalesRep.time_zone).where(SalesRep.user_id == user_id))
    try:
        from nurture.qualification.sla import (  # type: ignore[import-not-found,unused-ignore]
            due_at,
        )
    except ImportError:  # pragma: no cover - the clock arrives with the qualification branch
        # Until the working-hours clock is merged, count wall-clock hours.
        return start + timedelta(hours=settings.sla_hours)
    result: datetime = due_at(
        start,
        settings.sla_hours,
        zone=zone or settings.default_time_zone,
        work_start=settings.work_start,
        work_end=settings.work_end,
        work_days=_work_days(settings.work_days),
    )
    return result


def _work_days(stored: dict[str, Any] | None) -> tuple[int, ...]:
    days = (stored or {}).get("days")
    if isinstance(days, list) and days and all(isinstance(d, int) for d in days):
        return tuple(days)
    return (0, 1, 2, 3, 4)


def _claim(
    session: Session,
    handoff_id: int,
    caller: Caller,
    to: HandoffState,
    *,
    now: datetime,
    reason: str | None,
) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound("hand-off", handoff_id)
    if not may_act(session, handoff, caller):
        raise Forbidden("only the owner, the team lead or an admin may decide on this hand-off")
    if handoff.state != _PENDING:
        raise Conflict(_decided_already(handoff))
    claimed = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.state == _PENDING)
        .values(state=to.value, acted_at=now, acted_by_id=caller.user_id, reason=reason)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(claimed, "rowcount", 0) or 0) != 1:
        session.refresh(handoff)
        raise Conflict(_decided_already(handoff))
    session.refresh(handoff)
    return handoff


def _decided_already(handoff: Handoff) -> str:
    when = "" if handoff.acted_at is None else f" at {handoff.acted_at:%Y-%m-%d %H:%M} UTC"
    return f"this hand-off was {handoff.state} already{when}; nothing changed"


def _event(
    session: Session, handoff: Handoff, kind: str, now: datetime, extra: dict[str, Any]
) -> list[int]:
    properties = {"handoff_id": handoff.id, **extra}
    return store_known(
        session,
        [EventInput(kind, now, properties, f"{kind}:{handoff.id}", contact_id=handoff.contact_id)],
        source="handoffs",
    )


def _check_recycle_sequence(session: Session, sequence_id: int) -> None:
    if not is_id(sequence_id) or not _is_running(session, sequence_id):
        raise InvalidInput.single("sequence_id", "must be an active or paused sequence")


def _is_running(session: Session, sequence_id: int) -> bool:
    status = session.scalar(select(Sequence.status).where(Sequence.id == sequence_id))
    return status in _RUNNING


def _team_leads(session: Session, handoff: Handoff) -> set[int]:
    """Leads of the hand-off's team, or, for a hand-off without one, of the owner's teams."""
    query = select(SalesTeam.lead_id).where(SalesTeam.lead_id.is_not(None))
    if handoff.team_id is not None:
        query = query.where(SalesTeam.id == handoff.team_id)
    elif handoff.owner_id is not None:
        query = query.where(
            SalesTeam.id.in_(
                select(SalesTeamMember.team_id).where(SalesTeamMember.user_id == handoff.owner_id)
            )
        )
    else:
        return set()
    return {int(lead) for lead in session.scalars(query) if lead is not None}


def _may_see(session: Session, handoff: Handoff, caller: Caller) -> bool:
    return may_act(session, handoff, caller) or (
        caller.user_id is not None and caller.user_id == handoff.acted_by_id
    )


def _led_teams(user_id: int) -> Select[Any]:
    return select(SalesTeam.id).where(SalesTeam.lead_id == user_id)


def _scoped(query: Select[Any], caller: Caller, filters: InboxFilter) -> Select[Any]:
    if filters.scope == "unassigned":
        query = query.where(Handoff.owner_id.is_(None))
    elif filters.scope == "mine" or (filters.scope == "team" and caller.user_id is None):
        me = caller.user_id if caller.user_id is not None else -1
        query = query.where(
            or_(
                Handoff.owner_id == me,
                Handoff.escalated_to_id == me,
                Handoff.acted_by_id == me,
            )
        )
    elif filters.scope == "team":
        me = caller.user_id if caller.user_id is not None else -1
        led = _led_teams(me)
        query = query.where(
            or_(
                Handoff.team_id.in_(led),
                Handoff.owner_id.in_(
                    select(SalesTeamMember.user_id).where(SalesTeamMember.team_id.in_(led))
                ),
                Handoff.escalated_to_id == me,
            )
        )
    if filters.state == "pending":
        query = query.where(Handoff.state == _PENDING)
    elif filters.state == "decided":
        query = query.where(Handoff.state != _PENDING)
    if filters.contact_id is not None:
        query = query.where(Handoff.contact_id == filters.contact_id)
    return query
