"""Broadcast pages: the list with live progress, the form (create and edit, with the
test phase), a broadcast's page with its progress and the cancel button.

Words come from `broadcast_words` in the browser's language (English or Russian).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar_htmx import ClientRedirect

from campaigns.broadcasts import store
from campaigns.broadcasts.definition import SmallTest
from campaigns.broadcasts.progress import progress, progress_many
from campaigns.email.store import list_templates
from nurture.errors import Conflict, InvalidInput
from nurture.models import Broadcast, BroadcastStatus, EmailTemplate, Segment, utcnow
from nurture.web.auth import Principal, ui_roles
from nurture.web.broadcast_reading import list_size, page
from nurture.web.ui import broadcast_forms as forms
from nurture.web.ui.broadcast_words import CATALOGUE
from nurture.web.ui.language import ui_language, words
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import MARKETING, fragment
from nurture.web.ui.render import page as full_page
from segments import store as segment_store

GUARD = [ui_roles(*MARKETING)]
LIST_PAGE = 50
# Statuses whose numbers still move: their pages poll the progress fragment.
MOVING = (
    BroadcastStatus.SCHEDULED.value,
    BroadcastStatus.SENDING.value,
    BroadcastStatus.TESTING.value,
)
EDITABLE = (BroadcastStatus.DRAFT.value, BroadcastStatus.SCHEDULED.value)
ENDED = (BroadcastStatus.SENT.value, BroadcastStatus.CANCELLED.value)
AnyRequest = Request[Any, Any, Any]


def _words(request: AnyRequest) -> Mapping[str, str]:
    return words(CATALOGUE, ui_language(request))


def _rows(db: Db, broadcasts: list[Broadcast]) -> list[dict[str, Any]]:
    counts = progress_many(db, [b.id for b in broadcasts])
    segments = {s.id: s.name for s in segment_store.list_segments(db)}
    return [
        {
            "b": b,
            "progress": counts[b.id],
            "segment": segments.get(b.segment_id) if b.segment_id else None,
            "list_size": list_size(b),
        }
        for b in broadcasts
    ]


@get("/broadcasts", guards=GUARD, sync_to_thread=True)
def broadcast_list(
    db: Db, principal: Me, request: AnyRequest, cursor: FromQuery[str | None] = None
) -> Template:
    found = page(db, cursor=cursor, limit=LIST_PAGE)
    return full_page(
        "broadcasts/list.html",
        principal,
        "broadcasts",
        t=_words(request),
        rows=_rows(db, found.items),
        moving=any(b.status in MOVING for b in found.items),
        cursor=cursor,
        next_cursor=found.next_cursor,
    )


@get("/broadcasts/rows", guards=GUARD, sync_to_thread=True)
def broadcast_rows(db: Db, request: AnyRequest, cursor: FromQuery[str | None] = None) -> Template:
    """The list's table body with fresh progress (htmx polls it while anything moves)."""
    found = page(db, cursor=cursor, limit=LIST_PAGE)
    return fragment(
        "broadcasts/_rows.html",
        t=_words(request),
        rows=_rows(db, found.items),
        moving=any(b.status in MOVING for b in found.items),
        cursor=cursor,
    )


def _form_page(
    db: Db,
    principal: Principal,
    request: AnyRequest,
    form: forms.BroadcastForm,
    *,
    broadcast_id: int | None,
    status: int = 200,
) -> Template:
    return full_page(
        "broadcasts/form.html",
        principal,
        "broadcasts",
        status_code=status,
        t=_words(request),
        form=form,
        broadcast_id=broadcast_id,
        templates=list_templates(db),
        segments=segment_store.list_segments(db),
        variant_keys=forms.VARIANT_KEYS,
    )


@get("/broadcasts/new", guards=GUARD, sync_to_thread=True)
def new_broadcast(db: Db, principal: Me, request: AnyRequest) -> Template:
    return _form_page(db, principal, request, forms.BroadcastForm(), broadcast_id=None)


def _save(
    db: Db,
    principal: Principal,
    request: AnyRequest,
    data: dict[str, str],
    *,
    broadcast_id: int | None,
) -> Template | Redirect:
    """Create or rewrite, then schedule when asked; the form again with every problem."""
    form, definition, problems = forms.posted(db, data)
    small: str | None = None
    if definition is not None:
        now = utcnow()
        try:
            if broadcast_id is None:
                saved = store.create_broadcast(db, definition, actor=principal.actor, now=now)
            else:
                saved = store.update_broadcast(
                    db, broadcast_id, definition, actor=principal.actor, now=now
                )
            if data.get("action") == "schedule" and saved.status == BroadcastStatus.DRAFT.value:
                store.schedule_broadcast(db, saved.id, actor=principal.actor, now=now)
            note = "scheduled" if saved.status == BroadcastStatus.SCHEDULED.value else "saved"
            return Redirect(f"/broadcasts/{saved.id}?{note}=1", status_code=303)
        except SmallTest as exc:
            # Said once, in the page's words, above the box that overrides it.
            problems = []
            small = _small_test(_words(request), exc)
        except InvalidInput as exc:
            problems = exc.problems
    db.rollback()
    shown = forms.with_problems(form, problems, small_test=small)
    return _form_page(db, principal, request, shown, broadcast_id=broadcast_id, status=422)


