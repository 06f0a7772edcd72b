"""Quoted-printable bodies with CRLF line ends, built fast from cached pieces.

Encoding a 20 KB HTML part costs more than everything else per message, and
almost all of it is the template's constant text. Quoted-printable allows a soft
line break ("=" CRLF) anywhere, which decodes to nothing; so each piece Jinja
yields can be encoded on its own, starting on a fresh line, and the pieces simply
concatenated. The constant pieces are encoded once per template (`PieceEncoder`),
and only the values that differ per recipient are encoded per message.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable
from types import CodeType

from jinja2 import Template

SOFT_BREAK = b"=\r\n"
# Printable ASCII without "=", not ending in a space: quoted-printable as it is.
_PLAIN = re.compile(r"[ -<>-~]*[!-<>-~]\Z")
MAX_LINE = 76


def crlf(text: str) -> str:
    """`text` with every line ending (LF, CR or CRLF) made CRLF."""
    text = str(text)  # Markup's methods escape their arguments, and are slow
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", "\r\n")


def encode_qp(text: str) -> bytes:
    """`text` as UTF-8 quoted-printable with CRLF line ends and lines of at most 76 bytes."""
    encoded = binascii.b2a_qp(crlf(text).encode("utf-8"), istext=True)
    # b2a_qp writes soft breaks with LF when the text has no CRLF of its own.
    if b"\n" in encoded:
        encoded = encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return encoded


def encode_piece(text: str) -> bytes:
    """One piece, ready to be appended to any other: a soft break, then the piece.

    The piece's last line is kept under 76 bytes so the next piece's soft break fits.
    """
    if not text:
        return b""
    if len(text) < MAX_LINE and _PLAIN.match(text):
        # Most values (names, tracked URLs) need no escaping at all.
        return SOFT_BREAK + text.encode("ascii")
    encoded = encode_qp(str(text))
    last_start = encoded.rfind(b"\r\n") + 2 if b"\r\n" in encoded else 0
    while len(encoded) - last_start > MAX_LINE - 1:
        cut = last_start + MAX_LINE - 1
        # Never split an "=XX" escape.
        for back in (1, 2):
            if encoded[cut - back : cut - back + 1] == b"=":
                cut -= back
                break
        encoded = encoded[:cut] + SOFT_BREAK + encoded[cut:]
        last_start = cut + len(SOFT_BREAK)
    return SOFT_BREAK + encoded


class PieceEncoder:
    """Encodes the output of a Jinja template piece by piece, with its constants cached."""

    def __init__(self, constants: Iterable[str]) -> None:
        self._cache = {text: encode_piece(text) for text in constants if text}

    @classmethod
    def for_template(cls, template: Template) -> PieceEncoder:
        """An encoder that knows every constant string in `template`'s compiled code."""
        return cls(_code_strings(template.root_render_func.__code__))

    def encode(self, pieces: Iterable[str]) -> bytes:
        cache = self._cache
        return b"".join([cache.get(piece) or encode_piece(piece) for piece in pieces])


def _code_strings(code: CodeType) -> set[str]:
    # Jinja yields template text as constants of the generated code (and of nested
    # functions for macros and loops), so these are exactly the constant pieces.
    found: set[str] = set()
    for const in code.co_consts:
        if isinstance(const, str):
            found.add(const)
        elif isinstance(const, CodeType):
            found |= _code_strings(const)
    return found
