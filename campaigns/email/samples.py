"""Sample contexts for test renders: every variable a template may use, made up."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from campaigns.email.mailconfig import default_brand
from templates import requirements
from templates.context import sample_context
from templates.library import starter_templates


@dataclass(frozen=True, slots=True)
class Filled:
    """A send's extra context with samples for what it lacked; `names` are the names
    filled, `labels` the same in plain words ("the project's name")."""

    extra: dict[str, Any]
    names: tuple[str, ...]

    @property
    def labels(self) -> list[str]:
        return requirements.labels(self.names)


def fill_missing(
    needs: Iterable[str], extra: Mapping[str, Any] | None, locale: str | None
) -> Filled:
    """`extra` with sample values (in `locale`) for the names of `needs` it does not give.

    What `extra` holds wins over a sample, down to nested keys. A name with no sample
    stays missing (and the render reports it). The samples go through JSON, as the
    message row stores its extra context.
    """
    given = dict(extra or {})
    lacking = requirements.missing(needs, given)
    if not lacking:
        return Filled(given, ())
    samples = validation_context(locale or "en")
    roots = {name.split(".")[0] for name in lacking} & set(samples)
    chosen = json.loads(json.dumps({r: samples[r] for r in roots}, default=str))
    filled = tuple(n for n in lacking if n.split(".")[0] in roots)
    return Filled(merge(chosen, given), filled)


def validation_context(locale: str) -> dict[str, Any]:
    """A context holding sample values for every variable of the starter library (and the
    generic sample), in `locale` when the library has it, else English; a fresh copy."""
    copy: dict[str, Any] = _deep_copy(
        _validation_context(locale if locale in ("en", "ru") else "en")
    )
    return copy


@cache
def _validation_context(locale: str) -> dict[str, Any]:
    merged: dict[str, Any] = {"brand": default_brand("Example Partners")}
    merged = merge(merged, sample_context())
    for template in starter_templates():
        variant = template.variants.get(locale) or template.variants["en"]
        merged = merge(merged, variant.sample_context())
    return merged


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated by `extra`, recursing into nested mappings."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value
