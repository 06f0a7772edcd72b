"""Reviews actors: thank advocates once the commit that moved their referrals is in.

Importing this module registers the reviews' pieces of the sequence engine (the
`review_email` kinds and the `account_manager` assignee): `campaigns` may not import
`nurture.reviews`, so every process that runs sequence steps gets them from here
(`workers.actors` imports this module; the Dramatiq worker and the embedded runtime
load `workers.actors`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import dramatiq
from sqlalchemy.orm import Session

from campaigns.delivery.factory import transport_for
from nurture.models import utcnow
from nurture.reviews import steps
from nurture.reviews.referral_thanks import thank_advocates
from workers import context

log = logging.getLogger(__name__)

steps.register()


# Retrying is safe: each thank-you has the key `referral:<id>:thanks:<status>`.
@dramatiq.actor(queue_name="email", max_retries=5)
def thank_referrals(referral_ids: list[int]) -> None:
    """E-mail the advocates of these referrals whose status is a thank stage."""
    with context.session() as db:
        thank_advocates(
            db,
            referral_ids,
            transport=transport_for(context.settings()),
            config=context.mail_config(),
            now=utcnow(),
        )


def thank_after_commit(session: Session, referral_ids: Iterable[int]) -> None:
    """Have `thank_referrals` run for these referrals once `session` commits."""
    _keep_referrals(session, referral_ids)


def _send_thanks(referral_ids: list[int]) -> None:
    try:
        thank_referrals.send(sorted(set(referral_ids)))
    except Exception:
        log.exception("could not enqueue the thanks of %d referrals", len(referral_ids))


_keep_referrals = context.after_commit("referrals_to_thank", _send_thanks)
