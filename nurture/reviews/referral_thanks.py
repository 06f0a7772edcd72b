# ruff: noqa: RUF001  (Russian words: their Cyrillic letters are meant)
"""Thanking an advocate by e-mail when their referral reaches a stage the firm chose.

One message per referral and stage, keyed `referral:<id>:thanks:<status>`: a referral
seen again (a redelivered event batch, a racing worker) finds its message and sends
nothing more. The template is the one in the settings, else the starter
`referral_thanks`, loaded from the starter library the first time it is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.content.registrations import starter_template_id
from campaigns.delivery.transport import Transport
from campaigns.email.mailconfig import MailConfig
from campaigns.email.pipeline import send_to_contact
from nurture.errors import NotFound
from nurture.models import (
    Contact,
    EmailMessage,
    MessageStatus,
    Referral,
    ReferralCode,
    ReferralStatus,
)
from nurture.reviews import review_settings
from templates.requirements import register_sender

THANKS_STARTER = "referral_thanks"
register_sender("referral.thanks", "the referral thank-you", {"referral", "referral_url"})
_STAGE_WORDS = {
    "en": {
        ReferralStatus.LEAD.value: "got in touch with us",
        ReferralStatus.QUALIFIED.value: "is now talking with our team about a project",
        ReferralStatus.WON.value: "has become our client",
        ReferralStatus.REWARDED.value: "has become our client, and your reward is on its way",
    },
    "ru": {
        ReferralStatus.LEAD.value: "связался(ась) с нами",
        ReferralStatus.QUALIFIED.value: "обсуждает с нашей командой проект",
        ReferralStatus.WON.value: "стал(а) нашим клиентом",
        ReferralStatus.REWARDED.value: "стал(а) нашим клиентом, и ваша награда уже в пути",
    },
}


def thanks_key(referral_id: int, status: str) -> str:
    return f"referral:{referral_id}:thanks:{status}"


def thank_advocates(
    session: Session,
    referral_ids: Sequence[int],
    *,
    transport: Transport,
    config: MailConfig,
    now: datetime,
) -> list[int]:
    """Thank the advocates of these referrals whose current status is one of the
    settings' thank stages; answers the ids of the messages that went out. Commits
    (the mail pipeline records each message before sending it)."""
    if not referral_ids:
        return []
    settings = review_settings.get(session)
    stages = set(settings.thank_stages or [])
    rows = session.scalars(
        select(Referral)
        .where(Referral.id.in_(sorted(set(referral_ids))), Referral.status.in_(sorted(stages)))
        .order_by(Referral.id)
    ).all()
    if not rows:
        return []
    reward_text = settings.reward_text
    template_id = settings.thank_template_id
    if template_id is None:
        template_id = starter_template_id(session, THANKS_STARTER)
    sent: list[int] = []
    for referral in rows:
        key = thanks_key(referral.id, referral.status)
        done = session.scalar(
            select(EmailMessage.status).where(EmailMessage.idempotency_key == key)
        )
        if done is not None and done != MessageStatus.QUEUED.value:
            continue
        advocate = session.get(Contact, referral.advocate_id)
        if advocate is None or advocate.email is None:
            continue
        referred = (
            session.get(Contact, referral.referred_contact_id)
            if referral.referred_contact_id is not None
            else None
        )
        code = session.get(ReferralCode, referral.code_id)
        extra = {
            "referral": _view(referral, referred, advocate, reward_text),
            "referral_url": (
                f"{config.base_url.rstrip('/')}/refer/{code.code}" if code is not None else ""
            ),
        }
        try:
            message = send_to_contact(
                session,
                template_id,
                advocate.id,
                idempotency_key=key,
                transport=transport,
                config=config,
                extra=extra,
            )
        except NotFound:
            # The chosen template was deleted since: nothing to send with.
            continue
        if message.status == MessageStatus.SENT.value:
            sent.append(message.id)
    return sent


def _view(
    referral: Referral, referred: Contact | None, advocate: Contact, reward_text: str
) -> dict[str, Any]:
    """The `referral` a thank-you template sees."""
    locale = (advocate.locale or "").lower()[:2]
    words = _STAGE_WORDS.get(locale, _STAGE_WORDS["en"])
    return {
        "first_name": (referred.first_name or "") if referred is not None else "",
        "stage": referral.status,
        "stage_text": words.get(referral.status, ""),
        "reward_text": reward_text,
    }
