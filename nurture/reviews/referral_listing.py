"""What the Referrals page and the API read: the funnel's counts and the referrals listed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Contact, Referral, ReferralCode, ReferralRefusal, ReferralStatus

MAX_LISTED = 500
_QUALIFIED_ON = (ReferralStatus.QUALIFIED, ReferralStatus.WON, ReferralStatus.REWARDED)
_WON_ON = (ReferralStatus.WON, ReferralStatus.REWARDED)


@dataclass(frozen=True, slots=True)
class Funnel:
    """Counts at each stage, cumulative: a won referral counts as a lead and qualified too.

    `invited` counts advocates whose invitation went; `refused` counts turned-away
    submissions by reason (self, duplicate, known)."""

    invited: int
    leads: int
    qualified: int
    won: int
    rewarded: int
    rewards_pending: int
    refused: dict[str, int]


@dataclass(frozen=True, slots=True)
class Listed:
    referral: Referral
    advocate: Contact | None
    lead: Contact | None


def funnel(session: Session) -> Funnel:
    invited = session.scalar(
        select(func.count()).select_from(ReferralCode).where(ReferralCode.invited_at.is_not(None))
    )
    counts: dict[str, int] = {
        status: n
        for status, n in session.execute(
            select(Referral.status, func.count()).group_by(Referral.status)
        )
    }
    refused: dict[str | None, int] = {
        reason: n
        for reason, n in session.execute(
            select(Referral.refusal, func.count())
            .where(Referral.status == ReferralStatus.REFUSED.value)
            .group_by(Referral.refusal)
        )
    }
    pending = session.scalar(
        select(func.count()).select_from(Referral).where(Referral.reward_state == "pending")
    )

    def total(statuses: tuple[ReferralStatus, ...]) -> int:
        return sum(counts.get(s.value, 0) for s in statuses)

    return Funnel(
        invited=invited or 0,
        leads=total((ReferralStatus.LEAD, *_QUALIFIED_ON)),
        qualified=total(_QUALIFIED_ON),
        won=total(_WON_ON),
        rewarded=counts.get(ReferralStatus.REWARDED.value, 0),
        rewards_pending=pending or 0,
        refused={r.value: refused.get(r.value, 0) for r in ReferralRefusal},
    )


def listing(
    session: Session, *, status: str | None = None, pending_only: bool = False, limit: int = 100
) -> list[Listed]:
    """Referrals newest first, with their advocate and lead (None when gone or refused)."""
    query = select(Referral)
    if status:
        query = query.where(Referral.status == status)
    if pending_only:
        query = query.where(Referral.reward_state == "pending")
    rows = list(
        session.scalars(
            query.order_by(Referral.created_at.desc(), Referral.id.desc()).limit(
                max(1, min(limit, MAX_LISTED))
            )
        )
    )
    wanted = {r.advocate_id for r in rows} | {r.referred_contact_id for r in rows}
    people = {
        c.id: c
        for c in session.scalars(
            select(Contact).where(Contact.id.in_({i for i in wanted if i is not None}))
        )
    }
    return [
        Listed(
            r,
            people.get(r.advocate_id),
            people.get(r.referred_contact_id) if r.referred_contact_id else None,
        )
        for r in rows
    ]
