"""Reviews > Referrals: statuses and rewards (issue 15).

The funnel (invited → lead → qualified → won → rewarded, and what was refused and why),
then each referral with its advocate and lead. Marketers and admins approve or decline
a pending reward; the form posts and redirects back (PRG).
"""

from __future__ import annotations

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from nurture.errors import Conflict, InvalidInput, NotFound
from nurture.models import ReferralStatus, utcnow
from nurture.reviews import referrals
from nurture.reviews.referral_listing import funnel, listing
from nurture.web.auth import ui_roles
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import EVERYONE, MARKETING, page
from workers.actors import hand_over

_BASE = "/reviews/referrals"
STATUSES = tuple(s.value for s in ReferralStatus)
_NOTICES = {
    "approved": "Reward approved: the referral is rewarded.",
    "declined": "Reward declined.",
}


@get(_BASE, guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def referral_list(
    db: Db, principal: Me, status: FromQuery[str] = "", done: FromQuery[str] = ""
) -> Template:
    return _page(db, principal, status=status, notice=_NOTICES.get(done, ""))


@post(f"{_BASE}/{{referral_id:int}}/reward", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def decide_referral_reward(
    db: Db, principal: Me, referral_id: FromPath[int], data: FormData
) -> Template | Redirect:
    decision = str(data.get("decision", ""))
    note = str(data.get("note", "")).strip()
    try:
        if decision not in ("approve", "decline"):
            raise InvalidInput.single("decision", "must be approve or decline")
        referral = referrals.decide_reward(
            db,
            referral_id,
            approve=decision == "approve",
            note=note,
            user=principal.actor,
            user_id=principal.id if principal.kind == "user" else None,
            now=utcnow(),
        )
    except NotFound:
        db.rollback()
        return _page(db, principal, error="No such referral.", status_code=404)
    except (Conflict, InvalidInput) as exc:
        db.rollback()
        code = 409 if isinstance(exc, Conflict) else 422
        return _page(db, principal, error=str(exc), status_code=code)
    # The rewarded move goes through the event workers, which thank the advocate if
    # that stage is chosen.
    hand_over(db, _ids(referrals.status_event_id(db, referral.id, referral.status)))
    db.commit()
    done = "approved" if decision == "approve" else "declined"
    return Redirect(f"{_BASE}?done={done}", status_code=303)


def _page(
    db: Db,
    principal: Me,
    *,
    status: str = "",
    notice: str = "",
    error: str = "",
    status_code: int = 200,
) -> Template:
    wanted = status if status in STATUSES else ""
    return page(
        "reviews/referrals.html",
        principal,
        "reviews",
        status_code=status_code,
        tab="referrals",
        funnel=funnel(db),
        rows=listing(db, status=wanted or None),
        statuses=STATUSES,
        status=wanted,
        can_edit=principal.role in MARKETING,
        notice=notice,
        error=error,
    )


def _ids(*found: int | None) -> list[int]:
    return [i for i in found if i is not None]


handlers = [referral_list, decide_referral_reward]
