"""Sequences over the API: create and edit (drafts in place, running ones by new version),
activate, pause, resume and stop; enrol by id, e-mail or CSV; enrolment pages and
per-enrolment control; mapping people from an older version onto the current one.

Marketers and admins change sequences; sales keys may read them. The handlers
only translate: campaigns.sequences validates (422 naming each field or step
path), refuses what the state forbids (409) and writes the audit log. A draft
is saved with its problems (listed in the answer, `valid` false); activation and
publishing a running sequence refuse them with 422.
"""

from __future__ import annotations

from typing import Annotated

from litestar import get, patch, post, put
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter, RawBody
from sqlalchemy.orm import Session

from campaigns.sequences import changes, listing, versions
from nurture.errors import InvalidInput
from nurture.models import EnrolmentState, Role, Sequence, utcnow
from nurture.web.api import sequence_schemas as io
from nurture.web.api.bodies import MAX_ID, json_body_operation
from nurture.web.api.responses import errors_meaning
from nurture.web.auth import Principal, api_roles

READERS = api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)
WRITERS = api_roles(Role.ADMIN, Role.MARKETER)
_OWN_MEANING = {
    404: "No such sequence, version or enrolment",
    409: "The sequence's or enrolment's state forbids this (a draft cannot enrol, "
    "a stopped sequence cannot change, an ended enrolment cannot be paused...)",
}
Db = NamedDependency[Session]
Me = NamedDependency[Principal]
SequenceId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The sequence's id")]
EnrolmentId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The enrolment's id")]
Cursor = Annotated[
    str | None,
    QueryParameter(description="The `next_cursor` of the previous page", max_length=20),
]
Limit = Annotated[int, QueryParameter(ge=1, le=listing.MAX_PAGE, description="Items per page")]
# `state` is a name Litestar reserves for app state, so the parameter is aliased.
StateFilter = Annotated[
    EnrolmentState | None,
    QueryParameter(name="state", description="Only enrolments in this state"),
]


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    return errors_meaning(_OWN_MEANING, *statuses)


def _full(db: Session, sequence: Sequence) -> io.SequenceOut:
    db.flush()
    return io.sequence_out(
        sequence,
        versions.current_version(db, sequence),
        listing.versions_of(db, sequence.id),
        listing.state_counts(db, [sequence.id])[sequence.id],
        versions.problems_of(db, sequence),
    )


@get(
    "/sequences",
    guards=[READERS],
    sync_to_thread=True,
    summary="List sequences with their status and enrolments per state",
    responses=_errors(),
)
def list_sequences(db: Db) -> io.SequenceList:
    return io.SequenceList([io.summary_out(s, c) for s, c in listing.all_sequences(db)])


@post(
    "/sequences",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Create a draft sequence",
    description=(
        "The draft is saved even when its definition has problems (an e-mail step without "
        "a template, an empty branch arm...): the answer lists them in `problems` with "
        "`valid` false, and activation refuses the draft until they are fixed. Only a "
        "definition no draft may hold is refused with 422: not an object, no `steps` list, "
        "too large, or a step or container of the wrong kind."
    ),
    operation_class=json_body_operation(io.SequenceIn, description="The name and definition"),
    responses=_errors(422),
)
def create_sequence(data: JSONBody[io.SequenceIn], db: Db, principal: Me) -> io.SequenceOut:
    sequence = changes.create(db, actor=principal.actor, name=data.name, body=data.definition)
    return _full(db, sequence)


@get(
    "/sequences/{sequence_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="Read a sequence: its current definition and its versions",
    responses=_errors(404),
)
def read_sequence(db: Db, sequence_id: SequenceId) -> io.SequenceOut:
    return _full(db, versions.get_sequence(db, sequence_id))


@patch(
    "/sequences/{sequence_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Rename a sequence",
    operation_class=json_body_operation(io.RenameIn, description="The new name"),
    responses=_errors(404, 422),
)
def rename_sequence(
    data: JSONBody[io.RenameIn], db: Db, principal: Me, sequence_id: SequenceId
) -> io.SequenceOut:
    changes.rename(db, sequence_id, actor=principal.actor, name=data.name)
    return _full(db, versions.get_sequence(db, sequence_id))


@put(
    "/sequences/{sequence_id:int}/definition",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Change the definition",
    description=(
        "A draft's definition is replaced, problems and all (listed in `problems`, `valid` "
        "false; see POST /sequences). An active or paused sequence publishes a new "
        "version, only a valid one (422 naming each problem otherwise): new enrolments "
        "join it, people already inside keep their version until mapped (POST .../mappings)."
    ),
    operation_class=json_body_operation(io.DefinitionIn, description="The new definition"),
    responses=_errors(404, 409, 422),
)
def change_definition(
    data: JSONBody[io.DefinitionIn], db: Db, principal: Me, sequence_id: SequenceId
) -> io.SequenceOut:
    changes.update_definition(db, sequence_id, actor=principal.actor, body=data.definition)
    return _full(db, versions.get_sequence(db, sequence_id))


@post(
    "/sequences/{sequence_id:int}/activate",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Activate a draft (validated first: 422 naming each problem)",
    responses=_errors(404, 409, 422),
)
def activate_sequence(db: Db, principal: Me, sequence_id: SequenceId) -> io.SequenceOut:
    return _full(db, changes.activate(db, sequence_id, actor=principal.actor))


@post(
    "/sequences/{sequence_id:int}/pause",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Pause: every enrolment holds where it is",
    responses=_errors(404, 409),
)
def pause_sequence(db: Db, principal: Me, sequence_id: SequenceId) -> io.SequenceOut:
    return _full(db, changes.pause(db, sequence_id, actor=principal.actor))


