"""The scoring forms as a browser posts them: text fields and numbered condition rows turned
into the rule documents of nurture.scoring.rules, the domain's problems placed back next
to the field or row they name, and the plain-language preview of a rule.

A condition row is three inputs, `cond-<i>-name`, `cond-<i>-op` and `cond-<i>-value`.
Values are typed as text; for event properties and custom attributes, whose JSON type
the rule does not know, a bare number or true/false means that type and quotes keep a
value as text ("42").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from nurture.errors import Problem
from nurture.models import BehaviourRule, FitRule, ScoringSettings
from nurture.scoring.rules import FIT_CONTACT_FIELDS, MAX_NAME
from segments.fields import ATTRIBUTE_PREFIX, FIELDS, JSON_OPERATORS, FieldType
from segments.schema import MAX_GROUP_SIZE, MAX_WHERE

# Rows a form offers: every stored condition plus blank ones to fill, up to the limit.
BLANK_ROWS = 2
MAX_FIT_ROWS = min(MAX_GROUP_SIZE, 20)

OPERATOR_WORDS = {
    "equals": "is",
    "not_equals": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "between": "is between",
    "at_least": "is at least",
    "at_most": "is at most",
    "is_set": "is set",
    "is_not_set": "is not set",
}
PROPERTY_OPERATORS = JSON_OPERATORS
# Fit fields offered in the picker, with their labels; custom attributes are typed.
FIT_FIELD_CHOICES = [
    (name, spec.label) for name, spec in FIELDS.items() if name in FIT_CONTACT_FIELDS
]
FIT_OPERATORS = tuple(
    dict.fromkeys(op for name, _ in FIT_FIELD_CHOICES for op in FIELDS[name].operators)
)

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?\Z")
_ROW_PATH = re.compile(r"(?:where|condition\.(?:all|any))\[(\d+)\](?:\.(\w+))?")
_NO_VALUE = ("is_set", "is_not_set")
_LISTS = ("in", "not_in")


@dataclass(frozen=True, slots=True)
class ConditionRow:
    """One condition as the form shows it, with the problems the domain found in it."""

    name: str = ""
    op: str = "equals"
    value: str = ""
    errors: tuple[str, ...] = ()

    @property
    def blank(self) -> bool:
        return not self.name.strip() and not self.value.strip()


@dataclass(frozen=True, slots=True)
class RuleForm:
    """A behaviour or fit rule form: typed values by field name, rows and problems."""

    values: Mapping[str, str]
    rows: tuple[ConditionRow, ...] = ()
    active: bool = True
    # Fit rules: whether all or any of the rows must hold.
    match: str = "all"
    # A fit condition too intricate for rows (nested groups, `not`) is edited as JSON.
    condition_json: str | None = None
    errors: Mapping[str, str] = field(default_factory=dict)
    general: tuple[str, ...] = ()

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.general or any(r.errors for r in self.rows))


@dataclass(frozen=True, slots=True)
class SettingsForm:
    values: Mapping[str, str]
    errors: Mapping[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def error(self, name: str) -> str | None:
        return self.errors.get(name)


# Behaviour rules

BEHAVIOUR_NUMBERS = ("points", "cap_points", "cap_days", "threshold_count", "threshold_days")


def blank_behaviour() -> RuleForm:
    return RuleForm(values={}, rows=_padded((), MAX_WHERE))


def behaviour_form(rule: BehaviourRule) -> RuleForm:
    values = {"name": rule.name, "event_type": rule.event_type}
    for name in BEHAVIOUR_NUMBERS:
        number = getattr(rule, name)
        values[name] = "" if number is None else str(number)
    rows = tuple(_row_of(c.get("property"), c.get("op"), c.get("value"), None) for c in rule.where)
    return RuleForm(values=values, rows=_padded(rows, MAX_WHERE), active=rule.active)


def parse_behaviour(data: Mapping[str, str]) -> tuple[RuleForm, dict[str, Any], list[int]]:
    """The form as posted, the rule document it means, and which row each `where` entry
    came from (blank rows are left out, so indices differ)."""
    values = {name: data.get(name, "") for name in ("name", "event_type", *BEHAVIOUR_NUMBERS)}
    rows = _posted_rows(data, MAX_WHERE)
    where: list[dict[str, Any]] = []
    origin: list[int] = []
    for i, row in enumerate(rows):
        condition: dict[str, Any] = {"property": row.name.strip(), "op": row.op}
        if row.op not in _NO_VALUE:
            condition["value"] = typed_value(row.op, row.value, None)
        where.append(condition)
        origin.append(i)
    document: dict[str, Any] = {
        "name": values["name"],
        "event_type": values["event_type"].strip(),
        "where": where,
        "active": _checked(data),
    }
    for name in BEHAVIOUR_NUMBERS:
        document[name] = _number(values[name])
    form = RuleForm(values=values, rows=_padded(rows, MAX_WHERE), active=document["active"])
    return form, document, origin


# Fit rules


def blank_fit() -> RuleForm:
    return RuleForm(values={}, rows=_padded((), MAX_FIT_ROWS))


def fit_form(rule: FitRule) -> RuleForm:
    values = {"name": rule.name, "points": str(rule.points)}
    flat = _flat(rule.condition)
    if flat is None:
        return RuleForm(
            values=values,
            active=rule.active,
            condition_json=json.dumps(rule.condition, indent=2, ensure_ascii=False),
        )
    match, leaves = flat
    rows = tuple(_row_of(c["field"], c.get("op"), c.get("value"), c["field"]) for c in leaves)
    return RuleForm(
        values=values, rows=_padded(rows, MAX_FIT_ROWS), active=rule.active, match=match
    )


def parse_fit(data: Mapping[str, str]) -> tuple[RuleForm, dict[str, Any], list[int]]:
    """The fit form as posted, its rule document and the row of each condition."""
    values = {"name": data.get("name", ""), "points": data.get("points", "")}
    active = _checked(data)
    document: dict[str, Any] = {"name": values["name"], "points": _number(values["points"])}
    document["active"] = active
    if "condition_json" in data:
        text = data["condition_json"]
        form = RuleForm(values=values, active=active, condition_json=text)
        try:
            document["condition"] = json.loads(text)
        except ValueError:
            document["condition"] = None
        return form, document, []
    match = "any" if data.get("match") == "any" else "all"
    rows = _posted_rows(data, MAX_FIT_ROWS)
    leaves: list[dict[str, Any]] = []
    origin: list[int] = []
    for i, row in enumerate(rows):
        name = row.name.strip()
        leaf: dict[str, Any] = {"field": name, "op": row.op}
        if row.op not in _NO_VALUE:
            leaf["value"] = typed_value(row.op, row.value, name)
        leaves.append(leaf)
        origin.append(i)
    document["condition"] = {match: leaves}
    form = RuleForm(values=values, rows=_padded(rows, MAX_FIT_ROWS), active=active, match=match)
    return form, document, origin


def fit_needs_a_condition(document: Mapping[str, Any]) -> list[Problem]:
    """An empty group matches everyone, which as a fit rule only shifts every grade."""
    condition = document.get("condition")
    if isinstance(condition, dict) and condition in ({"all": []}, {"any": []}):
        return [Problem("condition", "add at least one condition")]
    return []


# Settings


def settings_form(row: ScoringSettings) -> SettingsForm:
    return SettingsForm(
        values={
            "half_life_days": f"{row.half_life_days:g}",
            "grade_a": str(row.grade_a),
            "grade_b": str(row.grade_b),
            "grade_c": str(row.grade_c),
        }
    )


def parse_settings(data: Mapping[str, str]) -> tuple[SettingsForm, dict[str, Any]]:
    values = {k: data.get(k, "") for k in ("half_life_days", "grade_a", "grade_b", "grade_c")}
    document: dict[str, Any] = {k: _number(values[k]) for k in ("grade_a", "grade_b", "grade_c")}
    document["half_life_days"] = _number(values["half_life_days"])
    return SettingsForm(values=values), document


def settings_with_problems(form: SettingsForm, problems: Sequence[Problem]) -> SettingsForm:
    errors: dict[str, str] = {}
    for problem in problems:
        errors.setdefault(problem.field, problem.message)
    return replace(form, errors=errors)


# Problems back onto the form


def with_problems(form: RuleForm, problems: Sequence[Problem], origin: Sequence[int]) -> RuleForm:
    """The form with each problem next to the field or row its path names."""
    errors: dict[str, str] = {}
    general: list[str] = []
    row_errors: dict[int, list[str]] = {}
    for problem in problems:
        found = _ROW_PATH.match(problem.field)
        if found and int(found.group(1)) < len(origin):
            part = found.group(2)
            label = {"property": "Property", "field": "Field", "op": "Operator"}.get(
                part or "", "Value" if part == "value" else "Condition"
            )
            row_errors.setdefault(origin[int(found.group(1))], []).append(
                f"{label}: {problem.message}"
            )
        elif form.condition_json is not None and problem.field.startswith("condition"):
            errors.setdefault("condition", f"{problem.field}: {problem.message}")
        elif problem.field in (*form.values, "where", "condition", "active"):
            errors.setdefault(problem.field, problem.message)
        else:
            general.append(problem.describe())
    rows = tuple(
        replace(row, errors=tuple(row_errors.get(i, ()))) for i, row in enumerate(form.rows)
    )
    return replace(form, rows=rows, errors=errors, general=tuple(general))


# Values


def typed_value(op: str, text: str, field_name: str | None) -> object:
    """The JSON value a condition row's text means for `op` (and the field's type, for
    contact fields; None for event properties and custom attributes)."""
    text = text.strip()
    if op in _LISTS:
        return [_scalar(item.strip(), op, field_name) for item in text.split(",") if item.strip()]
    if op == "between":
        parts = re.split(r"\s*(?:,|\band\b)\s*", text)
        return [_number(part) for part in parts if part]
    return _scalar(text, op, field_name)


def shown_value(op: str | None, value: object, field_name: str | None) -> str:
    """The text a row shows for a stored value (what typed_value reads back the same)."""
    if op in _NO_VALUE or value is None:
        return ""
    if isinstance(value, list):
        joiner = " and " if op == "between" else ", "
        return joiner.join(shown_value("equals", item, field_name) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    text = str(value)
    if _field_type(field_name) is None and (
        _NUMBER.match(text) or text in ("true", "false") or text.startswith('"') or "," in text
    ):
        return json.dumps(text, ensure_ascii=False)
    return text


def _scalar(text: str, op: str, field_name: str | None) -> object:
    kind = _field_type(field_name)
    if kind is FieldType.STRING or kind in (FieldType.ENUM, FieldType.ORDERED):
        return text
    if kind is FieldType.BOOLEAN:
        return {"true": True, "false": False}.get(text.lower(), text)
    if kind in (FieldType.NUMBER, FieldType.REFERENCE) or op in ("gt", "gte", "lt", "lte"):
        return _number(text)
    # JSON of unknown type: quotes say text, a bare number or true/false its type.
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.match(text):
        return _number(text)
    return text


def _field_type(field_name: str | None) -> FieldType | None:
    if field_name is None or field_name.startswith(ATTRIBUTE_PREFIX):
        return None
    spec = FIELDS.get(field_name)
    return spec.type if spec else FieldType.STRING


def _number(text: str) -> object:
    """An int or float from the text; the text itself when it is none (the domain then
    names the field: "must be a number")."""
    text = text.strip()
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _number_text(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _checked(data: Mapping[str, str]) -> bool:
    return data.get("active") in ("on", "true", "1")


def _posted_rows(data: Mapping[str, str], limit: int) -> list[ConditionRow]:
    """The rows that were filled in, in order (blank ones dropped, so a problem's index
    in the document is the row's index on the form shown again)."""
    rows = []
    for i in range(limit):
        if f"cond-{i}-name" not in data and f"cond-{i}-value" not in data:
            continue
        row = ConditionRow(
            name=data.get(f"cond-{i}-name", "")[:MAX_NAME],
            op=data.get(f"cond-{i}-op", "equals"),
            value=data.get(f"cond-{i}-value", ""),
        )
        if not row.blank:
            rows.append(row)
    return rows


def _padded(rows: Sequence[ConditionRow], limit: int) -> tuple[ConditionRow, ...]:
    kept = list(rows)
    return (*kept, *[ConditionRow()] * max(0, min(BLANK_ROWS, limit - len(kept))))


def _row_of(name: object, op: object, value: object, field_name: str | None) -> ConditionRow:
    op_text = str(op or "equals")
    return ConditionRow(str(name or ""), op_text, shown_value(op_text, value, field_name))


def _flat(condition: object) -> tuple[str, list[dict[str, Any]]] | None:
    """("all" or "any", the leaf conditions) when the condition is rows, else None."""
    if not isinstance(condition, dict):
        return None
    if "field" in condition:
        return "all", [condition]
    for match in ("all", "any"):
        children = condition.get(match)
        if (
            len(condition) == 1
            and isinstance(children, list)
            and len(children) <= MAX_FIT_ROWS
            and all(isinstance(c, dict) and "field" in c for c in children)
        ):
            return match, children
    return None


# Plain language


def describe_behaviour(rule: BehaviourRule) -> str:
    """'+10 when email.clicked where url contains 'pricing', at most 30 per 30 days'."""
    text = f"{rule.points:+d} when {rule.event_type}"
    if rule.threshold_count and rule.threshold_days:
        text += f" happens {rule.threshold_count} times within {rule.threshold_days} days"
    if rule.where:
        text += " where " + " and ".join(
            _phrase(c.get("property"), c.get("op"), c.get("value")) for c in rule.where
        )
    if rule.cap_points and rule.cap_days:
        text += f", at most {rule.cap_points} per {_days(rule.cap_days)}"
    return text


def describe_fit(rule: FitRule) -> str:
    """'+20 when job title contains 'partner' or job title contains 'director''."""
    return f"{rule.points:+d} when {describe_condition(rule.condition)}"


def describe_condition(node: object) -> str:
    if not isinstance(node, dict):
        return "?"
    for match, joiner in (("all", " and "), ("any", " or ")):
        if match in node and isinstance(node[match], list):
            parts = [describe_condition(child) for child in node[match]]
            if not parts:
                return "anyone"
            text = joiner.join(parts)
            return text if len(parts) == 1 else f"({text})"
    if "not" in node:
        return f"not {describe_condition(node['not'])}"
    name = str(node.get("field", "?"))
    label = FIELDS[name].label.lower() if name in FIELDS else name
    return _phrase(label, node.get("op"), node.get("value"))


def _phrase(name: object, op: object, value: object) -> str:
    words = OPERATOR_WORDS.get(str(op), str(op))
    if op in _NO_VALUE:
        return f"{name} {words}"
    if isinstance(value, list):
        joiner = " and " if op == "between" else ", "
        shown = joiner.join(_quoted(v) for v in value)
    else:
        shown = _quoted(value)
    return f"{name} {words} {shown}"


def _quoted(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    return f"'{value}'"


def _days(days: int) -> str:
    return "day" if days == 1 else f"{days} days"
