"""Settings → Your account: changing one's own password, which signs out every other browser."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.response import Redirect, Template

from nurture import accounts
from nurture.errors import InvalidInput
from nurture.models import User
from nurture.ratelimit import Limit
from nurture.web import throttle
from nurture.web.auth import SESSION_TOKEN_KEY, ui_roles
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import EVERYONE, page

# A session left open on someone else's screen must not become a way to guess the password.
PASSWORD_CHECKS = Limit("password-change", hits=10, window_seconds=15 * 60)


@post("/settings/password", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def change_password(
    request: Request[Any, Any, Any], db: Db, principal: Me, data: FormData
) -> Template | Redirect:
    decision = throttle.hit(request, PASSWORD_CHECKS, str(principal.id))
    if not decision.allowed:
        wait = throttle.wait_phrase(decision.retry_after)
        errors = {"current_password": f"Too many attempts. Try again in {wait}."}
        return _account_page(db, principal, errors, 429, throttle.retry_headers(decision))
    try:
        user = accounts.change_own_password(
            db,
            user_id=principal.id,
            current=data.get("current_password", ""),
            new=data.get("new_password", ""),
            actor=principal.actor,
        )
    except InvalidInput as exc:
        db.rollback()
        errors = {p.field: p.message for p in reversed(exc.problems)}
        return _account_page(db, principal, errors, 422)
    # Every session ended with the change; this browser gets a fresh one.
    request.set_session({SESSION_TOKEN_KEY: accounts.start_session(db, user)})
    return Redirect("/settings?password=changed", status_code=303)


def _account_page(
    db: Db,
    principal: Me,
    errors: dict[str, str],
    status: int,
    headers: dict[str, str] | None = None,
) -> Template:
    return page(
        "settings/index.html",
        principal,
        "settings",
        status_code=status,
        headers=headers,
        user=db.get(User, principal.id),
        errors=errors,
    )


handlers = [change_password]
