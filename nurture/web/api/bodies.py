"""Request bodies: the msgspec structs Litestar decodes them into, which /schema shows.

A handler takes `data: SomethingIn` and Litestar decodes the body into that
struct, checking its shape: types, required and unknown fields, and the limits
declared here. A body that does not fit answers 422 naming the field by its path
(`company.country`, `contact_ids[2]`; see nurture/web/errors.py). The values
themselves (an e-mail address, a time zone, a segment rule, a sequence
definition) are still checked by the domain functions, which every other caller
(UI, importer, CLI) goes through too, and which name every bad value at once.
msgspec stops at the first shape error, so those come one at a time.

Litestar converts in msgspec's lax mode: a number or a flag sent as a string
(`"7"`, `"true"`) is taken as that number or flag.

Two JSON bodies stay hand-decoded because one bad item must not refuse the
others: the events batch (EventIn and EventBatch only document it) and webinar
attendance. Bodies that are not JSON (CSV imports, an inbound e-mail, signed
relay webhooks) are read as bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Union

import msgspec
from litestar.exceptions import ValidationException
from litestar.openapi.spec import Operation
from msgspec import UNSET, Meta, UnsetType

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
    # Left out (UNSET) keeps the stored value; null clears it.
    first_name: Name | UnsetType | None = UNSET
    last_name: Name | UnsetType | None = UNSET
    title: Title | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET
    notes: Notes | UnsetType | None = UNSET
    time_zone: Annotated[str, Meta(examples=["Europe/Berlin"])] | UnsetType | None = UNSET
    locale: Annotated[str, Meta(examples=["de-AT"])] | UnsetType | None = UNSET
    lifecycle_stage: LifecycleStage | UnsetType = UNSET
    owner_id: Id | UnsetType | None = UNSET
    company: CompanyIn | UnsetType | None = UNSET
    company_id: Id | UnsetType | None = UNSET
    attributes: (
        Annotated[
            dict[str, Any],
            Meta(description="Merged into the stored attributes; a null value removes that key."),
        ]
        | UnsetType
    ) = UNSET


class ContactIn(_ContactFields, kw_only=True):
    """A contact to create, or to update when one with this e-mail exists."""

    email: Annotated[str, Meta(examples=["ada@example.com"])]


class ContactPatch(_ContactFields, kw_only=True):
    """The fields to change; fields left out keep their value, null clears one."""

    email: str | UnsetType = UNSET
    lifecycle_reason: (
        Annotated[
            str,
            Meta(
                max_length=500,
                description=(
                    "Why the stage changes, kept in the lifecycle history; needed to move a "
                    "contact back down the funnel (say, customer to lead)."
                ),
            ),
        ]
        | UnsetType
    ) = UNSET


# Documentation only: the ingest checks each event on its own (events.ingest_raw),
# so that one bad item is reported by its index while the others are stored.
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


def present(data: msgspec.Struct) -> dict[str, Any]:
    """A decoded body as the plain JSON values domain functions read, without the
    fields the client left out (so "absent" and "null" stay apart)."""
    values: dict[str, Any] = msgspec.to_builtins(data)
    return values


def partial_of(struct: type[msgspec.Struct], name: str, doc: str) -> type[msgspec.Struct]:
    """`struct` with every field optional: left out keeps the stored value, null clears it.

    Made from the create struct, so a change body cannot drift from a new one.
    """
    fields = [
        (field.encode_name, Union[field.type, None, UnsetType], UNSET)  # noqa: UP007
        for field in msgspec.structs.fields(struct)
    ]
    made = msgspec.defstruct(name, fields, forbid_unknown_fields=True, module=struct.__module__)
    made.__doc__ = doc
    return made


def json_body_operation(*documented: type[msgspec.Struct], description: str) -> type[Operation]:
    """An OpenAPI operation class whose request body is described by `documented` structs.

    The structs' own JSON schema is inlined (msgspec's, the library that decodes
    them), rather than Litestar's `$ref` to a component.
    """
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
