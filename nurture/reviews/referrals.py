"""Referral codes, the public submission and its refusals, statuses, rewards.

An advocate has one code; their link is `/refer/<code>`. Each submission on that page
is a `referrals` row. A new person becomes a lead referred by the advocate; the
advocate's own address, a person referred before and a person already known are
refused, and a refused row keeps only why (no name, no address). The public answer is
the same for a new lead, a duplicate and a known person, so the page never tells
anyone who is in the database; only a self-referral is answered differently (the
advocate knows their own address).

Statuses move on from events (`advance`): `lead.qualified` → qualified,
`lifecycle.changed` to customer → won, which makes a reward due; a person approves or
declines it (`decide_reward`). Thank-you e-mails are in `referral_thanks`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.sequences.enrol import enrol_contacts
from nurture import audit
from nurture.contacts.addresses import email_hash, normalise_email
from nurture.contacts.store import upsert_company
from nurture.errors import Conflict, InvalidInput, NotFound, Problem
from nurture.events import EventInput, ingest
from nurture.models import (
    Company,
    Contact,
    Event,
    LifecycleStage,
    Referral,
    ReferralCode,
    ReferralRefusal,
    ReferralStatus,
    RewardState,
    Suppression,
)
from nurture.reviews import review_settings
from nurture.reviews.referral_thanks import thank_advocates
from nurture.validation import holds_nul

__all__ = [
    "ReferralForm",
    "ReferralPage",
    "Submitted",
    "advance",
    "code_for",
    "decide_reward",
    "page_view",
    "referral_url",
    "submit",
    "thank_advocates",
]

Outcome = Literal["lead", "self", "duplicate", "known"]
# No 0/o, 1/l/i: a code read aloud or copied by hand still works.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 10
MAX_NAME = 100
MAX_COMPANY = 200
LEAD_QUALIFIED = "lead.qualified"
LIFECYCLE_CHANGED = "lifecycle.changed"
REFERRAL_SUBMITTED = "referral.submitted"
REFERRAL_STATUS = "referral.status"
_OUTCOMES: dict[ReferralRefusal, Outcome] = {
    ReferralRefusal.SELF: "self",
    ReferralRefusal.DUPLICATE: "duplicate",
    ReferralRefusal.KNOWN: "known",
}


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
    """Get or create the advocate's code (NotFound for an unknown or erased contact)."""
    found = _code_of(session, contact_id)
    if found is not None:
        if found.survey_id is None and survey_id is not None:
            found.survey_id = survey_id
        return found
    advocate = session.get(Contact, contact_id)
    if advocate is None or advocate.erased_at is not None:
        raise NotFound("contact", contact_id)
    for _ in range(5):
        row = ReferralCode(
            contact_id=contact_id, code=new_code(), survey_id=survey_id, created_at=now
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
            return row
        except IntegrityError:
            # Either another worker made this advocate's code first, or (about never)
            # the random code was taken: the first is answered, the second retried.
            found = _code_of(session, contact_id)
            if found is not None:
                return found
    raise Conflict("could not make a unique referral code")


def new_code() -> str:
    """About 49 bits from the system's secure random source: not guessable by trying."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def mark_invited(session: Session, code_id: int, *, now: datetime) -> None:
    """The invitation e-mail went: the advocate counts as invited (the first time)."""
    session.execute(
        update(ReferralCode)
        .where(ReferralCode.id == code_id, ReferralCode.invited_at.is_(None))
        .values(invited_at=now)
    )


def referral_url(base_url: str, code: ReferralCode | str) -> str:
    """`<base>/refer/<code>`."""
    text = code if isinstance(code, str) else code.code
    return f"{base_url.rstrip('/')}/refer/{text}"


def page_view(session: Session, code: str) -> ReferralPage:
    """NotFound for an unknown code or a gone advocate."""
    row, advocate = _live_code(session, code)
    company = session.get(Company, advocate.company_id) if advocate.company_id is not None else None
    locale = (advocate.locale or "").lower()[:2]
    return ReferralPage(
        code=row.code,
        advocate_first_name=advocate.first_name or "",
        company_name=company.name if company is not None else None,
        locale=locale if locale in ("en", "ru") else "en",
    )


def check_form(form: ReferralForm) -> tuple[str, str, str, str]:
    """(address, first name, last name, company) cleaned; InvalidInput naming
    email, first_name, last_name, company and consent."""
    problems: list[Problem] = []
    address = ""
    try:
        if holds_nul(form.email):
            raise ValueError("must be text")
        address = normalise_email(form.email)
    except ValueError as exc:
        problems.append(Problem("email", str(exc)))
    first = form.first_name.strip()
    last = form.last_name.strip()
    company = form.company.strip()
    if not first:
        problems.append(Problem("first_name", "is required"))
    for field, value, limit in (
        ("first_name", first, MAX_NAME),
        ("last_name", last, MAX_NAME),
        ("company", company, MAX_COMPANY),
    ):
        if len(value) > limit or holds_nul(value):
            problems.append(Problem(field, f"must be text of at most {limit} characters"))
    if form.consent is not True:
        problems.append(Problem("consent", "must be given for us to contact you"))
    if problems:
        raise InvalidInput(problems)
    return address, first, last, company


def submit(session: Session, code: str, form: ReferralForm, *, now: datetime) -> Submitted:
    """Record a submission; the caller commits and hands `event_ids` to the event workers.

    NotFound for an unknown code, InvalidInput for a bad form. A new person becomes a
    lead (referred by the advocate, with their consent and the source in its
    attributes), enrolled in the settings' referral sequence, with a
    `referral.submitted` event; the others are stored as refused with the reason only.
    """
    row, advocate = _live_code(session, code)
    address, first, last, company = check_form(form)
    if address == advocate.email:
        return _refuse(session, row, ReferralRefusal.SELF, now)
    known = session.scalar(select(Contact.id).where(Contact.email == address))
    if known is not None:
        referred_before = session.scalar(
            select(Referral.id).where(
                Referral.referred_contact_id == known,
                Referral.status != ReferralStatus.REFUSED.value,
            )
        )
        reason = ReferralRefusal.KNOWN if referred_before is None else ReferralRefusal.DUPLICATE
        return _refuse(session, row, reason, now)
    if session.scalar(select(Suppression.id).where(Suppression.email_hash == email_hash(address))):
        # Someone who asked to be left alone (or to be forgotten) is not a new lead.
        return _refuse(session, row, ReferralRefusal.KNOWN, now)
    try:
        with session.begin_nested():
            lead = _new_lead(session, advocate, address, first, last, company, form, now)
            referral = Referral(
                code_id=row.id,
                advocate_id=advocate.id,
                referred_contact_id=lead.id,
                status=ReferralStatus.LEAD.value,
                created_at=now,
            )
            session.add(referral)
            session.flush()
    except IntegrityError:
        # Two submissions of one address raced: the other made the lead and the
        # referral (the unique address, or the one-live-referral index, stopped us).
        return _refuse(session, row, ReferralRefusal.DUPLICATE, now)
    sequence_id = review_settings.get(session).referral_sequence_id
    if sequence_id is not None:
        try:
            if enrol_contacts(session, sequence_id, [lead.id], now=now).enrolled:
                referral.sequence_id = sequence_id
        except (Conflict, NotFound):
            # A stopped or draft sequence takes nobody; the lead is kept all the same.
            pass
    event = EventInput(
        REFERRAL_SUBMITTED,
        now,
        {"referral_id": referral.id, "advocate_id": advocate.id},
        f"{REFERRAL_SUBMITTED}:{referral.id}",
        contact_id=lead.id,
    )
    stored = ingest(session, [(0, event)], source="referrals").stored_event_ids
    return Submitted(referral.id, "lead", tuple(stored))


def advance(session: Session, events: Iterable[Event | int]) -> list[int]:
    """Move referrals on from a batch of processed events; the caller commits.

    `lead.qualified` on a referred contact → qualified; `lifecycle.changed` to customer
    → won (the reward becomes pending). Each move writes `referral.status` on the
    advocate. Answers the referrals to thank: those that moved, the new ones
    (`referral.submitted`) and the rewarded ones (`referral.status` rewarded).
    Repeated events find nothing left to move.
    """
    rows = _rows(session, events)
    to_thank: list[int] = []
    qualified: set[int] = set()
    won: set[int] = set()
    for event in rows:
        props = event.properties or {}
        if event.type == REFERRAL_SUBMITTED or (
            event.type == REFERRAL_STATUS and props.get("status") == ReferralStatus.REWARDED
        ):
            to_thank.append(_int(props.get("referral_id")))
        elif event.type == LEAD_QUALIFIED:
            qualified.add(event.contact_id)
        elif event.type == LIFECYCLE_CHANGED and props.get("to") == LifecycleStage.CUSTOMER:
            won.add(event.contact_id)
    now = max((e.occurred_at for e in rows), default=None)
    if now is not None:
        to_thank += _move(session, qualified, (ReferralStatus.LEAD,), ReferralStatus.QUALIFIED, now)
        to_thank += _move(
            session, won, (ReferralStatus.LEAD, ReferralStatus.QUALIFIED), ReferralStatus.WON, now
        )
    return list(dict.fromkeys(i for i in to_thank if i > 0))


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
    """Approve (→ rewarded) or decline a pending reward; the caller commits.

    NotFound for an unknown referral, Conflict when no reward is pending (not won yet,
    or already decided), InvalidInput (`note`) for a note over 500 characters.
    """
    if len(note) > 500 or holds_nul(note):
        raise InvalidInput.single("note", "must be text of at most 500 characters")
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound("referral", referral_id)
    claimed = session.execute(
        update(Referral)
        .where(Referral.id == referral_id, Referral.reward_state == RewardState.PENDING.value)
        .values(
            reward_state=(RewardState.APPROVED if approve else RewardState.DECLINED).value,
            reward_note=note.strip() or None,
            reward_decided_by_id=user_id,
            reward_decided_at=now,
            **({"status": ReferralStatus.REWARDED.value, "rewarded_at": now} if approve else {}),
        )
        .returning(Referral.id)
    ).first()
    if claimed is None:
        raise Conflict("this referral has no reward waiting for a decision")
    session.refresh(referral)
    audit.record(
        session,
        actor=user,
        action="referral.reward_approved" if approve else "referral.reward_declined",
        entity_type="referral",
        entity_id=referral_id,
        changes={"reward_state": [RewardState.PENDING.value, referral.reward_state], "note": note},
    )
    if approve:
        _status_event(session, referral, now)
    return referral


def _new_lead(
    session: Session,
    advocate: Contact,
    address: str,
    first: str,
    last: str,
    company: str,
    form: ReferralForm,
    now: datetime,
) -> Contact:
    locale = (form.locale or "").lower()[:2]
    lead = Contact(
        email=address,
        first_name=first,
        last_name=last or None,
        locale=locale if locale in ("en", "ru") else None,
        lifecycle_stage=LifecycleStage.LEAD.value,
        referred_by_id=advocate.id,
        owner_id=advocate.owner_id,
        attributes={
            "source": "referral",
            "referral_consent": {"given_at": now.isoformat(), "locale": locale or None},
        },
    )
    if company:
        lead.company_id = upsert_company(session, {"name": company}).id
    session.add(lead)
    session.flush()
    audit.record(
        session,
        actor=f"referral:{advocate.id}",
        action="contact.created",
        entity_type="contact",
        entity_id=lead.id,
        changes={"source": "referral", "referred_by_id": advocate.id},
    )
    return lead


def _refuse(
    session: Session, row: ReferralCode, reason: ReferralRefusal, now: datetime
) -> Submitted:
    refused = Referral(
        code_id=row.id,
        advocate_id=row.contact_id,
        referred_contact_id=None,
        status=ReferralStatus.REFUSED.value,
        refusal=reason.value,
        created_at=now,
    )
    session.add(refused)
    session.flush()
    return Submitted(refused.id, _OUTCOMES[reason], ())


def _move(
    session: Session,
    contact_ids: set[int],
    sources: tuple[ReferralStatus, ...],
    target: ReferralStatus,
    now: datetime,
) -> list[int]:
    if not contact_ids:
        return []
    stamp = (
        {"qualified_at": now}
        if target is ReferralStatus.QUALIFIED
        else {
            "won_at": now,
            "reward_state": RewardState.PENDING.value,
        }
    )
    # One conditional UPDATE: a redelivered batch, or a racing worker, moves nothing twice.
    moved = (
        session.execute(
            update(Referral)
            .where(
                Referral.referred_contact_id.in_(sorted(contact_ids)),
                Referral.status.in_([s.value for s in sources]),
            )
            .values(status=target.value, **stamp)
            .returning(Referral.id)
        )
        .scalars()
        .all()
    )
    for referral in session.scalars(select(Referral).where(Referral.id.in_(moved))):
        session.refresh(referral)
        _status_event(session, referral, now)
    return list(moved)


def status_event_id(session: Session, referral_id: int, status: str) -> int | None:
    """The stored `referral.status` event of this move, for handing to the event workers."""
    key = f"{REFERRAL_STATUS}:{referral_id}:{status}"
    return session.scalar(select(Event.id).where(Event.idempotency_key == key))


def _status_event(session: Session, referral: Referral, now: datetime) -> None:
    event = EventInput(
        REFERRAL_STATUS,
        now,
        {"referral_id": referral.id, "status": referral.status},
        f"{REFERRAL_STATUS}:{referral.id}:{referral.status}",
        contact_id=referral.advocate_id,
    )
    ingest(session, [(0, event)], source="referrals")


def _rows(session: Session, events: Iterable[Event | int]) -> list[Event]:
    given = list(events)
    rows = [e for e in given if isinstance(e, Event)]
    ids = [e for e in given if isinstance(e, int)]
    if ids:
        wanted = (REFERRAL_SUBMITTED, REFERRAL_STATUS, LEAD_QUALIFIED, LIFECYCLE_CHANGED)
        rows += session.scalars(select(Event).where(Event.id.in_(ids), Event.type.in_(wanted)))
    return rows


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _code_of(session: Session, contact_id: int) -> ReferralCode | None:
    return session.scalar(select(ReferralCode).where(ReferralCode.contact_id == contact_id))


def _live_code(session: Session, code: str) -> tuple[ReferralCode, Contact]:
    text = code.strip().lower()
    if not text or len(text) > 20 or any(c not in CODE_ALPHABET for c in text):
        raise NotFound("referral code", code[:40])
    row = session.scalar(select(ReferralCode).where(ReferralCode.code == text))
    advocate = session.get(Contact, row.contact_id) if row is not None else None
    if row is None or advocate is None or advocate.erased_at is not None:
        raise NotFound("referral code", text)
    return row, advocate
