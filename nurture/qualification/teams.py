"""Sales teams (members and a lead) and reps (time zone, capacity), checked before saving."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from nurture import audit
from nurture.errors import InvalidInput, NotFound, Problem
from nurture.models import Role, SalesRep, SalesTeam, SalesTeamMember, User
from nurture.qualification.routing import team_member_ids
from nurture.qualification.sales_users import sales_user_problems
from nurture.qualification.sla import zone_named
from nurture.validation import NUL_MESSAGE, holds_nul

TEAM_FIELDS = ("name", "lead_id", "member_ids")
REP_FIELDS = ("time_zone", "capacity")
MAX_NAME = 200
MAX_MEMBERS = 500
MAX_CAPACITY = 10_000


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    name: str
    lead_id: int | None
    member_ids: list[int]


@dataclass(frozen=True, slots=True)
class Rep:
    """A sales user with what routing and the SLA know about them."""

    user_id: int
    name: str
    email: str
    active: bool
    time_zone: str | None
    capacity: int | None


def list_teams(session: Session) -> list[Team]:
    teams = session.scalars(select(SalesTeam).order_by(SalesTeam.name)).all()
    members = team_member_ids(session, [t.id for t in teams])
    return [Team(t.id, t.name, t.lead_id, members.get(t.id, [])) for t in teams]


def get_team(session: Session, team_id: int) -> Team:
    team = session.get(SalesTeam, team_id)
    if team is None:
        raise NotFound("sales team", team_id)
    return Team(
        team.id, team.name, team.lead_id, team_member_ids(session, [team_id]).get(team_id, [])
    )


def create_team(session: Session, values: Mapping[str, Any], *, actor: str) -> Team:
    clean = _checked_team(session, {"lead_id": None, "member_ids": []} | dict(values), None)
    team = SalesTeam(name=clean["name"], lead_id=clean["lead_id"])
    session.add(team)
    session.flush()
    _set_members(session, team.id, clean["member_ids"])
    created = get_team(session, team.id)
    audit.record(
        session,
        actor=actor,
        action="sales_team.created",
        entity_type="sales_team",
        entity_id=team.id,
        changes=_team_snapshot(created),
    )
    return created


def update_team(session: Session, team_id: int, changes: Mapping[str, Any], *, actor: str) -> Team:
    before = get_team(session, team_id)
    snapshot = _team_snapshot(before)
    clean = _checked_team(session, snapshot | dict(changes), team_id, given=changes)
    team = session.get_one(SalesTeam, team_id)
    team.name = clean["name"]
    team.lead_id = clean["lead_id"]
    if "member_ids" in changes:
        _set_members(session, team_id, clean["member_ids"])
    session.flush()
    after = _team_snapshot(get_team(session, team_id))
    audit.record(
        session,
        actor=actor,
        action="sales_team.changed",
        entity_type="sales_team",
        entity_id=team_id,
        changes={k: [snapshot[k], v] for k, v in after.items() if snapshot[k] != v},
    )
    return get_team(session, team_id)


def delete_team(session: Session, team_id: int, *, actor: str) -> None:
    """Delete a team; its routing rules go with it (their leads fall through to the next)."""
    team = session.get(SalesTeam, team_id)
    if team is None:
        raise NotFound("sales team", team_id)
    snapshot = _team_snapshot(get_team(session, team_id))
    session.delete(team)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="sales_team.deleted",
        entity_type="sales_team",
        entity_id=team_id,
        changes=snapshot,
    )


def list_reps(session: Session) -> list[Rep]:
    """Every sales user (active or not) by name, with their routing settings."""
    rows = session.execute(
        select(User, SalesRep)
        .outerjoin(SalesRep, SalesRep.user_id == User.id)
        .where(User.role == Role.SALES.value)
        .order_by(User.name, User.id)
    ).all()
    return [_rep(user, rep) for user, rep in rows]


def get_rep(session: Session, user_id: int) -> Rep:
    user = session.get(User, user_id)
    if user is None or user.role != Role.SALES.value:
        raise NotFound("sales rep", user_id)
    return _rep(user, session.get(SalesRep, user_id))


def update_rep(session: Session, user_id: int, changes: Mapping[str, Any], *, actor: str) -> Rep:
    """Set a sales user's time zone (null: the firm's default) and capacity (null: no limit)."""
    before = get_rep(session, user_id)
    problems = [Problem(str(k), "is not a known field") for k in changes if k not in REP_FIELDS]
    zone = changes.get("time_zone", before.time_zone)
    if zone is not None:
        if not isinstance(zone, str):
            problems.append(Problem("time_zone", "must be an IANA time zone name or null"))
        else:
            try:
                zone_named(zone, "time_zone")
            except InvalidInput as bad:
                problems.extend(bad.problems)
    capacity = changes.get("capacity", before.capacity)
    if capacity is not None and (
        not isinstance(capacity, int)
        or isinstance(capacity, bool)
        or not 0 <= capacity <= MAX_CAPACITY
    ):
        problems.append(
            Problem("capacity", f"must be a whole number from 0 to {MAX_CAPACITY}, or null")
        )
    if problems:
        raise InvalidInput(problems)
    rep = session.get(SalesRep, user_id)
    if rep is None:
        rep = SalesRep(user_id=user_id)
        session.add(rep)
    rep.time_zone = zone
    rep.capacity = capacity
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="sales_rep.changed",
        entity_type="user",
        entity_id=user_id,
        changes={
            "time_zone": [before.time_zone, zone],
            "capacity": [before.capacity, capacity],
        },
    )
    return get_rep(session, user_id)


def _rep(user: User, rep: SalesRep | None) -> Rep:
    return Rep(
        user.id,
        user.name,
        user.email,
        user.is_active,
        rep.time_zone if rep else None,
        rep.capacity if rep else None,
    )


def _team_snapshot(team: Team) -> dict[str, Any]:
    return {"name": team.name, "lead_id": team.lead_id, "member_ids": list(team.member_ids)}


def _checked_team(
    session: Session,
    values: dict[str, Any],
    team_id: int | None,
    *,
    given: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    problems = [
        Problem(str(k), "is not a known field")
        for k in (given if given is not None else values)
        if k not in TEAM_FIELDS
    ]
    clean = dict(values)
    name = values.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        problems.append(Problem("name", f"is required, at most {MAX_NAME} characters"))
    elif holds_nul(name):
        problems.append(Problem("name", NUL_MESSAGE))
    else:
        clean["name"] = name.strip()
        clash = session.scalar(
            select(SalesTeam.id).where(
                SalesTeam.name == clean["name"], SalesTeam.id != (team_id or 0)
            )
        )
        if clash is not None:
            problems.append(Problem("name", f"a sales team called {clean['name']!r} exists"))
    # Only what is given is checked: a member who left sales since blocks no rename.
    check = given if given is not None else values
    lead = values.get("lead_id")
    if "lead_id" not in check:
        pass
    elif lead is not None and not _is_id(lead):
        problems.append(Problem("lead_id", "must be a user id or null"))
    elif lead is not None:
        problems.extend(sales_user_problems(session, {"lead_id": lead}))
    members = values.get("member_ids")
    if "member_ids" not in check:
        pass
    elif not isinstance(members, list) or len(members) > MAX_MEMBERS:
        problems.append(Problem("member_ids", f"must be a list of at most {MAX_MEMBERS} user ids"))
    else:
        bad = [i for i, m in enumerate(members) if not _is_id(m)]
        problems.extend(Problem(f"member_ids[{i}]", "must be a user id") for i in bad)
        if not bad:
            problems.extend(
                sales_user_problems(session, {f"member_ids[{i}]": m for i, m in enumerate(members)})
            )
            clean["member_ids"] = sorted(set(members))
    if problems:
        raise InvalidInput(problems)
    return clean


def _set_members(session: Session, team_id: int, user_ids: list[int]) -> None:
    session.execute(delete(SalesTeamMember).where(SalesTeamMember.team_id == team_id))
    session.add_all(SalesTeamMember(team_id=team_id, user_id=uid) for uid in user_ids)
    session.flush()


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**62
