"""MJML -> blocks, never losing a character."""

from __future__ import annotations

import re

from templates.blocks.model import Block, Document, raw
from templates.blocks.registry import registered
from templates.blocks.scan import split_body

# The marker on a typed block's outer element: `css-class="nb-<kind> ..."`.
_MARKER = re.compile(r'\A\s*<mj-(?:section|wrapper)\b[^>]*?\scss-class="nb-([a-z0-9_]+)[\s"]')


def read(mjml: str) -> Document:
    """The document as blocks. Never raises: a child of `<mj-body>` that no kind writes
    exactly as it stands becomes a raw block holding its text, and a document without a
    body is one raw block."""
    body = split_body(mjml)
    if body is None:
        return Document("", (raw(mjml),) if mjml else (), "")
    blocks = tuple(read_block(mjml[start:end]) for start, end in body.pieces)
    return Document(mjml[: body.head_end], blocks, mjml[body.tail_start :])


def read_block(text: str) -> Block:
    """One block from its MJML (one child of `<mj-body>` with its whitespace)."""
    marker = _MARKER.match(text)
    if marker is not None:
        kind = registered(marker.group(1))
        if kind is not None:
            block = kind.reader(text)
            if block is not None:
                return block
    return raw(text)
