"""Request bodies: decoded by hand, documented in /schema by typed structs.

Handlers take the raw bytes rather than a typed `data` parameter: a typed
body would fail a whole batch on one bad item, and would report problems in
the framework's words instead of the domain's (every problem at once, each
naming its field and item index). The structs below only describe the bodies
for OpenAPI; the domain functions do the checking.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar.exceptions import ValidationException
from litestar.openapi.spec import Operation
from msgspec import Meta

from nurture.contacts import TEXT_FIELDS
from nurture.errors import InvalidInput, Problem
from nurture.events import MAX_BATCH, MAX_KEY_LENGTH, MAX_TYPE_LENGTH
from nurture.models import LifecycleStage, SizeBand

MAX_ID = 2**63 - 1
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]


Name = Annotated[str, Meta(max_length=TEXT_FIELDS["first_name"])]
Title = Annotated[str, Meta(max_length=TEXT_FIELDS["title"])]
Phone = Annotated[str, Meta(max_length=TEXT_FIELDS["phone"])]
Notes = Annotated[str, Meta(max_length=TEXT_FIELDS["notes"])]


class CompanyIn(msgspec.Struct, forbid_unknown_fields=True):
    """The contact's company, found by `domain` (or, without one, by `name`) or created."""

    name: str
    domain: Annotated[str, Meta(examples=["example.com"])] | None = None
    industry: Annotated[str, Meta(max_length=80)] | None = None
    size_band: SizeBand | None = None
    country: Annotated[str, Meta(pattern="^[A-Za-z]{2}$", examples=["DE"])] | None = None


class _ContactFields(msgspec.Struct, forbid_unknown_fields=True):
    first_name: Name | None = None
    last_name: Name | None = None
    title: Title | None = None
    phone: Phone | None = None
    notes: Notes | None = None
    time_zone: Annotated[str, Meta(examples=["Europe/Berlin"])] | None = None
    locale: Annotated[str, Meta(examples=["de-AT"])] | None = None
    lifecycle_stage: LifecycleStage | None = None
    owner_id: Id | None = None
    company: CompanyIn | None = None
    company_id: Id | None = None
    attributes: Annotated[
        dict[str, Any],
        Meta(description="Merged into the stored attributes; a null value removes that key."),
    ] = {}


class ContactIn(_ContactFields, kw_only=True):
    """A contact to create, or to update when one with this e-mail exists."""

    email: Annotated[str, Meta(examples=["ada@example.com"])]


class ContactPatch(_ContactFields, kw_only=True):
    """The fields to change; fields left out keep their value, null clears one."""

    email: str | None = None


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    """One event. Name the contact by `contact_id` or by `email` (an unknown address creates it)."""

    type: Annotated[
        str,
        Meta(max_length=MAX_TYPE_LENGTH, pattern="^[a-z0-9._-]+$", examples=["webinar.attended"]),
    ]
    contact_id: Id | None = None
    email: Annotated[str, Meta(examples=["ada@example.com"])] | None = None
    occurred_at: (
        Annotated[
            datetime,
            Meta(
                description="With a time zone; defaults to the time it was received.",
                extra_json_schema={"format": "date-time"},
            ),
        ]
        | None
    ) = None
    properties: dict[str, Any] = {}
    idempotency_key: (
        Annotated[
            str,
            Meta(
                max_length=MAX_KEY_LENGTH,
                description="An event with a key that was seen before is not stored again.",
            ),
        ]
        | None
    ) = None


class EventBatch(msgspec.Struct, forbid_unknown_fields=True):
    """Up to 1,000 events; each is stored or rejected on its own."""

    events: Annotated[list[EventIn], Meta(max_length=MAX_BATCH)]


def json_body_operation(*documented: type[msgspec.Struct], description: str) -> type[Operation]:
    """An OpenAPI operation class whose request body is described by `documented` structs."""
    schemas = [_inline(msgspec.json.schema(struct)) for struct in documented]
    schema = schemas[0] if len(schemas) == 1 else {"oneOf": schemas}
    request_body = {
        "description": description,
        "required": True,
        "content": {"application/json": {"schema": schema}},
    }

    class JsonBodyOperation(Operation):
        def to_schema(self) -> dict[str, Any]:
            document = super().to_schema()
            document["requestBody"] = request_body
            return document

    return JsonBodyOperation


def decode_json(body: bytes) -> object:
    """The request body as plain JSON values; malformed JSON is a 400 naming `body`."""
    if not body.strip():
        raise _malformed("is empty; send a JSON document")
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise _malformed(f"is not valid JSON: {exc}") from None


def json_object(body: bytes) -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    decoded = decode_json(body)
    if not isinstance(decoded, dict):
        raise InvalidInput.single("body", "must be a JSON object")
    return decoded


def _malformed(message: str) -> ValidationException:
    return ValidationException(
        "the request body is not valid JSON", extra=[{"key": "body", "message": message}]
    )


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its `$defs` references replaced by their definitions.

    Request bodies are not registered as components, so a `#/$defs/...`
    reference would point nowhere in the OpenAPI document.
    """
    definitions: Mapping[str, Any] = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def event_items(decoded: object) -> list[object]:
    """The items of an events body: one event object, or `{"events": [...]}`.

    Only the envelope is checked here, as a whole; each item is checked on
    its own by the ingest, so one bad item never sinks the batch.
    """
    if not isinstance(decoded, dict):
        raise InvalidInput.single("body", 'must be an event object or {"events": [...]}')
    if "events" not in decoded:
        return [decoded]
    unknown = sorted(set(decoded) - {"events"})
    if unknown:
        raise InvalidInput(
            [Problem(n, 'is not a known field; a batch holds only "events"') for n in unknown]
        )
    items = decoded["events"]
    if not isinstance(items, list):
        raise InvalidInput.single("events", "must be an array of event objects")
    if len(items) > MAX_BATCH:
        raise InvalidInput.single(
            "events", f"holds {len(items)} events; send at most {MAX_BATCH} per request"
        )
    return items
