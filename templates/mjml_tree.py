"""MJML source (with Jinja in it) read into a tree of elements that know their source line.

The pre-save check (`templates.checks`) needs the attributes every element is given, the
defaults `<mj-attributes>` sets, and where each top-level child of `<mj-body>` sits (that
is a block). Jinja constructs are hidden from the tag scanner (`templates.marks`) and put
back into attribute values and content, so `color="{{ brand.color }}"` reads as written.
Tolerant by design: a broken template still gives what can be read; the compiler, not
this reader, reports MJML errors.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from templates.marks import Protected, protect, restore
from templates.mjml_check import CONTENT_TAGS

_TAG = re.compile(
    r"""
      (?P<comment><!--.*?-->)
    | <(?P<close>/)?(?P<name>[A-Za-z][\w:-]*)
        (?P<attrs>(?:\s+[^\s=/>"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)
        \s*(?P<selfclose>/)?>
    """,
    re.DOTALL | re.VERBOSE,
)
ATTRIBUTE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")


@dataclass(slots=True, eq=False)
class Element:
    """One MJML element: `attrs` as written (Jinja restored), `content` the raw inner
    text of an element whose content is HTML (`mj-text`, `mj-button`, `mj-raw`...)."""

    name: str
    attrs: dict[str, str]
    line: int
    parent: Element | None = None
    children: list[Element] = field(default_factory=list)
    content: str = ""
    content_line: int = 0
    # The line of its closing tag (its own line when it closes itself or never closes).
    end_line: int = 0
    # Where its "<" is in the source.
    offset: int = 0

    def ancestors(self) -> list[Element]:
        """Parents from the nearest outwards."""
        found: list[Element] = []
        node = self.parent
        while node is not None:
            found.append(node)
            node = node.parent
        return found

    def walk(self) -> list[Element]:
        """This element and everything inside it, in source order."""
        found = [self]
        for child in self.children:
            found += child.walk()
        return found


@dataclass(frozen=True, slots=True)
class MjmlTree:
    """The elements of `<mj-head>` and `<mj-body>` (None when the source has none)."""

    head: Element | None
    body: Element | None

    @property
    def blocks(self) -> list[Element]:
        """The top-level children of `<mj-body>`: block N is `blocks[N]`."""
        return [] if self.body is None else list(self.body.children)


def parse_attributes(text: str) -> dict[str, str]:
    """Attribute names (lower case) to their values without quotes; first one wins."""
    found: dict[str, str] = {}
    for match in ATTRIBUTE.finditer(text):
        value = match.group(2) or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        found.setdefault(match.group(1).lower(), value)
    return found


def read_tree(source: str) -> MjmlTree:
    """The element tree of an MJML source; never raises on odd input."""
    try:
        protected = protect(source)
    except ValueError:
        return MjmlTree(None, None)
    return _Reader(protected, source).run()


class _Reader:
    def __init__(self, protected: Protected, original: str) -> None:
        self.protected = protected
        self.text = protected.text
        self.starts = [0] + [i + 1 for i, c in enumerate(original) if c == "\n"]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, self.protected.original_offset(offset))

    def restored(self, text: str) -> str:
        return restore(text, self.protected.constructs)

    def run(self) -> MjmlTree:
        root = Element("#root", {}, 1)
        stack = [root]
        position = 0
        text = self.text
        while True:
            start = text.find("<", position)
            if start < 0:
                break
            match = _TAG.match(text, start)
            if match is None:
                position = start + 1
                continue
            position = match.end()
            if match.group("comment"):
                continue
            name = match.group("name").lower()
            if not (name == "mjml" or name.startswith("mj-")):
                continue
            if match.group("close"):
                for depth in range(len(stack) - 1, 0, -1):
                    if stack[depth].name == name:
                        stack[depth].end_line = self.line(start)
                        del stack[depth:]
                        break
                continue
            attrs = {k: self.restored(v) for k, v in parse_attributes(match.group("attrs")).items()}
            line = self.line(start)
            element = Element(
                name,
                attrs,
                line,
                parent=stack[-1],
                end_line=line,
                offset=self.protected.original_offset(start),
            )
            stack[-1].children.append(element)
            if match.group("selfclose"):
                continue
            if name in CONTENT_TAGS:
                closing = re.compile(rf"</{re.escape(name)}\s*>", re.IGNORECASE)
                found = closing.search(text, position)
                end = len(text) if found is None else found.start()
                element.content = self.restored(text[position:end])
                element.content_line = self.line(position)
                element.end_line = self.line(end)
                position = len(text) if found is None else found.end()
                continue
            stack.append(element)
        everything = root.walk()
        head = next((e for e in everything if e.name == "mj-head"), None)
        body = next((e for e in everything if e.name == "mj-body"), None)
        return MjmlTree(head, body)


@dataclass(frozen=True, slots=True)
class InlineTag:
    """An HTML start tag inside an element's content (an `<a>` or `<img>` in `mj-text`)."""

    name: str
    attrs: dict[str, str]
    line: int


_HTML_TAG = re.compile(
    r"<(?P<name>[A-Za-z][\w-]*)"
    r"(?P<attrs>(?:\s+[^\s=/>\"']+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)\s*/?>",
    re.DOTALL,
)


def inline_tags(element: Element) -> list[InlineTag]:
    """The HTML start tags in `element`'s content, with Jinja restored in their values."""
    if not element.content:
        return []
    try:
        protected = protect(element.content)
    except ValueError:
        return []
    found: list[InlineTag] = []
    for match in _HTML_TAG.finditer(protected.text):
        name = match.group("name").lower()
        if name.startswith("mj-"):
            continue
        attrs = {
            k: restore(v, protected.constructs)
            for k, v in parse_attributes(match.group("attrs")).items()
        }
        before = element.content[: protected.original_offset(match.start())]
        found.append(InlineTag(name, attrs, element.content_line + before.count("\n")))
    return found
