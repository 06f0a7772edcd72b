"""A nesting-depth and size limit on JSON bodies, checked on the raw bytes before decoding.

msgspec and the json module recurse once per `[` or `{`: 100,000 of them exhausted
the stack and answered 500, on every JSON endpoint and on the unauthenticated relay
webhooks (SNS posts its JSON as text/plain). So every body that is labelled JSON,
or that starts like JSON, is measured first: too large answers 413, too deep 400,
both naming `body`, and the handler never sees it.
"""

from __future__ import annotations

import json
import re

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPRequestEvent,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)

# Far above any body we take (a 1,000-event batch, a sequence definition, a relay batch).
MAX_JSON_BYTES = 8 * 1024 * 1024
# Our deepest documents (segment rules, sequence graphs) nest well under this.
MAX_JSON_DEPTH = 64
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Enough of an unlabelled body to see whether it starts like JSON.
_SNIFF_BYTES = 64


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets outside JSON strings nest deeper than `limit` anywhere in `body`."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _looks_like_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


class JsonGuard:
    """ASGI middleware: refuse JSON bodies over `max_bytes` or nested deeper than `max_depth`."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        labelled = _looks_like_json(scope)
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: let the app see the disconnect as it would.
                await self.app(scope, replay_body(chunks, receive, message), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            more = message.get("more_body", False)
            if not labelled and size >= _SNIFF_BYTES and not _starts_like_json(chunks):
                # Not JSON (a CSV upload, say): hand it on as it streams, unbuffered.
                await self.app(scope, replay_body(chunks, receive, more=more), send)
                return
            if size > self.max_bytes:
                await _refuse(send, 413, f"is over {self.max_bytes} bytes of JSON")
                return
        body = b"".join(chunks)
        if (labelled or _starts_like_json([body])) and json_depth_exceeds(body, self.max_depth):
            await _refuse(send, 400, f"nests deeper than {self.max_depth} levels")
            return
        await self.app(scope, replay_body([body], receive), send)


def _starts_like_json(chunks: list[bytes]) -> bool:
    head = b"".join(chunks)[:_SNIFF_BYTES].lstrip()
    return head[:1] in (b"[", b"{")


def replay_body(
    chunks: list[bytes],
    receive: Receive,
    then: ReceiveMessage | None = None,
    *,
    more: bool = False,
) -> Receive:
    """The body read so far as one message (`more`: the rest is still to come), then
    `then`, then the server's own receive (the rest of the body, or the disconnect a
    streaming response listens for)."""
    body = b"".join(chunks)
    first: HTTPRequestEvent = {"type": "http.request", "body": body, "more_body": more}
    pending: list[ReceiveMessage] = [first]
    if then is not None:
        pending.append(then)

    async def replay() -> ReceiveMessage:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _refuse(send: Send, status: int, says: str) -> None:
    message = "the request body is too large" if status == 413 else "the JSON body nests too deep"
    payload = json.dumps(
        {
            "error": {
                "status": status,
                "message": message,
                "problems": [{"field": "body", "message": says}],
            }
        }
    ).encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ],
    }
    body: HTTPResponseBodyEvent = {
        "type": "http.response.body",
        "body": payload,
        "more_body": False,
    }
    await send(start)
    await send(body)
