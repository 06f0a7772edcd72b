"""The scoring API: rules and settings round-trip, bad input is a 422 naming the field
with nothing saved, and a contact's score is explained."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import BehaviourRule, utcnow
from nurture.scoring import engine
from tests.factories import make_api_key, make_contact
from tests.scoring.helpers import add_events, behaviour_rule

Client = TestClient[Litestar]


@pytest.fixture
def marketer(db: Session) -> dict[str, str]:
    _, secret = make_api_key(db, role="marketer")
    db.commit()
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def sales(db: Session) -> dict[str, str]:
    _, secret = make_api_key(db, role="sales")
    db.commit()
    return {"Authorization": f"Bearer {secret}"}


def problems(answer: Any) -> set[str]:
    return {p["field"] for p in answer.json()["error"]["problems"]}


def test_a_behaviour_rule_round_trips(client: Client, marketer: dict[str, str]) -> None:
    body = {
        "name": "Pricing clicks",
        "event_type": "email.clicked",
        "where": [{"property": "url", "op": "contains", "value": "pricing"}],
        "points": 10,
        "cap_points": 30,
        "cap_days": 30,
    }
    made = client.post("/api/v1/scoring/behaviour-rules", json=body, headers=marketer)
    assert made.status_code == 201, made.text
    rule_id = made.json()["id"]
    changed = client.patch(
        f"/api/v1/scoring/behaviour-rules/{rule_id}",
        json={"cap_points": None, "cap_days": None, "points": 12},
        headers=marketer,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["points"], changed.json()["cap_points"]) == (12, None)
    listed = client.get("/api/v1/scoring/behaviour-rules", headers=marketer).json()["items"]
    assert [r["id"] for r in listed] == [rule_id]
    gone = client.delete(f"/api/v1/scoring/behaviour-rules/{rule_id}", headers=marketer)
    assert gone.status_code == 204
    assert (
        client.get(f"/api/v1/scoring/behaviour-rules/{rule_id}", headers=marketer).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_type": "Webinar Attended"}, "event_type"),
        ({"cap_points": -1, "cap_days": 30}, "cap_points"),
        ({"where": [{"property": "url", "op": "like", "value": "x"}]}, "where[0].op"),
        ({"points": "ten"}, "points"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_behaviour_rule_is_refused_naming_the_field(
    client: Client, marketer: dict[str, str], db: Session, body: dict[str, Any], field: str
) -> None:
    base = {"name": "r", "event_type": "webinar.attended", "points": 15}
    answer = client.post("/api/v1/scoring/behaviour-rules", json={**base, **body}, headers=marketer)
    assert answer.status_code == 422, answer.text
    assert field in problems(answer)
    assert db.scalars(select(BehaviourRule)).all() == []


def test_fit_rules_and_settings_are_checked(client: Client, marketer: dict[str, str]) -> None:
    bad_fit = client.post(
        "/api/v1/scoring/fit-rules",
        json={"name": "f", "points": 5, "condition": {"field": "score", "op": "gt", "value": 1}},
        headers=marketer,
    )
    assert bad_fit.status_code == 422
    assert problems(bad_fit) == {"condition.field"}
    bad_settings = client.patch(
        "/api/v1/scoring/settings", json={"half_life_days": 0}, headers=marketer
    )
    assert bad_settings.status_code == 422
    assert problems(bad_settings) == {"half_life_days"}
    good = client.patch(
        "/api/v1/scoring/settings", json={"half_life_days": 14, "grade_a": 60}, headers=marketer
    )
    assert good.status_code == 200, good.text
    assert (good.json()["half_life_days"], good.json()["grade_a"]) == (14.0, 60)


def test_sales_reads_the_explanation_but_cannot_change_rules(
    client: Client, db: Session, sales: dict[str, str]
) -> None:
    behaviour_rule(db, event_type="webinar.attended", points=15)
    lead = make_contact(db)
    now = utcnow()
    ids = add_events(db, lead.id, "webinar.attended", now - timedelta(hours=1))
    engine.apply_events(db, ids, now=now)
    db.commit()
    explained = client.get(f"/api/v1/scoring/contacts/{lead.id}", headers=sales)
    assert explained.status_code == 200, explained.text
    body = explained.json()
    assert body["score"] == 15
    assert sum(s["contribution"] for s in body["by_rule"]) == pytest.approx(body["total"])
    assert body["items"][0]["event_type"] == "webinar.attended"
    history = client.get(f"/api/v1/scoring/contacts/{lead.id}/history", headers=sales)
    assert history.json()["items"] == [{"day": now.date().isoformat(), "score": 15}]
    refused = client.post(
        "/api/v1/scoring/behaviour-rules",
        json={"name": "r", "event_type": "webinar.attended", "points": 1},
        headers=sales,
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/scoring/contacts/999999", headers=sales).status_code == 404


def test_a_rescore_can_be_requested(client: Client, marketer: dict[str, str], db: Session) -> None:
    answer = client.post("/api/v1/scoring/rescore", headers=marketer)
    assert answer.status_code == 202
    settings = client.get("/api/v1/scoring/settings", headers=marketer).json()
    assert settings["rules_changed_at"] is not None
