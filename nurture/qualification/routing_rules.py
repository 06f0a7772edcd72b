"""Routing rules: create, change, reorder and delete, each checked whole before it is saved.

Positions stay 1..n without gaps; putting a rule at a position moves the ones from
there down by one. A rule sends leads to exactly one of a team or a rep.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture import audit
from nurture.errors import InvalidInput, NotFound, Problem
from nurture.models import RoutingRule, SalesTeam
from nurture.qualification.sales_users import sales_user_problems
from nurture.validation import NUL_MESSAGE, holds_nul

MATCH_KEYS = ("country", "industry")
MAX_MATCH_VALUES = 200
MAX_NAME = 200
_COUNTRY = re.compile(r"[A-Za-z]{2}\Z")
RULE_FIELDS = ("name", "match", "team_id", "owner_id", "active", "position")


def list_rules(session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def get_rule(session: Session, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound("routing rule", rule_id)
    return rule


def create_rule(session: Session, values: Mapping[str, Any], *, actor: str) -> RoutingRule:
    """A new rule from `values` (name, match, team_id or owner_id, active, position)."""
    merged: dict[str, Any] = {"match": {}, "active": True, "team_id": None, "owner_id": None}
    clean = _checked(session, merged | dict(values), values)
    rules = list_rules(session)
    rule = RoutingRule(
        position=len(rules) + 1,
        name=clean["name"],
        match=clean["match"],
        team_id=clean["team_id"],
        owner_id=clean["owner_id"],
        active=clean["active"],
    )
    session.add(rule)
    session.flush()
    _place(session, rules, rule, clean.get("position"))
    audit.record(
        session,
        actor=actor,
        action="routing_rule.created",
        entity_type="routing_rule",
        entity_id=rule.id,
        changes=_snapshot(rule),
    )
    return rule


def update_rule(
    session: Session, rule_id: int, changes: Mapping[str, Any], *, actor: str
) -> RoutingRule:
    """Change the parts of a rule named in `changes`; all are checked before any is saved."""
    rule = get_rule(session, rule_id)
    before = _snapshot(rule)
    clean = _checked(session, before | dict(changes), changes)
    for name in ("name", "match", "team_id", "owner_id", "active"):
        setattr(rule, name, clean[name])
    if "position" in changes:
        _place(
            session, [r for r in list_rules(session) if r.id != rule.id], rule, clean["position"]
        )
    session.flush()
    after = _snapshot(rule)
    audit.record(
        session,
        actor=actor,
        action="routing_rule.changed",
        entity_type="routing_rule",
        entity_id=rule.id,
        changes={k: [before[k], v] for k, v in after.items() if before[k] != v},
    )
    return rule


def delete_rule(session: Session, rule_id: int, *, actor: str) -> None:
    rule = get_rule(session, rule_id)
    snapshot = _snapshot(rule)
    session.delete(rule)
    session.flush()
    _renumber(list_rules(session))
    audit.record(
        session,
        actor=actor,
        action="routing_rule.deleted",
        entity_type="routing_rule",
        entity_id=rule_id,
        changes=snapshot,
    )


def _place(
    session: Session, others: list[RoutingRule], rule: RoutingRule, position: int | None
) -> None:
    index = len(others) if position is None else min(max(position, 1), len(others) + 1) - 1
    ordered = [r for r in others if r.id != rule.id]
    ordered.insert(index, rule)
    _renumber(ordered)
    session.flush()


def _renumber(ordered: list[RoutingRule]) -> None:
    for number, rule in enumerate(ordered, start=1):
        if rule.position != number:
            rule.position = number


def _snapshot(rule: RoutingRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "match": rule.match,
        "team_id": rule.team_id,
        "owner_id": rule.owner_id,
        "active": rule.active,
        "position": rule.position,
    }


def _checked(session: Session, values: dict[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    problems = [Problem(str(k), "is not a known field") for k in given if k not in RULE_FIELDS]
    clean = dict(values)
    name = values.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        problems.append(Problem("name", f"is required, at most {MAX_NAME} characters"))
    elif holds_nul(name):
        problems.append(Problem("name", NUL_MESSAGE))
    else:
        clean["name"] = name.strip()
    clean["match"] = _match(values.get("match"), problems)
    if not isinstance(values.get("active"), bool):
        problems.append(Problem("active", "must be true or false"))
    position = values.get("position")
    if position is not None and (not _is_id(position) or position > 100_000):
        problems.append(Problem("position", "must be a whole number from 1"))
    team_id, owner_id = values.get("team_id"), values.get("owner_id")
    if (team_id is None) == (owner_id is None):
        problems.append(Problem("team_id", "give exactly one of team_id and owner_id"))
    elif team_id is not None:
        if not _is_id(team_id) or session.get(SalesTeam, team_id) is None:
            problems.append(Problem("team_id", f"no sales team with id {team_id}"))
    elif not _is_id(owner_id):
        problems.append(Problem("owner_id", "must be a user id"))
    else:
        problems.extend(sales_user_problems(session, {"owner_id": owner_id}))
    if problems:
        raise InvalidInput(problems)
    return clean


def _match(raw: object, problems: list[Problem]) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(Problem("match", 'must be an object like {"country": ["DE", "AT"]}'))
        return {}
    clean: dict[str, list[str]] = {}
    for key, values in raw.items():
        where = f"match.{key}"
        if key not in MATCH_KEYS:
            problems.append(Problem(where, f"is not a known key (use {', '.join(MATCH_KEYS)})"))
            continue
        if not isinstance(values, list) or not values or len(values) > MAX_MATCH_VALUES:
            problems.append(Problem(where, f"must be a list of 1 to {MAX_MATCH_VALUES} values"))
            continue
        kept: list[str] = []
        for i, value in enumerate(values):
            if key == "country":
                if not isinstance(value, str) or not _COUNTRY.match(value):
                    problems.append(Problem(f"{where}[{i}]", "must be a two-letter country code"))
                    continue
                kept.append(value.upper())
            else:
                if (
                    not isinstance(value, str)
                    or not value.strip()
                    or len(value) > 80
                    or holds_nul(value)
                ):
                    problems.append(Problem(f"{where}[{i}]", "must be an industry name"))
                    continue
                kept.append(value.strip())
        clean[key] = list(dict.fromkeys(kept))
    return clean


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**62
