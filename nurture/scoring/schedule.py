"""When the full rescore runs: daily (decay moves every score a little each day) and
soon after any rule or setting changed. The settings row keeps the bookkeeping, so
several tickers agree and a lost queue message is sent again after its lease."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from nurture.models import Event, ScoringSettings
from nurture.scoring.store import SETTINGS_ID, get_settings, mark_rules_changed

EVERY = timedelta(days=1)
# A claimed rescore not finished within this long is claimed (and sent) again.
LEASE = timedelta(hours=2)


def claim_rescore(
    session: Session, *, now: datetime, every: timedelta = EVERY, lease: timedelta = LEASE
) -> bool:
    """Whether a full rescore is due and this caller claimed it (one conditional UPDATE,
    so two tickers never both send it)."""
    get_settings(session)
    s = ScoringSettings
    due = or_(
        s.rescored_at.is_(None),
        s.rescored_at <= now - every,
        and_(s.rules_changed_at.is_not(None), s.rules_changed_at >= s.rescored_at),
    )
    free = or_(
        s.rescore_claimed_at.is_(None),
        s.rescore_claimed_at <= now - lease,
        and_(s.rules_changed_at.is_not(None), s.rules_changed_at > s.rescore_claimed_at),
    )
    result = session.execute(
        update(s).where(s.id == SETTINGS_ID, due, free).values(rescore_claimed_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def last_event_id(session: Session) -> int:
    """The highest event id a full rescore starting now is sure to see, so contacts of
    later events can be brought up to date after it (its one long statement may
    overwrite what the incremental path wrote meanwhile, or skip contacts it found
    locked)."""
    return int(session.scalar(select(func.max(Event.id))) or 0)


def contacts_with_events_after(session: Session, event_id: int) -> list[int]:
    """Contacts of the events stored after `event_id`."""
    return list(session.scalars(select(Event.contact_id).where(Event.id > event_id).distinct()))


def request_rescore(session: Session, *, now: datetime, actor: str) -> None:
    """Ask for a full rescore (the next tick sends it)."""
    mark_rules_changed(session, now=now, actor=actor)
