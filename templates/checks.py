"""The pre-save check: what in one e-mail variant would hurt delivery or readers.

    findings = check_variant(locale="en", mjml=source, html=rendered.html,
                             context=sample_context, marketing=True)

Pure: the MJML source as the marketer wrote it (Jinja and all) and the HTML it renders to
for a sample context, in; findings out. Each finding names its block (the N-th top-level
child of `<mj-body>`, 0-based, the block editor's numbering) and its source line where it
has one. Nothing here refuses a save: the findings are advice shown before saving and on
the template page (docs/email-builder.md, "What the pre-save check looks at").

The limits, and why:
- Gmail clips a message whose HTML passes about 102 KB ("[Message clipped]", the rest
  and our unsubscribe link and open pixel behind a click): an error from 102,000 bytes of
  UTF-8, a warning from 90,000, leaving room for what a real recipient's data adds.
- Text for the images: visible text characters (white space not counted) per visible
  image, at least 400. Image-heavy mail with little text is what spam filters score up
  (SpamAssassin's HTML_IMAGE_ONLY rules weigh mail with images and under 400 bytes of
  words heaviest), and with images blocked, as many clients do by default, the reader
  sees only the text.
- Contrast: WCAG 2 AA, 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from jinja2 import Template

from templates import contrast
from templates.blocks import read as read_blocks
from templates.blocks import write_block
from templates.html_measure import measure
from templates.marks import protect, restore
from templates.mjml_tree import Element, InlineTag, MjmlTree, inline_tags, read_tree
from templates.sandbox import environment, runtime_problem

Severity = Literal["error", "warning"]

CLIP_BYTES = 102_000
NEAR_CLIP_BYTES = 90_000
MIN_TEXT_PER_IMAGE = 400
# The marker class that says an image with alt="" is decoration (screen readers skip it).
DECORATIVE = "nb-decorative"
# MJML's own defaults for what the contrast check reads (mjml-core's component defaults).
_MJML_DEFAULTS: dict[str, dict[str, str]] = {
    "mj-text": {"color": "#000000", "font-size": "13px"},
    "mj-button": {"color": "#ffffff", "background-color": "#414141", "font-size": "13px"},
    "mj-table": {"color": "#000000", "font-size": "13px"},
    "mj-navbar-link": {"color": "#000000", "font-size": "13px"},
}
_TEXT_ELEMENTS = frozenset({"mj-text", "mj-table", "mj-navbar-link"})
_HREF_ELEMENTS = frozenset(
    {"mj-button", "mj-image", "mj-navbar-link", "mj-social-element", "mj-carousel-image"}
)
_UNSUBSCRIBE_NAMES = re.compile(r"\b(unsubscribe_url|preferences_url)\b")
_OUR_LINK = re.compile(r"\{\{-?\s*(unsubscribe_url|preferences_url)\b")
_JINJA = re.compile(r"\{\{|\{%")
_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")
_FINE_SCHEMES = ("https://", "mailto:", "tel:", "#")
_STYLE_DECLARATION = re.compile(r"([\w-]+)\s*:\s*([^;]+)")
_LINK_RULE = re.compile(r"(?:^|[};\s])a\s*\{([^}]*)\}", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20]")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the check found. `block` is None for the message as a whole (its size,
    its text for the images, a missing unsubscribe link); `line` is 1-based in the body."""

    code: str
    severity: Severity
    locale: str
    message: str
    block: int | None = None
    block_kind: str | None = None
    line: int | None = None


def check_variant(
    *,
    locale: str,
    mjml: str,
    html: str | None,
    context: Mapping[str, Any],
    marketing: bool,
) -> list[Finding]:
    """Every finding for one variant: `mjml` its source, `html` what it renders to for
    `context` (None when it does not render: then only the source is looked at);
    `context` also gives the values of colours and links built with Jinja."""
    tree = read_tree(mjml)
    run = _Run(locale, mjml, tree, context)
    run.images()
    run.links()
    run.contrasts()
    if marketing and not run.has_unsubscribe:
        run.add(
            "unsubscribe_missing",
            "error",
            "marketing e-mail without an unsubscribe link: link to {{ unsubscribe_url }} "
            "(the footer block has one)",
        )
    if html is not None:
        run.findings += _html_findings(locale, html)
    return run.findings


