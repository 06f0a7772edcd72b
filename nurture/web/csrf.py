"""CSRF tokens bound to the session.

A signed-in browser's token is an HMAC of its session id, so it is only good with that
session: a token picked up anonymously (or from another session) never passes with an
admin's cookie. Before sign-in (the login form) the token is a signed random value checked
against the `nurture_csrf` cookie (double submit). The cookie always carries the current
token, and pages get it from `csrf_input` / `csrf_token()` as before; forms post it as
`_csrf_token`, scripts send it in the `x-csrftoken` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.datastructures.cookie import Cookie
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.base import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from nurture import accounts
from nurture.web.auth import SESSION_TOKEN_KEY

CSRF_COOKIE = "nurture_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ANONYMOUS = "a."


class SessionCSRFMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, *, secret: bytes, exempt: list[str], secure: bool) -> None:
        self._key = hashlib.sha256(b"csrf\0" + secret).digest()
        prefixes = tuple(exempt)
        self.should_bypass_for_scope = lambda scope: str(scope["path"]).startswith(prefixes)
        self._secure = secure

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request: Request[Any, Any, Any] = Request(scope, receive)
        cookie = request.cookies.get(CSRF_COOKIE)
        expected = self._expected(scope, cookie)
        if request.method in SAFE_METHODS:
            token = expected or self._new_anonymous()
        else:
            submitted = await _submitted(request)
            if (
                expected is None
                or submitted is None
                or not hmac.compare_digest(submitted.encode(), expected.encode())
            ):
                raise PermissionDeniedException("CSRF token verification failed")
            token = expected
        ScopeState.from_scope(scope).csrf_token = token

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Sign-in and sign-out change the session, and with it the token.
                current = self._bound(scope) or (
                    token if self._valid_anonymous(token) else self._new_anonymous()
                )
                if current != cookie:
                    self._set_cookie(message, current)
            await send(message)

        await next_app(scope, receive, send_with_cookie)

    def _bound(self, scope: Scope) -> str | None:
        """The token of the session this request carries (or now carries), if any."""
        session = scope.get("session")
        token = session.get(SESSION_TOKEN_KEY) if isinstance(session, dict) else None
        if not isinstance(token, str) or not token:
            return None
        message = b"session\0" + accounts.session_id(token).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _expected(self, scope: Scope, cookie: str | None) -> str | None:
        bound = self._bound(scope)
        if bound is not None:
            return bound
        if cookie is not None and self._valid_anonymous(cookie):
            return cookie
        return None

    def _new_anonymous(self) -> str:
        nonce = secrets.token_hex(16)
        return f"{_ANONYMOUS}{nonce}.{self._sign(nonce)}"

    def _valid_anonymous(self, token: str) -> bool:
        if not token.startswith(_ANONYMOUS):
            return False
        nonce, _, signature = token[len(_ANONYMOUS) :].partition(".")
        return bool(nonce) and hmac.compare_digest(signature.encode(), self._sign(nonce).encode())

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._key, b"anonymous\0" + nonce.encode(), hashlib.sha256).hexdigest()

    def _set_cookie(self, message: Message, value: str) -> None:
        cookie = Cookie(
            key=CSRF_COOKIE,
            value=value,
            path="/",
            secure=self._secure,
            # Readable by the page's own scripts is the point of double submit.
            httponly=False,
            samesite="lax",
        )
        MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))


async def _submitted(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type, _ = request.content_type
    if content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None
