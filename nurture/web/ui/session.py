"""Signing in and out of the UI."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Request, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from nurture import accounts
from nurture.contacts.addresses import normalise_email
from nurture.ratelimit import Limit
from nurture.web import throttle
from nurture.web.auth import SESSION_TOKEN_KEY, session_token, ui_principal
from nurture.web.ui.params import Db, FormData

LOGIN_FAILED = "That e-mail and password do not match an active account."
# Every attempt counts (atomically, before the password is checked, so a burst cannot slip
# through); a successful sign-in clears its account's count. Past the limit even the right
# password is refused until the window ends.
LOGIN_PER_ACCOUNT = Limit("login-account", hits=10, window_seconds=15 * 60)
LOGIN_PER_ADDRESS = Limit("login-address", hits=50, window_seconds=15 * 60)


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site, else '/': never an open redirect."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _login_page(
    next_path: str,
    *,
    email: str = "",
    error: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    return Template(
        "login.html",
        context={"next": next_path, "email": email, "error": error},
        status_code=status,
        headers=headers,
    )


def _account_key(email: str) -> str:
    """One key per account however the address is typed, so case changes do not reset it."""
    try:
        return normalise_email(email)
    except ValueError:
        return email.lower()


@get("/login", sync_to_thread=True)
def login_form(
    request: Request[Any, Any, Any],
    next_path: Annotated[str | None, QueryParameter(name="next")] = None,
) -> Template | Redirect:
    target = safe_next(next_path)
    if ui_principal(request) is not None:
        return Redirect(target)
    return _login_page(target)


@post("/login", sync_to_thread=True)
def login(request: Request[Any, Any, Any], db: Db, data: FormData) -> Template | Redirect:
    target = safe_next(data.get("next"))
    email = data.get("email", "").strip()
    account_key = _account_key(email)
    for limit, key in (
        (LOGIN_PER_ADDRESS, throttle.client_address(request)),
        (LOGIN_PER_ACCOUNT, account_key),
    ):
        decision = throttle.hit(request, limit, key)
        if not decision.allowed:
            wait = throttle.wait_phrase(decision.retry_after)
            return _login_page(
                target,
                email=email,
                error=f"Too many sign-in attempts. Try again in {wait}.",
                status=429,
                headers=throttle.retry_headers(decision),
            )
    user = accounts.authenticate(db, email=email, password=data.get("password", ""))
    if user is None:
        return _login_page(target, email=email, error=LOGIN_FAILED, status=400)
    throttle.reset(request, LOGIN_PER_ACCOUNT, account_key)
    # A fresh session on every sign-in: nothing from before the login carries over.
    old = session_token(request)
    if old is not None:
        accounts.end_session(db, old)
    request.clear_session()
    request.set_session({SESSION_TOKEN_KEY: accounts.start_session(db, user)})
    return Redirect(target, status_code=303)


@post("/logout", sync_to_thread=True)
def logout(request: Request[Any, Any, Any], db: Db) -> Redirect:
    token = session_token(request)
    if token is not None:
        accounts.end_session(db, token)
    request.clear_session()
    return Redirect("/login", status_code=303)


handlers = [login_form, login, logout]
