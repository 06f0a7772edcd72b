"""SendGrid's Event Webhook: ECDSA P-256 signature check, then events to notices.

SendGrid signs `timestamp + raw body` (SHA-256, ECDSA with its P-256 key) and sends
the signature (base64 DER) and timestamp in the X-Twilio-Email-Event-Webhook-Signature
and -Timestamp headers; the public "verification key" from the SendGrid settings is
base64 DER (SubjectPublicKeyInfo), which is what NURTURE_SENDGRID_PUBLIC_KEY holds.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from campaigns.delivery.notices import Notice, NoticeKind, WebhookRejected
from nurture.validation import parse_id

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
# Requests signed longer ago than this are refused (a replayed capture).
MAX_AGE_SECONDS = 600
# The custom argument that carries our message id, when sends set it.
CUSTOM_ARG = "nurture_message_id"


def verify_sendgrid(
    body: bytes,
    *,
    signature: str | None,
    timestamp: str | None,
    public_key: str,
    now: float | None = None,
) -> list[Notice]:
    """Check the signature over timestamp + body and parse the events; WebhookRejected
    when the headers are missing, the signature is wrong or the timestamp is stale."""
    if not signature or not timestamp:
        raise WebhookRejected(f"the {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} headers are required")
    # isascii: '²' is a digit to isdigit() and no number to int().
    if (
        not (timestamp.isascii() and timestamp.isdigit())
        or abs((now or time.time()) - int(timestamp)) > MAX_AGE_SECONDS
    ):
        raise WebhookRejected("the webhook timestamp is missing or too old")
    try:
        raw_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookRejected("the signature is not base64") from None
    try:
        _key(public_key).verify(
            raw_signature, timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        raise WebhookRejected("the SendGrid signature does not match") from None
    try:
        events = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("the body is not JSON") from None
    if not isinstance(events, list):
        raise WebhookRejected("the body is not a JSON array of events")
    return [n for e in events if isinstance(e, Mapping) and (n := sendgrid_notice(e))]


def sendgrid_notice(event: Mapping[str, Any]) -> Notice | None:
    """One SendGrid event as a notice, or None for events we do not act on (opens...)."""
    name = event.get("event")
    email = str(event.get("email", ""))
    if "@" not in email:
        return None
    detail = str(event.get("reason") or event.get("response") or "")[:500]
    if name == "bounce":
        # "blocked" bounces are the receiver refusing for now (reputation, content).
        kind = NoticeKind.SOFT_BOUNCE if event.get("type") == "blocked" else NoticeKind.HARD_BOUNCE
    elif name == "spamreport":
        kind = NoticeKind.COMPLAINT
    elif name == "deferred":
        kind = NoticeKind.SOFT_BOUNCE
    elif name == "delivered":
        kind = NoticeKind.DELIVERED
    elif name == "dropped":
        kind = NoticeKind.OTHER
    else:
        return None
    ours = str(event.get(CUSTOM_ARG, "")).strip()
    unique = event.get("unique_args")
    if not ours and isinstance(unique, Mapping):
        ours = str(unique.get(CUSTOM_ARG, "")).strip()
    smtp_id = event.get("smtp-id")
    return Notice(
        kind,
        email,
        "sendgrid",
        str(event.get("sg_event_id") or event.get("sg_message_id") or ""),
        detail,
        parse_id(ours),
        str(smtp_id) if smtp_id else None,
    )


@cache
def _key(public_key: str) -> ec.EllipticCurvePublicKey:
    text = public_key.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            key = serialization.load_der_public_key(base64.b64decode(text))
    except (ValueError, binascii.Error):
        raise WebhookRejected("NURTURE_SENDGRID_PUBLIC_KEY is not a public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise WebhookRejected("NURTURE_SENDGRID_PUBLIC_KEY is not an elliptic curve key")
    return key
