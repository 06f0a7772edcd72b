"""Routing: the first matching rule, round-robin in a team, capacity, inactive reps
skipped, the fallback owner; rules, teams and reps refused whole when bad."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput
from nurture.models import AuditEntry, Handoff, RoutingRule
from nurture.qualification.routing import Pick, pick_owner
from nurture.qualification.routing_rules import create_rule, delete_rule, list_rules, update_rule
from nurture.qualification.teams import create_team, list_reps, update_rep, update_team
from tests.factories import make_contact, make_user
from tests.qualification.helpers import rep

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _contact(db: Session, country: str = "DE", industry: str = "Legal") -> int:
    return make_contact(
        db, company={"name": f"Firm {country} {industry}", "country": country, "industry": industry}
    ).id


def _pending(db: Session, owner_id: int, count: int = 1) -> None:
    for _ in range(count):
        db.add(Handoff(contact_id=make_contact(db).id, owner_id=owner_id, state="pending"))
    db.flush()


def test_the_first_matching_rule_wins(db: Session) -> None:
    dach, legal, anyone = rep(db), rep(db), rep(db)
    create_rule(
        db, {"name": "DACH", "match": {"country": ["de", "AT"]}, "owner_id": dach.id}, actor="test"
    )
    create_rule(
        db, {"name": "Legal", "match": {"industry": ["legal"]}, "owner_id": legal.id}, actor="test"
    )
    last = create_rule(db, {"name": "Rest", "owner_id": anyone.id}, actor="test")

    assert pick_owner(db, _contact(db, "AT", "Legal"))[0] == dach.id  # type: ignore[index]
    assert pick_owner(db, _contact(db, "FR", "legal "))[0] == legal.id  # type: ignore[index]
    assert pick_owner(db, _contact(db, "FR", "Retail")) == Pick(anyone.id, None, last.id)
    assert pick_owner(db, make_contact(db).id) == Pick(anyone.id, None, last.id)


def test_round_robin_skips_the_full_and_the_inactive(db: Session) -> None:
    a, b, c = rep(db), rep(db), rep(db)
    team = create_team(db, {"name": "Team", "member_ids": [c.id, a.id, b.id]}, actor="test")
    create_rule(db, {"name": "All", "team_id": team.id}, actor="test")
    contact = _contact(db)

    assert [pick_owner(db, contact).owner_id for _ in range(4)] == [  # type: ignore[union-attr]
        a.id,
        b.id,
        c.id,
        a.id,
    ]

    update_rep(db, b.id, {"capacity": 1}, actor="test")
    _pending(db, b.id)
    c.is_active = False
    db.flush()
    assert [pick_owner(db, contact).owner_id for _ in range(2)] == [a.id, a.id]  # type: ignore[union-attr]


def test_a_full_rule_falls_through_then_to_the_fallback(db: Session) -> None:
    busy, fallback = rep(db), rep(db)
    update_rep(db, busy.id, {"capacity": 2}, actor="test")
    rule = create_rule(db, {"name": "Busy", "owner_id": busy.id}, actor="test")
    contact = _contact(db)
    assert pick_owner(db, contact, fallback_owner_id=fallback.id) == Pick(busy.id, None, rule.id)

    _pending(db, busy.id, 2)
    assert pick_owner(db, contact, fallback_owner_id=fallback.id) == Pick(fallback.id, None, None)
    assert pick_owner(db, contact) is None
    fallback.role = "marketer"
    db.flush()
    assert pick_owner(db, contact, fallback_owner_id=fallback.id) is None


def test_inactive_rules_are_skipped_and_positions_stay_in_order(db: Session) -> None:
    first, second = rep(db), rep(db)
    one = create_rule(db, {"name": "One", "owner_id": first.id}, actor="test")
    two = create_rule(db, {"name": "Two", "owner_id": second.id, "position": 1}, actor="test")
    assert [r.id for r in list_rules(db)] == [two.id, one.id]
    assert pick_owner(db, _contact(db))[0] == second.id  # type: ignore[index]

    update_rule(db, two.id, {"active": False}, actor="test")
    assert pick_owner(db, _contact(db))[0] == first.id  # type: ignore[index]

    update_rule(db, one.id, {"position": 2}, actor="test")
    assert [(r.id, r.position) for r in list_rules(db)] == [(two.id, 1), (one.id, 2)]
    delete_rule(db, two.id, actor="test")
    assert [(r.id, r.position) for r in list_rules(db)] == [(one.id, 1)]
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "routing_rule"))
    assert "routing_rule.deleted" in set(actions)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "", "owner_id": None, "team_id": None}, "name"),
        ({"name": "x", "match": {"region": ["EU"]}}, "match.region"),
        ({"name": "x", "match": {"country": ["Germany"]}}, "match.country[0]"),
        ({"name": "x", "match": {"industry": []}}, "match.industry"),
        ({"name": "x", "team_id": 999}, "team_id"),
        ({"name": "x", "position": 0}, "position"),
        ({"name": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    db: Session, values: dict[str, object], field: str
) -> None:
    owner = rep(db)
    with pytest.raises(InvalidInput) as refused:
        create_rule(db, {"owner_id": owner.id, **values}, actor="test")
    assert field in [p.field for p in refused.value.problems]
    assert db.scalars(select(RoutingRule)).all() == []


def test_an_owner_who_is_not_a_sales_user_is_refused(db: Session) -> None:
    marketer = make_user(db, role="marketer")
    with pytest.raises(InvalidInput) as refused:
        create_rule(db, {"name": "x", "owner_id": marketer.id}, actor="test")
    assert [p.describe() for p in refused.value.problems] == [
        f"owner_id: user {marketer.id} is not an active sales user"
    ]


def test_teams_and_reps_are_checked_whole(db: Session) -> None:
    member = rep(db)
    gone = rep(db, active=False)
    with pytest.raises(InvalidInput) as refused:
        create_team(
            db, {"name": "T", "member_ids": [member.id, gone.id], "lead_id": gone.id}, actor="test"
        )
    assert {p.field for p in refused.value.problems} == {"member_ids[1]", "lead_id"}

    team = create_team(db, {"name": "T", "member_ids": [member.id]}, actor="test")
    with pytest.raises(InvalidInput) as clash:
        create_team(db, {"name": "T"}, actor="test")
    assert clash.value.problems[0].describe() == "name: a sales team called 'T' exists"
    renamed = update_team(db, team.id, {"name": "Inside"}, actor="test")
    assert (renamed.name, renamed.member_ids) == ("Inside", [member.id])

    with pytest.raises(InvalidInput) as bad_rep:
        update_rep(db, member.id, {"capacity": -1, "time_zone": "Nowhere/Land"}, actor="test")
    assert {p.field for p in bad_rep.value.problems} == {"capacity", "time_zone"}
    update_rep(db, member.id, {"capacity": 5, "time_zone": "Europe/Vienna"}, actor="test")
    [listed] = [r for r in list_reps(db) if r.user_id == member.id]
    assert (listed.capacity, listed.time_zone) == (5, "Europe/Vienna")
