"""Who is calling: API keys for /api, session cookies for the UI, and role guards."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from nurture import accounts
from nurture.db import session_scope
from nurture.models import Role
from nurture.web.state import settings_of

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]
# The session cookie holds only this: the random token of a `user_sessions` row, which
# every request checks, so logout and revocation take effect on the very next request.
SESSION_TOKEN_KEY = "sid"  # noqa: S105 - a dictionary key, not a secret
# A verified API key is trusted this long without a database look-up; revoking a
# key therefore takes effect within this many seconds.
API_KEY_CACHE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "user" or "apikey"
    id: int
    role: Role
    name: str

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"{self.kind}:{self.id}"


class LoginRequired(NotAuthorizedException):
    """A UI page was opened without a session; the web layer answers with a redirect."""


class _KeyCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = Lock()

    def get(self, digest: str) -> Principal | None:
        with self._lock:
            entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, digest: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (time.monotonic() + API_KEY_CACHE_SECONDS, principal)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


api_key_cache = _KeyCache()


def api_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The API key caller, from `Authorization: Bearer <key>`, or None."""
    cached = connection.scope.get("state", {}).get("principal")
    if isinstance(cached, Principal):
        return cached
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    token = token.strip()
    digest = hashlib.sha256(token.encode()).hexdigest()
    principal = api_key_cache.get(digest)
    if principal is None:
        with session_scope(settings_of(connection.app).database_url) as db:
            key = accounts.verify_api_key(db, token)
            if key is None:
                return None
            principal = Principal("apikey", key.id, Role(key.role), key.name)
        api_key_cache.put(digest, principal)
    connection.state.principal = principal
    return principal


def ui_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The logged-in user of this browser session, or None."""
    cached = connection.scope.get("state", {}).get("principal")
    if isinstance(cached, Principal):
        return cached
    token = session_token(connection)
    if token is None:
        return None
    with session_scope(settings_of(connection.app).database_url) as db:
        user = accounts.session_user(db, token)
        if user is None:
            return None
        principal = Principal("user", user.id, Role(user.role), user.name or user.email)
    connection.state.principal = principal
    return principal


def session_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The session token this browser's cookie carries (live or not), or None."""
    session = connection.scope.get("session") or {}
    token = session.get(SESSION_TOKEN_KEY) if isinstance(session, dict) else None
    return token if isinstance(token, str) and token else None


def api_roles(*roles: Role) -> Guard:
    """Guard for API handlers: 401 without a valid key, 403 when its role is not allowed."""
    allowed = frozenset(roles or tuple(Role))

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = api_principal(connection)
        if principal is None:
            raise NotAuthorizedException("send a valid API key as 'Authorization: Bearer <key>'")
        if principal.role not in allowed:
            raise PermissionDeniedException(f"the {principal.role.value} role may not do this")

    return guard


def ui_roles(*roles: Role) -> Guard:
    """Guard for UI pages: redirect to login without a session, 403 when the role is not allowed."""
    allowed = frozenset(roles or tuple(Role))

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = ui_principal(connection)
        if principal is None:
            raise LoginRequired("log in to continue")
        if principal.role not in allowed:
            raise PermissionDeniedException(
                f"the {principal.role.value} role may not open this page"
            )

    return guard


def current_principal(request: Request[Any, Any, Any]) -> Principal:
    """Dependency: the caller that a guard already authenticated.

    The parameter must be named `request`: that is the name Litestar injects.
    """
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("not authenticated")
    return principal
