"""Qualification settings, routing rules, teams and reps over the API: round trips, bad
input named by field with nothing saved, audit entries, system event types refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import AuditEntry, QualificationSettings, RoutingRule, SalesTeam
from tests.factories import make_user
from tests.qualification.helpers import rep

Client = TestClient[Litestar]
Headers = dict[str, str]


def _fields(answer: Any) -> list[str]:
    return [p["field"] for p in answer.json()["error"]["problems"]]


def test_settings_round_trip_and_a_bad_field_saves_nothing(
    client: Client, db: Session, headers_for: Callable[[str], Headers]
) -> None:
    marketer = headers_for("marketer")
    assert client.get("/api/v1/qualification/settings", headers=marketer).json()["enabled"] is False
    owner = rep(db)
    db.commit()

    saved = client.put(
        "/api/v1/qualification/settings",
        headers=marketer,
        json={"enabled": True, "sla_hours": 6, "fallback_owner_id": owner.id},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["sla_hours"] == 6
    assert saved.json()["stored"] is True

    bad = client.put(
        "/api/v1/qualification/settings",
        headers=marketer,
        json={"sla_hours": 0, "default_time_zone": "Mars/Base", "fallback_owner_id": 999},
    )
    assert bad.status_code == 422
    assert sorted(_fields(bad)) == ["default_time_zone", "fallback_owner_id", "sla_hours"]
    db.expire_all()
    row = db.get(QualificationSettings, 1)
    assert row is not None
    assert row.sla_hours == 6
    assert db.scalars(select(AuditEntry.actor).where(AuditEntry.action.like("qualification.%")))


def test_an_unknown_field_in_the_mql_rule_is_named(
    client: Client, headers_for: Callable[[str], Headers]
) -> None:
    rule = {"version": 1, "rule": {"all": [{"field": "shoe_size", "op": "gte", "value": 9}]}}
    answer = client.put(
        "/api/v1/qualification/settings", headers=headers_for("admin"), json={"mql_rule": rule}
    )
    assert answer.status_code == 422
    assert _fields(answer) == ["mql_rule.rule.all[0].field"]


def test_rules_teams_and_reps_round_trip(
    client: Client, db: Session, headers_for: Callable[[str], Headers]
) -> None:
    admin = headers_for("admin")
    a, b = rep(db), rep(db)
    db.commit()

    team = client.post(
        "/api/v1/sales/teams",
        headers=admin,
        json={"name": "DACH", "member_ids": [b.id, a.id], "lead_id": a.id},
    )
    assert team.status_code == 201, team.text
    assert team.json()["member_ids"] == sorted([a.id, b.id])
    rule = client.post(
        "/api/v1/routing/rules",
        headers=admin,
        json={"name": "DACH", "match": {"country": ["de", "at"]}, "team_id": team.json()["id"]},
    )
    assert rule.status_code == 201, rule.text
    assert rule.json()["match"] == {"country": ["DE", "AT"]}
    moved = client.patch(
        f"/api/v1/routing/rules/{rule.json()['id']}", headers=admin, json={"active": False}
    )
    assert moved.json()["active"] is False
    rep_answer = client.patch(
        f"/api/v1/sales/reps/{a.id}",
        headers=admin,
        json={"capacity": 3, "time_zone": "Europe/Vienna"},
    )
    assert rep_answer.json()["capacity"] == 3
    listed = client.get("/api/v1/sales/reps", headers=headers_for("sales")).json()["items"]
    assert {r["user_id"] for r in listed} == {a.id, b.id}

    assert (
        client.delete(f"/api/v1/sales/teams/{team.json()['id']}", headers=admin).status_code == 204
    )
    assert client.get("/api/v1/routing/rules", headers=admin).json()["items"] == []


def test_bad_routing_input_is_named_and_nothing_is_saved(
    client: Client, db: Session, headers_for: Callable[[str], Headers]
) -> None:
    admin = headers_for("admin")
    marketer = make_user(db, role="marketer")
    seller = rep(db)
    db.commit()

    answer = client.post(
        "/api/v1/routing/rules",
        headers=admin,
        json={"name": "X", "owner_id": marketer.id, "match": {"planet": ["Mars"]}},
    )
    assert answer.status_code == 422
    problems = answer.json()["error"]["problems"]
    assert {p["field"] for p in problems} == {"owner_id", "match.planet"}
    assert f"user {marketer.id} is not an active sales user" in [p["message"] for p in problems]

    capacity = client.patch(f"/api/v1/sales/reps/{seller.id}", headers=admin, json={"capacity": -1})
    assert capacity.status_code == 422
    assert _fields(capacity) == ["capacity"]
    not_a_list = client.post(
        "/api/v1/sales/teams", headers=admin, json={"name": "T", "member_ids": 5}
    )
    assert _fields(not_a_list) == ["member_ids"]
    db.expire_all()
    assert db.scalars(select(RoutingRule)).all() == []
    assert db.scalars(select(SalesTeam)).all() == []


@pytest.mark.parametrize("event_type", ["lead.qualified", "handoff.accepted"])
def test_only_admin_keys_may_send_lead_and_handoff_events(
    client: Client, headers_for: Callable[[str], Headers], event_type: str
) -> None:
    event = {"type": event_type, "email": "ann@example.com", "properties": {}}
    answer = client.post(
        "/api/v1/events", headers=headers_for("marketer"), json={"events": [event]}
    )
    assert answer.status_code == 403, answer.text
