"""A kind's reader, derived from its writer.

The writer is run once per combination of the kind's `select` fields with a sentinel in
every other field; the text between sentinels is the kind's fixed markup, the sentinels are
where the values go. Reading a block is then one anchored match of that pattern, and the
match is accepted only if writing the values it found gives back the same text: so the
reader can never type a block that would not be written back exactly as it stands.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from templates.blocks.model import Block, FieldSpec, KindSpec

_SENTINEL = re.compile("\x00([0-9]+)\x00")

# What a value may look like where it goes: attribute values stop at a quote (the writer puts
# them in double quotes), numbers are digits, everything else is any text (the anchored match
# backtracks until the fixed markup after it lines up).
_VALUE = {
    "url": '[^"]*',
    "image": '[^"]*',
    "color": '[^"]*',
    "number": "[0-9]+",
    "ref": '[^"\\s]*',
}


def derived_reader(spec: KindSpec, writer: Callable[[Block], str]) -> Callable[[str], Block | None]:
    selects = [f for f in spec.fields if f.input == "select"]
    others = [f for f in spec.fields if f.input != "select"]
    probe = {f.name: f"\x00{i}\x00" for i, f in enumerate(others)}

    def write_with(fixed: dict[str, str]) -> str:
        values = tuple((f.name, fixed.get(f.name, probe.get(f.name, ""))) for f in spec.fields)
        return writer(Block(spec.kind, values))

    variants: list[tuple[re.Pattern[str], dict[str, str], list[str]]] = []
    for combination in itertools.product(*[[c for c, _ in f.choices] for f in selects]):
        chosen = {f.name: value for f, value in zip(selects, combination, strict=True)}
        full = write_with(chosen)
        # A field the writer leaves out when it is empty (an image without a link has no
        # `href`, so mail clients show no link) changes the markup: each such field gets a
        # variant where it is empty.
        optional = [
            f
            for f in others
            if full.replace(probe[f.name], "") != write_with({**chosen, f.name: ""})
        ]
        for count in range(len(optional) + 1):
            for empties in itertools.combinations(optional, count):
                fixed = {**chosen, **{f.name: "" for f in empties}}
                pattern, order = _pattern(write_with(fixed), others)
                variants.append((pattern, fixed, order))

    def read(text: str) -> Block | None:
        for pattern, fixed, order in variants:
            match = pattern.fullmatch(text)
            if match is None:
                continue
            values = dict(fixed)
            for f in others:
                if f.name not in fixed:
                    values[f.name] = match.group(f.name) if f.name in order else f.default
            block = Block(spec.kind, tuple((f.name, values[f.name]) for f in spec.fields))
            if writer(block) == text:
                return block
        return None

    return read


def _pattern(text: str, fields: list[FieldSpec]) -> tuple[re.Pattern[str], list[str]]:
    parts: list[str] = []
    seen: list[str] = []
    position = 0
    for match in _SENTINEL.finditer(text):
        parts.append(re.escape(text[position : match.start()]))
        field = fields[int(match.group(1))]
        if field.name in seen:
            parts.append(f"(?P={field.name})")
        else:
            seen.append(field.name)
            parts.append(f"(?P<{field.name}>{_VALUE.get(field.input, '.*?')})")
        position = match.end()
    parts.append(re.escape(text[position:]))
    return re.compile("".join(parts), re.DOTALL), seen
