"""Security headers on every response: UI pages, public pages, static files and errors.

The policy fits how the pages are built: every script is a file under /static
(data for charts and builders sits in `<script type="application/json">`, which
is never run), so scripts need no 'unsafe-inline' and no nonce. Styles do allow
inline: htmx adds its indicator `<style>`, Chart.js sizes its canvas, and the
e-mail previews (sandboxed `srcdoc` frames, which inherit this policy) carry the
e-mails' own `<style>` blocks and their remote images. Fonts come only from us:
e-mail uses the system font stack, and a brand's opted-in web font is left out of the
previews (they fall back to the stack) rather than opening the policy to a font host.
"""

from __future__ import annotations

from litestar.types import Message, Scope

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


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook: each HTTP response start gets SECURITY_HEADERS (unless it set
    its own). A hook, not a middleware: Litestar answers unmatched paths (404, 405) before
    any middleware runs, and those pages need the headers too."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {bytes(name).lower() for name, _ in headers}
    headers.extend((name, value) for name, value in SECURITY_HEADERS if name not in present)
    message["headers"] = headers
