"""Settings → Users (admins only): list, create with a role, deactivate and reactivate,
sign out of every browser."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from nurture import accounts
from nurture.errors import Conflict, InvalidInput, Problem
from nurture.models import Role, User
from nurture.web.auth import ui_roles
from nurture.web.ui import flash
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import ADMINS, page

FLASH = "users"
ROLES = [(role.value, role.value.capitalize()) for role in Role]


def _users_page(
    db: Db,
    principal: Me,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    notice_error: bool = False,
    status: int = 200,
) -> Template:
    users = list(db.scalars(select(User).order_by(User.is_active.desc(), User.name, User.email)))
    return page(
        "settings/users.html",
        principal,
        "settings",
        status_code=status,
        users=users,
        roles=ROLES,
        form=form or {"role": Role.MARKETER.value},
        errors=errors or {},
        notice=notice,
        notice_error=notice_error,
    )


@get("/settings/users", guards=[ui_roles(*ADMINS)], sync_to_thread=True)
def users(
    request: Request[Any, Any, Any], db: Db, principal: Me, created: FromQuery[str] = ""
) -> Template:
    notice = f"Account created for {created}." if created else ""
    return _users_page(db, principal, notice=flash.take(request, FLASH) or notice)


@post("/settings/users", guards=[ui_roles(*ADMINS)], sync_to_thread=True)
def create_user(db: Db, principal: Me, data: FormData) -> Template | Redirect:
    kept = {k: data.get(k, "") for k in ("email", "name", "role")}
    try:
        user = accounts.create_user(
            db,
            email=kept["email"],
            password=data.get("password", ""),
            role=kept["role"],
            name=kept["name"].strip(),
            actor=principal.actor,
        )
    except InvalidInput as exc:
        problems = exc.problems
    except Conflict as exc:
        problems = [Problem("email", str(exc))]
    else:
        return Redirect(f"/settings/users?created={user.email}", status_code=303)
    db.rollback()
    errors = {p.field: p.message for p in reversed(problems)}
    return _users_page(db, principal, form=kept, errors=errors, status=422)


@post("/settings/users/{user_id:int}/active", guards=[ui_roles(*ADMINS)], sync_to_thread=True)
def set_active(
    db: Db, principal: Me, user_id: FromPath[int], data: FormData
) -> Template | Redirect:
    active = data.get("active") == "1"
    try:
        accounts.set_user_active(db, user_id=user_id, active=active, actor=principal.actor)
    except Conflict as exc:
        return _users_page(db, principal, notice=f"{exc}.", notice_error=True, status=409)
    return Redirect("/settings/users", status_code=303)


@post(
    "/settings/users/{user_id:int}/sessions/revoke",
    guards=[ui_roles(*ADMINS)],
    sync_to_thread=True,
)
def sign_out_everywhere(
    request: Request[Any, Any, Any], db: Db, principal: Me, user_id: FromPath[int]
) -> Template | Redirect:
    ended = accounts.sign_out_everywhere(db, user_id=user_id, actor=principal.actor)
    if principal.id == user_id:
        # This browser's session was one of them: drop its cookie, then sign in again.
        request.clear_session()
        return Redirect("/login", status_code=303)
    user = db.get(User, user_id)
    who = user.email if user is not None else f"user {user_id}"
    sessions = "1 session" if ended == 1 else f"{ended} sessions"
    flash.put(request, FLASH, f"Signed {who} out everywhere ({sessions} ended).")
    return Redirect("/settings/users", status_code=303)


handlers = [users, create_user, set_active, sign_out_everywhere]
