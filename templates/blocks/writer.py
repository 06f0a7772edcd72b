"""Blocks -> MJML."""

from __future__ import annotations

from templates.blocks.model import Block, Document
from templates.blocks.registry import registered


def write(document: Document) -> str:
    """The MJML of a document: its head, each block's MJML, its tail."""
    return document.head + "".join(write_block(block) for block in document.blocks) + document.tail


def write_block(block: Block) -> str:
    """One block's MJML: exactly one top-level child of `<mj-body>` (a raw block's text as
    it is). KeyError for a kind nobody registered."""
    if block.kind == "raw":
        return block.get("mjml")
    kind = registered(block.kind)
    if kind is None:
        raise KeyError(f"no such kind of block: {block.kind}")
    return kind.writer(block)