def _html_findings(locale: str, html: str) -> list[Finding]:
    findings: list[Finding] = []
    size = len(html.encode("utf-8"))
    if size >= CLIP_BYTES:
        findings.append(
            Finding(
                "html_clipped",
                "error",
                locale,
                f"the HTML is {_kb(size)} KB: Gmail clips a message over about 102 KB, "
                "hiding the rest and the unsubscribe link",
            )
        )
    elif size >= NEAR_CLIP_BYTES:
        findings.append(
            Finding(
                "html_near_clipping",
                "warning",
                locale,
                f"the HTML is {_kb(size)} KB, close to Gmail's clipping at about 102 KB",
            )
        )
    seen = measure(html)
    if seen.images and seen.text_chars < MIN_TEXT_PER_IMAGE * seen.images:
        per_image = seen.text_chars // seen.images
        images = "image" if seen.images == 1 else "images"
        findings.append(
            Finding(
                "text_too_little",
                "warning",
                locale,
                f"too little text for the images: {seen.text_chars} characters of text for "
                f"{seen.images} {images} ({per_image} per image, at least "
                f"{MIN_TEXT_PER_IMAGE} recommended)",
            )
        )
    return findings


def _kb(size: int) -> str:
    return f"{size / 1000:.1f}"


class _Run:
    def __init__(self, locale: str, mjml: str, tree: MjmlTree, context: Mapping[str, Any]) -> None:
        self.locale = locale
        self.tree = tree
        self.context = context
        self.findings: list[Finding] = []
        self.has_unsubscribe = False
        self.defaults = _Defaults(tree.head, self.value)
        self.where: dict[int, tuple[int, str]] = {}
        spans = block_spans(mjml)
        for top in tree.blocks:
            found = next(((i, k) for i, (a, b, k) in enumerate(spans) if a <= top.offset < b), None)
            if found is not None:
                for element in top.walk():
                    self.where[id(element)] = found

    def add(
        self,
        code: str,
        severity: Severity,
        message: str,
        element: Element | None = None,
        line: int | None = None,
    ) -> None:
        block, kind = (None, None)
        if element is not None:
            block, kind = self.where.get(id(element), (None, None))
            line = line or element.line
        self.findings.append(Finding(code, severity, self.locale, message, block, kind, line))

    def value(self, text: str | None) -> str | None:
        """`text` with its Jinja evaluated against the context; None when it fails."""
        if text is None or not _JINJA.search(text):
            return text
        try:
            return _value_template(text).render(dict(self.context))
        except Exception as exc:
            # An undefined name or a refused operation: the renderer reports those; here
            # the value is just unknown.
            if runtime_problem(exc, "body") is None:
                raise
            return None

    def body_elements(self) -> list[Element]:
        return [] if self.tree.body is None else self.tree.body.walk()[1:]

    # Images -------------------------------------------------------------------------

    def images(self) -> None:
        for element in self.body_elements():
            if element.name in ("mj-image", "mj-carousel-image"):
                self.image(element, element.attrs, element.line, element)
            for tag in inline_tags(element):
                if tag.name == "img":
                    self.image(element, tag.attrs, tag.line, None)

    def image(
        self, element: Element, attrs: Mapping[str, str], line: int, own: Element | None
    ) -> None:
        if contrast.parse_px(attrs.get("width")) in (0.0, 1.0) or attrs.get("width") == "1":
            return
        what = "image" if own is not None else "image in the text"
        # The block editor's image and logo blocks always write alt, empty when the field
        # was left empty (they have no "decorative" switch): there, empty means missing.
        typed = own is not None and self.where.get(id(own), (0, ""))[1] in ("image", "header")
        if "alt" not in attrs or (typed and not attrs["alt"].strip()):
            self.add(
                "image_alt_missing",
                "error",
                f"{what} without alt text: say what it shows (readers with images off or a "
                "screen reader get only that)",
                element,
                line,
            )
            return
        if attrs["alt"].strip():
            return
        classes = attrs.get("css-class", "").split()
        decorative = (
            DECORATIVE in classes
            or attrs.get("role") == "presentation"
            or attrs.get("aria-hidden") == "true"
        )
        if attrs.get("href"):
            self.add(
                "image_alt_empty",
                "error",
                f"linked {what} with empty alt text: the link has no name for a screen reader",
                element,
                line,
            )
        elif not decorative:
            self.add(
                "image_alt_empty",
                "warning",
                f"{what} with empty alt text: fine only for decoration (mark it decorative), "
                "otherwise say what it shows",
                element,
                line,
            )

    # Links --------------------------------------------------------------------------

    def links(self) -> None:
        for element in self.body_elements():
            if element.name in _HREF_ELEMENTS and "href" in element.attrs:
                self.link(element.attrs["href"], element, element.line)
            for tag in inline_tags(element):
                if tag.name in ("a", "area") and "href" in tag.attrs:
                    self.link(tag.attrs["href"], element, tag.line)

    def link(self, href: str, element: Element, line: int) -> None:
        written = html_lib.unescape(href).strip()
        if _UNSUBSCRIBE_NAMES.search(written) and _JINJA.search(written):
            self.has_unsubscribe = True
        if _OUR_LINK.match(written):
            return
        judged = _fixed_start(written)
        if judged is None:
            judged = self.value(written)
            if judged is None:
                return
        target = _CONTROL.sub("", judged).lower()
        shown = _short(written)
        if target.startswith(_FINE_SCHEMES) or not target:
            return
        if target.startswith(_SCRIPT_SCHEMES):
            self.add(
                "link_script",
                "error",
                f"link runs a script or embeds data ({shown}): mail clients refuse it and "
                "spam filters score it",
                element,
                line,
            )
        elif target.startswith("http://"):
            self.add(
                "link_not_https",
                "warning",
                f"link is not https ({shown}): use https://",
                element,
                line,
            )
        elif ":" in target.split("/")[0]:
            self.add(
                "link_not_https",
                "warning",
                f"link is not https ({shown})",
                element,
                line,
            )
        else:
            self.add(
                "link_not_https",
                "warning",
                f"link has no https:// address ({shown}): a relative link leads nowhere in "
                "an e-mail",
                element,
                line,
            )

    # Contrast -----------------------------------------------------------------------

    def contrasts(self) -> None:
        link_colour = self.defaults.link_colour
        for element in self.body_elements():
            if element.name == "mj-button":
                self.button(element)
                continue
            if element.name not in _TEXT_ELEMENTS or not _has_text(element.content):
                continue
            background = self.background(element)
            if background is None:
                continue
            colour = self.colour(self.defaults.get(element, "color"))
            size = contrast.parse_px(self.value(self.defaults.get(element, "font-size")))
            weight = self.value(self.defaults.get(element, "font-weight"))
            if colour is not None:
                self.pair("text", colour, background, size, weight, element, element.line)
            for tag in inline_tags(element):
                self.inline(tag, element, background, size, weight, link_colour)

    def inline(
        self,
        tag: InlineTag,
        element: Element,
        background: contrast.RGB,
        size: float | None,
        weight: str | None,
        link_colour: str | None,
    ) -> None:
        style = _style(tag.attrs.get("style", ""))
        written = style.get("color")
        if written is None and tag.name == "a":
            written = link_colour
        if written is None:
            return
        colour = self.colour(written)
        if colour is None:
            return
        # A coloured chip (an NPS score link) paints its own background.
        own = style.get("background-color") or style.get("background")
        if own is not None:
            background = self.colour(own) or background
        size = contrast.parse_px(style.get("font-size")) or size
        weight = style.get("font-weight") or weight
        if tag.name in ("b", "strong", "h1", "h2", "h3", "h4") and "font-weight" not in style:
            weight = "700"
        what = "link" if tag.name == "a" else "text"
        self.pair(what, colour, background, size, weight, element, tag.line)

    def button(self, element: Element) -> None:
        colour = self.colour(self.defaults.get(element, "color"))
        own = self.defaults.get(element, "background-color")
        background = self.colour(own) if own not in (None, "", "transparent", "none") else None
        if background is None:
            background = self.background(element)
        if colour is None or background is None:
            return
        size = contrast.parse_px(self.value(self.defaults.get(element, "font-size")))
        weight = self.value(self.defaults.get(element, "font-weight"))
        self.pair("button text", colour, background, size, weight, element, element.line)

    def pair(
        self,
        what: str,
        colour: contrast.RGB,
        background: contrast.RGB,
        size: float | None,
        weight: str | None,
        element: Element,
        line: int,
    ) -> None:
        needed = contrast.minimum_for(size, weight)
        found = contrast.ratio(colour, background)
        if found >= needed:
            return
        large = " (large text)" if needed == contrast.LARGE_MINIMUM else ""
        self.add(
            "contrast_low",
            "error",
            f"{what} contrast {contrast.shown(found)}, needs {needed:g}:1{large}: "
            f"{contrast.hex_of(colour)} on {contrast.hex_of(background)}",
            element,
            line,
        )

    def colour(self, written: str | None) -> contrast.RGB | None:
        value = self.value(written)
        return None if value is None else contrast.parse_colour(value)

    def background(self, element: Element) -> contrast.RGB | None:
        """The colour behind `element`: the nearest container that paints one, white
        (what mail clients show) when none does; None when an image is behind it."""
        own = self.defaults.get(element, "container-background-color")
        if own:
            return self.colour(own)
        for parent in element.ancestors():
            names = ["background-color"]
            if parent.name == "mj-column":
                names.insert(0, "inner-background-color")
            if parent.name in ("mj-section", "mj-wrapper", "mj-hero") and self.defaults.get(
                parent, "background-url"
            ):
                return None
            for name in names:
                written = self.defaults.get(parent, name)
                if written and written.strip().lower() not in ("transparent", "none"):
                    return self.colour(written)
        return (255, 255, 255)


