"""Segment pages: the list, the visual rule builder (create and edit), a segment's page
with its size over time and members, static list changes, duplicate and delete."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, RawBody
from litestar.response import Redirect, Stream, Template

from nurture.errors import Conflict, InvalidInput
from nurture.models import SegmentKind
from nurture.web.api.bodies import decode_json
from nurture.web.auth import Principal, ui_roles
from nurture.web.segment_csv import members_download
from nurture.web.state import settings_of
from nurture.web.ui import flash
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import MARKETING, page
from nurture.web.ui.segment_views import (
    SegmentForm,
    chart_data,
    form_of,
    posted,
    sparkline,
    with_problems,
)
from segments import changes, lists, membership, reading, store
from segments.catalogue import builder_catalogue
from segments.lists import CsvImport
from workers.actors import hand_over

GUARD = [ui_roles(*MARKETING)]
MEMBERS_PAGE = 50
SPARK_POINTS = 30
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
FLASH = "segment"
# Refused lines of an import the page lists after the redirect (the counts are all).
REPORT_LINES = 20
MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


@get("/segments", guards=GUARD, sync_to_thread=True)
def segment_list(db: Db, principal: Me, deleted: FromQuery[str] = "") -> Template:
    sizes = reading.sizes(db)
    rows = []
    for segment in store.list_segments(db):
        history = store.size_history(db, segment.id)[-SPARK_POINTS:]
        rows.append(
            {
                "segment": segment,
                "size": sizes.get(segment.id, 0),
                "spark": sparkline([size for _, size in history]),
            }
        )
    return page("segments/list.html", principal, "segments", rows=rows, deleted=deleted)


def _builder(
    db: Db, principal: Principal, form: SegmentForm, *, segment_id: int | None, status: int = 200
) -> Template:
    return page(
        "segments/edit.html",
        principal,
        "segments",
        status_code=status,
        form=form,
        segment_id=segment_id,
        catalogue=builder_catalogue(db, exclude_segment=segment_id),
    )


@get("/segments/new", guards=GUARD, sync_to_thread=True)
def new_segment(db: Db, principal: Me, kind: FromQuery[str] = "dynamic") -> Template:
    kind = kind if kind in (k.value for k in SegmentKind) else SegmentKind.DYNAMIC.value
    return _builder(db, principal, SegmentForm(kind=kind), segment_id=None)


@post("/segments/new", guards=GUARD, sync_to_thread=True)
def create_segment(db: Db, principal: Me, data: FormData) -> Template | Redirect:
    kind = data.get("kind", SegmentKind.DYNAMIC.value)
    form, rule, problems = posted(data, kind)
    if not problems:
        try:
            segment = changes.create(
                db,
                actor=principal.actor,
                user_id=principal.id,
                name=form.name,
                kind=kind,
                rule=rule,
                description=form.description or None,
            )
            _refresh(db, segment.id)
            return Redirect(f"/segments/{segment.id}?saved=1", status_code=303)
        except InvalidInput as exc:
            problems = exc.problems
    db.rollback()
    return _builder(db, principal, with_problems(form, problems), segment_id=None, status=422)


@get("/segments/{segment_id:int}/edit", guards=GUARD, sync_to_thread=True)
def edit_segment_form(db: Db, principal: Me, segment_id: FromPath[int]) -> Template:
    form = form_of(store.get_segment(db, segment_id))
    return _builder(db, principal, form, segment_id=segment_id)


@post("/segments/{segment_id:int}/edit", guards=GUARD, sync_to_thread=True)
def edit_segment(
    db: Db, principal: Me, segment_id: FromPath[int], data: FormData
) -> Template | Redirect:
    kind = store.get_segment(db, segment_id).kind
    form, rule, problems = posted(data, kind)
    if not problems:
        try:
            changes.update(
                db,
                segment_id,
                actor=principal.actor,
                user_id=principal.id,
                name=form.name,
                description=form.description,
                rule=rule,
            )
            _refresh(db, segment_id)
            return Redirect(f"/segments/{segment_id}?saved=1", status_code=303)
        except InvalidInput as exc:
            problems = exc.problems
    db.rollback()
    return _builder(db, principal, with_problems(form, problems), segment_id=segment_id, status=422)


def _detail(
    db: Db,
    principal: Principal,
    segment_id: int,
    *,
    cursor: str | None = None,
    status: int = 200,
    **extra: Any,
) -> Template:
    segment = store.get_segment(db, segment_id)
    members = reading.member_page(db, segment_id, cursor=cursor, limit=MEMBERS_PAGE)
    context: dict[str, Any] = {
        "segment": segment,
        "size": reading.size(db, segment_id),
        "members": members.items,
        "next_cursor": members.next_cursor,
        "paged": cursor is not None,
        "chart": chart_data(store.size_history(db, segment_id)),
        "saved": False,
        "refreshed": False,
        "error": None,
        "notice": None,
        "report": None,
        **extra,
    }
    return page("segments/detail.html", principal, "segments", status_code=status, **context)


@get("/segments/{segment_id:int}", guards=GUARD, sync_to_thread=True)
def segment_page(
    request: Request[Any, Any, Any],
    db: Db,
    principal: Me,
    segment_id: FromPath[int],
    saved: FromQuery[bool] = False,
    refreshed: FromQuery[bool] = False,
    cursor: FromQuery[str | None] = None,
) -> Template:
    said = flash.take(request, FLASH) or {}
    return _detail(
        db,
        principal,
        segment_id,
        cursor=cursor,
        saved=saved,
        refreshed=refreshed,
        notice=said.get("notice"),
        report=said.get("report"),
    )


@get("/segments/{segment_id:int}/members.csv", guards=GUARD, sync_to_thread=True)
def export_members(request: Request[Any, Any, Any], db: Db, segment_id: FromPath[int]) -> Stream:
    """Every member as a CSV file (the API's export, for a signed-in marketer)."""
    name = store.get_segment(db, segment_id).name
    return members_download(settings_of(request.app).database_url, segment_id, name)


@post("/segments/{segment_id:int}/duplicate", guards=GUARD, sync_to_thread=True)
def duplicate_segment(
    db: Db, principal: Me, segment_id: FromPath[int], data: FormData
) -> Template | Redirect:
    name = data.get("name", "").strip() or f"Copy of {store.get_segment(db, segment_id).name}"
    try:
        copy = changes.duplicate(
            db, segment_id, actor=principal.actor, user_id=principal.id, name=name
        )
    except InvalidInput as exc:
        db.rollback()
        message = "; ".join(p.message for p in exc.problems)
        return _detail(db, principal, segment_id, status=422, error=f"Not copied: {message}.")
    _refresh(db, copy.id)
    return Redirect(f"/segments/{copy.id}/edit", status_code=303)


@post("/segments/{segment_id:int}/delete", guards=GUARD, sync_to_thread=True)
def delete_segment(db: Db, principal: Me, segment_id: FromPath[int]) -> Template | Redirect:
    name = store.get_segment(db, segment_id).name
    try:
        changes.delete(db, segment_id, actor=principal.actor)
    except Conflict as exc:
        db.rollback()
        message = f"Not deleted: {exc}. Remove it from those rules first."
        return _detail(db, principal, segment_id, status=409, error=message)
    return Redirect(f"/segments?{_query(deleted=name)}", status_code=303)


@post("/segments/{segment_id:int}/refresh", guards=GUARD, sync_to_thread=True)
def refresh_segment(db: Db, segment_id: FromPath[int]) -> Redirect:
    store.get_segment(db, segment_id)
    _refresh(db, segment_id)
    return Redirect(f"/segments/{segment_id}?refreshed=1", status_code=303)


@post("/segments/{segment_id:int}/members/add", guards=GUARD, sync_to_thread=True)
def add_member(
    request: Request[Any, Any, Any],
    db: Db,
    principal: Me,
    segment_id: FromPath[int],
    data: FormData,
) -> Template | Redirect:
    email = data.get("email", "").strip()
    if not email:
        return _detail(db, principal, segment_id, status=422, error="Enter an e-mail address.")
    result = _static_change(
        db, principal, segment_id, lambda: lists.import_csv(db, segment_id, email)
    )
    if isinstance(result, Template):
        return result
    if result.added:
        notice = f"Added {email}."
    elif result.already_members:
        notice = f"{email} is already on this list."
    elif result.invalid:
        return _detail(
            db, principal, segment_id, status=422, error=f"{email}: not an e-mail address."
        )
    else:
        return _detail(
            db, principal, segment_id, status=422, error=f"No contact has the address {email}."
        )
    return _back(request, segment_id, notice=notice)


@post(
    "/segments/{segment_id:int}/members/{contact_id:int}/remove",
    guards=GUARD,
    sync_to_thread=True,
)
def remove_member(
    request: Request[Any, Any, Any],
    db: Db,
    principal: Me,
    segment_id: FromPath[int],
    contact_id: FromPath[int],
) -> Template | Redirect:
    try:
        change = lists.remove_members(db, segment_id, [contact_id])
    except Conflict as exc:
        db.rollback()
        return _detail(db, principal, segment_id, status=409, error=str(exc))
    hand_over(db, change.event_ids)
    return _back(request, segment_id, notice="Removed from the list.")


@post(
    "/segments/{segment_id:int}/import",
    guards=GUARD,
    sync_to_thread=True,
    request_max_body_size=MAX_UPLOAD_BYTES,
)
def import_members(
    request: Request[Any, Any, Any],
    db: Db,
    principal: Me,
    segment_id: FromPath[int],
    data: MultipartForm,
) -> Template | Redirect:
    upload = data.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _detail(db, principal, segment_id, status=422, error="Choose a CSV file.")
    try:
        text = upload.file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return _detail(db, principal, segment_id, status=422, error="The file is not UTF-8 text.")
    result = _static_change(
        db, principal, segment_id, lambda: lists.import_csv(db, segment_id, text)
    )
    if isinstance(result, Template):
        return result
    return _back(request, segment_id, report=_import_report(result))


@post("/segments/preview", guards=GUARD, sync_to_thread=True, status_code=200)
def preview(db: Db, body: RawBody) -> dict[str, Any]:
    """The builder's live count and sample (the API's preview, for a signed-in session)."""
    result = store.preview(db, decode_json(body))
    return {
        "count": result.count,
        "sample": [
            {
                "id": c.id,
                "name": c.full_name or c.email,
                "email": c.email,
                "title": c.title,
                "company": c.company.name if c.company else None,
            }
            for c in result.contacts
        ],
    }


def _static_change(
    db: Db, principal: Principal, segment_id: int, action: Any
) -> CsvImport | Template:
    try:
        result: CsvImport = action()
    except (Conflict, InvalidInput) as exc:
        db.rollback()
        message = (
            "; ".join(p.describe() for p in exc.problems)
            if isinstance(exc, InvalidInput)
            else str(exc)
        )
        return _detail(db, principal, segment_id, status=422, error=message)
    hand_over(db, result.event_ids)
    return result


def _back(request: Request[Any, Any, Any], segment_id: int, **said: Any) -> Redirect:
    """To the segment's page, which shows `said` (a notice, an import report) once."""
    flash.put(request, FLASH, said)
    return Redirect(f"/segments/{segment_id}", status_code=303)


def _import_report(result: CsvImport) -> dict[str, Any]:
    """The import's counts and its first refused lines: small enough for the session."""
    return {
        "added": len(result.added),
        "already_members": result.already_members,
        "unknown_count": len(result.unknown),
        "invalid_count": len(result.invalid),
        "unknown": result.unknown[:REPORT_LINES],
        "invalid": result.invalid[:REPORT_LINES],
    }


def _refresh(db: Db, segment_id: int) -> None:
    """Bring the members up to date; their enter/exit events reach the workers on commit."""
    hand_over(db, membership.refresh_segment(db, segment_id).event_ids)


def _query(**values: str) -> str:
    return urlencode(values)


handlers = [
    segment_list,
    new_segment,
    create_segment,
    preview,
    segment_page,
    export_members,
    edit_segment_form,
    edit_segment,
    duplicate_segment,
    delete_segment,
    refresh_segment,
    add_member,
    remove_member,
    import_members,
]