@post(
    "/sequences/{sequence_id:int}/resume",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Resume a paused sequence",
    responses=_errors(404, 409),
)
def resume_sequence(db: Db, principal: Me, sequence_id: SequenceId) -> io.SequenceOut:
    return _full(db, changes.resume(db, sequence_id, actor=principal.actor))


@post(
    "/sequences/{sequence_id:int}/stop",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Stop for good: everyone still inside exits",
    responses=_errors(404),
)
def stop_sequence(db: Db, principal: Me, sequence_id: SequenceId) -> io.StoppedOut:
    stopped = changes.stop(db, sequence_id, actor=principal.actor, now=utcnow())
    return io.StoppedOut(_full(db, versions.get_sequence(db, sequence_id)), stopped)


@post(
    "/sequences/{sequence_id:int}/enrolments",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Enrol contacts by id or e-mail",
    description="Each person is enrolled or skipped with a reason; one never stops another.",
    operation_class=json_body_operation(io.EnrolIn, description="Who to enrol"),
    responses=_errors(404, 409, 422),
)
def enrol_contacts(
    data: JSONBody[io.EnrolIn], db: Db, principal: Me, sequence_id: SequenceId
) -> io.EnrolOut:
    result = changes.enrol(
        db,
        sequence_id,
        actor=principal.actor,
        contact_ids=data.contact_ids,
        emails=data.emails,
        now=utcnow(),
    )
    return io.enrol_out(result)


@post(
    "/sequences/{sequence_id:int}/enrolments/import",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Enrol the contacts named in a CSV file",
    description=(
        "The body is UTF-8 CSV text whose first line is a header with a column `email`. "
        "Malformed, unknown, repeated or excluded addresses are skipped and reported by "
        "line; every other line is enrolled."
    ),
    responses=_errors(404, 409, 422),
)
def import_enrolments(body: RawBody, db: Db, principal: Me, sequence_id: SequenceId) -> io.EnrolOut:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput.single("file", "must be UTF-8 CSV text") from None
    result = changes.enrol_from_csv(db, sequence_id, actor=principal.actor, text=text, now=utcnow())
    return io.enrol_out(result)


@get(
    "/sequences/{sequence_id:int}/enrolments",
    guards=[READERS],
    sync_to_thread=True,
    summary="A sequence's enrolments by id, optionally in one state",
    responses=_errors(404, 422),
)
def list_enrolments(
    db: Db,
    sequence_id: SequenceId,
    in_state: StateFilter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> io.EnrolmentPage:
    items, next_cursor = listing.enrolment_page(
        db,
        sequence_id,
        state=None if in_state is None else in_state.value,
        cursor=cursor,
        limit=limit,
    )
    return io.EnrolmentPage([io.enrolment_out(e) for e in items], next_cursor)


@post(
    "/sequences/{sequence_id:int}/enrolments/{enrolment_id:int}/pause",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Hold one person where they are",
    responses=_errors(404, 409),
)
def pause_enrolment(
    db: Db, principal: Me, sequence_id: SequenceId, enrolment_id: EnrolmentId
) -> io.EnrolmentOut:
    enrolment = changes.pause_enrolment(db, sequence_id, enrolment_id, actor=principal.actor)
    return io.enrolment_out(enrolment)


@post(
    "/sequences/{sequence_id:int}/enrolments/{enrolment_id:int}/resume",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Let one paused person go on (a step that fell due runs at once)",
    responses=_errors(404, 409),
)
def resume_enrolment(
    db: Db, principal: Me, sequence_id: SequenceId, enrolment_id: EnrolmentId
) -> io.EnrolmentOut:
    enrolment = changes.resume_enrolment(
        db, sequence_id, enrolment_id, actor=principal.actor, now=utcnow()
    )
    return io.enrolment_out(enrolment)


@post(
    "/sequences/{sequence_id:int}/enrolments/{enrolment_id:int}/stop",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Take one person out of the sequence",
    responses=_errors(404, 409),
)
def stop_enrolment(
    db: Db, principal: Me, sequence_id: SequenceId, enrolment_id: EnrolmentId
) -> io.EnrolmentOut:
    enrolment = changes.stop_enrolment(
        db, sequence_id, enrolment_id, actor=principal.actor, now=utcnow()
    )
    return io.enrolment_out(enrolment)


@post(
    "/sequences/{sequence_id:int}/mappings",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Move people from an older version onto the current one, step by step",
    description=(
        "People at each mapped step of `from_version_id` continue at the mapped step of the "
        "current version; people at unmapped steps stay on their version. Someone who already "
        "ran a step reachable from their new step is kept on their version (counted in "
        "`kept`), so no step is taken as done that was done in another version."
    ),
    operation_class=json_body_operation(io.MappingIn, description="The version and step map"),
    responses=_errors(404, 409, 422),
)
def map_versions(
    data: JSONBody[io.MappingIn], db: Db, principal: Me, sequence_id: SequenceId
) -> io.MappingOut:
    result = changes.map_versions(
        db,
        sequence_id,
        actor=principal.actor,
        from_version_id=data.from_version_id,
        step_map=data.step_map,
        now=utcnow(),
    )
    return io.mapping_out(result)


HANDLERS = [
    list_sequences,
    create_sequence,
    read_sequence,
    rename_sequence,
    change_definition,
    activate_sequence,
    pause_sequence,
    resume_sequence,
    stop_sequence,
    enrol_contacts,
    import_enrolments,
    list_enrolments,
    pause_enrolment,
    resume_enrolment,
    stop_enrolment,
    map_versions,
]
