"""The block model: an e-mail as a list of typed blocks between a verbatim head and tail.

A block is exactly one top-level child of `<mj-body>` (with the whitespace around it), so
"block N" means the same thing to the editor, the pre-save check and the reader. Field values
are the marketer's text as it goes into the MJML (inline HTML and Jinja kept as they are):
the block model never escapes or rewrites what she typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Fields = tuple[tuple[str, str], ...]

#: What an editor shows for a field: a one-line input, a plain text area, an inline-HTML
#: text area, a link, an image (upload or URL), a colour, a whole number, a choice, or a pick
#: from the content library (cards).
INPUTS = ("line", "text", "html", "url", "image", "color", "number", "select", "ref")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a kind. `choices` (value, label) pairs are set for `select` fields."""

    name: str
    label: str
    input: str
    default: str = ""
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class KindSpec:
    """A kind of block as the editor's palette shows it: its name, label and fields."""

    kind: str
    label: str
    fields: tuple[FieldSpec, ...] = field(default=())

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Block:
    """One block: its kind and its field values, in the order its kind lists them.

    Frozen and ordered so two reads of the same MJML compare equal; `Block.make` fills in
    defaults and orders the fields, so callers need not know either.
    """

    kind: str
    fields: Fields

    def get(self, name: str) -> str:
        """The value of field `name`, or "" if this block does not have it."""
        for key, value in self.fields:
            if key == name:
                return value
        return ""

    @classmethod
    def make(cls, kind: str, **values: str) -> Block:
        """A block of `kind` with `values`; missing fields take their kind's default.

        Raises KeyError for an unknown kind or a field the kind does not have, so a typo in
        a form handler fails loudly instead of silently dropping what she typed.
        """
        spec = RAW_SPEC if kind == "raw" else SPECS[kind]
        names = {f.name for f in spec.fields}
        unknown = set(values) - names
        if unknown:
            raise KeyError(f"{kind} has no field {sorted(unknown)[0]}")
        return cls(kind, tuple((f.name, values.get(f.name, f.default)) for f in spec.fields))

    def replace(self, **values: str) -> Block:
        """This block with some fields changed (same kind, same field order)."""
        current = dict(self.fields)
        current.update(values)
        return Block.make(self.kind, **current)


#: Every registered kind's spec by name; `templates.blocks.registry` fills it.
SPECS: dict[str, KindSpec] = {}

RAW_SPEC = KindSpec(
    "raw",
    "HTML/MJML",
    (FieldSpec("mjml", "MJML (kept exactly as written)", "text"),),
)


def raw(mjml: str) -> Block:
    """A block that keeps MJML exactly as written (the "HTML/MJML" block)."""
    return Block("raw", (("mjml", mjml),))


@dataclass(frozen=True, slots=True)
class Document:
    """An MJML document as blocks.

    `head` is everything up to and including the line that opens `<mj-body>`, `tail` from
    after the last block to the end (usually `  </mj-body>\\n</mjml>\\n`), both verbatim, so
    `write(read(s)) == s` for any `s`.
    """

    head: str
    blocks: tuple[Block, ...]
    tail: str