class _Defaults:
    """Attribute values as MJML resolves them: the element's own, then its mj-class,
    then `<mj-attributes>` for its tag, then `<mj-all>`, then MJML's default."""

    def __init__(self, head: Element | None, value: Callable[[str | None], str | None]) -> None:
        self.by_tag: dict[str, dict[str, str]] = {}
        self.classes: dict[str, dict[str, str]] = {}
        self.link_colour: str | None = None
        if head is None:
            return
        for element in head.walk():
            if element.parent is not None and element.parent.name == "mj-attributes":
                if element.name == "mj-class":
                    attrs = dict(element.attrs)
                    name = attrs.pop("name", "")
                    self.classes[name] = attrs
                else:
                    self.by_tag.setdefault(element.name, {}).update(element.attrs)
            if element.name == "mj-style":
                try:
                    styles = protect(element.content)
                except ValueError:
                    continue
                # Rules are found with the Jinja hidden: `{{ brand.color }}` holds braces.
                for rule in _LINK_RULE.finditer(styles.text):
                    colour = _style(restore(rule.group(1), styles.constructs)).get("color")
                    if colour is not None:
                        self.link_colour = colour

    def get(self, element: Element, name: str) -> str | None:
        if name in element.attrs:
            return element.attrs[name]
        for class_name in reversed(element.attrs.get("mj-class", "").split()):
            if name in self.classes.get(class_name, {}):
                return self.classes[class_name][name]
        for source in (self.by_tag.get(element.name, {}), self.by_tag.get("mj-all", {})):
            if name in source:
                return source[name]
        return _MJML_DEFAULTS.get(element.name, {}).get(name)


