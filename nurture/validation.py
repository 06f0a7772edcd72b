"""The shape rules that every way in shares, each written once.

The API, the UI forms, the CSV importer, segment rules and sequence
definitions all check ids, event types, attribute keys, NUL characters and
cursors here, so that what one entrance accepts another can name: a key the
API stores is a key a segment rule can test.

Patterns end in `\\Z`, never `$`: `$` also matches before a trailing newline,
which let `"plan\\n"` through one check and not another.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from nurture.errors import InvalidInput

# Ids are 64-bit signed integers in the database; a larger number is no id at all.
MAX_ID = 2**63 - 1
EVENT_TYPE = re.compile(r"[a-z0-9._-]{1,100}\Z")
EVENT_TYPE_RULE = "must be 1 to 100 characters of a-z, 0-9, '.', '_' or '-'"
ATTRIBUTE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
ATTRIBUTE_KEY_RULE = "names must be letters, digits and _ (up to 64), not starting with a digit"
NUL_MESSAGE = "must not contain NUL (\\u0000) characters"
BAD_CURSOR = "is not a cursor this listing gave out"
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}\Z")


def is_id(value: object) -> bool:
    """Whether the value could be a row id: a positive integer that fits a BIGINT."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def parse_id(text: str) -> int | None:
    """The id written in `text` (ASCII digits only, within BIGINT), or None.

    `str.isdigit()` is not enough: "²" passes it and fails `int()`.
    """
    if not _ASCII_DIGITS.match(text):
        return None
    value = int(text)
    return value if is_id(value) else None


def is_event_type(value: object) -> bool:
    return isinstance(value, str) and EVENT_TYPE.match(value) is not None


def is_attribute_key(value: object) -> bool:
    return isinstance(value, str) and ATTRIBUTE_KEY.match(value) is not None


def holds_nul(value: object) -> bool:
    """Whether a NUL character hides in any key or string: PostgreSQL cannot store one."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(v) for v in value)
    return False


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque listing position (base64 of JSON) for `next_cursor`."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, key: str, *, field: str = "cursor") -> Any:
    """The value under `key` in a cursor `encode_cursor` wrote; InvalidInput names `field`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return position[key]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidInput.single(field, BAD_CURSOR) from None
