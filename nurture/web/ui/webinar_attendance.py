"""A webinar's registrations and the attendance upload, under its library page.

`GET /content/webinars/{id}/attendance` lists who registered and whether
they came; `POST` takes a CSV (columns `email` and `attended` yes/no or `duration`
in minutes), records what is valid and lists the refused lines.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from campaigns.content import attendance, library
from campaigns.content.attendance import Report
from campaigns.content.kinds import WEBINARS
from nurture.errors import Conflict, InvalidInput, Problem
from nurture.models import utcnow
from nurture.web.auth import ui_roles
from nurture.web.ui import flash
from nurture.web.ui.params import Db, Me
from nurture.web.ui.render import EVERYONE, MARKETING, page

PATH = "/content/webinars/{webinar_id:int}/attendance"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
FLASH = "attendance"
REPORT_LINES = 50
MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def _page(
    db: Db,
    principal: Me,
    webinar_id: int,
    *,
    report: Report | None = None,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> Template:
    webinar = library.get(db, WEBINARS, webinar_id)
    return page(
        "library/webinar_attendance.html",
        principal,
        "content",
        status_code=status_code,
        webinar=webinar,
        roster=attendance.roster(db, webinar_id),
        report=report,
        problems=problems or [],
        can_edit=principal.role in MARKETING,
    )


@get(PATH, guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def attendance_page(
    request: Request[Any, Any, Any], db: Db, principal: Me, webinar_id: FromPath[int]
) -> Template:
    done = flash.take(request, FLASH)
    report = None
    if isinstance(done, dict) and done.get("webinar_id") == webinar_id:
        report = Report(done["attended"], done["no_show"], [Problem(*p) for p in done["problems"]])
    return _page(db, principal, webinar_id, report=report)


@post(
    PATH,
    guards=[ui_roles(*MARKETING)],
    sync_to_thread=True,
    status_code=200,
    request_max_body_size=MAX_UPLOAD_BYTES,
)
def attendance_upload(
    request: Request[Any, Any, Any],
    db: Db,
    principal: Me,
    webinar_id: FromPath[int],
    data: MultipartForm,
) -> Template | Redirect:
    """Record the valid lines of the CSV; the page lists the refused ones by line."""
    upload = data.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        problem = Problem("file", "choose a CSV file")
        return _page(db, principal, webinar_id, problems=[problem], status_code=422)
    try:
        marks, problems = attendance.marks_from_csv(upload.file.read())
        report = attendance.record_attendance(
            db,
            webinar_id,
            marks,
            now=utcnow(),
            mark_rest_no_show=data.get("mark_rest_no_show") == "on",
            problems=problems,
        )
    except InvalidInput as exc:
        db.rollback()
        return _page(db, principal, webinar_id, problems=exc.problems, status_code=422)
    except Conflict as exc:
        db.rollback()
        problem = Problem("file", str(exc))
        return _page(db, principal, webinar_id, problems=[problem], status_code=409)
    db.commit()
    # Shown once on the page after the redirect; the first refused lines only (the
    # session cookie holds a few KB).
    flash.put(
        request,
        FLASH,
        {
            "webinar_id": webinar_id,
            "attended": report.attended,
            "no_show": report.no_show,
            "problems": [(p.field, p.message, p.index) for p in report.problems[:REPORT_LINES]],
        },
    )
    return Redirect(PATH.replace("{webinar_id:int}", str(webinar_id)), status_code=303)


handlers = [attendance_page, attendance_upload]
