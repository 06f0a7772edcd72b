"""`GET /img/<sha256>.<ext>`: uploaded e-mail images, public, cached for a year.

The address is the SHA-256 of the bytes, so what it shows never changes: browsers,
mail proxies (Gmail's, Outlook's) and CDNs may keep it `immutable` for a year, the
ETag is strong, and a client that shows its ETag gets 304 without the bytes being
read. No session nor CSRF cookie is read or set here (the prefix is exempt in
nurture/web/app.py): a response that sets a cookie would not be shared by caches.

For the same reason each process keeps the images it served last in memory
(`_Recent`, up to CACHE_BYTES): nothing there can go stale, and a mailing opened by
thousands at once asks for the same few images, which are then answered without a
thread or a database round trip.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

import anyio
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from campaigns.email.images import Served, served_image
from nurture.db import session_scope
from nurture.web.state import settings_of

CACHE_FOREVER = "public, max-age=31536000, immutable"
CACHE_BYTES = 64 * 1024 * 1024
# A larger image is served from the database each time rather than push out many others.
CACHE_ONE_AT_MOST = 4 * 1024 * 1024


class _Recent:
    """The images served last, by public name, up to `limit` bytes in all."""

    def __init__(self, limit: int) -> None:
        self._items: OrderedDict[str, Served] = OrderedDict()
        self._size = 0
        self._limit = limit
        self._lock = Lock()

    def get(self, name: str) -> Served | None:
        with self._lock:
            found = self._items.get(name)
            if found is not None:
                self._items.move_to_end(name)
            return found

    def put(self, name: str, served: Served) -> None:
        size = len(served.data or b"")
        if served.data is None or size > CACHE_ONE_AT_MOST:
            return
        with self._lock:
            if name in self._items:
                return
            self._items[name] = served
            self._size += size
            while self._size > self._limit:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped.data or b"")


_recent = _Recent(CACHE_BYTES)


def _etag(digest: str) -> str:
    return f'"{digest}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names this ETag (a weak comparison, as RFC 9110 asks)."""
    if not if_none_match:
        return False
    wanted = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in wanted or etag in wanted


def _load(database_url: str, name: str, with_data: bool) -> Served | None:
    with session_scope(database_url) as session:
        return served_image(session, name, with_data=with_data)


@get("/img/{name:str}", name="email-image")
async def email_image(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
    """The stored image; 304 when the client holds it already, 404 for any unknown name."""
    revalidating = request.headers.get("if-none-match")
    url = settings_of(request.app).database_url
    found = _recent.get(name)
    if found is None:
        found = await anyio.to_thread.run_sync(_load, url, name, revalidating is None)
        if found is None:
            raise NotFoundException("no such image")
    if revalidating is not None and _matches(revalidating, _etag(found.digest)):
        return Response(b"", status_code=304, headers=_headers(found.digest))
    if found.data is None:
        found = await anyio.to_thread.run_sync(_load, url, name, True)
        if found is None or found.data is None:
            raise NotFoundException("no such image")
    _recent.put(name, found)
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
