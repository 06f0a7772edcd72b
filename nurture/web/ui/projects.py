"""Reviews > Projects: the projects the project tool reported (issue 15).

`GET /reviews/projects` lists them (newest first, by cursor) with their clients and how
many surveys went and were answered; `GET /reviews/projects/{id}` shows one with each
client's survey. When no active sequence is triggered by `project.completed`, a
banner offers to install the default survey sequence (`POST
/reviews/projects/survey-sequence`, then back here: post, redirect, get).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from nurture.errors import InvalidInput
from nurture.reviews import default_sequence, project_list
from nurture.web.auth import ui_roles
from nurture.web.ui.params import Db, Me
from nurture.web.ui.render import EVERYONE, MARKETING, page

PAGE_SIZE = 50
Text = Annotated[str | None, QueryParameter(max_length=500)]


@get("/reviews/projects", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def projects_page(
    db: Db, principal: Me, status: Text = None, cursor: Text = None, installed: Text = None
) -> Template:
    wanted = status if status in project_list.STATUSES else None
    try:
        listing = project_list.list_projects(db, status=wanted, cursor=cursor, limit=PAGE_SIZE)
        bad_cursor = False
    except InvalidInput:
        listing = project_list.list_projects(db, status=wanted, limit=PAGE_SIZE)
        bad_cursor = True
    return page(
        "reviews/projects.html",
        principal,
        "reviews",
        tab="projects",
        listing=listing,
        status=wanted,
        statuses=project_list.STATUSES,
        paged=cursor is not None and not bad_cursor,
        survey_sequence=default_sequence.active_survey_sequence(db),
        installed=installed == "1",
        can_install=principal.role in MARKETING,
    )


@get("/reviews/projects/{project_id:int}", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def project_page(db: Db, principal: Me, project_id: FromPath[int]) -> Template:
    return page(
        "reviews/project.html",
        principal,
        "reviews",
        tab="projects",
        detail=project_list.project_detail(db, project_id),
    )


@post("/reviews/projects/survey-sequence", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def install_survey_sequence(db: Db, principal: Me) -> Redirect:
    """Install the default survey sequence (nothing changes when one is active)."""
    default_sequence.install_survey_sequence(db, actor=principal.actor)
    return Redirect("/reviews/projects?installed=1", status_code=303)


handlers: list[Any] = [projects_page, project_page, install_survey_sequence]
