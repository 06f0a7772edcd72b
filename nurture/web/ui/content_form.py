"""The template editor's form: one set of fields per locale, read back into store inputs,
and problems sorted to the field (and line) they belong to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from campaigns.email.store import VariantInput
from nurture.errors import Problem
from nurture.models import EmailTemplateVersion
from templates.problems import TemplateProblem

LOCALES = ("en", "ru")
PARTS = ("subject", "preheader", "body", "text_body")
_PART_NAMES = {"text": "text_body"}


@dataclass(slots=True)
class EditorState:
    """What the editor shows: the name, each locale's fields, and problems by field name
    (`body__ru`), as typed (so nothing is lost when saving fails)."""

    name: str
    variants: dict[str, dict[str, str]]
    errors: dict[str, list[str]] = field(default_factory=dict)
    other_errors: list[str] = field(default_factory=list)

    @property
    def locales(self) -> list[str]:
        return [*LOCALES, *sorted(set(self.variants) - set(LOCALES))]


def from_version(name: str, version: EmailTemplateVersion | None) -> EditorState:
    variants: dict[str, dict[str, str]] = {loc: dict.fromkeys(PARTS, "") for loc in LOCALES}
    if version is not None:
        for v in version.variants:
            variants[v.locale] = {
                "subject": v.subject,
                "preheader": v.preheader,
                "body": v.body,
                "text_body": v.text_body or "",
            }
    return EditorState(name, variants)


def from_form(data: Mapping[str, str]) -> EditorState:
    """The editor's fields as posted (`subject__en`, `body__ru`...)."""
    variants: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        part, _, locale = key.partition("__")
        if part in PARTS and locale:
            variants.setdefault(locale, dict.fromkeys(PARTS, ""))[part] = value.replace(
                "\r\n", "\n"
            )
    return EditorState(str(data.get("name", "")).strip(), variants)


def inputs(state: EditorState) -> dict[str, VariantInput]:
    """Store inputs for the locales that hold anything (an empty Russian tab is no variant)."""
    return {
        locale: VariantInput(
            fields["subject"], fields["body"], fields["preheader"], fields["text_body"] or None
        )
        for locale, fields in state.variants.items()
        if any(value.strip() for value in fields.values())
    }


def draft(state: EditorState, locale: str) -> VariantInput | None:
    return inputs(state).get(locale)


def with_problems(state: EditorState, problems: Sequence[Problem]) -> EditorState:
    """`state` with store problems (`variants.ru.body`, `name`) placed on their fields."""
    for problem in problems:
        parts = problem.field.split(".")
        if len(parts) == 3 and parts[0] == "variants":
            key = f"{parts[2]}__{parts[1]}"
            state.errors.setdefault(key, []).append(problem.message)
        elif problem.field == "name":
            state.errors.setdefault("name", []).append(problem.message)
        else:
            state.other_errors.append(f"{problem.field}: {problem.message}")
    return state


def template_problems(problems: Sequence[TemplateProblem]) -> list[tuple[str, int | None, str]]:
    """(field part, line, message) for the preview's inline list."""
    return [(_PART_NAMES.get(p.part, p.part), p.line, p.message) for p in problems]
