"""Sample contexts for test renders: every variable a template may use, made up."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from campaigns.email.mailconfig import default_brand
from templates.context import sample_context
from templates.library import starter_templates


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
