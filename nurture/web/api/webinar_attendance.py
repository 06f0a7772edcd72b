"""Who came to a webinar, reported by the webinar tool or a person after the event.

`POST /api/v1/webinars/{id}/attendance` takes a list of `{email, attended, minutes?}`,
or an object `{"attendees": [...], "mark_rest_no_show": true}`. Valid items are
recorded even when others are refused; the answer counts both outcomes and lists
the problems by item index. campaigns.content.attendance holds the rules.
"""

from __future__ import annotations

import logging
from typing import Annotated

import msgspec
from litestar import post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import PathParameter, RawBody
from sqlalchemy.orm import Session

from campaigns.content.attendance import marks_from_items, record_attendance
from nurture.errors import InvalidInput
from nurture.models import Role, utcnow
from nurture.web.api.bodies import MAX_ID, decode_json, json_body_operation
from nurture.web.api.responses import errors
from nurture.web.api.schemas import ErrorOut, ProblemOut
from nurture.web.auth import api_roles
from workers.actors import hand_over

log = logging.getLogger(__name__)
WRITERS = api_roles(Role.ADMIN, Role.MARKETER)
Db = NamedDependency[Session]
_RESPONSES = {
    **errors(422),
    404: ResponseSpec(ErrorOut, description="No such webinar", generate_examples=False),
    409: ResponseSpec(
        ErrorOut, description="The webinar has not started yet", generate_examples=False
    ),
}
WebinarId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The webinar's id")]


class AttendeeIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(examples=["ann@example.com"])]
    attended: bool
    minutes: int | None = None


class AttendanceIn(msgspec.Struct, forbid_unknown_fields=True):
    """Or send the list of attendees alone."""

    attendees: list[AttendeeIn]
    mark_rest_no_show: bool = False


class AttendanceOut(msgspec.Struct):
    """How many contacts were marked each way, and the items that were not recorded."""

    attended: int
    no_show: int
    problems: list[ProblemOut]


@post(
    "/webinars/{webinar_id:int}/attendance",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Report who attended a webinar",
    operation_class=json_body_operation(AttendanceIn, description="The attendees"),
    responses=_RESPONSES,
)
def report_attendance(body: RawBody, db: Db, webinar_id: WebinarId) -> AttendanceOut:
    decoded = decode_json(body)
    rest = False
    if isinstance(decoded, dict):
        unknown = sorted(set(decoded) - {"attendees", "mark_rest_no_show"})
        if unknown:
            raise InvalidInput.single(unknown[0], "is not a known field")
        rest = decoded.get("mark_rest_no_show", False)
        if not isinstance(rest, bool):
            raise InvalidInput.single("mark_rest_no_show", "must be true or false")
        decoded = decoded.get("attendees")
    marks, problems = marks_from_items(decoded)
    report = record_attendance(
        db, webinar_id, marks, now=utcnow(), mark_rest_no_show=rest, problems=problems
    )
    hand_over(db, report.event_ids)
    db.commit()
    return AttendanceOut(
        report.attended,
        report.no_show,
        [ProblemOut(p.field, p.message, p.index) for p in report.problems],
    )


HANDLERS = [report_attendance]
