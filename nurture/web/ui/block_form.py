"""The block editor's form: one locale's blocks as posted, read back into a document, and
problems placed on the block field they come from.

A posted form is a flat mapping (no repeated keys), so each block's inputs carry the
block's key in their name (`block__<key>__<field>`, `block_kind__<key>`) and the order of
the blocks is one hidden field, `blocks_order`, that lists the keys. The page writes it in
the server's order and the script rewrites it after every move, so the form is right with
or without the script having run.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nurture.errors import Problem
from templates.blocks import KINDS, Block, Document, kind_spec, write, write_block

ORDER_FIELD = "blocks_order"
RAW = "raw"
_KEY = re.compile(r"^[a-z0-9]{1,24}$")
# A store problem on a body names its line ("line 12: ...") or the field it refuses
# ("unknown field contact.favourite_colour"): either leads back to the block.
_LINE = re.compile(r"^line (\d+): ")
_NAMED = re.compile(r"\b(?:contact|company|rep|brand)\.[A-Za-z_][\w.]*")


@dataclass(slots=True)
class BlockRow:
    """One block in the editor: its form key, the block, and problems by field name."""

    key: str
    block: Block
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return kind_label(self.block.kind)


@dataclass(slots=True)
class BlockEditorState:
    """What the block editor shows for one locale, as typed (nothing is lost when a save
    is refused). `head` and `tail` are the MJML around the blocks, kept verbatim."""

    name: str
    locale: str
    subject: str
    preheader: str
    head: str
    tail: str
    rows: list[BlockRow]
    errors: dict[str, list[str]] = field(default_factory=dict)
    other_errors: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.other_errors or any(r.errors for r in self.rows))


def new_key() -> str:
    """A key for a block added in the browser: unique on the page, safe in a field name."""
    return "n" + secrets.token_hex(5)


def valid_key(key: str) -> bool:
    return bool(_KEY.match(key))


def kind_label(kind: str) -> str:
    if kind == RAW:
        return "HTML/MJML"
    try:
        return kind_spec(kind).label
    except (KeyError, ValueError):
        return kind


def known_kind(kind: str) -> bool:
    """Whether `kind` is a registered kind (the cards register theirs only when present)."""
    if kind == RAW:
        return True
    if kind not in KINDS:
        return False
    try:
        kind_spec(kind)
    except KeyError:
        return False
    return True


def from_document(
    *, name: str, locale: str, subject: str, preheader: str, document: Document
) -> BlockEditorState:
    rows = [BlockRow(f"b{n}", block) for n, block in enumerate(document.blocks)]
    return BlockEditorState(name, locale, subject, preheader, document.head, document.tail, rows)


def _text(data: Mapping[str, str], key: str, default: str = "") -> str:
    return str(data.get(key, default)).replace("\r\n", "\n")


def read_block(data: Mapping[str, str], key: str) -> BlockRow:
    """Block `key` as posted. An unknown kind keeps its key and says so on the block."""
    kind = str(data.get(f"block_kind__{key}", ""))
    if kind == RAW:
        return BlockRow(key, Block(RAW, (("mjml", _text(data, f"block__{key}__mjml")),)))
    if not known_kind(kind):
        row = BlockRow(key, Block(RAW, (("mjml", ""),)))
        row.errors["kind"] = [f"is not a kind of block this editor knows ({kind or 'none'})"]
        return row
    spec = kind_spec(kind)
    fields = tuple((f.name, _text(data, f"block__{key}__{f.name}", f.default)) for f in spec.fields)
    return BlockRow(key, Block(kind, fields))


def from_form(data: Mapping[str, str], *, locale: str) -> BlockEditorState:
    """The editor's fields as posted: the blocks in `blocks_order`, each from its inputs."""
    keys = [k for k in str(data.get(ORDER_FIELD, "")).split() if _KEY.match(k)]
    seen: set[str] = set()
    rows: list[BlockRow] = []
    for key in keys:
        if key not in seen:
            seen.add(key)
            rows.append(read_block(data, key))
    return BlockEditorState(
        name=str(data.get("name", "")).strip(),
        locale=locale,
        subject=_text(data, "subject"),
        preheader=_text(data, "preheader"),
        head=_text(data, "doc_head"),
        tail=_text(data, "doc_tail"),
        rows=rows,
    )


def document(state: BlockEditorState) -> Document:
    return Document(state.head, tuple(r.block for r in state.rows), state.tail)


def body(state: BlockEditorState) -> str:
    """The MJML the blocks write: what is stored and what the preview renders."""
    return write(document(state))


def _block_at_line(state: BlockEditorState, line: int) -> BlockRow | None:
    """The block whose MJML holds body line `line` (1-based)."""
    at = state.head.count("\n") + 1
    for row in state.rows:
        text = write_block(row.block)
        end = at + text.count("\n")
        if at <= line <= end:
            return row
        at = end
    return None


def _first_field(row: BlockRow) -> str:
    return row.block.fields[0][0] if row.block.fields else "kind"


def _place_on_body(state: BlockEditorState, message: str) -> bool:
    line = _LINE.match(message)
    if line is not None:
        row = _block_at_line(state, int(line.group(1)))
        if row is not None:
            row.errors.setdefault(_first_field(row), []).append(message[line.end() :])
            return True
    for named in _NAMED.findall(message):
        for row in state.rows:
            for name, value in row.block.fields:
                if named in value:
                    row.errors.setdefault(name, []).append(message)
                    return True
    return False


def with_problems(state: BlockEditorState, problems: Sequence[Problem]) -> BlockEditorState:
    """`state` with store problems placed on the block field (or the subject) they name."""
    prefix = f"variants.{state.locale}."
    for problem in problems:
        part = problem.field.removeprefix(prefix) if problem.field.startswith(prefix) else None
        if part in ("subject", "preheader"):
            state.errors.setdefault(part, []).append(problem.message)
        elif part == "body" and _place_on_body(state, problem.message):
            continue
        elif problem.field == "name":
            state.errors.setdefault("name", []).append(problem.message)
        else:
            state.other_errors.append(_plain(problem))
    return state


def _plain(problem: Problem) -> str:
    parts = problem.field.split(".")
    if len(parts) == 3 and parts[0] == "variants":
        return f"{parts[2].replace('_', ' ').capitalize()} ({parts[1].upper()}): {problem.message}"
    return problem.message
