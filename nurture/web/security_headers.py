"""Security headers on every response: UI pages, public pages, static files and errors.

The policy fits how the pages are built: every script is a file under /static
(data for charts and builders sits in `<script type="application/json">`, which
is never run), so scripts need no 'unsafe-inline' and no nonce. Styles do allow
inline: htmx adds its indicator `<style>`, Chart.js sizes its canvas, and the
e-mail previews (sandboxed `srcdoc` frames, which inherit this policy) carry the
e-mails' own `<style>` blocks and their remote images.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    # For browsers that predate frame-ancestors.
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # Tracking and unsubscribe links carry signed tokens: never hand them to other sites.
    (b"referrer-policy", b"same-origin"),
]



def security_headers(app: ASGIApp) -> ASGIApp:
    """Wrap `app` so each HTTP response carries SECURITY_HEADERS (unless it set its own)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await app(scope, receive, add_headers)

    return wrapped
