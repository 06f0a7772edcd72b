"""What the projects API answers and accepts (documented in /schema).

The body is checked by `nurture.reviews.projects.check_project`, which names each bad
field; `ProjectIn` documents it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from nurture.reviews.project_list import ClientRow, ProjectDetail, ProjectRow


class ProjectClientIn(msgspec.Struct, forbid_unknown_fields=True):
    """A client contact: by e-mail (created when unknown) or by contact id."""

    email: Annotated[str, Meta(max_length=320, examples=["emma.lawson@example.com"])] | None = None
    contact_id: Annotated[int, Meta(ge=1)] | None = None
    first_name: Annotated[str, Meta(max_length=100)] | None = None
    last_name: Annotated[str, Meta(max_length=100)] | None = None


class ProjectIn(msgspec.Struct, forbid_unknown_fields=True):
    """A project as the firm's project tool reports it; the same `external_id` updates it."""

    external_id: Annotated[str, Meta(min_length=1, max_length=200, examples=["PRJ-2041"])]
    name: Annotated[str, Meta(min_length=1, max_length=300)]
    status: Annotated[
        str, Meta(pattern="^(planned|active|completed|cancelled)$", examples=["completed"])
    ] = "active"
    clients: Annotated[list[ProjectClientIn | str], Meta(max_length=50)] = []
    company: Annotated[str, Meta(max_length=200)] | None = None
    service: Annotated[str, Meta(max_length=80, examples=["data-platform"])] | None = None
    account_manager: Annotated[str, Meta(max_length=320)] | None = None
    team: Annotated[list[Annotated[str, Meta(max_length=320)]], Meta(max_length=50)] = []
    started_on: date | None = None
    ends_on: date | None = None


class ProjectOut(msgspec.Struct):
    id: int
    external_id: str
    name: str
    status: str
    company: str | None
    service: str | None
    account_manager: str | None
    started_on: date | None
    ends_on: date | None
    completed_at: datetime | None
    created_at: datetime
    clients: int
    surveys_sent: int
    surveys_answered: int


class ProjectClientOut(msgspec.Struct):
    contact_id: int
    email: str | None
    name: str
    survey_id: int | None
    survey_sent_at: datetime | None
    answered_at: datetime | None
    score: int | None
    category: str | None


class ProjectDetailOut(msgspec.Struct):
    project: ProjectOut
    clients: list[ProjectClientOut]
    team: list[str]


class ProjectSaved(msgspec.Struct):
    project: ProjectOut
    created: bool
    # True when this report completed the project (`project.completed` went to its clients).
    completed_now: bool
    events: int


class ProjectPage(msgspec.Struct):
    items: list[ProjectOut]
    next_cursor: str | None


def project_out(row: ProjectRow) -> ProjectOut:
    return ProjectOut(
        id=row.id,
        external_id=row.external_id,
        name=row.name,
        status=row.status,
        company=row.company,
        service=row.service,
        account_manager=row.account_manager,
        started_on=row.started_on,
        ends_on=row.ends_on,
        completed_at=row.completed_at,
        created_at=row.created_at,
        clients=row.clients,
        surveys_sent=row.surveys_sent,
        surveys_answered=row.surveys_answered,
    )


def client_out(row: ClientRow) -> ProjectClientOut:
    return ProjectClientOut(
        row.contact_id,
        row.email,
        row.name,
        row.survey_id,
        row.sent_at,
        row.answered_at,
        row.score,
        row.category,
    )


def detail_out(detail: ProjectDetail) -> ProjectDetailOut:
    return ProjectDetailOut(
        project_out(detail.project), [client_out(c) for c in detail.clients], detail.team
    )
