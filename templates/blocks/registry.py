"""The kinds of block: each one's spec, its MJML writer and its reader.

Built-in kinds register themselves in `templates.blocks.kinds` and the cards in
`templates.blocks.cards`, both imported by the package itself, so a kind is known wherever
`templates.blocks` is. A kind needs only a writer: its reader is derived from
the writer (see `templates.blocks.derive`), so the two can never disagree about the markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from templates.blocks.derive import derived_reader
from templates.blocks.model import RAW_SPEC, SPECS, Block, KindSpec

Writer = Callable[[Block], str]
Reader = Callable[[str], "Block | None"]


@dataclass(frozen=True, slots=True)
class Kind:
    spec: KindSpec
    writer: Writer
    reader: Reader


_KINDS: dict[str, Kind] = {}

#: The editor's palette, in order; `raw` (the HTML/MJML block) last.
KINDS: tuple[str, ...] = (
    "header",
    "heading",
    "text",
    "image",
    "button",
    "columns",
    "divider",
    "spacer",
    "case_study",
    "webinar",
    "signature",
    "footer",
    "raw",
)


def register_kind(spec: KindSpec, writer: Writer, reader: Reader | None = None) -> None:
    """Add a kind of block (or replace one of the same name, so a module can be reloaded).

    `writer(block)` returns the block's MJML: one top-level `<mj-section>` or `<mj-wrapper>`
    whose `css-class` starts with `nb-<kind>`, indented four spaces and ending in a newline.
    `reader(text)` returns the block whose writer gives exactly `text`, or None; without one,
    a reader is derived from the writer, which is then run once per choice of its `select`
    fields with placeholders in the others: so a writer must accept any string in a field
    that is not a `select` (a `number` or `ref` included) and put it in the MJML as it is.
    """
    if not spec.kind.replace("_", "").isalnum() or spec.kind == "raw":
        raise ValueError(f"bad kind name {spec.kind!r}")
    _KINDS[spec.kind] = Kind(spec, writer, reader or derived_reader(spec, writer))
    SPECS[spec.kind] = spec


def kind_spec(kind: str) -> KindSpec:
    """The spec of `kind`; KeyError if no such kind is registered."""
    if kind == "raw":
        return RAW_SPEC
    return _KINDS[kind].spec


def available_kinds() -> tuple[str, ...]:
    """The kinds of `KINDS` that are registered (the cards only once their module is there),
    in the palette's order."""
    return tuple(k for k in KINDS if k == "raw" or k in _KINDS)


def registered(kind: str) -> Kind | None:
    """A kind's spec, writer and reader; None if nobody registered it."""
    return _KINDS.get(kind)
