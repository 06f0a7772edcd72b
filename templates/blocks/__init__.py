"""E-mails as blocks: the block model, its MJML writer and reader, the blank layout.

    doc = read(mjml)                 # never raises; untyped parts become raw blocks
    assert write(doc) == mjml        # for every string
    doc = Document(doc.head, (*doc.blocks, Block.make("button", label="Read")), doc.tail)

MJML stays the stored format; blocks are a view of it. See docs/email-builder.md.
"""

import importlib

import templates.blocks.kinds  # noqa: F401  (registers the built-in kinds)
from templates.blocks.layout import new_document
from templates.blocks.model import INPUTS, Block, Document, FieldSpec, KindSpec, raw
from templates.blocks.reader import read, read_block
from templates.blocks.registry import KINDS, available_kinds, kind_spec, register_kind
from templates.blocks.writer import write, write_block

__all__ = [
    "INPUTS",
    "KINDS",
    "Block",
    "Document",
    "FieldSpec",
    "KindSpec",
    "available_kinds",
    "kind_spec",
    "new_document",
    "raw",
    "read",
    "read_block",
    "register_kind",
    "write",
    "write_block",
]


def _register_cards() -> None:
    # The cards live in their own module (they are picked from the content library); it
    # registers its kinds on import. Without it, the palette simply has no cards.
    try:
        importlib.import_module("templates.blocks.cards")
    except ModuleNotFoundError as error:
        if error.name != "templates.blocks.cards":
            raise


_register_cards()
