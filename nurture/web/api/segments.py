"""Segments over the API: CRUD, preview of an unsaved rule, members (pages and CSV),
static list changes and CSV import, the field catalogue, and a refresh on demand.

Marketers and admins change segments; sales keys may read them (a CRM
integration pulling a list of who to call is a read), matching the UI where
segments are a marketing tool.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from litestar import Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter, RawBody
from litestar.response import Stream
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput
from nurture.models import Role
from nurture.web.api.bodies import MAX_ID, decode_json, json_body_operation
from nurture.web.api.responses import errors
from nurture.web.api.schemas import contact_out
from nurture.web.api.segment_schemas import (
    ChangeOut,
    ContactIdsIn,
    CsvImportOut,
    DuplicateIn,
    MemberPageOut,
    PreviewOut,
    RuleDocument,
    SegmentIn,
    SegmentList,
    SegmentOut,
    SegmentPatch,
    change_out,
    import_out,
    segment_out,
)
from nurture.web.auth import Principal, api_roles
from nurture.web.segment_csv import members_download
from nurture.web.state import settings_of
from segments import changes, lists, membership, reading, store
from segments.catalogue import builder_catalogue
from workers.actors import hand_over

log = logging.getLogger(__name__)
READERS = api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)
WRITERS = api_roles(Role.ADMIN, Role.MARKETER)

SegmentId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The segment's id")]
Cursor = Annotated[
    str | None,
    QueryParameter(description="The `next_cursor` of the previous page", max_length=500),
]
Limit = Annotated[int, QueryParameter(ge=1, le=reading.MAX_PAGE, description="Items per page")]


@get(
    "/segments/fields",
    guards=[READERS],
    sync_to_thread=True,
    summary="The rule catalogue",
    responses=errors(),
)
def segment_fields(db: NamedDependency[Session]) -> dict[str, Any]:
    """Fields with their type, operators and choices; suggested values; event types; segments."""
    return builder_catalogue(db)


@get(
    "/segments",
    guards=[READERS],
    sync_to_thread=True,
    summary="List segments by name",
    responses=errors(),
)
def list_segments(db: NamedDependency[Session]) -> SegmentList:
    counts = reading.sizes(db)
    return SegmentList([segment_out(s, counts.get(s.id, 0)) for s in store.list_segments(db)])


@post(
    "/segments",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Create a dynamic segment or a static list",
    operation_class=json_body_operation(SegmentIn, description="The segment"),
    responses=errors(422),
)
def create_segment(
    data: JSONBody[SegmentIn], db: NamedDependency[Session], principal: NamedDependency[Principal]
) -> SegmentOut:
    segment = changes.create(
        db,
        actor=principal.actor,
        user_id=_user_id(principal),
        name=data.name,
        kind=data.kind,
        rule=data.rule,
        description=data.description,
    )
    return segment_out(segment, 0)


@get("/segments/{segment_id:int}", guards=[READERS], sync_to_thread=True, responses=errors(404))
def read_segment(db: NamedDependency[Session], segment_id: SegmentId) -> SegmentOut:
    return segment_out(store.get_segment(db, segment_id), reading.size(db, segment_id))


@patch(
    "/segments/{segment_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Change a segment's name, description or rule",
    operation_class=json_body_operation(SegmentPatch, description="The parts to change"),
    responses=errors(404, 422),
)
def change_segment(
    data: JSONBody[SegmentPatch],
    db: NamedDependency[Session],
    principal: NamedDependency[Principal],
    segment_id: SegmentId,
) -> SegmentOut:
    segment = changes.update(
        db,
        segment_id,
        actor=principal.actor,
        user_id=_user_id(principal),
        name=data.name,
        description=data.description,
        rule=data.rule,
    )
    return segment_out(segment, reading.size(db, segment_id))


@delete(
    "/segments/{segment_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Delete a segment",
    description="Refused with 409 while another segment's rule uses it.",
    responses=errors(404),
)
def delete_segment(
    db: NamedDependency[Session], principal: NamedDependency[Principal], segment_id: SegmentId
) -> None:
    changes.delete(db, segment_id, actor=principal.actor)


@post(
    "/segments/{segment_id:int}/duplicate",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Copy a segment's definition under a new name",
    operation_class=json_body_operation(DuplicateIn, description="The copy's name"),
    responses=errors(404, 422),
)
def duplicate_segment(
    data: JSONBody[DuplicateIn],
    db: NamedDependency[Session],
    principal: NamedDependency[Principal],
    segment_id: SegmentId,
) -> SegmentOut:
    copy = changes.duplicate(
        db, segment_id, actor=principal.actor, user_id=_user_id(principal), name=data.name
    )
    return segment_out(copy, 0)


@post(
    "/segments/preview",
    guards=[READERS],
    sync_to_thread=True,
    status_code=200,
    summary="Count and sample the contacts an unsaved rule matches",
    description="Nothing is saved. An invalid rule answers 422 naming the path of each problem.",
    operation_class=json_body_operation(RuleDocument, description="A rule document"),
    responses=errors(422),
)
def preview_rule(body: RawBody, db: NamedDependency[Session]) -> PreviewOut:
    # Hand-decoded: the rule document's schema lives in segments.schema, which names
    # every problem by its path in the rule; RuleDocument only documents it.
    result = store.preview(db, decode_json(body))
    return PreviewOut(result.count, [contact_out(c) for c in result.contacts])


@get(
    "/segments/{segment_id:int}/contacts",
    guards=[READERS],
    sync_to_thread=True,
    summary="A segment's members by contact id",
    responses=errors(404, 422),
)
def segment_contacts(
    db: NamedDependency[Session], segment_id: SegmentId, cursor: Cursor = None, limit: Limit = 50
) -> MemberPageOut:
    page = reading.member_page(db, segment_id, cursor=cursor, limit=limit)
    return MemberPageOut([contact_out(c) for c in page.items], page.next_cursor)


@get(
    "/segments/{segment_id:int}/contacts.csv",
    guards=[READERS],
    sync_to_thread=True,
    summary="Every member as CSV (streamed)",
    responses=errors(404),
)
def export_contacts(
    request: Request[Any, Any, Any], db: NamedDependency[Session], segment_id: SegmentId
) -> Stream:
    name = store.get_segment(db, segment_id).name
    return members_download(settings_of(request.app).database_url, segment_id, name)


@post(
    "/segments/{segment_id:int}/members",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Add contacts to a static list",
    operation_class=json_body_operation(ContactIdsIn, description="The contacts to add"),
    responses=errors(404, 422),
)
def add_members(
    data: JSONBody[ContactIdsIn], db: NamedDependency[Session], segment_id: SegmentId
) -> ChangeOut:
    change = lists.add_members(db, segment_id, data.contact_ids)
    _commit_and_enqueue(db, change.event_ids)
    return change_out(change)


@post(
    "/segments/{segment_id:int}/members/remove",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Remove contacts from a static list",
    operation_class=json_body_operation(ContactIdsIn, description="The contacts to remove"),
    responses=errors(404, 422),
)
def remove_members(
    data: JSONBody[ContactIdsIn], db: NamedDependency[Session], segment_id: SegmentId
) -> ChangeOut:
    change = lists.remove_members(db, segment_id, data.contact_ids)
    _commit_and_enqueue(db, change.event_ids)
    return change_out(change)


@post(
    "/segments/{segment_id:int}/import",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Add the contacts named by e-mail in a CSV to a static list",
    description=(
        "The body is CSV text: a column headed `email`, or e-mails in the first column. "
        "Unknown or malformed addresses are reported by line; the others are added."
    ),
    responses=errors(404, 422),
)
def import_members(
    body: RawBody, db: NamedDependency[Session], segment_id: SegmentId
) -> CsvImportOut:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput.single("body", "must be UTF-8 CSV text") from None
    result = lists.import_csv(db, segment_id, text)
    _commit_and_enqueue(db, result.event_ids)
    return import_out(result)


@post(
    "/segments/{segment_id:int}/refresh",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Bring a segment's members up to date now",
    responses=errors(404),
)
def refresh_segment(db: NamedDependency[Session], segment_id: SegmentId) -> ChangeOut:
    store.get_segment(db, segment_id)
    change = membership.refresh_segment(db, segment_id)
    _commit_and_enqueue(db, change.event_ids)
    return change_out(change)


def _user_id(principal: Principal) -> int | None:
    return principal.id if principal.kind == "user" else None


def _commit_and_enqueue(db: Session, event_ids: list[int]) -> None:
    hand_over(db, event_ids)
    db.commit()


HANDLERS = [
    segment_fields,
    list_segments,
    create_segment,
    preview_rule,
    read_segment,
    change_segment,
    delete_segment,
    duplicate_segment,
    segment_contacts,
    export_contacts,
    add_members,
    remove_members,
    import_members,
    refresh_segment,
]
