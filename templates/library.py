"""The starter library: ready-made e-mail templates in English and Russian.

Each template's text lives in `templates/library/content/<name>.<locale>.mjml` (the sections
between the shared header and footer); `templates/library/manifest.json` holds its subject,
preheader, description, the variables it may use and a sample context. The shared head,
header, signature and footer are spliced in here, so every body handed out is a complete,
self-contained MJML document: the sandbox refuses `{% include %}`, and a marketer who edits a
copy must see everything it renders.

Every section of those files is one block of the block editor, written exactly as its kind
writes it (`templates.blocks`), so a starter opens as typed blocks; the few parts no kind
fits (the NPS score row, side-by-side figures or buttons) open as raw HTML/MJML blocks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from nurture.errors import NotFound

LIBRARY_DIR = Path(__file__).with_name("library")
LOCALES: tuple[str, ...] = ("en", "ru")
Kind = Literal["marketing", "internal"]


@dataclass(frozen=True, slots=True)
class Variant:
    """One language version of a starter template."""

    locale: str
    title: str
    description: str
    subject: str
    preheader: str
    body: str
    sample_json: str

    def sample_context(self) -> dict[str, Any]:
        """A fresh copy of the sample context this variant renders with (safe to change)."""
        result: dict[str, Any] = json.loads(self.sample_json)
        return result


@dataclass(frozen=True, slots=True)
class StarterTemplate:
    """A starter template: `name` is a stable slug, `context_schema` maps each variable it
    may use (dotted path) to a description, `topic` is the preference topic a recipient
    unsubscribes from (None for internal mail, which has no unsubscribe link)."""

    name: str
    kind: Kind
    topic: str | None
    context_schema: Mapping[str, str]
    variants: Mapping[str, Variant]

    @property
    def is_marketing(self) -> bool:
        return self.kind == "marketing"


def starter_templates() -> tuple[StarterTemplate, ...]:
    """Every starter template, in the order the manifest lists them."""
    return _load()


def starter_template(name: str) -> StarterTemplate:
    """The starter template called `name`; NotFound if there is none."""
    for template in _load():
        if template.name == name:
            return template
    raise NotFound("starter template", name)


def build_body(name: str, locale: str, *, kind: Kind) -> str:
    """The complete MJML document for one template and locale: the shared head and header,
    the template's own sections, the rep's signature where asked for, and the footer.

    The preheader is not in the body: the renderer inserts the template's preheader
    field itself, and a second copy in `<mj-preview>` would show twice.
    """
    content = _read(f"content/{name}.{locale}.mjml")
    content = content.replace("@@SIGNATURE@@\n", _read(f"_shared/signature.{locale}.mjml"))
    head = _read("_shared/head.mjml").replace("@@LANG@@", locale)
    return "".join(
        (
            head,
            '  <mj-body background-color="#f3f4f6" width="600px">\n',
            _read("_shared/header.mjml"),
            content,
            _read(f"_shared/footer.{kind}.{locale}.mjml"),
            "  </mj-body>\n</mjml>\n",
        )
    )


def _read(relative: str) -> str:
    return (LIBRARY_DIR / relative).read_text(encoding="utf-8")


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated by `extra`, recursing into nested mappings so that a template's
    sample can add `contact.company.industry` without restating the whole contact."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@cache
def _load() -> tuple[StarterTemplate, ...]:
    manifest = json.loads(_read("manifest.json"))
    templates = []
    for entry in manifest["templates"]:
        kind: Kind = entry["kind"]
        common = ["common"] + (["marketing"] if kind == "marketing" else [])
        schema: dict[str, str] = {}
        for part in common:
            schema.update(manifest["context"][part])
        schema.update(entry["context"])
        variants = {}
        for locale in LOCALES:
            text = entry["locales"][locale]
            sample: dict[str, Any] = {}
            for part in common:
                sample = _merge(sample, manifest["samples"][part][locale])
            sample = _merge(sample, text["sample"])
            variants[locale] = Variant(
                locale=locale,
                title=text["title"],
                description=text["description"],
                subject=text["subject"],
                preheader=text["preheader"],
                body=build_body(entry["name"], locale, kind=kind),
                sample_json=json.dumps(sample, ensure_ascii=False),
            )
        templates.append(
            StarterTemplate(
                name=entry["name"],
                kind=kind,
                topic=entry.get("topic"),
                context_schema=schema,
                variants=variants,
            )
        )
    return tuple(templates)
