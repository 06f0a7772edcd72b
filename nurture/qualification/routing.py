"""Who gets a qualified lead: ordered routing rules, round-robin in a team, capacity, fallback.

Rules are tried by `position`. A rule matches on the contact's company (country,
industry); an empty match takes everyone. A rule names one rep or a team; in a team
the next member after the last one given a lead takes it (round-robin by user id),
skipping members who are inactive, no longer sales users, or at capacity (pending
hand-offs ≥ `sales_reps.capacity`). The team row is locked while its cursor moves,
so concurrent hand-offs never give two leads to one rep out of turn, and leads routed
through one team never pass its members' capacity. When no rule finds anyone, the
fallback owner from the settings takes the lead (capacity does not apply to the last
resort); without one the hand-off stays unassigned for an admin to give out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from nurture.models import (
    Company,
    Contact,
    Handoff,
    HandoffState,
    Role,
    RoutingRule,
    SalesRep,
    SalesTeam,
    SalesTeamMember,
    User,
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
    router = Router(session, fallback_owner_id=fallback_owner_id)
    pick = router.pick(contact_id)
    router.finish()
    return pick


class Router:
    """Routing for one batch, in as few queries as the batch allows.

    Rules and team members are read once. A team's row is locked the first time the
    batch routes to it and stays locked until the commit, so from then on its cursor
    and its members' pending counts are this transaction's alone and are kept here,
    written back by `finish()`. Reps' room is read once per rep and counted up as
    leads are given.
    """

    def __init__(self, session: Session, *, fallback_owner_id: int | None = None) -> None:
        self.session = session
        self.fallback_owner_id = fallback_owner_id
        self.rules = session.scalars(
            select(RoutingRule)
            .where(RoutingRule.active.is_(True))
            .order_by(RoutingRule.position, RoutingRule.id)
        ).all()
        team_ids = {r.team_id for r in self.rules if r.team_id is not None}
        self.members = team_member_ids(session, team_ids) if team_ids else {}
        # team id -> last member given a lead (None: the team is gone).
        self.cursors: dict[int, int | None] = {}
        # user id -> (capacity, pending hand-offs); absent: not an active sales user.
        self.room: dict[int, tuple[int | None, int]] = {}
        self.looked_up: set[int] = set()
        self.places: dict[int, tuple[str, str]] = {}

    def locate(self, contact_ids: Sequence[int]) -> None:
        """Read the companies' country and industry of these contacts in one query."""
        for cid, country, industry in self.session.execute(
            select(Contact.id, Company.country, Company.industry)
            .join(Company, Company.id == Contact.company_id)
            .where(Contact.id.in_(list(contact_ids)))
        ):
            self.places[cid] = ((country or "").upper(), (industry or "").strip().lower())

    def pick(self, contact_id: int) -> Pick | None:
        if contact_id not in self.places:
            self.locate([contact_id])
        country, industry = self.places.get(contact_id, ("", ""))
        for rule in self.rules:
            if not matches(rule.match, country=country, industry=industry):
                continue
            if rule.owner_id is not None:
                if self._has_room([rule.owner_id]):
                    return self._given(Pick(rule.owner_id, None, rule.id))
            elif rule.team_id is not None:
                owner = self._next_in_team(rule.team_id)
                if owner is not None:
                    return self._given(Pick(owner, rule.team_id, rule.id))
        fallback = self.fallback_owner_id
        if fallback is not None and active_sales_ids(self.session, [fallback]):
            return self._given(Pick(fallback, None, None))
        return None

    def finish(self) -> None:
        """Write the teams' round-robin cursors back (the caller then commits)."""
        for team_id, last in self.cursors.items():
            if last is not None:
                self.session.execute(
                    update(SalesTeam).where(SalesTeam.id == team_id).values(last_assigned_id=last)
                )

    def _given(self, pick: Pick) -> Pick:
        if pick.owner_id in self.room:
            capacity, pending = self.room[pick.owner_id]
            self.room[pick.owner_id] = (capacity, pending + 1)
        return pick

    def _has_room(self, user_ids: Sequence[int]) -> set[int]:
        unknown = [uid for uid in user_ids if uid not in self.looked_up]
        if unknown:
            self.room.update(room_of(self.session, unknown))
            self.looked_up.update(unknown)
        return {
            uid
            for uid in user_ids
            if uid in self.room
            and (self.room[uid][0] is None or self.room[uid][1] < (self.room[uid][0] or 0))
        }

    def _next_in_team(self, team_id: int) -> int | None:
        members = self.members.get(team_id, [])
        if not members:
            return None
        if team_id not in self.cursors:
            # FOR UPDATE on PostgreSQL serialises the cursor and the capacity counts of
            # one team; SQLite takes no row locks but runs one writer at a time anyway.
            # Counts are read after the lock, so they include what the previous holder
            # handed out.
            row = self.session.execute(
                select(SalesTeam.last_assigned_id).where(SalesTeam.id == team_id).with_for_update()
            ).one_or_none()
            self.cursors[team_id] = None if row is None else (row.last_assigned_id or 0)
            self.looked_up.difference_update(members)
        last = self.cursors[team_id]
        if last is None:
            return None
        room = self._has_room(members)
        if not room:
            return None
        ordered = [m for m in members if m > last] + [m for m in members if m <= last]
        chosen = next(m for m in ordered if m in room)
        self.cursors[team_id] = chosen
        return chosen


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


def room_of(session: Session, user_ids: Sequence[int]) -> dict[int, tuple[int | None, int]]:
    """Active sales users among `user_ids` -> (capacity, pending hand-offs), one query."""
    if not user_ids:
        return {}
    pending = (
        select(func.count())
        .select_from(Handoff)
        .where(Handoff.owner_id == User.id, Handoff.state == HandoffState.PENDING.value)
        .correlate(User)
        .scalar_subquery()
    )
    rows = session.execute(
        select(User.id, SalesRep.capacity, pending)
        .outerjoin(SalesRep, SalesRep.user_id == User.id)
        .where(
            User.id.in_(list(set(user_ids))),
            User.role == Role.SALES.value,
            User.is_active.is_(True),
        )
    )
    return {uid: (capacity, int(waiting)) for uid, capacity, waiting in rows}


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
