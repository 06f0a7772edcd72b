"""MJML to HTML, once per template, with the Jinja in it left intact.

The body is MJML with Jinja inside. Compiling MJML is by far the slowest step, so
we compile the template once with every Jinja construct swapped for an inert mark
(`templates.marks`), then put the Jinja back into the HTML; per recipient only
Jinja runs. That is only right when the marks come through MJML unchanged and
no `{% %}` tag changes the MJML structure (a loop over the columns of a section
changes their computed widths), so `compile_body` says whether the fast path is
safe; when it is not, the renderer runs Jinja first and MJML for every recipient.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

from mjml import mjml2html

from templates.marks import Protected, mark, marks_in, protect
from templates.mjml_check import scan
from templates.problems import TemplateInvalid, TemplateProblem

# Elements whose children MJML lays out together, so a loop or condition around a
# child changes how the others are rendered.
_LAYOUT_PARENTS = frozenset(
    {"mjml", "mj-head", "mj-attributes", "mj-section", "mj-group", "mj-carousel", "mj-navbar"}
)
_POSITION = re.compile(r"position (\d+):(\d+)")
# Fonts every reader already has: e-mail loads nothing from a third party unless the brand
# opts in to a web font (see `brand_font_family`).
# Unquoted (CSS allows names of several words so), so it fits in any attribute.
SYSTEM_FONT_STACK = "-apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif"
# What MJML writes where a template sets no font-family; we put the system stack there.
_MJML_DEFAULT_FAMILY = "font-family:Ubuntu, Helvetica, Arial, sans-serif"


class MjmlError(ValueError):
    """MJML could not be compiled; the message is MRML's."""


@dataclass(frozen=True, slots=True)
class CompiledBody:
    """The body compiled once: `html` still holds Jinja marks (see `templates.marks`).

    `fast` is True when rendering `html` with Jinja per recipient gives the same
    result as rendering the MJML with Jinja and then compiling it; otherwise
    `reason` says why not and `html` is None.
    """

    protected: Protected
    html: str | None
    fast: bool
    reason: str | None


def mjml_to_html(source: str) -> str:
    """Compile complete MJML (no Jinja left in it) to HTML; MjmlError if MRML refuses it.

    The HTML links no web font that the MJML does not declare with `<mj-font>`."""
    try:
        # No `fonts`: MJML would otherwise link Google Fonts for any family it knows
        # (Roboto, Open Sans, Ubuntu...), telling a third party about every open.
        html = str(mjml2html(source, disable_comments=True, fonts={}))
    except ValueError as exc:
        raise MjmlError(str(exc)) from None
    return html.replace(_MJML_DEFAULT_FAMILY, f"font-family:{SYSTEM_FONT_STACK}")


def brand_font_family(family: str | None) -> str:
    """The CSS font-family list for a brand: its web font first when it has one, then the
    system stack, which readers whose mail client blocks web fonts see."""
    return f"'{family}', {SYSTEM_FONT_STACK}" if family else SYSTEM_FONT_STACK


class HtmlCache:
    """A small LRU of compiled MJML, for the slow path (same rendered MJML, same HTML)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[str, str] = OrderedDict()

    def compile(self, source: str) -> str:
        html = self._items.get(source)
        if html is None:
            html = mjml_to_html(source)
            self._items[source] = html
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(source)
        return html


def compile_body(source: str) -> CompiledBody:
    """Check and compile an MJML body; TemplateInvalid lists problems with their lines."""
    try:
        protected = protect(source)
    except ValueError as exc:
        raise TemplateInvalid([TemplateProblem(None, str(exc), "body")]) from None
    checked = scan(protected, source)
    if checked.problems:
        raise TemplateInvalid(checked.problems)
    statements = [i for i, c in enumerate(protected.constructs) if c.kind == "statement"]
    structural = [
        i
        for i in statements
        if (place := checked.places.get(i)) is not None
        and (place.place == "attribute" or place.element in _LAYOUT_PARENTS)
    ]
    try:
        html = mjml_to_html(protected.text)
    except MjmlError as exc:
        if structural:
            # MJML may refuse a tag only because of where a {% %} stands; that is checked
            # again, for real, on every render by the slow path.
            _check_without(protected, structural, source)
            return CompiledBody(protected, None, False, _structural_reason(protected, structural))
        raise TemplateInvalid([_mjml_problem(exc, protected, source)]) from None
    if structural:
        return CompiledBody(protected, None, False, _structural_reason(protected, structural))
    reason = _lost_marks(protected, html)
    if reason:
        return CompiledBody(protected, None, False, reason)
    return CompiledBody(protected, html, True, None)


def _lost_marks(protected: Protected, html: str) -> str | None:
    found = marks_in(html)
    constructs = protected.constructs
    statements_out = [i for i in found if constructs[i].kind == "statement"]
    statements_in = [i for i, c in enumerate(constructs) if c.kind == "statement"]
    if statements_out != statements_in:
        return "MJML moved or repeated a {% %} tag"
    missing = {i for i, c in enumerate(constructs) if c.kind == "expression"} - set(found)
    if missing:
        first = constructs[min(missing)]
        return f"MJML interprets {first.source} (line {first.line}) itself"
    return None


def _structural_reason(protected: Protected, structural: list[int]) -> str:
    first = protected.constructs[structural[0]]
    return f"{first.source} on line {first.line} changes the MJML layout"


def _check_without(protected: Protected, drop: list[int], source: str) -> None:
    text = protected.text
    for index in drop:
        text = text.replace(mark(index), "")
    try:
        mjml_to_html(text)
    except MjmlError as exc:
        raise TemplateInvalid([_mjml_problem(exc, protected, source)]) from None


def _mjml_problem(exc: MjmlError, protected: Protected, source: str) -> TemplateProblem:
    message = str(exc)
    found = _POSITION.search(message)
    line = None
    if found:
        offset = protected.original_offset(int(found.group(1)))
        line = source.count("\n", 0, offset) + 1
        message = message[: found.start()].rstrip(" at")
    return TemplateProblem(line, f"MJML: {message}", "body")
