"""Plain Jinja + mjml-python rendering of starter templates, independent of the renderer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import unescape
from html.parser import HTMLParser
from typing import Any

from jinja2 import StrictUndefined, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from mjml import mjml2html

from templates.library import LOCALES, StarterTemplate, Variant, starter_templates

HTML_ENV = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
TEXT_ENV = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)

ALL_VARIANTS: list[tuple[StarterTemplate, Variant]] = [
    (template, template.variants[locale]) for template in starter_templates() for locale in LOCALES
]
VARIANT_IDS = [f"{t.name}.{v.locale}" for t, v in ALL_VARIANTS]


def mjml_then_jinja(body: str, context: Mapping[str, Any]) -> str:
    """Compile the MJML once, then personalise: how a bulk send renders."""
    html: str = HTML_ENV.from_string(mjml2html(body)).render(context)
    return html


def jinja_then_mjml(body: str, context: Mapping[str, Any]) -> str:
    """Personalise the MJML, then compile it: how a one-off preview may render."""
    html: str = mjml2html(HTML_ENV.from_string(body).render(context))
    return html


def render_text(source: str, context: Mapping[str, Any]) -> str:
    text: str = TEXT_ENV.from_string(source).render(context)
    return text


def used_paths(source: str) -> set[str]:
    """Every context variable `source` reads, as dotted paths ('contact.company.name');
    a path stops at an index ('case_study.metrics[0].value' gives 'case_study.metrics')."""
    tree = HTML_ENV.parse(source)
    roots = meta.find_undeclared_variables(tree)
    paths = set(roots)
    for node in tree.find_all(nodes.Getattr):
        attrs = []
        current: nodes.Node = node
        while isinstance(current, nodes.Getattr):
            attrs.append(current.attr)
            current = current.node
        if isinstance(current, nodes.Name) and current.name in roots:
            paths.add(".".join([current.name, *reversed(attrs)]))
    return {p for p in paths if not any(other.startswith(p + ".") for other in paths)}


def lookup(context: Mapping[str, Any], path: str) -> Any:
    value: Any = context
    for key in path.split("."):
        value = value[key]
    return value


class Links(HTMLParser):
    """The <a> elements of a page: (href, visible text) in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._open: list[str] | None = None
        self._href = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._open = []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.links.append((self._href, "".join(self._open).strip()))
            self._open = None


def links_of(html: str) -> list[tuple[str, str]]:
    parser = Links()
    parser.feed(html)
    return parser.links


_TAG = re.compile(r"<[^>]+>")
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


def visible_copy(mjml_source: str) -> str:
    """The words a marketer wrote: the source without Jinja, tags or attributes."""
    return unescape(_TAG.sub(" ", _JINJA.sub(" ", mjml_source)))
