"""A fixed, rich dataset and every single condition the pools allow, for the operator sweep."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from nurture.contacts.addresses import email_hash
from nurture.models import LifecycleStage, SizeBand
from segments.fields import FIELDS, JSON_OPERATORS, FieldType
from tests.segments.reference import Dataset
from tests.segments.strategies import (
    ATTRIBUTE_KEYS,
    DAYS,
    EVENT_TYPES,
    MOMENTS,
    NUMBERS,
    PROPERTY_KEYS,
    SEGMENT_IDS,
    TEXTS,
    USER_IDS,
)

_JSON_VALUES: tuple[Any, ...] = (None, *TEXTS, *NUMBERS, True, False, ["a", 1])


def rich_dataset(seed: int = 7) -> Dataset:
    rng = random.Random(seed)

    def maybe(pool: tuple[Any, ...] | list[Any]) -> Any:
        return rng.choice([None, *pool])

    data = Dataset()
    for company_id in range(1, 9):
        data.companies[company_id] = {
            "id": company_id,
            "name": rng.choice(TEXTS),
            "domain": f"c{company_id}.example" if rng.random() < 0.7 else None,
            "industry": maybe(("legal", "consulting", "", "Legal")),
            "size_band": maybe([s.value for s in SizeBand]),
            "country": maybe(("DE", "AT", "FR")),
        }
    for contact_id in range(1, 61):
        data.contacts.append(
            {
                "id": contact_id,
                "email": f"p{contact_id}@{rng.choice(('law.example', 'ann.example'))}",
                "first_name": maybe(TEXTS),
                "last_name": maybe(TEXTS),
                "title": rng.choice([None, "", *TEXTS]),
                "lifecycle_stage": rng.choice([s.value for s in LifecycleStage]),
                "owner_id": maybe(USER_IDS),
                "locale": maybe(("de", "en-GB")),
                "time_zone": maybe(("Europe/Berlin",)),
                "created_at": rng.choice(MOMENTS),
                "last_activity_at": maybe(MOMENTS),
                "score": rng.choice((0, 7, 10, 40, 41, 100)),
                "fit_grade": maybe(("A", "B", "C", "D")),
                "company_id": maybe(sorted(data.companies)),
                "attributes": {
                    k: rng.choice(_JSON_VALUES) for k in ATTRIBUTE_KEYS if rng.random() < 0.7
                },
                "erased_at": MOMENTS[3] if rng.random() < 0.1 else None,
            }
        )
    for event_id in range(1, 301):
        data.events.append(
            {
                "id": event_id,
                "contact_id": rng.randint(1, 60),
                "type": rng.choice(EVENT_TYPES),
                "occurred_at": rng.choice(MOMENTS),
                "properties": {
                    k: rng.choice(_JSON_VALUES) for k in PROPERTY_KEYS if rng.random() < 0.7
                },
            }
        )
    data.suppressed_hashes = {email_hash(c["email"]) for c in data.contacts if rng.random() < 0.3}
    data.members = {sid: {rng.randint(1, 60) for _ in range(15)} for sid in SEGMENT_IDS}
    return data


def _iso(index: int) -> str:
    return MOMENTS[index].isoformat().replace("+00:00", "Z")


def _values(kind: FieldType, choices: tuple[str, ...], op: str) -> list[Any]:
    if op in ("is_set", "is_not_set"):
        return [None]
    if kind is FieldType.DATE:
        if op in ("within_last_days", "more_than_days_ago"):
            return list(DAYS)
        if op == "between":
            return [[_iso(b), _iso(a)] for a, b in ((0, 3), (2, 4), (3, 3), (1, 6))]
        return [_iso(i) for i in range(len(MOMENTS))]
    if kind is FieldType.BOOLEAN:
        return [True, False]
    pools: dict[FieldType, list[Any]] = {
        FieldType.STRING: ["Partner", "an", "%", "a_b", "DE", "legal", "p1@"],
        FieldType.NUMBER: list(NUMBERS),
        FieldType.REFERENCE: [*USER_IDS, 3],
    }
    pool = pools.get(kind, list(choices))
    if op in ("in", "not_in"):
        return [[v] for v in pool[:3]] + [pool[1:4]]
    if op == "between":
        return [[0, 9], [7, 10], [40, 41], [40.5, 100]]
    return pool


# Enough values to cross each type and boundary; the full pools made the sweep slow.
_TEXTS = ("Partner", "an", "%", "a_b")
_NUMBERS = (7, 9, 40.5)


def _json_tests() -> Iterator[dict[str, Any]]:
    for op in JSON_OPERATORS:
        if op in ("is_set", "is_not_set"):
            yield {"op": op}
        elif op in ("contains", "not_contains", "starts_with"):
            yield from ({"op": op, "value": t} for t in _TEXTS)
        elif op in ("gt", "gte", "lt", "lte"):
            yield from ({"op": op, "value": n} for n in _NUMBERS)
        elif op == "between":
            yield from ({"op": op, "value": p} for p in ([0, 9], [7, 40.5]))
        else:
            scalars: list[Any] = [*_TEXTS, *_NUMBERS, True, False]
            if op in ("in", "not_in"):
                yield from ({"op": op, "value": [v]} for v in scalars)
                yield {"op": op, "value": ["Ann", "x"]}
                yield {"op": op, "value": [7, 40.5]}
            else:
                yield from ({"op": op, "value": v} for v in scalars)


def single_conditions() -> Iterator[dict[str, Any]]:
    """Every field x operator x pooled value, attribute and event test, and membership."""
    for spec in FIELDS.values():
        for op in spec.operators:
            for value in _values(spec.type, spec.choices, op):
                condition: dict[str, Any] = {"field": spec.name, "op": op}
                if value is not None:
                    condition["value"] = value
                yield condition
    for key in ATTRIBUTE_KEYS:
        for test in _json_tests():
            yield {"field": f"attributes.{key}", **test}
    windows: list[dict[str, Any]] = [
        {},
        *({"within_last_days": d} for d in DAYS),
        {"between": [_iso(4), _iso(1)]},
        {"between": [_iso(3), _iso(3)]},
    ]
    counts: list[dict[str, Any]] = [
        {"op": "never"},
        *({"op": "at_least", "times": n} for n in (1, 2, 3)),
        *({"op": "at_most", "times": n} for n in (0, 1, 2)),
        *({"op": "exactly", "times": n} for n in (0, 1, 2)),
    ]
    for kind in EVENT_TYPES:
        for window in windows:
            for count in counts:
                yield {"event": kind, **count, **window}
    for key in PROPERTY_KEYS:
        for test in _json_tests():
            yield {
                "event": "nps.answered",
                "op": "at_least",
                "times": 1,
                "where": [{"property": key, **test}],
            }
    for sid in SEGMENT_IDS:
        yield {"segment": sid, "op": "member"}
        yield {"segment": sid, "op": "not_member"}
