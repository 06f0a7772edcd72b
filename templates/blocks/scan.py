"""Finding the top-level children of `<mj-body>` in MJML that may be malformed.

A small tokenizer, not a full XML parser: MJML as we store it is not XML (Jinja sits inside
attribute values and between elements, `<` and `&` appear bare in text), and an XML parser
would refuse or rewrite it. The tokenizer only needs the extent of each element, so it knows
tags, quoted attribute values, comments, Jinja delimiters and MJML's "ending tags" (whose
content is raw HTML up to their closing tag, as mjml itself reads them); anything it cannot
place becomes text. Every span it returns indexes the original string, so the caller can cut
the document into pieces that join back into exactly the same string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Elements whose content mjml takes as raw HTML up to the closing tag.
ENDING_TAGS = frozenset(
    {
        "mj-text",
        "mj-button",
        "mj-raw",
        "mj-table",
        "mj-style",
        "mj-title",
        "mj-preview",
        "mj-navbar-link",
        "mj-social-element",
        "mj-accordion-title",
        "mj-accordion-text",
    }
)

_NAME = r"([A-Za-z][A-Za-z0-9_:.\-]*)"
# Jinja delimiters, each at most 2,000 characters long: an opener without its closer would
# otherwise be searched for to the end of the text at every "<" after it (minutes for a
# pasted 100 KB of broken markup). A longer construct is read as text, which at worst makes
# its section raw.
_JINJA = r"\{\{.{0,2000}?\}\}|\{%.{0,2000}?%\}|\{#.{0,2000}?#\}"
# A start tag: quoted values and Jinja may hold anything (a ">" too); a bare "<" or a Jinja
# opener without its closer means it is not a tag after all. Possessive, so text that is not a
# tag fails fast instead of backtracking.
_START_TAG = re.compile(
    "<" + _NAME + r"""(?:[^>"'{<]|"[^"]*"|'[^']*'|""" + _JINJA + r"|\{(?![{%#]))*+>",
    re.DOTALL,
)
_END_TAG = re.compile("</" + _NAME + r"\s*>")
# Text up to the next "<" or unmatched Jinja opener; Jinja in text is skipped whole, so a
# "<" inside `{{ ... }}` is not taken for a tag.
_TEXT = re.compile(r"(?:[^<{]|" + _JINJA + r"|\{(?![{%#]))*+", re.DOTALL)
_CLOSERS: dict[str, re.Pattern[str]] = {
    name: re.compile("</" + re.escape(name) + r"\s*>", re.IGNORECASE) for name in ENDING_TAGS
}
_KEYWORD = re.compile(r"\{%[-+]?\s*(\w+)")
_TRAILING = re.compile(r"[ \t]*\r?\n")
# Jinja statements that open a block closed by `end<name>`.
_OPENERS = frozenset({"if", "for", "with", "filter", "call", "macro", "autoescape", "block", "raw"})


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "start", "end", "empty" (self-closing), "text", "comment"
    start: int
    end: int
    name: str = ""


def tokens(source: str) -> Iterator[Token]:
    """The tokens of `source`, covering it from start to end without gaps."""
    position = 0
    length = len(source)
    while position < length:
        tag = _tag(source, position) if source[position] == "<" else None
        if tag is None:
            end = _text_end(source, position + 1 if source[position] == "<" else position)
            yield Token("text", position, end)
            position = end
            continue
        yield tag
        position = tag.end
        if tag.kind == "start" and tag.name in ENDING_TAGS:
            found = _CLOSERS[tag.name].search(source, position)
            content_end = found.start() if found else length
            if content_end > position:
                yield Token("text", position, content_end)
            if found:
                yield Token("end", found.start(), found.end(), tag.name)
            position = found.end() if found else length


def _text_end(source: str, position: int) -> int:
    """Where a run of text starting at `position` ends: at the next tag, skipping Jinja."""
    length = len(source)
    while position < length:
        run = _TEXT.match(source, position)  # always matches, if only the empty string
        position = run.end() if run else position
        if position >= length or _tag(source, position) is not None:
            return position
        position += 1  # a "{" or "<" that opens nothing: text
    return length


def _tag(source: str, position: int) -> Token | None:
    """The tag starting at `position` (which holds "<"), or None if it is not one."""
    if source.startswith("<!--", position):
        close = source.find("-->", position + 4)
        return Token("comment", position, len(source) if close == -1 else close + 3)
    match = _END_TAG.match(source, position)
    if match is not None:
        return Token("end", position, match.end(), match.group(1).lower())
    match = _START_TAG.match(source, position)
    if match is None:
        return None
    kind = "empty" if match.group().endswith("/>") else "start"
    return Token(kind, position, match.end(), match.group(1).lower())


@dataclass(frozen=True, slots=True)
class Body:
    """Where `<mj-body>`'s children are: the head ends at `head_end`, each piece is a
    (start, end) span of one child with its whitespace, and the tail starts at the end of
    the last piece. The pieces are contiguous, so joining them gives the body exactly."""

    head_end: int
    pieces: tuple[tuple[int, int], ...]
    tail_start: int


def split_body(source: str) -> Body | None:
    """The top-level children of `<mj-body>` in `source`, or None if it has no body."""
    stream = list(tokens(source))
    opening = next(
        (i for i, t in enumerate(stream) if t.kind == "start" and t.name == "mj-body"), None
    )
    if opening is None:
        return None
    head_end = stream[opening].end
    newline = _TRAILING.match(source, head_end)
    if newline is not None:
        head_end = newline.end()
    units = _group_statements(source, _units(source, stream[opening + 1 :], head_end))
    pieces: list[tuple[int, int]] = []
    position = head_end
    for _start, end in units:
        if end <= position:
            continue
        trailing = _TRAILING.match(source, end)
        if trailing is not None:
            end = trailing.end()
        pieces.append((position, end))
        position = end
    return Body(head_end, tuple(pieces), position)


def _units(source: str, stream: list[Token], head_end: int) -> list[tuple[int, int]]:
    """The spans of the body's top-level children (elements, text, comments, statements),
    without the whitespace between them; stops at `</mj-body>`."""
    units: list[tuple[int, int]] = []
    stack: list[str] = []
    start = 0
    for token in stream:
        if token.end <= head_end:
            continue
        if not stack:
            if token.kind == "end" and token.name == "mj-body":
                break
            if token.kind == "start":
                stack.append(token.name)
                start = token.start
            elif token.kind == "text":
                units.extend(_text_units(source, max(token.start, head_end), token.end))
            else:
                units.append((token.start, token.end))
            continue
        if token.kind == "start":
            stack.append(token.name)
        elif token.kind == "end":
            if token.name == "mj-body" and "mj-body" not in stack:
                # An unclosed element: keep it (malformed, so raw) and stop at the body's end.
                end = token.start
                while end > start and source[end - 1] in " \t\r\n":
                    end -= 1
                units.append((start, end))
                stack.clear()
                break
            if token.name in stack:
                while stack.pop() != token.name:
                    pass
                if not stack:
                    units.append((start, token.end))
    else:
        if stack:
            units.append((start, len(source)))
    return units


def _text_units(source: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Text between elements: each Jinja statement is a unit, and so is each run of other
    text (trimmed of whitespace); whitespace alone is not."""
    position = start
    while True:
        opening = source.find("{%", position, end)
        # Without a "%}" after this opener there is none after any later one either, so
        # the search stops: linear even for text full of unclosed openers.
        closing = source.find("%}", opening + 2, end) if opening != -1 else -1
        if closing == -1:
            break
        yield from _trimmed(source, position, opening)
        yield opening, closing + 2
        position = closing + 2
    yield from _trimmed(source, position, end)


def _trimmed(source: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    text = source[start:end]
    stripped = text.strip()
    if stripped:
        left = start + len(text) - len(text.lstrip())
        yield left, left + len(stripped)


def _group_statements(source: str, units: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Units with each top-level `{% if %}...{% endif %}` (and the like) merged into one, so
    a condition and the elements it guards stay together as one block. An opener without
    its closer stays a unit of its own."""
    closing: dict[int, int] = {}
    open_at: list[int] = []
    for index, (start, end) in enumerate(units):
        name = _statement_name(source, start, end)
        if name in _OPENERS:
            open_at.append(index)
        elif name is not None and name.startswith("end") and name[3:] in _OPENERS and open_at:
            closing[open_at.pop()] = index
    grouped: list[tuple[int, int]] = []
    index = 0
    while index < len(units):
        last = closing.get(index, index)
        grouped.append((units[index][0], units[last][1]))
        index = last + 1
    return grouped


def _statement_name(source: str, start: int, end: int) -> str | None:
    """The keyword of the Jinja statement that is exactly `source[start:end]`, else None."""
    if not source.startswith("{%", start) or source.find("%}", start, end) != end - 2:
        return None
    match = _KEYWORD.match(source, start, end)
    return match.group(1) if match else None
