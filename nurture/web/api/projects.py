"""`POST /api/v1/projects` and reading projects (issue 15).

The firm's project tool reports a project (idempotent by its external id); a report
that completes it writes `project.completed` for each client, which the survey
sequence is triggered by.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import PathParameter, QueryParameter, RawBody
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput
from nurture.models import ProjectStatus, Role, utcnow
from nurture.reviews import project_list, projects
from nurture.web.api import project_schemas as io
from nurture.web.api.bodies import MAX_ID, decode_json, json_body_operation
from nurture.web.api.responses import errors
from nurture.web.auth import Principal, api_roles
from workers.actors import hand_over

READERS = api_roles()
WRITERS = api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)
Db = NamedDependency[Session]
Me = NamedDependency[Principal]
ProjectId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The project's id")]


@post(
    "/projects",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Report a project (create or update by external id)",
    description=(
        "Creates the project (201) or updates the one with this `external_id` (200). "
        "Clients are named by e-mail (unknown addresses become contacts) or contact id; "
        "the company by name, the service by slug, the account manager and team by their "
        "users' e-mail. A report with status `completed` stamps the project completed once "
        "and writes `project.completed` for each client contact (clients added later get "
        "theirs too); repeating a report writes nothing. 422 names each bad field."
    ),
    operation_class=json_body_operation(io.ProjectIn, description="The project"),
    responses={
        200: ResponseSpec(io.ProjectSaved, description="An existing project was updated"),
        **errors(422),
    },
)
def report_project(body: RawBody, db: Db, principal: Me) -> Response[io.ProjectSaved]:
    raw = decode_json(body)
    if not isinstance(raw, dict):
        raise InvalidInput.single("body", "must be a JSON object")
    data = projects.check_project(raw)
    for attempt in range(2):
        try:
            outcome = projects.upsert_project(db, data, actor=principal.actor, now=utcnow())
            db.flush()
            break
        except IntegrityError:
            # Two first reports of one external id raced: the loser updates the winner's row.
            db.rollback()
            if attempt:
                raise
    hand_over(db, outcome.event_ids)
    project_id = outcome.project.id
    db.commit()
    saved = io.ProjectSaved(
        io.project_out(project_list.project_detail(db, project_id).project),
        outcome.created,
        outcome.completed_now,
        len(outcome.event_ids),
    )
    return Response(saved, status_code=201 if outcome.created else 200)


@get(
    "/projects",
    guards=[READERS],
    sync_to_thread=True,
    summary="List projects, newest first",
    responses=errors(422),
)
def list_projects(
    db: Db,
    status: Annotated[
        ProjectStatus | None, QueryParameter(description="Only projects in this status")
    ] = None,
    cursor: Annotated[
        str | None,
        QueryParameter(description="The `next_cursor` of the previous page", max_length=200),
    ] = None,
    limit: Annotated[
        int, QueryParameter(ge=1, le=project_list.MAX_PAGE, description="Items per page")
    ] = 50,
) -> io.ProjectPage:
    page = project_list.list_projects(
        db, status=status.value if status else None, cursor=cursor, limit=limit
    )
    return io.ProjectPage([io.project_out(r) for r in page.items], page.next_cursor)


@get(
    "/projects/{project_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="One project with its client contacts, their surveys, and its team",
    responses=errors(404),
)
def read_project(db: Db, project_id: ProjectId) -> io.ProjectDetailOut:
    return io.detail_out(project_list.project_detail(db, project_id))


HANDLERS: list[Any] = [report_project, list_projects, read_project]
