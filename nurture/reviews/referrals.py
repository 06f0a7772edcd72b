"""Referral codes, the public submission and its refusals, statuses, rewards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from campaigns.delivery.transport import Transport
from campaigns.email.mailconfig import MailConfig
from nurture.models import Event, Referral, ReferralCode

Outcome = Literal["lead", "self", "duplicate", "known"]


@dataclass(frozen=True, slots=True)
class ReferralPage:
    """What the public referral page says about the advocate: first name and company."""

    code: str
    advocate_first_name: str
    company_name: str | None
    locale: str


@dataclass(frozen=True, slots=True)
class ReferralForm:
    """What the referred colleague typed."""

    email: str
    first_name: str
    last_name: str = ""
    company: str = ""
    consent: bool = False
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class Submitted:
    """How a submission ended. The public page answers alike for lead, duplicate
    and known (it never reveals who is in the database); only "self" differs."""

    referral_id: int | None
    outcome: Outcome
    event_ids: tuple[int, ...] = ()


def code_for(
    session: Session, contact_id: int, *, survey_id: int | None = None, now: datetime
) -> ReferralCode:
    """Get or create the advocate's code."""
    raise NotImplementedError


def referral_url(base_url: str, code: ReferralCode | str) -> str:
    """`<base>/refer/<code>`."""
    raise NotImplementedError


def page_view(session: Session, code: str) -> ReferralPage:
    """NotFound for an unknown code or a gone advocate."""
    raise NotImplementedError


def submit(session: Session, code: str, form: ReferralForm, *, now: datetime) -> Submitted:
    """Record a submission (InvalidInput naming email, first_name, consent...).
    The caller commits and hands `event_ids` to the event workers."""
    raise NotImplementedError


def advance(session: Session, events: Sequence[Event]) -> list[int]:
    """Move referrals on `lead.qualified` / `lifecycle.changed` to customer of their
    referred contacts; answers the ids of referrals that moved (to thank)."""
    raise NotImplementedError


def thank_advocates(
    session: Session,
    referral_ids: Sequence[int],
    *,
    transport: Transport,
    config: MailConfig,
    now: datetime,
) -> list[int]:
    """Thank the advocates of these referrals at the stages chosen in the settings;
    answers the ids of messages sent (once per referral and stage)."""
    raise NotImplementedError


def decide_reward(
    session: Session,
    referral_id: int,
    *,
    approve: bool,
    note: str,
    user: str,
    now: datetime,
    user_id: int | None = None,
) -> Referral:
    """Approve or decline a pending reward (Conflict when none is pending)."""
    raise NotImplementedError
