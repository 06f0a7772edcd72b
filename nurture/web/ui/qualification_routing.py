"""Settings → Routing (admins): sales teams with members and lead, reps' time zone and
capacity, the ordered routing rules, and the hand-offs nobody could be given.

Each form posts one change; a refused change shows the page again with the problem
next to that form and nothing saved.
"""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from nurture.errors import InvalidInput, Problem
from nurture.models import Contact, Handoff, HandoffState
from nurture.qualification import routing_rules, teams
from nurture.web.auth import ui_roles
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import ADMINS, page

BASE = "/settings/qualification/routing"
MAX_UNASSIGNED = 100
guard = ui_roles(*ADMINS)


@get(BASE, guards=[guard], sync_to_thread=True)
def routing_page(db: Db, principal: Me, saved: FromQuery[str] = "") -> Template:
    return _page(db, principal, notice="Saved." if saved else "")


@post(f"{BASE}/rules", guards=[guard], sync_to_thread=True)
def add_rule(db: Db, principal: Me, data: FormData) -> Template | Redirect:
    return _apply(
        db,
        principal,
        "rule:new",
        lambda: routing_rules.create_rule(db, _rule_values(data), actor=principal.actor),
    )


@post(f"{BASE}/rules/{{rule_id:int}}", guards=[guard], sync_to_thread=True)
def change_rule(
    db: Db, principal: Me, rule_id: FromPath[int], data: FormData
) -> Template | Redirect:
    action = data.get("action", "")
    changes: dict[str, Any]
    if action in ("up", "down"):
        current = routing_rules.get_rule(db, rule_id).position
        changes = {"position": max(1, current - 1) if action == "up" else current + 1}
    elif action in ("activate", "deactivate"):
        changes = {"active": action == "activate"}
    elif action == "delete":
        return _apply(
            db,
            principal,
            f"rule:{rule_id}",
            lambda: routing_rules.delete_rule(db, rule_id, actor=principal.actor),
        )
    else:
        changes = _rule_values(data)
    return _apply(
        db,
        principal,
        f"rule:{rule_id}",
        lambda: routing_rules.update_rule(db, rule_id, changes, actor=principal.actor),
    )


@post(f"{BASE}/teams", guards=[guard], sync_to_thread=True)
def add_team(db: Db, principal: Me, data: FormData) -> Template | Redirect:
    values = _team_values(data)
    return _apply(
        db, principal, "team:new", lambda: teams.create_team(db, values, actor=principal.actor)
    )


@post(f"{BASE}/teams/{{team_id:int}}", guards=[guard], sync_to_thread=True)
def change_team(
    db: Db, principal: Me, team_id: FromPath[int], data: FormData
) -> Template | Redirect:
    if data.get("action") == "delete":
        return _apply(
            db,
            principal,
            f"team:{team_id}",
            lambda: teams.delete_team(db, team_id, actor=principal.actor),
        )
    values = _team_values(data)
    return _apply(
        db,
        principal,
        f"team:{team_id}",
        lambda: teams.update_team(db, team_id, values, actor=principal.actor),
    )


@post(f"{BASE}/reps/{{user_id:int}}", guards=[guard], sync_to_thread=True)
def change_rep(
    db: Db, principal: Me, user_id: FromPath[int], data: FormData
) -> Template | Redirect:
    zone = data.get("time_zone", "").strip() or None
    capacity_text = data.get("capacity", "").strip()
    values: dict[str, Any] = {"time_zone": zone, "capacity": _number(capacity_text)}
    return _apply(
        db,
        principal,
        f"rep:{user_id}",
        lambda: teams.update_rep(db, user_id, values, actor=principal.actor),
    )


def _apply(db: Db, principal: Me, form_key: str, change: Any) -> Template | Redirect:
    """Run `change`; on InvalidInput show the page with the problems at `form_key`."""
    try:
        change()
    except InvalidInput as exc:
        db.rollback()
        return _page(db, principal, problems={form_key: exc.problems}, status=422)
    return Redirect(f"{BASE}?saved=1", status_code=303)


def _number(text: str) -> object:
    """Whole numbers become ints; blank is None; anything else goes on as text, for the
    domain check to name."""
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else text


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _rule_values(data: dict[str, str]) -> dict[str, Any]:
    match: dict[str, list[str]] = {}
    for key in routing_rules.MATCH_KEYS:
        values = _split(data.get(key, ""))
        if values:
            match[key] = values
    target = data.get("target", "")
    kind, _, ident = target.partition(":")
    return {
        "name": data.get("name", ""),
        "match": match,
        "team_id": _number(ident) if kind == "team" else None,
        "owner_id": _number(ident) if kind == "rep" else None,
    }


def _team_values(data: dict[str, str]) -> dict[str, Any]:
    members = sorted(
        int(key.removeprefix("member_"))
        for key in data
        if key.startswith("member_") and key.removeprefix("member_").isdigit() and len(key) < 30
    )
    return {
        "name": data.get("name", ""),
        "lead_id": _number(data.get("lead_id", "").strip()),
        "member_ids": members,
    }


def _page(
    db: Db,
    principal: Me,
    *,
    notice: str = "",
    problems: dict[str, list[Problem]] | None = None,
    status: int = 200,
) -> Template:
    reps = teams.list_reps(db)
    unassigned = db.execute(
        select(
            Handoff.id,
            Handoff.created_at,
            Contact.id,
            Contact.email,
            Contact.first_name,
            Contact.last_name,
        )
        .join(Contact, Contact.id == Handoff.contact_id)
        .where(Handoff.state == HandoffState.PENDING.value, Handoff.owner_id.is_(None))
        .order_by(Handoff.created_at)
        .limit(MAX_UNASSIGNED)
    ).all()
    return page(
        "settings/qualification_routing.html",
        principal,
        "settings",
        status_code=status,
        teams=teams.list_teams(db),
        reps=reps,
        rep_names={r.user_id: r.name or r.email for r in reps},
        rules=routing_rules.list_rules(db),
        unassigned=unassigned,
        notice=notice,
        problems={key: [p.describe() for p in found] for key, found in (problems or {}).items()},
    )


handlers = [routing_page, add_rule, change_rule, add_team, change_team, change_rep]
