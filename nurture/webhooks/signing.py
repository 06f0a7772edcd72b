"""The Standard Webhooks signing scheme (https://www.standardwebhooks.com/).

A secret is `whsec_` followed by the base64 of random bytes; the HMAC key is those
bytes. Each request carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
`webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `"{id}.{timestamp}.{body}"`.
Several signatures may stand in the header, separated by spaces; a receiver accepts
the request when any one verifies, which is how a rotated secret keeps working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's marker, not a secret
# The spec asks for 24 to 64 bytes of key.
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret, as the receiver pastes it into their verifier."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_...` secret."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError("not a whsec_ secret of base64 bytes") from None


def signature(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of a request."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secrets_in_use: Iterable[str], *, message_id: str, sent_at: datetime, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret in use."""
    timestamp = int(sent_at.timestamp())
    signatures = [
        signature(secret, message_id=message_id, timestamp=timestamp, body=body)
        for secret in secrets_in_use
    ]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }
