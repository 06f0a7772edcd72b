"""The click redirector and the open pixel: public, no login, answered in microseconds.

`GET /t/c/{token}` checks the signed click token (message id + link index), finds
the target among the links stored with that message (never in the request: the
redirector is no open redirect), queues an `email.clicked` event and answers 302.
`GET /t/o/{token}` queues `email.opened` and answers a transparent 1x1 GIF that
nobody may cache. A token that is malformed, forged or made for another purpose is
a 400 (TokenError), an unknown message or link a 404; neither carries a Location.
"""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime
from typing import Any

import anyio
from litestar import Request, Response, get, head
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from campaigns.email import machines
from nurture.events import EventInput
from nurture.web.public.messages import MessageInfo
from nurture.web.public.state import Tracking, tracking_of

# The smallest transparent GIF: 1x1, one transparent palette entry.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
NO_STORE = "no-store, no-cache, must-revalidate, max-age=0, private"
_PIXEL_HEADERS = {"Cache-Control": NO_STORE, "Pragma": "no-cache", "Expires": "0"}
MAX_AGENT = 300
# Each recorded open or click gets its own idempotency key: a tag drawn once per
# process and a counter. A random suffix per request cost a getrandom() system
# call on every click, a tenth of the redirector's time.
_KEY_TAG = secrets.token_hex(6)
_key_numbers = itertools.count()


def _unique() -> str:
    return f"{_KEY_TAG}{next(_key_numbers):x}"


async def _message(tracking: Tracking, message_id: int) -> MessageInfo | None:
    info = tracking.messages.cached(message_id)
    if info is None:
        info = await anyio.to_thread.run_sync(tracking.messages.load, message_id)
    return info


def _request_facts(request: Request[Any, Any, Any]) -> machines.Request:
    # Read from the raw ASGI headers: building Litestar's header mapping for one
    # value costs more than the rest of the click's own work.
    agent = b""
    for name, value in request.scope["headers"]:
        if name == b"user-agent":
            agent = value
            break
    client = request.scope.get("client")
    return machines.Request(
        request.scope["method"],
        agent[:MAX_AGENT].decode("latin-1"),
        client[0] if client else None,
    )


async def _click(request: Request[Any, Any, Any], token: str) -> str:
    tracking = tracking_of(request.app)
    ref = tracking.signer.verify_click(token)
    info = await _message(tracking, ref.message_id)
    if info is None or not 0 <= ref.link_index < len(info.links):
        raise NotFoundException("this link is not known (any more)")
    target = info.links[ref.link_index]
    if info.records_events:
        now = datetime.now(UTC)
        facts = _request_facts(request)
        props: dict[str, Any] = {
            "message_id": info.message_id,
            "link_index": ref.link_index,
            "url": target,
            "template_id": info.template_id,
            "user_agent": facts.user_agent,
        }
        reason = machines.click_machine_reason(facts, sent_at=info.sent_at, now=now)
        if reason is not None:
            props["machine"] = True
            props["machine_reason"] = reason
        tracking.recorder.record(
            EventInput(
                "email.clicked",
                now,
                props,
                f"email.clicked:{info.message_id}:{ref.link_index}:{_unique()}",
                contact_id=info.contact_id,
            )
        )
    return target


@get("/t/c/{token:str}", name="track-click")
async def track_click(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[bytes]:
    """302 to the stored target of a tracked link, recording the click."""
    target = await _click(request, token)
    return Response(b"", status_code=302, headers={"Location": target, "Cache-Control": NO_STORE})


@head("/t/c/{token:str}", name="track-click-head")
async def track_click_head(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[None]:
    """Link scanners ask with HEAD: same answer, recorded as a machine click."""
    target = await _click(request, token)
    return Response(None, status_code=302, headers={"Location": target, "Cache-Control": NO_STORE})


@get("/t/o/{token:str}", name="track-open")
async def track_open(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[bytes]:
    """A transparent 1x1 GIF, recording the open."""
    tracking = tracking_of(request.app)
    message_id = tracking.signer.verify_open(token)
    info = await _message(tracking, message_id)
    if info is not None and info.records_events:
        facts = _request_facts(request)
        props: dict[str, Any] = {
            "message_id": info.message_id,
            "template_id": info.template_id,
            "user_agent": facts.user_agent,
        }
        reason = machines.open_machine_reason(facts)
        if reason is not None:
            props["machine"] = True
            props["machine_reason"] = reason
        tracking.recorder.record(
            EventInput(
                "email.opened",
                datetime.now(UTC),
                props,
                f"email.opened:{info.message_id}:{_unique()}",
                contact_id=info.contact_id,
            )
        )
    # An unknown message still gets the image: a broken-image icon helps nobody.
    return Response(PIXEL, media_type="image/gif", headers=_PIXEL_HEADERS)


handlers = [track_click, track_click_head, track_open]
