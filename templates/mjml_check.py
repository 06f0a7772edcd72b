"""A structural check of MJML source that points at lines.

The MJML compiler (MRML) reports few errors with positions and accepts some
mistakes silently (a misspelt closing tag, an unknown `mj-` element). This scanner
walks the element structure of the Jinja-protected source, reports problems with
source lines, and records where each Jinja mark sits, which tells the compiler
whether compiling the MJML once for every recipient is safe.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Literal

from templates.marks import MARK, Protected
from templates.problems import TemplateProblem

KNOWN_TAGS = frozenset(
    [
        "mjml",
        "mj-head",
        "mj-body",
        "mj-attributes",
        "mj-all",
        "mj-class",
        "mj-breakpoint",
        "mj-font",
        "mj-html-attributes",
        "mj-html-attribute",
        "mj-selector",
        "mj-preview",
        "mj-style",
        "mj-title",
        "mj-accordion",
        "mj-accordion-element",
        "mj-accordion-title",
        "mj-accordion-text",
        "mj-button",
        "mj-carousel",
        "mj-carousel-image",
        "mj-column",
        "mj-divider",
        "mj-group",
        "mj-hero",
        "mj-image",
        "mj-navbar",
        "mj-navbar-link",
        "mj-raw",
        "mj-section",
        "mj-social",
        "mj-social-element",
        "mj-spacer",
        "mj-table",
        "mj-text",
        "mj-wrapper",
    ]
)
# Elements whose content is HTML (or text) passed through, not more MJML elements.
CONTENT_TAGS = frozenset(
    [
        "mj-text",
        "mj-button",
        "mj-table",
        "mj-raw",
        "mj-navbar-link",
        "mj-accordion-title",
        "mj-accordion-text",
        "mj-social-element",
        "mj-title",
        "mj-preview",
        "mj-style",
        "mj-html-attribute",
    ]
)

_TOKEN = re.compile(
    r"""
      (?P<comment><!--.*?-->)
    | (?P<tag><(?P<close>/)?(?P<name>[A-Za-z][\w:-]*)
        (?P<attrs>(?:\s+[^\s=/>"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)
        \s*(?P<selfclose>/)?>)
    | (?P<stray><)
    """,
    re.DOTALL | re.VERBOSE,
)

Place = Literal["content", "structure", "attribute"]


@dataclass(frozen=True, slots=True)
class MarkPlace:
    """Where a Jinja mark sits: in the content of an element, between elements, in a tag."""

    element: str
    place: Place


@dataclass(slots=True)
class ScanResult:
    problems: list[TemplateProblem] = field(default_factory=list)
    places: dict[int, MarkPlace] = field(default_factory=dict)


class _Lines:
    def __init__(self, protected: Protected, original: str) -> None:
        self._protected = protected
        self._starts = [0] + [i + 1 for i, c in enumerate(original) if c == "\n"]

    def line(self, protected_offset: int) -> int:
        return bisect.bisect_right(self._starts, self._protected.original_offset(protected_offset))


def scan(protected: Protected, original: str) -> ScanResult:
    """Problems in the MJML structure, and the place of every Jinja mark."""
    scanner = _Scanner(protected, original)
    scanner.run()
    result = scanner.result
    if not result.problems and "<mjml" not in protected.text[:2000].lower():
        result.problems.append(TemplateProblem(1, "the body must start with <mjml>", "body"))
    return result


class _Scanner:
    def __init__(self, protected: Protected, original: str) -> None:
        self.text = protected.text
        self.lines = _Lines(protected, original)
        self.result = ScanResult()
        self.stack: list[tuple[str, int]] = []  # (tag, offset of its "<")

    def run(self) -> None:
        text = self.text
        position = 0
        while True:
            start = text.find("<", position)
            gap = text[position : len(text) if start < 0 else start]
            self._marks(gap, "structure", self._top())
            if start < 0:
                break
            match = _TOKEN.match(text, start)
            if match is None:
                raise RuntimeError("match is None, but the token pattern matches any '<'")
            position = match.end()
            if match.group("comment"):
                continue
            if match.group("stray"):
                end = text.find(">", start)
                self._problem(start, "malformed tag (an unclosed quote or a stray '<')")
                position = len(text) if end < 0 else end + 1
                continue
            name = match.group("name").lower()
            if not (name == "mjml" or name.startswith("mj-")):
                if match.group("close"):
                    continue  # reported where it opens
                self._problem(start, f"<{name}> must be inside <mj-text>, <mj-button> or <mj-raw>")
                continue
            if match.group("close"):
                self._close(name, start)
                continue
            if name == "mj-include":
                self._problem(start, "<mj-include> is not allowed: a template cannot read files")
            elif name not in KNOWN_TAGS:
                self._problem(start, f"unknown element <{name}>")
            self._marks(match.group("attrs"), "attribute", name)
            if match.group("selfclose"):
                continue
            if name in CONTENT_TAGS:
                closing = re.compile(rf"</{re.escape(name)}\s*>", re.IGNORECASE)
                found = closing.search(text, position)
                if found is None:
                    # Everything after this is swallowed; reporting more would only confuse.
                    self._problem(start, f"<{name}> is never closed (no </{name}> follows)")
                    return
                self._marks(text[position : found.start()], "content", name)
                position = found.end()
                continue
            self.stack.append((name, start))
        for name, offset in self.stack:
            self._problem(offset, f"<{name}> is never closed")

    def _top(self) -> str:
        return self.stack[-1][0] if self.stack else ""

    def _marks(self, chunk: str, place: Place, element: str) -> None:
        for number in MARK.findall(chunk):
            self.result.places[int(number)] = MarkPlace(element, place)

    def _problem(self, offset: int, message: str) -> None:
        self.result.problems.append(TemplateProblem(self.lines.line(offset), message, "body"))

    def _close(self, name: str, offset: int) -> None:
        stack = self.stack
        if not stack:
            self._problem(offset, f"</{name}> closes nothing")
            return
        if stack[-1][0] == name:
            stack.pop()
            return
        self._problem(offset, f"</{name}> does not match <{stack[-1][0]}>")
        # Recover at the matching element if there is one, so one typo gives one problem.
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth][0] == name:
                del stack[depth:]
                return
