"""Signing in and out of the UI."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Request, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from nurture import accounts
from nurture.web.auth import SESSION_USER_KEY, ui_principal
from nurture.web.ui.params import Db, FormData

LOGIN_FAILED = "That e-mail and password do not match an active account."


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


def _login_page(next_path: str, *, email: str = "", error: str = "", status: int = 200) -> Template:
    return Template(
        "login.html",
        context={"next": next_path, "email": email, "error": error},
        status_code=status,
    )


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
    user = accounts.authenticate(db, email=email, password=data.get("password", ""))
    if user is None:
        return _login_page(target, email=email, error=LOGIN_FAILED, status=400)
    # A fresh session on every sign-in: nothing from before the login carries over.
    request.clear_session()
    request.set_session({SESSION_USER_KEY: user.id})
    return Redirect(target, status_code=303)


@post("/logout", sync_to_thread=False)
def logout(request: Request[Any, Any, Any]) -> Redirect:
    request.clear_session()
    return Redirect("/login", status_code=303)


handlers = [login_form, login, logout]
