"""The field catalogue: every field a rule can test, its value type and its operators.

Pure metadata (no SQL): the validator checks rules against it, the compiler
and the reference evaluator map the same names to data, and the builder UI
reads `describe()` to offer only fitting operators and value widgets.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from nurture.models import LifecycleStage, SizeBand


class FieldType(enum.StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    # A fixed set of values; ORDERED ones also compare by rank (at_least / at_most).
    ENUM = "enum"
    ORDERED = "ordered"
    BOOLEAN = "boolean"
    # A row id (the owner): equality only.
    REFERENCE = "reference"


_PRESENCE = ("is_set", "is_not_set")
_EQUALITY = ("equals", "not_equals", "in", "not_in")

OPERATORS: dict[FieldType, tuple[str, ...]] = {
    FieldType.STRING: (*_EQUALITY, "contains", "not_contains", "starts_with", *_PRESENCE),
    FieldType.NUMBER: (*_EQUALITY, "gt", "gte", "lt", "lte", "between", *_PRESENCE),
    FieldType.DATE: (
        "before",
        "after",
        "between",
        "within_last_days",
        "more_than_days_ago",
        *_PRESENCE,
    ),
    FieldType.ENUM: (*_EQUALITY, *_PRESENCE),
    FieldType.ORDERED: (*_EQUALITY, "at_least", "at_most", *_PRESENCE),
    FieldType.BOOLEAN: ("equals",),
    FieldType.REFERENCE: (*_EQUALITY, *_PRESENCE),
}

# Custom attributes and event properties are JSON: the operator (and, for
# equality, the value) says which JSON type a condition expects.
JSON_OPERATORS: tuple[str, ...] = (
    *_EQUALITY,
    "contains",
    "not_contains",
    "starts_with",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    *_PRESENCE,
)

# Operators that are the exact negation of another: a contact matches
# `not_equals X` exactly when it does not match `equals X` (missing values included).
NEGATIONS: dict[str, str] = {
    "not_equals": "equals",
    "not_in": "in",
    "not_contains": "contains",
    "is_not_set": "is_set",
}

NPS_CATEGORIES = ("promoter", "passive", "detractor")
FIT_GRADES = ("A", "B", "C", "D")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    label: str
    type: FieldType
    # Allowed values of ENUM / ORDERED fields, ORDERED ones from lowest to highest rank.
    choices: tuple[str, ...] = ()

    @property
    def operators(self) -> tuple[str, ...]:
        return OPERATORS[self.type]


def _spec(name: str, label: str, kind: FieldType, choices: tuple[str, ...] = ()) -> FieldSpec:
    return FieldSpec(name, label, kind, choices)


_SPECS = (
    _spec("email", "E-mail", FieldType.STRING),
    _spec("first_name", "First name", FieldType.STRING),
    _spec("last_name", "Last name", FieldType.STRING),
    _spec("title", "Job title", FieldType.STRING),
    _spec(
        "lifecycle_stage", "Lifecycle stage", FieldType.ENUM, tuple(s.value for s in LifecycleStage)
    ),
    _spec("owner_id", "Owner", FieldType.REFERENCE),
    _spec("locale", "Locale", FieldType.STRING),
    _spec("time_zone", "Time zone", FieldType.STRING),
    _spec("created_at", "Created", FieldType.DATE),
    _spec("last_activity_at", "Last activity", FieldType.DATE),
    _spec("score", "Lead score", FieldType.NUMBER),
    # 0..1 from the published predictive model; not set until a model is published.
    _spec("predicted_probability", "Predicted probability", FieldType.NUMBER),
    # Stored A (best) .. D; ranked lowest first so "at least B" means A or B.
    _spec("fit_grade", "Fit grade", FieldType.ORDERED, tuple(reversed(FIT_GRADES))),
    _spec("company.name", "Company name", FieldType.STRING),
    _spec("company.domain", "Company domain", FieldType.STRING),
    _spec("company.industry", "Industry", FieldType.STRING),
    _spec("company.size_band", "Company size", FieldType.ORDERED, tuple(s.value for s in SizeBand)),
    _spec("company.country", "Country", FieldType.STRING),
    _spec("suppressed", "Suppressed (unsubscribed, bounced, complained)", FieldType.BOOLEAN),
    _spec("nps_category", "NPS category (latest answer)", FieldType.ENUM, NPS_CATEGORIES),
)

FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in _SPECS}
ATTRIBUTE_PREFIX = "attributes."

EVENT_COUNT_OPERATORS = ("at_least", "at_most", "exactly", "never")
SEGMENT_OPERATORS = ("member", "not_member")


def describe() -> dict[str, Any]:
    """The catalogue as JSON for the rule builder: fields, operators per type, event forms."""
    return {
        "version": 1,
        "fields": [
            {
                "name": spec.name,
                "label": spec.label,
                "type": spec.type.value,
                "operators": list(spec.operators),
                "choices": list(spec.choices),
            }
            for spec in _SPECS
        ],
        "attribute_operators": list(JSON_OPERATORS),
        "property_operators": list(JSON_OPERATORS),
        "event_operators": list(EVENT_COUNT_OPERATORS),
        "segment_operators": list(SEGMENT_OPERATORS),
    }
