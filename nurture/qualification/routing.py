"""Who gets a qualified lead: ordered routing rules, round-robin in a team, capacity, fallback.

Rules are tried by `position`. A rule matches on the contact's company (country,
industry); an empty match takes everyone. A rule names one rep or a team; in a team
the next member after the last one given a lead takes it (round-robin by user id),
skipping members who are inactive, no longer sales users, or at capacity (pending
hand-offs ≥ `sales_reps.capacity`). The team row is locked while its cursor moves,
so concurrent hand-offs never give two leads to one rep out of turn nor pass a rep's
capacity within a team. When no rule finds anyone, the fallback owner from the
settings takes the lead (capacity does not apply to the last resort); without one the
hand-off stays unassigned for an admin to give out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import (
    Company,
    Contact,
    Handoff,
    HandoffState,
    RoutingRule,
    SalesRep,
    SalesTeam,
    SalesTeamMember,
)
from nurture.qualification.sales_users import active_sales_ids


class Pick(NamedTuple):
    owner_id: int
    team_id: int | None
    rule_id: int | None


def pick_owner(
    session: Session, contact_id: int, *, fallback_owner_id: int | None = None
) -> Pick | None:
    """The owner for `contact_id` by the first active rule that matches and has a rep with
    room, else `fallback_owner_id` if still a sales user, else None. Moves the team's
    round-robin cursor; the caller commits (which releases the team lock)."""
    company = session.execute(
        select(Company.country, Company.industry)
        .join(Contact, Contact.company_id == Company.id)
        .where(Contact.id == contact_id)
    ).one_or_none()
    country = (company.country or "").upper() if company else ""
    industry = (company.industry or "").strip().lower() if company else ""
    rules = session.scalars(
        select(RoutingRule)
        .where(RoutingRule.active.is_(True))
        .order_by(RoutingRule.position, RoutingRule.id)
    ).all()
    for rule in rules:
        if not matches(rule.match, country=country, industry=industry):
            continue
        if rule.owner_id is not None:
            if _with_room(session, [rule.owner_id]):
                return Pick(rule.owner_id, None, rule.id)
        elif rule.team_id is not None:
            owner = _next_in_team(session, rule.team_id)
            if owner is not None:
                return Pick(owner, rule.team_id, rule.id)
    if fallback_owner_id is not None and active_sales_ids(session, [fallback_owner_id]):
        return Pick(fallback_owner_id, None, None)
    return None


def matches(match: dict[str, object], *, country: str, industry: str) -> bool:
    """Whether a company in `country` (upper case) and `industry` (lower case) fits
    `match`; each key present must hold, an empty match holds for everyone."""
    countries = match.get("country")
    if isinstance(countries, list) and country not in {str(c).upper() for c in countries}:
        return False
    industries = match.get("industry")
    return not (
        isinstance(industries, list)
        and industry not in {str(i).strip().lower() for i in industries}
    )


def _next_in_team(session: Session, team_id: int) -> int | None:
    # FOR UPDATE on PostgreSQL serialises the cursor and the capacity counts of one team;
    # SQLite takes no row locks but runs one writer at a time anyway.
    team = session.execute(
        select(SalesTeam).where(SalesTeam.id == team_id).with_for_update()
    ).scalar_one_or_none()
    if team is None:
        return None
    members = sorted(team_member_ids(session, [team_id]).get(team_id, []))
    room = _with_room(session, members)
    if not room:
        return None
    cursor = team.last_assigned_id or 0
    ordered = [m for m in members if m > cursor] + [m for m in members if m <= cursor]
    chosen = next(m for m in ordered if m in room)
    team.last_assigned_id = chosen
    session.flush()
    return chosen


def _with_room(session: Session, user_ids: Sequence[int]) -> set[int]:
    """Those of `user_ids` who are active sales users below their capacity."""
    sales = active_sales_ids(session, user_ids)
    if not sales:
        return set()
    capacity = {
        key: value
        for key, value in session.execute(
            select(SalesRep.user_id, SalesRep.capacity).where(
                SalesRep.user_id.in_(sales), SalesRep.capacity.is_not(None)
            )
        )
    }
    if not capacity:
        return sales
    pending = {
        key: value
        for key, value in session.execute(
            select(Handoff.owner_id, func.count())
            .where(
                Handoff.owner_id.in_(list(capacity)),
                Handoff.state == HandoffState.PENDING.value,
            )
            .group_by(Handoff.owner_id)
        )
    }
    return {
        uid for uid in sales if uid not in capacity or pending.get(uid, 0) < (capacity[uid] or 0)
    }


def team_member_ids(session: Session, team_ids: Iterable[int]) -> dict[int, list[int]]:
    """Team id -> its members' user ids, lowest first."""
    found: dict[int, list[int]] = {}
    for team_id, user_id in session.execute(
        select(SalesTeamMember.team_id, SalesTeamMember.user_id)
        .where(SalesTeamMember.team_id.in_(list(team_ids)))
        .order_by(SalesTeamMember.user_id)
    ):
        found.setdefault(team_id, []).append(user_id)
    return found
