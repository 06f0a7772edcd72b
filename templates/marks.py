"""Jinja constructs swapped for inert marks, so HTML and MJML tools never see Jinja syntax.

`protect` replaces every `{{ }}`, `{% %}` and `{# #}` with a numbered ASCII mark
(MRML escapes non-ASCII characters in attribute values, so the marks are plain
letters and digits), and `restore` puts the original text back. MJML compilation and
HTML-to-text conversion run on the protected text; a `<` inside `{% if a < b %}` can
then no longer break them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

OPEN = "NURTUREMARK"
CLOSE = "X"
MARK = re.compile(f"{OPEN}(\\d+){CLOSE}")
# Our marks, and those the tracking instrumentation uses for its own code.
_RESERVED = re.compile("NURTUREMARK|NURTUREGEN")

_CONSTRUCT = re.compile(
    r"""
      \{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}          # a raw block is one unit
    | \{\{(?:[^}'"]|'[^']*'|"[^"]*"|\}(?!\}))*\}\}          # expression
    | \{%(?:[^%'"]|'[^']*'|"[^"]*"|%(?!\}))*%\}             # statement
    | \{\#.*?\#\}                                           # comment
    """,
    re.DOTALL | re.VERBOSE,
)

Kind = Literal["expression", "statement", "comment"]


@dataclass(frozen=True, slots=True)
class Construct:
    kind: Kind
    source: str
    line: int  # 1-based line in the original text


@dataclass(frozen=True, slots=True)
class Protected:
    text: str
    constructs: tuple[Construct, ...]
    # (offset in protected text, offset in original) at the start of every mark and after it.
    offsets: tuple[tuple[int, int], ...]

    def original_offset(self, offset: int) -> int:
        """Where `offset` in the protected text was in the original text."""
        best = (0, 0)
        for pair in self.offsets:
            if pair[0] > offset:
                break
            best = pair
        return best[1] + (offset - best[0])


def mark(index: int) -> str:
    return f"{OPEN}{index}{CLOSE}"


def protect(text: str) -> Protected:
    """`text` with every Jinja construct replaced by a numbered mark."""
    if _RESERVED.search(text):
        raise ValueError("the words NURTUREMARK and NURTUREGEN are reserved")
    constructs: list[Construct] = []
    offsets: list[tuple[int, int]] = []
    pieces: list[str] = []
    shift = 0
    position = 0
    for match in _CONSTRUCT.finditer(text):
        source = match.group(0)
        if source.startswith("{{"):
            kind: Kind = "expression"
        elif source.startswith("{#"):
            kind = "comment"
        else:
            kind = "statement"
        placeholder = mark(len(constructs))
        constructs.append(Construct(kind, source, text.count("\n", 0, match.start()) + 1))
        pieces.append(text[position : match.start()])
        offsets.append((match.start() + shift, match.start()))
        pieces.append(placeholder)
        shift += len(placeholder) - len(source)
        offsets.append((match.end() + shift, match.end()))
        position = match.end()
    pieces.append(text[position:])
    return Protected("".join(pieces), tuple(constructs), tuple(offsets))


def restore(text: str, constructs: tuple[Construct, ...]) -> str:
    """`text` with every mark replaced by its original Jinja source."""
    return MARK.sub(lambda m: constructs[int(m.group(1))].source, text)


def marks_in(text: str) -> list[int]:
    """The construct numbers of the marks in `text`, in order."""
    return [int(n) for n in MARK.findall(text)]


_JINJA_START = re.compile(r"\{(?=[{%#])")


def inert_static(text: str) -> str:
    """`text` (with marks) where a literal `{{`, `{%` or `{#` outside the marks, say in
    CSS or in text decoded from HTML entities, can no longer start Jinja."""
    pieces = MARK.split(text)
    # MARK.split alternates static text and the captured mark numbers.
    for index in range(0, len(pieces), 2):
        pieces[index] = _JINJA_START.sub("{{ '{' }}", pieces[index])
    for index in range(1, len(pieces), 2):
        pieces[index] = mark(int(pieces[index]))
    return "".join(pieces)
