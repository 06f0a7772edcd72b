"""A kind's reader, derived from its writer.

The writer is run once per combination of the kind's `select` fields with a sentinel in
every other field; the text between sentinels is the kind's fixed markup, the sentinels are
where the values go. Reading a block is then one anchored match of that pattern, and the
match is accepted only if writing the values it found gives back the same text: so a block
is typed exactly when the writer could have written it, and nothing else is.
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
    patterns: list[tuple[re.Pattern[str], dict[str, str], list[str]]] = []
    for combination in itertools.product(*[[c for c, _ in f.choices] for f in selects]):
        chosen = {f.name: value for f, value in zip(selects, combination, strict=True)}
        probe = {f.name: f"\x00{i}\x00" for i, f in enumerate(others)}
        text = writer(
            Block(
                spec.kind, tuple((f.name, probe.get(f.name) or chosen[f.name]) for f in spec.fields)
            )
        )
        pattern, order = _pattern(text, others)
        patterns.append((pattern, chosen, order))

    def read(text: str) -> Block | None:
        for pattern, chosen, order in patterns:
            match = pattern.fullmatch(text)
            if match is None:
                continue
            values = dict(chosen)
            for f in others:
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
