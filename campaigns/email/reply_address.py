"""Reply addresses: `reply+<token>@<reply domain>`, the token naming the message answered.

The token is a signed token of `templates.tokens` made with a key derived for
replies alone, so no click, open or unsubscribe token can pass for a reply
address and a reply token opens nothing on the web. It is written in lower-case
base32 because mail systems may change the case of an address's local part,
which would break a case-sensitive base64 token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from functools import lru_cache

from templates.tokens import TokenError, TokenSigner

PREFIX = "reply+"
_KEY_LABEL = b"nurture/campaigns/replies/v1"
_LOCAL = re.compile(r"^reply\+([a-z2-7]{24,80})$")


def reply_address(secret: str, domain: str, message_id: int) -> str:
    """The Reply-To address for message `message_id` (its EmailMessage row id)."""
    token = _signer(secret).open(message_id)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return f"{PREFIX}{base64.b32encode(raw).decode('ascii').rstrip('=').lower()}@{domain}"


def message_of_address(secret: str, address: str, domain: str | None = None) -> int | None:
    """The message id a reply address names, or None when it is not a genuine one.

    With `domain`, only addresses at that domain count (any case); the token must
    carry our signature either way.
    """
    local, at, host = address.strip().strip("<>").rpartition("@")
    if not at or (domain is not None and host.lower().rstrip(".") != domain.lower()):
        return None
    match = _LOCAL.match(local.lower())
    if match is None:
        return None
    encoded = match.group(1).upper()
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except (binascii.Error, ValueError):
        return None
    if base64.b32encode(raw).decode("ascii").rstrip("=") != encoded:
        return None  # unused trailing bits set: not an address we wrote
    token = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    try:
        return _signer(secret).verify_open(token)
    except TokenError:
        return None


@lru_cache(maxsize=8)
def _signer(secret: str) -> TokenSigner:
    # A key of its own: the reply token reuses the layout of an open token, and the
    # separate key is what keeps the two from standing in for each other.
    return TokenSigner(hmac.digest(secret.encode(), _KEY_LABEL, hashlib.sha256))
