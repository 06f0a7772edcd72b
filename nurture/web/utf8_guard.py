"""Invalid UTF-8 in a query string or a posted form is refused, naming the field.

Litestar decodes form and query values with replacement characters, so bytes
that are not UTF-8 were stored as "\ufffd" without a word. This middleware reads
the raw percent-encoded pairs first and answers InvalidInput (422, an HTML page
on UI paths) naming the first field that does not decode. Multipart bodies are
left alone: their file parts are bytes by nature, and their text is checked by
the importers that read it.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from nurture.errors import InvalidInput
from nurture.web.json_guard import replay_body

NOT_UTF8 = "is not valid UTF-8 text"
MAX_FORM_BYTES = 1024 * 1024
_FORM = b"application/x-www-form-urlencoded"


def first_bad_field(encoded: bytes) -> str | None:
    """The name of the first pair in `a=1&b=2` whose name or value is not UTF-8, if any."""
    for pair in encoded.split(b"&"):
        name, _, value = pair.partition(b"=")
        raw_name = unquote_to_bytes(name.replace(b"+", b" "))
        raw_value = unquote_to_bytes(value.replace(b"+", b" "))
        try:
            field = raw_name.decode("utf-8")
        except UnicodeDecodeError:
            return raw_name.decode("utf-8", "replace")
        try:
            raw_value.decode("utf-8")
        except UnicodeDecodeError:
            return field
    return None


def _is_form(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.lower().startswith(_FORM)
    return False


class Utf8Guard:
    """ASGI middleware: InvalidInput for a query or urlencoded form field that is not UTF-8."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        field = first_bad_field(scope.get("query_string", b""))
        if field is not None:
            raise InvalidInput.single(field, NOT_UTF8)
        if not _is_form(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, replay_body(chunks, receive, message), send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if not message.get("more_body", False):
                break
            if size > MAX_FORM_BYTES:
                # Far beyond any form of ours: Litestar's body limit answers it.
                await self.app(scope, replay_body(chunks, receive, more=True), send)
                return
        field = first_bad_field(b"".join(chunks))
        if field is not None:
            raise InvalidInput.single(field, NOT_UTF8)
        await self.app(scope, replay_body(chunks, receive), send)
