"""JSON shapes of the testimonials and referrals API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from nurture.models import Referral
from nurture.models import Testimonial as Quote


class LibraryQuoteOut(msgspec.Struct):
    """A testimonial. `quote` and `display_name` are empty unless approved or hidden: a
    withdrawn testimonial keeps only who withdrew it and when."""

    id: int
    status: str
    quote: str
    display_name: str | None
    attribution: str | None
    contact_id: int | None
    project_id: int | None
    service_id: int | None
    industry: str | None
    approved_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    consent: dict[str, object]


class LibraryQuoteList(msgspec.Struct):
    items: list[LibraryQuoteOut]


class WithdrawalIn(msgspec.Struct, forbid_unknown_fields=True):
    """Who asked for the withdrawal (required) and why."""

    requested_by: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class ReferralOut(msgspec.Struct):
    """A referral: `referred_contact_id` is null for refused ones (`refusal` says why)."""

    id: int
    status: str
    refusal: str | None
    advocate_id: int
    referred_contact_id: int | None
    sequence_id: int | None
    created_at: datetime
    qualified_at: datetime | None
    won_at: datetime | None
    rewarded_at: datetime | None
    reward_state: str
    reward_note: str | None


class ReferralList(msgspec.Struct):
    items: list[ReferralOut]


class RewardDecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    """Approve (the referral becomes rewarded) or decline a pending reward."""

    approve: bool
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


def library_quote_out(t: Quote) -> LibraryQuoteOut:
    return LibraryQuoteOut(
        id=t.id,
        status=t.status,
        quote=t.quote if t.status in ("approved", "hidden") else "",
        display_name=t.display_name if t.status in ("approved", "hidden") else None,
        attribution=t.attribution,
        contact_id=t.contact_id,
        project_id=t.project_id,
        service_id=t.service_id,
        industry=t.industry,
        approved_at=t.approved_at,
        withdrawn_at=t.withdrawn_at,
        withdrawn_by=t.withdrawn_by,
        consent=dict(t.consent or {}),
    )


def referral_out(r: Referral) -> ReferralOut:
    return ReferralOut(
        id=r.id,
        status=r.status,
        refusal=r.refusal,
        advocate_id=r.advocate_id,
        referred_contact_id=r.referred_contact_id,
        sequence_id=r.sequence_id,
        created_at=r.created_at,
        qualified_at=r.qualified_at,
        won_at=r.won_at,
        rewarded_at=r.rewarded_at,
        reward_state=r.reward_state,
        reward_note=r.reward_note,
    )
