"""`GET /img/<sha256>.<ext>`: uploaded e-mail images, public, cached for a year.

The address is the SHA-256 of the bytes, so what it shows never changes: browsers,
mail proxies (Gmail's, Outlook's) and CDNs may keep it `immutable` for a year, the
ETag is strong, and a client that shows its ETag gets 304 without the bytes being
read. No session nor CSRF cookie is read or set here (the prefix is exempt in
nurture/web/app.py): a response that sets a cookie would not be shared by caches.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from campaigns.email.images import served_image
from nurture.db import session_scope
from nurture.web.state import settings_of

CACHE_FOREVER = "public, max-age=31536000, immutable"


def _etag(digest: str) -> str:
    return f'"{digest}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names this ETag (a weak comparison, as RFC 9110 asks)."""
    if not if_none_match:
        return False
    wanted = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in wanted or etag in wanted


@get("/img/{name:str}", name="email-image", sync_to_thread=True)
def email_image(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
    """The stored image; 304 when the client holds it already, 404 for any unknown name."""
    revalidating = request.headers.get("if-none-match")
    with session_scope(settings_of(request.app).database_url) as session:
        found = served_image(session, name, with_data=revalidating is None)
        if found is not None and revalidating is not None:
            if _matches(revalidating, _etag(found.digest)):
                return Response(b"", status_code=304, headers=_headers(found.digest))
            found = served_image(session, name, with_data=True)
    if found is None or found.data is None:
        raise NotFoundException("no such image")
    return Response(found.data, media_type=found.media_type, headers=_headers(found.digest))


def _headers(digest: str) -> dict[str, str]:
    return {
        "ETag": _etag(digest),
        "Cache-Control": CACHE_FOREVER,
        # Also on every response (security_headers.py); said here since it matters most
        # for bytes that strangers upload.
        "X-Content-Type-Options": "nosniff",
    }


handlers = [email_image]
