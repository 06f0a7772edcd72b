"""Relay webhooks for bounces and complaints: Amazon SES (through SNS) and SendGrid.

Public (no API key): each request is authenticated by the relay's own signature,
checked by `campaigns.delivery`; a bad or missing signature is a 400 and nothing
in the request is acted on. A relay that is not configured answers 404, so an
unconfigured endpoint accepts nothing (any AWS account could otherwise point its
own SNS topic here).
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import RawBody
from sqlalchemy.orm import Session

from campaigns.delivery.notices import WebhookRejected
from campaigns.delivery.sendgrid import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_sendgrid
from campaigns.delivery.sns import CertificateCache, verify_sns
from campaigns.email.bounces import apply_notices
from nurture.web.api.responses import errors
from nurture.web.state import settings_of

log = logging.getLogger(__name__)
Confirm = Callable[[str], None]


class WebhookAnswer(msgspec.Struct):
    """How many recipient notices the request held, and how many addresses it suppressed."""

    notices: int
    suppressed: int
    subscription_confirmed: bool = False


def sns_certificates(request: Request[Any, Any, Any]) -> CertificateCache:
    """The app's cache of SNS signing certificates (fetched over https once per URL)."""
    found: Any = request.app.state.get("sns_certificates")
    if isinstance(found, CertificateCache):
        return found
    made = CertificateCache()
    request.app.state.sns_certificates = made
    return made


def _confirm_over_https(url: str) -> None:
    # verify_sns has checked that the URL is https on an sns.<region>.amazonaws.com host.
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - checked https SNS URL
        answer.read(65536)


def sns_confirmer(request: Request[Any, Any, Any]) -> Confirm:
    found: Any = request.app.state.get("sns_confirm")
    return found if callable(found) else _confirm_over_https


@post(
    "/webhooks/ses",
    # No key: the relay signs the body. An empty requirement object says so in the
    # document; an empty list would read as unset and inherit the bearer requirement.
    security=[{}],
    sync_to_thread=True,
    status_code=200,
    summary="Amazon SES notifications delivered by SNS",
    description=(
        "Verifies the SNS signature (certificate from an sns.<region>.amazonaws.com URL) and "
        "the topic (NURTURE_SES_TOPIC_ARNS); confirms subscriptions; suppresses permanently "
        "bounced and complaining addresses."
    ),
    responses=errors(404),
)
def ses_webhook(
    request: Request[Any, Any, Any], body: RawBody, db: NamedDependency[Session]
) -> WebhookAnswer:
    arns = settings_of(request.app).ses_topic_arns
    if not arns:
        raise NotFoundException("the SES webhook is not configured (NURTURE_SES_TOPIC_ARNS)")
    message = verify_sns(body, certificates=sns_certificates(request), allowed_topic_arns=arns)
    if message.subscribe_url is not None and message.type == "SubscriptionConfirmation":
        try:
            sns_confirmer(request)(message.subscribe_url)
        except OSError as exc:
            raise WebhookRejected(f"could not confirm the SNS subscription: {exc}") from None
        return WebhookAnswer(0, 0, subscription_confirmed=True)
    results = apply_notices(db, message.notices)
    return WebhookAnswer(len(results), sum(1 for r in results if r.suppressed))


@post(
    "/webhooks/sendgrid",
    # No key: the relay signs the body. An empty requirement object says so in the
    # document; an empty list would read as unset and inherit the bearer requirement.
    security=[{}],
    sync_to_thread=True,
    status_code=200,
    summary="SendGrid Event Webhook",
    description=(
        "Verifies the ECDSA signature over timestamp + body with NURTURE_SENDGRID_PUBLIC_KEY; "
        "suppresses bounced addresses and spam reports."
    ),
    responses=errors(404),
)
def sendgrid_webhook(
    request: Request[Any, Any, Any], body: RawBody, db: NamedDependency[Session]
) -> WebhookAnswer:
    key = settings_of(request.app).sendgrid_public_key
    if not key:
        raise NotFoundException("the SendGrid webhook is not configured")
    notices = verify_sendgrid(
        body,
        signature=request.headers.get(SIGNATURE_HEADER),
        timestamp=request.headers.get(TIMESTAMP_HEADER),
        public_key=key,
    )
    results = apply_notices(db, notices)
    return WebhookAnswer(len(results), sum(1 for r in results if r.suppressed))


HANDLERS = [ses_webhook, sendgrid_webhook]
