"""Signed, compact, URL-safe tokens for tracking and unsubscribe links.

A token is base64url(payload || tag) where payload = version, purpose and the ids
as unsigned varints, and tag = the first 16 bytes (128 bits) of HMAC-SHA256 over
the payload with a key derived from the application secret. The purpose is part of
what is signed, so a click token cannot be used to unsubscribe someone. Tokens name
ids only: where a click leads is looked up from what was stored for the message.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from nurture.errors import DomainError

_VERSION = 1
_TAG_BYTES = 16
_KEY_LABEL = b"nurture/templates/tokens/v1"


class Purpose(enum.IntEnum):
    CLICK = 1
    OPEN = 2
    UNSUBSCRIBE = 3
    # Far from the others: purposes added by other features must never share a value.
    WEBINAR = 20
    # After the project (nurture.reviews): a survey's answer links, a testimonial form.
    SURVEY = 21
    TESTIMONIAL = 22


class TokenError(DomainError):
    """A token was refused. Web handlers answer 4xx and go nowhere."""


class TokenMalformed(TokenError):
    """Not a token we could have made (bad characters, length, version or layout)."""


class TokenForged(TokenError):
    """The signature does not match: the token was changed, or signed with another key."""


class TokenWrongPurpose(TokenError):
    """A genuine token, made for another purpose (say, a click token used as an open)."""


class TokenExpired(TokenError):
    """A genuine token whose last day has passed."""


@dataclass(frozen=True, slots=True)
class ClickRef:
    message_id: int
    link_index: int


@dataclass(frozen=True, slots=True)
class UnsubscribeRef:
    contact_id: int
    message_id: int | None


@dataclass(frozen=True, slots=True)
class WebinarRef:
    contact_id: int
    webinar_id: int


@dataclass(frozen=True, slots=True)
class ReviewRef:
    """What a survey or testimonial link names: the survey or testimonial, whose
    contact it is for (checked against the row by the caller) and its last day."""

    item_id: int
    contact_id: int
    expires_on: date


class TokenSigner:
    """Makes and checks tokens with one secret; cheap to call, so build it once."""

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        if len(raw) < 16:
            raise ValueError("the token secret must be at least 16 bytes")
        key = hmac.digest(raw, _KEY_LABEL, "sha256").ljust(64, b"\0")
        # HMAC (RFC 2104) spelt out with the two keyed hash states prepared once: each
        # token then costs two hash copies, which is several times cheaper than
        # hmac.new() or even hmac.digest() per token, and tokens are made in bulk.
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def click(self, message_id: int, link_index: int) -> str:
        return self._make(Purpose.CLICK, message_id, link_index)

    def click_maker(self, message_id: int) -> Callable[[int], str]:
        """`click` for one message, with the shared part of the payload prepared once."""
        prefix = bytes((_VERSION, Purpose.CLICK)) + _varint(message_id)

        def make(link_index: int) -> str:
            return self._encode(prefix + _varint(link_index))

        return make

    def open(self, message_id: int) -> str:
        return self._make(Purpose.OPEN, message_id)

    def unsubscribe(self, contact_id: int, message_id: int | None = None) -> str:
        # 0 stands for "no message": message ids start at 1.
        return self._make(Purpose.UNSUBSCRIBE, contact_id, message_id or 0)

    def webinar(self, contact_id: int, webinar_id: int) -> str:
        """A registration link token: this contact, this webinar."""
        return self._make(Purpose.WEBINAR, contact_id, webinar_id)

    def survey(self, survey_id: int, contact_id: int, expires_on: date) -> str:
        """A survey's answer link token: this survey, this contact, until `expires_on`."""
        return self._make(Purpose.SURVEY, survey_id, contact_id, _day(expires_on))

    def testimonial(self, testimonial_id: int, contact_id: int, expires_on: date) -> str:
        """A testimonial form's token: this testimonial, this contact, until `expires_on`."""
        return self._make(Purpose.TESTIMONIAL, testimonial_id, contact_id, _day(expires_on))

    def verify_click(self, token: str) -> ClickRef:
        message_id, link_index = self._check(token, Purpose.CLICK, 2)
        return ClickRef(message_id, link_index)

    def verify_open(self, token: str) -> int:
        (message_id,) = self._check(token, Purpose.OPEN, 1)
        return message_id

    def verify_unsubscribe(self, token: str) -> UnsubscribeRef:
        contact_id, message_id = self._check(token, Purpose.UNSUBSCRIBE, 2)
        return UnsubscribeRef(contact_id, message_id or None)

    def verify_webinar(self, token: str) -> WebinarRef:
        contact_id, webinar_id = self._check(token, Purpose.WEBINAR, 2)
        return WebinarRef(contact_id, webinar_id)

    def verify_survey(self, token: str, *, today: date) -> ReviewRef:
        """The survey link's content; TokenExpired after its last day."""
        return self._review(token, Purpose.SURVEY, today)

    def verify_testimonial(self, token: str, *, today: date) -> ReviewRef:
        """The testimonial link's content; TokenExpired after its last day."""
        return self._review(token, Purpose.TESTIMONIAL, today)

    def _review(self, token: str, purpose: Purpose, today: date) -> ReviewRef:
        item_id, contact_id, day = self._check(token, purpose, 3)
        expires_on = _EPOCH + timedelta(days=day)
        if today > expires_on:
            raise TokenExpired("this link has expired")
        return ReviewRef(item_id, contact_id, expires_on)

    def _tag(self, payload: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(payload)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:_TAG_BYTES]

    def _make(self, purpose: Purpose, *ids: int) -> str:
        return self._encode(bytes((_VERSION, purpose)) + b"".join([_varint(n) for n in ids]))

    def _encode(self, payload: bytes) -> str:
        raw = payload + self._tag(payload)
        encoded = binascii.b2a_base64(raw, newline=False).translate(_URLSAFE)
        return encoded.rstrip(b"=").decode("ascii")

    def _check(self, token: str, purpose: Purpose, count: int) -> list[int]:
        if not isinstance(token, str) or not 24 <= len(token) <= 120:
            raise TokenMalformed("not a token")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise TokenMalformed("not a token") from None
        if "=" in token or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != token:
            raise TokenMalformed("not a token")
        payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if len(payload) < 3 or payload[0] != _VERSION:
            raise TokenMalformed("unknown token version")
        if not hmac.compare_digest(tag, self._tag(payload)):
            raise TokenForged("the token's signature does not match")
        if payload[1] != purpose:
            raise TokenWrongPurpose(f"this token is not a {purpose.name.lower()} token")
        ids = _read_varints(payload[2:])
        if ids is None or len(ids) != count:
            raise TokenMalformed("the token's content is not valid")
        return ids


_URLSAFE = bytes.maketrans(b"+/", b"-_")
_EPOCH = date(1970, 1, 1)


def _day(value: date) -> int:
    return (value - _EPOCH).days


def _varint(number: int) -> bytes:
    if 0 <= number < 0x80:
        return bytes((number,))
    if number < 0:
        raise ValueError("ids in tokens must not be negative")
    out = bytearray()
    while True:
        low = number & 0x7F
        number >>= 7
        if number:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _read_varints(data: bytes) -> list[int] | None:
    numbers: list[int] = []
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte & 0x80:
            if shift > 63:
                return None
            continue
        numbers.append(value)
        value = shift = 0
    return None if shift else numbers
