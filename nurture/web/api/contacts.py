"""Contacts: upsert by e-mail, list with filters, read, change, erase (GDPR), timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.orm import Session

from nurture import contacts
from nurture.errors import InvalidInput, Problem
from nurture.models import LifecycleStage, Role
from nurture.web.api.bodies import MAX_ID, ContactIn, ContactPatch, json_body_operation, present
from nurture.web.api.responses import errors
from nurture.web.api.schemas import (
    ContactOut,
    ContactPage,
    TimelinePage,
    contact_out,
    event_out,
)
from nurture.web.auth import Principal, api_roles
from nurture.web.contact_changes import after_contact_change, update_with_stage

READERS = api_roles()
WRITERS = api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)
ERASERS = api_roles(Role.ADMIN, Role.MARKETER)
# Where the lifecycle history says a stage change made through the API came from.
STAGE_SOURCE = "api"

ContactId = Annotated[
    int, PathParameter(ge=1, le=MAX_ID, description="The contact's id", title="Contact id")
]
Cursor = Annotated[
    str | None,
    QueryParameter(
        description="The `next_cursor` of the previous page; leave out for the first page",
        max_length=500,
    ),
]
Limit = Annotated[
    int,
    QueryParameter(ge=1, le=contacts.MAX_PAGE_SIZE, description="Items per page (1 to 200)"),
]


@post(
    "/contacts",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Create or update a contact by e-mail",
    description="Creates the contact (201), or updates the one with this e-mail (200).",
    operation_class=json_body_operation(ContactIn, description="The contact's fields"),
    responses={
        200: ResponseSpec(ContactOut, description="An existing contact was updated"),
        **errors(422),
    },
)
def upsert_contact(
    data: JSONBody[ContactIn], db: NamedDependency[Session], principal: NamedDependency[Principal]
) -> Response[ContactOut]:
    contact, created = contacts.upsert_contact(db, present(data), actor=principal.actor)
    after_contact_change(db, [contact.id])
    return Response(contact_out(contact), status_code=201 if created else 200)


@get(
    "/contacts",
    guards=[READERS],
    sync_to_thread=True,
    summary="List contacts, newest first",
    responses=errors(422),
)
def list_contacts(
    db: NamedDependency[Session],
    q: Annotated[
        str | None,
        QueryParameter(description="Part of the e-mail address or name", max_length=200),
    ] = None,
    lifecycle_stage: Annotated[
        LifecycleStage | None, QueryParameter(description="Only contacts at this stage")
    ] = None,
    industry: Annotated[
        str | None, QueryParameter(description="Only contacts whose company is in this industry")
    ] = None,
    company_id: Annotated[
        int | None, QueryParameter(ge=1, le=MAX_ID, description="Only this company's contacts")
    ] = None,
    owner_id: Annotated[
        int | None, QueryParameter(ge=1, le=MAX_ID, description="Only contacts owned by this user")
    ] = None,
    country: Annotated[
        str | None,
        QueryParameter(
            pattern="^[A-Za-z]{2}$", description="Company country, ISO 3166 code like DE"
        ),
    ] = None,
    created_after: Annotated[
        datetime | None,
        QueryParameter(description="Only contacts created after this time (ISO 8601, with zone)"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ContactPage:
    _check_text(q=q, industry=industry)
    filters = contacts.ContactFilter(
        search=q,
        lifecycle_stage=None if lifecycle_stage is None else lifecycle_stage.value,
        industry=industry.strip().lower() if industry else None,
        company_id=company_id,
        owner_id=owner_id,
        country=country,
        created_after=None if created_after is None else _utc(created_after, "created_after"),
    )
    page = contacts.list_contacts(db, filters, cursor=cursor, limit=limit)
    return ContactPage([contact_out(c) for c in page.items], page.next_cursor)


@get(
    "/contacts/{contact_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="Read a contact",
    responses=errors(404),
)
def read_contact(db: NamedDependency[Session], contact_id: ContactId) -> ContactOut:
    return contact_out(contacts.get_contact(db, contact_id))


@patch(
    "/contacts/{contact_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Change some of a contact's fields",
    operation_class=json_body_operation(ContactPatch, description="The fields to change"),
    responses=errors(404, 422),
)
def change_contact(
    data: JSONBody[ContactPatch],
    db: NamedDependency[Session],
    principal: NamedDependency[Principal],
    contact_id: ContactId,
) -> ContactOut:
    fields = present(data)
    reason = fields.pop("lifecycle_reason", "")
    try:
        contact = update_with_stage(
            db, contact_id, fields, principal, reason=str(reason), source=STAGE_SOURCE
        )
    except InvalidInput as exc:
        # change_stage names its own arguments; the client knows the body's fields.
        renamed = {"reason": "lifecycle_reason", "stage": "lifecycle_stage"}
        raise InvalidInput(
            [Problem(renamed.get(p.field, p.field), p.message, p.index) for p in exc.problems]
        ) from exc
    after_contact_change(db, [contact.id])
    return contact_out(contact)


@delete(
    "/contacts/{contact_id:int}",
    guards=[ERASERS],
    sync_to_thread=True,
    summary="Erase a contact's personal data (GDPR)",
    description=(
        "Empties every personal field and event property, keeps anonymous counts, and keeps "
        "the address on the suppression list only as a hash so it is never mailed again. "
        "Afterwards the contact answers 404."
    ),
    responses=errors(404),
)
def erase_contact(
    db: NamedDependency[Session], principal: NamedDependency[Principal], contact_id: ContactId
) -> None:
    contacts.erase_contact(db, contact_id, actor=principal.actor)


@get(
    "/contacts/{contact_id:int}/timeline",
    guards=[READERS],
    sync_to_thread=True,
    summary="A contact's events, most recent first",
    responses=errors(404, 422),
)
def contact_timeline(
    db: NamedDependency[Session], contact_id: ContactId, cursor: Cursor = None, limit: Limit = 50
) -> TimelinePage:
    page = contacts.timeline(db, contact_id, cursor=cursor, limit=limit)
    return TimelinePage([event_out(e) for e in page.items], page.next_cursor)


def _check_text(**values: str | None) -> None:
    # PostgreSQL refuses NUL inside text; say so instead of failing in the query.
    problems = [
        Problem(name, "must not contain NUL (\\u0000) characters")
        for name, value in values.items()
        if value is not None and "\x00" in value
    ]
    if problems:
        raise InvalidInput(problems)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput.single(name, "must include a time zone (e.g. Z or +01:00)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput.single(name, "is out of range") from None


HANDLERS = [
    upsert_contact,
    list_contacts,
    read_contact,
    change_contact,
    erase_contact,
    contact_timeline,
]