@lru_cache(maxsize=512)
def _value_template(text: str) -> Template:
    # The same few values (`{{ brand.color }}`) recur in every block and every check.
    return environment(html=False).from_string(text)


def block_spans(mjml: str) -> list[tuple[int, int, str]]:
    """Each block's (start, end) offsets in `mjml` and its kind, as the block model reads it
    (`templates.blocks`: block N is the N-th top-level child of `<mj-body>`)."""
    document = read_blocks(mjml)
    spans: list[tuple[int, int, str]] = []
    start = len(document.head)
    for block in document.blocks:
        end = start + len(write_block(block))
        spans.append((start, end, block.kind))
        start = end
    return spans


def _fixed_start(href: str) -> str | None:
    """What a link starts with before any Jinja, when that already shows its scheme
    (None when the scheme itself comes from Jinja)."""
    match = _JINJA.search(href)
    if match is None:
        return href
    fixed = href[: match.start()]
    lowered = _CONTROL.sub("", fixed).lower()
    if ":" in lowered or lowered.startswith(("/", "#")) or "/" in lowered:
        return fixed
    return None


def _short(href: str) -> str:
    return href if len(href) <= 60 else href[:57] + "..."


def _style(text: str) -> dict[str, str]:
    return {
        m.group(1).strip().lower(): m.group(2).strip()
        for m in _STYLE_DECLARATION.finditer(html_lib.unescape(text))
    }


def _has_text(content: str) -> bool:
    try:
        protected = protect(content).text
    except ValueError:
        return bool(content.strip())
    text = re.sub(r"<[^>]*>", "", protected)
    return bool(html_lib.unescape(text).strip())


def block_at_line(mjml: str, line: int | None) -> tuple[int | None, str | None]:
    """The block (index and kind) whose source holds `line`; (None, None) outside any."""
    if line is None:
        return (None, None)
    for index, (start, end, kind) in enumerate(block_spans(mjml)):
        first = mjml.count("\n", 0, start) + 1
        # A block's text ends with the line break after it: that line is its last.
        last = first + mjml.count("\n", start, max(start, end - 1))
        if first <= line <= last and mjml[start:end].strip():
            return (index, kind)
    return (None, None)
