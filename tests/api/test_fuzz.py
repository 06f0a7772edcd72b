"""Whatever JSON a client sends, the API answers with a stored result or a 4xx naming the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from tests.api.conftest import Headers

FUZZ = settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
zones = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])
timestamps = st.datetimes(
    # Hypothesis takes naive bounds and adds the zones itself.
    min_value=datetime(1, 1, 1),  # noqa: DTZ001
    max_value=datetime(9999, 12, 31),  # noqa: DTZ001
    timezones=zones,
).map(datetime.isoformat)
events = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["page.visited", "form.submitted"]) | json_values,
        "email": st.emails() | json_values,
        "contact_id": st.integers(min_value=-5, max_value=2**64) | json_values,
        "occurred_at": timestamps | json_values,
        "properties": st.dictionaries(st.text(max_size=6), json_values, max_size=3) | json_values,
        "idempotency_key": st.text(max_size=30) | json_values,
        "extra": json_values,
    },
)
event_bodies = (
    events
    | st.fixed_dictionaries({"events": st.lists(events | json_values, max_size=5)})
    | json_values
)
contacts = st.fixed_dictionaries(
    {},
    optional={
        "email": st.emails() | json_values,
        "first_name": st.text(max_size=120) | json_values,
        "time_zone": st.sampled_from(["Europe/Berlin", "Nowhere/City"]) | json_values,
        "locale": st.sampled_from(["de-AT", "en"]) | json_values,
        "lifecycle_stage": st.sampled_from(["lead", "mql", "hot"]) | json_values,
        "owner_id": json_values,
        "company_id": json_values,
        "company": st.fixed_dictionaries(
            {"name": st.text(max_size=20) | json_values},
            optional={
                "domain": st.sampled_from(["acme.example", "-bad-"]) | json_values,
                "country": st.sampled_from(["DE", "Germany"]) | json_values,
                "size_band": st.sampled_from(["11-50", "huge"]) | json_values,
                "industry": json_values,
            },
        )
        | json_values,
        "attributes": st.dictionaries(st.text(max_size=8), json_values, max_size=3) | json_values,
    },
)


def _assert_well_formed(answer: Any, success: set[int]) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code in success:
        return
    assert 400 <= answer.status_code < 500
    error = answer.json()["error"]
    assert error["status"] == answer.status_code
    assert error["problems"], answer.text
    assert all(isinstance(p["field"], str) and p["message"] for p in error["problems"])


@FUZZ
@given(body=event_bodies)
def test_any_events_body_is_stored_or_refused_by_field(
    client: TestClient[Litestar], headers: Headers, body: object
) -> None:
    answer = client.post("/api/v1/events", content=json.dumps(body), headers=headers)
    _assert_well_formed(answer, {202})
    if (
        answer.status_code == 422
        and isinstance(body, dict)
        and isinstance(body.get("events"), list)
    ):
        assert all("index" in p for p in answer.json()["error"]["problems"])


@FUZZ
@given(body=contacts | json_values)
def test_any_contact_body_is_saved_or_refused_by_field(
    client: TestClient[Litestar], headers: Headers, body: object
) -> None:
    answer = client.post("/api/v1/contacts", content=json.dumps(body), headers=headers)
    _assert_well_formed(answer, {200, 201})
    if answer.status_code in (200, 201):
        url = f"/api/v1/contacts/{answer.json()['id']}"
        changed = client.patch(url, content=json.dumps(body), headers=headers)
        _assert_well_formed(changed, {200})
