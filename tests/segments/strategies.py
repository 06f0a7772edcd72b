"""Hypothesis strategies: random datasets and random rule documents within the schema.

Values come from small pools shared by data and rules, so equality, range
boundaries and relative-date edges are hit often rather than by luck.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from nurture.contacts.addresses import email_hash
from nurture.models import LifecycleStage, SizeBand
from segments.fields import FIELDS, JSON_OPERATORS, FieldType
from tests.segments.reference import Dataset

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAYS = (1, 5, 30, 60)
MOMENTS = tuple(NOW - timedelta(days=d) for d in (0, 1, 5, 30, 31, 60, 400))
USER_IDS = (1, 2)
SEGMENT_IDS = (1, 2)
EVENT_TYPES = ("email.clicked", "webinar.attended", "nps.answered")
TEXTS = ("Partner", "partner", "Ann", "an", "50%", "%", "_", "a_b", "DE", "legal", "x")
NUMBERS = (0, 7, 9, 10, 40, 40.5, 41)
ATTRIBUTE_KEYS = ("plan", "seats", "vip")
PROPERTY_KEYS = ("url", "score", "n")

texts = st.sampled_from(TEXTS)
numbers = st.sampled_from(NUMBERS)
moments = st.sampled_from(MOMENTS)
json_values: st.SearchStrategy[Any] = st.one_of(
    st.none(), texts, numbers, st.booleans(), st.just(["a", 1])
)


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    data = Dataset()
    for company_id in range(1, draw(st.integers(0, 3)) + 1):
        data.companies[company_id] = {
            "id": company_id,
            "name": draw(texts),
            "domain": draw(st.none() | st.sampled_from(("a.example", "b.example"))),
            "industry": draw(st.none() | st.sampled_from(("legal", "consulting", ""))),
            "size_band": draw(st.none() | st.sampled_from([s.value for s in SizeBand])),
            "country": draw(st.none() | st.sampled_from(("DE", "AT", "FR"))),
        }
        if data.companies[company_id]["domain"] is not None:
            data.companies[company_id]["domain"] = (
                f"{company_id}.{data.companies[company_id]['domain']}"
            )
    known: list[int | None] = [*sorted(data.companies), None]
    company_ids = st.sampled_from(known)
    for contact_id in range(1, draw(st.integers(0, 10)) + 1):
        data.contacts.append(
            {
                "id": contact_id,
                "email": f"p{contact_id}@{draw(st.sampled_from(('law.example', 'ann.example')))}",
                "first_name": draw(st.none() | texts),
                "last_name": draw(st.none() | texts),
                "title": draw(st.none() | texts | st.just("")),
                "lifecycle_stage": draw(st.sampled_from([s.value for s in LifecycleStage])),
                "owner_id": draw(st.none() | st.sampled_from(USER_IDS)),
                "locale": draw(st.none() | st.sampled_from(("de", "en-GB"))),
                "time_zone": draw(st.none() | st.just("Europe/Berlin")),
                "created_at": draw(moments),
                "last_activity_at": draw(st.none() | moments),
                "score": draw(st.sampled_from((0, 10, 40, 41, 100))),
                "fit_grade": draw(st.none() | st.sampled_from(("A", "B", "C", "D"))),
                "company_id": draw(company_ids),
                "attributes": draw(
                    st.dictionaries(st.sampled_from(ATTRIBUTE_KEYS), json_values, max_size=3)
                ),
                "erased_at": draw(st.none() | st.none() | st.none() | st.just(MOMENTS[3])),
            }
        )
    ids = [c["id"] for c in data.contacts]
    if ids:
        for event_id in range(1, draw(st.integers(0, 20)) + 1):
            data.events.append(
                {
                    "id": event_id,
                    "contact_id": draw(st.sampled_from(ids)),
                    "type": draw(st.sampled_from(EVENT_TYPES)),
                    "occurred_at": draw(moments),
                    "properties": draw(
                        st.dictionaries(st.sampled_from(PROPERTY_KEYS), json_values, max_size=3)
                    ),
                }
            )
        for contact in data.contacts:
            if draw(st.booleans()) and draw(st.booleans()):
                data.suppressed_hashes.add(email_hash(contact["email"]))
        for segment_id in SEGMENT_IDS:
            data.members[segment_id] = set(draw(st.lists(st.sampled_from(ids), max_size=4)))
    return data


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _pair(values: st.SearchStrategy[Any], draw: st.DrawFn) -> list[Any]:
    return sorted(draw(st.lists(values, min_size=2, max_size=2)))


def _value_for(kind: FieldType, choices: tuple[str, ...], op: str, draw: st.DrawFn) -> Any:
    if op in ("is_set", "is_not_set"):
        return None
    if kind is FieldType.DATE:
        if op in ("within_last_days", "more_than_days_ago"):
            return draw(st.sampled_from(DAYS))
        if op == "between":
            return [_iso(m) for m in _pair(moments, draw)]
        return _iso(draw(moments))
    if kind is FieldType.BOOLEAN:
        return draw(st.booleans())
    pools: dict[FieldType, st.SearchStrategy[Any]] = {
        FieldType.STRING: texts,
        FieldType.NUMBER: numbers,
        FieldType.REFERENCE: st.sampled_from((*USER_IDS, 3)),
    }
    one = pools[kind] if kind in pools else st.sampled_from(choices)
    if op in ("in", "not_in"):
        return draw(st.lists(one, min_size=1, max_size=3))
    if op == "between":
        return _pair(numbers, draw)
    return draw(one)


@st.composite
def field_conditions(draw: st.DrawFn) -> dict[str, Any]:
    spec = draw(st.sampled_from(sorted(FIELDS.values(), key=lambda s: s.name)))
    op = draw(st.sampled_from(spec.operators))
    condition: dict[str, Any] = {"field": spec.name, "op": op}
    value = _value_for(spec.type, spec.choices, op, draw)
    if value is not None:
        condition["value"] = value
    return condition


def _json_test(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(JSON_OPERATORS))
    test: dict[str, Any] = {"op": op}
    if op in ("contains", "not_contains", "starts_with"):
        test["value"] = draw(texts)
    elif op in ("gt", "gte", "lt", "lte"):
        test["value"] = draw(numbers)
    elif op == "between":
        test["value"] = _pair(numbers, draw)
    elif op in ("in", "not_in"):
        pool = draw(st.sampled_from((texts, numbers, st.booleans())))
        test["value"] = draw(st.lists(pool, min_size=1, max_size=3))
    elif op in ("equals", "not_equals"):
        test["value"] = draw(texts | numbers | st.booleans())
    return test


@st.composite
def attribute_conditions(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(st.sampled_from(ATTRIBUTE_KEYS))
    return {"field": f"attributes.{key}", **_json_test(draw)}


@st.composite
def event_conditions(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(("at_least", "at_most", "exactly", "never")))
    condition: dict[str, Any] = {"event": draw(st.sampled_from(EVENT_TYPES)), "op": op}
    if op != "never":
        condition["times"] = draw(st.integers(1 if op == "at_least" else 0, 3))
    window = draw(st.sampled_from(("ever", "within", "between")))
    if window == "within":
        condition["within_last_days"] = draw(st.sampled_from(DAYS))
    elif window == "between":
        condition["between"] = [_iso(m) for m in _pair(moments, draw)]
    where = [
        {"property": draw(st.sampled_from(PROPERTY_KEYS)), **_json_test(draw)}
        for _ in range(draw(st.integers(0, 2)))
    ]
    if where:
        condition["where"] = where
    return condition


segment_conditions = st.builds(
    lambda sid, member: {"segment": sid, "op": "member" if member else "not_member"},
    st.sampled_from(SEGMENT_IDS),
    st.booleans(),
)

conditions = st.one_of(
    field_conditions(), attribute_conditions(), event_conditions(), segment_conditions
)


def _groups(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    lists = st.lists(children, max_size=3)
    return st.one_of(
        st.builds(lambda items: {"all": items}, lists),
        st.builds(lambda items: {"any": items}, lists),
        st.builds(lambda item: {"not": item}, children),
    )


rule_documents = st.builds(
    lambda root: {"version": 1, "rule": root},
    st.recursive(conditions, _groups, max_leaves=6),
)
