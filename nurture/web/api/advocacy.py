"""Testimonials and referrals in the API (issue 15).

`GET /testimonials` is the library a website or CMS reads: approved quotes by default,
so a withdrawn or hidden one leaves it at once. Withdrawal and reward decisions are for
marketing keys and go through the same domain functions as the pages (audit included).
"""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.orm import Session

from nurture.errors import NotFound
from nurture.models import ReferralStatus, Role, TestimonialStatus, utcnow
from nurture.models import Testimonial as Quote
from nurture.reviews import referrals, testimonials
from nurture.reviews.referral_listing import MAX_LISTED, listing
from nurture.web.api.advocacy_schemas import (
    LibraryQuoteList,
    LibraryQuoteOut,
    ReferralList,
    ReferralOut,
    RewardDecisionIn,
    WithdrawalIn,
    library_quote_out,
    referral_out,
)
from nurture.web.api.bodies import MAX_ID, json_body_operation
from nurture.web.api.responses import errors_meaning
from nurture.web.auth import Principal, api_roles
from workers.actors import hand_over

Db = NamedDependency[Session]
Me = NamedDependency[Principal]
QuoteId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The testimonial's id")]
ReferralId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The referral's id")]
_MARKETING = (Role.ADMIN, Role.MARKETER)
_QUOTE_ERRORS = {404: "No such testimonial"}
_REFERRAL_ERRORS = {
    404: "No such referral",
    409: "No reward is waiting for a decision (not won yet, or already decided)",
}


@get(
    "/testimonials",
    guards=[api_roles()],
    sync_to_thread=True,
    summary="List testimonials: the approved library by default",
    responses=errors_meaning({}, 422),
)
def list_testimonials(
    db: Db,
    status: Annotated[
        TestimonialStatus,
        QueryParameter(description="requested, approved (the default), hidden or withdrawn"),
    ] = TestimonialStatus.APPROVED,
    service_id: Annotated[
        int | None, QueryParameter(ge=1, le=MAX_ID, description="Only this service's")
    ] = None,
    industry: Annotated[
        str | None, QueryParameter(max_length=80, description="Only this industry's")
    ] = None,
) -> LibraryQuoteList:
    found = testimonials.library(db, service_id=service_id, industry=industry, status=status.value)
    return LibraryQuoteList([library_quote_out(t) for t in found])


@get(
    "/testimonials/{testimonial_id:int}",
    guards=[api_roles()],
    sync_to_thread=True,
    summary="One testimonial, with its consent record",
    responses=errors_meaning(_QUOTE_ERRORS, 404),
)
def get_testimonial(db: Db, testimonial_id: QuoteId) -> LibraryQuoteOut:
    t = db.get(Quote, testimonial_id)
    if t is None:
        raise NotFound("testimonial", testimonial_id)
    return library_quote_out(t)


@post(
    "/testimonials/{testimonial_id:int}/withdraw",
    guards=[api_roles(*_MARKETING)],
    sync_to_thread=True,
    status_code=200,
    summary="Withdraw a testimonial's consent on the client's behalf",
    description="The quote and its signature are emptied and removed from every case study; "
    "who asked and when are kept. Withdrawing again changes nothing.",
    operation_class=json_body_operation(WithdrawalIn, description="Who asked, and why"),
    responses=errors_meaning(_QUOTE_ERRORS, 404, 422),
)
def withdraw_testimonial_consent(
    data: JSONBody[WithdrawalIn], db: Db, principal: Me, testimonial_id: QuoteId
) -> LibraryQuoteOut:
    t = testimonials.withdraw(
        db,
        testimonial_id,
        by=data.requested_by,
        reason=data.reason,
        now=utcnow(),
        actor=principal.actor,
    )
    _hand_over(testimonials.withdrawn_event_id(db, t.id), db)
    return library_quote_out(t)


@get(
    "/referrals",
    guards=[api_roles()],
    sync_to_thread=True,
    summary="List referrals, newest first",
    responses=errors_meaning({}, 422),
)
def list_referrals(
    db: Db,
    status: Annotated[
        ReferralStatus | None,
        QueryParameter(description="lead, qualified, won, rewarded or refused"),
    ] = None,
    reward_pending: Annotated[
        bool, QueryParameter(description="Only referrals whose reward waits for a decision")
    ] = False,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LISTED, description="At most")] = 100,
) -> ReferralList:
    rows = listing(
        db,
        status=None if status is None else status.value,
        pending_only=reward_pending,
        limit=limit,
    )
    return ReferralList([referral_out(row.referral) for row in rows])


@post(
    "/referrals/{referral_id:int}/reward",
    guards=[api_roles(*_MARKETING)],
    sync_to_thread=True,
    status_code=200,
    summary="Approve or decline a won referral's reward",
    operation_class=json_body_operation(RewardDecisionIn, description="The decision"),
    responses=errors_meaning(_REFERRAL_ERRORS, 404, 409, 422),
)
def decide_referral_reward_api(
    data: JSONBody[RewardDecisionIn], db: Db, principal: Me, referral_id: ReferralId
) -> ReferralOut:
    referral = referrals.decide_reward(
        db,
        referral_id,
        approve=data.approve,
        note=data.note,
        user=principal.actor,
        now=utcnow(),
    )
    _hand_over(referrals.status_event_id(db, referral.id, referral.status), db)
    return referral_out(referral)


def _hand_over(event_id: int | None, db: Session) -> None:
    # Sent to the event workers once the request's session commits.
    if event_id is not None:
        hand_over(db, [event_id])


HANDLERS = [
    list_testimonials,
    get_testimonial,
    withdraw_testimonial_consent,
    list_referrals,
    decide_referral_reward_api,
]
