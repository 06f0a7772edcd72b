"""A pure-Python evaluator of rule documents, for tests only.

It answers the same question as segments.compiler over plain dicts, written
as directly as possible from the schema's documented meaning, so the
property-based test can compare the two. Production code never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from nurture.contacts.addresses import email_hash
from segments.fields import FIELDS, NEGATIONS, FieldType
from segments.schema import (
    AttributeCondition,
    EventCondition,
    FieldCondition,
    Group,
    JsonTest,
    Node,
    Not,
    Rule,
    SegmentCondition,
    Value,
)


@dataclass
class Dataset:
    """Rows as dicts keyed by column name; companies by id; members by segment id."""

    contacts: list[dict[str, Any]] = field(default_factory=list)
    companies: dict[int, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    suppressed_hashes: set[str] = field(default_factory=set)
    members: dict[int, set[int]] = field(default_factory=dict)


def evaluate(rule: Rule, data: Dataset, now: datetime) -> set[int]:
    """Ids of live contacts that match the rule."""
    return {
        c["id"]
        for c in data.contacts
        if c.get("erased_at") is None and _holds(rule.root, c, data, now)
    }


def _holds(node: Node, contact: dict[str, Any], data: Dataset, now: datetime) -> bool:
    if isinstance(node, Group):
        results = [_holds(child, contact, data, now) for child in node.children]
        if not results:
            return True
        return all(results) if node.kind == "all" else any(results)
    if isinstance(node, Not):
        return not _holds(node.child, contact, data, now)
    if isinstance(node, FieldCondition):
        return _field(node, contact, data, now)
    if isinstance(node, AttributeCondition):
        return _json(contact.get("attributes") or {}, node.test, now)
    if isinstance(node, EventCondition):
        return _event(node, contact, data, now)
    if isinstance(node, SegmentCondition):
        return (contact["id"] in data.members.get(node.segment_id, set())) == node.member
    raise TypeError(node)


def _field(cond: FieldCondition, contact: dict[str, Any], data: Dataset, now: datetime) -> bool:
    spec = FIELDS[cond.field]
    if cond.field == "suppressed":
        email = contact.get("email")
        suppressed = email is not None and email_hash(email) in data.suppressed_hashes
        return suppressed == cond.value
    if cond.field == "nps_category":
        value: Any = _nps_category(contact["id"], data)
    elif cond.field.startswith("company."):
        company = data.companies.get(contact.get("company_id") or 0)
        value = None if company is None else company.get(cond.field.removeprefix("company."))
    else:
        value = contact.get(cond.field)
    op, expected = cond.op, cond.value
    if spec.type is FieldType.ORDERED and op in ("at_least", "at_most"):
        rank = spec.choices.index(str(expected))
        op, expected = "in", spec.choices[rank:] if op == "at_least" else spec.choices[: rank + 1]
    return _test(value, op, expected, now, text=spec.type is FieldType.STRING)


def _test(value: Any, op: str, expected: Value, now: datetime, *, text: bool) -> bool:
    if op in NEGATIONS:
        return not _test(value, NEGATIONS[op], expected, now, text=text)
    if value is None:
        return False
    if op == "is_set":
        return value != "" if text else True
    e: Any = expected
    match op:
        case "equals":
            return bool(value == e)
        case "in":
            return value in e
        case "contains":
            return str(e).lower() in str(value).lower()
        case "starts_with":
            return str(value).lower().startswith(str(e).lower())
        case "gt" | "after":
            return bool(value > e)
        case "gte":
            return bool(value >= e)
        case "lt" | "before":
            return bool(value < e)
        case "lte":
            return bool(value <= e)
        case "between":
            return bool(e[0] <= value <= e[1])
        case "within_last_days":
            return bool(value >= now - timedelta(days=e))
        case "more_than_days_ago":
            return bool(value < now - timedelta(days=e))
    raise ValueError(op)


def _typed(document: dict[str, Any], key: str, kind: str) -> Any:
    value = document.get(key)
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else None  # type: ignore[arg-type]
    if kind == "string":
        return value if isinstance(value, str) else None
    return value


def _json(document: dict[str, Any], test: JsonTest, now: datetime) -> bool:
    if test.op in NEGATIONS:
        return not _json(
            document, JsonTest(test.key, NEGATIONS[test.op], test.kind, test.value), now
        )
    if test.op == "is_set":
        return document.get(test.key) is not None
    return _test(_typed(document, test.key, test.kind), test.op, test.value, now, text=False)


def _event(cond: EventCondition, contact: dict[str, Any], data: Dataset, now: datetime) -> bool:
    count = 0
    for event in data.events:
        if event["contact_id"] != contact["id"] or event["type"] != cond.event_type:
            continue
        when = event["occurred_at"]
        if cond.within_last_days is not None and when < now - timedelta(days=cond.within_last_days):
            continue
        if cond.between is not None and not cond.between[0] <= when <= cond.between[1]:
            continue
        if all(_json(event.get("properties") or {}, t, now) for t in cond.where):
            count += 1
    high = cond.max_count
    return count >= cond.min_count and (high is None or count <= high)


def _nps_category(contact_id: int, data: Dataset) -> str | None:
    answers = [
        e for e in data.events if e["contact_id"] == contact_id and e["type"] == "nps.answered"
    ]
    if not answers:
        return None
    latest = max(answers, key=lambda e: (e["occurred_at"], e["id"]))
    score = _typed(latest.get("properties") or {}, "score", "number")
    if score is None:
        return None
    if 9 <= score <= 10:
        return "promoter"
    if 7 <= score < 9:
        return "passive"
    if 0 <= score < 7:
        return "detractor"
    return None
