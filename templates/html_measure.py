"""What a reader sees of a finished e-mail: visible text characters and images.

For the pre-save check's text-to-image measure. Hidden parts (head, styles, the hidden
preheader, Outlook-only conditional comments) are not seen, and neither is the 1x1
open pixel: only what a reader could look at counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_SKIP = frozenset({"head", "style", "script", "title", "template"})
_VOID = frozenset(
    {"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source"}
)
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Seen:
    """Visible text characters (white space not counted) and visible images."""

    text_chars: int
    images: int


def measure(html: str) -> Seen:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return Seen(parser.chars, parser.images)


def _tiny(value: str | None) -> bool:
    digits = (value or "").strip().lower().removesuffix("px")
    return digits.isdigit() and int(digits) <= 2


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chars = 0
        self.images = 0
        # Open elements, each with whether it hides what is inside it.
        self._open: list[tuple[str, bool]] = []

    @property
    def _hidden(self) -> bool:
        return any(hidden for _, hidden in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            if not self._hidden and not (_tiny(values.get("width")) or _tiny(values.get("height"))):
                self.images += 1
            return
        if tag in _VOID:
            return
        hides = tag in _SKIP or bool(_HIDDEN.search(values.get("style") or ""))
        hides = hides or "hidden" in values
        self._open.append((tag, hides))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.chars += len(_SPACE.sub("", data))
