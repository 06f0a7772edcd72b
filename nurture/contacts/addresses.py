"""E-mail address checks shared by every way contacts come in."""

from __future__ import annotations

import hashlib
import re

# Deliberately simple: RFC 5322 allows far more than any mailbox provider does,
# and a stricter check belongs to delivery (bounces), not to ingest.
_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# The everyday address (name@firm.example) in one match; anything else takes the full check.
_COMMON = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z"
)


def normalise_email(raw: str) -> str:
    """The address trimmed and lower-cased; ValueError says what is wrong."""
    value = raw.strip().lower()
    if len(value) <= 254 and _COMMON.match(value) and len(value.partition("@")[0]) <= 64:
        return value
    if not value:
        raise ValueError("is empty")
    if len(value) > 320:
        raise ValueError("is longer than 320 characters")
    local, sep, domain = value.rpartition("@")
    if not sep or not local or not domain:
        raise ValueError(f"{raw!r} is not an e-mail address")
    if len(local) > 64 or not _LOCAL.match(local) or local.startswith(".") or ".." in local:
        raise ValueError(f"{raw!r} is not an e-mail address")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{raw!r} has no valid domain")
    return value


def email_hash(normalised: str) -> str:
    """Hex SHA-256 of a normalised address: how suppressions remember erased people."""
    return hashlib.sha256(normalised.encode()).hexdigest()
