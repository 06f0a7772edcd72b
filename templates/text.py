"""Plain text from HTML, for the text/plain part when a template has no text body.

Readable rather than exhaustive: headings and paragraphs become blocks separated
by blank lines, links become `text (url)`, list items start with "- ", and
whatever a mail client would not show (head, style, script, hidden elements such
as the preheader) is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

_SKIP = frozenset({"head", "style", "script", "title", "template"})
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr"})
_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "hr"}
)
_LINE = frozenset({"div", "tr", "li", "section", "article", "header", "footer", "dd", "dt"})
_SPACE = re.compile(r"\s+")
_BLANKS = re.compile(r"\n{3,}")
_BLANK_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def html_to_text(
    html: str,
    *,
    zero_width: re.Pattern[str] | None = None,
    canonical: Callable[[str], str] | None = None,
) -> str:
    """A readable plain-text rendering of `html` (see the module docstring).

    `zero_width` matches text that renders to nothing in the end (Jinja `{% %}` marks
    when the result becomes a text template); it never moves text to a new line, so
    a loop over list items yields one line per item. `canonical` maps a link's label
    and target to comparable forms (two marks of the same expression are equal).
    """
    parser = _TextParser(zero_width, canonical or _same)
    parser.feed(html)
    parser.close()
    return tidy_text(parser.text())


def squeeze_blank_lines(text: str) -> str:
    """At most one blank line in a row (a false `{% if %}` can leave a few behind)."""
    return _BLANK_RUN.sub("\n\n", text)


def tidy_text(text: str) -> str:
    """Trim spaces around line breaks, keep at most one blank line, end with one newline."""
    text = "\n".join([line.strip(" \t") for line in text.split("\n")])
    text = _BLANKS.sub("\n\n", text).strip()
    return text + "\n" if text else ""


def _same(text: str) -> str:
    return text


class _TextParser(HTMLParser):
    def __init__(self, zero_width: re.Pattern[str] | None, canonical: Callable[[str], str]) -> None:
        super().__init__(convert_charrefs=True)
        self._zero_width = zero_width
        self._canonical = canonical
        self._out: list[str] = []
        self._breaks = 0  # newlines owed before the next text
        self._trail = 0  # newlines at the end of the output (zero-width text aside)
        self._skip: list[str] = []  # open elements whose content is dropped
        self._link: tuple[str, list[str]] | None = None  # (href, text so far)
        self._lists: list[str] = []

    def text(self) -> str:
        return "".join(self._out)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip:
            if tag not in _VOID:
                self._skip.append(tag)
            return
        values = dict(attrs)
        style = (values.get("style") or "").replace(" ", "").lower()
        if tag in _SKIP or "display:none" in style:
            if tag not in _VOID:
                self._skip.append(tag)
            return
        if tag == "br":
            self._owe(1)
        elif tag in _PARAGRAPH:
            self._owe(2)
            if tag in ("ul", "ol"):
                self._lists.append(tag)
        elif tag in _LINE:
            self._owe(1)
            if tag == "li":
                self._write("- ")
        elif tag == "a" and values.get("href"):
            self._link = (values["href"] or "", [])
        elif tag == "img" and self._link is not None and values.get("alt"):
            self._link[1].append(values["alt"] or "")

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if self._skip[-1] == tag:
                self._skip.pop()
            return
        if tag == "a" and self._link is not None:
            href, parts = self._link
            self._link = None
            label = _SPACE.sub(" ", "".join(parts)).strip()
            same = self._canonical(label) == self._canonical(href)
            self._write(href if not label or same else f"{label} ({href})")
        elif tag in _PARAGRAPH:
            if tag in ("ul", "ol") and self._lists:
                self._lists.pop()
            self._owe(2)
        elif tag in _LINE:
            self._owe(1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._link is not None:
            self._link[1].append(data)
            return
        text = _SPACE.sub(" ", data)
        if text.strip():
            self._write(text)
        elif text and self._out and not self._breaks:
            self._write(" ")

    def _owe(self, count: int) -> None:
        if self._out:
            self._breaks = max(self._breaks, count - self._trail)

    def _write(self, text: str) -> None:
        if self._breaks:
            self._out.append("\n" * self._breaks)
            self._trail += self._breaks
            self._breaks = 0
            text = text.lstrip(" ")
        silent = self._zero_width
        if silent is not None and silent.search(text) and not silent.sub("", text).strip():
            self._out.append(text.strip())
            return
        self._out.append(text)
        self._trail = 0
