"""Inbound e-mail over HTTP: a reply handed over by a mail provider's inbound webhook.

The body is the reply itself (`message/rfc822` or `text/plain`), or JSON
`{"raw": "<base64 of the message>", "recipients": [...]}` for providers that post
JSON. Every reply gets an answer (matched, auto_reply, duplicate, unmatched) with
200, so a provider never retries a reply we do not know; only a body that is not
an e-mail at all is refused, with a 4xx naming the field.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Annotated, Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.openapi.spec import Operation
from litestar.params import RawBody
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from msgspec import Meta
from sqlalchemy.orm import Session

from campaigns.email.replies import ReplyResult, check_message
from campaigns.sequences.replies import record_reply
from nurture.errors import InvalidInput, Problem
from nurture.models import Role, utcnow
from nurture.web.api.bodies import json_object
from nurture.web.api.responses import errors
from nurture.web.auth import api_roles
from nurture.web.state import settings_of
from workers.actors import hand_over

log = logging.getLogger(__name__)
RAW_TYPES = ("message/rfc822", "text/plain")
_JSON_FIELDS = frozenset({"raw", "recipients"})
MAX_RECIPIENTS = 100


class InboundJson(msgspec.Struct, forbid_unknown_fields=True):
    """A reply as JSON: the RFC 822 message in base64, and optionally the SMTP recipients."""

    raw: Annotated[str, Meta(description="The whole message (headers and body), base64")]
    recipients: Annotated[list[str], Meta(max_length=MAX_RECIPIENTS)] | None = None


class InboundAnswer(msgspec.Struct):
    """What became of the reply; `detail` says why when nothing was stopped."""

    outcome: str
    message_id: int | None
    contact_id: int | None
    event_id: int | None
    stopped_enrolments: int
    detail: str


class _InboundOperation(Operation):
    """Documents the three accepted bodies (the handler reads raw bytes)."""

    def to_schema(self) -> dict[str, Any]:
        document = super().to_schema()
        message = {"schema": {"type": "string", "format": "binary"}}
        as_json = msgspec.json.schema(InboundJson)
        document["requestBody"] = {
            "required": True,
            "description": "The reply: the message itself, or JSON with it in base64",
            "content": {
                "message/rfc822": message,
                "text/plain": message,
                "application/json": {"schema": as_json["$defs"]["InboundJson"]},
            },
        }
        return document


@post(
    "/inbound/email",
    guards=[api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)],
    sync_to_thread=True,
    status_code=200,
    summary="Receive a reply to one of our e-mails",
    description=(
        "Send the reply as `message/rfc822` (or `text/plain`), or as JSON "
        '`{"raw": "<base64>", "recipients": ["reply+...@..."]}`. It is matched to the '
        "message it answers by its reply address or In-Reply-To/References. A person's "
        "reply records `email.replied` and stops the contact's sequences (`matched`); an "
        "automatic answer records `email.auto_replied` (`auto_reply`); a reply seen before "
        "changes nothing (`duplicate`); one we cannot match is `unmatched`."
    ),
    operation_class=_InboundOperation,
    responses=errors(422),
)
def receive_inbound_email(
    request: Request[Any, Any, Any], body: RawBody, db: NamedDependency[Session]
) -> InboundAnswer:
    raw, recipients, field = _reply_of(request.headers.get("content-type", ""), body)
    check_message(raw, field)
    settings = settings_of(request.app)
    result = record_reply(
        db,
        raw,
        now=utcnow(),
        secret=settings.secret_key,
        reply_domain=settings.reply_domain,
        envelope_recipients=recipients,
    )
    if result.event_id is not None:
        hand_over(db, [result.event_id])
    db.commit()
    return _answer(result)


def _reply_of(content_type: str, body: bytes) -> tuple[bytes, list[str], str]:
    """The message bytes, the envelope recipients and the name of the field that held it."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in RAW_TYPES or not media:
        return body, [], "body"
    if media != "application/json":
        raise HTTPException(
            status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=(
                f"Content-Type {media!r} is not accepted: send message/rfc822, text/plain "
                'or application/json {"raw": "<base64>"}'
            ),
        )
    document = json_object(body)
    unknown = sorted(str(name) for name in document if name not in _JSON_FIELDS)
    if unknown:
        raise InvalidInput([Problem(name, "is not a known field") for name in unknown])
    encoded = document.get("raw")
    if not isinstance(encoded, str) or not encoded.strip():
        raise InvalidInput.single("raw", "is required: the message in base64")
    try:
        raw = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput.single("raw", "is not valid base64") from None
    return raw, _recipients(document.get("recipients")), "raw"


def _recipients(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_RECIPIENTS:
        raise InvalidInput.single(
            "recipients", f"must be an array of up to {MAX_RECIPIENTS} addresses"
        )
    for index, item in enumerate(value):
        if not isinstance(item, str) or len(item) > 320:
            raise InvalidInput.single("recipients", "must be an e-mail address", index)
    return list(value)


def _answer(result: ReplyResult) -> InboundAnswer:
    return InboundAnswer(
        outcome=result.outcome.value,
        message_id=result.message_id,
        contact_id=result.contact_id,
        event_id=result.event_id,
        stopped_enrolments=result.stopped_enrolments,
        detail=result.detail,
    )


HANDLERS = [receive_inbound_email]