def _small_test(t: Mapping[str, str], warning: SmallTest) -> str:
    text = t["small_test"].format(have=warning.per_variant, planned=warning.planned)
    if warning.needed_percent is None:
        return f"{text} {t['small_test_none']}"
    return f"{text} {t['small_test_percent'].format(percent=warning.needed_percent)}"


@post("/broadcasts/new", guards=GUARD, sync_to_thread=True)
def create_broadcast(
    db: Db, principal: Me, request: AnyRequest, data: FormData
) -> Template | Redirect:
    return _save(db, principal, request, data, broadcast_id=None)


@get("/broadcasts/{broadcast_id:int}/edit", guards=GUARD, sync_to_thread=True)
def edit_broadcast_form(
    db: Db, principal: Me, request: AnyRequest, broadcast_id: FromPath[int]
) -> Template | Redirect:
    broadcast = store.get_broadcast(db, broadcast_id)
    if broadcast.status not in EDITABLE:
        return Redirect(f"/broadcasts/{broadcast_id}", status_code=303)
    form = forms.form_of(
        db,
        broadcast,
        store.experiment_of(db, broadcast_id),
        store.variants_of(db, broadcast_id),
    )
    return _form_page(db, principal, request, form, broadcast_id=broadcast_id)


@post("/broadcasts/{broadcast_id:int}/edit", guards=GUARD, sync_to_thread=True)
def edit_broadcast(
    db: Db, principal: Me, request: AnyRequest, broadcast_id: FromPath[int], data: FormData
) -> Template | Redirect:
    store.get_broadcast(db, broadcast_id)
    return _save(db, principal, request, data, broadcast_id=broadcast_id)


def _detail(
    db: Db,
    principal: Principal,
    request: AnyRequest,
    broadcast_id: int,
    *,
    status: int = 200,
    error: str | None = None,
    note: str | None = None,
) -> Template:
    broadcast = store.get_broadcast(db, broadcast_id)
    return full_page(
        "broadcasts/detail.html",
        principal,
        "broadcasts",
        status_code=status,
        t=_words(request),
        b=broadcast,
        progress=progress(db, broadcast_id),
        experiment=store.experiment_of(db, broadcast_id),
        variants=store.variants_of(db, broadcast_id),
        mail_template=db.get(EmailTemplate, broadcast.template_id)
        if broadcast.template_id
        else None,
        segment=db.get(Segment, broadcast.segment_id or 0),
        list_size=list_size(broadcast),
        moving=broadcast.status in MOVING,
        editable=broadcast.status in EDITABLE,
        ended=broadcast.status in ENDED,
        error=error,
        note=note,
    )


@get("/broadcasts/{broadcast_id:int}", guards=GUARD, sync_to_thread=True)
def broadcast_page(
    db: Db,
    principal: Me,
    request: AnyRequest,
    broadcast_id: FromPath[int],
    saved: FromQuery[bool] = False,
    scheduled: FromQuery[bool] = False,
    cancelled: FromQuery[bool] = False,
) -> Template:
    note = (
        "scheduled_note"
        if scheduled
        else "cancelled_note"
        if cancelled
        else "saved"
        if saved
        else None
    )
    return _detail(db, principal, request, broadcast_id, note=note)


@get("/broadcasts/{broadcast_id:int}/progress", guards=GUARD, sync_to_thread=True)
def broadcast_progress(
    db: Db,
    request: AnyRequest,
    broadcast_id: FromPath[int],
    shown: FromQuery[str] = "",
) -> Template | ClientRedirect:
    """The progress card while the broadcast moves (htmx polls it). When its status
    is no longer the one the page was drawn with, the whole page is drawn again: its
    heading and buttons (edit, schedule, cancel) depend on the status too."""
    broadcast = store.get_broadcast(db, broadcast_id)
    if shown and shown != broadcast.status:
        return ClientRedirect(f"/broadcasts/{broadcast_id}")
    return fragment(
        "broadcasts/_progress.html",
        t=_words(request),
        b=broadcast,
        progress=progress(db, broadcast_id),
        experiment=store.experiment_of(db, broadcast_id),
        moving=broadcast.status in MOVING,
    )


@post("/broadcasts/{broadcast_id:int}/schedule", guards=GUARD, sync_to_thread=True)
def schedule_broadcast(
    db: Db, principal: Me, request: AnyRequest, broadcast_id: FromPath[int]
) -> Template | Redirect:
    try:
        store.schedule_broadcast(db, broadcast_id, actor=principal.actor, now=utcnow())
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        status = 409 if isinstance(exc, Conflict) else 422
        return _detail(db, principal, request, broadcast_id, status=status, error=str(exc))
    return Redirect(f"/broadcasts/{broadcast_id}?scheduled=1", status_code=303)


@post("/broadcasts/{broadcast_id:int}/cancel", guards=GUARD, sync_to_thread=True)
def cancel_broadcast(
    db: Db, principal: Me, request: AnyRequest, broadcast_id: FromPath[int]
) -> Template | Redirect:
    try:
        store.cancel_broadcast(db, broadcast_id, actor=principal.actor, now=utcnow())
    except Conflict as exc:
        db.rollback()
        return _detail(db, principal, request, broadcast_id, status=409, error=str(exc))
    return Redirect(f"/broadcasts/{broadcast_id}?cancelled=1", status_code=303)


handlers = [
    broadcast_list,
    broadcast_rows,
    new_broadcast,
    create_broadcast,
    edit_broadcast_form,
    edit_broadcast,
    broadcast_page,
    broadcast_progress,
    schedule_broadcast,
    cancel_broadcast,
]
