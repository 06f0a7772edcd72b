"""Optional DKIM signing of built messages (dkimpy), when a key is configured."""

from __future__ import annotations

import dkim as dkimpy  # type: ignore[import-untyped]

# What we sign: the headers a forger would want to change, and the body.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)


def sign(message: bytes, selector: str, domain: str, private_key_pem: bytes | str) -> bytes:
    """`message` with a DKIM-Signature header (rsa-sha256, relaxed/relaxed) in front."""
    key = private_key_pem.encode("ascii") if isinstance(private_key_pem, str) else private_key_pem
    signature = dkimpy.sign(
        message,
        selector.encode("ascii"),
        domain.encode("ascii"),
        key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=list(SIGNED_HEADERS),
        linesep=b"\r\n",
    )
    return bytes(signature) + message
