"""The rule document: typed nodes, and parsing JSON into them with path-precise errors.

A rule document is `{"version": 1, "rule": <node>}`, where a node is one of

    {"all": [<node>, ...]}        every child holds (an empty group holds for everyone)
    {"any": [<node>, ...]}        at least one child holds (an empty group holds for everyone)
    {"not": <node>}               the child does not hold
    {"field": "title", "op": "contains", "value": "partner"}
    {"field": "attributes.plan", "op": "in", "value": ["pro", "team"]}
    {"event": "email.clicked", "op": "at_least", "times": 2, "within_last_days": 60,
     "where": [{"property": "url", "op": "contains", "value": "compliance"}]}
    {"event": "webinar.attended", "op": "never"}
    {"segment": 12, "op": "member"}

`parse_rule` is pure: it checks structure and values against the field
catalogue and returns frozen dataclasses the compiler and evaluator accept.
Checks that need the database (referenced segments exist, no cycles) live in
`segments.validation`. Every problem names its path, like
`rule.all[2].any[0].value`, and all problems are reported at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal, TypeAlias

from nurture.errors import InvalidInput, Problem
from nurture.validation import is_attribute_key, is_event_type
from segments.fields import (
    ATTRIBUTE_PREFIX,
    EVENT_COUNT_OPERATORS,
    FIELDS,
    JSON_OPERATORS,
    SEGMENT_OPERATORS,
    FieldType,
)

SCHEMA_VERSION = 1
MAX_DEPTH = 6
MAX_NODES = 200
MAX_GROUP_SIZE = 50
MAX_WHERE = 10
MAX_LIST = 500
MAX_TEXT = 500
MAX_DAYS = 36_500
MAX_TIMES = 1_000_000

_PROPERTY_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}\Z")

JsonKind = Literal["string", "number", "boolean", "any"]
Scalar: TypeAlias = str | float | bool | int | datetime
Value: TypeAlias = Scalar | tuple[Scalar, ...] | None


@dataclass(frozen=True, slots=True)
class Group:
    """`all` (every child) or `any` (some child); empty means no restriction."""

    kind: Literal["all", "any"]
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class FieldCondition:
    """A catalogue field (see segments.fields) tested by `op`.

    `value` is normalised: numbers are floats, dates aware UTC datetimes,
    relative dates whole days (int), lists and ranges tuples, presence None.
    """

    field: str
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class JsonTest:
    """A test of one key of a JSON object (custom attribute or event property).

    `kind` is the JSON type the test expects, taken from the operator and value;
    a stored value of another type never matches (and so matches the negations).
    """

    key: str
    op: str
    kind: JsonKind
    value: Value


@dataclass(frozen=True, slots=True)
class AttributeCondition:
    test: JsonTest


@dataclass(frozen=True, slots=True)
class EventCondition:
    """The contact had between `min_count` and `max_count` (None: no upper bound)
    events of `event_type` matching every `where` test, in the window."""

    event_type: str
    op: str
    times: int
    where: tuple[JsonTest, ...] = ()
    within_last_days: int | None = None
    between: tuple[datetime, datetime] | None = None

    @property
    def min_count(self) -> int:
        return 0 if self.op in ("at_most", "never") else self.times

    @property
    def max_count(self) -> int | None:
        if self.op == "never":
            return 0
        return self.times if self.op in ("at_most", "exactly") else None


@dataclass(frozen=True, slots=True)
class SegmentCondition:
    segment_id: int
    member: bool


Node: TypeAlias = (
    Group | Not | FieldCondition | AttributeCondition | EventCondition | SegmentCondition
)


@dataclass(frozen=True, slots=True)
class Rule:
    version: int
    root: Node


def parse_rule(document: object) -> Rule:
    """Check a rule document and return its typed form; InvalidInput lists every problem."""
    parser = _Parser()
    rule = parser.document(document)
    if parser.problems:
        raise InvalidInput(parser.problems)
    if rule is None:
        raise RuntimeError("rule is None, but a rule without problems was parsed")
    return rule


def referenced_segments(node: Node) -> set[int]:
    """Ids of the segments a rule tests membership of."""
    if isinstance(node, Group):
        return set().union(*(referenced_segments(c) for c in node.children))
    if isinstance(node, Not):
        return referenced_segments(node.child)
    if isinstance(node, SegmentCondition):
        return {node.segment_id}
    return set()


def referenced_event_types(node: Node) -> set[str]:
    """Event types whose arrival can change whether a contact matches."""
    if isinstance(node, Group):
        return set().union(*(referenced_event_types(c) for c in node.children))
    if isinstance(node, Not):
        return referenced_event_types(node.child)
    if isinstance(node, EventCondition):
        return {node.event_type}
    if isinstance(node, FieldCondition) and node.field == "nps_category":
        return {"nps.answered"}
    return set()


def uses_activity(node: Node) -> bool:
    """True when any event can change the answer (the rule reads last_activity_at)."""
    if isinstance(node, Group):
        return any(uses_activity(c) for c in node.children)
    if isinstance(node, Not):
        return uses_activity(node.child)
    return isinstance(node, FieldCondition) and node.field == "last_activity_at"


class _Parser:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.nodes = 0

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def document(self, raw: object) -> Rule | None:
        if not isinstance(raw, dict):
            self.fail("", 'must be an object like {"version": 1, "rule": {...}}')
            return None
        for key in sorted(set(raw) - {"version", "rule"}):
            self.fail(str(key), "is not a known key")
        version = raw.get("version")
        if version != SCHEMA_VERSION or isinstance(version, bool):
            self.fail("version", f"must be {SCHEMA_VERSION}")
        if "rule" not in raw:
            self.fail("rule", "is required")
            return None
        root = self.node(raw["rule"], "rule", depth=0)
        return None if root is None else Rule(SCHEMA_VERSION, root)

    def node(self, raw: object, path: str, depth: int) -> Node | None:
        self.nodes += 1
        if self.nodes == MAX_NODES + 1:
            self.fail(path, f"a rule holds at most {MAX_NODES} groups and conditions")
        if not isinstance(raw, dict):
            self.fail(path, "must be an object (a group or a condition)")
            return None
        kinds = [k for k in ("all", "any", "not", "field", "event", "segment") if k in raw]
        if len(kinds) != 1:
            self.fail(path, "must have exactly one of all, any, not, field, event, segment")
            return None
        kind = kinds[0]
        if kind in ("all", "any", "not"):
            if depth >= MAX_DEPTH:
                self.fail(path, f"groups nest at most {MAX_DEPTH} deep")
                return None
            self.known_keys(raw, path, {kind})
            if kind == "not":
                child = self.node(raw["not"], f"{path}.not", depth + 1)
                return None if child is None else Not(child)
            group_kind: Literal["all", "any"] = "all" if kind == "all" else "any"
            return self.group(group_kind, raw[kind], f"{path}.{kind}", depth)
        if kind == "field":
            return self.field(raw, path)
        if kind == "event":
            return self.event(raw, path)
        return self.segment(raw, path)

    def group(
        self, kind: Literal["all", "any"], raw: object, path: str, depth: int
    ) -> Group | None:
        if not isinstance(raw, list):
            self.fail(path, "must be a list of groups and conditions")
            return None
        if len(raw) > MAX_GROUP_SIZE:
            self.fail(path, f"a group holds at most {MAX_GROUP_SIZE} items")
            return None
        children = [self.node(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(raw)]
        if any(c is None for c in children):
            return None
        return Group(kind, tuple(c for c in children if c is not None))

    def known_keys(self, raw: dict[str, Any], path: str, allowed: set[str]) -> bool:
        unknown = sorted(str(k) for k in raw if k not in allowed)
        for key in unknown:
            self.fail(f"{path}.{key}", "is not a known key")
        return not unknown

    def field(self, raw: dict[str, Any], path: str) -> Node | None:
        ok = self.known_keys(raw, path, {"field", "op", "value"})
        name = raw["field"]
        op = raw.get("op")
        if not isinstance(name, str):
            self.fail(f"{path}.field", "must be a field name")
            return None
        if name.startswith(ATTRIBUTE_PREFIX):
            key = name[len(ATTRIBUTE_PREFIX) :]
            if not is_attribute_key(key):
                self.fail(f"{path}.field", "attribute names are letters, digits and _ (up to 64)")
                return None
            test = self.json_test(key, op, raw, path)
            return None if test is None or not ok else AttributeCondition(test)
        spec = FIELDS.get(name)
        if spec is None:
            self.fail(f"{path}.field", f"{name!r} is not a field a rule can test")
            return None
        if not isinstance(op, str) or op not in spec.operators:
            self.fail(f"{path}.op", f"must be one of {', '.join(spec.operators)} for {name}")
            return None
        value = self.typed_value(spec.type, spec.choices, op, raw, path)
        if value is _BAD or not ok:
            return None
        return FieldCondition(name, op, value)  # type: ignore[arg-type]

    def typed_value(
        self, kind: FieldType, choices: tuple[str, ...], op: str, raw: dict[str, Any], path: str
    ) -> object:
        where = f"{path}.value"
        value = raw.get("value")
        if op in ("is_set", "is_not_set"):
            if value is not None:
                self.fail(where, f"{op} takes no value")
                return _BAD
            return None
        if "value" not in raw:
            self.fail(where, "is required")
            return _BAD
        if kind is FieldType.DATE:
            return self.date_value(op, value, where)
        if kind is FieldType.BOOLEAN:
            if not isinstance(value, bool):
                self.fail(where, "must be true or false")
                return _BAD
            return value
        check = {
            FieldType.STRING: self.text,
            FieldType.NUMBER: self.number,
            FieldType.REFERENCE: self.reference,
        }.get(kind)

        def one(item: object, at: str) -> object:
            if check is not None:
                return check(item, at)
            if item not in choices:
                self.fail(at, f"must be one of {', '.join(choices)}")
                return _BAD
            return item

        if op in ("in", "not_in"):
            return self.listed(value, where, one)
        if op == "between":
            return self.pair(value, where, self.number)
        if op in ("contains", "not_contains", "starts_with") and value == "":
            self.fail(where, "must not be empty")
            return _BAD
        return one(value, where)

    def date_value(self, op: str, value: object, where: str) -> object:
        if op in ("within_last_days", "more_than_days_ago"):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
                self.fail(where, f"must be a whole number of days from 1 to {MAX_DAYS}")
                return _BAD
            return value
        if op == "between":
            return self.pair(value, where, self.moment)
        return self.moment(value, where)

    def json_test(self, key: str, op: object, raw: dict[str, Any], path: str) -> JsonTest | None:
        where = f"{path}.value"
        if not isinstance(op, str) or op not in JSON_OPERATORS:
            self.fail(f"{path}.op", f"must be one of {', '.join(JSON_OPERATORS)}")
            return None
        value = raw.get("value")
        kind: JsonKind
        parsed: object
        if op in ("is_set", "is_not_set"):
            if value is not None:
                self.fail(where, f"{op} takes no value")
                return None
            return JsonTest(key, op, "any", None)
        if "value" not in raw:
            self.fail(where, "is required")
            return None
        if op in ("contains", "not_contains", "starts_with"):
            kind, parsed = "string", self.text(value, where)
            if parsed == "":
                self.fail(where, "must not be empty")
                return None
        elif op in ("gt", "gte", "lt", "lte"):
            kind, parsed = "number", self.number(value, where)
        elif op == "between":
            kind, parsed = "number", self.pair(value, where, self.number)
        elif op in ("in", "not_in"):
            first = value[0] if isinstance(value, list) and value else None
            kind = _json_kind(first)
            parsed = self.listed(value, where, lambda item, at: self.json_scalar(item, at, kind))
        else:
            kind = _json_kind(value)
            parsed = self.json_scalar(value, where, kind)
        if parsed is _BAD:
            return None
        return JsonTest(key, op, kind, parsed)  # type: ignore[arg-type]

    def json_scalar(self, value: object, where: str, kind: JsonKind) -> object:
        if kind == "boolean":
            return value if isinstance(value, bool) else self.fail_bad(where, "must be a boolean")
        if kind == "number":
            return self.number(value, where)
        if kind == "string":
            return self.text(value, where)
        return self.fail_bad(where, "must be a string, number or boolean")

    def event(self, raw: dict[str, Any], path: str) -> EventCondition | None:
        allowed = {"event", "op", "times", "where", "within_last_days", "between"}
        ok = self.known_keys(raw, path, allowed)
        kind = raw["event"]
        if not is_event_type(kind):
            self.fail(f"{path}.event", "must be an event type like email.clicked")
            ok = False
        op = raw.get("op", "at_least")
        times: object = raw.get("times")
        if op not in EVENT_COUNT_OPERATORS:
            self.fail(f"{path}.op", f"must be one of {', '.join(EVENT_COUNT_OPERATORS)}")
            ok = False
        elif op == "never":
            if times is not None:
                self.fail(f"{path}.times", "never takes no count")
                ok = False
            times = 0
        elif (
            isinstance(times, bool)
            or not isinstance(times, int)
            or not (1 if op == "at_least" else 0) <= times <= MAX_TIMES
        ):
            low = 1 if op == "at_least" else 0
            self.fail(f"{path}.times", f"must be a whole number from {low} to {MAX_TIMES}")
            ok = False
        within = raw.get("within_last_days")
        between_raw = raw.get("between")
        between: object = None
        if within is not None and between_raw is not None:
            self.fail(f"{path}.between", "give within_last_days or between, not both")
            ok = False
        if within is not None and (
            isinstance(within, bool) or not isinstance(within, int) or not 1 <= within <= MAX_DAYS
        ):
            self.fail(f"{path}.within_last_days", f"must be a whole number from 1 to {MAX_DAYS}")
            ok = False
        if between_raw is not None:
            between = self.pair(between_raw, f"{path}.between", self.moment)
            ok = ok and between is not _BAD
        tests = self.where(raw.get("where", []), f"{path}.where")
        if not ok or tests is None:
            return None
        return EventCondition(kind, op, times, tests, within, between)  # type: ignore[arg-type]

    def where(self, raw: object, path: str) -> tuple[JsonTest, ...] | None:
        if not isinstance(raw, list):
            self.fail(path, "must be a list of property conditions")
            return None
        if len(raw) > MAX_WHERE:
            self.fail(path, f"at most {MAX_WHERE} property conditions")
            return None
        tests: list[JsonTest | None] = []
        for i, item in enumerate(raw):
            at = f"{path}[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("property"), str):
                self.fail(at, 'must be an object like {"property": "url", "op": ..., "value": ...}')
                tests.append(None)
                continue
            ok = self.known_keys(item, at, {"property", "op", "value"})
            key = item["property"]
            if not _PROPERTY_KEY.match(key):
                self.fail(f"{at}.property", "names are letters, digits, _ and - (up to 64)")
                tests.append(None)
                continue
            test = self.json_test(key, item.get("op"), item, at)
            tests.append(test if ok else None)
        if any(t is None for t in tests):
            return None
        return tuple(t for t in tests if t is not None)

    def segment(self, raw: dict[str, Any], path: str) -> SegmentCondition | None:
        ok = self.known_keys(raw, path, {"segment", "op"})
        segment_id = raw["segment"]
        op = raw.get("op", "member")
        if isinstance(segment_id, bool) or not isinstance(segment_id, int) or segment_id < 1:
            self.fail(f"{path}.segment", "must be a segment id")
            ok = False
        if op not in SEGMENT_OPERATORS:
            self.fail(f"{path}.op", f"must be one of {', '.join(SEGMENT_OPERATORS)}")
            ok = False
        return SegmentCondition(segment_id, op == "member") if ok else None

    # Value checkers: return the normalised value, or _BAD after recording a problem.

    def fail_bad(self, where: str, message: str) -> object:
        self.fail(where, message)
        return _BAD

    def text(self, value: object, where: str) -> object:
        if not isinstance(value, str):
            return self.fail_bad(where, "must be a string")
        if len(value) > MAX_TEXT:
            return self.fail_bad(where, f"must be at most {MAX_TEXT} characters")
        return value

    def number(self, value: object, where: str) -> object:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self.fail_bad(where, "must be a number")
        if not math.isfinite(value) or abs(value) > 1e15:
            return self.fail_bad(where, "must be a finite number up to 10^15")
        return float(value)

    def reference(self, value: object, where: str) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return self.fail_bad(where, "must be an id (a positive whole number)")
        return value

    def moment(self, value: object, where: str) -> object:
        moment = parse_moment(value)
        if moment is None:
            return self.fail_bad(
                where, "must be a date (2025-01-31) or a date-time with a zone (…T09:00:00Z)"
            )
        return moment

    def listed(self, value: object, where: str, one: Any) -> object:
        if not isinstance(value, list) or not value:
            return self.fail_bad(where, "must be a non-empty list")
        if len(value) > MAX_LIST:
            return self.fail_bad(where, f"must hold at most {MAX_LIST} values")
        items = [one(item, f"{where}[{i}]") for i, item in enumerate(value)]
        return _BAD if any(i is _BAD for i in items) else tuple(items)

    def pair(self, value: object, where: str, one: Any) -> object:
        if not isinstance(value, list) or len(value) != 2:
            return self.fail_bad(where, "must be a list of two values [from, to]")
        low, high = one(value[0], f"{where}[0]"), one(value[1], f"{where}[1]")
        if low is _BAD or high is _BAD:
            return _BAD
        if low > high:
            return self.fail_bad(where, "the first value must not be after the second")
        return (low, high)


_BAD: Any = object()


def _json_kind(value: object) -> JsonKind:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "any"


def parse_moment(value: object) -> datetime | None:
    """An ISO date (midnight UTC) or an ISO date-time with a zone, as aware UTC; else None."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def walk(node: Node, path: str = "rule") -> Iterator[tuple[str, Node]]:
    """Every node with its document path (`rule.all[2].not`), parents before children."""
    yield path, node
    if isinstance(node, Group):
        for i, child in enumerate(node.children):
            yield from walk(child, f"{path}.{node.kind}[{i}]")
    elif isinstance(node, Not):
        yield from walk(node.child, f"{path}.not")
